"""Login endpoints: SOAP partner login and the OAuth token endpoint, and the LoginHistory row each
attempt leaves behind.

Sources: salesforce_api.md 1.4, 1.5, 6; salesforce_oauth_audit.md §0 (SOAP login() retirement), A.3
(pre-authorisation), A.4 (token errors), A.5 (username-password flow), B.1 (LoginHistory). Every
choice the docs leave open is marked UNVERIFIED here and in docs/emulator.md ("Logins").
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Optional, Protocol
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

PARTNER_NS = "urn:partner.soap.sforce.com"
SESSION_SECONDS = 7200  # sessionSecondsValid: the org's session timeout (2 hours, reference 1.4)
LOGINS_PER_HOUR = 3600  # reference 6: more than 3,600 logins per user per hour are refused
SOAP_LOGIN_LAST_VERSION = 64.0  # §0: "SOAP API login() is not available in API versions 65.0 and later"

# LoginHistory.Status texts (free text, B.1). Documented ones first; the rest are marked.
SUCCESS = "Success"  # B.1
INVALID_PASSWORD = "Invalid Password"  # B.1 (LoginHistory captures spell it with a capital P)
TOKEN_REQUIRED = "Failed: API security token required"  # B.1, A.5
USER_INACTIVE = "User is Inactive"  # B.1 (3P)
USER_FROZEN = "User Is Frozen"  # B.1 (3P)
RATE_EXCEEDED = "Login Rate Exceeded"  # reference 6 (Help KB 000233559 shows this LoginHistory row)
PASSWORD_FLOW_DISABLED = "Username-Password Flow Disabled"  # A.5 (3P)
API_DISABLED = "Failed: OAuth API access disabled"  # ELF LOGIN_STATUS text (B.1); its use here is UNVERIFIED
NOT_APPROVED = "Failed: Not approved for access"  # a refused app access (Salesforce Help KB 000383352)
SOAP_LOGIN_DISABLED = "Failed: SOAP API login() disabled"  # UNVERIFIED: invented, no documented text

REMOTE_ACCESS = "Remote Access 2.0"  # B.1: LoginType label of OAuth 2.0 logins (JWT, client credentials, password)
PARTNER_PRODUCT = "Partner Product"  # B.1 (3P): LoginType label of SOAP partner login()


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
    api_only: bool = False  # PermissionsApiUserOnly effective (a client credentials run-as user needs it)
    org_sandbox: bool = False  # Organization.IsSandbox: the login result's <sandbox>
    org_locale: str = "en_US"  # Organization.DefaultLocaleSidKey: <orgDefaultCurrencyLocale>
    permission_set_ids: frozenset = frozenset()  # assigned sets (18-character), for app pre-authorisation


@dataclass
class ConnectedApp:
    """An OAuth client the token endpoint knows: the seeded connected app or an External Client App.

    eca.py builds one per External Client App from its metadata components; auth.py decides logins
    from these fields only.
    """
    org_id: str
    client_id: str  # consumer key
    client_secret: str  # consumer secret
    certificate_pem: bytes  # b"" when the app has no certificate: no JWT bearer flow
    run_as_username: str  # "" when no client credentials run-as user is set
    name: str = "sfops emulator seeded app"  # LoginHistory.Application for logins through this app
    kind: str = "connected_app"  # or "external_client_app"
    client_credentials_enabled: bool = True
    admin_approved_only: bool = False  # permitted users: AdminApprovedPreAuthorized
    permission_set_ids: frozenset = frozenset()  # 18-character ids of pre-authorised permission sets
    profile_ids: frozenset = frozenset()  # 18-character ids of pre-authorised profiles


@dataclass
class LoginPolicy:
    """An org's login settings (admin API `settings`). Defaults stand for an org created before
    Summer '23 / Winter '26, like the seeded ones."""
    soap_login_enabled: bool = True  # Setup "Enable SOAP API login()"; off in orgs created Winter '26+ (§0)
    # Setup > Network Access "Trusted IP Ranges" as (start, end) pairs: a password login from inside one needs no
    # security token (A.5 [H-TOKEN]). A new org has none, so every password login needs the token.
    trusted_ip_ranges: tuple = ()
    oauth_password_flow_blocked: bool = False  # on by default in orgs created Summer '23+ (A.5)
    eca_run_as_user_needs_preauthorization: bool = True  # A.3 conflict, strict reading by default (UNVERIFIED)


@dataclass
class Caller:
    """Where a login request came from, for LoginHistory.SourceIp and LoginUrl."""
    source_ip: str = ""
    login_url: str = ""  # host[:port] the client called (3P rows show "login.salesforce.com")


@dataclass
class LoginAttempt:
    """One LoginHistory row (B.1)."""
    org_id: str
    user_id: str
    status: str
    login_type: str
    caller: Caller
    sub_type: Optional[str] = None
    application: str = "N/A"
    api_type: str = "N/A"
    api_version: str = "N/A"


class AuthBackend(Protocol):
    def find_user(self, username: str) -> Optional[LoginUser]: ...
    def find_app(self, client_id: str) -> Optional[ConnectedApp]: ...
    def issue_session(self, org_id: str, user_id: str) -> str: ...
    def instance_url(self, org_id: str) -> str: ...
    def now(self) -> float: ...
    def login_policy(self, org_id: str) -> LoginPolicy: ...
    def record_login(self, attempt: LoginAttempt) -> None: ...


@dataclass
class HttpResponse:
    status: int
    body: bytes
    content_type: str


_recent_logins: dict[str, list[float]] = {}


def _rate_limited(username: str, now: float) -> bool:
    window = [t for t in _recent_logins.get(username.lower(), []) if t > now - 3600]
    window.append(now)
    _recent_logins[username.lower()] = window
    return len(window) > LOGINS_PER_HOUR


def trusted_ip(policy: LoginPolicy, source_ip: str) -> bool:
    """Is the caller inside one of the org's trusted IP ranges (Network Access)?"""
    try:
        ip = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(ipaddress.ip_address(start) <= ip <= ipaddress.ip_address(end)
               for start, end in policy.trusted_ip_ranges if ipaddress.ip_address(start).version == ip.version)


