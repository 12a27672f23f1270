# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options, auth flow selection and the logins themselves.

Every login is done here against ``login_url`` (simple-salesforce can only log in at
``https://{domain}.salesforce.com``); the REST and Metadata clients then use the session it gives
(client.py). PyJWT is imported only when a JWT bearer login builds its assertion.
"""

from __future__ import annotations

import re
import time
import traceback
import xml.etree.ElementTree as ET
from typing import Any, Optional
from xml.sax.saxutils import escape as xml_escape
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.sfops.integration.plugins.module_utils.errors import (
    AuthenticationError,
    ConfigurationError,
    MissingLibraryError,
    SalesforceConnectionError,
)

try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    HTTPAdapter = object
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = "62.0"
# SOAP login() is not available at API 65.0 and later (reference 0): a password login goes to the
# highest version that still has it, and the session it returns is used at the requested version.
SOAP_LOGIN_MAX_VERSION = "64.0"
PASSWORD_RETIREMENT_HINT = (
    "Password logins to the API are being retired: SOAP API login() is off by default in orgs created from "
    "Winter '26 (Setup, User Interface, Enable SOAP API login()) and retired for every API version in Summer "
    "'27; the OAuth username-password flow is blocked by default in orgs created from Summer '23 (Setup, OAuth "
    "and OpenID Connect Settings, Allow OAuth Username-Password Flows). Log in with JWT bearer instead: "
    "client_id (an External Client App's consumer key) + username + private_key_file."
)
DEFAULT_TIMEOUT = 60
JWT_LIFETIME_SECONDS = 180

FLOW_ACCESS_TOKEN = "access_token"
FLOW_JWT = "jwt_bearer"
FLOW_CLIENT_CREDENTIALS = "client_credentials"
FLOW_PASSWORD = "soap_password"
FLOW_OAUTH_PASSWORD = "oauth_password"


def _option(type_: str, env: str, default: Any = None, no_log: bool = False, **extra: Any) -> dict:
    spec = dict(type=type_, fallback=(env_fallback, [env]), no_log=no_log, **extra)
    if default is not None:
        spec["default"] = default
    return spec


# The connection options every module accepts; documented in doc_fragments/connection.py.
# Explicit no_log=False on look-alike names keeps validate-modules' no-log-needed quiet on purpose.
CONNECTION_ARGUMENT_SPEC = dict(
    login_url=_option("str", "SF_LOGIN_URL", default=DEFAULT_LOGIN_URL),
    instance_url=_option("str", "SF_INSTANCE_URL"),
    username=_option("str", "SF_USERNAME"),
    password=_option("str", "SF_PASSWORD", no_log=True),
    security_token=_option("str", "SF_SECURITY_TOKEN", no_log=True),
    client_id=_option("str", "SF_CLIENT_ID"),
    client_secret=_option("str", "SF_CLIENT_SECRET", no_log=True),
    private_key=_option("str", "SF_PRIVATE_KEY", no_log=True),
    private_key_file=_option("path", "SF_PRIVATE_KEY_FILE", no_log=False),
    access_token=_option("str", "SF_ACCESS_TOKEN", no_log=True),
    api_version=_option("str", "SF_API_VERSION", default=DEFAULT_API_VERSION),
    validate_certs=_option("bool", "SF_VALIDATE_CERTS", default=True),
    ca_path=_option("path", "SF_CA_PATH"),
    timeout=_option("int", "SF_TIMEOUT", default=DEFAULT_TIMEOUT),
    max_retries=_option("int", "SF_MAX_RETRIES", default=4),
    retry_backoff=_option("float", "SF_RETRY_BACKOFF", default=1.0),
)

CONNECTION_MUTUALLY_EXCLUSIVE = [("private_key", "private_key_file")]

FLOW_HELP = (
    "Give one of: access_token + instance_url (an existing session); "
    "client_id + username + private_key or private_key_file (OAuth JWT bearer); "
    "client_id + client_secret (OAuth client credentials, no username/password); "
    "username + password [+ security_token] (SOAP login); "
    "client_id + client_secret + username + password [+ security_token] (OAuth password grant)."
)

CREDENTIAL_OPTIONS = ("username", "password", "security_token", "client_id", "client_secret",
                      "private_key", "private_key_file")


def _given(params: dict, *names: str) -> list[str]:
    return [name for name in names if params.get(name) not in (None, "")]


def choose_login_flow(params: dict) -> Optional[str]:
    """The login flow the credential options form, or None when none are given.

    Raises ConfigurationError naming the options when they form no flow or several.
    """
    given = set(_given(params, *CREDENTIAL_OPTIONS))
    if not given:
        return None

    def wrong_mix(reason: str) -> ConfigurationError:
        return ConfigurationError(
            "The connection options %s do not form a login: %s. %s"
            % (", ".join(sorted(given)), reason, FLOW_HELP))

    if given & {"private_key", "private_key_file"}:
        if len(given & {"private_key", "private_key_file"}) > 1:
            raise wrong_mix("private_key and private_key_file are mutually exclusive")
        extra = given & {"password", "security_token", "client_secret"}
        if extra:
            raise wrong_mix("JWT bearer uses client_id + username + private key, without %s" % ", ".join(sorted(extra)))
        missing = {"client_id", "username"} - given
        if missing:
            raise wrong_mix("JWT bearer also needs %s" % " and ".join(sorted(missing)))
        return FLOW_JWT

    if "security_token" in given and "password" not in given:
        raise wrong_mix("security_token is appended to password and needs username + password")

    if given & {"username", "password"}:
        if not {"username", "password"} <= given:
            raise wrong_mix("a password login needs both username and password")
        oauth = given & {"client_id", "client_secret"}
        if not oauth:
            return FLOW_PASSWORD
        if oauth != {"client_id", "client_secret"}:
            raise wrong_mix("the OAuth password grant needs both client_id and client_secret")
        return FLOW_OAUTH_PASSWORD

    if given == {"client_id", "client_secret"}:
        return FLOW_CLIENT_CREDENTIALS
    if given == {"client_id"}:
        raise wrong_mix("client_id alone is not a login; add client_secret (client credentials) "
                        "or username + private key (JWT bearer)")
    raise wrong_mix("client credentials needs both client_id and client_secret")


def choose_flow(params: dict) -> tuple[str, Optional[str]]:
    """(flow used now, flow used to log in again when the session expires or None)."""
    login_flow = choose_login_flow(params)
    if params.get("access_token"):
        if not params.get("instance_url"):
            raise ConfigurationError("access_token needs instance_url (the org's https://... My Domain URL). " + FLOW_HELP)
        return FLOW_ACCESS_TOKEN, login_flow
    if login_flow is None:
        raise ConfigurationError("No Salesforce credentials were given. " + FLOW_HELP)
    return login_flow, login_flow


def normalise_params(params: dict) -> dict:
    """Check URL and version shapes; returns a copy with trailing slashes and a leading 'v' removed."""
    params = dict(params)
    for name in ("login_url", "instance_url"):
        url = params.get(name)
        if not url:
            continue
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.path:
            raise ConfigurationError(
                "%s must be an https:// URL with only a host (and port), for example "
                "https://acme.my.salesforce.com; got %r" % (name, params[name]))
        params[name] = url
    version = str(params.get("api_version") or DEFAULT_API_VERSION).strip().lstrip("vV")
    if not re.match(r"^\d{2,3}\.0$", version):
        raise ConfigurationError("api_version must look like 62.0; got %r" % params.get("api_version"))
    params["api_version"] = version
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise ConfigurationError("timeout must be a positive number of seconds")
    return params


class RequestCounter:
    """Counts every HTTP request sent to Salesforce, logins and retries included."""

    def __init__(self) -> None:
        self.count = 0


class CountingAdapter(HTTPAdapter):
    """Transport adapter that counts requests and applies the default timeout."""

    def __init__(self, counter: RequestCounter, timeout: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counter = counter
        self.default_timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.counter.count += 1
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


def new_http_session(params: dict, counter: RequestCounter) -> Any:
    """A requests.Session that honours validate_certs, ca_path and timeout, and counts requests.

    The REST client and the Metadata (zeep) transport each get one, built the same way.
    """
    session = requests.Session()
    # Trust comes from our options only: with trust_env on, REQUESTS_CA_BUNDLE would override
    # session.verify (ca_path, validate_certs=false). Proxy variables are still honoured, resolved
    # here for the org's host so NO_PROXY applies.
    session.trust_env = False
    target = params.get("instance_url") or params.get("login_url") or DEFAULT_LOGIN_URL
    session.proxies.update(requests.utils.get_environ_proxies(target) or {})
    if not params.get("validate_certs", True):
        session.verify = False
    elif params.get("ca_path"):
        session.verify = params["ca_path"]
    else:
        session.verify = True
    adapter = CountingAdapter(counter, params.get("timeout") or DEFAULT_TIMEOUT)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class LoginResult:
    """What a login gives: where the org lives and the bearer token for it."""

    def __init__(self, instance_url: str, access_token: str, flow: str, org_id: Optional[str] = None,
                 user_id: Optional[str] = None) -> None:
        self.instance_url = instance_url
        self.access_token = access_token
        self.flow = flow
        self.org_id = org_id
        self.user_id = user_id


def transport_error(exc: Exception, url: str, action: str) -> SalesforceConnectionError:
    """Turn a requests exception into a SalesforceConnectionError without echoing the request."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.exceptions.SSLError):
        return SalesforceConnectionError(
            "TLS failure while trying to %s at %s: the server certificate could not be verified "
            "(%s). If the org sits behind a private CA, set ca_path to that CA bundle; "
            "validate_certs=false turns the check off (not for production)."
            % (action, host, _short_reason(exc)), url=host)
    if isinstance(exc, requests.exceptions.Timeout):
        return SalesforceConnectionError(
            "Timed out trying to %s at %s (timeout option: raise it for slow orgs): %s"
            % (action, host, _short_reason(exc)), url=host)
    return SalesforceConnectionError(
        "Could not reach %s to %s: %s. Check login_url/instance_url and the network."
        % (host, action, _short_reason(exc)), url=host)


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    # urllib3 messages are long chains; the last parenthesis holds the real reason.
    match = re.search(r"\(Caused by [A-Za-z]+\((.*)\)\)$", text)
    if match:
        text = match.group(1)
    return text[:300]


def _post(http: Any, url: str, action: str, **kwargs: Any) -> Any:
    try:
        return http.post(url, **kwargs)
    except requests.exceptions.RequestException as exc:
        raise transport_error(exc, url, action)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].split(":")[-1]


