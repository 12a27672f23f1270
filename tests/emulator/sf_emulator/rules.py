"""Platform rules per sObject, each citing where it comes from.

Citations: [OBJREF X] = Salesforce Object Reference page for X; "reference N.N" = section of
shared/reference/salesforce_api.md (which carries its own sources); UNVERIFIED = the docs are silent on
the exact wire form, the choice made is listed in docs/emulator.md.
"""
from __future__ import annotations

import re
import secrets
import string
from typing import Optional

from . import dates, history
from .model import ObjectDef, SalesforceError
from .schema import (CUSTOM_DATA_OBJECTS, OBJECT_PERMISSION_DEPENDENCIES, OBJECT_PERMISSION_FIELDS,
                     OBJECT_PERMISSION_LABELS, PERMISSION_DEPENDENCIES, SYSTEM_PERMISSIONS)
from .store import EMAIL_RE, Org

PERM_PREFIX = "Permissions"
SECURITY_TOKEN_LENGTH = 24  # as the seeded administrators' (seed.py); the length Salesforce uses is not modelled
DEVELOPER_NAME_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")


def fields_error(message: str, fields: Optional[list[str]] = None, code: str = "FIELD_INTEGRITY_EXCEPTION"):
    return SalesforceError(400, code, message, fields or [])


def fills(object_name: str, field_name: str) -> bool:
    """Required fields the platform fills itself when the caller leaves them out."""
    # CommunityNickname: generated when omitted, as real orgs do (docs/emulator.md).
    return (object_name, field_name) in {("User", "CommunityNickname")}


# -- licenses -------------------------------------------------------------------------------------


def license_info(org: Org, license_id: Optional[str]) -> Optional[dict]:
    return org.hidden["licenses"].get(license_id) if license_id else None


def user_license_id(org: Org, user: dict) -> Optional[str]:
    profile = org.record("Profile", user["ProfileId"])
    return profile["UserLicenseId"] if profile else None


def held_psl_ids(org: Org, user_id: str) -> set[str]:
    return {r["PermissionSetLicenseId"] for r in org.find("PermissionSetLicenseAssign", AssigneeId=user_id)}


def system_perms(row: dict) -> set[str]:
    return {k[len(PERM_PREFIX):] for k, v in row.items() if k.startswith(PERM_PREFIX) and v is True}


def grants_of_set(org: Org, ps: dict) -> list[tuple[str, str]]:
    """(kind, label) of everything a permission set grants: system permissions and object access."""
    out = [("system:" + p, SYSTEM_PERMISSIONS.get(p, p)) for p in sorted(system_perms(ps))]
    for op in org.find("ObjectPermissions", ParentId=ps["Id"]):
        for f in OBJECT_PERMISSION_FIELDS:
            if op.get(f):
                out.append(("object:" + op["SobjectType"], f"{OBJECT_PERMISSION_LABELS[f]} {op['SobjectType']}"))
    return out


def allows(info: dict, kind: str) -> bool:
    """Does one license (user license or PSL) allow this grant?"""
    if info.get("all"):
        return True
    if kind.startswith("system:"):
        return kind[7:] in info["permissions"]
    obj = kind[7:]
    return info["custom_objects"] if obj in CUSTOM_DATA_OBJECTS else info["standard_objects"]


def first_disallowed(org: Org, grants: list[tuple[str, str]], license_ids: list[str]) -> Optional[str]:
    infos = [license_info(org, i) for i in license_ids if license_info(org, i)]
    for kind, label in grants:
        if not any(allows(info, kind) for info in infos):
            return label
    return None


def check_user_may_hold(org: Org, user: dict, ps: dict, extra_licenses: tuple[str, ...] = ()) -> None:
    """Reference 3.8 / 3.12: every permission of an assigned set must be allowed by the assignee's user
    license or a PSL the assignee holds; else FIELD_INTEGRITY_EXCEPTION naming the permission."""
    licenses = [user_license_id(org, user), *held_psl_ids(org, user["Id"]), *extra_licenses]
    if ps.get("LicenseId"):
        licenses.append(ps["LicenseId"])
    label = first_disallowed(org, grants_of_set(org, ps), [i for i in licenses if i])
    if label:
        raise fields_error(f"The user license doesn't allow the permission: {label}")


def license_label(org: Org, license_id: str) -> str:
    row = org.record("UserLicense", license_id) or org.record("PermissionSetLicense", license_id) or {}
    return row.get("Name") or row.get("MasterLabel") or license_id


def refresh_license_counts(org: Org) -> None:
    """UsedLicenses is derived: active users per user license, PSL assignments per PSL [OBJREF]."""
    used: dict[str, int] = {}
    for user in org.tables["User"].values():
        if user.get("IsActive"):
            lic = user_license_id(org, user)
            used[lic] = used.get(lic, 0) + 1
    for lic in org.tables["UserLicense"].values():
        lic["UsedLicenses"] = used.get(lic["Id"], 0)
    for psl in org.tables["PermissionSetLicense"].values():
        psl["UsedLicenses"] = len(org.find("PermissionSetLicenseAssign", PermissionSetLicenseId=psl["Id"]))


def check_user_seat(org: Org, license_id: str) -> None:
    """Reference 3.1: each active user uses a license; over the count → LICENSE_LIMIT_EXCEEDED."""
    refresh_license_counts(org)
    lic = org.record("UserLicense", license_id)
    if lic and lic["UsedLicenses"] >= lic["TotalLicenses"]:
        raise fields_error(f"License Limit Exceeded - {lic['Name']}", [], "LICENSE_LIMIT_EXCEEDED")


