"""sf_permission_set against the emulator, through ansible-playbook.

Two playbook runs cover the issue's list: the first creates sets and tries every bad input, then
drift is made behind the module's back with raw REST calls, and the second finds and fixes it,
changes licenses and deletes. Snapshots of the emulator's request log between tasks tell which
tasks wrote (``writes``), so "nothing was written" is checked per task.
"""
from __future__ import annotations

import uuid

import pytest
import yaml

from ansible_collections.sfops.integration.plugins.modules import sf_permission_set
from harness import RawOrg, connection_args, failure, log_snapshot, merged, run_playbook, writes_between

MODULE = "sfops.integration.sf_permission_set"
ORG = "org1"


def unique(prefix):
    return "%s_%s" % (prefix, uuid.uuid4().hex[:8])


def task(task_name, options):
    return {"name": task_name, MODULE: options}


# ---- the first run: create, re-run, purge, every refusal --------------------------------------------------


MARKETO = dict(
    label="Marketo Integration",
    description="Access for the Marketo sync",
    system_permissions=["apienabled", "PermissionsConvertLeads"],
    object_permissions=[dict(object="lead", access=["create", "edit"]),
                        dict(object="Invoice__c", access=["edit"])],
    field_permissions=[dict(field="Lead.Email", access="edit"), dict(field="invoice__c.paid__c", access="edit"),
                       dict(field="Invoice__c.Days_Overdue__c")],
)


@pytest.fixture(scope="module")
def names():
    return dict(main=unique("Marketo"), priv=unique("Privileged"), assigned=unique("Assigned"),
                absent=unique("Absent"), bad=unique("Bad"), narrow=unique("Narrow"))


@pytest.fixture(scope="module")
def first_run(emulator, names, tmp_path_factory):
    creds = connection_args(emulator, ORG)
    main = dict(creds, name=names["main"], **MARKETO)
    bad = dict(creds, name=names["bad"])
    narrow = dict(creds, name=names["narrow"], license="Salesforce Integration",
                  object_permissions=[dict(object="Invoice__c", access=["read"])])
    tasks = [
        log_snapshot(emulator, "log0"),
        dict(task("check_create", main), check_mode=True),
        log_snapshot(emulator, "log1"),
        task("create", main),
        task("rerun", main),
        task("purge_false", merged(creds, name=names["main"], purge=False,
                                   object_permissions=[dict(object="Account", access=["read"])])),
        task("purge_true", main),
        task("narrow_create", narrow),
        log_snapshot(emulator, "log2"),
        task("unknown_names", merged(bad, system_permissions=["ApiEnable", "ModifyAllDta", "ApiEnabled"],
                                     object_permissions=[dict(object="Leed", access=["read"])],
                                     field_permissions=[dict(field="Lead.Emial"), dict(field="LeadEmail")])),
        task("unpermissionable", merged(bad, field_permissions=[dict(field="Lead.CreatedDate"),
                                                                dict(field="Invoice__c.Days_Overdue__c",
                                                                     access="edit")])),
        task("not_permissionable_object", merged(bad, object_permissions=[dict(object="User", access=["read"])])),
        task("license_refuses", merged(bad, system_permissions=["ApiEnabled", "EditHtmlTemplates"])),
        task("unknown_license", merged(bad, license="Salesforce API Integraton")),
        task("bad_name", merged(bad, name="Bad Name__", license="none")),
        task("privileged_refused", merged(bad, license="none", system_permissions=["ModifyAllData", "ViewSetup"],
                                          object_permissions=[dict(object="Lead", access=["modify_all_records"])])),
        task("license_change_refused", merged(main, license="none")),
        task("atomic_create", merged(bad, license="Salesforce Integration",
                                     object_permissions=[dict(object="Lead", access=["read"])])),
        task("atomic_update", merged(narrow, system_permissions=["PasswordNeverExpires"],
                                     object_permissions=[dict(object="Invoice__c", access=["read"]),
                                                         dict(object="Lead", access=["read"])])),
        log_snapshot(emulator, "log3"),
        task("privileged_allowed", merged(creds, name=names["priv"], allow_privileged=True,
                                          system_permissions=["ModifyMetadata", "ViewSetup"],
                                          object_permissions=[dict(object="Lead", access=["view_all_records"])])),
        task("assigned_create", merged(creds, name=names["assigned"], license="none",
                                       object_permissions=[dict(object="Account", access=["read"])])),
        task("absent_create", merged(creds, name=names["absent"], license="none")),
    ]
    emulator.clear_requests(ORG)
    return run_playbook(tmp_path_factory.mktemp("permset1"), tasks, diff=True)


