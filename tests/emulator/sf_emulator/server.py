"""The HTTPS server: many orgs in one process, Salesforce routes, and the admin API.

Salesforce routes: SOAP partner login (/services/Soap/u/<ver>), OAuth token endpoint
(/services/oauth2/token), REST (/services/data/...), Metadata SOAP (/services/Soap/m/<ver>).
Admin API (no Salesforce URL starts like this): /__emulator__/... see docs/emulator.md.
"""
from __future__ import annotations

import ipaddress
import json
import random
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qsl, urlsplit

from . import auth, eca, identity, metadata, rules, bulk_load
from .model import SalesforceError
from .rest import RestApi, versions
from .schema import SYSTEM_PERMISSIONS, build_schema
from .seed import seed_org
from .store import Org, now_iso

SESSION_SECONDS = auth.SESSION_SECONDS  # sessionSecondsValid in the login result (reference 1.4)
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]  # reference 2.3
ADMIN_PREFIX = "/__emulator__/"
# Metadata SOAP endpoint: the version-only path simple-salesforce uses, and the login result's
# metadataServerUrl, which adds the 15-character org id (reference 1.4; 3P recorded logins). The session says
# which org a request is for; the id in the path is not checked (not modelled).
METADATA_PATH = re.compile(r"^/services/Soap/m/(\d+\.\d+)(?:/[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)?/?$")
FAULT_KINDS = ("unable_to_lock_row", "service_unavailable", "request_limit", "expire_session", "drop_connection",
               "concurrent_write")


@dataclass
class Session:
    org: Org
    user_id: str
    expires: float


@dataclass
class Fault:
    kind: str
    count: Optional[int] = None  # next N matching requests
    probability: Optional[float] = None
    rng: Optional[random.Random] = None
    method: Optional[str] = None  # only requests with this method
    path_contains: Optional[str] = None  # only requests whose path contains this
    body_contains: Optional[str] = None  # only requests whose body contains this (composite reads are POSTs too)
    when: str = "before"  # drop_connection only: "after" handles the request, then drops the reply

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.body_contains and self.body_contains not in body.decode("utf-8", "replace"):
            return False
        return not self.path_contains or self.path_contains in path


@dataclass
class OrgRuntime:
    """What the emulator keeps per org beside the records: log, faults, sessions, cursors, apps."""

    org: Org
    info: dict
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    cursors: dict = field(default_factory=dict)
    policies: metadata.PasswordPolicyStore = field(default_factory=metadata.PasswordPolicyStore)
    app: Optional[auth.ConnectedApp] = None
    standard_profile_policies: bool = True  # settings: standard_profile_password_policies
    login_policy: auth.LoginPolicy = field(default_factory=auth.LoginPolicy)  # settings: login flows (auth.py)
    eca_store: eca.EcaStore = field(default_factory=eca.EcaStore)  # External Client Apps, metadata ConnectedApps

    def __post_init__(self) -> None:
        self.org.profile_renamed = self.policies.profile_renamed
        # The metadata handler reaches the apps through the policy store; the seeded app's key counts for
        # the consumer keys' uniqueness.
        self.eca_store.bind(self.org, lambda: self.app)
        self.policies.eca = self.eca_store