def assign_psl(org: Org, user: dict, psl_id: str) -> None:
    """Create a PermissionSetLicenseAssign after the license checks of reference 3.4."""
    check_psl_assignable(org, user, org.record("PermissionSetLicense", psl_id))
    org.insert("PermissionSetLicenseAssign", {"AssigneeId": user["Id"], "PermissionSetLicenseId": psl_id},
               system=True)


def check_psl_assignable(org: Org, user: dict, psl: dict) -> None:
    """Reference 3.4: the user's license must support the PSL, and the PSL needs a free seat."""
    info = license_info(org, psl["Id"]) or {}
    name = user.get("Name") or user["Username"]
    if user_license_id(org, user) not in info.get("user_licenses", []):
        # Reference 3.4: "<User> can't be assigned the <PSL> permission set license, because <User>'s user
        # license doesn't support it." (FIELD_INTEGRITY_EXCEPTION).
        raise fields_error(f"{name} can't be assigned the {psl['MasterLabel']} permission set license, because "
                           f"{name}'s user license doesn't support it.")
    refresh_license_counts(org)
    if psl["UsedLicenses"] >= psl["TotalLicenses"]:
        # Reference 3.4 out-of-seats text (Salesforce Help KB 000390162); errorCode UNVERIFIED.
        raise fields_error(f"All {psl['MasterLabel']} permission set licenses are in use. For more licenses, "
                           "contact your salesforce.com representative.", [], "LICENSE_LIMIT_EXCEEDED")


def normalise(org: Org, obj: ObjectDef, values: dict) -> dict:
    """Input forms the platform accepts and stores canonically, before the generic field checks."""
    if obj.name == "FieldPermissions" and isinstance(values.get("Field"), str):
        return dict(values, Field=_normalise_field_name(org, values["Field"]))
    return values


# -- dispatch ---------------------------------------------------------------------------------------


def before_insert(org: Org, obj: ObjectDef, row: dict, system: bool) -> None:
    hook = _BEFORE_INSERT.get(obj.name)
    if hook:
        hook(org, row, system)


def after_insert(org: Org, obj: ObjectDef, row: dict, system: bool) -> None:
    history.record_dml(org, obj.name, "insert", None, row, system)  # SetupAuditTrail (history.py)
    hook = _AFTER_INSERT.get(obj.name)
    if hook:
        hook(org, row, system)
    refresh_group_aggregates(org, obj.name, row)
    refresh_license_counts(org)


def before_update(org: Org, obj: ObjectDef, old: dict, new: dict, system: bool):
    hook = _BEFORE_UPDATE.get(obj.name)
    return hook(org, old, new, system) if hook else None


def after_update(org: Org, obj: ObjectDef, old: dict, new: dict, system: bool) -> None:
    history.record_dml(org, obj.name, "update", old, new, system)  # SetupAuditTrail (history.py)
    if obj.name == "User" and new["ProfileId"] != old["ProfileId"]:
        _assign_profile_set(org, new)  # the profile-owned assignment follows the profile
    if obj.name == "Profile" and new["Name"] != old["Name"] and org.profile_renamed:
        org.profile_renamed(old["Name"], new["Name"])
    if obj.name in ("PermissionSet", "ObjectPermissions"):
        ps_id = new["Id"] if obj.name == "PermissionSet" else new["ParentId"]
        check_assignees(org, ps_id)
    refresh_group_aggregates(org, obj.name, new)
    refresh_license_counts(org)


def before_delete(org: Org, obj: ObjectDef, row: dict, system: bool) -> None:
    hook = _BEFORE_DELETE.get(obj.name)
    if hook:
        hook(org, row, system)


def after_delete(org: Org, obj: ObjectDef, row: dict, system: bool) -> None:
    history.record_dml(org, obj.name, "delete", row, None, system)  # SetupAuditTrail (history.py)
    if not obj.setup:
        # Children whose relationship describe marks cascadeDelete go with the parent (an Account's contacts,
        # opportunities, tasks); restrictedDelete (an Account's cases) is not enforced.
        for rel in obj.child_relationships.values():
            if rel.cascade_delete:
                for child in org.find(rel.child_object, **{rel.field: row["Id"]}):
                    org.delete(rel.child_object, child["Id"], system=True)
    if obj.name == "PermissionSet":
        # Deleting a set removes its object and field permission rows [OBJREF ObjectPermissions].
        for child in ("ObjectPermissions", "FieldPermissions"):
            for r in org.find(child, ParentId=row["Id"]):
                del org.tables[child][r["Id"]]
    if obj.name == "Profile":
        for ps in org.find("PermissionSet", ProfileId=row["Id"], IsOwnedByProfile=True):
            del org.tables["PermissionSet"][ps["Id"]]
        if org.profile_renamed:
            org.profile_renamed(row["Name"], "")  # its password policy stays, as an orphan
    if obj.name == "PermissionSetGroup":
        aggregate = aggregate_set(org, row["Id"])
        if aggregate is not None:
            org.delete("PermissionSet", aggregate["Id"], system=True)  # its permission rows go with it
    refresh_group_aggregates(org, obj.name, row)
    refresh_license_counts(org)


# -- User [OBJREF User; reference 2.3, 3.1] -------------------------------------------------------------


