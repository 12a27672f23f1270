"""The sObjects an emulated org knows: fields with their describe properties.

Sources, cited per object: Salesforce Object Reference [OBJREF] pages for each object, the Field
Reference [FIELDREF] for lengths and labels; see ../../shared/reference/salesforce_api.md section 3
and docs/emulator.md. The schema is the same for every org.
"""
from __future__ import annotations

from .history import setup_audit_trail
from .model import ChildRelationship, FieldDef, ObjectDef

# System permissions: API name (PermissionSet/Profile field minus "Permissions") -> UI label.
# [FIELDREF] MutingPermissionSet and PermissionSetLicense tables (reference section 4).
SYSTEM_PERMISSIONS: dict[str, str] = {
    "ApiEnabled": "API Enabled",
    "ApiUserOnly": "API Only User",
    "PasswordNeverExpires": "Password Never Expires",
    "ViewAllData": "View All Data",
    "ModifyAllData": "Modify All Data",
    "ViewAllUsers": "View All Users",
    "ManageUsers": "Manage Users",
    "ManageInternalUsers": "Manage Internal Users",
    "AssignPermissionSets": "Assign Permission Sets",
    "ManageProfilesPermissionsets": "Manage Profiles and Permission Sets",
    "CustomizeApplication": "Customize Application",
    "AuthorApex": "Author Apex",
    "BulkApiHardDelete": "Bulk API Hard Delete",
    "ManageRoles": "Manage Roles",
    "ManageLoginAccessPolicies": "Manage Login Access Policies",
    "ManagePasswordPolicies": "Manage Password Policies",
    "ResetPasswords": "Reset User Passwords and Unlock Users",
    "ManageTwoFactor": "Manage Multi-Factor Authentication in API",
    "DelegatedTwoFactor": "Manage Multi-Factor Authentication in User Interface",
    "TwoFactorApi": "Multi-Factor Authentication for API Logins",
    "ForceTwoFactor": "Multi-Factor Authentication for User Interface Logins",
    "BypassMFAForUiLogins": "Waive Multi-Factor Authentication for Exempt Users",
    "ViewEncryptedData": "View Encrypted Data",
    "DataExport": "Weekly Data Export",
    "TransferAnyEntity": "Transfer Record",
    "UpdateWithInactiveOwner": "Update Records with Inactive Owners",
    "ViewRoles": "View Roles and Role Hierarchy",
    "ViewSetup": "View Setup and Configuration",
    "RunReports": "Run Reports",
    "ConvertLeads": "Convert Leads",
    "ManageLeads": "Manage Leads",
    "ImportLeads": "Import Leads",
    "EditEvent": "Edit Events",
    "EditTask": "Edit Tasks",
    "TransferAnyCase": "Transfer Cases",
    "TransferAnyLead": "Transfer Leads",
    "LightningExperienceUser": "Lightning Experience User",
    "ManageAuthProviders": "Manage Auth. Providers",
    "ManageIpAddresses": "Manage IP Addresses",
    "OutboundMigrationToolsUser": "Create and Upload Change Sets",
    "InboundMigrationToolsUser": "Deploy Change Sets",
    "EditHtmlTemplates": "Edit HTML Templates",
    "ScheduleReports": "Schedule Reports",
    "CreateCustomizeReports": "Create and Customize Reports",
    "CreateCustomizeDashboards": "Create and Customize Dashboards",
    "ManageDashboards": "Manage Dashboards",
    "ModifyMetadata": "Modify Metadata Through Metadata API Functions",
    "FreezeUsers": "Freeze Users",
    "ManageSharing": "Manage Sharing",
    "MonitorLoginHistory": "Monitor Login History",
    "ManageCustomPermissions": "Manage Custom Permissions",
    "ViewEventLogFiles": "View Event Log Files",
    "ViewPublicDashboards": "View Dashboards in Public Folders",
    "ViewPublicReports": "View Reports in Public Folders",
    "ViewPlatformEvents": "View Real-Time Event Monitoring Data",
    "ViewDataLeakageEvents": "View Threat Detection Events",
}

# "Requires these permissions" (reference section 4, 3P transcription of Setup UI tooltips).
# Enforced on PermissionSet/Profile saves as FIELD_INTEGRITY_EXCEPTION "... depends on permission(s)".
PERMISSION_DEPENDENCIES: dict[str, list[str]] = {
    "ManageUsers": ["ResetPasswords", "ViewAllUsers", "FreezeUsers", "ManageProfilesPermissionsets",
                    "AssignPermissionSets", "ManageRoles", "ManageIpAddresses", "ManageSharing",
                    "MonitorLoginHistory", "ViewSetup", "ManageInternalUsers", "ManagePasswordPolicies",
                    "ManageLoginAccessPolicies", "DelegatedTwoFactor"],
    "ModifyAllData": ["ViewAllData", "ModifyMetadata", "RunReports", "ViewSetup", "TransferAnyEntity",
                      "ImportLeads", "TransferAnyLead", "ConvertLeads", "EditTask", "EditEvent"],
    "ViewAllData": ["ViewSetup", "ViewEventLogFiles", "ViewPublicDashboards", "ViewPublicReports",
                    "ViewPlatformEvents", "ViewDataLeakageEvents"],
    "AuthorApex": ["ViewSetup", "ModifyMetadata"],
    "CustomizeApplication": ["ViewSetup", "ManageCustomPermissions"],
    "ManageAuthProviders": ["ManageUsers", "AuthorApex"],
    "ManageTwoFactor": ["ManageUsers"],
    "TwoFactorApi": ["ForceTwoFactor"],
    "CreateCustomizeReports": ["RunReports"],
    "ResetPasswords": ["ViewSetup"],
    "ModifyMetadata": ["ViewSetup"],
}

