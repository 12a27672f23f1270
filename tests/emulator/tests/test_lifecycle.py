"""How the emulator starts and stops, the info file, TLS trust, and the login endpoints over HTTP."""
from __future__ import annotations

import base64
import json
import ssl
import time

import pytest
import requests
from contract import soap_login_envelope, start_emulator, stop_emulator


def test_info_file_sigterm_and_fresh_credentials(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    proc, info = start_emulator(tmp_path / "a", orgs=2)
    try:
        assert info["url"].startswith("https://127.0.0.1:")
        assert len(info["orgs"]) == 2
        org = info["orgs"][0]
        for key in ("name", "org_id", "login_url", "instance_url", "username", "password", "security_token",
                    "client_id", "client_secret", "private_key_file"):
            assert org[key], key
        assert org["org_id"].startswith("00D") and len(org["org_id"]) == 18
        with open(org["private_key_file"]) as fh:
            assert "PRIVATE KEY" in fh.read()
        # Untrusted without the CA, trusted with it.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(info["url"] + "/services/data/", timeout=10)
        assert requests.get(info["url"] + "/services/data/", verify=info["ca_file"], timeout=10).status_code == 200
    finally:
        assert stop_emulator(proc) == 0
    proc2, info2 = start_emulator(tmp_path / "b", orgs=1)
    try:
        assert info2["orgs"][0]["password"] != info["orgs"][0]["password"]
        assert info2["orgs"][0]["username"] != info["orgs"][0]["username"]
    finally:
        assert stop_emulator(proc2) == 0


def test_soap_login_success_and_failure(emulator):
    org = emulator["orgs"][0]
    s = requests.Session()
    s.verify = emulator["ca_file"]
    ok = s.post(f"{emulator['url']}/services/Soap/u/62.0", headers={"SOAPAction": "login", "Content-Type": "text/xml"},
                data=soap_login_envelope(org["username"], org["password"] + org["security_token"]))
    assert ok.status_code == 200
    assert "<sessionId>" in ok.text and "<serverUrl>" in ok.text and org["org_id"] in ok.text
    bad = s.post(f"{emulator['url']}/services/Soap/u/62.0", headers={"SOAPAction": "login", "Content-Type": "text/xml"},
                 data=soap_login_envelope(org["username"], org["password"]))  # token missing
    assert bad.status_code == 500
    assert "<sf:exceptionCode>LOGIN_MUST_USE_SECURITY_TOKEN</sf:exceptionCode>" in bad.text


def _jwt(org: dict, aud: str, exp) -> str:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"iss": org["client_id"], "sub": org["username"], "aud": aud, "exp": exp}).encode())
    with open(org["private_key_file"], "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    sig = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{b64(sig)}"


def test_oauth_flows_over_http(emulator):
    org = emulator["orgs"][1]
    token_url = f"{emulator['url']}/services/oauth2/token"
    s = requests.Session()
    s.verify = emulator["ca_file"]
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    for exp in (int(time.time()) + 180, str(int(time.time()) + 180)):  # number or string (reference 1.5)
        r = s.post(token_url, data={"grant_type": grant, "assertion": _jwt(org, emulator["url"], exp)})
        assert r.status_code == 200, r.text
        assert r.json()["instance_url"] == emulator["url"] and r.json()["access_token"]
    expired = s.post(token_url, data={"grant_type": grant, "assertion": _jwt(org, emulator["url"], 1000)})
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    cc = s.post(token_url, data={"grant_type": "client_credentials"},
                auth=(org["client_id"], org["client_secret"]))
    assert cc.status_code == 200, cc.text
    token = cc.json()["access_token"]
    limits = s.get(f"{emulator['url']}/services/data/v62.0/limits", headers={"Authorization": f"Bearer {token}"})
    assert limits.status_code == 200
    wrong = s.post(token_url, data={"grant_type": "client_credentials"}, auth=(org["client_id"], "wrong"))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    pw = s.post(token_url, data={"grant_type": "password", "client_id": org["client_id"],
                                 "client_secret": org["client_secret"], "username": org["username"],
                                 "password": org["password"] + org["security_token"]})
    assert pw.status_code == 200, pw.text


def test_tokens_are_bound_to_their_org(emulator, org1):
    other = emulator["orgs"][1]["org_id"]
    body = requests.get(f"{emulator['url']}/services/data/v62.0/query", verify=emulator["ca_file"],
                        params={"q": "SELECT Id FROM Organization"},
                        headers={"Authorization": f"Bearer {org1.token}"}).json()
    assert body["records"][0]["Id"] != other and body["records"][0]["Id"] == org1.org["org_id"]


def test_tls_certificate_is_for_loopback(emulator):
    ctx = ssl.create_default_context(cafile=emulator["ca_file"])
    host, port = emulator["url"].removeprefix("https://").split(":")
    import socket
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=host) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
