#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_jwt_keypair
short_description: Keep a private key and a self-signed certificate for the OAuth JWT bearer flow
version_added: 0.1.0
description:
  - Makes sure an RSA private key and a self-signed X.509 certificate for it exist on the
    controller, for an integration that logs in with the OAuth JWT bearer flow. The certificate
    goes into the External Client App (or connected app) in Salesforce; the private key stays
    with whoever logs in, and nowhere else.
  - Talks to no Salesforce org. Hosts are orgs that use the local connection, so it runs on the
    controller and writes the files there.
  - Creates the private key when O(private_key_path) does not exist. An existing key is never
    replaced, whatever it holds. A file that holds no readable private key, or an encrypted one,
    fails naming the path, and nothing is written.
  - Writes the certificate when it is missing, when it does not belong to the private key, when its
    common name differs from O(common_name), or when it expires within O(renew_before_days) days.
    A renewed certificate keeps the same private key, so the new certificate must reach Salesforce
    before the old one expires. Otherwise nothing is written.
  - Every option and path is checked before anything is written; a bad value fails with one message
    naming the option and the value.
  - The private key never appears in the result, the diff or any message.
attributes:
  check_mode:
    description: Reads the files and reports what would change; writes nothing and generates no key.
    support: full
  diff_mode:
    description:
      - Shows the certificate's public facts before and after (common name, expiry, SHA-256
        fingerprint) and whether the private key exists and its file mode. Never any key material.
    support: full