def _user_checks(org: Org, row: dict, old: Optional[dict]) -> None:
    username = row.get("Username") or ""
    if old is None or username != old.get("Username"):
        if not EMAIL_RE.match(username):
            # Reference 2.3 FIELD_INTEGRITY_EXCEPTION (bad Username).
            raise fields_error("Username must be in the form of an email address (for example, john@acme.com): "
                               "Username", ["Username"])
        row["Username"] = username.lower()  # usernames are stored lower-case [OBJREF User]
        if org.username_taken(row["Username"], row["Id"]):
            # Reference 2.3 DUPLICATE_USERNAME: unique across all orgs.
            raise fields_error("Duplicate Username.<br>The username already exists in this or another Salesforce "
                               "organization. Usernames must be unique across all Salesforce organizations. To "
                               "resolve, use a different username (it doesn't need to match the user's email "
                               "address). ", ["Username"], "DUPLICATE_USERNAME")
    nick = row.get("CommunityNickname")
    if nick and (old is None or nick != old.get("CommunityNickname")):
        for other in org.tables["User"].values():
            if other["Id"] != row["Id"] and (other.get("CommunityNickname") or "").lower() == nick.lower():
                # Reference 2.3 DUPLICATE_COMM_NICKNAME.
                raise fields_error("Duplicate Nickname.<br>Another user has already selected this nickname."
                                   "<br>Please select another.", ["CommunityNickname"], "DUPLICATE_COMM_NICKNAME")
    profile = org.record("Profile", row.get("ProfileId") or "")
    if profile is None:
        raise fields_error("invalid cross reference id", ["ProfileId"], "INVALID_CROSS_REFERENCE_KEY")
    if row.get("UserRoleId") and org.record("UserRole", row["UserRoleId"]) is None:
        raise fields_error("invalid cross reference id", ["UserRoleId"], "INVALID_CROSS_REFERENCE_KEY")
    becomes_active = row.get("IsActive") and (old is None or not old.get("IsActive"))
    new_license = old is not None and row.get("IsActive") and \
        user_license_id(org, old) != profile["UserLicenseId"]
    if becomes_active or new_license:
        check_user_seat(org, profile["UserLicenseId"])
    row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
    row["UserType"] = profile.get("UserType") or "Standard"


def _user_before_insert(org: Org, row: dict, system: bool) -> None:
    if not row.get("CommunityNickname"):
        # As real users created without one carry: "User", the creation time in epoch milliseconds, 7 more
        # digits (Change Data Capture guide example and a 3P recording, docs/emulator.md), e.g. User15943166525412354768.
        nick = ""
        while not nick or org.find("User", CommunityNickname=nick):
            nick = f"User{int(dates.now().timestamp() * 1000)}{secrets.randbelow(10 ** 7):07d}"
        row["CommunityNickname"] = nick
    _user_checks(org, row, None)


def _user_after_insert(org: Org, row: dict, system: bool) -> None:
    # Every user has a UserLogin row [OBJREF UserLogin] and an assignment of its profile's permission set
    # (reference 3.8, checklist item 9).
    org.insert("UserLogin", {"UserId": row["Id"], "IsFrozen": False, "IsPasswordLocked": False}, system=True)
    # And a security token, which Salesforce e-mails to the user and the API cannot read (oauth reference A.5);
    # the admin API's security_token stands in for that e-mail.
    org.hidden["tokens"][row["Id"]] = "".join(secrets.choice(string.ascii_letters + string.digits)
                                              for _ in range(SECURITY_TOKEN_LENGTH))
    _assign_profile_set(org, row)


def _assign_profile_set(org: Org, user: dict) -> None:
    for psa in org.find("PermissionSetAssignment", AssigneeId=user["Id"]):
        ps = org.record("PermissionSet", psa.get("PermissionSetId") or "")
        if ps and ps["IsOwnedByProfile"]:
            del org.tables["PermissionSetAssignment"][psa["Id"]]
    owned = org.find_one("PermissionSet", ProfileId=user["ProfileId"], IsOwnedByProfile=True)
    org.insert("PermissionSetAssignment", {"AssigneeId": user["Id"], "PermissionSetId": owned["Id"]}, system=True)


def _user_before_update(org: Org, old: dict, new: dict, system: bool):
    _user_checks(org, new, old)
    return None


# -- UserLogin [OBJREF UserLogin] -----------------------------------------------------------------------


def _userlogin_before_update(org: Org, old: dict, new: dict, system: bool):
    if new.get("IsPasswordLocked") and not old.get("IsPasswordLocked") and not system:
        # [OBJREF UserLogin] IsPasswordLocked can only be set to false.
        raise fields_error("IsPasswordLocked can only be set to false", ["IsPasswordLocked"])
    return None


# -- Profile [OBJREF Profile; reference 3.2, 3.12] ---------------------------------------------------------


def _check_permission_dependencies(perms: set[str]) -> None:
    """Reference 4, "Permission dependencies" (3P transcription of the Setup UI): FIELD_INTEGRITY_EXCEPTION."""
    for perm in sorted(perms):
        missing = [d for d in PERMISSION_DEPENDENCIES.get(perm, []) if d not in perms]
        if missing:
            labels = ", ".join(SYSTEM_PERMISSIONS.get(m, m) for m in missing)
            raise fields_error(f"Permission {SYSTEM_PERMISSIONS.get(perm, perm)} depends on permission(s): {labels}",
                               [PERM_PREFIX + perm])


def _check_license_allows_perms(org: Org, license_id: Optional[str], perms: set[str]) -> None:
    info = license_info(org, license_id)
    if info is None:
        return
    for perm in sorted(perms):
        if not allows(info, "system:" + perm):
            # Reference 3.5/3.12: "The user license doesn't allow the permission: <label>"; the same words
            # for a PSL-licensed set are an UNVERIFIED choice.
            raise fields_error(f"The user license doesn't allow the permission: {SYSTEM_PERMISSIONS.get(perm, perm)}",
                               [PERM_PREFIX + perm])


