"""playbooks/export.yml and sf_integration_export: adopting integration users set up by hand.

Integration users are set up in org1 through the raw REST API, as an admin would by hand: two active users
on the integration profile, with permission sets of their own (object, field and system permissions, one
privileged), a set they share, a permission set group, and an inactive third user. org2 has no integration
user. The export writes reports/export-<org>.yml for both in bounded requests and changes nothing; a
check-mode rollout with org1's file then reports no change: the round trip holds.

The emulator is this module's own (two orgs), so the shared orgs of other test files are untouched.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from collection_path import COLLECTIONS, REPO, ensure_collection_path
from harness import EmulatorProcess, connection_args, failure, run_playbook
from test_role_integration_users import OrgApi, Rollout

EXPORT = os.path.join(REPO, "playbooks", "export.yml")
MODULE = "sfops.integration.sf_integration_export"
AUDITOR, AUDITOR_PASSWORD = "auditor@export.example.org1", "Auditor-Secret-42"
PROFILE = "Minimum Access - API Only Integrations"


class HandMade(OrgApi):
    """The raw REST calls of an admin setting up integrations by hand."""

    def create(self, sobject, **fields):
        answer = self.http.post(self.base + "sobjects/%s/" % sobject, json=fields)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def new_user(self, username, active=True):
        profile = self.one("SELECT Id FROM Profile WHERE Name = '%s'" % PROFILE)["Id"]
        local = username.split("@")[0]
        user_id = self.create("User", Username=username, Email="sf-ops@acme.example", LastName=local.title(),
                              FirstName="Sync", Alias=local[:8], CommunityNickname=local, TimeZoneSidKey="GMT",
                              LocaleSidKey="en_US", LanguageLocaleKey="en_US", EmailEncodingKey="UTF-8",
                              ProfileId=profile, Title="Integration user")
        if not active:
            self.write("PATCH", "sobjects/User/%s" % user_id, IsActive=False)
        return user_id

    def permission_set(self, name, objects=(), fields=(), system=()):
        psl = self.one("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")["Id"]
        values = dict(Name=name, Label=name.replace("_", " "), LicenseId=psl)
        values.update(("Permissions" + permission, True) for permission in system)
        set_id = self.create("PermissionSet", **values)
        for sobject, read, edit, *view_all in objects:
            self.create("ObjectPermissions", ParentId=set_id, SobjectType=sobject, PermissionsRead=read,
                        PermissionsEdit=edit, PermissionsCreate=edit, PermissionsViewAllRecords=bool(view_all))
        for field, edit in fields:
            self.create("FieldPermissions", ParentId=set_id, SobjectType=field.split(".")[0], Field=field,
                        PermissionsRead=True, PermissionsEdit=edit)
        return set_id

    def assign(self, user_id, set_id=None, group_id=None):
        if group_id:
            self.create("PermissionSetAssignment", AssigneeId=user_id, PermissionSetGroupId=group_id)
        else:
            self.create("PermissionSetAssignment", AssigneeId=user_id, PermissionSetId=set_id)


def set_up_by_hand(emulator, org):
    api = HandMade(emulator, org)
    etl, billing = api.new_user("etl.sync@acme.example.org1"), api.new_user("billing.sync@acme.example.org1")
    api.new_user("old.sync@acme.example.org1", active=False)
    accounts = api.permission_set("ETL_Accounts", objects=[("Account", True, False), ("Contact", True, True)],
                                  fields=[("Contact.Email", True)])
    # View All Records is privileged: exported with allow_privileged and a review note.
    leads = api.permission_set("ETL_Leads", objects=[("Lead", True, True, True)], system=["ConvertLeads"])
    shared = api.permission_set("Shared_Reporting", objects=[("Campaign", True, False)])
    invoices = api.permission_set("Billing_Invoices", objects=[("Invoice__c", True, True)],
                                  fields=[("Invoice__c.Paid__c", True)])
    member = api.permission_set("Opportunity_Reader", objects=[("Opportunity", True, False)])
    group = api.create("PermissionSetGroup", DeveloperName="Sync_Group", MasterLabel="Sync Group")
    api.create("PermissionSetGroupComponent", PermissionSetGroupId=group, PermissionSetId=member)
    for set_id in (accounts, leads, shared):
        api.assign(etl, set_id)  # the first one assigns the PSL the group's set needs
    api.assign(etl, group_id=group)
    for set_id in (invoices, shared):
        api.assign(billing, set_id)


def run_export(workdir, emulator, *args):
    ensure_collection_path()
    rollout = Rollout(workdir, emulator)  # its inventory: every org, as the rollout reads it
    for org in emulator.orgs:
        emulator.clear_requests(org)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(str(workdir), "ansible-tmp"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", rollout.inventory, EXPORT,
               "-e", "sf_export_dir=%s" % os.path.join(str(workdir), "exported")] + list(args)
    proc = subprocess.run(command, cwd=str(workdir), env=env, capture_output=True, text=True, timeout=300, check=False)
    return rollout, proc.returncode, proc.stdout + proc.stderr


def exported(workdir, org):
    path = os.path.join(str(workdir), "exported", "export-%s.yml" % org)
    with open(path) as handle:
        text = handle.read()
    return path, text, yaml.safe_load(text)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    emulator = EmulatorProcess(tmp_path_factory.mktemp("export-emulator"), orgs=2)
    set_up_by_hand(emulator, "org1")
    workdir = tmp_path_factory.mktemp("export")
    rollout, rc, output = run_export(workdir, emulator, "--check")
    logs = dict((org, emulator.requests(org)) for org in emulator.orgs)
    yield emulator, workdir, rollout, rc, output, logs
    emulator.stop()


def test_the_export_describes_each_integration_user(export):
    _emulator, workdir, _rollout, rc, output, _logs = export
    assert rc == 0, output[-3000:]
    path, text, data = exported(workdir, "org1")
    by_user = dict((entry["user"]["username"], entry) for entry in data["sf_integrations"])
    assert sorted(by_user) == ["billing.sync@acme.example.org1", "etl.sync@acme.example.org1"]  # the inactive one left out
    etl = by_user["etl.sync@acme.example.org1"]
    assert etl["name"] == "etl_sync"
    assert etl["user"]["last_name"] == "Etl.Sync" and etl["user"]["title"] == "Integration user"
    sets = dict((s["name"], s) for s in etl["permission_sets"])
    assert sorted(sets) == ["ETL_Accounts", "ETL_Leads"]
    assert sets["ETL_Accounts"]["object_permissions"] == [dict(object="Account", access=["read"]),
                                                          dict(object="Contact", access=["read", "create", "edit"])]
    assert sets["ETL_Accounts"]["field_permissions"] == [dict(field="Contact.Email", access="edit")]
    assert sets["ETL_Accounts"]["license"] == "Salesforce API Integration"
    assert sets["ETL_Leads"]["system_permissions"] == ["ApiEnabled", "ConvertLeads"]
    lead_access = ["read", "create", "edit", "view_all_records"]
    assert sets["ETL_Leads"]["object_permissions"] == [dict(object="Lead", access=lead_access)]
    assert sets["ETL_Leads"]["allow_privileged"] is True and "allow_privileged" not in sets["ETL_Accounts"]
    assert etl["extra_permission_sets"] == ["Shared_Reporting"]  # shared with the billing user: by name
    assert etl["permission_set_groups"] == ["Sync_Group"]
    billing = by_user["billing.sync@acme.example.org1"]
    assert [s["name"] for s in billing["permission_sets"]] == ["Billing_Invoices"]
    assert billing["extra_permission_sets"] == ["Shared_Reporting"] and billing["permission_set_groups"] == []
    assert data["sf_integration_profile"] == PROFILE and data["sf_integration_password_policy"] == {}
    # The comment header: org, date, what to review, the notes.
    assert text.startswith("# sf_integrations exported from org1 (Emulated Org 1, ")
    assert "Review before adopting" in text and "sf_integration_exclusive" in text
    comments = " ".join(line.lstrip("# ") for line in text.splitlines() if line.lstrip().startswith("#"))
    assert "review: permission set ETL_Leads holds privileged access" in comments and "Lead: view_all_records" in comments
    assert "Shared_Reporting is assigned to 2 users" in comments
    assert "Not exported: old.sync@acme.example.org1 (inactive)." in comments
    assert "--limit org1 -e @THIS_FILE --check --diff" in text


def test_reads_are_bounded_and_nothing_is_written(export):
    _emulator, _workdir, _rollout, _rc, _output, logs = export
    for org, composites in (("org1", 2), ("org2", 1)):
        rest = [entry for entry in logs[org] if entry["kind"] == "rest"]
        # Two composite requests whatever the number of users and sets (one without integration users).
        assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in rest] == [("POST", "composite")] * composites, rest
        assert sum(entry.get("writes", 0) for entry in logs[org]) == 0


def test_an_org_without_integration_users_gets_an_empty_list_and_a_message(export):
    _emulator, workdir, _rollout, _rc, output, _logs = export
    _path, text, data = exported(workdir, "org2")
    assert data["sf_integrations"] == []
    assert "# No integration users in this org" in text
    assert "org2: No integration users in this org" in output


def test_a_check_mode_rollout_with_the_export_changes_nothing(export):
    emulator, workdir, rollout, _rc, _output, _logs = export
    path, _text, _data = exported(workdir, "org1")
    rc, output, report, markdown = rollout.run("-e", "@" + path, check=True, orgs=["org1"])
    assert rc == 0, output[-3000:]
    [record] = report["orgs"]
    assert record["status"] == "unchanged", record["changes"]
    assert [c for c in record["changes"] if c["action"] != "none"] == [], record["changes"]
    assert sum(entry.get("writes", 0) for entry in emulator.requests("org1")) == 0
    assert "No change needed: the org already matches." in markdown


def test_the_readme_auditor_set_is_enough_and_less_is_named(export, tmp_path):
    """Least privilege: a user with only the README's auditor set (API Enabled, View Setup and Configuration,
    Monitor Login History) exports the same entries as the administrator; without View Setup it is told."""
    emulator, workdir, _rollout, _rc, _output, _logs = export
    org = "org1"
    emulator._admin("POST", org, "users", dict(users=[dict(username=AUDITOR, profile="Standard User",
                                                           password=AUDITOR_PASSWORD)]))
    token = emulator._admin("GET", org, "security_token?username=" + AUDITOR)["security_token"]
    as_auditor = connection_args(emulator, org, username=AUDITOR, password=AUDITOR_PASSWORD, security_token=token)
    admin = connection_args(emulator, org)
    assign = dict({k: v for k, v in admin.items() if k not in ("username", "password")}, login_username=admin["username"],
                  login_password=admin["password"], username=AUDITOR, permission_sets=["Integration_Auditor"])
    run = run_playbook(tmp_path, [
        {"name": "nothing", MODULE: as_auditor},
        {"name": "auditor_set", "sfops.integration.sf_permission_set": dict(
            admin, name="Integration_Auditor", license="none",
            system_permissions=["ApiEnabled", "ViewSetup", "MonitorLoginHistory"])},
        {"name": "assign", "sfops.integration.sf_permset_assignment": assign},
        {"name": "auditor", MODULE: as_auditor},
        {"name": "admin", MODULE: admin},
    ])
    message = failure(run, "nothing")
    assert "View Setup and Configuration (ViewSetup)" in message and "nothing was changed" in message
    for name in ("auditor_set", "assign", "auditor"):
        assert not run[name].get("failed"), run[name]
    assert run["auditor"]["integrations"] == run["admin"]["integrations"]
    assert [i["user"]["username"] for i in run["admin"]["integrations"]] == [
        "billing.sync@acme.example.org1", "etl.sync@acme.example.org1"]  # not the auditor, on a full license
    assert run["auditor"]["changed"] is False and run["auditor"]["change"]["action"] == "none"
    assert run["auditor"]["api_requests"] == 3  # the login and two composite requests