options:
  private_key_path:
    description:
      - Path of the PEM private key file on the controller.
      - Created with mode C(0600) when it does not exist, as a new unencrypted RSA key of
        O(key_size) bits (PKCS#8). Missing directories are created with mode C(0700).
      - An existing key is kept as it is, never overwritten. It must be an unencrypted PEM RSA
        private key (the JWT bearer flow signs with RS256). When its mode gives access to the group
        or to others (for example C(0644)), those permissions are removed (C(0644) becomes C(0600)),
        which counts as a change and gives a warning.
      - A relative path is relative to the directory C(ansible-playbook) runs in; give an absolute
        path.
    type: path
    required: true
  certificate_path:
    description:
      - Path of the PEM certificate file on the controller, written with mode C(0644).
      - Defaults to O(private_key_path) with its extension replaced by C(.crt) (C(marketo.key)
        gives C(marketo.crt)), or with C(.crt) appended when it has none.
      - Must differ from O(private_key_path).
    type: path
  common_name:
    description:
      - The common name (CN) of the certificate's subject and issuer, 1 to 64 characters.
      - Defaults to the file name of O(private_key_path) without its extension (C(marketo) for
        C(/etc/integrations/marketo.key)).
      - A certificate with another common name is replaced.
    type: str
  valid_days:
    description:
      - Days a new certificate is valid, from V(1) to V(3650).
      - Applies when a certificate is written; changing it does not renew a certificate by itself.
    type: int
    default: 730
  renew_before_days:
    description:
      - A certificate that expires within this many days is renewed (with the same private key).
      - From V(0) (renew only once expired) to one day less than O(valid_days), so that a new
        certificate is not renewed again at once.
    type: int
    default: 30
  key_size:
    description:
      - Bits of a new RSA private key.
      - Applies only when the key is created; an existing key of another size is kept, with a warning.
    type: int
    choices: [2048, 3072, 4096]
    default: 2048
notes:
  - Keep the private key only where the integration runs, and on the controller as long as the
    rollout uses it to prove that the login works. Store it in a secrets manager or Ansible Vault
    rather than copying it around, and never commit it.
  - Rotate before the certificate expires rather than counting on an expired certificate still being
    accepted. Run this module regularly, for example in the rollout, and give the renewed
    RV(certificate) to the External Client App each time it changes. To rotate the key as well, move
    the old key file away and run the module again; then the new key and certificate must be
    deployed together.
  - Several hosts (orgs) may share one key file. When their tasks create it at the same moment, the
    first key written is kept and the others adopt it (a key is never overwritten).
  - The certificate is self-signed with SHA-256, its serial number is random, and it is valid from
    five minutes before it was made (to allow for clocks that are slightly behind).
  - Directories the module creates get mode C(0700), including one that only holds the certificate.
  - Needs the Python library C(cryptography) on the controller.
requirements:
  - cryptography >= 41
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_session
  - name: OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration (Salesforce Help)
    description: How Salesforce checks the signed JWT against the certificate of the app.
    link: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5
"""

EXAMPLES = r"""
# Hosts are Salesforce orgs with connection: local, so the files are written on the controller.
- name: Make sure the Marketo integration has a key and a certificate (one for all orgs)
  sfops.integration.sf_jwt_keypair:
    private_key_path: /etc/sfops/keys/marketo.key     # certificate: /etc/sfops/keys/marketo.crt
    common_name: marketo-integration
  register: marketo_jwt

- name: Show the certificate to put into the External Client App
  ansible.builtin.debug:
    msg: |
      SHA-256 fingerprint {{ marketo_jwt.fingerprint_sha256 }}, expires {{ marketo_jwt.not_after }}
      {{ marketo_jwt.certificate }}

- name: Log in with the key to prove the JWT bearer flow works
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
    client_id: "{{ marketo_client_id }}"
    username: "{{ marketo_username }}"
    private_key_file: "{{ marketo_jwt.private_key_path }}"
  register: marketo_session
  when: not ansible_check_mode    # in check mode a new key is not written yet

- name: A 4096-bit key valid for one year, renewed 60 days before it expires
  sfops.integration.sf_jwt_keypair:
    private_key_path: "{{ playbook_dir }}/keys/{{ inventory_hostname }}/accounting.pem"
    certificate_path: "{{ playbook_dir }}/certs/{{ inventory_hostname }}/accounting.crt"
    key_size: 4096
    valid_days: 365
    renew_before_days: 60
"""

RETURN = r"""
private_key_path:
  description: Absolute path of the private key file. The key itself is never returned.
  returned: success
  type: str
  sample: /etc/sfops/keys/marketo.key
certificate_path:
  description: Absolute path of the certificate file.
  returned: success
  type: str
  sample: /etc/sfops/keys/marketo.crt
certificate:
  description:
    - The certificate as PEM text, to upload to the External Client App. It holds no secret.
    - V(null) in check mode when the certificate would be written.
  returned: success
  type: str
  sample: |
    -----BEGIN CERTIFICATE-----
    MIIC3jCCAcagAwIBAgIUQ2...
    -----END CERTIFICATE-----
fingerprint_sha256:
  description:
    - SHA-256 fingerprint of the certificate, upper-case hex bytes separated by colons (as
      C(openssl x509 -fingerprint -sha256) shows it).
    - V(null) in check mode when the certificate would be written.
  returned: success
  type: str
  sample: "3F:0A:9C:...:7B"
not_after:
  description:
    - When the certificate expires, ISO 8601 in UTC.
    - In check mode, when a certificate would be written, when the new one would expire.
  returned: success
  type: str
  sample: "2027-06-30T08:15:00Z"
reasons:
  description: Why the certificate is (or in check mode would be) written; empty when it is kept.
  returned: success
  type: list
  elements: str
  sample: ["certificate expires on 2026-07-10T08:15:00Z, within renew_before_days (30)"]
diff:
  description: The public facts before and after the run (see the diff_mode attribute), also without C(--diff).
  returned: success
  type: dict
  sample:
    before: {private_key: absent}
    after: {common_name: marketo, not_after: "2027-06-30T08:15:00Z", fingerprint_sha256: "3F:0A:...",
            private_key: present, private_key_mode: "0600"}
api_requests:
  description: HTTP requests sent to Salesforce; always V(0), the module talks to no org.
  returned: always
  type: int
  sample: 0
change:
  description: The change record of the run, as every module of the collection returns it.
  returned: success
  type: dict
  contains:
    kind:
      description: Always V(jwt_certificate).
      type: str
      sample: jwt_certificate
    name:
      description: The certificate path.
      type: str
      sample: /etc/sfops/keys/marketo.crt
    action:
      description:
        - V(create) when the certificate did not exist, V(update) when it is renewed or replaced, or only
          the private key's mode is fixed, V(none) when nothing changes.
      type: str
      sample: update
    details:
      description: "Readable lines of what changed, such as C(not_after: 2026-07-10T08:15:00Z -> 2028-06-09T08:15:00Z)."
      type: list
      elements: str
    added:
      description: How many list items were added (always V(0) here).
      type: int
    removed:
      description: How many list items were removed (always V(0) here).
      type: int
    attributes:
      description: The same changes, structured (C(path), C(added), C(removed), C(before), C(after)).
      type: list
      elements: dict
"""

import datetime
import errno
import os
import stat
import tempfile
import traceback

from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError, LocalFileError, MissingLibraryError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

KIND = "jwt_certificate"
KEY_MODE = 0o600
CERTIFICATE_MODE = 0o644
DIRECTORY_MODE = 0o700
KEY_SIZES = (2048, 3072, 4096)
VALID_DAYS_RANGE = (1, 3650)
COMMON_NAME_MAX = 64  # ub-common-name (RFC 5280)
BACKDATE = datetime.timedelta(minutes=5)
PUBLIC_EXPONENT = 65537
# A planned certificate's fingerprint is only known once it is made (check mode).
NEW_FINGERPRINT = "(new)"

ARGUMENT_SPEC = dict(
    private_key_path=dict(type="path", required=True, no_log=False),
    certificate_path=dict(type="path"),
    common_name=dict(type="str"),
    valid_days=dict(type="int", default=730),
    renew_before_days=dict(type="int", default=30),
    key_size=dict(type="int", default=2048, choices=list(KEY_SIZES), no_log=False),
)


# ---- options ---------------------------------------------------------------------------------------

def default_certificate_path(key_path):
    """The key path with its extension replaced by .crt, or .crt appended."""
    root, extension = os.path.splitext(key_path)
    return (root if extension else key_path) + ".crt"


def default_common_name(key_path):
    """The key file's name without its extension."""
    return os.path.splitext(os.path.basename(key_path))[0]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def _path_errors(option, given, path):
    """Problems of a file path that can be seen without writing: a directory, a broken link, a file as parent."""
    if given.endswith(os.sep) or os.path.isdir(path):
        return ["%s %s is a directory; give the path of the file" % (option, given if given.endswith(os.sep) else path)]
    if os.path.lexists(path) and not os.path.exists(path):
        return ["%s %s is a broken symbolic link" % (option, path)]
    if os.path.exists(path) and not os.path.isfile(path):
        return ["%s %s is not a regular file" % (option, path)]
    parent = os.path.dirname(path)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent) if os.path.dirname(parent) != parent else ""
    if parent and not os.path.isdir(parent):
        return ["%s %s: %s is not a directory" % (option, path, parent)]
    return []


