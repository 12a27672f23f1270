"""sf_jwt_keypair: options, reading keys and certificates, the renewal plan (fake clock) and the files it writes."""
from __future__ import annotations

import datetime
import json
import os
import stat

import jwt
import pytest
from ansible_core_compat import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from module_double import salesforce_module

from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.modules import sf_jwt_keypair as kp

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(private_key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def key_body_lines(data):
    """Full base64 lines of a PEM private key, to look for in output."""
    return [line for line in data.decode().splitlines() if line and "-----" not in line][:-1]


def params(key_path, **given):
    values = dict(private_key_path=str(key_path), certificate_path=None, common_name=None, valid_days=730,
                  renew_before_days=30, key_size=2048)
    values.update(given)
    return values


def keypair_module(check_mode=False, **given):
    """The real SalesforceModule of sf_jwt_keypair (no org, no client) with the options ``given``."""
    return salesforce_module(kp.ARGUMENT_SPEC, None, check_mode, connection=False, **given)


def certificate(private_key, common_name="marketo", not_after=NOW + 700 * DAY):
    """A certificate made elsewhere (not by the module), valid until ``not_after``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - 30 * DAY).not_valid_after(not_after)
            .sign(private_key, hashes.SHA256()))


def write(path, data, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(str(path), mode)
    return path


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


# ---- options --------------------------------------------------------------------------------------

@pytest.mark.parametrize("key_path, certificate_path, common_name", [
    ("/keys/marketo.key", "/keys/marketo.crt", "marketo"),
    ("/keys/marketo.pem", "/keys/marketo.crt", "marketo"),
    ("/keys/marketo", "/keys/marketo.crt", "marketo"),
    ("/keys/acme.marketo.key", "/keys/acme.marketo.crt", "acme.marketo"),
    ("/keys/.hidden", "/keys/.hidden.crt", ".hidden"),
])
def test_defaults_come_from_the_key_path(key_path, certificate_path, common_name):
    assert kp.default_certificate_path(key_path) == certificate_path
    assert kp.default_common_name(key_path) == common_name


def test_settings_resolve_defaults(tmp_path):
    config, errors = kp.settings(params(tmp_path / "keys" / "marketo.key"))
    assert errors == []
    assert config["certificate_path"] == str(tmp_path / "keys" / "marketo.crt")
    assert config["common_name"] == "marketo"


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config, errors = kp.settings(params("keys/marketo.key", certificate_path="certs/marketo.crt"))
    assert errors == []
    assert config["private_key_path"] == str(tmp_path / "keys" / "marketo.key")
    assert config["certificate_path"] == str(tmp_path / "certs" / "marketo.crt")


@pytest.mark.parametrize("given, message", [
    (dict(valid_days=0), "valid_days must be between 1 and 3650; got 0"),
    (dict(valid_days=3651), "valid_days must be between 1 and 3650; got 3651"),
    (dict(renew_before_days=-1), "renew_before_days must be between 0 and 729 (one day less than valid_days 730, "
                                 "or a new certificate would be renewed at once); got -1"),
    (dict(valid_days=30, renew_before_days=30), "renew_before_days must be between 0 and 29 (one day less than "
                                                "valid_days 30, or a new certificate would be renewed at once); got 30"),
    (dict(common_name=""), "common_name must have 1 to 64 characters; got ''"),
    (dict(common_name="x" * 65), "common_name must have 1 to 64 characters; got '%s'" % ("x" * 65)),
])
def test_bad_values_are_named(tmp_path, given, message):
    _config, errors = kp.settings(params(tmp_path / "marketo.key", **given))
    assert errors == [message]


def test_every_bad_value_is_named_at_once(tmp_path):
    _config, errors = kp.settings(params(tmp_path / "marketo.key", valid_days=0, renew_before_days=-5,
                                         common_name=""))
    assert [e.split()[0] for e in errors] == ["valid_days", "renew_before_days", "common_name"]


def test_a_too_long_default_common_name_says_where_it_comes_from(tmp_path):
    key_path = tmp_path / ("k" * 70 + ".key")
    _config, errors = kp.settings(params(key_path))
    assert errors == ["common_name must have 1 to 64 characters; got '%s' (the name of private_key_path %s; "
                      "set common_name)" % ("k" * 70, key_path)]
    assert kp.settings(params(key_path, common_name="accounting"))[1] == []


def test_path_problems_are_named(tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    os.symlink(str(tmp_path / "nowhere"), str(tmp_path / "dangling.crt"))
    cases = [
        (params(tmp_path / "a-dir"), "private_key_path %s is a directory; give the path of the file" % (tmp_path / "a-dir")),
        (params(str(tmp_path / "new") + "/"), "private_key_path %s/ is a directory; give the path of the file"
         % (tmp_path / "new")),
        (params(tmp_path / "a-file" / "marketo.key", certificate_path=str(tmp_path / "marketo.crt")),
         "private_key_path %s: %s is not a directory" % (tmp_path / "a-file" / "marketo.key", tmp_path / "a-file")),
        (params(tmp_path / "k.key", certificate_path=str(tmp_path / "a-dir")),
         "certificate_path %s is a directory; give the path of the file" % (tmp_path / "a-dir")),
        (params(tmp_path / "k.key", certificate_path=str(tmp_path / "dangling.crt")),
         "certificate_path %s is a broken symbolic link" % (tmp_path / "dangling.crt")),
        (params(tmp_path / "k.crt"), "certificate_path must differ from private_key_path; both are %s"
         % (tmp_path / "k.crt")),
        (params(tmp_path / "k.key", certificate_path=str(tmp_path / "k.key")),
         "certificate_path must differ from private_key_path; both are %s" % (tmp_path / "k.key")),
    ]
    for given, message in cases:
        assert kp.settings(given)[1] == [message]


# ---- reading -----------------------------------------------------------------------------------------

def test_reads_an_rsa_key_in_either_pem_format(key):
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    for data in (pem(key), traditional):
        assert kp.load_private_key(data, "/k").public_key().public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("make, words", [
    (lambda k: b"not a key at all\n", ["holds no readable PEM private key", "left as it is"]),
    (lambda k: k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()), ["holds no readable PEM private key"]),
    (lambda k: b"", ["holds no readable PEM private key"]),
    (lambda k: pem(k, password=b"secret"), ["holds an encrypted private key", "passphrase"]),
    (lambda k: pem(ec.generate_private_key(ec.SECP256R1())), ["holds a EC private key", "needs an RSA key"]),
    (lambda k: kp.certificate_pem(certificate(k)).encode(), ["holds no readable PEM private key"]),
])
def test_unusable_key_files_are_refused_naming_the_path(key, make, words):
    with pytest.raises(InputError) as error:
        kp.load_private_key(make(key), "/etc/sfops/keys/marketo.key")
    message = str(error.value)
    assert message.startswith("private_key_path /etc/sfops/keys/marketo.key ")
    for word in words:
        assert word in message


def test_a_certificate_file_that_is_not_pem_is_refused(key):
    der = certificate(key).public_bytes(serialization.Encoding.DER)
    for data in (b"garbage", der, pem(key)):
        with pytest.raises(InputError) as error:
            kp.load_certificate(data, "/k/marketo.crt")
        assert str(error.value).startswith("certificate_path /k/marketo.crt holds no PEM certificate")
        assert "-----" not in str(error.value)


# ---- the plan ------------------------------------------------------------------------------------------

def test_a_matching_certificate_is_kept(key):
    assert kp.renewal_reasons(certificate(key), key, "marketo", 30, NOW) == []


@pytest.mark.parametrize("days_left, renew_before, renewed", [
    (31, 30, False), (30, 30, True), (10, 30, True), (1, 0, False), (0, 0, True), (-5, 30, True), (59, 60, True),
])
def test_renewal_window(key, days_left, renew_before, renewed):
    cert = certificate(key, not_after=NOW + days_left * DAY)
    reasons = kp.renewal_reasons(cert, key, "marketo", renew_before, NOW)
    assert bool(reasons) is renewed
    if renewed:
        expected = "certificate expired on" if days_left <= 0 else "within renew_before_days (%d)" % renew_before
        assert expected in reasons[0]


def test_the_clock_decides_renewal(key):
    cert = certificate(key, not_after=NOW + 100 * DAY)
    assert kp.renewal_reasons(cert, key, "marketo", 30, NOW + 69 * DAY) == []
    assert kp.renewal_reasons(cert, key, "marketo", 30, NOW + 71 * DAY) == [
        "certificate expires on 2026-06-09T12:00:00Z, within renew_before_days (30)"]


def test_another_key_or_name_renews(key, other_key):
    assert kp.renewal_reasons(certificate(other_key), key, "marketo", 30, NOW) == [
        "certificate belongs to another private key"]
    assert kp.renewal_reasons(certificate(key, "old-name"), key, "marketo", 30, NOW) == [
        "certificate common name 'old-name' differs from common_name 'marketo'"]
    assert "will be created" in kp.renewal_reasons(certificate(key), None, "marketo", 30, NOW)[0]
    assert kp.renewal_reasons(None, key, "marketo", 30, NOW) == ["certificate does not exist"]


@pytest.mark.parametrize("mode, fixed", [
    (0o600, None), (0o400, None), (0o644, 0o600), (0o640, 0o600), (0o700, 0o600), (0o440, 0o400), (0o777, 0o600),
    (None, None),
])
def test_loose_key_modes_are_tightened(mode, fixed):
    assert kp.tightened_mode(mode) == fixed


@pytest.mark.parametrize("state, action", [
    (dict(key=None, key_mode=None, certificate=None), "create"),
    (dict(key="K", key_mode=0o600, certificate=None), "create"),
    (dict(key="K", key_mode=0o644, certificate="C"), "update"),
])
def test_plan_actions(monkeypatch, state, action):
    monkeypatch.setattr(kp, "renewal_reasons", lambda cert, *args: [] if cert else ["certificate does not exist"])
    assert kp.plan(dict(common_name="m", renew_before_days=30), state, NOW)["action"] == action


def test_plan_without_changes(key):
    steps = kp.plan(dict(common_name="marketo", renew_before_days=30),
                    dict(key=key, key_mode=0o600, certificate=certificate(key)), NOW)
    assert steps == dict(create_key=False, key_mode=None, reasons=[], action="none")


# ---- the certificate -------------------------------------------------------------------------------------

def test_built_certificate(key):
    cert = kp.build_certificate(key, "marketo-integration", 730, NOW)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "marketo-integration")])
    assert cert.subject == name and cert.issuer == name
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert kp.not_after(cert) == NOW + 730 * DAY
    before = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    assert before == NOW - datetime.timedelta(minutes=5)
    assert cert.serial_number > 0
    assert cert.serial_number != kp.build_certificate(key, "marketo-integration", 730, NOW).serial_number
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                             cert.signature_hash_algorithm)  # self-signed
    assert kp.certificate_view(cert) == dict(common_name="marketo-integration", not_after="2028-02-29T12:00:00Z",
                                             fingerprint_sha256=kp.fingerprint(cert))
    assert len(kp.fingerprint(cert).split(":")) == 32


def test_the_key_signs_a_jwt_the_certificate_verifies(key):
    cert = kp.build_certificate(key, "marketo", 730, NOW)
    token = jwt.encode({"iss": "client-id", "sub": "marketo@acme.com", "aud": "https://login.salesforce.com"},
                       kp.private_key_pem(key), algorithm="RS256")
    claims = jwt.decode(token, cert.public_key(), algorithms=["RS256"], audience="https://login.salesforce.com")
    assert claims["sub"] == "marketo@acme.com"


# ---- run(): files on disk ------------------------------------------------------------------------------

def run(key_path, check_mode=False, now=NOW, **given):
    module = keypair_module(check_mode, **params(key_path, **given))
    return kp.run(module, now=now), module.warnings


def test_create_then_nothing_changes(tmp_path):
    key_path = tmp_path / "new" / "deeper" / "marketo.key"
    result, warnings = run(key_path)
    assert result["changed"] is True and warnings == []
    assert result["change"]["action"] == "create" and result["change"]["kind"] == "jwt_certificate"
    assert result["change"]["name"] == str(tmp_path / "new" / "deeper" / "marketo.crt")
    assert mode_of(key_path) == 0o600 and mode_of(key_path.parent) == 0o700 and mode_of(key_path.parent.parent) == 0o700
    cert_path = tmp_path / "new" / "deeper" / "marketo.crt"
    assert mode_of(cert_path) == 0o644
    assert result["certificate"] == cert_path.read_text()
    assert sorted(os.listdir(str(key_path.parent))) == ["marketo.crt", "marketo.key"]  # no temporary files left
    assert result["diff"]["before"] == dict(private_key="absent")
    assert result["diff"]["after"]["private_key_mode"] == "0600"
    assert result["not_after"] == "2028-02-29T12:00:00Z"
    key_bytes = key_path.read_bytes()
    # The file written holds an unencrypted RSA private key (loaded, not matched by its header text).
    assert isinstance(serialization.load_pem_private_key(key_bytes, password=None), rsa.RSAPrivateKey)
    for line in key_body_lines(key_bytes):
        assert line not in json.dumps(result)

    again, warnings = run(key_path, now=NOW + DAY)
    assert again["changed"] is False and again["change"]["action"] == "none" and warnings == []
    assert again["diff"]["before"] == again["diff"]["after"]
    assert again["fingerprint_sha256"] == result["fingerprint_sha256"]
    assert key_path.read_bytes() == key_bytes


def test_check_mode_writes_nothing(tmp_path):
    key_path = tmp_path / "keys" / "marketo.key"
    result, _warnings = run(key_path, check_mode=True)
    assert result["changed"] is True and result["change"]["action"] == "create"
    assert result["certificate"] is None and result["fingerprint_sha256"] is None
    assert result["not_after"] == "2028-02-29T12:00:00Z"
    assert result["diff"]["after"]["fingerprint_sha256"] == "(new)"
    assert not (tmp_path / "keys").exists()


def test_renewal_keeps_the_key_and_check_mode_only_reports_it(tmp_path, key):
    key_path = write(tmp_path / "marketo.key", pem(key))
    cert_path = write(tmp_path / "marketo.crt", kp.certificate_pem(certificate(key, not_after=NOW + 10 * DAY)).encode(),
                      0o644)
    old_cert = cert_path.read_bytes()
    planned, _warnings = run(key_path, check_mode=True)
    assert planned["changed"] is True and planned["change"]["action"] == "update"
    assert "within renew_before_days (30)" in planned["reasons"][0]
    assert cert_path.read_bytes() == old_cert
    result, _warnings = run(key_path)
    assert result["changed"] is True and key_path.read_bytes() == pem(key)
    new_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert kp.public_key_bytes(new_cert.public_key()) == kp.public_key_bytes(key.public_key())
    assert result["not_after"] == "2028-02-29T12:00:00Z"
    assert any(line.startswith("not_after: 2026-03-11T12:00:00Z -> 2028-02-29T12:00:00Z")
               for line in result["change"]["details"])


def test_a_loose_key_mode_is_fixed_with_a_warning(tmp_path, key):
    key_path = write(tmp_path / "marketo.key", pem(key), 0o644)
    write(tmp_path / "marketo.crt", kp.certificate_pem(certificate(key)).encode(), 0o644)
    planned, warnings = run(key_path, check_mode=True)
    assert planned["changed"] is True and mode_of(key_path) == 0o644
    assert "it would be set to 0600" in warnings[0]
    result, warnings = run(key_path)
    assert result["changed"] is True and mode_of(key_path) == 0o600
    assert result["change"]["details"] == ["private_key_mode: 0644 -> 0600"]
    assert warnings[0].startswith("private_key_path %s had mode 0644, which lets other users read" % key_path)
    assert result["reasons"] == []


def test_an_existing_key_of_another_size_is_kept_with_a_warning(tmp_path, key):
    key_path = write(tmp_path / "marketo.key", pem(key))
    result, warnings = run(key_path, key_size=4096)
    assert result["changed"] is True and key_path.read_bytes() == pem(key)
    assert warnings == ["private_key_path %s holds a 2048-bit key; key_size 4096 applies only to a new key, and the "
                        "existing key is kept" % key_path]


def test_a_garbage_key_fails_and_nothing_is_written(tmp_path):
    key_path = write(tmp_path / "marketo.key", b"garbage")
    with pytest.raises(InputError) as error:
        run(key_path)
    assert str(error.value).startswith("private_key_path %s holds no readable PEM private key" % key_path)
    assert key_path.read_bytes() == b"garbage" and not (tmp_path / "marketo.crt").exists()


def test_a_garbage_certificate_fails_before_the_key_is_created(tmp_path):
    write(tmp_path / "marketo.crt", b"garbage")
    with pytest.raises(InputError) as error:
        run(tmp_path / "marketo.key")
    assert "certificate_path %s holds no PEM certificate" % (tmp_path / "marketo.crt") in str(error.value)
    assert not (tmp_path / "marketo.key").exists()


def test_an_unwritable_directory_fails_before_anything_is_written(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(kp.os, "access", lambda path, mode: str(path) != str(locked))
    with pytest.raises(InputError) as error:
        run(locked / "keys" / "marketo.key")
    assert str(error.value) == ("private_key_path {0}/keys/marketo.key: directory {0} is not writable; certificate_path "
                                "{0}/keys/marketo.crt: directory {0} is not writable".format(locked))
    assert os.listdir(str(locked)) == []


def test_write_atomic_never_replaces_an_existing_key(tmp_path):
    target = write(tmp_path / "marketo.key", b"original")
    with pytest.raises(kp.FileAppeared):
        kp.write_atomic(str(target), b"new", 0o600, overwrite=False)
    assert target.read_bytes() == b"original" and os.listdir(str(tmp_path)) == ["marketo.key"]
    kp.write_atomic(str(tmp_path / "marketo.crt"), b"cert", 0o644, overwrite=True)
    kp.write_atomic(str(tmp_path / "marketo.crt"), b"cert 2", 0o644, overwrite=True)
    assert (tmp_path / "marketo.crt").read_bytes() == b"cert 2" and mode_of(tmp_path / "marketo.crt") == 0o644


def test_the_temporary_key_file_is_never_readable_by_others(tmp_path, monkeypatch):
    seen = []
    real_write = os.write

    def spy(handle, data):
        seen.append(stat.S_IMODE(os.fstat(handle).st_mode))
        return real_write(handle, data)
    monkeypatch.setattr(kp.os, "write", spy)
    old_umask = os.umask(0)
    try:
        kp.write_atomic(str(tmp_path / "k" / "marketo.key"), b"secret", 0o600, overwrite=False)
    finally:
        os.umask(old_umask)
    assert seen == [0o600] and mode_of(tmp_path / "k") == 0o700


# ---- main(): through AnsibleModule ------------------------------------------------------------------------

def run_main(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            kp.main()
    return json.loads(capsys.readouterr().out)


def test_main_fails_with_one_message(tmp_path, capsys):
    result = run_main(dict(private_key_path=str(tmp_path), valid_days=0), capsys)
    assert result["failed"] is True
    assert result["msg"] == ("valid_days must be between 1 and 3650; got 0; private_key_path %s is a directory; give "
                             "the path of the file" % tmp_path)
    assert "exception" not in result and result["api_requests"] == 0


def test_main_refuses_a_key_size_not_offered(tmp_path, capsys):
    result = run_main(dict(private_key_path=str(tmp_path / "k.key"), key_size=1024), capsys)
    assert result["failed"] is True and "key_size" in result["msg"] and "1024" in result["msg"]


def test_main_without_cryptography(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(kp, "HAS_CRYPTOGRAPHY", False)
    monkeypatch.setattr(kp, "CRYPTOGRAPHY_IMPORT_ERROR", "ImportError: No module named 'cryptography'")
    result = run_main(dict(private_key_path=str(tmp_path / "k.key")), capsys)
    assert result["failed"] is True
    assert "Failed to import the required Python library (cryptography)" in result["msg"]
    assert not (tmp_path / "k.key").exists()


def test_main_creates(tmp_path, capsys):
    result = run_main(dict(private_key_path=str(tmp_path / "k.key")), capsys)
    assert result["changed"] is True and result["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert result["api_requests"] == 0
    assert "PRIVATE KEY" not in json.dumps(result)
    assert result["change"]["kind"] == "jwt_certificate" and result["change"]["action"] == "create"
    assert result["change"]["name"] == str(tmp_path / "k.crt") and "concurrent" not in result["change"]
    again = run_main(dict(private_key_path=str(tmp_path / "k.key")), capsys)
    assert again["changed"] is False and again["change"]["action"] == "none" and again["change"]["details"] == []


def test_main_takes_no_connection_options(tmp_path, capsys):
    """It talks to no org: the connection options of the other modules are not its options."""
    result = run_main(dict(private_key_path=str(tmp_path / "k.key"), instance_url="https://acme.my.salesforce.com"),
                      capsys)
    assert result["failed"] is True and "instance_url" in result["msg"] and not (tmp_path / "k.key").exists()


def test_a_failed_write_is_named_not_a_traceback(tmp_path, capsys, monkeypatch):
    def disk_full(path, data, mode, overwrite):
        raise OSError(28, "No space left on device", path)
    monkeypatch.setattr(kp, "write_atomic", disk_full)
    result = run_main(dict(private_key_path=str(tmp_path / "k.key")), capsys)
    assert result["failed"] is True and result["api_requests"] == 0
    assert result["msg"] == "Writing the key pair failed: No space left on device (%s)" % (tmp_path / "k.key")


def test_a_key_another_org_wrote_a_moment_earlier_is_adopted(tmp_path, monkeypatch):
    """Two orgs' tasks create the same key at once: the one that comes second keeps the first key."""
    key_path = tmp_path / "marketo.key"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    real_write_atomic = kp.write_atomic

    def the_other_org_wins(path, data, mode, overwrite):
        if path == str(key_path) and not key_path.exists():
            write(key_path, other_pem)  # written by the other org between our read and our write
        return real_write_atomic(path, data, mode, overwrite)

    monkeypatch.setattr(kp, "write_atomic", the_other_org_wins)
    result = kp.run(keypair_module(**params(key_path)))
    assert key_path.read_bytes() == other_pem
    cert = x509.load_pem_x509_certificate(result["certificate"].encode())
    assert kp.public_key_bytes(cert.public_key()) == kp.public_key_bytes(other.public_key())
    assert result["changed"] is True
