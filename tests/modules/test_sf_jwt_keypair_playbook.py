"""sf_jwt_keypair through ansible-playbook: files on the controller, no org and no emulator.

One verbose (-vvvv) run with --diff covers creation, re-runs, renewals and refusals, so its output
is also searched for key material; a second run in check mode shows that nothing is written.
"""
from __future__ import annotations

import datetime
import os
import shutil
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from harness import failure, result_var, run_playbook

KEYPAIR = "sfops.integration.sf_jwt_keypair"
NOW = datetime.datetime.now(datetime.timezone.utc)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def certificate_pem(key, common_name, days_left):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=300))
            .not_valid_after(NOW + datetime.timedelta(days=days_left)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path, data, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(str(path), mode)
    return path


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def public_key_of_certificate(path):
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.public_key().public_numbers()


def public_key_of_key(path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None).public_key().public_numbers()


def body_lines(pem_bytes):
    """The full base64 lines of a PEM key: any of them in the output would be a leak."""
    return [line for line in pem_bytes.decode().splitlines() if line and "-----" not in line][:-1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Key and certificate files the playbook starts from, and the keys the test made (to look for leaks)."""
    root = tmp_path_factory.mktemp("jwt")
    keys = dict((name, new_key()) for name in ("expiring", "other", "loose", "stranger", "encrypted"))
    paths = dict(
        created=root / "new" / "keys" / "marketo.key",
        expiring=write(root / "expiring.key", key_pem(keys["expiring"]), 0o600),
        other=write(root / "other.key", key_pem(keys["other"]), 0o600),
        loose=write(root / "loose.key", key_pem(keys["loose"]), 0o644),
        garbage=write(root / "garbage.key", b"this is not a key\n", 0o600),
        encrypted=write(root / "encrypted.key", key_pem(keys["encrypted"], b"passphrase"), 0o600),
        uploaded=root / "uploaded.crt",
        renamed=root / "renamed.key",
    )
    write(root / "expiring.crt", certificate_pem(keys["expiring"], "expiring", days_left=10), 0o644)
    write(root / "other.crt", certificate_pem(keys["stranger"], "other", days_left=700), 0o644)
    write(root / "loose.crt", certificate_pem(keys["loose"], "loose", days_left=700), 0o644)
    originals = dict((name, paths[name].read_bytes()) for name in ("expiring", "other", "loose", "garbage", "encrypted"))
    originals.update(("%s.crt" % name, (root / ("%s.crt" % name)).read_bytes()) for name in ("expiring", "other"))
    return dict(root=root, paths=paths, keys=keys, originals=originals)


@pytest.fixture(scope="module")
def keypair_run(files):
    paths, root = files["paths"], files["root"]
    created = str(paths["created"])
    tasks = [
        {"name": "create", KEYPAIR: dict(private_key_path=created, common_name="marketo-integration")},
        {"name": "rerun", KEYPAIR: dict(private_key_path=created, common_name="marketo-integration")},
        {"name": "rerun_check", KEYPAIR: dict(private_key_path=created, common_name="marketo-integration"),
         "check_mode": True},
        {"name": "upload", "ansible.builtin.copy": dict(content="{{ %s.certificate }}" % result_var("create"),
                                                        dest=str(paths["uploaded"]), mode="0644")},
        {"name": "renamed", KEYPAIR: dict(private_key_path=str(paths["renamed"]), common_name="accounting")},
        {"name": "renamed_again", KEYPAIR: dict(private_key_path=str(paths["renamed"]), common_name="finance")},
        {"name": "expiring", KEYPAIR: dict(private_key_path=str(paths["expiring"]))},
        {"name": "other_key", KEYPAIR: dict(private_key_path=str(paths["other"]))},
        {"name": "loose_mode", KEYPAIR: dict(private_key_path=str(paths["loose"]))},
        {"name": "garbage", KEYPAIR: dict(private_key_path=str(paths["garbage"]))},
        {"name": "encrypted", KEYPAIR: dict(private_key_path=str(paths["encrypted"]))},
        {"name": "directory", KEYPAIR: dict(private_key_path=str(root))},
        {"name": "file_as_directory", KEYPAIR: dict(private_key_path=str(paths["garbage"]) + "/x.key",
                                                    certificate_path=str(root / "x.crt"))},
        {"name": "bad_ranges", KEYPAIR: dict(private_key_path=str(root / "never.key"), valid_days=4000,
                                             renew_before_days=-1)},
        {"name": "renew_too_early", KEYPAIR: dict(private_key_path=str(root / "never.key"), valid_days=30,
                                                  renew_before_days=30)},
        {"name": "bad_key_size", KEYPAIR: dict(private_key_path=str(root / "never.key"), key_size=1024)},
    ]
    return run_playbook(root, tasks, verbosity=4, diff=True)


def ok(run, name):
    result = run[name]
    assert not result.get("failed"), result
    return result


def test_create(keypair_run, files):
    result = ok(keypair_run, "create")
    key_path = files["paths"]["created"]
    cert_path = key_path.parent / "marketo.crt"
    assert result["changed"] is True
    assert result["private_key_path"] == str(key_path) and result["certificate_path"] == str(cert_path)
    assert mode_of(key_path) == 0o600 and mode_of(cert_path) == 0o644
    assert mode_of(key_path.parent) == 0o700 and mode_of(key_path.parent.parent) == 0o700
    assert public_key_of_certificate(cert_path) == public_key_of_key(key_path)
    assert result["certificate"] == cert_path.read_text()
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "marketo-integration"
    assert result["fingerprint_sha256"] == ":".join("%02X" % b for b in cert.fingerprint(hashes.SHA256()))
    assert result["not_after"].endswith("Z")
    expiry = datetime.datetime.strptime(result["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs((expiry.replace(tzinfo=datetime.timezone.utc) - NOW).days - 730) <= 1
    assert result["change"]["action"] == "create" and result["change"]["name"] == str(cert_path)
    assert result["diff"]["before"] == {"private_key": "absent"}
    assert result["diff"]["after"]["common_name"] == "marketo-integration"


def test_registered_certificate_can_be_used(keypair_run, files):
    uploaded = files["paths"]["uploaded"]
    assert uploaded.read_text().strip() == keypair_run["create"]["certificate"].strip()


def test_rerun_changes_nothing(keypair_run):
    for name in ("rerun", "rerun_check"):
        result = ok(keypair_run, name)
        assert result["changed"] is False and result["change"]["action"] == "none", name
        assert result["fingerprint_sha256"] == keypair_run["create"]["fingerprint_sha256"]
        assert result["certificate"] == keypair_run["create"]["certificate"]
        assert result["diff"]["before"] == result["diff"]["after"]


def test_a_new_common_name_renews_with_the_same_key(keypair_run, files):
    first, second = ok(keypair_run, "renamed"), ok(keypair_run, "renamed_again")
    assert first["changed"] is True and second["changed"] is True
    assert second["change"]["action"] == "update"
    assert "common_name: accounting -> finance" in second["change"]["details"]
    assert second["reasons"] == ["certificate common name 'accounting' differs from common_name 'finance'"]
    key_path = files["paths"]["renamed"]
    assert public_key_of_certificate(key_path.with_suffix(".crt")) == public_key_of_key(key_path)


def test_an_expiring_certificate_is_renewed_and_the_key_kept(keypair_run, files):
    result = ok(keypair_run, "expiring")
    key_path = files["paths"]["expiring"]
    assert result["changed"] is True and result["change"]["action"] == "update"
    assert key_path.read_bytes() == files["originals"]["expiring"]
    cert_path = key_path.with_suffix(".crt")
    assert cert_path.read_bytes() != files["originals"]["expiring.crt"]
    assert public_key_of_certificate(cert_path) == public_key_of_key(key_path)
    assert "within renew_before_days (30)" in result["reasons"][0]
    assert result["diff"]["before"]["fingerprint_sha256"] != result["diff"]["after"]["fingerprint_sha256"]


def test_a_certificate_of_another_key_is_replaced(keypair_run, files):
    result = ok(keypair_run, "other_key")
    key_path = files["paths"]["other"]
    assert result["changed"] is True and result["reasons"] == ["certificate belongs to another private key"]
    assert key_path.read_bytes() == files["originals"]["other"]
    assert public_key_of_certificate(key_path.with_suffix(".crt")) == public_key_of_key(key_path)


def test_a_loose_key_mode_is_fixed(keypair_run, files):
    result = ok(keypair_run, "loose_mode")
    key_path = files["paths"]["loose"]
    assert result["changed"] is True and result["change"]["details"] == ["private_key_mode: 0644 -> 0600"]
    assert mode_of(key_path) == 0o600 and key_path.read_bytes() == files["originals"]["loose"]
    assert any("had mode 0644" in warning for warning in result["warnings"])


@pytest.mark.parametrize("task, words", [
    ("garbage", ["private_key_path {root}/garbage.key holds no readable PEM private key", "left as it is"]),
    ("encrypted", ["private_key_path {root}/encrypted.key holds an encrypted private key", "passphrase"]),
    ("directory", ["private_key_path {root} is a directory"]),
    ("file_as_directory", ["private_key_path {root}/garbage.key/x.key: {root}/garbage.key is not a directory"]),
    ("bad_ranges", ["valid_days must be between 1 and 3650; got 4000", "renew_before_days must be 0 or more; got -1"]),
    ("renew_too_early", ["renew_before_days must be between 0 and 29", "got 30"]),
    ("bad_key_size", ["key_size", "2048, 3072, 4096", "1024"]),
])
def test_refusals_are_clear_and_write_nothing(keypair_run, files, task, words):
    message = failure(keypair_run, task)
    for word in words:
        assert word.format(root=files["root"]) in message, message
    for name in ("garbage", "encrypted"):
        assert files["paths"][name].read_bytes() == files["originals"][name]
    root = files["root"]
    for absent in ("garbage.crt", "encrypted.crt", "never.key", "never.crt", "x.crt"):
        assert not (root / absent).exists(), absent


def test_no_key_material_in_verbose_output(keypair_run, files):
    output = keypair_run.output
    assert "<localhost> ESTABLISH LOCAL CONNECTION" in output  # the run was verbose
    assert "PRIVATE KEY-----" not in output
    keys = [files["paths"][name].read_bytes() for name in ("created", "renamed", "expiring", "other", "loose")]
    keys += [key_pem(key) for key in files["keys"].values()]
    leaked = [line for data in keys for line in body_lines(data) if line in output]
    assert not leaked


@pytest.fixture
def locked(tmp_path):
    """A directory this user cannot write to: mode 0500, or immutable for root (who ignores modes)."""
    path = tmp_path / "locked"
    path.mkdir()
    if os.geteuid() != 0:
        os.chmod(str(path), 0o500)
        yield path
        os.chmod(str(path), 0o700)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
        pytest.skip("root may write to any directory, and chattr +i is not available here")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_unwritable_directory_is_refused(tmp_path, locked):
    run = run_playbook(tmp_path, [{"name": "locked", KEYPAIR: dict(private_key_path=str(locked / "k.key"))}])
    assert "directory %s is not writable" % locked in failure(run, "locked")
    assert os.listdir(str(locked)) == []


def test_check_mode_writes_nothing(tmp_path):
    key = new_key()
    expiring_key = write(tmp_path / "expiring.key", key_pem(key), 0o644)
    expiring_cert = write(tmp_path / "expiring.crt", certificate_pem(key, "expiring", days_left=5), 0o644)
    before = (expiring_key.read_bytes(), expiring_cert.read_bytes())
    new_path = tmp_path / "new" / "marketo.key"
    run = run_playbook(tmp_path, [
        {"name": "new", KEYPAIR: dict(private_key_path=str(new_path))},
        {"name": "expiring", KEYPAIR: dict(private_key_path=str(expiring_key))},
    ], check=True, diff=True)
    created = ok(run, "new")
    assert created["changed"] is True and created["change"]["action"] == "create"
    assert created["certificate"] is None and created["fingerprint_sha256"] is None
    assert not new_path.exists() and not (tmp_path / "new").exists()
    renewed = ok(run, "expiring")
    assert renewed["changed"] is True and renewed["change"]["action"] == "update"
    assert "private_key_mode: 0644 -> 0600" in renewed["change"]["details"]
    assert (expiring_key.read_bytes(), expiring_cert.read_bytes()) == before
    assert mode_of(expiring_key) == 0o644
    assert "--- before" in run.stdout  # the diff was shown