def _find_text(root: ET.Element, name: str) -> Optional[str]:
    for elem in root.iter():
        if _local_name(elem.tag) == name:
            return elem.text
    return None


def soap_login(http: Any, params: dict) -> LoginResult:
    """SOAP partner login(): username + password + security token appended."""
    url = "%s/services/Soap/u/%s" % (params["login_url"], soap_login_version(params["api_version"]))
    password = (params.get("password") or "") + (params.get("security_token") or "")
    envelope = (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com">'
        '<env:Header><urn:CallOptions><urn:client>sfops.integration</urn:client></urn:CallOptions></env:Header>'
        '<env:Body><urn:login><urn:username>%s</urn:username><urn:password>%s</urn:password></urn:login>'
        '</env:Body></env:Envelope>'
    ) % (xml_escape(params["username"], {'"': "&quot;"}), xml_escape(password, {'"': "&quot;"}))
    response = _post(http, url, "log in", data=envelope.encode("utf-8"),
                     headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"})
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        raise AuthenticationError(
            "SOAP login at %s answered HTTP %s with something that is not XML; is login_url a Salesforce login host?"
            % (params["login_url"], response.status_code), status=response.status_code)
    if response.status_code != 200:
        code = _find_text(root, "exceptionCode") or _find_text(root, "faultcode") or "LOGIN_FAILED"
        message = _find_text(root, "exceptionMessage") or _find_text(root, "faultstring") or ""
        raise AuthenticationError(
            "SOAP login as %s at %s failed: %s: %s. If the credentials are right, the org may have SOAP API "
            "login() switched off. %s"
            % (params["username"], params["login_url"], code.split(":")[-1], message, PASSWORD_RETIREMENT_HINT),
            status=response.status_code, error_code=code.split(":")[-1])
    session_id = _find_text(root, "sessionId")
    server_url = _find_text(root, "serverUrl")
    if not session_id or not server_url:
        raise AuthenticationError("SOAP login at %s answered without sessionId/serverUrl" % params["login_url"])
    parts = urlsplit(server_url)
    # Legacy pod hosts carry an "-api" suffix that the REST host does not (simple-salesforce does the same).
    host = re.sub(r"-api(?=\.)", "", parts.netloc, count=1)
    return LoginResult("%s://%s" % (parts.scheme, host), session_id, FLOW_PASSWORD,
                       org_id=_find_text(root, "organizationId"), user_id=_find_text(root, "userId"))


def soap_login_version(api_version: str) -> str:
    """The API version of the SOAP login URL: the requested one, at most SOAP_LOGIN_MAX_VERSION."""
    def as_tuple(version: str) -> tuple:
        return tuple(int(part) for part in version.split("."))
    return api_version if as_tuple(api_version) <= as_tuple(SOAP_LOGIN_MAX_VERSION) else SOAP_LOGIN_MAX_VERSION


def _token_request(http: Any, params: dict, flow: str, data: dict, auth: Optional[tuple] = None) -> LoginResult:
    url = "%s/services/oauth2/token" % params["login_url"]
    response = _post(http, url, "log in", data=data, auth=auth, headers={"Accept": "application/json"})
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        if isinstance(body, dict):
            reason = "%s: %s" % (body.get("error", "error"), body.get("error_description", ""))
        else:
            reason = "HTTP %s with a body that is not JSON" % response.status_code
        who = " as %s" % params["username"] if params.get("username") else ""
        if flow == FLOW_OAUTH_PASSWORD:
            reason += ". If the credentials are right, the org may block the OAuth username-password flow. " \
                + PASSWORD_RETIREMENT_HINT
        raise AuthenticationError(
            "OAuth %s login%s at %s failed: %s" % (flow.replace("_", " "), who, params["login_url"], reason),
            status=response.status_code, error_code=body.get("error") if isinstance(body, dict) else None)
    org_id = user_id = None
    # "id" is https://login.salesforce.com/id/<orgId>/<userId>
    match = re.search(r"/id/([^/]+)/([^/?]+)", body.get("id") or "")
    if match:
        org_id, user_id = match.group(1), match.group(2)
    instance_url = (body.get("instance_url") or params.get("instance_url") or "").rstrip("/")
    return LoginResult(instance_url, body["access_token"], flow, org_id=org_id, user_id=user_id)


def jwt_audience(login_url: str) -> str:
    """The JWT 'aud' claim.

    Salesforce documents https://login.salesforce.com / https://test.salesforce.com (or an
    Experience Cloud site) as the audience; a My Domain host is accepted as the token endpoint
    but, by widespread report (UNVERIFIED), not as aud. Anything else (an emulator, a site)
    uses login_url itself.
    """
    host = urlsplit(login_url).hostname or ""
    if host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith(".my.salesforce.com"):
        return "https://login.salesforce.com"
    return login_url


def import_jwt() -> Any:
    """PyJWT, imported only by the logins that sign a JWT; MissingLibraryError when it is not installed."""
    try:
        import jwt
    except ImportError:
        raise MissingLibraryError("pyjwt[crypto]", traceback.format_exc())
    return jwt


def build_jwt_assertion(params: dict, now: Optional[float] = None) -> str:
    """RS256 assertion: iss=client_id, sub=username, aud=login host, exp=now+3 minutes."""
    if params.get("private_key_file"):
        try:
            with open(params["private_key_file"], "rb") as handle:
                key = handle.read()
        except OSError as exc:
            raise ConfigurationError("Cannot read private_key_file %s: %s" % (params["private_key_file"], exc.strerror))
    else:
        key = params["private_key"].encode("utf-8")
    claims = dict(
        iss=params["client_id"],
        sub=params["username"],
        aud=jwt_audience(params["login_url"]),
        exp=int((now if now is not None else time.time()) + JWT_LIFETIME_SECONDS),
    )
    jwt = import_jwt()
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except NotImplementedError:  # PyJWT without cryptography has no RS256
        raise MissingLibraryError("pyjwt[crypto]", traceback.format_exc())
    except (ValueError, TypeError, jwt.exceptions.PyJWTError) as exc:
        source = "private_key_file %s" % params["private_key_file"] if params.get("private_key_file") else "private_key"
        raise ConfigurationError("%s is not a usable RSA private key in PEM format (%s)" % (source, type(exc).__name__))


def login(http: Any, params: dict, flow: str) -> LoginResult:
    """Log in with the given flow; returns a LoginResult."""
    if flow == FLOW_PASSWORD:
        return soap_login(http, params)
    if flow == FLOW_JWT:
        assertion = build_jwt_assertion(params)
        return _token_request(http, params, flow, dict(
            grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer", assertion=assertion))
    if flow == FLOW_CLIENT_CREDENTIALS:
        return _token_request(http, params, flow, dict(grant_type="client_credentials"),
                              auth=(params["client_id"], params["client_secret"]))
    if flow == FLOW_OAUTH_PASSWORD:
        return _token_request(http, params, flow, dict(
            grant_type="password", client_id=params["client_id"], client_secret=params["client_secret"],
            username=params["username"],
            password=(params.get("password") or "") + (params.get("security_token") or "")))
    raise ConfigurationError("Unknown login flow %r" % flow)
