"""sf_org_probe and playbooks/verify_org.yml against an emulator of their own, through ansible-playbook.

- org1, as the emulator starts it, is a production org: refused, nothing written; once a sandbox, check mode plans
  every question and writes nothing, and the playbook asks them all: every assumption holds (the emulator is what
  the assumptions were written from), the reports are written, and nothing the probe made is left (sets and the
  group deleted, the user deactivated, the seat free again, no app, no password policy);
- org2 has no free Salesforce Integration seat and refuses password policies on standard profiles: the questions
  that need a user are skipped, the password policy question differs and the one after it is skipped;
- a cleanup that fails is reported and warned about, not hidden;
- bad options fail before any request.
"""
from __future__ import annotations

import json

import pytest

from harness import RawOrg, connection_args, emulator_inventory, failure, own_emulator, run_playbook, run_repo_playbook

MODULE = "sfops.integration.sf_org_probe"
NAMES = ("permission_set_duplicate_name", "permission_set_name_rule", "psl_set_api_enabled_stays_on",
         "psl_set_waive_mfa", "object_permissions_all_false", "assigned_set_delete_refused",
         "assignment_other_user_license", "group_assignment_duplicate", "password_policy_standard_profile",
         "password_policy_one_per_profile", "eca_preauthorise_by_ids", "eca_unknown_permission_set_id",
         "eca_app_name_rule", "eca_run_as_user_api_only")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "probe-emulator", orgs=2)


def writes(emulator, org):
    return sum(entry["writes"] for entry in emulator.requests(org))


def integration_seats_used(raw):
    return raw.query("SELECT UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'")[0]["UsedLicenses"]


def test_production_refused_then_a_sandbox_planned_then_probed(emulator, tmp_path):
    org = "org1"
    raw = RawOrg(emulator, org)
    emulator.clear_requests(org)
    run = run_playbook(tmp_path, [
        dict(name="production", **{MODULE: connection_args(emulator, org)}),
        dict(name="bad options", **{MODULE: connection_args(emulator, org, prefix="1_bad__", run_id="x-1",
                                                            email="nobody")}),
    ])
    message = failure(run, "production")
    assert "production org" in message and "allow_production=true" in message and "nothing was written" in message
    message = failure(run, "bad options")
    assert "prefix '1_bad__'" in message and "run_id 'x-1'" in message and "email 'nobody'" in message
    assert run["bad options"]["api_requests"] == 0
    assert writes(emulator, org) == 0

    emulator.settings(org, is_sandbox=True)
    inventory = emulator_inventory(tmp_path / "inventory.yml", emulator, [org])
    reports = tmp_path / "reports"
    rc, output = run_repo_playbook(tmp_path, "verify_org.yml", inventory, "-e", "sf_probe_org=%s" % org,
                                   "-e", "sf_probe_report_dir=%s" % reports, "--check")
    assert rc == 0, output
    assert "%s: planned" % NAMES[0] in output and "would send: POST sobjects/PermissionSet" in output
    assert writes(emulator, org) == 0
    assert not reports.exists()

    seats_before = integration_seats_used(raw)
    rc, output = run_repo_playbook(tmp_path, "verify_org.yml", inventory, "-e", "sf_probe_org=%s" % org,
                                   "-e", "sf_probe_report_dir=%s" % reports)
    assert rc == 0, output
    report = json.loads((reports / "org-probe.json").read_text())
    assert report["format"] == "sfops-org-probe/1" and report["org"] == {"edition": "Enterprise Edition",
                                                                         "is_sandbox": True}
    assert [p["name"] for p in report["probes"]] == list(NAMES)
    assert report["summary"] == {"holds": len(NAMES)}, report["probes"]
    owners = set(e["owner"] for e in report["exchanges"])
    assert {"lookup", "fixture:user", "fixture:app", "fixture:probe_set", "cleanup"} <= owners
    shared = json.dumps(report)
    assert emulator.orgs[org]["username"] not in shared and emulator.orgs[org]["user_id"] not in shared
    markdown = (reports / "org-probe.md").read_text()
    assert "| psl_set_waive_mfa | holds | What each license allows: Salesforce API Integration (PSL) |" in markdown
    assert "left behind" not in markdown

    prefix = report["values"]["prefix"]
    assert raw.query("SELECT Id FROM PermissionSet WHERE Name LIKE '%s%%'" % prefix) == []
    assert raw.query("SELECT Id FROM ExternalClientApplication WHERE DeveloperName LIKE '%s%%'" % prefix) == []
    assert raw.query("SELECT Id FROM PermissionSetGroup WHERE DeveloperName LIKE '%s%%'" % prefix) == []
    users = raw.query("SELECT IsActive FROM User WHERE Username = '%s'" % report["values"]["username"])
    assert users == [dict(users[0], IsActive=False)]
    assert integration_seats_used(raw) == seats_before

    cleanup = dict((e["step"].split(" ", 2)[1], e["answer"]["ok"]) for e in report["exchanges"]
                   if e["owner"] == "cleanup" and e["request"]["api"] == "metadata")
    assert cleanup["ProfilePasswordPolicy"] is True  # the emulator deleted the policy it had accepted


def test_no_free_seat_and_an_answer_that_differs(emulator, tmp_path):
    org = "org2"
    emulator.settings(org, is_sandbox=True, standard_profile_password_policies=False,
                      license_seats={"Salesforce Integration": 0})
    asked = ["assigned_set_delete_refused", "password_policy_standard_profile", "password_policy_one_per_profile",
             "psl_set_waive_mfa"]
    run = run_playbook(tmp_path, [dict(name="probe", **{MODULE: connection_args(emulator, org, probes=asked)})])
    result = run["probe"]
    assert not result.get("failed"), result
    outcomes = dict((p["name"], (p["outcome"], p["reason"])) for p in result["probes"])
    assert outcomes["assigned_set_delete_refused"][0] == "skipped"
    assert "no free Salesforce Integration license seat" in outcomes["assigned_set_delete_refused"][1]
    assert outcomes["password_policy_standard_profile"][0] == "differs"
    assert "INSUFFICIENT_ACCESS_OR_READONLY" in outcomes["password_policy_standard_profile"][1]
    assert outcomes["password_policy_one_per_profile"][0] == "skipped"
    assert outcomes["psl_set_waive_mfa"] == ("holds", None)
    assert result["report"]["summary"] == {"differs": 1, "holds": 1, "skipped": 2}
    assert result["cleanup"]["failed"] == []


def test_what_cleanup_cannot_remove_is_reported(emulator, tmp_path):
    org = "org2"
    # Every delete of a permission set fails, retries included: the set is left behind and said so.
    emulator.fault(org, kind="service_unavailable", count=20, method="DELETE", path_contains="/PermissionSet/")
    try:
        run = run_playbook(tmp_path, [dict(name="probe", **{MODULE: connection_args(
            emulator, org, probes=["psl_set_waive_mfa"], max_retries=1)})])
    finally:
        emulator.clear_faults(org)
    result = run["probe"]
    assert not result.get("failed"), result
    assert len(result["cleanup"]["failed"]) == 1 and "DELETE sobjects/PermissionSet/" in result["cleanup"]["failed"][0]
    assert any("could not remove what it made" in w for w in result.get("warnings", [])), result
    leftover = result["report"]["values"]["psl_mfa_set_id"]
    RawOrg(emulator, org).call("DELETE", "sobjects/PermissionSet/%s" % leftover)
