"""What an org remembers about setup changes: SetupAuditTrail rows for the changes the emulator carries out,
and User.LastPasswordChangeDate.

SetupAuditTrail [OBJREF SetupAuditTrail; oauth reference B.2]: query and retrieve only (no create, update
or delete); fields Action (120, filter and sort; e.g. ``PermSetCreate``), Section (40, e.g. "Manage
Users"), Display (1000, e.g. "Created permission set MAD: with user license Salesforce."), CreatedDate,
CreatedById, DelegateUser (80), ResponsibleNamespacePrefix (15), CreatedByContext (80), CreatedByIssuer (80),
SystemModstamp; Display and Section cannot be filtered on. Reading it needs View Setup and Configuration (access.py).

One row per setup change a caller makes through the API (a DML the platform does by itself, e.g. the
profile's own assignment of a new user, writes none). Only ``PermSetCreate`` and the shape of its Display
text are documented (B.2); every other Action value, Section and Display text below is UNVERIFIED, and
so is writing one row per changed permission (docs/emulator.md, "Setup Audit Trail"). A row belongs to
the request's transaction: a rolled-back change leaves none.
"""
from __future__ import annotations

from typing import Optional

from .model import FieldDef, ObjectDef
from .store import ID_FACTORY, Org, now_iso

OBJECT = "SetupAuditTrail"
MANAGE_USERS = "Manage Users"  # B.2: Section, e.g. "Manage Users"
ECA_SECTION = "External Client Apps"  # UNVERIFIED

# Actions, UNVERIFIED except PermSetCreate (B.2) and addOauthClientCredentialUser (B.2, 3P catalogue).
USER_CREATED = "createduser"
USER_DEACTIVATED = "deactivateduser"
USER_ACTIVATED = "activateduser"
USER_PROFILE_CHANGED = "changedprofileforuser"
USER_CHANGED = "changeduser"
USER_FROZEN = "frozeuser"
USER_UNFROZEN = "unfrozeuser"
PASSWORD_CHANGED = "changedpassword"
PASSWORD_RESET = "resetpassword"
PERMSET_CREATED = "PermSetCreate"
PERMSET_CREATED_NO_LICENSE = "PermSetCreateNoLicense"  # 3P ExabeamLabs/Content-Library-CIM2 parser
PERMSET_PERM_ENABLED = "PermSetEnableUserPerm"
PERMSET_PERM_DISABLED = "PermSetDisableUserPerm"
PERMSET_UPDATED = "PermSetUpdate"
PERMSET_DELETED = "PermSetDelete"
PERMSET_OBJECT_ACCESS = "PermSetEntityPermChanged"
PERMSET_FIELD_ACCESS = "PermSetFlsChanged"
PERMSET_ASSIGNED = "PermSetAssign"
PERMSET_UNASSIGNED = "PermSetUnassign"
GROUP_ASSIGNED = "PermSetGroupAssign"
GROUP_UNASSIGNED = "PermSetGroupUnassign"
PSL_ASSIGNED = "PermSetLicenseAssign"
PSL_UNASSIGNED = "PermSetLicenseUnassign"
PROFILE_CREATED = "ProfileCreate"
PROFILE_UPDATED = "ProfileUpdate"
PROFILE_PERM_CHANGED = "profilePermChangedCustom"  # 3P ExabeamLabs parser, pgonzaleznetwork/ForceAuditTrail
PROFILE_DELETED = "ProfileDelete"
ECA_CREATED = "ExternalClientAppCreate"
ECA_UPDATED = "ExternalClientAppUpdate"
ECA_DELETED = "ExternalClientAppDelete"
ECA_RUN_AS_USER = "addOauthClientCredentialUser"  # B.2 (3P): "Assigned OAuth client credentials user"

# User fields whose change is its own Action; any other field of a User update is a USER_CHANGED row.
_USER_AUDIT_FIELDS = ("Username", "Email", "FirstName", "LastName", "Alias", "UserRoleId", "ManagerId", "Title",
                      "Department", "CompanyName", "AboutMe", "FederationIdentifier", "TimeZoneSidKey",
                      "LocaleSidKey", "LanguageLocaleKey", "EmailEncodingKey", "UserPermissionsMarketingUser")