def _profile_before_insert(org: Org, row: dict, system: bool) -> None:
    if org.find("Profile", Name=row["Name"]):
        # Reference 3.2: duplicate profile name (CumulusCI fixture).
        raise fields_error("The profile name is already in use: Name", ["Name"])
    lic = org.record("UserLicense", row.get("UserLicenseId") or "")
    if lic is None:
        raise fields_error("invalid cross reference id", ["UserLicenseId"], "INVALID_CROSS_REFERENCE_KEY")
    row.setdefault("UserType", "Standard")
    if not system:
        # [OBJREF Profile] an API-created profile starts with only the permissions its license requires.
        info = license_info(org, lic["Id"]) or {}
        for perm in info.get("required", []):
            row[PERM_PREFIX + perm] = True
        org.hidden.setdefault("custom_profiles", set()).add(row["Id"])
    perms = system_perms(row)
    _check_permission_dependencies(perms)
    _check_license_allows_perms(org, lic["Id"], perms)


def _profile_after_insert(org: Org, row: dict, system: bool) -> None:
    # [OBJREF PermissionSet] every profile is backed by a profile-owned permission set, Name X<profileId>.
    values = {"Name": "X" + row["Id"][:15], "Label": row["Name"], "LicenseId": row["UserLicenseId"]}
    values.update({k: v for k, v in row.items() if k.startswith(PERM_PREFIX)})
    ps_id = org.insert("PermissionSet", values, system=True)
    # IsCustom of a profile-owned set tells custom from standard profiles (PermissionSet.IsCustom, API v39+,
    # Spring '17 release notes; 3P: salesforce.stackexchange.com/a/38452), as Profile has no such field.
    org.tables["PermissionSet"][ps_id].update(IsOwnedByProfile=True, IsCustom=not is_standard_profile(org, row),
                                              ProfileId=row["Id"], Type="Profile")


def is_standard_profile(org: Org, row: dict) -> bool:
    return row["Id"] not in org.hidden.get("custom_profiles", set())


def _profile_before_update(org: Org, old: dict, new: dict, system: bool):
    if not system and is_standard_profile(org, old):
        changed = sorted(k for k in new if k.startswith(PERM_PREFIX) or k == "Name"
                         if new.get(k) != old.get(k))
        if changed:
            # Reference 3.2: standard profiles' permissions are not editable through the API; the error code
            # and text are UNVERIFIED (docs/emulator.md).
            raise fields_error(f"You can't edit the permissions or name of the standard profile {old['Name']}",
                               changed, "INSUFFICIENT_ACCESS_OR_READONLY")
    if new["Name"].lower() != old["Name"].lower() and org.find("Profile", Name=new["Name"]):
        raise fields_error("The profile name is already in use: Name", ["Name"])
    perms = system_perms(new)
    _check_permission_dependencies(perms)
    _check_license_allows_perms(org, new["UserLicenseId"], perms)
    owned = org.find_one("PermissionSet", ProfileId=new["Id"], IsOwnedByProfile=True)
    if owned:
        owned.update({k: v for k, v in new.items() if k.startswith(PERM_PREFIX)})
        owned["Label"] = new["Name"]
    return None


