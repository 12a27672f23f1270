"""Object access of the calling user: one table, object -> operation -> the user permissions that allow it.

Only what the references document is in the table (each rule names its source); every other object is
open to every user, as before (record sharing and field-level security are not modelled). Reads are
checked on every SOQL query, subqueries and semi-joins included (soql.py asks ``readable_rows``); the
same table holds the write operations ("create", "edit", "delete"), checked by every REST write of a record
(store.py ``insert``/``update``/``delete``; what the platform writes by itself, ``system=True``, is not).

A refusal is HTTP 403 ``INSUFFICIENT_ACCESS`` naming the object and the permissions that would allow
it. Reference 2.3 documents that code (403) for the user password resource; that Salesforce answers a
query on an object the user may not read with it, and the message text, are UNVERIFIED
(docs/emulator.md, "Access to objects").

Requests run by the platform itself (seeding, the admin API, logins) have no calling user
(``Org.current_user_id`` is None) and are never checked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .model import SalesforceError
from .schema import SYSTEM_PERMISSIONS


@dataclass(frozen=True)
class Rule:
    """Any one of ``any_of`` allows the operation. ``own_rows``: without them the user still gets the rows
    whose field of that name is the user's own id (from API ``own_rows_from`` on), instead of a refusal."""

    any_of: tuple
    source: str
    own_rows: Optional[str] = None
    own_rows_from: float = 0.0


def _writes(any_of: tuple, source: str) -> dict:
    """The same rule for create, edit and delete."""
    return {operation: Rule(any_of, source) for operation in ("create", "edit", "delete")}


# [H-PERMSET-CREATE] "To create permission sets: Manage Profiles and Permission Sets"; reference 3.9
# [OBJREF PermissionSetGroup] "Needs Manage Profiles and Permission Sets to edit". A set's object and field
# permissions, its setup entity access, groups and their components, and profiles are edited under the same permission.
_EDIT_PERMISSION_SETS = _writes(("ManageProfilesPermissionsets",), "[H-PERMSET-CREATE]")

RULES: dict[str, dict[str, Rule]] = {
    # Oauth reference B.1 [OBJREF LoginHistory]: "only users with Manage Users or Monitor Login History
    # permissions ... in API version 37.0 and later, all users can retrieve their own login history records".
    "LoginHistory": {"read": Rule(("ManageUsers", "MonitorLoginHistory"), "oauth reference B.1",
                                  own_rows="UserId", own_rows_from=37.0)},
    # Oauth reference B.2 [H-SAT]: "To view audit trail history: View Setup and Configuration".
    "SetupAuditTrail": {"read": Rule(("ViewSetup",), "oauth reference B.2")},
    # Oauth reference B.3 [OBJREF]: PermissionSetAssignment needs View Setup and Configuration, Assign Permission
    # Sets or Manage Users; PermissionSet needs View Setup, Assign Permission Sets, Manage Profiles and Permission
    # Sets or Manage Session Permission Set Activations.
    "PermissionSetAssignment": {"read": Rule(("ViewSetup", "AssignPermissionSets", "ManageUsers"),
                                             "oauth reference B.3")},
    "PermissionSet": {"read": Rule(("ViewSetup", "AssignPermissionSets", "ManageProfilesPermissionsets",
                                    "ManageSessionPermissionSets"), "oauth reference B.3")},
    # Oauth reference B.4 [FIELDREF UserLogin]: "you need the UserPermissions.ManageUsers permission".
    "UserLogin": {"read": Rule(("ManageUsers",), "oauth reference B.4")},
    # Reference 3.6 [OBJREF ObjectPermissions]: "Needs View Setup and Configuration".
    "ObjectPermissions": {"read": Rule(("ViewSetup",), "reference 3.6"), **_EDIT_PERMISSION_SETS},
    "FieldPermissions": _EDIT_PERMISSION_SETS,
    "SetupEntityAccess": _EDIT_PERMISSION_SETS,
    "PermissionSetGroupComponent": _EDIT_PERMISSION_SETS,
    "PermissionSetGroup": _EDIT_PERMISSION_SETS,
    "Profile": _EDIT_PERMISSION_SETS,
    # [OBJREF PermissionSetLicenseAssign] "Special Access Rules": View Setup and Configuration or Assign Permission
    # Sets. [H-PSL-ASSIGN] "To assign a permission set license: Manage Users".
    "PermissionSetLicenseAssign": {"read": Rule(("ViewSetup", "AssignPermissionSets"), "[OBJREF PermissionSetLicenseAssign]"),
                                   **_writes(("ManageUsers",), "[H-PSL-ASSIGN]")},
    # [H-ADD-USER] "To create users: Manage Internal Users" (older Help: Manage Users, which includes it).
    "User": _writes(("ManageInternalUsers", "ManageUsers"), "[H-ADD-USER]"),
}
RULES["PermissionSet"].update(_EDIT_PERMISSION_SETS)
# [H-PSL-SETS] "To assign a permission set to users: Assign Permission Sets".
RULES["PermissionSetAssignment"].update(_writes(("AssignPermissionSets",), "[H-PSL-SETS]"))
# [OBJREF UserLogin] (freezing a user is an update of UserLogin) needs Manage Users, as reading it does.
RULES["UserLogin"].update(_writes(("ManageUsers",), "oauth reference B.4"))