def setup_audit_trail() -> ObjectDef:
    """The SetupAuditTrail sObject (B.2). Lengths and labels as [FIELDREF SetupAuditTrail]; Display and Section
    cannot be filtered on ([OBJREF SetupAuditTrail] properties, as a real org's describe: docs/emulator.md); key
    prefix 0Ym as a real row's Id (3P, docs/emulator.md)."""
    obj = ObjectDef(OBJECT, "Setup Audit Trail", "0Ym", setup=True, createable=False, updateable=False,
                    deletable=False)
    ro = dict(createable=False, updateable=False, permissionable=False)
    for f in (FieldDef("Id", "id", "Setup Audit Trail ID", 18, nillable=False, **ro),
              FieldDef("Action", "string", "Action", 120, nillable=False, **ro),
              FieldDef("Section", "string", "Section", 40, filterable=False, **ro),
              FieldDef("Display", "string", "Display", 1000, filterable=False, **ro),
              FieldDef("DelegateUser", "string", "Delegate User", 80, **ro),
              FieldDef("ResponsibleNamespacePrefix", "string", "Source Namespace Prefix", 15, **ro),
              FieldDef("CreatedByContext", "string", "Created By Context", 80, **ro),
              FieldDef("CreatedByIssuer", "string", "Created By Issuer", 80, **ro),
              FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, **ro),
              FieldDef("CreatedById", "reference", "Created By ID", 18, reference_to=["User"],
                       relationship_name="CreatedBy", **ro),
              FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **ro)):
        obj.add(f)
    return obj


def add_row(org: Org, action: str, section: Optional[str], display: str, when: Optional[str] = None,
            by: Optional[str] = None, delegate: Optional[str] = None) -> dict:
    """Write one SetupAuditTrail row as the platform does: no DML, so the request log's writes stay as they are."""
    ts = when or now_iso()
    row = {"Id": ID_FACTORY.new("0Ym"), "Action": action, "Section": section, "Display": display[:1000],
           "DelegateUser": delegate, "ResponsibleNamespacePrefix": None, "CreatedByContext": None,
           "CreatedByIssuer": None, "CreatedDate": ts, "CreatedById": by or org.current_user_id, "SystemModstamp": ts}
    org.tables[OBJECT][row["Id"]] = row
    return row


# -- DML (rules.after_insert / after_update / after_delete) ------------------------------------------------


def record_dml(org: Org, object_name: str, operation: str, old: Optional[dict], new: Optional[dict],
               system: bool) -> None:
    """The SetupAuditTrail rows of one insert/update/delete a caller made (system writes leave none)."""
    if system or OBJECT not in org.tables:
        return
    handler = _HANDLERS.get(object_name)
    if handler is not None:
        for action, display in handler(org, operation, old or {}, new or {}):
            add_row(org, action, MANAGE_USERS, display)


def _username(org: Org, user_id: Optional[str]) -> str:
    user = org.record("User", user_id or "") if user_id else None
    return user["Username"] if user else (user_id or "?")


def _perm_label(permission: str) -> str:
    from .schema import SYSTEM_PERMISSIONS
    return SYSTEM_PERMISSIONS.get(permission, permission)


def _changed_permissions(old: dict, new: dict) -> list[tuple[str, bool]]:
    keys = sorted(k for k in set(old) | set(new) if k.startswith("Permissions") and old.get(k) != new.get(k))
    return [(k[len("Permissions"):], bool(new.get(k))) for k in keys]


def _user(org: Org, operation: str, old: dict, new: dict):
    name = new.get("Username") or old.get("Username")
    if operation == "insert":
        yield USER_CREATED, f"Created new user {name}"
        return
    if operation != "update":
        return
    if old.get("IsActive") and not new.get("IsActive"):
        yield USER_DEACTIVATED, f"Deactivated user {name}"
    elif new.get("IsActive") and not old.get("IsActive"):
        yield USER_ACTIVATED, f"Activated user {name}"
    if old.get("ProfileId") != new.get("ProfileId"):
        before, after = org.record("Profile", old.get("ProfileId") or ""), org.record("Profile", new["ProfileId"])
        yield USER_PROFILE_CHANGED, (f"Changed profile for user {name} from {(before or {}).get('Name', '?')} to "
                                     f"{(after or {}).get('Name', '?')}")
    changed = [f for f in _USER_AUDIT_FIELDS if old.get(f) != new.get(f)]
    if changed:
        yield USER_CHANGED, f"Changed user {name}: {', '.join(changed)}"


