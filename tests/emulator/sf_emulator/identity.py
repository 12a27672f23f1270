"""The identity URL (`<login host>/id/<orgId>/<userId>`, the `id` of every token response) and the
OpenID Connect userinfo endpoint (`/services/oauth2/userinfo`).

Sources: salesforce_oauth_audit.md A.4 (response keys, 3P captures; `version` parameter from the
Mobile SDK guide "Using Identity URLs"); Salesforce Help "Identity URLs" (xcloud.remoteaccess_using_openid.htm)
for who may read whose identity. Values the sources do not give are marked UNVERIFIED here and in
docs/emulator.md ("Logins").
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Optional, Protocol
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .auth import HttpResponse
from .rest import MAX_VERSION
from .store import Org

IDENTITY_RE = re.compile(r"^/id/([A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)/([A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)/?$")
USERINFO_PATH = "/services/oauth2/userinfo"


class IdentitySession(Protocol):
    org: Org
    user_id: str


class IdentityBackend(Protocol):
    base_url: str

    def session(self, token: str) -> Optional[IdentitySession]: ...


def serves(path: str) -> bool:
    return path.startswith("/id/") or path.rstrip("/") == USERINFO_PATH


def _text(status: int, body: str) -> HttpResponse:
    # Plain-text error bodies: 3P (jsforce/jsforce#736) reports 403 "Bad OAuth Token" on the identity URL.
    return HttpResponse(status, body.encode(), "text/plain;charset=UTF-8")


def _json(body: dict) -> HttpResponse:
    return HttpResponse(200, json.dumps(body).encode(), "application/json;charset=UTF-8")


def _token(url: str, headers: dict[str, str]) -> str:
    """Mobile SDK guide: the token goes in the Authorization header or an oauth_token parameter."""
    authz = headers.get("authorization", "")
    if authz.lower().startswith("bearer "):
        return authz[7:].strip()
    params = parse_qs(urlsplit(url).query)
    return (params.get("oauth_token") or params.get("access_token") or [""])[0]


def handle(method: str, url: str, headers: dict[str, str],
           backend: IdentityBackend) -> tuple[HttpResponse, Optional[str]]:
    """Answer one identity or userinfo request; the org name is for the request log."""
    path = urlsplit(url).path
    userinfo = path.rstrip("/") == USERINFO_PATH
    if method not in (("GET", "HEAD", "POST") if userinfo else ("GET", "HEAD")):
        return _text(405, "Method Not Allowed"), None  # UNVERIFIED
    token = _token(url, headers)
    if not token:
        return _text(403, "Missing_OAuth_Token"), None  # UNVERIFIED text
    session = backend.session(token)
    if session is None:
        return _text(403, "Bad_OAuth_Token"), None  # 3P (jsforce/jsforce#736): 403 for an expired token
    org = session.org
    if userinfo:
        with org.lock:
            return _json(_userinfo(org, session.user_id, backend.base_url)), org.name
    found = IDENTITY_RE.match(path)
    if found is None:
        return _text(404, "Bad_Id"), org.name  # UNVERIFIED text
    org_id, user_id = found.groups()
    if org_id[:15] != org.org_id[:15]:
        return _text(403, "Wrong_Org"), org.name  # UNVERIFIED text: a token only reads its own org
    version = parse_qs(urlsplit(url).query).get("version", ["{version}"])[0]
    if version == "latest":
        version = f"{MAX_VERSION}.0"
    elif version != "{version}" and not re.fullmatch(r"\d+\.\d", version):
        return _text(406, "Invalid_Version"), org.name  # UNVERIFIED
    with org.lock:
        user = org.record("User", user_id)
        if user is None:
            return _text(404, "Bad_Id"), org.name  # UNVERIFIED text
        # Help "Identity URLs": a token may read another user's identity in its org when it has the api or
        # full scope (every emulated token has api), its user is API Enabled (checked at login) and internal
        # (every emulated user is STANDARD), and sharing lets it see the user (sharing is not modelled).
        return _json(_identity(org, user, session.user_id, backend.base_url, version)), org.name


def _urls(base: str, org_id: str, user_id: str, version: str) -> dict[str, str]:
    """A.4 key list; the URL shapes are UNVERIFIED beyond the keys, and the emulator serves only the
    partner, metadata, rest, sobjects and query ones. `{version}` stays literal unless asked for (A.4)."""
    data = f"{base}/services/data/v{version}"
    return {"enterprise": f"{base}/services/Soap/c/{version}/{org_id}",
            "metadata": f"{base}/services/Soap/m/{version}/{org_id}",
            "partner": f"{base}/services/Soap/u/{version}/{org_id}",
            "rest": f"{data}/", "sobjects": f"{data}/sobjects/", "search": f"{data}/search/",
            "query": f"{data}/query/", "recent": f"{data}/recent/",
            "tooling_soap": f"{base}/services/Soap/T/{version}/{org_id}", "tooling_rest": f"{data}/tooling/",
            "profile": f"{base}/{user_id}", "feeds": f"{data}/chatter/feeds", "groups": f"{data}/chatter/groups",
            "users": f"{data}/chatter/users", "feed_items": f"{data}/chatter/feed-items",
            "feed_elements": f"{data}/chatter/feed-elements", "custom_domain": base}


def _utc_offset_ms(time_zone: str) -> int:
    try:
        offset = _dt.datetime.now(ZoneInfo(time_zone)).utcoffset()
    except ZoneInfoNotFoundError:
        return 0
    return int(offset.total_seconds() * 1000) if offset else 0


def _photos(base: str) -> dict[str, str]:
    # Placeholders (UNVERIFIED shape); the emulator serves no photos.
    return {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"}


def _identity(org: Org, user: dict, caller_id: str, base: str, version: str) -> dict:
    """A.4 identity URL keys. email_verified true and the empty address/phone/status values are UNVERIFIED."""
    return {
        "id": f"{base}/id/{org.org_id}/{user['Id']}", "asserted_user": user["Id"] == caller_id,
        "user_id": user["Id"], "organization_id": org.org_id, "username": user["Username"],
        "nick_name": user.get("CommunityNickname"), "display_name": user.get("Name"), "email": user["Email"],
        "email_verified": True, "first_name": user.get("FirstName"), "last_name": user["LastName"],
        "timezone": user["TimeZoneSidKey"], "photos": _photos(base), "addr_street": None, "addr_city": None,
        "addr_state": None, "addr_country": None, "addr_zip": None, "mobile_phone": None,
        "mobile_phone_verified": False, "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": _urls(base, org.org_id, user["Id"], version), "active": bool(user["IsActive"]),
        "user_type": str(user.get("UserType") or "Standard").upper(),  # A.4: "STANDARD"
        "language": user["LanguageLocaleKey"], "locale": user["LocaleSidKey"],
        "utcOffset": _utc_offset_ms(user["TimeZoneSidKey"]),  # A.4: milliseconds
        "last_modified_date": user.get("LastModifiedDate"),  # Salesforce datetime format here: UNVERIFIED
        "is_app_installed": True,
    }


def _userinfo(org: Org, user_id: str, base: str) -> dict:
    """A.4 OIDC shape of the token's own user; `sub` is the identity URL."""
    user = org.record("User", user_id) or {}
    ident = _identity(org, user, user_id, base, "{version}")
    return {
        "sub": ident["id"], "user_id": ident["user_id"], "organization_id": org.org_id,
        "preferred_username": ident["username"], "nickname": ident["nick_name"], "name": ident["display_name"],
        "email": ident["email"], "email_verified": ident["email_verified"], "given_name": ident["first_name"],
        "family_name": ident["last_name"], "zoneinfo": ident["timezone"], "photos": ident["photos"],
        "profile": ident["urls"]["profile"], "picture": ident["photos"]["picture"], "address": {},
        "urls": ident["urls"], "active": ident["active"], "user_type": ident["user_type"],
        "language": ident["language"], "locale": ident["locale"], "utcOffset": ident["utcOffset"],
        "updated_at": ident["last_modified_date"], "is_app_installed": True,
    }