# ObjectPermissions dependencies [OBJREF ObjectPermissions, per-field notes].
OBJECT_PERMISSION_FIELDS = ["PermissionsRead", "PermissionsCreate", "PermissionsEdit", "PermissionsDelete",
                            "PermissionsViewAllRecords", "PermissionsModifyAllRecords", "PermissionsViewAllFields"]
OBJECT_PERMISSION_LABELS = {"PermissionsRead": "Read", "PermissionsCreate": "Create", "PermissionsEdit": "Edit",
                            "PermissionsDelete": "Delete", "PermissionsViewAllRecords": "View All",
                            "PermissionsModifyAllRecords": "Modify All", "PermissionsViewAllFields": "View All Fields"}
OBJECT_PERMISSION_DEPENDENCIES = {
    "PermissionsCreate": ["PermissionsRead"],
    "PermissionsEdit": ["PermissionsRead"],
    "PermissionsDelete": ["PermissionsRead", "PermissionsEdit"],
    "PermissionsViewAllRecords": ["PermissionsRead"],
    "PermissionsModifyAllRecords": ["PermissionsRead", "PermissionsEdit", "PermissionsDelete",
                                    "PermissionsViewAllRecords"],
    "PermissionsViewAllFields": ["PermissionsRead"],
}

# Data objects whose access permission sets grant; the standard ones need a license that allows
# standard objects (reference 3.12).
STANDARD_DATA_OBJECTS = ["Account", "Contact", "Lead", "Opportunity", "Campaign", "CampaignMember", "Case",
                         "Task", "Event"]
CUSTOM_DATA_OBJECTS = ["Invoice__c"]

TIME_ZONES = ["GMT", "Europe/London", "Europe/Amsterdam", "Europe/Berlin", "Europe/Paris", "America/New_York",
              "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo",
              "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg"]
LOCALES = ["en_US", "en_GB", "en_AU", "en_CA", "en_IE", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT", "ja_JP",
           "pt_BR", "sv_SE"]
LANGUAGES = ["en_US", "en_GB", "de", "fr", "nl_NL", "es", "it", "ja", "pt_BR", "sv"]
EMAIL_ENCODINGS = ["UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312"]


def _audit_fields(obj: ObjectDef, deletable: bool = True) -> None:
    """Id and the system audit fields: not createable, not updateable, not permissionable [OBJREF]; defaulted on
    create, Id labelled "<Object> ID" and an idLookup (describes recorded from real orgs: DESCRIBE_SOURCE)."""
    ro = dict(createable=False, updateable=False, permissionable=False, defaulted_on_create=True)
    obj.add(FieldDef("Id", "id", f"{obj.label} ID", 18, nillable=False, id_lookup=True, **ro))
    if deletable:
        obj.add(FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, default=False, **ro))
    obj.add(FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, **ro))
    obj.add(FieldDef("CreatedById", "reference", "Created By ID", 18, nillable=False, reference_to=["User"],
                     relationship_name="CreatedBy", **ro))
    obj.add(FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, **ro))
    obj.add(FieldDef("LastModifiedById", "reference", "Last Modified By ID", 18, nillable=False,
                     reference_to=["User"], relationship_name="LastModifiedBy", **ro))
    obj.add(FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **ro))


def _ro(name: str, type_: str, label: str, length: int = 0, **kw) -> FieldDef:
    return FieldDef(name, type_, label, length, createable=False, updateable=False, permissionable=False, **kw)


def _create_only(name: str, type_: str, label: str, length: int = 0, **kw) -> FieldDef:
    return FieldDef(name, type_, label, length, createable=True, updateable=False, permissionable=False, **kw)


def _perm_fields(obj: ObjectDef, prefix: str = "Permissions", createable: bool = True) -> None:
    for api, label in SYSTEM_PERMISSIONS.items():
        obj.add(FieldDef(prefix + api, "boolean", label, createable=createable, updateable=createable,
                         nillable=False, defaulted_on_create=True, permissionable=False, default=False))


def _setup_object(name: str, label: str, prefix: str, **kw) -> ObjectDef:
    obj = ObjectDef(name, label, prefix, setup=True, **kw)
    _audit_fields(obj, deletable=False)
    return obj


def _data_object(name: str, label: str, prefix: str, custom: bool = False, queue_owned: bool = False) -> ObjectDef:
    """A data object; the creating user owns its records (store.py). Objects that queues can own (Lead, Case,
    custom objects) have a polymorphic owner, Group or User [OBJREF per object; the recorded Lead describe
    (DESCRIBE_SOURCE) and restforce spec/fixtures/sobject/sobject_describe_success_response.json]. The describe
    flags are those the recorded data objects share (Account, Contact, Lead, Opportunity, Case, Event)."""
    obj = ObjectDef(name, label, prefix, custom=custom, feed_enabled=True, layoutable=True, mru_enabled=True,
                    searchable=True, triggerable=True, undeletable=True, record_types=True)
    _audit_fields(obj)
    obj.add(FieldDef("OwnerId", "reference", "Owner ID", 18, nillable=False, defaulted_on_create=True,
                     reference_to=["Group", "User"] if queue_owned else ["User"], relationship_name="Owner",
                     permissionable=False))
    return obj


def _text(name, label, length=255, **kw):
    return FieldDef(name, "string", label, length, **kw)