def _password_status(user: LoginUser, password: str, trusted: bool) -> Optional[str]:
    """None when the password is right (with the security token appended, or alone from a trusted IP range: A.5
    [H-TOKEN]), else the LoginHistory status. Every user has a token, the seeded administrator and users created
    through the API alike."""
    if password == user.password + user.security_token or (trusted and password == user.password):
        return None
    if password == user.password:
        return TOKEN_REQUIRED
    return INVALID_PASSWORD


def _user_status(user: LoginUser) -> Optional[str]:
    """None when the user may log in to the API at all, else the LoginHistory status."""
    if not user.is_active:
        return USER_INACTIVE
    if user.is_frozen:
        return USER_FROZEN
    if not user.api_enabled:
        return API_DISABLED
    return None


def _preauthorized(app: ConnectedApp, user: LoginUser) -> bool:
    """A.3: admin-approved apps admit users holding one of the app's permission sets or profiles.
    Compared on the 15-character form so either id length in the app's lists matches."""
    sets = {i[:15] for i in app.permission_set_ids}
    return (user.profile_id[:15] in {i[:15] for i in app.profile_ids}
            or any(ps[:15] in sets for ps in user.permission_set_ids))


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
# 3P (poanchen/poanchen.github.io _posts/2018-08-27-how-to-fix-login-must-use-security-token-in-Salesforce.md, and
# raw client errors that show the apostrophe as U+2019): the fault of a right password without the token.
TOKEN_MISSING = (INVALID_LOGIN + " Are you at a new location? When accessing Salesforce--either via a desktop client "
                 "or the API--from outside of your company\u2019s trusted networks, you must add a security token to "
                 "your password to log in. To get your new security token, log in to Salesforce. From your personal "
                 "settings, enter Reset My Security Token in the Quick Find box, then select Reset My Security Token.")
# 3P (forcedotcom/wsc#363): the fault a v65.0 login() gets.
SOAP_VERSION_REFUSED = ("The SOAP Login operation is not available in the API version specified ({version}). "
                        "Refer to the documentation for supported versions.")
