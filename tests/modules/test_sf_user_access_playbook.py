"""sf_user_access against the emulator: one user's effective access, its sources, and the cost in requests.

The shared administrator-like user is made with raw REST calls, as an admin would have made it by hand:
the Standard User profile (object access on every data object), a permission set with object and field
access, one with Modify All Data, and a permission set group whose set holds more access.
"""
from __future__ import annotations

import uuid

import pytest

from harness import RawOrg, connection_args, failure, log_snapshot, merged, run_playbook

USER_ACCESS = "sfops.integration.sf_user_access"
ORG = "org1"
BARE_PASSWORD = "Bare-Example-7q!x"
VIEW_ALL = ("ViewAllData", "ViewSetup", "ViewEventLogFiles", "ViewPublicDashboards", "ViewPublicReports",
            "ViewPlatformEvents", "ViewDataLeakageEvents")
# Modify All Data and the permissions it depends on (the emulator's dependency table, as Setup has it).
MODIFY_ALL = VIEW_ALL + ("ModifyAllData", "ModifyMetadata", "RunReports", "TransferAnyEntity", "ImportLeads",
                         "TransferAnyLead", "ConvertLeads", "EditTask", "EditEvent")


def flags(*names):
    return dict(("Permissions" + name, True) for name in names)


def shared_admin(emulator, org, suffix=None):
    """A shared, admin-like user made by hand; returns the names of what it holds."""
    suffix = suffix or uuid.uuid4().hex[:8]
    emulator.settings(org, license_seats={"Salesforce": 100})  # room for the users other test files make too
    raw = RawOrg(emulator, org)
    profile = raw.query("SELECT Id FROM Profile WHERE Name = 'Standard User'")[0]["Id"]
    names = dict(username="shared.%s@acme.example" % suffix, sync="Shared_Sync_" + suffix,
                 admin="Shared_Admin_" + suffix, group="Shared_Group_" + suffix, group_set="Shared_Reads_" + suffix)
    user_id = raw.create("User", dict(
        Username=names["username"], LastName="Shared Integration", Email="sf-ops@acme.example", Alias="shared",
        TimeZoneSidKey="GMT", LocaleSidKey="en_US", EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US",
        ProfileId=profile))
    sync = raw.create("PermissionSet", dict(Name=names["sync"], Label="Shared Sync " + suffix))
    for sobject, access in (("Account", ("Read", "Create", "Edit", "ViewAllRecords")), ("Invoice__c", ("Read", "Edit"))):
        raw.create("ObjectPermissions", dict(ParentId=sync, SobjectType=sobject, **flags(*access)))
    raw.create("FieldPermissions", dict(ParentId=sync, SobjectType="Account", Field="Account.Industry",
                                        **flags("Read", "Edit")))
    raw.create("FieldPermissions", dict(ParentId=sync, SobjectType="Invoice__c", Field="Invoice__c.Paid__c",
                                        **flags("Read", "Edit")))
    admin = raw.create("PermissionSet", dict(Name=names["admin"], Label="Shared Admin " + suffix, **flags(*MODIFY_ALL)))
    reads = raw.create("PermissionSet", dict(Name=names["group_set"], Label="Shared Reads " + suffix, **flags("ViewRoles")))
    raw.create("ObjectPermissions", dict(ParentId=reads, SobjectType="Contact", **flags("Read")))
    raw.create("FieldPermissions", dict(ParentId=reads, SobjectType="Contact", Field="Contact.Email", **flags("Read")))
    group = raw.create("PermissionSetGroup", dict(DeveloperName=names["group"], MasterLabel="Shared Group " + suffix))
    raw.create("PermissionSetGroupComponent", dict(PermissionSetGroupId=group, PermissionSetId=reads))
    for set_id in (sync, admin):
        raw.create("PermissionSetAssignment", dict(AssigneeId=user_id, PermissionSetId=set_id))
    raw.create("PermissionSetAssignment", dict(AssigneeId=user_id, PermissionSetGroupId=group))
    names["id"] = user_id
    return names


def by(items, key):
    return dict((item[key], item) for item in items)


@pytest.fixture(scope="module")
def access_run(emulator, tmp_path_factory):
    shared = shared_admin(emulator, ORG)
    raw = RawOrg(emulator, ORG)
    profile = raw.query("SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")[0]["Id"]
    bare = "bare.%s@acme.example" % uuid.uuid4().hex[:8]
    bare_id = raw.create("User", dict(Username=bare, LastName="Bare", Email="sf-ops@acme.example", Alias="bare",
                                      TimeZoneSidKey="GMT", LocaleSidKey="en_US", EmailEncodingKey="UTF-8",
                                      LanguageLocaleKey="en_US", ProfileId=profile))
    raw.call("POST", "sobjects/User/%s/password" % bare_id, json=dict(NewPassword=BARE_PASSWORD))
    token = emulator._admin("GET", ORG, "security_token?username=" + bare)["security_token"]
    creds = connection_args(emulator, ORG, "soap")
    creds = dict(login_username=creds.pop("username"), login_password=creds.pop("password"), **creds)
    args = merged(creds, username=shared["username"], permission_set_license="Salesforce API Integration")
    emulator.clear_requests(ORG)
    tasks = [
        {"name": "shared", USER_ACCESS: args},
        log_snapshot(emulator, "log", ORG),
        {"name": "narrowed", USER_ACCESS: merged(args, objects=["Account", "Lead__x"], permission_set_license=None),
         "check_mode": True},
        {"name": "bare", USER_ACCESS: merged(creds, username=bare)},
        {"name": "missing", USER_ACCESS: merged(creds, username="nobody.%s@acme.example" % uuid.uuid4().hex[:6])},
        {"name": "bad_input", USER_ACCESS: merged(creds, username=" ", objects=["Account; DROP"])},
        {"name": "bad_license", USER_ACCESS: merged(args, permission_set_license="Salesforce API Integratoin")},
        # The bare integration user itself has no View Setup and Configuration.
        {"name": "no_view_setup", USER_ACCESS: merged(creds, login_username=bare, login_password=BARE_PASSWORD,
                                                      security_token=token, username=bare)},
    ]
    return run_playbook(tmp_path_factory.mktemp("user_access"), tasks), shared, bare


