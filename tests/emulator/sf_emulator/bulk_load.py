"""Admin API to seed an org's history: users in bulk, LoginHistory rows, SetupAuditTrail rows.

Salesforce has no such API (LoginHistory and SetupAuditTrail are written by the platform only, and
users are created one DML at a time); tests and the benchmark use it to build an org with months of
history in one request. Requests (POST, JSON body; docs/emulator.md, "Admin API"):

``/__emulator__/orgs/<name>/users``: ``{"users": [{"username", "last_name", "profile", ...}]}``. Each
entry may carry ``"count": n``: then it stands for n users, and ``{n}`` in its strings is replaced by
1..n. Optional per user: ``first_name``, ``email``, ``alias``, ``active`` (true), ``password`` (the
user can then log in; its security token comes from ``security_token``), ``permission_sets`` (API
names to assign), ``created_days_ago``, ``last_login_days_ago``, ``password_changed_days_ago``,
``frozen``. Users are created with the platform's user rules (username unique across all orgs,
profile-owned assignment, UserLogin row); seats of the profile's license are raised when short.

``/__emulator__/orgs/<name>/login_history``: ``{"rows": [{"username" or "user_id", "status"
("Success"), "login_type" ("Remote Access 2.0"), "sub_type", "application" ("N/A"), "api_type",
"api_version", "source_ip", "login_url", "days_ago" or "time", "count"}]}``. ``days_ago`` may be
``[from, to]``: the entry's ``count`` rows are spread evenly over that range. A successful row moves
the user's LastLoginDate forward (``"update_last_login": false`` leaves it).

``/__emulator__/orgs/<name>/setup_audit_trail``: ``{"rows": [{"action", "section", "display",
"days_ago" or "time", "by" (a username; the org's administrator when left out), "delegate_user",
"count"}]}``.

Each answers ``{"inserted": N, ...}``, or 400 ``{"error": ...}`` naming the bad value (nothing is
written then).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import secrets
from typing import Any, Optional

from . import dates, history, rules
from .model import SalesforceError
from .schema import LOGIN_SUB_TYPES, LOGIN_TYPES
from .store import ID_FACTORY, Org

PATHS = ("users", "login_history", "setup_audit_trail")
MAX_ROWS = 500000  # one request


class SeedError(ValueError):
    pass


def handle(emulator, rt, what: str, payload: Any) -> tuple[int, dict]:
    """(status, body) of one seeding request on the org of ``rt``."""
    if not isinstance(payload, dict):
        return 400, {"error": "the body must be a JSON object"}
    org = rt.org
    try:
        with org.lock:
            previous = org.current_user_id
            org.current_user_id = None  # the platform writes: no audit rows, no access checks
            try:
                with org.transaction():
                    if what == "users":
                        return 200, seed_users(emulator, org, payload.get("users"))
                    if what == "login_history":
                        return 200, seed_login_history(org, payload.get("rows"), payload.get("update_last_login", True))
                    return 200, seed_setup_audit_trail(org, rt.info.get("user_id"), payload.get("rows"))
            finally:
                org.current_user_id = previous
    except (SeedError, SalesforceError) as error:
        return 400, {"error": error.message if isinstance(error, SalesforceError) else str(error)}


# -- helpers ----------------------------------------------------------------------------------------------


def _expand(entries: Any, kind: str) -> list[dict]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SeedError(f"{kind} must be a list of objects")
    out = []
    for index, entry in enumerate(entries):
        count = entry.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise SeedError(f"{kind}[{index}].count must be a positive integer")
        if "{n}" in str(entry) and kind == "users":
            out += [_fill(entry, n) for n in range(1, count + 1)]
        else:
            out += [dict(entry, _index=index, _n=n, _count=count) for n in range(count)]
        if len(out) > MAX_ROWS:
            raise SeedError(f"at most {MAX_ROWS} {kind} per request")
    return out


def _fill(value: Any, n: int) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", str(n))
    if isinstance(value, list):
        return [_fill(v, n) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, n) for k, v in value.items() if k != "count"}
    return value


def _moment(entry: dict, where: str, now: _dt.datetime) -> str:
    """The stored datetime of an entry: ``time`` (ISO), or ``days_ago`` (a number, or [from, to] spread by count)."""
    if entry.get("time") is not None:
        moment = dates.parse(str(entry["time"]))
        if moment is None:
            raise SeedError(f"{where}.time is not an ISO date/time: {entry['time']}")
        return dates.iso(moment)
    days = entry.get("days_ago", 0)
    if isinstance(days, list) and len(days) == 2 and all(isinstance(d, (int, float)) for d in days):
        first, last = days
        count = entry.get("_count", 1)
        days = first + (last - first) * (entry.get("_n", 0) + 0.5) / count if count > 1 else (first + last) / 2.0
    if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 0:
        raise SeedError(f"{where}.days_ago must be a number of days (or [from, to]), not {days!r}")
    return dates.iso(now - _dt.timedelta(days=days))


def _days_ago(value: Any, where: str, now: _dt.datetime) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise SeedError(f"{where} must be a number of days, not {value!r}")
    return dates.iso(now - _dt.timedelta(days=value))


def _user_id(org: Org, entry: dict, where: str, cache: dict) -> str:
    if entry.get("user_id"):
        user = org.record("User", str(entry["user_id"]))
        if user is None:
            raise SeedError(f"{where}.user_id: no user {entry['user_id']} in {org.name}")
        return user["Id"]
    username = str(entry.get("username") or "").lower()
    if username not in cache:
        user = org.find_one("User", Username=username) if username else None
        if user is None:
            raise SeedError(f"{where}.username: no user {username!r} in {org.name}")
        cache[username] = user["Id"]
    return cache[username]


# -- users ------------------------------------------------------------------------------------------------


def seed_users(emulator, org: Org, entries: Any) -> dict:
    users = _expand(entries, "users")
    now = dates.now()
    profiles = {p["Name"].lower(): p for p in org.tables["Profile"].values()}
    needed: dict[str, int] = {}
    for index, entry in enumerate(users):
        profile = profiles.get(str(entry.get("profile") or "").lower())
        if profile is None:
            raise SeedError(f"users[{index}].profile: no profile {entry.get('profile')!r}")
        if entry.get("active", True):
            needed[profile["UserLicenseId"]] = needed.get(profile["UserLicenseId"], 0) + 1
    rules.refresh_license_counts(org)
    for license_id, count in needed.items():
        license = org.record("UserLicense", license_id)
        if license["UsedLicenses"] + count > license["TotalLicenses"]:
            license["TotalLicenses"] = license["UsedLicenses"] + count  # seats raised to fit (admin API only)
    sets = {ps["Name"].lower(): ps for ps in org.tables["PermissionSet"].values() if not ps.get("IsOwnedByProfile")}
    created = []
    with _counts_once(org):
        for index, entry in enumerate(users):
            created.append(_seed_user(org, index, entry, profiles, sets, now))
    return {"inserted": len(created), "users": created}


@contextlib.contextmanager
def _counts_once(org: Org):
    """License counts are derived after every DML (rules.refresh_license_counts, a pass over every user); for a
    bulk seed they are derived once at the end instead (seats were raised to fit beforehand)."""
    real = rules.refresh_license_counts
    rules.refresh_license_counts = lambda other: None if other is org else real(other)  # other orgs as ever
    try:
        yield
    finally:
        rules.refresh_license_counts = real
        real(org)


def _seed_user(org: Org, index: int, entry: dict, profiles: dict, sets: dict, now: _dt.datetime) -> dict:
    where = f"users[{index}]"
    username = str(entry.get("username") or "")
    values = {"Username": username, "LastName": entry.get("last_name") or username.split("@")[0],
              "FirstName": entry.get("first_name"), "Email": entry.get("email") or "seeded@example.test",
              "Alias": (entry.get("alias") or username.split("@")[0])[:8], "TimeZoneSidKey": "GMT",
              "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
              "ProfileId": profiles[str(entry["profile"]).lower()]["Id"], "IsActive": bool(entry.get("active", True)),
              # a nickname of our own spares the platform's search for a free one among all users
              "CommunityNickname": f"{username.split('@')[0][:27]}.{secrets.token_hex(6)}"}
    try:
        user_id = org.insert("User", values, system=True)
    except SalesforceError as error:
        raise SeedError(f"{where}: {error.error_code}: {error.message}") from None
    row = org.tables["User"][user_id]
    created_at = _days_ago(entry.get("created_days_ago"), where + ".created_days_ago", now)
    if created_at:
        row["CreatedDate"] = row["LastModifiedDate"] = row["SystemModstamp"] = created_at
    row["LastLoginDate"] = _days_ago(entry.get("last_login_days_ago"), where + ".last_login_days_ago", now)
    if entry.get("password"):
        org.hidden["passwords"][user_id] = str(entry["password"])
        row["LastPasswordChangeDate"] = (_days_ago(entry.get("password_changed_days_ago"),
                                                   where + ".password_changed_days_ago", now)
                                         or row["CreatedDate"])
    elif entry.get("password_changed_days_ago") is not None:
        row["LastPasswordChangeDate"] = _days_ago(entry["password_changed_days_ago"],
                                                  where + ".password_changed_days_ago", now)
    if entry.get("frozen"):
        login = org.find_one("UserLogin", UserId=user_id)
        login["IsFrozen"] = True
    for name in entry.get("permission_sets") or []:
        ps = sets.get(str(name).lower())
        if ps is None:
            raise SeedError(f"{where}.permission_sets: no permission set {name!r}")
        org.insert("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": ps["Id"]}, system=True)
    return {"username": row["Username"], "id": user_id}


# -- LoginHistory -------------------------------------------------------------------------------------------


def seed_login_history(org: Org, entries: Any, update_last_login: bool = True) -> dict:
    rows = _expand(entries, "rows")
    now = dates.now()
    cache = {u["Username"]: u["Id"] for u in org.tables["User"].values()}  # usernames are stored lower-case
    new_rows, last_login = [], {}
    for entry in rows:
        where = f"rows[{entry['_index']}]"
        user_id = _user_id(org, entry, where, cache)
        login_type = entry.get("login_type", "Remote Access 2.0")
        if login_type not in LOGIN_TYPES:
            raise SeedError(f"{where}.login_type: {login_type!r} is not a LoginType value ({', '.join(LOGIN_TYPES)})")
        sub_type = entry.get("sub_type")
        if sub_type is not None and sub_type not in LOGIN_SUB_TYPES:
            raise SeedError(f"{where}.sub_type: {sub_type!r} is not a LoginSubType value")
        status = str(entry.get("status", "Success"))
        when = _moment(entry, where, now)
        soap = login_type == "Partner Product"
        new_rows.append({"Id": ID_FACTORY.new("0Ya"), "UserId": user_id, "LoginTime": when, "LoginType": login_type,
                         "LoginSubType": sub_type, "Status": status,
                         "Application": entry.get("application", "N/A"),
                         "ApiType": entry.get("api_type", "Soap Partner" if soap else "N/A"),
                         "ApiVersion": str(entry.get("api_version", "64.0" if soap else "N/A")),
                         "SourceIp": entry.get("source_ip", "203.0.113.10"),
                         "LoginUrl": entry.get("login_url", "login.salesforce.com"), "OptionsIsPost": True,
                         "OptionsIsGet": False, "Browser": entry.get("browser"), "Platform": entry.get("platform")})
        if status == "Success" and when > last_login.get(user_id, ""):
            last_login[user_id] = when
    table = org.tables["LoginHistory"]
    for row in new_rows:
        table[row["Id"]] = row
    if update_last_login:
        for user_id, when in last_login.items():
            user = org.tables["User"][user_id]
            if (user.get("LastLoginDate") or "") < when:
                user["LastLoginDate"] = when
    return {"inserted": len(new_rows)}


# -- SetupAuditTrail ------------------------------------------------------------------------------------------


def seed_setup_audit_trail(org: Org, admin_id: Optional[str], entries: Any) -> dict:
    rows = _expand(entries, "rows")
    now = dates.now()
    cache: dict = {}
    for entry in rows:
        where = f"rows[{entry['_index']}]"
        if not entry.get("action"):
            raise SeedError(f"{where}.action is required")
        by = _user_id(org, {"username": entry["by"]}, where + ".by", cache) if entry.get("by") else admin_id
        history.add_row(org, str(entry["action"]), entry.get("section"), str(entry.get("display") or ""),
                        when=_moment(entry, where, now), by=by, delegate=entry.get("delegate_user"))
    return {"inserted": len(rows)}