# 3P (OpenFn/adaptors#1715, jsforce/jsforce#1771): the fault when the org has login() switched off.
SOAP_DISABLED = ("SOAP API login() is disabled by default in this org. Contact the org administrator to enable "
                 "SOAP API login().")


def soap_login(body: bytes, api_version: str, backend: AuthBackend,
               caller: Optional[Caller] = None) -> tuple[HttpResponse, Optional[str]]:
    caller = caller or Caller()
    if float(api_version) > SOAP_LOGIN_LAST_VERSION:
        # §0; refused before the credentials are read, so no LoginHistory row (UNVERIFIED).
        return _soap_fault("INVALID_OPERATION", SOAP_VERSION_REFUSED.format(version=api_version)), None
    try:
        root = ET.fromstring(body)
        username = root.find(f".//{{{PARTNER_NS}}}username").text or ""
        password = root.find(f".//{{{PARTNER_NS}}}password").text or ""
    except (ET.ParseError, AttributeError):
        return _soap_fault("INVALID_LOGIN", "Malformed login request"), None  # wording UNVERIFIED
    user = backend.find_user(username)

    def refuse(status: str, code: str = "INVALID_LOGIN", message: str = INVALID_LOGIN):
        if user is not None:
            # B.1: LoginType "Partner Product"; ApiType spelled like B.1's "Soap Enterprise" example,
            # Application "N/A": both UNVERIFIED.
            backend.record_login(LoginAttempt(user.org_id, user.user_id, status, PARTNER_PRODUCT, caller,
                                              api_type="Soap Partner", api_version=api_version))
        return _soap_fault(code, message), None

    if _rate_limited(username, backend.now()):
        # UNVERIFIED stand-in (reference 6): the partner enum has no LOGIN_RATE_EXCEEDED.
        return refuse(RATE_EXCEEDED, message="Login rate exceeded")
    if user is None:
        return _soap_fault("INVALID_LOGIN", INVALID_LOGIN), None
    if not backend.login_policy(user.org_id).soap_login_enabled:
        return refuse(SOAP_LOGIN_DISABLED, "INVALID_OPERATION", SOAP_DISABLED)
    # Wrong password, inactive, frozen or API-disabled: one fault, Salesforce does not say why (reference 1.4).
    status = _password_status(user, password, trusted_ip(backend.login_policy(user.org_id), caller.source_ip))
    if status == TOKEN_REQUIRED:
        # Its own fault (partner ExceptionCode LOGIN_MUST_USE_SECURITY_TOKEN, reference 2.2; text 3P).
        return refuse(status, "LOGIN_MUST_USE_SECURITY_TOKEN", TOKEN_MISSING)
    status = status or _user_status(user)
    if status:
        return refuse(status)
    backend.record_login(LoginAttempt(user.org_id, user.user_id, SUCCESS, PARTNER_PRODUCT, caller,
                                      api_type="Soap Partner", api_version=api_version))
    token = backend.issue_session(user.org_id, user.user_id)
    base = backend.instance_url(user.org_id)
    org15 = user.org_id[:15]
    # Reference 1.4: unprefixed sessionId/serverUrl in the default partner namespace. Both URLs end in the
    # 15-character org id, as in logins recorded from real orgs (3P simple-salesforce
    # simple_salesforce/tests/__init__.py LOGIN_RESPONSE_SUCCESS).
    xml = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
           'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
           f'<metadataServerUrl>{base}/services/Soap/m/{api_version}/{org15}</metadataServerUrl>'
           f'<passwordExpired>{str(user.password_expired).lower()}</passwordExpired>'
           f'<sandbox>{str(user.org_sandbox).lower()}</sandbox>'
           f'<serverUrl>{base}/services/Soap/u/{api_version}/{org15}</serverUrl>'
           f'<sessionId>{token}</sessionId><userId>{user.user_id}</userId><userInfo>{user_info_xml(user)}</userInfo>'
           '</result></loginResponse></soapenv:Body></soapenv:Envelope>')
    return HttpResponse(200, xml.encode(), "text/xml; charset=utf-8"), user.org_id