def build_schema() -> dict[str, ObjectDef]:
    objs: list[ObjectDef] = []

    # Organization [OBJREF Organization]: read-only through the API.
    org = _setup_object("Organization", "Organization", "00D", createable=False, updateable=False, deletable=False)
    for f in (_ro("Name", "string", "Name", 80), _ro("OrganizationType", "picklist", "Edition", 40),
              _ro("IsSandbox", "boolean", "Is Sandbox"), _ro("InstanceName", "string", "Instance Name", 5),
              _ro("NamespacePrefix", "string", "Namespace Prefix", 15, nillable=True),
              _ro("DefaultLocaleSidKey", "picklist", "Locale", 40),
              _ro("TimeZoneSidKey", "picklist", "Default Time Zone", 40)):
        org.add(f)
    objs.append(org)

    # UserLicense [OBJREF UserLicense]: read-only.
    ul = _setup_object("UserLicense", "User License", "100", createable=False, updateable=False, deletable=False)
    for f in (_ro("Name", "string", "Name", 40), _ro("MasterLabel", "string", "Master Label", 40),
              _ro("LicenseDefinitionKey", "string", "License Definition Key", 40),
              _ro("TotalLicenses", "int", "Total Licenses"), _ro("UsedLicenses", "int", "Used Licenses"),
              _ro("Status", "picklist", "Status", 40)):
        ul.add(f)
    objs.append(ul)

    # PermissionSetLicense [OBJREF PermissionSetLicense]: read-only, MaximumPermissions* booleans.
    psl = _setup_object("PermissionSetLicense", "Permission Set License", "0PL", createable=False,
                        updateable=False, deletable=False)
    for f in (_ro("DeveloperName", "string", "Permission Set License Name", 80),
              _ro("MasterLabel", "string", "Label", 80, name_field=True),
              _ro("PermissionSetLicenseKey", "string", "Permission Set License Key", 255),
              _ro("Status", "picklist", "Status", 40), _ro("TotalLicenses", "int", "Total Licenses"),
              _ro("UsedLicenses", "int", "Used Licenses"), _ro("ExpirationDate", "date", "Expiration Date"),
              _ro("IsAvailableForIntegrations", "boolean", "Available for Integrations")):
        psl.add(f)
    for api, label in SYSTEM_PERMISSIONS.items():
        psl.add(_ro("MaximumPermissions" + api, "boolean", label))
    psl.child_relationships["permissionsetlicenseassignments"] = ChildRelationship(
        "PermissionSetLicenseAssignments", "PermissionSetLicenseAssign", "PermissionSetLicenseId")
    objs.append(psl)

    # Profile [OBJREF Profile]: UserLicenseId is create-only.
    prof = _setup_object("Profile", "Profile", "00e")
    prof.add(_text("Name", "Name", 255, nillable=False))
    prof.add(_text("Description", "Description", 255))
    prof.add(_create_only("UserLicenseId", "reference", "User License ID", 18, nillable=False,
                          reference_to=["UserLicense"], relationship_name="UserLicense"))
    prof.add(_ro("UserType", "picklist", "User Type", 40))
    prof.add(FieldDef("IsSsoEnabled", "boolean", "Is SSO Enabled", nillable=False, defaulted_on_create=True,
                      permissionable=False, default=False))
    _perm_fields(prof)
    prof.child_relationships["users"] = ChildRelationship("Users", "User", "ProfileId")
    objs.append(prof)

    # UserRole [OBJREF UserRole].
    role = _setup_object("UserRole", "Role", "00E")
    role.add(_text("Name", "Name", 80, nillable=False))
    role.add(_text("DeveloperName", "Developer Name", 80))
    role.add(FieldDef("ParentRoleId", "reference", "Parent Role ID", 18, reference_to=["UserRole"],
                      permissionable=False))
    role.add(FieldDef("OpportunityAccessForAccountOwner", "picklist", "Opportunity Access", 40,
                      picklist_values=["None", "Read", "Edit"], restricted_picklist=True,
                      defaulted_on_create=True, nillable=False, permissionable=False, default="None"))
    role.add(_text("RollupDescription", "Description", 80))
    objs.append(role)

    # Group [OBJREF Group]: public groups and queues; here only so that the polymorphic owners of Lead, Case and
    # custom objects name a type the org describes. None is seeded; a subset of its fields.
    group = _setup_object("Group", "Group", "00G")
    group.add(_text("Name", "Name", 40, nillable=False))
    group.add(_text("DeveloperName", "Developer Name", 80))
    group.add(_create_only("Type", "picklist", "Type", 40, nillable=False, picklist_values=["Regular", "Queue"],
                           restricted_picklist=True))
    group.add(FieldDef("Email", "email", "Email", 255, permissionable=False))
    objs.append(group)

    # User [OBJREF User; FIELDREF User for lengths]. No delete.
    user = _setup_object("User", "User", "005", deletable=False)
    user.add(_text("Username", "Username", 80, nillable=False))
    user.add(_text("LastName", "Last Name", 80, nillable=False))
    user.add(_text("FirstName", "First Name", 40))
    user.add(_ro("Name", "string", "Full Name", 121))
    user.add(FieldDef("Email", "email", "Email", 128, nillable=False))
    user.add(_text("Alias", "Alias", 8, nillable=False))
    user.add(_text("CommunityNickname", "Nickname", 40, nillable=False, defaulted_on_create=True))
    user.add(FieldDef("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False, picklist_values=TIME_ZONES,
                      restricted_picklist=True))
    user.add(FieldDef("LocaleSidKey", "picklist", "Locale", 40, nillable=False, picklist_values=LOCALES,
                      restricted_picklist=True))
    user.add(FieldDef("EmailEncodingKey", "picklist", "Email Encoding", 40, nillable=False,
                      picklist_values=EMAIL_ENCODINGS, restricted_picklist=True))
    user.add(FieldDef("LanguageLocaleKey", "picklist", "Language", 40, nillable=False, picklist_values=LANGUAGES,
                      restricted_picklist=True))
    user.add(FieldDef("ProfileId", "reference", "Profile ID", 18, nillable=False, reference_to=["Profile"],
                      relationship_name="Profile"))
    user.add(FieldDef("UserRoleId", "reference", "Role ID", 18, reference_to=["UserRole"],
                      relationship_name="UserRole"))
    user.add(FieldDef("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True, default=True))
    user.add(_ro("UserType", "picklist", "User Type", 40))
    for name, label in (("Title", "Title"), ("Department", "Department"), ("CompanyName", "Company Name")):
        user.add(_text(name, label, 80))
    user.add(FieldDef("AboutMe", "textarea", "About Me", 1000))
    user.add(_text("FederationIdentifier", "SAML Federation ID", 512))
    for name, label in (("UserPermissionsMarketingUser", "Marketing User"),
                        ("UserPermissionsOfflineUser", "Offline User"),
                        ("UserPermissionsKnowledgeUser", "Knowledge User"),
                        ("UserPermissionsInteractionUser", "Flow User"),
                        ("UserPermissionsSupportUser", "Service Cloud User")):
        user.add(FieldDef(name, "boolean", label, nillable=False, defaulted_on_create=True, default=False))
    user.add(_ro("LastLoginDate", "datetime", "Last Login", nillable=True))
    # [FIELDREF User]; kept by history.py (password set or reset through the API) and the seeding admin API.
    user.add(_ro("LastPasswordChangeDate", "datetime", "Last Password Change or Reset", nillable=True))
    user.add(FieldDef("ManagerId", "reference", "Manager ID", 18, reference_to=["User"], relationship_name="Manager"))
    user.child_relationships["permissionsetassignments"] = ChildRelationship(
        "PermissionSetAssignments", "PermissionSetAssignment", "AssigneeId")
    user.child_relationships["permissionsetlicenseassignments"] = ChildRelationship(
        "PermissionSetLicenseAssignments", "PermissionSetLicenseAssign", "AssigneeId")
    user.child_relationships["userlogins"] = ChildRelationship("UserLogins", "UserLogin", "UserId")
    objs.append(user)

    # UserLogin [OBJREF UserLogin]: query, retrieve, update only.
    ulog = _setup_object("UserLogin", "User Login", "0Yw", createable=False, deletable=False)  # prefix: recorded
    ulog.add(_ro("UserId", "reference", "User ID", 18, reference_to=["User"], relationship_name="User"))
    ulog.add(FieldDef("IsFrozen", "boolean", "Is Frozen", createable=False, nillable=False, permissionable=False))
    ulog.add(FieldDef("IsPasswordLocked", "boolean", "Is Password Locked", createable=False, nillable=False,
                      permissionable=False))
    objs.append(ulog)

    objs.append(_login_history())
    objs.append(setup_audit_trail())  # history.py (oauth reference B.2)

    # PermissionSet [OBJREF PermissionSet]: LicenseId create-only and polymorphic.
    ps = _setup_object("PermissionSet", "Permission Set", "0PS")
    ps.add(_text("Name", "Name", 80, nillable=False))
    ps.add(_text("Label", "Label", 80, nillable=False))
    ps.add(_text("Description", "Description", 255))
    ps.add(_create_only("LicenseId", "reference", "License ID", 18, nillable=True,
                        reference_to=["PermissionSetLicense", "UserLicense"], relationship_name="License"))
    ps.add(_ro("IsOwnedByProfile", "boolean", "Is Owned by Profile", nillable=False))
    ps.add(_ro("IsCustom", "boolean", "Custom", nillable=False))
    ps.add(_ro("ProfileId", "reference", "Profile ID", 18, nillable=True, reference_to=["Profile"],
               relationship_name="Profile"))
    ps.add(_ro("PermissionSetGroupId", "reference", "Permission Set Group ID", 18, nillable=True,
               reference_to=["PermissionSetGroup"], relationship_name="PermissionSetGroup"))
    ps.add(_ro("Type", "picklist", "Type", 40, nillable=True))
    ps.add(_ro("NamespacePrefix", "string", "Namespace Prefix", 15, nillable=True))
    ps.add(FieldDef("HasActivationRequired", "boolean", "Session Activation Required", nillable=False,
                    defaulted_on_create=True, permissionable=False, default=False))
    _perm_fields(ps)
    ps.child_relationships["assignments"] = ChildRelationship("Assignments", "PermissionSetAssignment",
                                                              "PermissionSetId")
    ps.child_relationships["objectperms"] = ChildRelationship("ObjectPerms", "ObjectPermissions", "ParentId")
    ps.child_relationships["fieldperms"] = ChildRelationship("FieldPerms", "FieldPermissions", "ParentId")
    objs.append(ps)

    # PermissionSetGroup [OBJREF PermissionSetGroup]: Status read-only (Updated/Outdated/Updating/Failed).
    psg = _setup_object("PermissionSetGroup", "Permission Set Group", "0PG")
    psg.add(_text("DeveloperName", "Developer Name", 80, nillable=False))
    psg.add(_text("MasterLabel", "Label", 80, nillable=False))
    psg.add(_text("Description", "Description", 255))
    psg.add(_ro("Status", "picklist", "Status", 40, picklist_values=["Updated", "Outdated", "Updating", "Failed"]))
    psg.add(FieldDef("HasActivationRequired", "boolean", "Session Activation Required", nillable=False,
                     defaulted_on_create=True, permissionable=False, default=False))
    psg.child_relationships["permissionsetgroupcomponents"] = ChildRelationship(
        "PermissionSetGroupComponents", "PermissionSetGroupComponent", "PermissionSetGroupId")
    objs.append(psg)

    psgc = _setup_object("PermissionSetGroupComponent", "Permission Set Group Component", "0PH", updateable=False)
    psgc.add(_create_only("PermissionSetGroupId", "reference", "Permission Set Group ID", 18, nillable=False,
                          reference_to=["PermissionSetGroup"], relationship_name="PermissionSetGroup"))
    psgc.add(_create_only("PermissionSetId", "reference", "Permission Set ID", 18, nillable=False,
                          reference_to=["PermissionSet"], relationship_name="PermissionSet"))
    objs.append(psgc)

    # PermissionSetAssignment [OBJREF PermissionSetAssignment].
    psa = _setup_object("PermissionSetAssignment", "Permission Set Assignment", "0Pa")
    psa.add(_create_only("AssigneeId", "reference", "Assignee ID", 18, nillable=False, reference_to=["User"],
                         relationship_name="Assignee"))
    psa.add(_create_only("PermissionSetId", "reference", "Permission Set ID", 18, nillable=True,
                         reference_to=["PermissionSet"], relationship_name="PermissionSet"))
    psa.add(_create_only("PermissionSetGroupId", "reference", "Permission Set Group ID", 18, nillable=True,
                         reference_to=["PermissionSetGroup"], relationship_name="PermissionSetGroup"))
    psa.add(FieldDef("ExpirationDate", "datetime", "Expiration Date", permissionable=False))
    psa.add(_ro("IsActive", "boolean", "Is Active", nillable=False))
    objs.append(psa)

    # PermissionSetLicenseAssign [OBJREF]: create, delete, query; no update.
    psla = _setup_object("PermissionSetLicenseAssign", "Permission Set License Assignment", "2LA", updateable=False)
    psla.add(_create_only("AssigneeId", "reference", "Assignee ID", 18, nillable=False, reference_to=["User"],
                          relationship_name="Assignee"))
    psla.add(_create_only("PermissionSetLicenseId", "reference", "Permission Set License ID", 18, nillable=False,
                          reference_to=["PermissionSetLicense"], relationship_name="PermissionSetLicense"))
    objs.append(psla)

    # ObjectPermissions [OBJREF ObjectPermissions]: SobjectType create-only restricted picklist.
    op = _setup_object("ObjectPermissions", "Object Permissions", "110")
    op.add(_create_only("ParentId", "reference", "Parent ID", 18, nillable=False, reference_to=["PermissionSet"],
                        relationship_name="Parent"))
    op.add(_create_only("SobjectType", "picklist", "Sobject Type Name", 40, nillable=False,
                        restricted_picklist=True))
    for name in OBJECT_PERMISSION_FIELDS:
        op.add(FieldDef(name, "boolean", OBJECT_PERMISSION_LABELS[name], nillable=False, defaulted_on_create=True,
                        permissionable=False, default=False))
    objs.append(op)

    # FieldPermissions [OBJREF FieldPermissions].
    fp = _setup_object("FieldPermissions", "Field Permissions", "01k")
    fp.add(_create_only("ParentId", "reference", "Parent ID", 18, nillable=False, reference_to=["PermissionSet"],
                        relationship_name="Parent"))
    fp.add(_create_only("SobjectType", "picklist", "Sobject Type Name", 40, nillable=False,
                        restricted_picklist=True))
    fp.add(_create_only("Field", "picklist", "Field Name", 255, nillable=False, restricted_picklist=True))
    for name, label in (("PermissionsRead", "Read"), ("PermissionsEdit", "Edit")):
        fp.add(FieldDef(name, "boolean", label, nillable=False, defaulted_on_create=True, permissionable=False,
                        default=False))
    objs.append(fp)

    # ExternalClientApplication: an External Client App's header as a read-only sObject; Metadata API saves of
    # the ExternalClientApplication type create, relabel and delete its rows (eca.py). Plain SOQL on it works
    # and its Id is what the Connect credentials resources take (oauth reference A.2, 3P). Id and
    # DeveloperName: 3P; MasterLabel, NamespacePrefix, lengths, key prefix and read-only: UNVERIFIED.
    eca = _setup_object("ExternalClientApplication", "External Client App", "0xE", createable=False,
                        updateable=False, deletable=False)
    for f in (_ro("DeveloperName", "string", "API Name", 255, nillable=False),
              _ro("MasterLabel", "string", "Label", 255, nillable=False),
              _ro("NamespacePrefix", "string", "Namespace Prefix", 15, nillable=True)):
        eca.add(f)
    objs.append(eca)

    objs.extend(_data_objects())
    schema = {o.name.lower(): o for o in objs}
    _apply_describe_facts(schema)
    data_names = STANDARD_DATA_OBJECTS + CUSTOM_DATA_OBJECTS
    for name in ("objectpermissions", "fieldpermissions"):
        schema[name].field("SobjectType").picklist_values = list(data_names)
    schema["fieldpermissions"].field("Field").picklist_values = [
        f"{o}.{f.name}" for o in data_names for f in schema[o.lower()].fields.values() if f.permissionable]
    return schema


# Where describe values come from: responses recorded from real orgs, 3P SFDO-Tooling/CumulusCI
# cumulusci/tests/shared_cassettes/GET_sobjects_<Object>_describe.yaml (Account, Case, Contact, Event, Lead,
# Opportunity, Global). What they show is set below; objects they do not cover keep the defaults of ObjectDef
# (those of the recorded setup objects) and of _data_object (docs/emulator.md "describe").
DESCRIBE_SOURCE = "SFDO-Tooling/CumulusCI cumulusci/tests/shared_cassettes"
OBJECT_FACTS: dict[str, dict] = {
    "Account": dict(mergeable=True),
    "Contact": dict(mergeable=True),
    "Lead": dict(mergeable=True),
    "Event": dict(mergeable=True),
    "Opportunity": dict(label_plural="Opportunities"),
    "Campaign": dict(feed_enabled=False),
    "CampaignMember": dict(feed_enabled=False, mru_enabled=False, searchable=False, undeletable=False,
                           record_types=False),
    "User": dict(feed_enabled=True, layoutable=True, mru_enabled=True, searchable=True, triggerable=True),
    "Organization": dict(updateable=True),  # every field read-only: a PATCH gets INVALID_FIELD_FOR_INSERT_UPDATE
    "UserLicense": dict(replicateable=False),
    "UserLogin": dict(replicateable=False, label_plural="User Login"),
    "UserRole": dict(searchable=True, label_plural="Role"),
}
_ACCOUNT_TYPES = ["Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
                  "Installation Partner", "Technology Partner", "Other"]
_INDUSTRIES = ["Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
               "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
               "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
               "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
               "Telecommunications", "Transportation", "Utilities", "Other"]
_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
           "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
_SUBJECTS = ["Call", "Email", "Meeting", "Send Letter/Quote", "Other"]
_PERSON = dict(extra_type_info="personname", compound_field_name="Name")
FIELD_FACTS: dict[tuple[str, str], dict] = {
    ("Account", "Name"): dict(name_field=True, extra_type_info="switchablepersonname"),
    ("Account", "Type"): dict(length=40, picklist_values=_ACCOUNT_TYPES),
    ("Account", "Industry"): dict(length=40, picklist_values=_INDUSTRIES),
    ("Account", "AnnualRevenue"): dict(scale=0),
    ("Contact", "Name"): dict(name_field=True, extra_type_info="personname"),
    ("Contact", "FirstName"): dict(permissionable=False, **_PERSON),
    ("Contact", "LastName"): dict(**_PERSON),
    ("Contact", "Email"): dict(id_lookup=True),
    ("Lead", "Name"): dict(name_field=True, extra_type_info="personname"),
    ("Lead", "FirstName"): dict(permissionable=False, **_PERSON),
    ("Lead", "LastName"): dict(**_PERSON),
    ("Lead", "Email"): dict(id_lookup=True),
    ("Lead", "Status"): dict(label="Status", default="Open - Not Contacted",
                             picklist_values=["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                                              "Closed - Not Converted"]),
    ("Lead", "LeadSource"): dict(picklist_values=["Web", "Phone Inquiry", "Partner Referral", "Purchased List",
                                                  "Other"]),
    ("Lead", "Rating"): dict(picklist_values=["Hot", "Warm", "Cold"]),
    ("Lead", "IsConverted"): dict(createable=True, defaulted_on_create=True, default=False),
    ("Lead", "NumberOfEmployees"): dict(digits=8),
    ("Opportunity", "Name"): dict(name_field=True, id_lookup=True),
    ("Opportunity", "StageName"): dict(picklist_values=_STAGES),
    ("Opportunity", "Amount"): dict(scale=2),
    ("Opportunity", "Probability"): dict(defaulted_on_create=True),
    ("Opportunity", "ExpectedRevenue"): dict(calculated=False, scale=2),
    ("Case", "CaseNumber"): dict(name_field=True, id_lookup=True, auto_number=True, defaulted_on_create=True),
    ("Case", "Status"): dict(length=40, nillable=True, default="New",
                             picklist_values=["New", "Working", "Escalated", "Closed"]),
    ("Case", "Priority"): dict(length=40, defaulted_on_create=True, default="Medium",
                               picklist_values=["High", "Medium", "Low"]),
    ("Case", "Origin"): dict(length=40, picklist_values=["Phone", "Email", "Web"]),
    ("Event", "Id"): dict(label="Activity ID"),
    ("Event", "OwnerId"): dict(label="Assigned To ID", reference_to=["Calendar", "User"]),
    ("Event", "Subject"): dict(type="combobox", name_field=True, permissionable=False, picklist_values=_SUBJECTS),
    ("Event", "StartDateTime"): dict(permissionable=False),
    ("Event", "EndDateTime"): dict(permissionable=False),
    # Not in the recordings; by analogy with the recorded objects (docs/emulator.md "describe").
    ("Task", "Id"): dict(label="Activity ID"),
    ("Task", "Subject"): dict(type="combobox", name_field=True, permissionable=False, picklist_values=_SUBJECTS),
    ("Campaign", "Name"): dict(name_field=True),
    ("Invoice__c", "Name"): dict(name_field=True, id_lookup=True, auto_number=True, defaulted_on_create=True),
    ("Invoice__c", "External_Id__c"): dict(external_id=True, id_lookup=True),
    ("Invoice__c", "Days_Overdue__c"): dict(scale=0),
    # Setup objects: name fields and idLookup fields of reference 3.1-3.3 [OBJREF]; the nameField of objects with a
    # DeveloperName and MasterLabel (MasterLabel) is the emulator's choice.
    ("Organization", "Name"): dict(name_field=True),
    ("UserLicense", "Name"): dict(name_field=True, id_lookup=True),
    ("PermissionSetLicense", "PermissionSetLicenseKey"): dict(id_lookup=True),
    ("Profile", "Name"): dict(name_field=True, id_lookup=True),
    ("UserRole", "Name"): dict(name_field=True),
    ("Group", "Name"): dict(name_field=True),
    ("User", "Name"): dict(name_field=True),
    ("User", "Username"): dict(id_lookup=True),
    ("User", "Email"): dict(id_lookup=True),
    ("User", "FederationIdentifier"): dict(id_lookup=True),
    ("PermissionSet", "Name"): dict(name_field=True),
    ("PermissionSetGroup", "MasterLabel"): dict(name_field=True),
    ("ExternalClientApplication", "MasterLabel"): dict(name_field=True),
}


def _apply_describe_facts(schema: dict[str, ObjectDef]) -> None:
    for name, values in OBJECT_FACTS.items():
        for key, value in values.items():
            setattr(schema[name.lower()], key, value)
    for (obj_name, field_name), values in FIELD_FACTS.items():
        f = schema[obj_name.lower()].field(field_name)
        for key, value in values.items():
            setattr(f, key, value)


# LoginHistory.LoginType as the API returns it: the labels (oauth reference B.1).
LOGIN_TYPES = ["Application", "Remote Access 2.0", "Remote Access Client", "Partner Product", "Other Apex API",
               "SAML Sfdc Initiated SSO", "SAML Idp Initiated SSO", "Certificate-based login", "Passwordless Login",
               "Lightning Login", "Third Party SSO", "Chatter Communities External User"]
LOGIN_SUB_TYPES = ["OauthClientCredentials", "OauthUsernamePassword", "OauthWebServer", "OauthRefreshToken",
                   "OauthUserAgent", "OauthTokenExchange", "UsernamePasswordUiLogin"]
# Oauth reference B.1: only these fields may appear in a WHERE clause.
LOGIN_HISTORY_FILTERABLE = {"AuthenticationServiceId", "CipherSuite", "CountryIso", "Id", "LoginTime", "LoginType",
                            "LoginUrl", "NetworkId", "OptionsIsGet", "OptionsIsPost", "TlsProtocol", "UserId"}


def _login_history() -> ObjectDef:
    """LoginHistory [OBJREF LoginHistory; oauth reference B.1]: describe, query, retrieve; the platform writes
    one row per login attempt. Types, lengths and labels as [FIELDREF LoginHistory] (Status and Platform from its
    v200 edition); SourceIp's and TlsProtocol's lengths are UNVERIFIED. AuthContextClassRef (v67) is left out:
    REST stops at v66.0."""
    lh = ObjectDef("LoginHistory", "Login History", "0Ya", setup=True, createable=False, updateable=False,
                   deletable=False)  # key prefix 0Ya: 3P record URLs
    for f in (_ro("Id", "id", "Login History Id", 18, nillable=False),
              _ro("UserId", "reference", "User ID", 18, reference_to=["User"]),
              _ro("LoginTime", "datetime", "Login Time", nillable=False),
              _ro("LoginType", "picklist", "Login Type", 40, picklist_values=LOGIN_TYPES, restricted_picklist=True),
              _ro("LoginSubType", "picklist", "Login Subtype", 40, picklist_values=LOGIN_SUB_TYPES),
              _ro("Status", "string", "Status", 128), _ro("Application", "string", "Application", 64),
              _ro("Browser", "string", "Browser", 64), _ro("Platform", "string", "Platform", 64),
              _ro("SourceIp", "string", "Source IP", 39), _ro("ForwardedForIp", "string", "Forwarded For IP", 255),
              _ro("LoginUrl", "string", "Login URL", 255), _ro("ApiType", "string", "API Type", 64),
              _ro("ApiVersion", "string", "API Version", 32), _ro("ClientVersion", "string", "Client Version", 64),
              _ro("AuthenticationServiceId", "reference", "Authentication Service ID", 18,
                  reference_to=["AuthProvider", "SamlSsoConfig"]),
              _ro("AuthMethodReference", "string", "Authentication Method Reference", 128),
              _ro("CipherSuite", "picklist", "TLS Cipher Suite", 40), _ro("TlsProtocol", "picklist", "TLS Protocol", 40),
              _ro("CountryIso", "string", "Country Code", 3),
              _ro("LoginGeoId", "reference", "Login Geo Data ID", 18, reference_to=["LoginGeo"]),
              _ro("NetworkId", "reference", "Network ID", 18, reference_to=["Network"]),
              _ro("OptionsIsGet", "boolean", "Login via GET", nillable=False),
              _ro("OptionsIsPost", "boolean", "Login via POST", nillable=False)):
        f.filterable = f.name in LOGIN_HISTORY_FILTERABLE
        lh.add(f)
    return lh


def _data_objects() -> list[ObjectDef]:
    """Standard objects and the custom Invoice__c with realistic fields [OBJREF per object]."""
    account = _data_object("Account", "Account", "001")
    account.add(_text("Name", "Account Name", 255, nillable=False, permissionable=False))  # universally required
    for name, label in (("Type", "Account Type"), ("Industry", "Industry")):
        account.add(FieldDef(name, "picklist", label, 255))
    account.add(FieldDef("Phone", "phone", "Account Phone", 40))
    account.add(FieldDef("Website", "url", "Website", 255))
    account.add(FieldDef("AnnualRevenue", "currency", "Annual Revenue"))
    account.add(_text("BillingCity", "Billing City", 40))
    account.add(_text("BillingCountry", "Billing Country", 80))

    contact = _data_object("Contact", "Contact", "003")
    contact.add(_text("LastName", "Last Name", 80, nillable=False, permissionable=False))
    contact.add(_ro("Name", "string", "Full Name", 121, nillable=False))  # FirstName LastName (rules.py)
    contact.add(_text("FirstName", "First Name", 40))
    contact.add(FieldDef("AccountId", "reference", "Account ID", 18, reference_to=["Account"],
                         relationship_name="Account"))
    contact.add(FieldDef("Email", "email", "Email", 80))
    contact.add(FieldDef("Phone", "phone", "Business Phone", 40))
    contact.add(_text("Title", "Title", 128))
    contact.add(FieldDef("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False, defaulted_on_create=True))

    lead = _data_object("Lead", "Lead", "00Q", queue_owned=True)
    lead.add(_text("LastName", "Last Name", 80, nillable=False, permissionable=False))
    lead.add(_ro("Name", "string", "Full Name", 121, nillable=False))  # FirstName LastName (rules.py)
    lead.add(_text("FirstName", "First Name", 40))
    lead.add(_text("Company", "Company", 255, nillable=False, permissionable=False))
    lead.add(FieldDef("Email", "email", "Email", 80))
    lead.add(FieldDef("Phone", "phone", "Phone", 40))
    lead.add(FieldDef("Status", "picklist", "Lead Status", 255, nillable=False, defaulted_on_create=True,
                      permissionable=False))
    lead.add(FieldDef("LeadSource", "picklist", "Lead Source", 255))
    lead.add(FieldDef("Rating", "picklist", "Rating", 255))
    lead.add(FieldDef("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False, defaulted_on_create=True))
    lead.add(_ro("IsConverted", "boolean", "Converted", nillable=False))
    lead.add(FieldDef("NumberOfEmployees", "int", "Employees"))

    opp = _data_object("Opportunity", "Opportunity", "006")
    opp.add(_text("Name", "Name", 120, nillable=False, permissionable=False))
    opp.add(FieldDef("AccountId", "reference", "Account ID", 18, reference_to=["Account"],
                     relationship_name="Account"))
    opp.add(FieldDef("StageName", "picklist", "Stage", 255, nillable=False, permissionable=False))
    opp.add(FieldDef("CloseDate", "date", "Close Date", nillable=False, permissionable=False))
    opp.add(FieldDef("Amount", "currency", "Amount"))
    opp.add(FieldDef("Probability", "percent", "Probability (%)"))
    opp.add(FieldDef("ExpectedRevenue", "currency", "Expected Amount", createable=False, updateable=False,
                     calculated=True))

    campaign = _data_object("Campaign", "Campaign", "701")
    campaign.add(_text("Name", "Name", 80, nillable=False, permissionable=False))
    campaign.add(FieldDef("Type", "picklist", "Type", 255))
    campaign.add(FieldDef("Status", "picklist", "Status", 255))
    campaign.add(FieldDef("IsActive", "boolean", "Active", nillable=False, defaulted_on_create=True))
    campaign.add(FieldDef("StartDate", "date", "Start Date"))

    member = _data_object("CampaignMember", "Campaign Member", "00v")
    member.add(_create_only("CampaignId", "reference", "Campaign ID", 18, nillable=False,
                            reference_to=["Campaign"], relationship_name="Campaign"))
    member.add(_create_only("LeadId", "reference", "Lead ID", 18, reference_to=["Lead"], relationship_name="Lead"))
    member.add(_create_only("ContactId", "reference", "Contact ID", 18, reference_to=["Contact"],
                            relationship_name="Contact"))
    member.add(FieldDef("Status", "picklist", "Status", 40))
    member.add(FieldDef("HasResponded", "boolean", "Responded", createable=False, updateable=False,
                        calculated=True))

    case = _data_object("Case", "Case", "500", queue_owned=True)
    case.add(_text("Subject", "Subject", 255))
    case.add(FieldDef("Status", "picklist", "Status", 255, nillable=False, defaulted_on_create=True,
                      permissionable=False))
    case.add(FieldDef("Priority", "picklist", "Priority", 255))
    case.add(FieldDef("Origin", "picklist", "Case Origin", 255))
    case.add(FieldDef("AccountId", "reference", "Account ID", 18, reference_to=["Account"],
                      relationship_name="Account"))
    case.add(FieldDef("Description", "textarea", "Description", 32000))
    case.add(_ro("CaseNumber", "string", "Case Number", 30, nillable=False))

    task = _data_object("Task", "Task", "00T")
    task.add(_text("Subject", "Subject", 255))
    task.add(FieldDef("Status", "picklist", "Status", 255, nillable=False, permissionable=False,
                      defaulted_on_create=True))
    task.add(FieldDef("ActivityDate", "date", "Due Date Only"))
    task.add(FieldDef("WhoId", "reference", "Name ID", 18, reference_to=["Contact", "Lead"], relationship_name="Who"))
    task.add(FieldDef("WhatId", "reference", "Related To ID", 18, reference_to=["Account", "Opportunity", "Case"],
                      relationship_name="What"))
    task.add(FieldDef("Description", "textarea", "Comments", 32000))

    event = _data_object("Event", "Event", "00U")
    event.add(_text("Subject", "Subject", 255))
    event.add(FieldDef("StartDateTime", "datetime", "Start Date Time"))
    event.add(FieldDef("EndDateTime", "datetime", "End Date Time"))
    event.add(FieldDef("Location", "string", "Location", 255))
    event.add(FieldDef("WhoId", "reference", "Name ID", 18, reference_to=["Contact", "Lead"], relationship_name="Who"))

    # Invoice__c: the accounting integration's object (seed 003): Paid__c is what it edits.
    invoice = _data_object("Invoice__c", "Invoice", "a0X", custom=True, queue_owned=True)
    invoice.add(_ro("Name", "string", "Invoice Number", 80, nillable=False))  # auto-number: not permissionable
    invoice.add(FieldDef("Account__c", "reference", "Account", 18, reference_to=["Account"],
                         relationship_name="Account__r"))
    invoice.add(FieldDef("Amount__c", "currency", "Amount", nillable=False))  # required field: not permissionable
    invoice.fields["amount__c"].permissionable = False
    invoice.add(FieldDef("Paid__c", "boolean", "Paid", nillable=False, defaulted_on_create=True, default=False))
    invoice.add(FieldDef("Date_Paid__c", "date", "Date Paid"))
    invoice.add(FieldDef("External_Id__c", "string", "External Id", 40))
    invoice.add(FieldDef("Due_Date__c", "date", "Due Date"))
    # A formula field: readable, never editable (reference 3.7).
    invoice.add(FieldDef("Days_Overdue__c", "double", "Days Overdue", createable=False, updateable=False,
                         calculated=True))
    # Child relationships as the recorded Account, Contact and Lead describes list them (DESCRIBE_SOURCE); the
    # Campaign, Opportunity, Case and Invoice ones by analogy. Usable as SOQL subqueries.
    def child(parent: ObjectDef, name: str, child_object: str, fld: str, cascade: bool = True,
              restricted: bool = False) -> None:
        parent.child_relationships[name.lower()] = ChildRelationship(name, child_object, fld, cascade, restricted)

    child(account, "Contacts", "Contact", "AccountId")
    child(account, "Opportunities", "Opportunity", "AccountId")
    child(account, "Cases", "Case", "AccountId", cascade=False, restricted=True)
    child(account, "Tasks", "Task", "WhatId")
    child(account, "Invoices__r", "Invoice__c", "Account__c", cascade=False)
    for person, fld in ((contact, "ContactId"), (lead, "LeadId")):
        child(person, "Tasks", "Task", "WhoId")
        child(person, "Events", "Event", "WhoId")
        child(person, "CampaignMembers", "CampaignMember", fld)
    child(campaign, "CampaignMembers", "CampaignMember", "CampaignId")
    child(opp, "Tasks", "Task", "WhatId")
    child(case, "Tasks", "Task", "WhatId")
    return [account, contact, lead, opp, campaign, member, case, task, event, invoice]
