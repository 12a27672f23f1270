"""Helpers of the emulator's contract tests: start and stop an emulator process, raw HTTP clients per org.

The contract tests talk HTTP with `requests` directly (never through the collection's client), so
they check the emulator against the Salesforce docs, not against our own code. Fixtures are in
conftest.py; test files import helpers from here (a module named conftest would clash with the
other suites' conftest files when `pytest tests` runs them all).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

EMULATOR_ROOT = Path(__file__).resolve().parents[1]
if str(EMULATOR_ROOT) not in sys.path:
    sys.path.insert(0, str(EMULATOR_ROOT))

API = "v62.0"

# requests lets these override a session's own `verify`; the tests pass the emulator's CA explicitly.
for _var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_var, None)


def start_emulator(tmp: Path, orgs: int = 3, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, dict]:
    info_file = tmp / "emu.json"
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "sf_emulator", "--port", "0", "--orgs", str(orgs),
                             "--info-file", str(info_file), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not info_file.exists():
        if proc.poll() is not None or time.time() > deadline:
            out, err = proc.communicate(timeout=5) if proc.poll() is not None else (b"", b"")
            proc.kill()
            raise RuntimeError(f"emulator did not start: {err.decode()[-2000:]}")
        time.sleep(0.05)
    return proc, json.loads(info_file.read_text())


def stop_emulator(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return -9


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    proc, info = start_emulator(tmp_path_factory.mktemp("emu"))
    yield info
    stop_emulator(proc)


class OrgClient:
    """Raw HTTP against one org: logs in once with SOAP, then sends REST requests."""

    def __init__(self, info: dict, org: dict):
        self.info = info
        self.org = org
        self.url = info["url"]
        self.http = requests.Session()
        self.http.verify = info["ca_file"]
        self.token = self.login()

    def login(self) -> str:
        body = soap_login_envelope(self.org["username"], self.org["password"] + self.org["security_token"])
        r = self.http.post(f"{self.url}/services/Soap/u/62.0", data=body,
                           headers={"Content-Type": "text/xml", "SOAPAction": "login"})
        assert r.status_code == 200, r.text
        start = r.text.index("<sessionId>") + len("<sessionId>")
        return r.text[start:r.text.index("</sessionId>")]

    def rest(self, method: str, path: str, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("http") else f"{self.url}/services/data/{API}/{path.lstrip('/')}"
        return self.http.request(method, url, headers=headers, **kw)

    def query(self, soql: str) -> dict:
        r = self.rest("GET", "query", params={"q": soql})
        assert r.status_code == 200, r.text
        return r.json()

    def one(self, soql: str) -> dict:
        records = self.query(soql)["records"]
        assert len(records) == 1, records
        return records[0]

    def create(self, sobject: str, values: dict) -> requests.Response:
        return self.rest("POST", f"sobjects/{sobject}", json=values)

    def admin(self, method: str, what: str, **kw) -> requests.Response:
        return self.http.request(method, f"{self.url}/__emulator__/orgs/{self.org['name']}/{what}", **kw)

    def security_token(self, username: str) -> str:
        """A user's security token: Salesforce e-mails it, the emulator's admin API stands in for the mailbox."""
        r = self.admin("GET", "security_token", params={"username": username})
        assert r.status_code == 200, r.text
        return r.json()["security_token"]

    def requests_log(self) -> list[dict]:
        return self.admin("GET", "requests").json()["requests"]

    def new_user(self, profile: str = "Minimum Access - API Only Integrations", **values) -> str:
        profile_id = self.one(f"SELECT Id FROM Profile WHERE Name = '{profile}'")["Id"]
        body = user_values(profile_id, **values)
        r = self.create("User", body)
        assert r.status_code == 201, r.text
        return r.json()["id"]


def unique_username(prefix: str = "it") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.test"


def user_values(profile_id: str, **values) -> dict:
    body = {"Username": unique_username(), "LastName": "Integration", "Email": "ops@example.test",
            "Alias": "integ", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US", "ProfileId": profile_id}
    body.update(values)
    return body


def soap_login_envelope(username: str, password: str) -> str:
    from xml.sax.saxutils import escape
    return ('<?xml version="1.0" encoding="utf-8" ?><env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">'
            '<env:Header><urn:CallOptions><urn:client>contract-tests</urn:client></urn:CallOptions></env:Header>'
            f'<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>{escape(username)}'
            f'</n1:username><n1:password>{escape(password)}</n1:password></n1:login></env:Body></env:Envelope>')


def roomy(client: OrgClient) -> OrgClient:
    """Many tests create integration users: give the shared orgs room (org3 keeps the 5 free seats)."""
    r = client.admin("POST", "settings", json={"license_seats": {"Salesforce Integration": 500,
                                                                 "SalesforceAPIIntegrationPsl": 500}})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture(scope="session")
def org1(emulator) -> OrgClient:
    return roomy(OrgClient(emulator, emulator["orgs"][0]))


@pytest.fixture(scope="session")
def org2(emulator) -> OrgClient:
    return roomy(OrgClient(emulator, emulator["orgs"][1]))


@pytest.fixture(scope="session")
def org3(emulator) -> OrgClient:
    return OrgClient(emulator, emulator["orgs"][2])