def settings(params):
    """(the options with their defaults resolved, [error messages]); nothing has been read or written."""
    key_path = os.path.abspath(params["private_key_path"])
    certificate_path = os.path.abspath(params["certificate_path"] or default_certificate_path(key_path))
    given_name = params["common_name"]
    common_name = default_common_name(key_path) if given_name is None else given_name
    result = dict(private_key_path=key_path, certificate_path=certificate_path, common_name=common_name,
                  valid_days=params["valid_days"], renew_before_days=params["renew_before_days"],
                  key_size=params["key_size"])
    errors = []
    low, high = VALID_DAYS_RANGE
    valid_days, renew_before_days = result["valid_days"], result["renew_before_days"]
    if not low <= valid_days <= high:
        errors.append("valid_days must be between %d and %d; got %d" % (low, high, valid_days))
        if renew_before_days < 0:
            errors.append("renew_before_days must be 0 or more; got %d" % renew_before_days)
    elif not 0 <= renew_before_days < valid_days:
        errors.append("renew_before_days must be between 0 and %d (one day less than valid_days %d, or a new "
                      "certificate would be renewed at once); got %d" % (valid_days - 1, valid_days, renew_before_days))
    if not 1 <= len(common_name) <= COMMON_NAME_MAX:
        source = "" if given_name is not None else " (the name of private_key_path %s; set common_name)" % key_path
        errors.append("common_name must have 1 to %d characters; got %r%s" % (COMMON_NAME_MAX, common_name, source))
    if os.path.realpath(key_path) == os.path.realpath(certificate_path):
        errors.append("certificate_path must differ from private_key_path; both are %s" % key_path)
    else:
        errors += _path_errors("private_key_path", params["private_key_path"], key_path)
        errors += _path_errors("certificate_path", params["certificate_path"] or certificate_path, certificate_path)
    return result, errors