def _user_login(org: Org, operation: str, old: dict, new: dict):
    if operation == "update" and bool(old.get("IsFrozen")) != bool(new.get("IsFrozen")):
        name = _username(org, new.get("UserId"))
        yield (USER_FROZEN, f"Froze user {name}") if new.get("IsFrozen") else (USER_UNFROZEN, f"Unfroze user {name}")


def _license_text(org: Org, license_id: Optional[str]) -> str:
    if not license_id:
        return ""
    user_license = org.record("UserLicense", license_id)
    if user_license:
        return f": with user license {user_license['Name']}"  # the documented shape (B.2)
    psl = org.record("PermissionSetLicense", license_id)
    return f": with permission set license {psl['MasterLabel']}" if psl else ""


def _permission_set(org: Org, operation: str, old: dict, new: dict):
    row = new or old
    if row.get("IsOwnedByProfile"):
        return
    label = row.get("Label") or row.get("Name")
    if operation == "insert" and not new.get("LicenseId"):
        yield PERMSET_CREATED_NO_LICENSE, f"Created permission set {label}: with no license"
    elif operation == "insert":
        yield PERMSET_CREATED, f"Created permission set {label}{_license_text(org, new.get('LicenseId'))}."
    elif operation == "delete":
        yield PERMSET_DELETED, f"Deleted permission set {label}"
    else:
        for permission, enabled in _changed_permissions(old, new):
            yield (PERMSET_PERM_ENABLED if enabled else PERMSET_PERM_DISABLED,
                   f"Permission set {label}: {_perm_label(permission)} was {'enabled' if enabled else 'disabled'}")
        changed = [f for f in ("Name", "Label", "Description", "HasActivationRequired") if old.get(f) != new.get(f)]
        if changed:
            yield PERMSET_UPDATED, f"Changed permission set {label}: {', '.join(changed)}"


def _parent_label(org: Org, parent_id: Optional[str]) -> Optional[str]:
    ps = org.record("PermissionSet", parent_id or "")
    if ps is None or ps.get("IsOwnedByProfile"):
        return None
    return ps.get("Label") or ps.get("Name")


def _access_text(row: dict, fields: tuple) -> str:
    on = [f[len("Permissions"):] for f in fields if row.get(f)]
    return ", ".join(on) or "none"


def _object_permissions(org: Org, operation: str, old: dict, new: dict):
    from .schema import OBJECT_PERMISSION_FIELDS
    row = new or old
    label = _parent_label(org, row.get("ParentId"))
    before, after = _access_text(old, tuple(OBJECT_PERMISSION_FIELDS)), _access_text(new, tuple(OBJECT_PERMISSION_FIELDS))
    if label and before != after:
        yield PERMSET_OBJECT_ACCESS, (f"Permission set {label}: object permissions for {row.get('SobjectType')} "
                                      f"changed from {before} to {after}")


def _field_permissions(org: Org, operation: str, old: dict, new: dict):
    row = new or old
    label = _parent_label(org, row.get("ParentId"))
    fields = ("PermissionsRead", "PermissionsEdit")
    before, after = _access_text(old, fields), _access_text(new, fields)
    if label and before != after:
        yield PERMSET_FIELD_ACCESS, (f"Permission set {label}: field-level security for {row.get('Field')} changed "
                                     f"from {before} to {after}")


