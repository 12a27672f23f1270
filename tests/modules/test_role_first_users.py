"""The role as a first user meets it: input checked before the first write, one integration at a
time, the license mix-up warned about, the role used on its own failing a failed org.

Real ansible-playbook runs against two emulated orgs of this module's own.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import yaml

from collection_path import COLLECTIONS
from harness import own_emulator
from test_role_integration_users import INTEGRATIONS, OrgApi, Rollout, by_org, writes


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "first-users-emulator", orgs=2)


def integrations(**changes_of_first):
    values = copy.deepcopy(INTEGRATIONS)
    values[0]["user"].pop("password")
    values[0].update(changes_of_first)
    return values


def no_requests(orgs):
    return all(orgs.requests(org) == [] for org in orgs.orgs)


def clear(orgs):
    for org in orgs.orgs:
        orgs.clear_requests(org)


def test_input_errors_are_found_before_any_login(orgs, tmp_path):
    bad = integrations()
    bad[0]["user"]["username"] = "marketo-integration"
    clear(orgs)
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, bad).run(extra=dict(
        sf_integration_password_policy=dict(password_history=30), sf_integration_only="marketo,nosuch",
        sf_integration_custom_profile=dict(name="Integration Only", system_permissions=["ApiEnabled"])))
    assert rc != 0
    for expected in ("sf_integrations[0].user.username: marketo-integration is not email-shaped",
                     "sf_integration_password_policy.password_history: 30 is not between 0 and 24",
                     "sf_integration_only: no integration is called nosuch",
                     "sf_integration_custom_profile.system_permissions: ApiUserOnly is missing"):
        assert expected in output, (expected, output[-3000:])
    assert no_requests(orgs)


def test_a_custom_profile_without_system_permissions_is_refused_before_any_login(orgs, tmp_path):
    clear(orgs)
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, integrations()).run(extra=dict(
        sf_integration_custom_profile=dict(name="Integration Only")))
    assert rc != 0
    assert "sf_integration_custom_profile.system_permissions: ApiUserOnly is missing" in output, output[-3000:]
    assert no_requests(orgs)


def test_a_file_with_a_certificate_header_but_no_certificate_is_refused_before_any_login(orgs, tmp_path):
    certificate = tmp_path / "broken.crt"
    certificate.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    clear(orgs)
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, integrations(oauth=dict(
        flow="jwt", certificate_file=str(certificate)))).run()
    assert rc != 0
    assert "marketo: oauth.certificate_file %s is not a PEM-encoded X.509 certificate" % certificate in output, \
        output[-3000:]
    assert no_requests(orgs)


def test_names_the_org_lacks_are_refused_before_the_first_write(orgs, tmp_path):
    """An unknown extra set, group, system permission, object and field (of the second integration's set): all named,
    nothing written."""
    bad = integrations()
    bad[0]["extra_permission_sets"] = ["No_Such_Set"]
    bad[1]["permission_set_groups"] = ["No_Such_Group"]
    accounting = bad[1]["permission_sets"][0]
    accounting["field_permissions"] = accounting["field_permissions"] + [dict(field="Invoice__c.No_Such_Field__c",
                                                                              access="read")]
    accounting["object_permissions"] = accounting["object_permissions"] + [dict(object="Ghost__c", access=["read"])]
    accounting["system_permissions"] = ["ConvertLead"]
    accounting["license"] = "Salesforce API Integrations"
    clear(orgs)
    rc, output, report, _markdown = Rollout(tmp_path, orgs, bad).run()
    assert rc != 0
    for org, record in by_org(report).items():
        assert record["status"] == "failed", record
        message = record["failure"]["message"]
        for expected in ("marketo (extra_permission_sets): no permission set named 'No_Such_Set'",
                         "accounting (permission_set_groups): no permission set group named 'No_Such_Group'",
                         "accounting (permission set Accounting_Integration): unknown field 'Invoice__c.No_Such_Field__c'",
                         "accounting (permission set Accounting_Integration): unknown object 'Ghost__c'",
                         "accounting (permission set Accounting_Integration): unknown system permission 'ConvertLead' "
                         "(did you mean ConvertLeads, ImportLeads?)",
                         "accounting (permission set Accounting_Integration): unknown license "
                         "'Salesforce API Integrations' (did you mean",
                         "Nothing was changed in this org."):
            assert expected in message, (expected, message)
        assert writes(orgs, org) == 0, orgs.requests(org)


def test_privileged_access_in_a_later_set_is_refused_before_any_login(orgs, tmp_path):
    """sf_permission_set would refuse it too, but only after writing the sets listed before it."""
    bad = integrations()
    accounting = bad[1]["permission_sets"][0]
    accounting["system_permissions"] = ["permissionsModifyAllData"]
    accounting["object_permissions"] = accounting["object_permissions"] + [dict(object="Account",
                                                                                access=["read", "view_all_records"])]
    clear(orgs)
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, bad).run()
    assert rc != 0
    assert ("sf_integrations[1].permission_sets[0] (Accounting_Integration): privileged access an integration user "
            "should not need: ModifyAllData; Account: view_all_records; set allow_privileged: true") in output, output[-3000:]
    assert no_requests(orgs)


def test_a_new_user_without_last_name_is_refused_before_the_first_write(orgs, tmp_path):
    bad = integrations()
    bad[1]["user"].pop("last_name")
    clear(orgs)
    rc, output, report, _markdown = Rollout(tmp_path, orgs, bad).run()
    assert rc != 0
    for org, record in by_org(report).items():
        assert record["status"] == "failed" and "last_name is required" in record["failure"]["message"], record
        assert writes(orgs, org) == 0


def test_one_integration_at_a_time(orgs, tmp_path):
    clear(orgs)
    rc, output, report, markdown = Rollout(tmp_path, orgs, integrations()).run(
        orgs=["org1"], extra=dict(sf_integration_only=["marketo"]))
    assert rc == 0, output[-3000:]
    record = by_org(report)["org1"]
    assert record["left_out"] == ["accounting"]
    assert {c["name"] for c in record["changes"] if c["kind"] == "user"} == {"marketo.integration@acme.example.org1"}
    assert "Left out of this run (sf_integration_only): accounting." in markdown


def test_a_set_on_the_user_license_is_warned_about(orgs, tmp_path):
    mixed = integrations()
    mixed[1]["permission_sets"][0]["license"] = "Salesforce Integration"
    mixed[1]["permission_sets"][0]["object_permissions"] = []
    mixed[1]["permission_sets"][0]["field_permissions"] = []
    rc, output, report, _markdown = Rollout(tmp_path, orgs, mixed).run("--check", orgs=["org2"])
    warnings = by_org(report)["org2"]["warnings"]
    assert any("Accounting_Integration has the license 'Salesforce Integration', the user license" in w for w in warnings), \
        warnings


def test_the_role_used_alone_fails_the_failed_org(orgs, tmp_path):
    orgs.settings("org2", license_seats={"Salesforce Integration": 0})
    try:
        hosts = dict((name, dict(sf_login_url=org["login_url"], sf_username=org["username"], sf_password=org["password"],
                                 sf_security_token=org["security_token"], sf_ca_path=orgs.ca_file))
                     for name, org in sorted(orgs.orgs.items()))
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": dict(
            ansible_python_interpreter=sys.executable, sf_integrations=integrations(),
            sf_integration_report_dir=str(tmp_path / "reports"))}}))
        playbook = tmp_path / "alone.yml"
        playbook.write_text(yaml.safe_dump([dict(hosts="all", connection="local", gather_facts=False,
                                                 roles=["sfops.integration.integration_users"])]))
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
        env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   SF_RETRY_BACKOFF="0.01")
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory),
                               str(playbook), "--check"], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                              timeout=600, check=False)
    finally:
        orgs.settings("org2", license_seats={"Salesforce Integration": 5})
    assert proc.returncode != 0, proc.stdout[-3000:]
    recap = proc.stdout.split("PLAY RECAP")[1]
    assert "org1" in recap and "failed=0" in recap.split("org2")[0], recap
    assert "failed=1" in recap.split("org2")[1], recap
    assert "No free seat" in proc.stdout, proc.stdout[-3000:]


def test_existing_extra_sets_and_groups_pass(orgs, tmp_path):
    """Names are matched as Salesforce does, without regard to case; sets the run creates count as existing.

    Last in this file: it creates the users of org2, which the tests above need to be new.
    """
    api = OrgApi(orgs, "org2")
    api.write("POST", "sobjects/PermissionSet", Name="Shared_Reporting", Label="Shared Reporting")
    api.write("POST", "sobjects/PermissionSet", Name="Group_Member", Label="Group Member")
    api.write("POST", "sobjects/PermissionSetGroup", DeveloperName="Sync_Group", MasterLabel="Sync Group")
    member = api.one("SELECT Id FROM PermissionSet WHERE Name = 'Group_Member'")["Id"]
    group = api.one("SELECT Id FROM PermissionSetGroup WHERE DeveloperName = 'Sync_Group'")["Id"]
    api.write("POST", "sobjects/PermissionSetGroupComponent", PermissionSetGroupId=group, PermissionSetId=member)
    good = integrations()
    good[0]["extra_permission_sets"] = ["shared_reporting", "Accounting_Integration"]
    good[1]["permission_set_groups"] = ["SYNC_GROUP"]
    rc, output, report, _markdown = Rollout(tmp_path, orgs, good).run(orgs=["org2"])
    assert rc == 0, output[-3000:]
    assert by_org(report)["org2"]["status"] != "failed"
    marketo = api.user("marketo", "org2")["Id"]
    assert "Shared_Reporting" in api.assigned_sets(marketo)
    accounting = api.user("accounting", "org2")["Id"]
    assert api.query("SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '%s' AND PermissionSetGroupId = '%s'"
                     % (accounting, group))