# ---- reading -------------------------------------------------------------------------------------------

def _read(option, path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise InputError("Cannot read %s %s: %s" % (option, path, exc.strerror or exc))


def load_private_key(data, path):
    """The private key in ``data`` (PEM, unencrypted, RSA); InputError naming ``path`` otherwise."""
    kept = "; it is left as it is and nothing was written"
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError("private_key_path %s holds an encrypted private key; keys with a passphrase are not "
                         "supported%s" % (path, kept))
    except (ValueError, UnsupportedAlgorithm):
        raise InputError("private_key_path %s holds no readable PEM private key%s" % (path, kept))
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = type(key).__name__.lstrip("_").replace("PrivateKey", "") or "non-RSA"
        raise InputError("private_key_path %s holds a %s private key, but the JWT bearer flow signs with RS256 "
                         "and needs an RSA key%s" % (path, kind, kept))
    return key


def load_certificate(data, path):
    """The certificate in ``data`` (PEM); InputError naming ``path`` otherwise."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise InputError("certificate_path %s holds no PEM certificate; it is left as it is and nothing was "
                         "written. Move it away to get a new certificate" % path)


def read_state(config):
    """{key, key_mode, certificate}: what exists now (None where nothing does)."""
    key_path, certificate_path = config["private_key_path"], config["certificate_path"]
    state = dict(key=None, key_mode=None, certificate=None)
    if os.path.exists(key_path):
        state["key"] = load_private_key(_read("private_key_path", key_path), key_path)
        state["key_mode"] = stat.S_IMODE(os.stat(key_path).st_mode)
    if os.path.exists(certificate_path):
        state["certificate"] = load_certificate(_read("certificate_path", certificate_path), certificate_path)
    return state


# ---- certificate facts and the plan --------------------------------------------------------------------

def not_after(certificate):
    """The certificate's expiry as an aware UTC datetime (any cryptography version)."""
    value = getattr(certificate, "not_valid_after_utc", None)
    if value is None:
        value = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def common_name_of(certificate):
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else None


def fingerprint(certificate):
    return ":".join("%02X" % byte for byte in bytearray(certificate.fingerprint(hashes.SHA256())))


def public_key_bytes(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def renewal_reasons(certificate, key, common_name, renew_before_days, now):
    """Why the certificate must be (re)written, [] when it can stay; ``key`` None: a new key is made."""
    if certificate is None:
        return ["certificate does not exist"]
    reasons = []
    if key is None:
        reasons.append("private key does not exist and will be created: the certificate belongs to another key")
    elif public_key_bytes(certificate.public_key()) != public_key_bytes(key.public_key()):
        reasons.append("certificate belongs to another private key")
    current_name = common_name_of(certificate)
    if current_name != common_name:
        reasons.append("certificate common name %r differs from common_name %r" % (current_name, common_name))
    expiry = not_after(certificate)
    if expiry <= now:
        reasons.append("certificate expired on %s" % iso(expiry))
    elif expiry <= now + datetime.timedelta(days=renew_before_days):
        reasons.append("certificate expires on %s, within renew_before_days (%d)" % (iso(expiry), renew_before_days))
    return reasons


def tightened_mode(mode):
    """The key file's mode without group, other and execute bits; None when it has none of them."""
    if mode is None or not mode & ~KEY_MODE & 0o7777:
        return None
    return mode & KEY_MODE


def plan(config, state, now):
    """What the run does: {create_key, key_mode, reasons, action}."""
    reasons = renewal_reasons(state["certificate"], state["key"], config["common_name"],
                              config["renew_before_days"], now)
    key_mode = tightened_mode(state["key_mode"])
    if state["certificate"] is None:
        action = CREATE
    else:
        action = UPDATE if reasons or key_mode is not None else NO_CHANGE
    return dict(create_key=state["key"] is None, key_mode=key_mode, reasons=reasons, action=action)


def certificate_view(certificate):
    if certificate is None:
        return {}
    return dict(common_name=common_name_of(certificate), not_after=iso(not_after(certificate)),
                fingerprint_sha256=fingerprint(certificate))


def key_view(exists, mode):
    view = dict(private_key="present" if exists else "absent")
    if exists:
        view["private_key_mode"] = "%04o" % mode
    return view


# ---- writing -------------------------------------------------------------------------------------------

def build_certificate(key, common_name, valid_days, now):
    """A self-signed certificate of ``key``: SHA-256, CN as subject and issuer, random serial."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def private_key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def missing_directories(path):
    """The directories above ``path`` that do not exist yet, outermost first."""
    missing = []
    parent = os.path.dirname(path)
    while parent and not os.path.exists(parent):
        missing.insert(0, parent)
        if os.path.dirname(parent) == parent:
            break
        parent = os.path.dirname(parent)
    return missing


def writable_error(option, path):
    """The message when the file cannot be written for lack of permissions on its directory, else None."""
    parent = os.path.dirname(path)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if parent and not os.access(parent, os.W_OK | os.X_OK):
        return "%s %s: directory %s is not writable" % (option, path, parent)
    return None


def make_directories(path):
    for directory in missing_directories(path):
        try:
            os.mkdir(directory, DIRECTORY_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        else:
            os.chmod(directory, DIRECTORY_MODE)  # whatever the umask


class FileAppeared(Exception):
    """Another writer (the same task of another org) created the file first; it is kept."""


def write_atomic(path, data, mode, overwrite):
    """Write ``data`` to a 0600 temporary file next to ``path``, set ``mode``, then move it into place.

    Without ``overwrite`` the move fails when ``path`` appeared in the meantime (hard link, then
    unlink), so an existing file is never replaced.
    """
    make_directories(path)
    directory, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=directory)  # mode 0600
    try:
        try:
            os.write(handle, data)
            os.fchmod(handle, mode)
            os.fsync(handle)
        finally:
            os.close(handle)
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except OSError as exc:
                if exc.errno == errno.EEXIST or os.path.lexists(path):
                    raise FileAppeared(path)
                os.rename(temporary, path)  # a file system without hard links
            else:
                os.unlink(temporary)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def apply(config, state, steps, now):
    """Carry out the plan; returns the certificate in place afterwards."""
    key = state["key"]
    if steps["create_key"]:
        key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=config["key_size"])
        write_atomic(config["private_key_path"], private_key_pem(key), KEY_MODE, overwrite=False)
    elif steps["key_mode"] is not None:
        os.chmod(config["private_key_path"], steps["key_mode"])
    certificate = state["certificate"]
    if steps["reasons"]:
        certificate = build_certificate(key, config["common_name"], config["valid_days"], now)
        write_atomic(config["certificate_path"], certificate_pem(certificate).encode("ascii"),
                     CERTIFICATE_MODE, overwrite=True)
    return certificate


# ---- the module ----------------------------------------------------------------------------------------

def warnings(config, state, steps, check_mode):
    messages = []
    key_path = config["private_key_path"]
    if steps["key_mode"] is not None:
        fix = "%s %04o" % ("it would be set to" if check_mode else "it was set to", steps["key_mode"])
        if state["key_mode"] & 0o077:
            messages.append("private_key_path %s had mode %04o, which lets other users read or change it; %s. "
                            "If it may have been copied, rotate the key" % (key_path, state["key_mode"], fix))
        else:
            messages.append("private_key_path %s had mode %04o, looser than %04o; %s"
                            % (key_path, state["key_mode"], KEY_MODE, fix))
    key = state["key"]
    if key is not None and key.key_size != config["key_size"]:
        messages.append("private_key_path %s holds a %d-bit key; key_size %d applies only to a new key, and the "
                        "existing key is kept" % (key_path, key.key_size, config["key_size"]))
    return messages


def preflight(config, steps):
    """Permission problems of the planned writes, found before anything is written."""
    errors = []
    if steps["create_key"]:
        errors.append(writable_error("private_key_path", config["private_key_path"]))
    elif steps["key_mode"] is not None and os.geteuid() not in (0, os.stat(config["private_key_path"]).st_uid):
        errors.append("private_key_path %s: its mode cannot be changed by this user (not the owner)"
                      % config["private_key_path"])
    if steps["reasons"]:
        errors.append(writable_error("certificate_path", config["certificate_path"]))
    return [error for error in errors if error]


def run(module, now=None):
    """The result of one run (module.finish); InputError for a refusal, LocalFileError when a write fails."""
    if not HAS_CRYPTOGRAPHY:
        raise MissingLibraryError("cryptography", CRYPTOGRAPHY_IMPORT_ERROR)
    now = now or utc_now()
    config, problems = settings(module.params)
    module.refuse(problems)
    state = read_state(config)
    steps = plan(config, state, now)
    module.refuse(preflight(config, steps))
    for message in warnings(config, state, steps, module.check_mode):
        module.warn(message)

    before = dict(certificate_view(state["certificate"]), **key_view(state["key"] is not None, state["key_mode"]))
    final_mode = steps["key_mode"] if steps["key_mode"] is not None else (
        state["key_mode"] if state["key"] is not None else KEY_MODE)
    if module.check_mode:
        certificate = None if steps["reasons"] else state["certificate"]
        if certificate is None:
            planned = dict(common_name=config["common_name"], fingerprint_sha256=NEW_FINGERPRINT,
                           not_after=iso(now + datetime.timedelta(days=config["valid_days"])))
        else:
            planned = certificate_view(certificate)
    else:
        certificate = write(config, state, steps, now)
        planned = certificate_view(certificate)
    after = dict(planned, **key_view(True, final_mode))

    return module.finish(
        change_record(KIND, config["certificate_path"], steps["action"], before, after), before, after,
        private_key_path=config["private_key_path"],
        certificate_path=config["certificate_path"],
        certificate=certificate_pem(certificate) if certificate is not None else None,
        fingerprint_sha256=fingerprint(certificate) if certificate is not None else None,
        not_after=planned["not_after"],
        reasons=steps["reasons"],
    )


def write(config, state, steps, now):
    """apply() the plan; the certificate in place afterwards. A failed write is named, never a traceback."""
    try:
        try:
            return apply(config, state, steps, now)
        except FileAppeared:
            # Another org's run of this task made the key a moment earlier: adopt it, as a run that
            # came second would have. Only the certificate may still need writing.
            state = read_state(config)
            return apply(config, state, dict(plan(config, state, now), action=steps["action"]), now)
    except (IOError, OSError) as error:
        # A write failed after the checks (disk full, a file system that refuses): name the file.
        raise LocalFileError("Writing the key pair failed: %s%s" % (
            error.strerror or error, " (%s)" % error.filename if getattr(error, "filename", None) else ""))


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, connection=False).run(run)


if __name__ == "__main__":
    main()
