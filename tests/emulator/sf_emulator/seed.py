"""A freshly provisioned Enterprise Edition org: licenses, profiles, roles, the administrator.

Sources: reference 3.3 (user licenses; 5 Salesforce Integration seats), 3.4 (the Salesforce API
Integration PSL), 3.12 (the integration profile), [OBJREF Profile/PermissionSet] for the profile-owned
permission sets. What each license allows is not published as data by Salesforce; the lists below are
the choices recorded in docs/emulator.md.
"""
from __future__ import annotations

import secrets
import string

from .schema import CUSTOM_DATA_OBJECTS, OBJECT_PERMISSION_FIELDS, STANDARD_DATA_OBJECTS, SYSTEM_PERMISSIONS
from .store import Org, now_iso

PERM = "Permissions"
INTEGRATION_LICENSE = "Salesforce Integration"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
API_INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"

# What the Salesforce Integration user license allows on its own: API access only, custom objects but
# no standard objects (reference 3.12: standard-object access needs the Salesforce API Integration PSL).
INTEGRATION_LICENSE_PERMISSIONS = {"ApiEnabled", "ApiUserOnly", "PasswordNeverExpires", "TwoFactorApi",
                                   "ForceTwoFactor"}

# MaximumPermissions of the Salesforce API Integration PSL. Reference 3.12 (3P): API Enabled (auto-on),
# View All Data, View Setup, View Roles, API Only User, Author Apex / Modify Metadata (through a set with
# no license), Password Never Expires. Modify All Data: not allowed (UNVERIFIED, the stricter choice).
# BypassMFAForUiLogins: allowed (UNVERIFIED; seed 002 puts the waiver on the integration user).
API_INTEGRATION_PSL_PERMISSIONS = {
    "ApiEnabled", "ApiUserOnly", "PasswordNeverExpires", "ViewSetup", "ViewRoles", "ViewAllData", "ViewAllUsers",
    "ViewEventLogFiles", "ViewPublicDashboards", "ViewPublicReports", "ViewPlatformEvents", "ViewDataLeakageEvents",
    "RunReports", "ConvertLeads", "ManageLeads", "ImportLeads", "TransferAnyLead", "TransferAnyCase", "EditTask",
    "EditEvent", "TransferAnyEntity", "UpdateWithInactiveOwner", "BypassMFAForUiLogins", "AuthorApex",
    "ModifyMetadata", "CreateCustomizeReports", "ScheduleReports", "TwoFactorApi", "ForceTwoFactor",
}

CONSOLE_PSL_PERMISSIONS = {"ApiEnabled", "RunReports", "EditTask", "EditEvent"}

_NOT_FOR_ADMIN = {"ApiUserOnly", "PasswordNeverExpires", "TwoFactorApi", "ForceTwoFactor", "BypassMFAForUiLogins"}
STANDARD_PROFILES = {
    "System Administrator": ("Salesforce", set(SYSTEM_PERMISSIONS) - _NOT_FOR_ADMIN),
    "Standard User": ("Salesforce", {"ApiEnabled", "RunReports", "ConvertLeads", "EditTask", "EditEvent",
                                     "ImportLeads", "CreateCustomizeReports", "LightningExperienceUser"}),
    "Read Only": ("Salesforce", {"ApiEnabled", "RunReports", "LightningExperienceUser"}),
    "Minimum Access - Salesforce": ("Salesforce", set()),
    INTEGRATION_PROFILE: (INTEGRATION_LICENSE, {"ApiEnabled", "ApiUserOnly"}),
}


