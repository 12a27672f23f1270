"""Passwordless logins (JWT bearer, client credentials) honouring app pre-authorisation, token errors,
the identity URL and userinfo, LoginHistory, and the end of password logins, over raw HTTPS.

Sources: shared/reference/salesforce_oauth_audit.md §0, A.3, A.4, A.5, B.1; salesforce_api.md 1.4, 1.5;
docs/emulator.md "Logins". The apps are auth.ConnectedApp objects put on an org of an emulator run in this
process (until External Client Apps can be created through the Metadata API, that is the way to get an ECA);
everything else goes over HTTPS as a client would send it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
import requests
from contract import OrgClient, soap_login_envelope, user_values

from sf_emulator import auth, tls
from sf_emulator.server import Emulator, serve

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
NOT_ADMIN_APPROVED = {"error": "invalid_app_access",
                      "error_description": "user is not admin approved to access this app"}
NOT_APPROVED = {"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}
NO_RUN_AS = {"error": "invalid_grant", "error_description": "no client credentials user enabled"}
AUTH_FAILURE = {"error": "invalid_grant", "error_description": "authentication failure"}


class Env:
    """One in-process emulator (one org) over HTTPS, its seeded app, and an admin REST client."""

    def __init__(self, tmp: Path):
        ca_key, ca_cert = tls.make_ca()
        key, cert = tls.make_server_cert(ca_key, ca_cert, "127.0.0.1")
        self.ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
        self.ca_file.write_bytes(tls.pem_cert(ca_cert))
        cert_file.write_bytes(tls.pem_cert(cert))
        key_file.write_bytes(tls.pem_key(key))
        self.emulator = Emulator(1, seats=50)
        self.httpd = serve(self.emulator, 0, str(cert_file), str(key_file))
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.url = self.emulator.base_url
        self.rt = self.emulator.runtimes["org1"]
        jwt_key, jwt_cert = tls.make_jwt_keypair("org1")
        self.private_key = tls.pem_key(jwt_key)
        self.certificate = tls.pem_cert(jwt_cert)
        self.rt.app = auth.ConnectedApp(org_id=self.rt.org.org_id, client_id="3MVG9seeded" + uuid.uuid4().hex,
                                        client_secret="S" + uuid.uuid4().hex.upper(),
                                        certificate_pem=self.certificate, run_as_username=self.rt.info["username"])
        self.seeded = self.rt.app
        org = dict(self.rt.info, name="org1", org_id=self.rt.org.org_id)
        self.admin = OrgClient({"url": self.url, "ca_file": str(self.ca_file)}, org)
        self.org_id = self.rt.org.org_id

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- apps ----------------------------------------------------------------------------------------
    @contextmanager
    def app(self, **values):
        """Serve an app with these fields (an ECA unless kind says otherwise) in place of the seeded one."""
        fields = dict(kind="external_client_app", name="Billing Sync ECA", client_id="3MVG9eca" + uuid.uuid4().hex)
        fields.update(values)
        self.rt.app = replace(self.seeded, **fields)
        try:
            yield self.rt.app
        finally:
            self.rt.app = self.seeded

    @contextmanager
    def settings(self, **values):
        assert self.admin.admin("POST", "settings", json=values).status_code == 200
        try:
            yield
        finally:
            defaults = {"soap_login_enabled": True, "oauth_password_flow_blocked": False,
                        "eca_run_as_user_needs_preauthorization": True}
            self.admin.admin("POST", "settings", json={k: defaults[k] for k in values})

    # -- users ---------------------------------------------------------------------------------------
    def user(self, profile: str = INTEGRATION_PROFILE) -> dict:
        """A new active user; "password" is what it logs in with: its password and security token (no trusted IP
        ranges in this org, oauth reference A.5)."""
        profile_id = self.admin.one(f"SELECT Id FROM Profile WHERE Name = '{profile}'")["Id"]
        values = user_values(profile_id, Username=f"oauth.{uuid.uuid4().hex[:10]}@example.test")
        r = self.admin.create("User", values)
        assert r.status_code == 201, r.text
        user_id = r.json()["id"]
        password = "Pa55-word-" + uuid.uuid4().hex[:8]
        assert self.admin.rest("POST", f"sobjects/User/{user_id}/password",
                               json={"NewPassword": password}).status_code == 204
        password += self.admin.security_token(values["Username"])
        return {"id": user_id, "username": values["Username"], "password": password, "profile_id": profile_id}

    def permission_set(self, assignee: str) -> str:
        name = "Preauth_" + uuid.uuid4().hex[:8]
        r = self.admin.create("PermissionSet", {"Name": name, "Label": name})
        assert r.status_code == 201, r.text
        ps_id = r.json()["id"]
        r = self.admin.create("PermissionSetAssignment", {"AssigneeId": assignee, "PermissionSetId": ps_id})
        assert r.status_code == 201, r.text
        return ps_id

    def history(self, user_id: str) -> list[dict]:
        return self.admin.query("SELECT UserId, LoginTime, LoginType, LoginSubType, Status, Application, ApiType, "
                                "ApiVersion, SourceIp, LoginUrl FROM LoginHistory "
                                f"WHERE UserId = '{user_id}'")["records"]

    # -- wire ----------------------------------------------------------------------------------------
    def token(self, data: dict, **kw) -> requests.Response:
        return requests.post(f"{self.url}/services/oauth2/token", data=data, verify=str(self.ca_file), timeout=30,
                             **kw)

    def jwt_login(self, app: auth.ConnectedApp, username: str) -> requests.Response:
        claims = {"iss": app.client_id, "sub": username, "aud": self.url, "exp": int(time.time()) + 180}
        return self.token({"grant_type": JWT_GRANT,
                           "assertion": jwt.encode(claims, self.private_key, algorithm="RS256")})

    def cc_login(self, app: auth.ConnectedApp, secret: str | None = None) -> requests.Response:
        return self.token({"grant_type": "client_credentials"}, auth=(app.client_id, secret or app.client_secret))

    def soap_login(self, username: str, password: str, version: str = "62.0") -> requests.Response:
        return requests.post(f"{self.url}/services/Soap/u/{version}", data=soap_login_envelope(username, password),
                             headers={"SOAPAction": "login", "Content-Type": "text/xml"}, verify=str(self.ca_file),
                             timeout=30)

    def get(self, path: str, token: str | None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = path if path.startswith("http") else self.url + path
        return requests.get(url, headers=headers, verify=str(self.ca_file), timeout=30, **kw)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    environment = Env(tmp_path_factory.mktemp("oauth_logins"))
    yield environment
    environment.close()


# -- JWT bearer ------------------------------------------------------------------------------------------


def test_jwt_admin_approved_app_admits_users_by_permission_set(env):
    holder, other = env.user(), env.user()
    ps_id = env.permission_set(holder["id"])
    with env.app(admin_approved_only=True, permission_set_ids=frozenset({ps_id})) as app:
        ok = env.jwt_login(app, holder["username"])
        assert ok.status_code == 200, ok.text
        refused = env.jwt_login(app, other["username"])
    assert refused.status_code == 400 and refused.json() == NOT_ADMIN_APPROVED


def test_jwt_admin_approved_app_admits_users_by_profile(env):
    integration, standard = env.user(), env.user("Standard User")
    with env.app(admin_approved_only=True, profile_ids=frozenset({integration["profile_id"]})) as app:
        assert env.jwt_login(app, integration["username"]).status_code == 200
        refused = env.jwt_login(app, standard["username"])
    assert refused.status_code == 400 and refused.json() == NOT_ADMIN_APPROVED


def test_jwt_self_authorize_eca_is_refused_as_never_approved(env):
    user = env.user()
    with env.app(admin_approved_only=False) as app:
        r = env.jwt_login(app, user["username"])
    assert r.status_code == 400 and r.json() == NOT_APPROVED


def test_jwt_needs_a_certificate_and_an_active_user(env):
    user = env.user()
    with env.app(certificate_pem=b"") as app:
        r = env.jwt_login(app, user["username"])
    assert r.status_code == 400 and r.json() == {"error": "invalid_client",
                                                 "error_description": "jwt bearer flow not enabled"}
    assert env.admin.rest("PATCH", f"sobjects/User/{user['id']}", json={"IsActive": False}).status_code == 204
    with env.app(admin_approved_only=True, profile_ids=frozenset({user["profile_id"]})) as app:
        r = env.jwt_login(app, user["username"])
    assert r.status_code == 400 and r.json() == NOT_APPROVED
    assert [row["Status"] for row in env.history(user["id"])] == ["User is Inactive"]


def test_jwt_unknown_consumer_key(env):
    user = env.user()
    r = env.jwt_login(replace(env.seeded, client_id="3MVG9-no-such-app"), user["username"])
    assert r.status_code == 400 and r.json() == {"error": "invalid_client_id",
                                                 "error_description": "client identifier invalid"}


# -- client credentials -----------------------------------------------------------------------------------


def test_client_credentials_error_bodies(env):
    api_only, standard = env.user(), env.user("Standard User")
    r = env.cc_login(replace(env.seeded, client_id="3MVG9-no-such-app"))
    assert r.status_code == 400 and r.json() == {"error": "invalid_client_id",
                                                 "error_description": "client identifier invalid"}
    r = env.cc_login(env.seeded, secret="wrong")
    assert r.status_code == 400 and r.json() == {"error": "invalid_client",
                                                 "error_description": "invalid client credentials"}
    with env.app(run_as_username=api_only["username"], client_credentials_enabled=False) as app:
        r = env.cc_login(app)
    assert r.status_code == 400 and r.json() == {"error": "invalid_client",
                                                 "error_description": "client credentials flow not enabled"}
    with env.app(run_as_username="") as app:
        r = env.cc_login(app)
    assert r.status_code == 400 and r.json() == NO_RUN_AS
    with env.app(run_as_username="ops@example.test") as app:  # an e-mail address, not a username (A.1, 3P)
        assert env.cc_login(app).json() == NO_RUN_AS
    with env.app(run_as_username=standard["username"]) as app:  # not API Only
        r = env.cc_login(app)
    assert r.status_code == 400 and r.json() == NO_RUN_AS
    with env.app(run_as_username=api_only["username"]) as app:
        assert env.cc_login(app).status_code == 200


def test_client_credentials_inactive_run_as_user(env):
    run_as = env.user()
    assert env.admin.rest("PATCH", f"sobjects/User/{run_as['id']}", json={"IsActive": False}).status_code == 204
    with env.app(run_as_username=run_as["username"]) as app:
        r = env.cc_login(app)
    assert r.status_code == 400 and r.json() == NO_RUN_AS
    assert [(row["Status"], row["LoginSubType"]) for row in env.history(run_as["id"])] == [
        ("User is Inactive", "OauthClientCredentials")]


def test_client_credentials_run_as_user_of_admin_approved_eca_needs_preauthorization(env):
    run_as = env.user()
    with env.app(run_as_username=run_as["username"], admin_approved_only=True) as app:
        refused = env.cc_login(app)
        assert refused.status_code == 400 and refused.json() == NOT_ADMIN_APPROVED
        with env.settings(eca_run_as_user_needs_preauthorization=False):
            assert env.cc_login(app).status_code == 200
    ps_id = env.permission_set(run_as["id"])
    with env.app(run_as_username=run_as["username"], admin_approved_only=True,
                 permission_set_ids=frozenset({ps_id})) as app:
        assert env.cc_login(app).status_code == 200
    # Connected apps: permitted-users policies don't apply to the execution user (A.3, Help).
    with env.app(kind="connected_app", run_as_username=run_as["username"], admin_approved_only=True) as app:
        assert env.cc_login(app).status_code == 200


def test_token_response_shape(env):
    run_as = env.user()
    with env.app(run_as_username=run_as["username"]) as app:
        body = env.cc_login(app).json()
    assert set(body) == {"access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"}
    assert "refresh_token" not in body  # A.4: client credentials issues no refresh token
    assert body["id"] == f"{env.url}/id/{env.org_id}/{run_as['id']}"
    assert body["instance_url"] == env.url and body["token_type"] == "Bearer" and body["issued_at"].isdigit()
    # [RESTREF] token response: HMAC-SHA256 with the client secret over the concatenated id and issued_at.
    expected = hmac.new(app.client_secret.encode(), (body["id"] + body["issued_at"]).encode(), hashlib.sha256)
    assert body["signature"] == base64.b64encode(expected.digest()).decode()


# -- identity URL and userinfo --------------------------------------------------------------------------


def test_identity_url_shape_and_access(env):
    user = env.user()
    with env.app(run_as_username=user["username"]) as app:
        token = env.cc_login(app).json()
    ident = env.get(token["id"], token["access_token"])
    assert ident.status_code == 200, ident.text
    body = ident.json()
    for key in ("id", "asserted_user", "user_id", "organization_id", "username", "nick_name", "display_name",
                "email", "email_verified", "first_name", "last_name", "timezone", "photos", "addr_street",
                "addr_city", "addr_state", "addr_country", "addr_zip", "mobile_phone", "mobile_phone_verified",
                "is_lightning_login_user", "status", "urls", "active", "user_type", "language", "locale",
                "utcOffset", "last_modified_date", "is_app_installed"):
        assert key in body, key
    assert body["id"] == token["id"] and body["asserted_user"] is True
    assert (body["user_id"], body["organization_id"], body["username"]) == (user["id"], env.org_id, user["username"])
    assert body["active"] is True and body["user_type"] == "STANDARD" and body["utcOffset"] == 0
    assert set(body["urls"]) == {"enterprise", "metadata", "partner", "rest", "sobjects", "search", "query",
                                 "recent", "tooling_soap", "tooling_rest", "profile", "feeds", "groups", "users",
                                 "feed_items", "feed_elements", "custom_domain"}
    assert body["urls"]["rest"] == f"{env.url}/services/data/v{{version}}/"  # literal {version} (A.4)
    versioned = env.get(token["id"], token["access_token"], params={"version": "62.0"}).json()
    assert versioned["urls"]["query"] == f"{env.url}/services/data/v62.0/query/"
    # Help "Identity URLs": an API token of the org may read another internal user's identity.
    admin = env.get(f"/id/{env.org_id}/{env.rt.info['user_id']}", token["access_token"])
    assert admin.status_code == 200 and admin.json()["asserted_user"] is False
    assert env.get(token["id"], None).status_code == 403
    bad = env.get(token["id"], "00Dbad!token")
    assert bad.status_code == 403 and bad.text == "Bad_OAuth_Token"
    assert env.get(f"/id/00D000000000001AAA/{user['id']}", token["access_token"]).status_code == 403
    assert env.get(f"/id/{env.org_id}/005000000000001AAA", token["access_token"]).status_code == 404
    assert [row["Status"] for row in env.history(user["id"])] == ["Success"]  # identity calls are no logins


def test_userinfo_shape(env):
    user = env.user()
    with env.app(run_as_username=user["username"]) as app:
        token = env.cc_login(app).json()
    r = env.get("/services/oauth2/userinfo", token["access_token"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"sub", "user_id", "organization_id", "preferred_username", "nickname", "name", "email",
                         "email_verified", "given_name", "family_name", "zoneinfo", "photos", "profile", "picture",
                         "address", "urls", "active", "user_type", "language", "locale", "utcOffset", "updated_at",
                         "is_app_installed"}
    assert body["sub"] == token["id"] and body["preferred_username"] == user["username"]
    assert body["family_name"] == "Integration" and body["zoneinfo"] == "GMT"
    assert env.get("/services/oauth2/userinfo", "nope").status_code == 403


# -- LoginHistory ----------------------------------------------------------------------------------------


def test_login_history_rows_for_successful_and_failed_logins(env):
    user = env.user()
    ps_id = env.permission_set(user["id"])
    with env.app(admin_approved_only=True, permission_set_ids=frozenset({ps_id}), run_as_username=user["username"],
                 name="Billing Sync ECA") as app:
        assert env.jwt_login(app, user["username"]).status_code == 200
        assert env.cc_login(app).status_code == 200
    assert env.soap_login(user["username"], "wrong-password").status_code == 500
    assert env.soap_login(user["username"], user["password"]).status_code == 200
    rows = env.history(user["id"])
    port = env.url.rsplit(":", 1)[1]
    assert [(r["LoginType"], r["LoginSubType"], r["Status"], r["Application"], r["ApiType"], r["ApiVersion"])
            for r in rows] == [
        ("Remote Access 2.0", None, "Success", "Billing Sync ECA", "N/A", "N/A"),
        ("Remote Access 2.0", "OauthClientCredentials", "Success", "Billing Sync ECA", "N/A", "N/A"),
        ("Partner Product", None, "Invalid Password", "N/A", "Soap Partner", "62.0"),
        ("Partner Product", None, "Success", "N/A", "Soap Partner", "62.0")]
    for row in rows:
        assert row["UserId"] == user["id"] and row["SourceIp"] == "127.0.0.1"
        assert row["LoginUrl"] == f"127.0.0.1:{port}" and row["LoginTime"].endswith("+0000")
    last = env.admin.one(f"SELECT LastLoginDate FROM User WHERE Id = '{user['id']}'")["LastLoginDate"]
    assert last is not None
    # Logins are the platform's writes, not a request's: the request log keeps them at 0.
    assert all(entry["writes"] == 0 for entry in env.admin.requests_log() if entry["kind"] == "login")


def test_login_history_row_for_refused_app_access(env):
    user = env.user()
    with env.app(admin_approved_only=True) as app:
        assert env.jwt_login(app, user["username"]).json() == NOT_ADMIN_APPROVED
    assert [(r["Status"], r["Application"]) for r in env.history(user["id"])] == [
        ("Failed: Not approved for access", "Billing Sync ECA")]


def test_login_history_filters_only_filterable_fields(env):
    for field in ("Status", "Application"):
        r = env.admin.rest("GET", "query", params={"q": f"SELECT Id FROM LoginHistory WHERE {field} = 'Success'"})
        assert r.status_code == 400
        error = r.json()[0]
        assert error["errorCode"] == "INVALID_FIELD"
        assert error["message"].endswith(f"field '{field}' can not be filtered in a query call")
    assert env.admin.query("SELECT Id FROM LoginHistory WHERE LoginType = 'Partner Product'")["totalSize"] >= 1
    r = env.admin.create("LoginHistory", {"Status": "Success"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


# -- the end of password logins ------------------------------------------------------------------------


def test_soap_login_stops_at_api_65(env):
    user = env.user()
    assert env.soap_login(user["username"], user["password"], "64.0").status_code == 200
    refused = env.soap_login(user["username"], user["password"], "65.0")
    assert refused.status_code == 500
    assert "<faultcode>sf:INVALID_OPERATION</faultcode>" in refused.text
    assert "not available in the API version specified (65.0)" in refused.text
    assert [r["ApiVersion"] for r in env.history(user["id"])] == ["64.0"]  # refused before the credentials


def test_soap_login_setting_off_refuses_login(env):
    user = env.user()
    with env.settings(soap_login_enabled=False):
        refused = env.soap_login(user["username"], user["password"])
    assert refused.status_code == 500 and "<sf:exceptionCode>INVALID_OPERATION</sf:exceptionCode>" in refused.text
    assert "enable SOAP API login()" in refused.text
    assert env.soap_login(user["username"], user["password"]).status_code == 200
    assert [r["Status"] for r in env.history(user["id"])] == ["Failed: SOAP API login() disabled", "Success"]


def test_password_flow_blocked(env):
    user = env.user()
    form = {"grant_type": "password", "client_id": env.seeded.client_id, "client_secret": env.seeded.client_secret,
            "username": user["username"], "password": user["password"]}
    with env.settings(oauth_password_flow_blocked=True):
        refused = env.token(form)
    assert refused.status_code == 400 and refused.json() == AUTH_FAILURE
    assert env.token(form).status_code == 200
    assert env.token(dict(form, password="wrong")).json() == AUTH_FAILURE
    rows = env.history(user["id"])
    assert [(r["Status"], r["LoginSubType"], r["Application"]) for r in rows] == [
        ("Username-Password Flow Disabled", "OauthUsernamePassword", "sfops emulator seeded app"),
        ("Success", "OauthUsernamePassword", "sfops emulator seeded app"),
        ("Invalid Password", "OauthUsernamePassword", "sfops emulator seeded app")]


def test_security_token_required_status(env):
    # The seeded administrator has a security token: the password alone is refused and says so.
    info = env.rt.info
    assert env.soap_login(info["username"], info["password"]).status_code == 500
    rows = env.history(info["user_id"])
    assert rows[-1]["Status"] == "Failed: API security token required"