def user_info_xml(user: LoginUser) -> str:
    """GetUserInfoResult: every element of the partner WSDL, in its order (3P jsforce/jsforce
    src/api/soap/schema.ts, generated from the partner WSDL). Values as in logins recorded from real orgs (3P
    simple-salesforce simple_salesforce/tests/__init__.py): an emulated org is a single-currency USD org without
    person accounts, so the currency elements are fixed and userDefaultCurrencyIsoCode is nil; a user without a
    role gets <roleId xsi:nil="true"/>."""
    values: list[tuple[str, object]] = [
        ("accessibilityMode", False), ("chatterExternal", False), ("currencySymbol", "$"),
        ("orgAttachmentFileSizeLimit", 5242880), ("orgDefaultCurrencyIsoCode", "USD"),
        ("orgDefaultCurrencyLocale", user.org_locale), ("orgDisallowHtmlAttachments", False),
        ("orgHasPersonAccounts", False), ("organizationId", user.org_id), ("organizationMultiCurrency", False),
        ("organizationName", user.org_name), ("profileId", user.profile_id), ("roleId", user.role_id),
        ("sessionSecondsValid", SESSION_SECONDS), ("userDefaultCurrencyIsoCode", None), ("userEmail", user.email),
        ("userFullName", user.full_name), ("userId", user.user_id), ("userLanguage", user.language),
        ("userLocale", user.locale), ("userName", user.username), ("userTimeZone", user.time_zone),
        ("userType", user.user_type), ("userUiSkin", "Theme3")]
    out = []
    for name, value in values:
        if value is None:
            out.append(f'<{name} xsi:nil="true"/>')
        else:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f"<{name}>{escape(text)}</{name}>")
    return "".join(out)


# -- OAuth token endpoint -------------------------------------------------------------------------------