def random_secret(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def seed_org(org: Org, index: int, seats: int = 5) -> dict:
    """Fill an empty org; returns the administrator's credentials for the info file."""
    org_row_id = org.insert("Organization", {}, system=True)
    org.tables["Organization"][org_row_id].update(
        Name=f"Emulated Org {index}", OrganizationType="Enterprise Edition", IsSandbox=False,
        InstanceName=f"EMU{index}", NamespacePrefix=None, DefaultLocaleSidKey="en_US", TimeZoneSidKey="GMT")
    org.org_id = org_row_id

    licenses = {}
    for name, key, total in (("Salesforce", "SFDC", 20), (INTEGRATION_LICENSE, "PID_Integration", seats)):
        lid = org.insert("UserLicense", {}, system=True)
        # LicenseDefinitionKey of the integration license is UNVERIFIED (reference 3.3).
        org.tables["UserLicense"][lid].update(Name=name, MasterLabel=name, LicenseDefinitionKey=key,
                                              TotalLicenses=total, UsedLicenses=0, Status="Active")
        licenses[name] = lid
    org.hidden["licenses"][licenses["Salesforce"]] = {"all": True}
    org.hidden["licenses"][licenses[INTEGRATION_LICENSE]] = {
        "permissions": INTEGRATION_LICENSE_PERMISSIONS, "standard_objects": False, "custom_objects": True,
        "required": ["ApiEnabled", "ApiUserOnly"]}

    for dev, label, total, allowed, users in (
            (API_INTEGRATION_PSL, "Salesforce API Integration", seats, API_INTEGRATION_PSL_PERMISSIONS,
             [licenses[INTEGRATION_LICENSE]]),
            ("LightningConsolePsl", "Lightning Console User", 10, CONSOLE_PSL_PERMISSIONS, [licenses["Salesforce"]])):
        pid = org.insert("PermissionSetLicense", {}, system=True)
        row = org.tables["PermissionSetLicense"][pid]
        row.update(DeveloperName=dev, MasterLabel=label, PermissionSetLicenseKey=dev, Status="Active",
                   TotalLicenses=total, UsedLicenses=0, ExpirationDate=None,
                   IsAvailableForIntegrations=dev == API_INTEGRATION_PSL)
        row.update({"MaximumPermissions" + p: p in allowed for p in SYSTEM_PERMISSIONS})
        org.hidden["licenses"][pid] = {"permissions": allowed, "standard_objects": True, "custom_objects": True,
                                       "user_licenses": users,
                                       "implies": ["ApiEnabled"] if dev == API_INTEGRATION_PSL else []}

    profiles = {}
    for name, (license, perms) in STANDARD_PROFILES.items():
        values = {"Name": name, "UserLicenseId": licenses[license], "Description": None}
        values.update({PERM + p: p in perms for p in SYSTEM_PERMISSIONS})
        profiles[name] = org.insert("Profile", values, system=True)
    _seed_profile_object_access(org, profiles)

    ceo = org.insert("UserRole", {"Name": "CEO", "DeveloperName": "CEO"}, system=True)
    org.insert("UserRole", {"Name": "Integration", "DeveloperName": "Integration", "ParentRoleId": ceo}, system=True)
    org.insert("UserRole", {"Name": "Sales Operations", "DeveloperName": "SalesOperations", "ParentRoleId": ceo},
               system=True)

    username = f"admin.{random_secret(8).lower()}@org{index}.emulator.test"
    password, token = random_secret(20), random_secret(24)
    admin = org.insert("User", {
        "Username": username, "LastName": "Administrator", "FirstName": f"Org{index}",
        "Email": f"admin@org{index}.emulator.test", "Alias": "admin", "CommunityNickname": f"admin{index}",
        "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
        "ProfileId": profiles["System Administrator"], "UserRoleId": ceo, "IsActive": True,
        "LastPasswordChangeDate": now_iso()}, system=True)  # its password is set here (history.py)
    org.hidden["passwords"][admin] = password
    org.hidden["tokens"][admin] = token
    for row in org.tables.values():
        for rec in row.values():
            rec["CreatedById"] = rec["LastModifiedById"] = admin
    return {"username": username, "password": password, "security_token": token, "user_id": admin}


def _seed_profile_object_access(org: Org, profiles: dict[str, str]) -> None:
    """Profile-owned sets carry the profiles' object access (admin: everything; standard: CRUD)."""
    for name, access in (("System Administrator", OBJECT_PERMISSION_FIELDS),
                         ("Standard User", ["PermissionsRead", "PermissionsCreate", "PermissionsEdit",
                                            "PermissionsDelete"]),
                         ("Read Only", ["PermissionsRead"])):
        ps = org.find_one("PermissionSet", ProfileId=profiles[name], IsOwnedByProfile=True)
        for obj in STANDARD_DATA_OBJECTS + CUSTOM_DATA_OBJECTS:
            values = {"ParentId": ps["Id"], "SobjectType": obj}
            values.update({f: f in access for f in OBJECT_PERMISSION_FIELDS})
            org.insert("ObjectPermissions", values, system=True)