# Labels of permissions the emulator's schema does not carry (reference 4 names it in a dependency row).
EXTRA_LABELS = {"ManageSessionPermissionSets": "Manage Session Permission Set Activations"}
VERBS = {"read": "read", "create": "create", "edit": "edit", "delete": "delete"}


def label(permission: str) -> str:
    return "%s (%s)" % (SYSTEM_PERMISSIONS.get(permission) or EXTRA_LABELS.get(permission, permission), permission)


_CACHE: dict = {}


def permissions_of(org, user_id: str) -> set:
    """The user's system permissions: the profile's set, assigned sets and the sets of assigned groups.

    Kept for the rest of the request (a subquery asks once per parent row) until the request writes something."""
    from .eca import user_permissions  # eca imports rules, which the schema-level imports here must not
    key = (id(org), user_id, getattr(org, "api_used", None), getattr(org, "writes", None))
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = frozenset(user_permissions(org, user_id))
    return _CACHE[key]


def refusal(object_name: str, operation: str, rule: Rule) -> SalesforceError:
    wanted = " or ".join(label(p) for p in rule.any_of)
    message = (f"insufficient access rights to {VERBS.get(operation, operation)} {object_name}: "
               f"the user needs the permission {wanted}")
    if operation == "read":
        return SalesforceError(403, "INSUFFICIENT_ACCESS", message)
    # A refused write is a DML error (400, with fields like every DML error); its code is UNVERIFIED.
    return SalesforceError(400, "INSUFFICIENT_ACCESS_OR_READONLY", message, [])


def decide(org, object_name: str, operation: str) -> tuple[bool, Optional[Rule]]:
    """(allowed for every row, the rule that applies) for the calling user; raises the refusal."""
    rule = RULES.get(object_name, {}).get(operation)
    user_id = getattr(org, "current_user_id", None)
    if rule is None or user_id is None:
        return True, None
    if permissions_of(org, user_id) & set(rule.any_of):
        return True, rule
    if rule.own_rows and _version(org) >= rule.own_rows_from:
        return False, rule
    raise refusal(object_name, operation, rule)


def check(org, object_name: str, operation: str) -> None:
    """Refuse ``operation`` on the object unless the calling user may (own-rows rules count as allowed)."""
    decide(org, object_name, operation)


def readable_rows(source, object_name: str) -> Iterable[dict]:
    """The rows of ``object_name`` the calling user may read (soql.py's source of rows)."""
    rows = source.rows(object_name)
    obj = source.describe(object_name) if hasattr(source, "describe") else None
    if obj is None:
        return rows
    every_row, rule = decide(source, obj.name, "read")
    if every_row:
        return rows
    return [row for row in rows if row.get(rule.own_rows) == source.current_user_id]


def _version(org) -> float:
    try:
        return float(getattr(org, "api_version", "0") or 0)
    except ValueError:
        return 0.0