def _oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    return HttpResponse(status, json.dumps({"error": error, "error_description": description}).encode(),
                        "application/json;charset=UTF-8")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _token_response(backend: AuthBackend, app: ConnectedApp, user: LoginUser, login_host_url: str) -> HttpResponse:
    """Reference 1.5 success JSON. No refresh_token: none of the emulated flows issues one (A.4)."""
    token = backend.issue_session(user.org_id, user.user_id)
    identity_url = f"{login_host_url}/id/{user.org_id}/{user.user_id}"
    issued_at = str(int(backend.now() * 1000))
    # signature: base64 HMAC-SHA256 keyed with the consumer secret over id + issued_at, so a client can check
    # that the identity URL was not altered ([RESTREF] token response: "containing the concatenated ID and issued_at").
    signature = base64.b64encode(hmac.new(app.client_secret.encode(), (identity_url + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    body = {"access_token": token, "signature": signature, "scope": "api",
            "instance_url": backend.instance_url(user.org_id), "id": identity_url, "token_type": "Bearer",
            "issued_at": issued_at}
    return HttpResponse(200, json.dumps(body).encode(), "application/json;charset=UTF-8")


class _OAuthLogin:
    """One token request: answers with an error or a token, and writes the LoginHistory row once the
    app is authenticated and the user is known (before that, Salesforce cannot tie the attempt to a
    user of the app's org: no row, UNVERIFIED)."""

    def __init__(self, backend: AuthBackend, caller: Caller, login_host_url: str, sub_type: Optional[str]):
        self.backend, self.caller, self.login_host_url, self.sub_type = backend, caller, login_host_url, sub_type

    def record(self, app: ConnectedApp, user: LoginUser, status: str) -> None:
        # B.1: LoginType "Remote Access 2.0", Application = the app's name; ApiType/ApiVersion "N/A" UNVERIFIED.
        self.backend.record_login(LoginAttempt(user.org_id, user.user_id, status, REMOTE_ACCESS, self.caller,
                                               sub_type=self.sub_type, application=app.name))

    def refuse(self, app: ConnectedApp, user: LoginUser, status: str, error: str,
               description: str) -> tuple[HttpResponse, None]:
        self.record(app, user, status)
        return _oauth_error(error, description), None

    def grant(self, app: ConnectedApp, user: LoginUser) -> tuple[HttpResponse, str]:
        self.record(app, user, SUCCESS)
        return _token_response(self.backend, app, user, self.login_host_url), user.org_id


def oauth_token(form: dict[str, str], headers: dict[str, str], backend: AuthBackend, login_host_url: str,
                caller: Optional[Caller] = None) -> tuple[HttpResponse, Optional[str]]:
    caller = caller or Caller()
    grant = form.get("grant_type", "")
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        # B.1 lists no JWT-bearer LoginSubType: left empty.
        return _jwt_bearer(form.get("assertion", ""), _OAuthLogin(backend, caller, login_host_url, None))
    if grant == "client_credentials":
        return _client_credentials(form, headers, _OAuthLogin(backend, caller, login_host_url,
                                                              "OauthClientCredentials"))
    if grant == "password":
        return _password(form, _OAuthLogin(backend, caller, login_host_url, "OauthUsernamePassword"))
    return _oauth_error("unsupported_grant_type", "grant type not supported"), None


def _app_access(app: ConnectedApp, user: LoginUser) -> Optional[tuple[str, str]]:
    """Permitted users for a user that logs in as itself (A.1 isAdminApproved, A.3, A.4); None = admitted."""
    if app.admin_approved_only:
        if not _preauthorized(app, user):
            return "invalid_app_access", "user is not admin approved to access this app"
        return None
    if app.kind == "external_client_app":
        # "All users may self-authorize": a user approves an app in the browser (authorize page), which
        # the emulator does not serve, so no user has ever approved an ECA and JWT is refused (A.4).
        return "invalid_grant", "user hasn't approved this consumer"
    # The seeded connected app counts as approved by every user of its org (the emulator has no approval page).
    return None


def _jwt_bearer(assertion: str, login: _OAuthLogin) -> tuple[HttpResponse, Optional[str]]:
    backend = login.backend
    try:
        header_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(claims_b64))
        signature = _b64decode(sig_b64)
    except ValueError:
        return _oauth_error("invalid_grant", "invalid assertion"), None  # wording 3P (docs/emulator.md)
    app = backend.find_app(str(claims.get("iss", "")))
    if app is None:
        return _oauth_error("invalid_client_id", "client identifier invalid"), None  # A.4
    if not app.certificate_pem:
        # A.2: the certificate is what enables JWT bearer; the answer without one is UNVERIFIED.
        return _oauth_error("invalid_client", "jwt bearer flow not enabled"), None
    if header.get("alg") != "RS256":
        return _oauth_error("invalid_grant", "invalid assertion"), None
    try:
        cert = x509.load_pem_x509_certificate(app.certificate_pem)
        cert.public_key().verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(),
                                 hashes.SHA256())
    except (InvalidSignature, ValueError):
        return _oauth_error("invalid_grant", "invalid assertion"), None
    # Reference 1.5: aud is the login host, login.salesforce.com or test.salesforce.com.
    if claims.get("aud") not in (login.login_host_url, login.login_host_url.rstrip("/"),
                                 "https://login.salesforce.com", "https://test.salesforce.com"):
        return _oauth_error("invalid_grant", "audience is invalid"), None  # wording 3P (docs/emulator.md)
    try:
        exp = float(claims.get("exp"))  # simple-salesforce sends exp as a string (reference 1.5)
    except (TypeError, ValueError):
        return _oauth_error("invalid_grant", "invalid assertion"), None
    if exp < backend.now():
        return _oauth_error("invalid_grant", "expired authorization code"), None  # wording 3P (docs/emulator.md)
    user = backend.find_user(str(claims.get("sub", "")))
    if user is None or user.org_id != app.org_id:
        return _oauth_error("invalid_grant", "user hasn't approved this consumer"), None  # A.4
    if _rate_limited(user.username, backend.now()):
        return login.refuse(app, user, RATE_EXCEEDED, "invalid_grant", "login rate exceeded")  # reference 6
    status = _user_status(user)
    if status:
        # Inactive, frozen, API-disabled: the same answer as an unknown user (UNVERIFIED).
        return login.refuse(app, user, status, "invalid_grant", "user hasn't approved this consumer")
    refused = _app_access(app, user)
    if refused:
        return login.refuse(app, user, NOT_APPROVED, *refused)
    return login.grant(app, user)


def _client_credentials(form: dict[str, str], headers: dict[str, str],
                        login: _OAuthLogin) -> tuple[HttpResponse, Optional[str]]:
    backend = login.backend
    client_id, secret = form.get("client_id"), form.get("client_secret")
    authz = headers.get("authorization", "")
    if authz.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(authz[6:]).decode().partition(":")
        except ValueError:
            return _oauth_error("invalid_client", "invalid client credentials"), None
    app = backend.find_app(client_id or "")
    if app is None:
        return _oauth_error("invalid_client_id", "client identifier invalid"), None  # A.4
    if app.client_secret != secret:
        return _oauth_error("invalid_client", "invalid client credentials"), None  # A.4
    if not app.client_credentials_enabled:
        # A.4: the description is 3P; the error value is UNVERIFIED (one 3P fixture uses invalid_client).
        return _oauth_error("invalid_client", "client credentials flow not enabled"), None
    no_user = ("invalid_grant", "no client credentials user enabled")  # A.4
    user = backend.find_user(app.run_as_username) if app.run_as_username else None
    if user is None or user.org_id != app.org_id:
        return _oauth_error(*no_user), None  # 3P (A.1): a run-as "user" that is no username gets this too
    if app.kind == "external_client_app" and not user.api_only:
        # A.2: clientCredentialsFlowUser "must have the API Only permission"; the answer is UNVERIFIED. Checked
        # for ECAs only: the seeded connected app runs as the administrator (simplified, docs/emulator.md).
        return _oauth_error(*no_user), None
    if _rate_limited(user.username, backend.now()):
        return login.refuse(app, user, RATE_EXCEEDED, "invalid_grant", "login rate exceeded")
    status = _user_status(user)
    if status:
        return login.refuse(app, user, status, *no_user)  # UNVERIFIED: same answer as no run-as user
    # A.3: Help says permitted-users policies don't apply to the execution user; 3P ECA reports say they do.
    # Connected apps follow Help; ECAs follow the reports unless the org setting turns that off (UNVERIFIED).
    if (app.kind == "external_client_app" and app.admin_approved_only and not _preauthorized(app, user)
            and backend.login_policy(app.org_id).eca_run_as_user_needs_preauthorization):
        return login.refuse(app, user, NOT_APPROVED, "invalid_app_access",
                            "user is not admin approved to access this app")
    return login.grant(app, user)


def _password(form: dict[str, str], login: _OAuthLogin) -> tuple[HttpResponse, Optional[str]]:
    backend = login.backend
    app = backend.find_app(form.get("client_id", ""))
    if app is None:
        return _oauth_error("invalid_client_id", "client identifier invalid"), None
    if app.client_secret != form.get("client_secret"):
        return _oauth_error("invalid_client", "invalid client credentials"), None
    failure = ("invalid_grant", "authentication failure")  # reference 1.5, A.4
    user = backend.find_user(form.get("username", ""))
    if user is None or user.org_id != app.org_id:
        return _oauth_error(*failure), None
    if _rate_limited(user.username, backend.now()):
        return login.refuse(app, user, RATE_EXCEEDED, "invalid_grant", "login rate exceeded")  # reference 6
    if backend.login_policy(app.org_id).oauth_password_flow_blocked:
        return login.refuse(app, user, PASSWORD_FLOW_DISABLED, *failure)  # A.5 (3P)
    trusted = trusted_ip(backend.login_policy(app.org_id), login.caller.source_ip)
    status = _password_status(user, form.get("password", ""), trusted) or _user_status(user)
    if status:
        return login.refuse(app, user, status, *failure)  # a missing token too (A.4)
    if app.admin_approved_only and not _preauthorized(app, user):
        return login.refuse(app, user, NOT_APPROVED, "invalid_app_access",
                            "user is not admin approved to access this app")  # A.1 isAdminApproved, A.4
    return login.grant(app, user)