def test_effective_access_and_its_sources(access_run):
    run, shared, _bare = access_run
    result = run["shared"]
    assert not result.get("failed"), result
    assert result["changed"] is False and result["change"]["action"] == "none"
    assert result["user"]["username"] == shared["username"]
    assert (result["user"]["license"], result["user"]["profile"], result["user"]["api_only"]) == (
        "Salesforce", "Standard User", False)
    assert [(s["kind"], s["name"]) for s in result["sources"]] == [
        ("profile", "Standard User"), ("permission_set", shared["admin"]), ("permission_set", shared["sync"]),
        ("permission_set_group", shared["group"])]

    objects = by(result["object_permissions"], "object")
    account = objects["Account"]
    assert account["access"] == ["read", "create", "edit", "delete", "view_all_records"]
    assert by(account["sources"], "name") == {
        "Standard User": dict(kind="profile", name="Standard User", access=["read", "create", "edit", "delete"]),
        shared["sync"]: dict(kind="permission_set", name=shared["sync"],
                             access=["read", "create", "edit", "view_all_records"])}
    assert [s["name"] for s in objects["Contact"]["sources"]] == ["Standard User", shared["group"]]

    fields = by(result["field_permissions"], "field")
    assert fields["Account.Industry"]["access"] == "edit"
    assert fields["Contact.Email"] == dict(field="Contact.Email", object="Contact", access="read", sources=[
        dict(kind="permission_set_group", name=shared["group"], access="read")])

    system = by(result["system_permissions"], "name")
    assert system["ModifyAllData"]["privileged"] is True
    assert system["ModifyAllData"]["sources"] == [dict(kind="permission_set", name=shared["admin"])]
    assert system["ModifyAllData"]["license_allows"] is False
    assert system["ViewRoles"]["sources"] == [dict(kind="permission_set_group", name=shared["group"])]
    assert system["ViewRoles"]["license_allows"] is True and system["ViewRoles"]["privileged"] is False
    assert [s["name"] for s in system["ApiEnabled"]["sources"]] == ["Standard User"]
    assert "ModifyAllData" in result["permission_set_license"]["not_allowed"]
    assert "ViewRoles" not in result["permission_set_license"]["not_allowed"]
    assert result["counts"]["objects"] == len(result["object_permissions"])


def test_bounded_requests(access_run):
    """A login and two composite requests, whatever the user holds."""
    run, _shared, _bare = access_run
    log = [entry for entry in run["log"]["json"]["requests"] if entry.get("kind") != "login"]
    assert [entry["path"].rsplit("/", 1)[-1] for entry in log] == ["composite", "composite"], log
    assert run["shared"]["api_requests"] == 3


def test_objects_narrow_and_unknown_ones_warn(access_run):
    run, _shared, _bare = access_run
    result = run["narrowed"]
    assert not result.get("failed"), result
    assert [o["object"] for o in result["object_permissions"]] == ["Account"]
    assert [f["field"] for f in result["field_permissions"]] == ["Account.Industry"]
    assert "permission_set_license" not in result
    assert any("Lead__x" in warning for warning in result.get("warnings", []))
    assert result["system_permissions"]


def test_user_without_access_is_an_empty_valid_result(access_run):
    run, _shared, bare = access_run
    result = run["bare"]
    assert not result.get("failed"), result
    assert result["user"]["api_only"] is True
    assert result["object_permissions"] == [] and result["field_permissions"] == []
    assert [s["kind"] for s in result["sources"]] == ["profile"]
    assert sorted(p["name"] for p in result["system_permissions"]) == ["ApiEnabled", "ApiUserOnly"]


def test_clear_failures(access_run):
    run, _shared, _bare = access_run
    message = failure(run, "missing")
    assert "no user with username 'nobody." in message
    message = failure(run, "bad_input")
    assert "username must name a user" in message and "objects[0]: 'Account; DROP'" in message
    assert run["bad_input"]["api_requests"] == 0
    message = failure(run, "no_view_setup")
    assert "needs API Enabled and View Setup and Configuration (ViewSetup)" in message
    message = failure(run, "bad_license")
    assert "unknown permission set license 'Salesforce API Integratoin'" in message
    assert "Salesforce API Integration" in message.split("did you mean")[1]