class Emulator(auth.AuthBackend):
    def __init__(self, orgs: int, host: str = "127.0.0.1", latency_ms: int = 0, seats: int = 5) -> None:
        self.host = host
        self.latency = latency_ms / 1000.0
        self.schema = build_schema()
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.runtimes: dict[str, OrgRuntime] = {}
        self.base_url = ""
        self._login_org = threading.local()
        for i in range(1, orgs + 1):
            org = Org(f"org{i}", self.schema)
            org.username_registry = self.username_taken
            creds = seed_org(org, i, seats=seats)
            self.runtimes[org.name] = OrgRuntime(org, dict(creds, name=org.name, org_id=org.org_id))

    # -- AuthBackend -------------------------------------------------------------------------------
    def username_taken(self, username: str, except_id: str) -> bool:
        for rt in self.runtimes.values():
            for u in rt.org.tables["User"].values():
                if u["Username"] == username.lower() and u["Id"] != except_id:
                    return True
        return False

    def find_user(self, username: str) -> Optional[auth.LoginUser]:
        for rt in self.runtimes.values():
            org = rt.org
            with org.lock:
                user = org.find_one("User", Username=username)
                if user is None:
                    continue
                self._login_org.value = org.name
                login = org.find_one("UserLogin", UserId=user["Id"]) or {}
                perms = self.effective_permissions(org, user["Id"])
                org_row = org.tables["Organization"][org.org_id]
                return auth.LoginUser(
                    org_id=org.org_id, org_name=org_row["Name"], user_id=user["Id"],
                    org_sandbox=bool(org_row["IsSandbox"]), org_locale=org_row["DefaultLocaleSidKey"],
                    username=user["Username"], password=org.hidden["passwords"].get(user["Id"], ""),
                    security_token=org.hidden["tokens"].get(user["Id"], ""), is_active=bool(user["IsActive"]),
                    is_frozen=bool(login.get("IsFrozen")), email=user["Email"], full_name=user["Name"],
                    profile_id=user["ProfileId"], role_id=user.get("UserRoleId"), time_zone=user["TimeZoneSidKey"],
                    locale=user["LocaleSidKey"], language=user["LanguageLocaleKey"], user_type=user["UserType"],
                    api_enabled="ApiEnabled" in perms, password_expired=False, api_only="ApiUserOnly" in perms,
                    permission_set_ids=self.assigned_set_ids(org, user["Id"]))
        return None

    def effective_permissions(self, org: Org, user_id: str) -> set[str]:
        """Union of system permissions over every assigned set, the profile-owned one included."""
        perms: set[str] = set()
        for psa in org.find("PermissionSetAssignment", AssigneeId=user_id):
            ps = org.record("PermissionSet", psa.get("PermissionSetId") or "")
            if ps:
                perms |= rules.system_perms(ps)
        return perms

    def assigned_set_ids(self, org: Org, user_id: str) -> frozenset:
        """Permission sets a user holds, directly or through an assigned group (for app pre-authorisation)."""
        ids = set()
        for psa in org.find("PermissionSetAssignment", AssigneeId=user_id):
            if psa.get("PermissionSetId"):
                ids.add(psa["PermissionSetId"])
            if psa.get("PermissionSetGroupId"):
                ids |= {c["PermissionSetId"] for c in org.find("PermissionSetGroupComponent",
                                                                 PermissionSetGroupId=psa["PermissionSetGroupId"])}
        return frozenset(ids)

    def login_policy(self, org_id: str) -> auth.LoginPolicy:
        return self.runtime_by_org_id(org_id).login_policy

    def record_login(self, attempt: auth.LoginAttempt) -> None:
        """The platform's LoginHistory row for one attempt [oauth reference B.1], and User.LastLoginDate."""
        org = self.runtime_by_org_id(attempt.org_id).org
        with org.lock:
            writes = org.writes  # a system write, not a DML of any request: the request log keeps writes 0
            org.insert("LoginHistory", {
                "UserId": attempt.user_id, "LoginTime": now_iso(), "LoginType": attempt.login_type,
                "LoginSubType": attempt.sub_type, "Status": attempt.status, "Application": attempt.application,
                "ApiType": attempt.api_type, "ApiVersion": attempt.api_version,
                "SourceIp": attempt.caller.source_ip, "LoginUrl": attempt.caller.login_url,
                "OptionsIsPost": True}, system=True)
            org.writes = writes
            user = org.record("User", attempt.user_id)
            if user is not None and attempt.status == auth.SUCCESS:
                # Set in place: a login is no DML on User, so LastModifiedDate stays (UNVERIFIED).
                user["LastLoginDate"] = now_iso()

    def find_app(self, client_id: str) -> Optional[auth.ConnectedApp]:
        for rt in self.runtimes.values():
            if rt.app and rt.app.client_id == client_id:
                self._login_org.value = rt.org.name
                return rt.app
        for rt in self.runtimes.values():
            # External Client Apps (and Metadata API ConnectedApps) by consumer key, unique across orgs.
            app = rt.eca_store.app_for_key(client_id)
            if app is not None:
                self._login_org.value = rt.org.name
                return app
        return None

    def issue_session(self, org_id: str, user_id: str) -> str:
        rt = self.runtime_by_org_id(org_id)
        token = f"{org_id[:15]}!{auth_token()}"
        with self.lock:
            self.sessions[token] = Session(rt.org, user_id, time.time() + SESSION_SECONDS)
        return token

    def instance_url(self, org_id: str) -> str:
        return self.base_url

    def now(self) -> float:
        return time.time()

    def runtime_by_org_id(self, org_id: str) -> OrgRuntime:
        for rt in self.runtimes.values():
            if rt.org.org_id == org_id:
                return rt
        raise KeyError(org_id)

    def session(self, token: str) -> Optional[Session]:
        with self.lock:
            s = self.sessions.get(token)
            if s and s.expires < time.time():
                del self.sessions[token]
                s = None
            return s

    # -- settings (admin API) ----------------------------------------------------------------------
    def apply_settings(self, rt: OrgRuntime, body: dict) -> dict:
        org = rt.org
        with org.lock:
            for name, seats in (body.get("license_seats") or {}).items():
                row = (org.find_one("UserLicense", Name=name) or org.find_one("PermissionSetLicense", DeveloperName=name)
                       or org.find_one("PermissionSetLicense", MasterLabel=name))
                if row is None:
                    raise SalesforceError(400, "BAD_SETTING", f"no license named {name}")
                row["TotalLicenses"] = int(seats)
            if "mfa_for_api_logins" in body:
                # Modelled as Salesforce models it: the TwoFactorApi permission (which needs ForceTwoFactor,
                # reference 4) on every profile but System Administrator.
                on = bool(body["mfa_for_api_logins"])
                for profile in org.tables["Profile"].values():
                    if profile["Name"] != "System Administrator":
                        org.update("Profile", profile["Id"], {"PermissionsTwoFactorApi": on,
                                                              "PermissionsForceTwoFactor": on}, system=True)
            if "daily_api_limit" in body:
                org.api_max = int(body["daily_api_limit"])
            for name in ("soap_login_enabled", "oauth_password_flow_blocked",
                         "eca_run_as_user_needs_preauthorization"):  # login flows (docs/emulator.md, Logins)
                if name in body:
                    setattr(rt.login_policy, name, bool(body[name]))
            if "trusted_ip_ranges" in body:
                rt.login_policy.trusted_ip_ranges = _ip_ranges(body["trusted_ip_ranges"])
            if "standard_profile_password_policies" in body:
                rt.standard_profile_policies = bool(body["standard_profile_password_policies"])
            for name in eca.SETTINGS:  # External Client App settings (docs/emulator.md, External Client Apps)
                if name in body:
                    setattr(rt.eca_store.settings, name, bool(body[name]))
            if "is_sandbox" in body:
                # Organization.IsSandbox [OBJREF Organization]: the emulator serves every org at one address,
                # so a sandbox differs only in this flag (no test.salesforce.com login host).
                for row in org.tables["Organization"].values():
                    row["IsSandbox"] = bool(body["is_sandbox"])
            for name, status in (body.get("permission_set_group_status") or {}).items():
                group = org.find_one("PermissionSetGroup", DeveloperName=name)
                if group is None:
                    raise SalesforceError(400, "BAD_SETTING", f"no permission set group named {name}")
                group["Status"] = status
            rules.refresh_license_counts(org)
        return {"ok": True}