def test_check_mode_create_writes_nothing(first_run):
    result = first_run["check_create"]
    assert result["changed"] is True and not result.get("failed"), result
    assert result["permission_set"]["id"] is None
    assert writes_between(first_run, "log0", "log1") == 0
    assert result["api_requests"] == 2  # login + one composite read


def test_create_reports_the_effective_permissions(first_run, names):
    result = first_run["create"]
    assert result["changed"] is True and not result.get("failed"), result
    permission_set = result["permission_set"]
    assert permission_set["id"].startswith("0PS")
    assert permission_set["name"] == names["main"]
    assert permission_set["license"] == "Salesforce API Integration"
    assert permission_set["system_permissions"] == ["ApiEnabled", "ConvertLeads"]
    assert permission_set["object_permissions"] == {"Invoice__c": ["read", "edit"], "Lead": ["read", "create", "edit"]}
    assert permission_set["field_permissions"] == {"Invoice__c.Days_Overdue__c": "read", "Invoice__c.Paid__c": "edit",
                                                   "Lead.Email": "edit"}
    assert result["api_requests"] == 3  # login, read, one all-or-none write
    assert first_run["check_create"]["permission_set"] == dict(permission_set, id=None)


def test_create_is_one_request_and_matches_the_org(first_run, emulator, names):
    raw = RawOrg(emulator, ORG)
    rows = raw.query("SELECT Id, LicenseId, PermissionsConvertLeads, (SELECT SobjectType, PermissionsCreate FROM "
                     "ObjectPerms), (SELECT Field, PermissionsEdit FROM FieldPerms) FROM PermissionSet "
                     "WHERE Name = '%s'" % names["main"])
    assert len(rows) == 1 and rows[0]["PermissionsConvertLeads"] is True
    assert sorted(r["SobjectType"] for r in rows[0]["ObjectPerms"]["records"]) == ["Invoice__c", "Lead"]
    assert len(rows[0]["FieldPerms"]["records"]) == 3
    writes = [entry for entry in first_run["log1"]["json"]["requests"] if entry["writes"]]
    assert writes == []


def test_rerun_changes_nothing(first_run):
    result = first_run["rerun"]
    assert result["changed"] is False, result
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["changes"]["system_permissions"] == dict(added=[], removed=[])
    assert result["api_requests"] == 2


def test_purge_false_only_adds_and_purge_true_removes(first_run):
    added = first_run["purge_false"]
    assert added["changed"] is True, added
    assert added["permission_set"]["object_permissions"]["Account"] == ["read"]
    assert added["permission_set"]["object_permissions"]["Lead"] == ["read", "create", "edit"]
    assert added["permission_set"]["system_permissions"] == ["ApiEnabled", "ConvertLeads"]
    assert added["changes"]["object_permissions"] == dict(added={"Account": ["read"]}, removed={})
    purged = first_run["purge_true"]
    assert purged["changed"] is True, purged
    assert "Account" not in purged["permission_set"]["object_permissions"]
    assert purged["changes"]["object_permissions"] == dict(added={}, removed={"Account": ["read"]})
    assert "Account" in purged["diff"]["before"]["object_permissions"]
    assert "Account" not in purged["diff"]["after"]["object_permissions"]


def test_every_refusal_wrote_nothing(first_run):
    assert writes_between(first_run, "log2", "log3") == 0


def test_unknown_names_are_listed_with_the_closest_valid_ones(first_run):
    msg = failure(first_run, "unknown_names")
    assert "'ApiEnable' (did you mean ApiEnabled" in msg
    assert "'ModifyAllDta' (did you mean ModifyAllData" in msg
    assert "unknown object 'Leed' (did you mean Lead?)" in msg
    assert "'Lead.Emial' (did you mean Lead.Email" in msg
    assert "'LeadEmail' must be written Object.Field" in msg


def test_fields_salesforce_takes_no_permissions_on_are_refused(first_run):
    msg = failure(first_run, "unpermissionable")
    assert "Lead.CreatedDate takes no field permissions" in msg
    assert "Invoice__c.Days_Overdue__c is a formula or auto-number field: only read access" in msg
    assert "object 'User' takes no object or field permissions" in failure(first_run, "not_permissionable_object")


def test_license_is_checked_before_writing(first_run):
    msg = failure(first_run, "license_refuses")
    assert "license 'Salesforce API Integration' does not allow" in msg
    assert "EditHtmlTemplates (Edit HTML Templates)" in msg
    assert "ApiEnabled" not in msg
    assert "unknown license 'Salesforce API Integraton' (did you mean Salesforce API Integration" in \
        failure(first_run, "unknown_license")


