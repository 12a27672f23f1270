"""Login endpoints: SOAP partner login and the OAuth token endpoint (reference 1.4, 1.5, 6)."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Optional, Protocol
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

PARTNER_NS = "urn:partner.soap.sforce.com"
LOGINS_PER_HOUR = 3600  # reference 6: more than 3,600 logins per user per hour are refused


@dataclass
class LoginUser:
    org_id: str
    org_name: str
    user_id: str
    username: str
    password: str
    security_token: str
    is_active: bool
    is_frozen: bool
    email: str
    full_name: str
    profile_id: str
    role_id: Optional[str]
    time_zone: str
    locale: str
    language: str
    user_type: str
    api_enabled: bool
    password_expired: bool


@dataclass
class ConnectedApp:
    org_id: str
    client_id: str
    client_secret: str
    certificate_pem: bytes
    run_as_username: str


class AuthBackend(Protocol):
    def find_user(self, username: str) -> Optional[LoginUser]: ...
    def find_app(self, client_id: str) -> Optional[ConnectedApp]: ...
    def issue_session(self, org_id: str, user_id: str) -> str: ...
    def instance_url(self, org_id: str) -> str: ...
    def now(self) -> float: ...


@dataclass
class HttpResponse:
    status: int
    body: bytes
    content_type: str


_recent_logins: dict[str, list[float]] = {}


def _rate_limited(username: str, now: float) -> bool:
    window = [t for t in _recent_logins.get(username, []) if t > now - 3600]
    window.append(now)
    _recent_logins[username] = window
    return len(window) > LOGINS_PER_HOUR


def _password_ok(user: Optional[LoginUser], password: str) -> bool:
    # Inactive and frozen users fail like a wrong password: Salesforce does not say why (reference 1.4).
    return bool(user and user.is_active and not user.is_frozen and user.api_enabled
                and password == user.password + user.security_token)


def _soap_fault(code: str, message: str) -> HttpResponse:
    # Reference 1.4: HTTP 500, faultcode sf:CODE, LoginFault detail with the literal sf: prefix.
    body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
            f'<faultcode>sf:{code}</faultcode><faultstring>{escape(code + ": " + message)}</faultstring><detail>'
            f'<sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
            f'<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail>'
            '</soapenv:Fault></soapenv:Body></soapenv:Envelope>')
    return HttpResponse(500, body.encode(), "text/xml; charset=utf-8")


INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


def soap_login(body: bytes, api_version: str, backend: AuthBackend) -> tuple[HttpResponse, Optional[str]]:
    try:
        root = ET.fromstring(body)
        username = root.find(f".//{{{PARTNER_NS}}}username").text or ""
        password = root.find(f".//{{{PARTNER_NS}}}password").text or ""
    except (ET.ParseError, AttributeError):
        return _soap_fault("INVALID_LOGIN", "Malformed login request"), None  # wording UNVERIFIED
    user = backend.find_user(username)
    if _rate_limited(username.lower(), backend.now()):
        # UNVERIFIED stand-in (reference 6): the partner enum has no LOGIN_RATE_EXCEEDED.
        return _soap_fault("INVALID_LOGIN", "Login rate exceeded"), None
    if not _password_ok(user, password):
        return _soap_fault("INVALID_LOGIN", INVALID_LOGIN), None
    token = backend.issue_session(user.org_id, user.user_id)
    base = backend.instance_url(user.org_id)
    info = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in (
        ("organizationId", user.org_id), ("organizationName", user.org_name), ("profileId", user.profile_id),
        ("roleId", user.role_id or ""), ("sessionSecondsValid", 7200), ("userEmail", user.email),
        ("userFullName", user.full_name), ("userId", user.user_id), ("userLanguage", user.language),
        ("userLocale", user.locale), ("userName", user.username), ("userTimeZone", user.time_zone),
        ("userType", user.user_type)))
    # Reference 1.4: unprefixed sessionId/serverUrl in the default partner namespace.
    xml = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
           'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
           '<soapenv:Body><loginResponse><result>'
           f'<metadataServerUrl>{base}/services/Soap/m/{api_version}/{user.org_id}</metadataServerUrl>'
           f'<passwordExpired>{str(user.password_expired).lower()}</passwordExpired><sandbox>false</sandbox>'
           f'<serverUrl>{base}/services/Soap/u/{api_version}/{user.org_id}</serverUrl>'
           f'<sessionId>{token}</sessionId><userId>{user.user_id}</userId><userInfo>{info}</userInfo>'
           '</result></loginResponse></soapenv:Body></soapenv:Envelope>')
    return HttpResponse(200, xml.encode(), "text/xml; charset=utf-8"), user.org_id


def _oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    return HttpResponse(status, json.dumps({"error": error, "error_description": description}).encode(),
                        "application/json;charset=UTF-8")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _token_response(backend: AuthBackend, user: LoginUser, login_host_url: str) -> HttpResponse:
    token = backend.issue_session(user.org_id, user.user_id)
    body = {"access_token": token, "instance_url": backend.instance_url(user.org_id),
            "id": f"{login_host_url}/id/{user.org_id}/{user.user_id}", "token_type": "Bearer",
            "issued_at": str(int(backend.now() * 1000)), "signature": base64.b64encode(token[-16:].encode()).decode(),
            "scope": "api"}
    return HttpResponse(200, json.dumps(body).encode(), "application/json;charset=UTF-8")


def oauth_token(form: dict[str, str], headers: dict[str, str], backend: AuthBackend,
                login_host_url: str) -> tuple[HttpResponse, Optional[str]]:
    grant = form.get("grant_type", "")
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return _jwt_bearer(form.get("assertion", ""), backend, login_host_url)
    if grant == "client_credentials":
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authz = headers.get("authorization", "")
        if authz.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(authz[6:]).decode().partition(":")
            except ValueError:
                return _oauth_error("invalid_client", "invalid client credentials"), None
        app = backend.find_app(client_id or "")
        if app is None or app.client_secret != secret:
            return _oauth_error("invalid_client", "invalid client credentials"), None
        user = backend.find_user(app.run_as_username)
        if user is None or not user.is_active:
            return _oauth_error("invalid_grant", "no client credentials user enabled"), None  # UNVERIFIED wording
        return _token_response(backend, user, login_host_url), user.org_id
    if grant == "password":
        app = backend.find_app(form.get("client_id", ""))
        if app is None:
            return _oauth_error("invalid_client_id", "client identifier invalid"), None
        if app.client_secret != form.get("client_secret"):
            return _oauth_error("invalid_client", "invalid client credentials"), None
        user = backend.find_user(form.get("username", ""))
        if user and _rate_limited(user.username, backend.now()):
            return _oauth_error("invalid_grant", "login rate exceeded"), None  # reference 6
        if not _password_ok(user, form.get("password", "")) or user.org_id != app.org_id:
            return _oauth_error("invalid_grant", "authentication failure"), None
        return _token_response(backend, user, login_host_url), user.org_id
    return _oauth_error("unsupported_grant_type", "grant type not supported"), None


def _jwt_bearer(assertion: str, backend: AuthBackend, login_host_url: str) -> tuple[HttpResponse, Optional[str]]:
    try:
        header_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(claims_b64))
        signature = _b64decode(sig_b64)
    except ValueError:
        return _oauth_error("invalid_grant", "invalid assertion"), None  # wording UNVERIFIED
    app = backend.find_app(str(claims.get("iss", "")))
    if app is None:
        return _oauth_error("invalid_client_id", "client identifier invalid"), None
    if header.get("alg") != "RS256":
        return _oauth_error("invalid_grant", "invalid assertion"), None
    try:
        cert = x509.load_pem_x509_certificate(app.certificate_pem)
        cert.public_key().verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(),
                                 hashes.SHA256())
    except InvalidSignature:
        return _oauth_error("invalid_grant", "invalid assertion"), None
    # Reference 1.5: aud is the login host, login.salesforce.com or test.salesforce.com.
    if claims.get("aud") not in (login_host_url, login_host_url.rstrip("/"), "https://login.salesforce.com",
                                 "https://test.salesforce.com"):
        return _oauth_error("invalid_grant", "audience is invalid"), None  # wording UNVERIFIED
    try:
        exp = float(claims.get("exp"))  # simple-salesforce sends exp as a string (reference 1.5)
    except (TypeError, ValueError):
        return _oauth_error("invalid_grant", "invalid assertion"), None
    if exp < backend.now():
        return _oauth_error("invalid_grant", "expired authorization code"), None  # wording UNVERIFIED
    user = backend.find_user(str(claims.get("sub", "")))
    if user is None or user.org_id != app.org_id or not user.is_active or user.is_frozen:
        return _oauth_error("invalid_grant", "user hasn't approved this consumer"), None
    if _rate_limited(user.username, time.time()):
        return _oauth_error("invalid_grant", "login rate exceeded"), None
    return _token_response(backend, user, login_host_url), user.org_id
