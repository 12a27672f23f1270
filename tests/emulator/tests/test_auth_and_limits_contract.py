"""Login refusals, the daily API allowance, latency and concurrent clients, over raw HTTP.

Sources: reference 1.4/1.5 (login shapes), 6 (limits), docs/emulator.md (admin API).
"""
from __future__ import annotations

import concurrent.futures
import json
import time

import pytest
import requests
from contract import OrgClient, soap_login_envelope, start_emulator, stop_emulator, unique_username
from test_lifecycle import _jwt

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def token_post(emulator, **form):
    return requests.post(f"{emulator['url']}/services/oauth2/token", data=form, verify=emulator["ca_file"],
                         timeout=30)


def soap_login(emulator, username, password):
    return requests.post(f"{emulator['url']}/services/Soap/u/62.0", data=soap_login_envelope(username, password),
                         headers={"SOAPAction": "login", "Content-Type": "text/xml"}, verify=emulator["ca_file"],
                         timeout=30)


def test_jwt_refusals(emulator):
    org = emulator["orgs"][1]
    good = _jwt(org, emulator["url"], int(time.time()) + 180)
    header, claims, signature = good.split(".")
    tampered = ".".join([header, claims, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    # The three error_description texts as real orgs send them (3P, docs/emulator.md "Logins").
    bad_signature = {"error": "invalid_grant", "error_description": "invalid assertion"}
    assert token_post(emulator, grant_type=JWT_GRANT, assertion=tampered).json() == bad_signature
    expired = _jwt(org, emulator["url"], int(time.time()) - 60)
    assert token_post(emulator, grant_type=JWT_GRANT, assertion=expired).json() == {
        "error": "invalid_grant", "error_description": "expired authorization code"}
    wrong_aud = _jwt(org, "https://evil.example.test", int(time.time()) + 180)
    assert token_post(emulator, grant_type=JWT_GRANT, assertion=wrong_aud).json() == {
        "error": "invalid_grant", "error_description": "audience is invalid"}
    other_org = dict(org, username=emulator["orgs"][0]["username"])  # sub from another org than the app
    foreign = _jwt(other_org, emulator["url"], int(time.time()) + 180)
    r = token_post(emulator, grant_type=JWT_GRANT, assertion=foreign)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    unknown_app = _jwt(dict(org, client_id="3MVG9-not-an-app"), emulator["url"], int(time.time()) + 180)
    assert token_post(emulator, grant_type=JWT_GRANT, assertion=unknown_app).json()["error"] == "invalid_client_id"
    assert token_post(emulator, grant_type=JWT_GRANT, assertion="not-a-jwt").json()["error"] == "invalid_grant"
    assert token_post(emulator, grant_type="authorization_code").json()["error"] == "unsupported_grant_type"


def test_frozen_and_inactive_users_cannot_log_in(emulator, org1):
    user_id = org1.new_user("Standard User", Username=unique_username("frozen"))
    username = org1.one(f"SELECT Username FROM User WHERE Id = '{user_id}'")["Username"]
    password = "Pa55-word-" + user_id[-6:]
    assert org1.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": password}).status_code == 204
    password += org1.security_token(username)  # no trusted IP ranges: the token is appended (oauth ref A.5)
    assert soap_login(emulator, username, password).status_code == 200
    login_id = org1.one(f"SELECT Id FROM UserLogin WHERE UserId = '{user_id}'")["Id"]
    assert org1.rest("PATCH", f"sobjects/UserLogin/{login_id}", json={"IsFrozen": True}).status_code == 204
    frozen = soap_login(emulator, username, password)
    assert frozen.status_code == 500 and "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in frozen.text
    assert org1.rest("PATCH", f"sobjects/UserLogin/{login_id}", json={"IsFrozen": False}).status_code == 204
    assert org1.rest("PATCH", f"sobjects/User/{user_id}", json={"IsActive": False}).status_code == 204
    assert soap_login(emulator, username, password).status_code == 500


def test_daily_allowance_exhausted_is_403_request_limit_exceeded(emulator):
    client = OrgClient(emulator, emulator["orgs"][2])
    limits = client.rest("GET", "limits").json()["DailyApiRequests"]
    used = limits["Max"] - limits["Remaining"]
    try:
        assert client.admin("POST", "settings", json={"daily_api_limit": used + 2}).status_code == 200
        assert client.rest("GET", "limits").status_code == 200
        assert client.rest("GET", "limits").status_code == 200
        refused = client.rest("GET", "limits")
        assert refused.status_code == 403
        # A request-level error: no fields key (3P real bodies, reference 2.3).
        assert refused.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        md = client.http.post(f"{client.url}/services/Soap/m/62.0/", headers={"SOAPAction": '""'},
                              data=('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header>'
                                    '<m:SessionHeader xmlns:m="http://soap.sforce.com/2006/04/metadata"><m:sessionId>'
                                    f'{client.token}</m:sessionId></m:SessionHeader></e:Header><e:Body/></e:Envelope>'))
        assert md.status_code == 500 and "REQUEST_LIMIT_EXCEEDED" in md.text
        assert client.requests_log()[-1]["status"] == 500
    finally:
        client.admin("POST", "settings", json={"daily_api_limit": 115000})
    assert client.rest("GET", "limits").status_code == 200


def test_latency_is_added_to_salesforce_requests_only(tmp_path):
    proc, info = start_emulator(tmp_path, orgs=1, extra=("--latency-ms", "1500"))
    try:
        client = OrgClient(info, info["orgs"][0])
        started = time.monotonic()
        assert client.rest("GET", "limits").status_code == 200
        assert time.monotonic() - started >= 1.5  # the injected delay is a floor, not a measurement
        started = time.monotonic()
        assert client.admin("GET", "requests").status_code == 200
        # Well under the delay even on a loaded machine: the admin API is not delayed.
        assert time.monotonic() - started < 1.0, "the admin API must not be delayed"
    finally:
        assert stop_emulator(proc) == 0


def test_concurrent_clients_create_users_without_losing_any(emulator, org2):
    profile_id = org2.one("SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")["Id"]
    before = org2.query("SELECT COUNT() FROM User")["totalSize"]

    def create(i):
        body = {"Username": unique_username(f"conc{i}"), "LastName": f"Concurrent {i}", "Email": "c@example.test",
                "Alias": f"conc{i}", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US", "ProfileId": profile_id}
        with requests.Session() as http:
            r = http.post(f"{org2.url}/services/data/v62.0/sobjects/User", data=json.dumps(body),
                          headers={"Authorization": f"Bearer {org2.token}", "Content-Type": "application/json"},
                          verify=emulator["ca_file"], timeout=60)
        return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(16)))
    assert [status for status, _ in results] == [201] * 16
    ids = {body["id"] for _, body in results}
    assert len(ids) == 16
    assert org2.query("SELECT COUNT() FROM User")["totalSize"] == before + 16


@pytest.mark.parametrize("path", ["/services/data/v62.0/limits", "/services/data/v62.0/query?q=SELECT+Id+FROM+User"])
def test_missing_token_is_401_array(emulator, path):
    r = requests.get(emulator["url"] + path, verify=emulator["ca_file"], timeout=30)
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_sandbox_setting_is_the_organization_flag(emulator):
    client = OrgClient(emulator, emulator["orgs"][2])
    try:
        assert client.admin("POST", "settings", json={"is_sandbox": True}).status_code == 200
        assert client.one("SELECT IsSandbox FROM Organization")["IsSandbox"] is True
    finally:
        client.admin("POST", "settings", json={"is_sandbox": False})
    assert client.one("SELECT IsSandbox FROM Organization")["IsSandbox"] is False