def _profile_before_delete(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    if is_standard_profile(org, row):
        raise fields_error(f"You can't delete the standard profile {row['Name']}", [],
                           "INSUFFICIENT_ACCESS_OR_READONLY")  # UNVERIFIED wording
    users = org.find("User", ProfileId=row["Id"])
    if users:
        # [OBJREF Profile] a profile with users cannot be deleted; code and text UNVERIFIED.
        raise fields_error(f"Cannot delete profile {row['Name']}: {len(users)} user(s) are assigned to it", [],
                           "DELETE_FAILED")


# -- PermissionSet [OBJREF PermissionSet; reference 3.5] ---------------------------------------------------


def _ps_name_checks(org: Org, row: dict, old: Optional[dict]) -> None:
    name = row.get("Name") or ""
    if (old is None or name != old.get("Name")) and not DEVELOPER_NAME_RE.match(name):
        # [OBJREF PermissionSet] Name rules; code and text UNVERIFIED (reference 3.5).
        raise fields_error("The Name field can only contain underscores and alphanumeric characters. It must be "
                           "unique, begin with a letter, not include spaces, not end with an underscore, and not "
                           "contain two consecutive underscores.", ["Name"])
    # Label and API name are unique; a real org reports both when both are taken, the label first
    # (3P SFDO-Tooling/CumulusCI#3045, a raw REST answer). Compared without case, labels among the
    # custom sets only (both UNVERIFIED, docs/emulator.md).
    def taken(field: str, others) -> bool:
        value = (row.get(field) or "").lower()
        return bool(value) and (old is None or row.get(field) != old.get(field)) and any(
            other["Id"] != row["Id"] and (other.get(field) or "").lower() == value for other in others)

    sets = list(org.tables["PermissionSet"].values())
    errors = []
    if taken("Label", [ps for ps in sets if ps.get("IsCustom") and not ps.get("IsOwnedByProfile")
                       and ps.get("Type", "Regular") == "Regular"]):
        errors.append(fields_error("The label you entered is in use. Enter a unique label.", ["Label"],
                                   "DUPLICATE_MASTER_LABEL"))
    if taken("Name", sets):
        errors.append(fields_error("The API name you entered is already in use. Enter a unique API name.", ["Name"],
                                   "DUPLICATE_DEVELOPER_NAME"))
    if errors:
        first, *rest = errors
        raise SalesforceError(first.status, first.error_code, first.message, first.fields, also=rest)


def _ps_before_insert(org: Org, row: dict, system: bool) -> None:
    if system:
        row.setdefault("IsOwnedByProfile", False)
        row.setdefault("IsCustom", True)
        row.setdefault("Type", "Regular")
        return
    _ps_name_checks(org, row, None)
    row.update(IsOwnedByProfile=False, IsCustom=True, Type="Regular", ProfileId=None, PermissionSetGroupId=None)
    lic = row.get("LicenseId")
    if lic and not (org.record("PermissionSetLicense", lic) or org.record("UserLicense", lic)):
        raise fields_error("invalid cross reference id", ["LicenseId"], "INVALID_CROSS_REFERENCE_KEY")
    info = license_info(org, lic)
    if info and info.get("implies"):
        # Reference 3.12: with the Salesforce API Integration PSL, API Enabled is switched on automatically.
        for perm in info["implies"]:
            row[PERM_PREFIX + perm] = True
    perms = system_perms(row)
    _check_permission_dependencies(perms)
    _check_license_allows_perms(org, lic, perms)


def _ps_before_update(org: Org, old: dict, new: dict, system: bool):
    if old.get("IsOwnedByProfile") and not system:
        # [OBJREF PermissionSet] profile-owned sets can be queried, not modified; wire form UNVERIFIED.
        raise fields_error("You can't edit a permission set that is owned by a profile; edit the profile instead",
                           [], "INSUFFICIENT_ACCESS_OR_READONLY")
    _ps_name_checks(org, new, old)
    info = license_info(org, new.get("LicenseId"))
    for perm in (info or {}).get("implies", []):
        # Reference 3.12 / seed 004: API Enabled is built into a set licensed by the Salesforce API Integration
        # PSL and cannot be switched off there; it stays on (silently: the wire answer is UNVERIFIED).
        new[PERM_PREFIX + perm] = True
    perms = system_perms(new)
    _check_permission_dependencies(perms)
    _check_license_allows_perms(org, new.get("LicenseId"), perms)
    return None


def check_assignees(org: Org, ps_id: str) -> None:
    """KB 001233479 (reference 3.5): editing an assigned set so that it exceeds an assignee's license fails."""
    ps = org.record("PermissionSet", ps_id)
    if ps is None or ps.get("IsOwnedByProfile") or ps.get("PermissionSetGroupId"):
        return  # a group's assignees were checked against its sets when the group was assigned
    for psa in org.find("PermissionSetAssignment", PermissionSetId=ps_id):
        user = org.record("User", psa["AssigneeId"])
        licenses = [user_license_id(org, user), *held_psl_ids(org, user["Id"]), ps.get("LicenseId")]
        label = first_disallowed(org, grants_of_set(org, ps), [i for i in licenses if i])
        if label:
            raise fields_error(f"Can't save permission set {ps['Label']}, which is assigned to a user with user "
                               f"license {license_label(org, user_license_id(org, user))}. The user license doesn't "
                               f"allow the permission: {label}")


def _ps_before_delete(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    if row.get("IsOwnedByProfile"):
        raise fields_error("You can't delete a permission set that is owned by a profile", [],
                           "INSUFFICIENT_ACCESS_OR_READONLY")  # UNVERIFIED wording
    if org.find("PermissionSetAssignment", PermissionSetId=row["Id"]):
        # [OBJREF PermissionSet] "can be deleted only if it is not assigned"; code and text UNVERIFIED.
        raise fields_error(f"Permission set {row['Label']} can't be deleted because it's assigned to one or more "
                           "users.", [], "DELETE_FAILED")


# -- PermissionSetAssignment [OBJREF; reference 3.4, 3.8] ---------------------------------------------------


def _psa_before_insert(org: Org, row: dict, system: bool) -> None:
    user = org.record("User", row.get("AssigneeId") or "")
    if user is None:
        raise fields_error("invalid cross reference id", ["AssigneeId"], "INVALID_CROSS_REFERENCE_KEY")
    ps_id, group_id = row.get("PermissionSetId"), row.get("PermissionSetGroupId")
    if bool(ps_id) == bool(group_id):
        # [OBJREF PermissionSetAssignment] a set or a group, not both; wire text UNVERIFIED.
        raise fields_error("Specify either a permission set or a permission set group", ["PermissionSetId"])
    if group_id:
        if org.record("PermissionSetGroup", group_id) is None:
            raise fields_error("invalid cross reference id", ["PermissionSetGroupId"], "INVALID_CROSS_REFERENCE_KEY")
        if org.find("PermissionSetAssignment", AssigneeId=user["Id"], PermissionSetGroupId=group_id):
            # Shaped like the set duplicate below; the group wording and fields are UNVERIFIED.
            raise fields_error(f"Duplicate PermissionSetAssignment.  Assignee: {user['Id'][:15]}; Permission Set "
                               f"Group: {group_id[:15]}", ["AssigneeId", "PermissionSetGroupId"], "DUPLICATE_VALUE")
        if not system:
            check_group_assignable(org, user, org.record("PermissionSetGroup", group_id))
        # Reference 3.9, oauth reference B.3: a group assignment names the group's aggregate set too.
        aggregate = aggregate_set(org, group_id)
        row["PermissionSetId"] = aggregate["Id"] if aggregate else None
        row["IsActive"] = True
        return
    ps = org.record("PermissionSet", ps_id)
    if ps is None:
        raise fields_error("invalid cross reference id", ["PermissionSetId"], "INVALID_CROSS_REFERENCE_KEY")
    row["PermissionSetId"] = ps["Id"]
    row["IsActive"] = True
    if system:
        return
    if ps.get("IsOwnedByProfile"):
        # Profile-owned sets follow the profile; assigning one by hand is refused (wire form UNVERIFIED).
        raise fields_error("You can't assign a permission set that is owned by a profile", ["PermissionSetId"])
    if org.find("PermissionSetAssignment", AssigneeId=user["Id"], PermissionSetId=ps["Id"]):
        # Reference 3.8; exact form from a real org (3P amp-labs/connectors providers/salesforce/test/metadata/
        # write/err-duplicate-permission-assignment.json): two spaces after the first period, 15-character ids,
        # both fields named.
        raise fields_error(f"Duplicate PermissionSetAssignment.  Assignee: {user['Id'][:15]}; Permission Set: "
                           f"{ps['Id'][:15]}", ["AssigneeId", "PermissionSetId"], "DUPLICATE_VALUE")
    lic = ps.get("LicenseId")
    if lic and org.record("UserLicense", lic) and lic != user_license_id(org, user):
        # Reference 3.8 license match; text UNVERIFIED (3P paraphrase "user license doesn't match").
        raise fields_error(f"Can't assign permission set {ps['Label']} to user {user['Name']}. The user license "
                           f"doesn't match the permission set's license ({license_label(org, lic)}).",
                           ["PermissionSetId"])
    if lic and org.record("PermissionSetLicense", lic) and lic not in held_psl_ids(org, user["Id"]):
        # Reference 3.4: assigning a PSL-licensed set assigns its PSL (seats and user license permitting).
        assign_psl(org, user, lic)
    check_user_may_hold(org, user, ps)


def check_group_assignable(org: Org, user: dict, group: dict) -> None:
    """Salesforce Help "Assign Permission Set Groups to Users" (platform.perm_set_groups_assign.htm): only a group
    with Status Updated can be assigned, and the PSLs its sets need must be assigned before the group; "Permission
    Set Group FAQs" (platform.perm_set_groups_faqs.htm): without them "you receive an assignment error". Unlike a
    PSL-licensed set, a group gets no PSL assigned automatically. Codes and texts UNVERIFIED."""
    if group.get("Status") != "Updated":
        raise fields_error(f"You can assign users only to permission set groups that have a status of Updated "
                           f"({group['DeveloperName']} is {group.get('Status')}).", ["PermissionSetGroupId"])
    held = [user_license_id(org, user), *held_psl_ids(org, user["Id"])]
    for component in org.find("PermissionSetGroupComponent", PermissionSetGroupId=group["Id"]):
        ps = org.record("PermissionSet", component["PermissionSetId"])
        if ps is None:
            continue
        lic = ps.get("LicenseId")
        if lic and org.record("PermissionSetLicense", lic) and lic not in held:
            raise fields_error(f"Can't assign permission set group {group['DeveloperName']}: the user doesn't have "
                               f"the {license_label(org, lic)} permission set license that {ps['Label']} needs.")
        label = first_disallowed(org, grants_of_set(org, ps), [i for i in held if i])
        if label:
            raise fields_error(f"The user license doesn't allow the permission: {label}")


def _psa_before_update(org: Org, old: dict, new: dict, system: bool):
    return None  # only ExpirationDate is updateable; the generic rules enforce that


def _psa_before_delete(org: Org, row: dict, system: bool) -> None:
    ps = org.record("PermissionSet", row.get("PermissionSetId") or "")
    if ps and ps.get("IsOwnedByProfile") and not system:
        # The profile's own assignment goes with the profile (reference 3.8); wire form UNVERIFIED.
        raise fields_error("You can't remove the permission set that is owned by the user's profile", [],
                           "INVALID_CROSS_REFERENCE_KEY")


# -- PermissionSetLicenseAssign [OBJREF; reference 3.4] -----------------------------------------------------


def _psla_before_insert(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    user = org.record("User", row.get("AssigneeId") or "")
    psl = org.record("PermissionSetLicense", row.get("PermissionSetLicenseId") or "")
    if user is None or psl is None:
        raise fields_error("invalid cross reference id",
                           ["AssigneeId" if user is None else "PermissionSetLicenseId"], "INVALID_CROSS_REFERENCE_KEY")
    if psl["Id"] in held_psl_ids(org, user["Id"]):
        # Reference 3.4: duplicate → DUPLICATE_VALUE "duplicate value found ..." (full text UNVERIFIED).
        raise fields_error("duplicate value found: <unknown> duplicates value on record with id: <unknown>", [],
                           "DUPLICATE_VALUE")
    check_psl_assignable(org, user, psl)


def _psla_before_delete(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    for psa in org.find("PermissionSetAssignment", AssigneeId=row["AssigneeId"]):
        ps = org.record("PermissionSet", psa.get("PermissionSetId") or "")
        if ps and ps.get("LicenseId") == row["PermissionSetLicenseId"]:
            # A PSL that an assigned set is licensed by cannot be removed first (wire form UNVERIFIED).
            psl = org.record("PermissionSetLicense", row["PermissionSetLicenseId"])
            raise fields_error(f"Can't remove the {psl['MasterLabel']} permission set license: the user is assigned "
                               f"the permission set {ps['Label']}, which requires it.")
    _check_still_licensed(org, row)


def _check_still_licensed(org: Org, removed: dict) -> None:
    """The license rule of assignment (reference 3.8/3.12) keeps holding after a PSL is removed: an assigned set
    with no license whose permissions only that PSL allowed (e.g. standard objects for a Salesforce Integration
    user) blocks the removal. Salesforce's wire answer here is UNVERIFIED; the assignment's text is reused."""
    user = org.record("User", removed["AssigneeId"])
    if user is None:
        return
    remaining = [user_license_id(org, user)] + [i for i in held_psl_ids(org, user["Id"])
                                                if i != removed["PermissionSetLicenseId"]]
    for psa in org.find("PermissionSetAssignment", AssigneeId=user["Id"]):
        ps = org.record("PermissionSet", psa.get("PermissionSetId") or "")
        if ps is None or ps.get("IsOwnedByProfile") or ps.get("LicenseId"):
            continue
        label = first_disallowed(org, grants_of_set(org, ps), [i for i in remaining if i])
        if label:
            psl = org.record("PermissionSetLicense", removed["PermissionSetLicenseId"])
            raise fields_error(f"Can't remove the {psl['MasterLabel']} permission set license: the user is assigned "
                               f"the permission set {ps['Label']}. The user license doesn't allow the permission: "
                               f"{label}")


# -- ObjectPermissions / FieldPermissions [OBJREF; reference 3.6, 3.7] -----------------------------------------


def _editable_parent(org: Org, row: dict) -> dict:
    ps = org.record("PermissionSet", row.get("ParentId") or "")
    if ps is None:
        raise fields_error("invalid cross reference id", ["ParentId"], "INVALID_CROSS_REFERENCE_KEY")
    if ps.get("IsOwnedByProfile"):
        # [OBJREF ObjectPermissions] only for permission set parents; profile-owned rows are read-only here
        # (wire form UNVERIFIED).
        raise fields_error("You can't edit object or field permissions of a profile-owned permission set",
                           ["ParentId"], "INSUFFICIENT_ACCESS_OR_READONLY")
    return ps


def _object_perm_checks(org: Org, row: dict) -> bool:
    """Returns False when every flag is false: the platform deletes such a row (reference 3.6)."""
    ps = _editable_parent(org, row)
    obj = row["SobjectType"]
    for perm, needs in OBJECT_PERMISSION_DEPENDENCIES.items():
        missing = [n for n in needs if row.get(perm) and not row.get(n)]
        if missing:
            # Reference 3.6: "Permission Create X depends on permission(s): Read X".
            wanted = ", ".join(f"{OBJECT_PERMISSION_LABELS[m]} {obj}" for m in missing)
            raise fields_error(f"Permission {OBJECT_PERMISSION_LABELS[perm]} {obj} depends on permission(s): {wanted}",
                               [perm])
    info = license_info(org, ps.get("LicenseId"))
    if info and any(row.get(f) for f in OBJECT_PERMISSION_FIELDS) and not allows(info, "object:" + obj):
        raise fields_error(f"The user license doesn't allow the permission: Read {obj}", ["SobjectType"])
    return any(row.get(f) for f in OBJECT_PERMISSION_FIELDS)


def _op_before_insert(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    if org.find("ObjectPermissions", ParentId=row["ParentId"], SobjectType=row["SobjectType"]):
        raise fields_error("duplicate value found: <unknown> duplicates value on record with id: <unknown>", [],
                           "DUPLICATE_VALUE")  # one row per parent and object [OBJREF]
    row["_keep"] = _object_perm_checks(org, row)


def _op_after_insert(org: Org, row: dict, system: bool) -> None:
    if row.pop("_keep", True) is False:
        del org.tables["ObjectPermissions"][row["Id"]]  # all-false rows do not persist (reference 3.6)
    else:
        check_assignees(org, row["ParentId"])


def _op_before_update(org: Org, old: dict, new: dict, system: bool):
    return _object_perm_checks(org, new)


def _normalise_field_name(org: Org, value: str) -> str:
    """From v50 a lookup may be named with or without Id (Contact.Account ≡ Contact.AccountId) [OBJREF]."""
    obj_name, _, field_name = value.partition(".")
    obj = org.describe(obj_name)
    if obj is None:
        return value
    f = obj.field(field_name) or obj.field(field_name + "Id")
    return f"{obj.name}.{f.name}" if f else value


def _fp_checks(org: Org, row: dict) -> bool:
    _editable_parent(org, row)
    obj_name, _, field_name = row["Field"].partition(".")
    if obj_name.lower() != (row.get("SobjectType") or "").lower():
        raise fields_error(f"Field Name: bad value for restricted picklist field: {row['Field']}", ["Field"],
                           "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    if row.get("PermissionsEdit") and not row.get("PermissionsRead"):
        # [OBJREF FieldPermissions] Edit requires Read; text mirrors the object rule (UNVERIFIED).
        raise fields_error(f"Permission Edit {row['Field']} depends on permission(s): Read {row['Field']}",
                           ["PermissionsEdit"])
    f = org.describe(obj_name).field(field_name)
    if row.get("PermissionsEdit") and f.calculated:
        # [OBJREF FieldPermissions] formula fields allow Read only; error wire form UNVERIFIED.
        raise fields_error(f"Field {row['Field']} is calculated: only Read access can be granted",
                           ["PermissionsEdit"])
    return bool(row.get("PermissionsRead"))


def _fp_before_insert(org: Org, row: dict, system: bool) -> None:
    if system:
        return
    row["Field"] = _normalise_field_name(org, row.get("Field") or "")
    fdef = org.describe("FieldPermissions").field("Field")
    if row["Field"] not in fdef.picklist_values:
        # Reference 3.7: non-permissionable fields are not in the restricted picklist.
        raise fields_error(f"Field Name: bad value for restricted picklist field: {row['Field']}", ["Field"],
                           "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    if org.find("FieldPermissions", ParentId=row["ParentId"], Field=row["Field"]):
        raise fields_error("duplicate value found: <unknown> duplicates value on record with id: <unknown>", [],
                           "DUPLICATE_VALUE")
    row["_keep"] = _fp_checks(org, row)


def _fp_after_insert(org: Org, row: dict, system: bool) -> None:
    if row.pop("_keep", True) is False:
        del org.tables["FieldPermissions"][row["Id"]]  # a row must keep Read or it is deleted (reference 3.7)


def _fp_before_update(org: Org, old: dict, new: dict, system: bool):
    return _fp_checks(org, new)


def _object_perm_parent_guard(org: Org, row: dict, system: bool) -> None:
    if not system:
        _editable_parent(org, row)


def _psg_before_insert(org: Org, row: dict, system: bool) -> None:
    if not DEVELOPER_NAME_RE.match(row.get("DeveloperName") or ""):
        raise fields_error("The Developer Name can only contain underscores and alphanumeric characters.",
                           ["DeveloperName"])
    row.setdefault("Status", "Updated")


# -- The aggregate permission set of a group [OBJREF PermissionSet; reference 3.9] ----------------------------
# "PermissionSet contains the aggregated permissions for the group": each group has one permission set
# (PermissionSetGroupId = the group, Type Group) holding the union of its sets' system permissions, object
# and field access, and a group assignment's PermissionSetId names it. Salesforce recalculates it
# asynchronously (Status); here it follows every change at once. Muting permission sets are not modelled.

AGGREGATE_PARTS = ("PermissionSet", "ObjectPermissions", "FieldPermissions", "PermissionSetGroupComponent",
                   "PermissionSetGroup")


def aggregate_set(org: Org, group_id: str) -> Optional[dict]:
    return org.find_one("PermissionSet", PermissionSetGroupId=group_id) if group_id else None


def _groups_touched(org: Org, object_name: str, row: dict) -> list[str]:
    """Ids of the groups whose aggregate a DML on ``row`` changes (none for the aggregates' own rows)."""
    if object_name == "PermissionSetGroup":
        return [row["Id"]] if org.record("PermissionSetGroup", row["Id"]) else []
    if object_name == "PermissionSetGroupComponent":
        return [row["PermissionSetGroupId"]] if org.record("PermissionSetGroup", row["PermissionSetGroupId"]) else []
    set_id = row["Id"] if object_name == "PermissionSet" else row.get("ParentId")
    ps = org.record("PermissionSet", set_id or "")
    if ps is not None and ps.get("PermissionSetGroupId"):
        return []
    return [c["PermissionSetGroupId"] for c in org.find("PermissionSetGroupComponent", PermissionSetId=set_id or "")]


def refresh_group_aggregates(org: Org, object_name: str, row: dict) -> None:
    if object_name not in AGGREGATE_PARTS:
        return
    for group_id in _groups_touched(org, object_name, row):
        _refresh_aggregate(org, org.record("PermissionSetGroup", group_id))


def _refresh_aggregate(org: Org, group: dict) -> None:
    aggregate = aggregate_set(org, group["Id"])
    if aggregate is None:
        # Name: "X" and the group id, like a profile-owned set's (the aggregate's real Name is UNVERIFIED).
        ps_id = org.insert("PermissionSet", {"Name": "X" + group["Id"][:15], "Label": group["MasterLabel"]},
                           system=True)
        aggregate = org.tables["PermissionSet"][ps_id]
        aggregate.update(PermissionSetGroupId=group["Id"], Type="Group", IsCustom=False)
    members = [org.record("PermissionSet", c["PermissionSetId"])
               for c in org.find("PermissionSetGroupComponent", PermissionSetGroupId=group["Id"])]
    members = [m for m in members if m is not None]
    granted = set().union(*(system_perms(m) for m in members)) if members else set()
    aggregate.update({k: k[len(PERM_PREFIX):] in granted for k in list(aggregate) if k.startswith(PERM_PREFIX)})
    aggregate["Label"] = group["MasterLabel"]
    for child, key, flags in (("ObjectPermissions", "SobjectType", OBJECT_PERMISSION_FIELDS),
                              ("FieldPermissions", "Field", ("PermissionsRead", "PermissionsEdit"))):
        wanted: dict = {}
        for member in members:
            for perm_row in org.find(child, ParentId=member["Id"]):
                merged = wanted.setdefault(perm_row[key], dict(SobjectType=perm_row["SobjectType"]))
                for flag in flags:
                    merged[flag] = bool(merged.get(flag) or perm_row.get(flag))
        for existing in org.find(child, ParentId=aggregate["Id"]):
            values = wanted.pop(existing[key], None)
            if values is None:
                del org.tables[child][existing["Id"]]
            else:
                existing.update(values)
        for name, values in wanted.items():
            org.insert(child, dict(values, ParentId=aggregate["Id"], **({key: name} if key == "Field" else {})),
                       system=True)


def _person_name(org: Org, row: dict, system: bool) -> None:
    """Contact and Lead Name: FirstName and LastName, as User.Name (read-only) [OBJREF Contact, Lead]."""
    row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)


def _person_name_update(org: Org, old: dict, new: dict, system: bool):
    _person_name(org, new, system)
    return None


_BEFORE_INSERT = {
    "Contact": _person_name,
    "Lead": _person_name,
    "User": _user_before_insert,
    "Profile": _profile_before_insert,
    "PermissionSet": _ps_before_insert,
    "PermissionSetAssignment": _psa_before_insert,
    "PermissionSetLicenseAssign": _psla_before_insert,
    "ObjectPermissions": _op_before_insert,
    "FieldPermissions": _fp_before_insert,
    "PermissionSetGroup": _psg_before_insert,
}
_AFTER_INSERT = {
    "User": _user_after_insert,
    "Profile": _profile_after_insert,
    "ObjectPermissions": _op_after_insert,
    "FieldPermissions": _fp_after_insert,
}
_BEFORE_UPDATE = {
    "Contact": _person_name_update,
    "Lead": _person_name_update,
    "User": _user_before_update,
    "UserLogin": _userlogin_before_update,
    "Profile": _profile_before_update,
    "PermissionSet": _ps_before_update,
    "PermissionSetAssignment": _psa_before_update,
    "ObjectPermissions": _op_before_update,
    "FieldPermissions": _fp_before_update,
}
_BEFORE_DELETE = {
    "Profile": _profile_before_delete,
    "PermissionSet": _ps_before_delete,
    "PermissionSetAssignment": _psa_before_delete,
    "PermissionSetLicenseAssign": _psla_before_delete,
    "ObjectPermissions": _object_perm_parent_guard,
    "FieldPermissions": _object_perm_parent_guard,
}