def _assignment(org: Org, operation: str, old: dict, new: dict):
    row = new or old
    if operation not in ("insert", "delete"):
        return
    user = _username(org, row.get("AssigneeId"))
    if row.get("PermissionSetGroupId"):
        group = org.record("PermissionSetGroup", row["PermissionSetGroupId"]) or {}
        name = group.get("MasterLabel") or group.get("DeveloperName") or row["PermissionSetGroupId"]
        yield ((GROUP_ASSIGNED, f"Permission set group {name}: assigned to user {user}") if operation == "insert"
               else (GROUP_UNASSIGNED, f"Permission set group {name}: unassigned from user {user}"))
        return
    label = _parent_label(org, row.get("PermissionSetId"))
    if label:
        yield ((PERMSET_ASSIGNED, f"Permission set {label}: assigned to user {user}") if operation == "insert"
               else (PERMSET_UNASSIGNED, f"Permission set {label}: unassigned from user {user}"))


def _license_assignment(org: Org, operation: str, old: dict, new: dict):
    row = new or old
    psl = org.record("PermissionSetLicense", row.get("PermissionSetLicenseId") or "") or {}
    name, user = psl.get("MasterLabel", "?"), _username(org, row.get("AssigneeId"))
    if operation == "insert":
        yield PSL_ASSIGNED, f"Permission set license {name}: assigned to user {user}"
    elif operation == "delete":
        yield PSL_UNASSIGNED, f"Permission set license {name}: unassigned from user {user}"


def _profile(org: Org, operation: str, old: dict, new: dict):
    name = (new or old).get("Name")
    if operation == "insert":
        yield PROFILE_CREATED, f"Created profile {name}"
    elif operation == "delete":
        yield PROFILE_DELETED, f"Deleted profile {name}"
    else:
        if old.get("Name") != new.get("Name"):
            yield PROFILE_UPDATED, f"Renamed profile {old.get('Name')} to {name}"
        # Only custom profiles' permissions can change (standard ones are refused), hence the Custom action.
        # Salesforce writes "administrative" or "general user" after the profile page's permission groups; the
        # emulator always writes "administrative" (not modelled, docs/emulator.md).
        for permission, enabled in _changed_permissions(old, new):
            before, after = ("disabled", "enabled") if enabled else ("enabled", "disabled")
            yield PROFILE_PERM_CHANGED, (f"Changed profile {name}: administrative permission "
                                         f"{_perm_label(permission)} was changed from {before} to {after}")


_HANDLERS = {
    "User": _user,
    "UserLogin": _user_login,
    "PermissionSet": _permission_set,
    "ObjectPermissions": _object_permissions,
    "FieldPermissions": _field_permissions,
    "PermissionSetAssignment": _assignment,
    "PermissionSetLicenseAssign": _license_assignment,
    "Profile": _profile,
}


# -- passwords (rest.py, the User password resource) -----------------------------------------------------


def password_changed(org: Org, user: dict, reset: bool = False) -> None:
    """A password set (POST) or reset (DELETE) through the API: User.LastPasswordChangeDate [FIELDREF User] and an
    audit row. That a reset counts as a change, and the row, are UNVERIFIED."""
    user["LastPasswordChangeDate"] = now_iso()  # read-only field, kept by the platform
    if OBJECT in org.tables:
        add_row(org, PASSWORD_RESET if reset else PASSWORD_CHANGED, MANAGE_USERS,
                f"{'Reset' if reset else 'Changed'} password for user {user['Username']}")


# -- External Client Apps (eca.py, Metadata API saves and deletes) ----------------------------------------


def eca_changed(org: Org, operation: str, type_: str, name: str, values: Optional[dict] = None) -> None:
    """Audit rows of an External Client App change (the app itself, and its run-as user when one is set)."""
    if OBJECT not in org.tables:
        return
    if type_ == "ExternalClientApplication":
        action = {"create": ECA_CREATED, "update": ECA_UPDATED, "delete": ECA_DELETED}[operation]
        add_row(org, action, ECA_SECTION, f"External Client App {name}: {operation}d")
    elif operation != "delete" and isinstance((values or {}).get("clientCredentialsFlowUser"), str):
        app = values.get("externalClientApplication") or name
        add_row(org, ECA_RUN_AS_USER, ECA_SECTION,
                f"Assigned OAuth client credentials user {values['clientCredentialsFlowUser']} to External Client "
                f"App {app}")
    else:  # one of the app's components: a change of the app
        app = (values or {}).get("externalClientApplication") or name
        add_row(org, ECA_UPDATED, ECA_SECTION, f"External Client App {app}: {type_} {name} {operation}d")