def test_invalid_api_name_is_refused_before_writing(first_run):
    assert "name 'Bad Name__' is not a valid API name" in failure(first_run, "bad_name")


def test_privileged_refused_and_allowed_with_a_warning(first_run):
    msg = failure(first_run, "privileged_refused")
    assert "ModifyAllData (Modify All Data)" in msg and "Lead: view_all_records, modify_all_records" in msg
    assert "allow_privileged" in msg
    allowed = first_run["privileged_allowed"]
    assert allowed["changed"] is True and not allowed.get("failed"), allowed
    assert allowed["permission_set"]["object_permissions"] == {"Lead": ["read", "view_all_records"]}
    warnings = " ".join(allowed.get("warnings", []))
    assert "ModifyMetadata" in warnings and "Lead: view_all_records" in warnings


def test_license_change_is_refused_with_an_explanation(first_run):
    msg = failure(first_run, "license_change_refused")
    assert "Salesforce cannot change the license" in msg and "recreate_on_license_change: true" in msg


def test_writes_are_all_or_none(first_run, emulator, names):
    assert "doesn't allow the permission" in failure(first_run, "atomic_create")
    msg = failure(first_run, "atomic_update")
    assert msg.startswith("Salesforce refused to update permission set %s" % names["narrow"])
    assert "doesn't allow the permission: Read Lead" in msg
    raw = RawOrg(emulator, ORG)
    assert raw.query("SELECT Id FROM PermissionSet WHERE Name = '%s'" % names["bad"]) == []
    narrow = raw.query("SELECT PermissionsPasswordNeverExpires, (SELECT SobjectType FROM ObjectPerms) "
                       "FROM PermissionSet WHERE Name = '%s'" % names["narrow"])[0]
    assert narrow["PermissionsPasswordNeverExpires"] is False
    assert [r["SobjectType"] for r in narrow["ObjectPerms"]["records"]] == ["Invoice__c"]


# ---- drift behind the module's back, license changes, deletion -----------------------------------------------


def make_drift(raw, name):
    """Extra object permission, removed field permission, system permission switched off."""
    record = raw.query("SELECT Id, (SELECT Id, Field FROM FieldPerms) FROM PermissionSet WHERE Name = '%s'" % name)[0]
    raw.create("ObjectPermissions", dict(ParentId=record["Id"], SobjectType="Account", PermissionsRead=True))
    email = [row for row in record["FieldPerms"]["records"] if row["Field"] == "Lead.Email"][0]
    raw.call("DELETE", "sobjects/FieldPermissions/%s" % email["Id"])
    raw.call("PATCH", "sobjects/PermissionSet/%s" % record["Id"], json=dict(PermissionsConvertLeads=False))


@pytest.fixture(scope="module")
def second_run(first_run, emulator, names, tmp_path_factory):
    raw = RawOrg(emulator, ORG)
    make_drift(raw, names["main"])
    for name in ("assigned", "absent"):
        set_id = raw.query("SELECT Id FROM PermissionSet WHERE Name = '%s'" % names[name])[0]["Id"]
        raw.create("PermissionSetAssignment", dict(AssigneeId=raw.user_id, PermissionSetId=set_id))
    creds = connection_args(emulator, ORG)
    main = dict(creds, name=names["main"], **MARKETO)
    assigned = dict(creds, name=names["assigned"], object_permissions=[dict(object="Account", access=["read"])])
    tasks = [
        log_snapshot(emulator, "log0"),
        dict(task("drift_check", main), check_mode=True),
        dict(task("absent_check", merged(creds, name=names["priv"], state="absent")), check_mode=True),
        log_snapshot(emulator, "log1"),
        task("drift_fix", main),
        task("drift_rerun", main),
        task("recreate_refused", merged(assigned, license="Salesforce")),
        task("absent_refused", merged(creds, name=names["absent"], state="absent")),
        log_snapshot(emulator, "log2"),
        task("recreate", merged(assigned, license="Salesforce", recreate_on_license_change=True)),
        task("recreate_rerun", merged(assigned, license="Salesforce")),
        task("absent_with_assignments", merged(creds, name=names["absent"], state="absent", remove_assignments=True)),
        task("absent", merged(creds, name=names["priv"], state="absent")),
        task("absent_again", merged(creds, name=names["priv"], state="absent")),
    ]
    tasks += documented_examples(creds)
    return run_playbook(tmp_path_factory.mktemp("permset2"), tasks, diff=True), raw