def _ip_ranges(value) -> tuple:
    """Setting trusted_ip_ranges: [{"start": "10.0.0.1", "end": "10.0.0.255"}, ...] (Network Access)."""
    ranges = []
    for item in value or []:
        start, end = ipaddress.ip_address(item["start"]), ipaddress.ip_address(item["end"])
        if start.version != end.version or start > end:
            raise ValueError(f"not an IP range: {item}")
        ranges.append((str(start), str(end)))
    return tuple(ranges)


def auth_token() -> str:
    import secrets
    return secrets.token_urlsafe(48).replace("-", "A").replace("_", "b")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sf_emulator"
    emulator: Emulator  # set on the subclass made by serve()

    def log_message(self, fmt, *args):  # quiet: the request log is the record
        pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET

    # -- plumbing ----------------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body, content_type: str = "application/json;charset=UTF-8",
              headers: Optional[dict] = None) -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _log(self, rt: Optional[OrgRuntime], path: str, status: int, kind: str, writes: int = 0) -> None:
        if rt is not None:
            with rt.org.lock:
                rt.requests.append({"method": self.command, "path": path, "status": status, "kind": kind,
                                    "writes": writes})

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        try:
            if path.startswith(ADMIN_PREFIX):
                return self._admin(path, body)
            if self.emulator.latency:
                time.sleep(self.emulator.latency)  # stands in for a real Salesforce round trip
            if re.match(r"^/services/Soap/u/\d+\.\d+/?$", path) and self.command == "POST":
                return self._soap_login(path, body)
            if path.rstrip("/") == "/services/oauth2/token" and self.command == "POST":
                return self._oauth(path, body)
            if identity.serves(path):
                return self._identity(path)
            metadata_path = METADATA_PATH.match(path)
            if metadata_path and self.command == "POST":
                return self._metadata(path, metadata_path.group(1), body)
            if path.rstrip("/") == "/services/data":
                return self._send(200, versions(self.emulator.base_url))
            if path.startswith("/services/data/"):
                return self._rest(path, body)
            self._send(404, SalesforceError(404, "NOT_FOUND", "The requested resource does not exist").rest_body())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- logins ------------------------------------------------------------------------------------
    def _soap_login(self, path: str, body: bytes) -> None:
        version = path.rstrip("/").rsplit("/", 1)[1]
        self.emulator._login_org.value = None
        resp, _org_id = auth.soap_login(body, version, self.emulator, self._caller())
        self._log(self.emulator.runtimes.get(self.emulator._login_org.value), path, resp.status, "login")
        self._send(resp.status, resp.body, resp.content_type)

    def _oauth(self, path: str, body: bytes) -> None:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.emulator._login_org.value = None
        resp, _org_id = auth.oauth_token(form, headers, self.emulator, self.emulator.base_url, self._caller())
        self._log(self.emulator.runtimes.get(self.emulator._login_org.value), path, resp.status, "login")
        self._send(resp.status, resp.body, resp.content_type)

    def _caller(self) -> auth.Caller:
        """LoginHistory.SourceIp and LoginUrl (the host the client called, as 3P rows show it)."""
        return auth.Caller(source_ip=self.client_address[0], login_url=self.headers.get("Host") or "")

    def _identity(self, path: str) -> None:
        """Identity URL and userinfo (identity.py); logged as kind "login", not counted as API requests."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        resp, org_name = identity.handle(self.command, self.path, headers, self.emulator)
        self._log(self.emulator.runtimes.get(org_name or ""), path, resp.status, "login")
        self._send(resp.status, resp.body, resp.content_type)

    # -- faults ------------------------------------------------------------------------------------
    def _fault(self, rt: OrgRuntime, path: str, token: Optional[str], body: bytes = b"") -> Optional[Fault]:
        with rt.org.lock:
            for fault in list(rt.faults):
                if not fault.matches(self.command, path, body):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        rt.faults.remove(fault)
                    return fault
                if fault.probability is not None and fault.rng.random() < fault.probability:
                    return fault
        return None

    def _fault_response(self, rt: OrgRuntime, fault: Fault, path: str, token: Optional[str]) -> bool:
        """Answer for a fault firing before the request is handled; False when it fires after, or when it
        only adds another client's request before this one (concurrent_write)."""
        if fault.kind == "concurrent_write":
            return False
        if fault.kind == "drop_connection":
            if fault.when == "after":
                return False
            self._log(rt, path, 0, "fault")
            self._drop()
            return True
        if fault.kind == "expire_session" and token:
            with self.emulator.lock:
                self.emulator.sessions.pop(token, None)
        status, code, message = {
            "unable_to_lock_row": (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 "
                                                              "records: " + rt.org.org_id),
            "service_unavailable": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again"),
            "request_limit": (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
            "expire_session": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
        }[fault.kind]
        self._log(rt, path, status, "fault")
        if "/Soap/m/" in path:
            self._send(500 if status != 503 else 503, metadata.soap_fault(f"sf:{code}", f"{code}: {message}"),
                       "text/xml; charset=utf-8")
        elif fault.kind == "expire_session":
            self._send(401, INVALID_SESSION)
        else:
            # A lock is a DML error (fields []); limit and availability refusals are request-level errors
            # without a fields key (3P: real REQUEST_LIMIT_EXCEEDED bodies, docs/emulator.md "Wire shapes").
            self._send(status, SalesforceError(status, code, message,
                                               [] if fault.kind == "unable_to_lock_row" else None).rest_body())
        return True

    def _over_daily_limit(self, rt, path: str) -> bool:
        """Reference 6 [LIMITS]: past the daily allowance every API request gets 403 REQUEST_LIMIT_EXCEEDED
        "TotalRequests Limit exceeded." (refused requests are not counted: UNVERIFIED)."""
        with rt.org.lock:
            over = rt.org.api_used >= rt.org.api_max
        if not over:
            return False
        code, message = "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
        self._log(rt, path, 403 if "/Soap/m/" not in path else 500, "rest" if "/Soap/m/" not in path else "metadata")
        if "/Soap/m/" in path:
            self._send(500, metadata.soap_fault(f"sf:{code}", f"{code}: {message}"), "text/xml; charset=utf-8")
        else:
            self._send(403, SalesforceError(403, code, message).rest_body())  # no fields key (3P bodies)
        return True

    # -- REST --------------------------------------------------------------------------------------
    def _rest(self, path: str, body: bytes) -> None:
        authz = self.headers.get("Authorization") or ""
        token = authz.split(" ", 1)[1].strip() if " " in authz else ""
        session = self.emulator.session(token) if token else None
        if session is None:
            rt = self._runtime_for_token(token)
            self._log(rt, path, 401, "rest")
            # Reference 2.3: exactly this body, HTTP 401, for a bad or expired token.
            return self._send(401, INVALID_SESSION)
        rt = self.emulator.runtimes[session.org.name]
        fault = self._fault(rt, path, token, body)
        if fault and self._fault_response(rt, fault, path, token):
            return
        if self._over_daily_limit(rt, path):
            return
        org = rt.org
        if fault and fault.kind == "concurrent_write":
            # Another client sends the same request just before this one (a second run of the same rollout):
            # it is carried out and logged as a fault; this request then meets what it wrote.
            other_status, other_writes, _payload, _headers, _usage = self._carry_out(rt, session, body)
            self._log(rt, path, other_status, "fault", other_writes)
        status, writes, payload, headers, usage = self._carry_out(rt, session, body)
        self._log(rt, path, status, "rest", writes)
        if fault and fault.kind == "drop_connection":  # when == "after": the work is done, the reply is lost
            return self._drop()
        # Reference 2.8: Sforce-Limit-Info on REST responses.
        self._send(status, payload, headers=dict(headers, **{"Sforce-Limit-Info": usage}))

    def _carry_out(self, rt: OrgRuntime, session: Session, body: bytes) -> tuple:
        """(status, writes, payload, headers, usage) of one REST request, a write in one transaction."""
        org = rt.org
        with org.lock:
            org.api_used += 1
            org.writes = 0
            org.current_user_id = session.user_id
            batch = _batch_size(self.headers.get("Sforce-Query-Options"))
            api = RestApi(org, session.user_id, rt.cursors, batch, rt.policies.get_policy_by_profile_name,
                          self.emulator.base_url)
            try:
                if self.command == "GET":
                    resp = api.handle(self.command, self.path, body)
                else:
                    with org.transaction():
                        resp = api.handle(self.command, self.path, body)
                status, payload, headers = resp.status, resp.body, resp.headers
            except SalesforceError as err:
                status, payload, headers = err.status, err.rest_body(), {}
            return status, org.writes, payload, headers, f"api-usage={org.api_used}/{org.api_max}"

    def _runtime_for_token(self, token: str) -> Optional[OrgRuntime]:
        prefix = token.split("!", 1)[0] if "!" in token else ""
        for rt in self.emulator.runtimes.values():
            if prefix and rt.org.org_id.startswith(prefix):
                return rt
        return None

    # -- Metadata SOAP -----------------------------------------------------------------------------
    def _metadata(self, path: str, version: str, body: bytes) -> None:
        found: dict = {}

        def resolve(session_id: str) -> Optional[metadata.MetadataContext]:
            session = self.emulator.session(session_id)
            found["token"] = session_id
            if session is None:
                found["rt"] = self._runtime_for_token(session_id)
                return None
            rt = self.emulator.runtimes[session.org.name]
            found["rt"] = rt
            org = rt.org
            org.current_user_id = session.user_id  # who makes the change (SetupAuditTrail, history.py)
            perms = self.emulator.effective_permissions(org, session.user_id)

            def find_profile(name: str) -> Optional[str]:
                row = org.find_one("Profile", Name=name)
                return row["Name"] if row else None

            def refuses_policy(name: str) -> bool:
                row = org.find_one("Profile", Name=name)
                return bool(row) and not rt.standard_profile_policies and rules.is_standard_profile(org, row)

            return metadata.MetadataContext(store=rt.policies, find_profile=find_profile,
                                            can_modify_metadata=bool(perms & {"ModifyMetadata", "ModifyAllData"}),
                                            api_version=version, now_millis=lambda: int(time.time() * 1000),
                                            refuses_policy=refuses_policy)

        session_id = metadata.session_id_of(body)
        rt = None
        if session_id:
            session = self.emulator.session(session_id)
            rt = self.emulator.runtimes[session.org.name] if session else self._runtime_for_token(session_id)
        fault = self._fault(rt, path, session_id, body) if rt else None
        if fault and self._fault_response(rt, fault, path, session_id):
            return
        if rt and self._over_daily_limit(rt, path):
            return
        if rt:
            with rt.org.lock:
                rt.org.api_used += 1
        if fault and fault.kind == "concurrent_write":  # another client's same call first (see _rest)
            before = rt.policies.version
            other = metadata.handle_metadata(body, resolve)
            self._log(rt, path, other.status, "fault", rt.policies.version - before)
        before = rt.policies.version if rt else 0
        resp = metadata.handle_metadata(body, resolve)
        rt = found.get("rt", rt)
        self._log(rt, path, resp.status, "metadata", (rt.policies.version - before) if rt else 0)
        if fault and fault.kind == "drop_connection":
            return self._drop()
        self._send(resp.status, resp.body, resp.content_type)

    # -- admin API ---------------------------------------------------------------------------------
    def _admin(self, path: str, body: bytes) -> None:
        parts = [p for p in path[len(ADMIN_PREFIX):].split("/") if p]
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return self._send(400, {"error": "body must be JSON"})
        if parts == ["orgs"] and self.command == "GET":
            return self._send(200, {"orgs": [rt.info | {"name": n} for n, rt in self.emulator.runtimes.items()]})
        if len(parts) != 3 or parts[0] != "orgs" or parts[1] not in self.emulator.runtimes:
            return self._send(404, {"error": f"unknown admin path {path}"})
        rt = self.emulator.runtimes[parts[1]]
        what = parts[2]
        if what == "requests" and self.command == "GET":
            with rt.org.lock:
                return self._send(200, {"requests": list(rt.requests)})
        if what == "requests" and self.command == "DELETE":
            with rt.org.lock:
                rt.requests.clear()
            return self._send(200, {"ok": True})
        if what == "security_token" and self.command == "GET":
            return self._admin_security_token(rt)
        if what == "faults" and self.command == "POST":
            return self._admin_fault(rt, payload)
        if what == "faults" and self.command == "DELETE":
            with rt.org.lock:
                rt.faults.clear()
            return self._send(200, {"ok": True})
        if what == "settings" and self.command == "POST":
            try:
                return self._send(200, self.emulator.apply_settings(rt, payload))
            except (SalesforceError, ValueError, TypeError, KeyError) as err:
                return self._send(400, {"error": str(err)})
        if what in bulk_load.PATHS and self.command == "POST":  # users, login history, audit trail (bulk_load.py)
            return self._send(*bulk_load.handle(self.emulator, rt, what, payload))
        return self._send(404, {"error": f"unknown admin path {path}"})

    def _admin_security_token(self, rt: OrgRuntime) -> None:
        """GET .../security_token?username=U: the user's security token, which Salesforce would e-mail to the user
        (no Salesforce API reads it, oauth reference A.5). Tests use it for password logins from outside the org's
        trusted IP ranges."""
        username = dict(parse_qsl(urlsplit(self.path).query)).get("username", "")
        with rt.org.lock:
            user = rt.org.find_one("User", Username=username)
            token = rt.org.hidden["tokens"].get(user["Id"]) if user else None
        if token is None:
            return self._send(404, {"error": f"no user {username!r} in {rt.org.name}"})
        self._send(200, {"username": user["Username"], "user_id": user["Id"], "security_token": token})

    def _admin_fault(self, rt: OrgRuntime, payload: dict) -> None:
        kind = payload.get("kind")
        if kind not in FAULT_KINDS:
            return self._send(400, {"error": f"kind must be one of {', '.join(FAULT_KINDS)}"})
        if ("count" in payload) == ("probability" in payload):
            return self._send(400, {"error": "give exactly one of count or probability"})
        fault = Fault(kind=kind, method=payload.get("method"), path_contains=payload.get("path_contains"),
                      body_contains=payload.get("body_contains"), when=payload.get("when", "before"))
        if "count" in payload:
            fault.count = int(payload["count"])
        else:
            fault.probability = float(payload["probability"])
            fault.rng = random.Random(payload.get("seed", 0))
        with rt.org.lock:
            rt.faults.append(fault)
        self._send(200, {"ok": True})


def _batch_size(header: Optional[str]) -> int:
    """Sforce-Query-Options: batchSize=N, 200 to 2000 (default 2000) [RESTREF Query Options header]."""
    m = re.search(r"batchSize=(\d+)", header or "")
    return min(max(int(m.group(1)), 200), 2000) if m else 2000


def serve(emulator: Emulator, port: int, cert_file: str, key_file: str) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"emulator": emulator})
    httpd = ThreadingHTTPServer((emulator.host, port), handler)
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    host = f"[{emulator.host}]" if ":" in emulator.host else emulator.host
    emulator.base_url = f"https://{host}:{httpd.server_address[1]}"
    return httpd


__all__ = ["Emulator", "serve", "SYSTEM_PERMISSIONS"]