def documented_examples(creds):
    """The documented Marketo and accounting examples, under unique names and labels (an org refuses a taken
    label as it refuses a taken name), as tasks."""
    examples = [example for example in yaml.safe_load(sf_permission_set.EXAMPLES)
                if example["name"].startswith(("Marketo syncs", "The accounting integration")) and MODULE in example]
    return [task("example%d" % index, merged(creds, **dict(example[MODULE], name=unique(example[MODULE]["name"]),
                                                           label=unique(example[MODULE].get("label", "Example")))))
            for index, example in enumerate(examples)]


def test_the_documented_examples_work(second_run):
    run, _raw = second_run
    marketo, accounting = run["example0"], run["example1"]
    assert marketo["changed"] is True and not marketo.get("failed"), marketo
    assert len(marketo["permission_set"]["object_permissions"]) == 6
    assert accounting["permission_set"]["object_permissions"] == {"Invoice__c": ["read", "edit"]}
    assert accounting["permission_set"]["field_permissions"] == {"Invoice__c.External_Id__c": "read",
                                                                 "Invoice__c.Paid__c": "edit"}


def test_drift_found_in_check_mode_and_fixed(second_run):
    run, raw = second_run
    found = run["drift_check"]
    assert found["changed"] is True, found
    assert found["changes"]["system_permissions"] == dict(added=["ConvertLeads"], removed=[])
    assert found["changes"]["object_permissions"] == dict(added={}, removed={"Account": ["read"]})
    assert found["changes"]["field_permissions"] == dict(added={"Lead.Email": ["read", "edit"]}, removed={})
    assert found["diff"]["before"]["system_permissions"] == ["ApiEnabled"]
    assert found["diff"]["after"]["system_permissions"] == ["ApiEnabled", "ConvertLeads"]
    assert "Lead.Email" not in found["diff"]["before"]["field_permissions"]
    assert writes_between(run, "log0", "log1") == 0
    fixed = run["drift_fix"]
    assert fixed["changed"] is True and fixed["changes"] == found["changes"], fixed
    assert run["drift_rerun"]["changed"] is False


def test_drift_fix_reached_the_org(second_run, names):
    _run, raw = second_run
    record = raw.query("SELECT PermissionsConvertLeads, (SELECT SobjectType FROM ObjectPerms), (SELECT Field, "
                       "PermissionsEdit FROM FieldPerms) FROM PermissionSet WHERE Name = '%s'" % names["main"])[0]
    assert record["PermissionsConvertLeads"] is True
    assert sorted(r["SobjectType"] for r in record["ObjectPerms"]["records"]) == ["Invoice__c", "Lead"]
    assert {"Field": "Lead.Email", "PermissionsEdit": True} in [
        dict((k, r[k]) for k in ("Field", "PermissionsEdit")) for r in record["FieldPerms"]["records"]]


def test_refusals_name_the_assignees_and_write_nothing(second_run):
    run, _raw = second_run
    entries = run["log2"]["json"]["requests"][len(run["log1"]["json"]["requests"]):]
    assert len([entry for entry in entries if entry["writes"]]) == 1  # the drift fix, nothing else
    msg = failure(run, "absent_refused")
    assert "assigned to 1 user(s)" in msg and "remove_assignments: true" in msg
    assert "admin." in msg  # the seeded administrator's username
    assert "recreate_on_license_change" in failure(run, "recreate_refused")


def test_recreate_replaces_the_set_and_reassigns(second_run, names):
    run, raw = second_run
    result = run["recreate"]
    assert result["changed"] is True and result.get("recreated") is True, result
    assert result["permission_set"]["license"] == "Salesforce"
    assert result["changes"]["properties"]["license"] == "Salesforce"
    assert result["diff"]["before"]["license"] == "none" and result["diff"]["after"]["license"] == "Salesforce"
    assert run["recreate_rerun"]["changed"] is False, run["recreate_rerun"]
    record = raw.query("SELECT Id, LicenseId, (SELECT AssigneeId FROM Assignments), (SELECT SobjectType FROM "
                       "ObjectPerms) FROM PermissionSet WHERE Name = '%s'" % names["assigned"])[0]
    assert record["Id"] == result["permission_set"]["id"]
    assert [r["AssigneeId"] for r in record["Assignments"]["records"]] == [raw.user_id]
    assert [r["SobjectType"] for r in record["ObjectPerms"]["records"]] == ["Account"]
    assert record["LicenseId"]


def test_absent(second_run, names):
    run, raw = second_run
    assert run["absent_check"]["changed"] is True
    removed = run["absent_with_assignments"]
    assert removed["changed"] is True, removed
    assert run["absent"]["changed"] is True
    assert run["absent_again"]["changed"] is False
    for name in ("absent", "priv"):
        assert raw.query("SELECT Id FROM PermissionSet WHERE Name = '%s'" % names[name]) == []
