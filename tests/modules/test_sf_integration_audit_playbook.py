"""sf_integration_audit and playbooks/audit.yml through real ansible-playbook runs, against an emulator of their own.

- org1 is seeded with each situation the audit looks for (users, login history and setup audit trail through the
  emulator's admin API, permission sets and assignments through the REST API as the administrator): the audit
  finds exactly the expected findings, in three requests (login and two composite requests), nothing written;
- org2 is set up by the rollout role (playbooks/integration_users.yml, passwordless integrations whose logins are
  proven): the audit playbook over the same inventory finds nothing, drift included, and exits 0 even with
  sf_audit_fail_on; over org1 and org2 with sf_audit_fail_on=high it writes the report and exits non-zero;
- org3 has an auditor user without the permissions the audit needs: the audit fails naming them, and passes once
  the README's read-only auditor permission set (made with sf_permission_set) is assigned;
- bad options fail before any request: the module's, and the role's through playbooks/audit.yml (the run fails,
  non-zero, before any login).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from collection_path import COLLECTIONS, REPO, ensure_collection_path
from harness import RawOrg, connection_args, failure, own_emulator, run_playbook
from test_role_integration_users import Rollout

AUDIT = "sfops.integration.sf_integration_audit"
PLAYBOOK = os.path.join(REPO, "playbooks", "audit.yml")
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
DOMAIN = "audit.example"


def user(name):
    return "%s@%s" % (name, DOMAIN)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "audit-emulator", orgs=3)


# ---- org1: every situation ------------------------------------------------------------------------------------------

USERS = [
    # A person's user that an external system logs in as (OAuth, one app).
    dict(username=user("person"), profile="Standard User"),
    # A person who only uses the user interface: nothing to report.
    dict(username=user("ui.person"), profile="Standard User"),
    # An administrator used by a data loader through the API.
    dict(username=user("admin.api"), profile="System Administrator"),
    # Integration users (Salesforce Integration license, API only profile).
    dict(username=user("shared.int"), profile=INTEGRATION_PROFILE),
    dict(username=user("soap.int"), profile=INTEGRATION_PROFILE, created_days_ago=300, password_changed_days_ago=200),
    dict(username=user("oauthpw.int"), profile=INTEGRATION_PROFILE, password_changed_days_ago=10),
    dict(username=user("mad.int"), profile=INTEGRATION_PROFILE),
    dict(username=user("stale.int"), profile=INTEGRATION_PROFILE, created_days_ago=200, last_login_days_ago=120),
    dict(username=user("failing.int"), profile=INTEGRATION_PROFILE),
]

LOGINS = [
    dict(username=user("person"), count=5, days_ago=[20, 1], application="Zapier"),
    dict(username=user("ui.person"), count=3, days_ago=[10, 1], login_type="Application", application="Browser"),
    dict(username=user("admin.api"), count=3, days_ago=[15, 2], application="DataLoader"),
    dict(username=user("shared.int"), count=4, days_ago=[25, 1], application="Marketo_Integration"),
    dict(username=user("shared.int"), count=3, days_ago=[24, 2], application="Hubspot_Sync"),
    dict(username=user("soap.int"), count=6, days_ago=[28, 1], login_type="Partner Product", api_version="58.0"),
    dict(username=user("oauthpw.int"), count=2, days_ago=[5, 1], application="Legacy_App", sub_type="OauthUsernamePassword"),
    dict(username=user("failing.int"), count=2, days_ago=[9, 3], application="Billing_Integration"),
    dict(username=user("failing.int"), count=3, days_ago=[2, 1], login_type="Partner Product", status="Invalid Password"),
    dict(username=user("failing.int"), count=1, days_ago=1, login_type="Partner Product",
         status="Failed: API security token required"),
]

INTEGRATIONS = [
    dict(name="marketo", user=dict(username=user("shared.int")), permission_sets=[dict(name="Marketo_Integration")],
         oauth=dict(flow="jwt")),
    dict(name="billing", user=dict(username=user("failing.int"), password="Hidden-Secret-77")),  # masked
    dict(name="retired", state="absent", user=dict(username=user("stale.int"))),
    dict(name="ghost", user=dict(username=user("ghost"))),
]

EXPECTED = {
    "person_api_user:" + user("person"): "medium",
    "person_api_user:" + user("admin.api"): "medium",
    "admin_grade_api_user:" + user("admin.api"): "high",
    "admin_grade_api_user:" + user("mad.int"): "high",
    "shared_user:" + user("shared.int"): "medium",
    "password_login:" + user("soap.int"): "high",
    "password_age:" + user("soap.int"): "medium",
    "password_login:" + user("oauthpw.int"): "medium",
    "password_age:" + user("oauthpw.int"): "low",
    "inactive_integration_user:" + user("stale.int"): "low",
    "failed_logins:" + user("failing.int"): "medium",
    "setup_changes:" + user("shared.int"): "low",
    "no_free_seats:Salesforce Integration": "low",
    "drift:marketo": "medium",
    "drift:retired": "medium",
    "drift:ghost": "medium",
}


def seed_situations(emulator, org):
    raw = RawOrg(emulator, org)
    emulator.settings(org, license_seats={"Salesforce": 50, "Salesforce Integration": 50})
    emulator._admin("POST", org, "users", dict(users=USERS))
    ids = dict((r["Username"], r["Id"]) for r in raw.query("SELECT Id, Username FROM User"))
    psl = raw.query("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")[0]["Id"]

    def permission_set(name, **values):
        return raw.create("PermissionSet", dict(Name=name, Label=name.replace("_", " "), **values))

    def assign(username, set_id):
        raw.create("PermissionSetAssignment", dict(AssigneeId=ids[username], PermissionSetId=set_id))

    assign(user("shared.int"), permission_set("Marketo_Integration"))
    assign(user("shared.int"), permission_set("Extra_Set"))
    assign(user("oauthpw.int"), permission_set("Pw_Never_Expires", PermissionsPasswordNeverExpires=True))
    reads_all = ("ViewAllData", "ViewSetup", "ViewEventLogFiles", "ViewPublicDashboards", "ViewPublicReports",
                 "ViewPlatformEvents", "ViewDataLeakageEvents")  # View All Data and what it depends on
    view_all = dict(("Permissions" + p, True) for p in reads_all)
    assign(user("mad.int"), permission_set("Reads_Everything", LicenseId=psl, **view_all))
    emulator._admin("POST", org, "login_history", dict(rows=LOGINS))
    emulator._admin("POST", org, "setup_audit_trail", dict(rows=[
        # by someone else than the administrator the audit leaves out: reported for shared.int
        dict(action="PermSetAssign", section="Manage Users", days_ago=3, by=user("person"),
             display="Permission set Marketo Integration: assigned to user %s" % user("shared.int")),
        # by the administrator: left out with it
        dict(action="changedpassword", section="Manage Users", days_ago=4, display="Changed password for user %s"
             % user("soap.int")),
        # names no integration user
        dict(action="createduser", section="Manage Users", days_ago=5, by=user("person"),
             display="Created new user %s" % user("ui.person")),
    ]))
    # every Salesforce Integration seat taken: 6 active integration users
    emulator.settings(org, license_seats={"Salesforce Integration": 6})


@pytest.fixture(scope="module")
def situations(emulator, tmp_path_factory):
    org = "org1"
    seed_situations(emulator, org)
    emulator.clear_requests(org)
    admin = emulator.orgs[org]["username"]
    base = dict(connection_args(emulator, org), exclude_users=[admin], integrations=INTEGRATIONS,
                integration_profile=INTEGRATION_PROFILE)
    tasks = [
        {"name": "audit", AUDIT: base},
        {"name": "check_mode", AUDIT: base, "check_mode": True},
        {"name": "high_only", AUDIT: dict(base, severities=["HIGH"])},
        {"name": "everyone", AUDIT: connection_args(emulator, org)},
    ]
    run = run_playbook(tmp_path_factory.mktemp("audit-situations"), tasks)
    return run, emulator.requests(org)


def by_id(result):
    return dict((f["id"], f) for f in result["findings"])


def test_exactly_the_expected_findings(situations):
    run, _log = situations
    result = run["audit"]
    assert not result.get("failed"), result
    assert dict((i, f["severity"]) for i, f in by_id(result).items()) == EXPECTED
    assert result["summary"] == dict(high=3, medium=9, low=4, info=0, total=16)
    assert result["changed"] is False and result["change"]["action"] == "none"
    severities = [f["severity"] for f in result["findings"]]
    assert severities == sorted(severities, key=["high", "medium", "low", "info"].index)
    assert result["warnings_found"] == []
    assert "Hidden-Secret-77" not in json.dumps(result) and "Hidden-Secret-77" not in run.output


def test_evidence_and_remedies(situations):
    found = by_id(situations[0]["audit"])
    person = found["person_api_user:" + user("person")]["evidence"]
    assert (person["license"], person["api_logins"], person["applications"]) == ("Salesforce", 5, ["Zapier"])
    shared = found["shared_user:" + user("shared.int")]["evidence"]
    assert shared["clients"] == {"Marketo_Integration": 4, "Hubspot_Sync": 3}
    soap = found["password_login:" + user("soap.int")]
    assert soap["evidence"]["soap_logins"] == 6 and soap["evidence"]["soap_api_versions"] == ["58.0"]
    assert any("Summer '27" in line for line in soap["evidence"]["stops_working"])
    assert "JWT bearer" in soap["remedy"]
    oauth = found["password_login:" + user("oauthpw.int")]["evidence"]
    assert oauth["oauth_password_logins"] == 2 and "Summer '23" in oauth["stops_working"][0]
    assert found["password_age:" + user("soap.int")]["evidence"]["age_days"] >= 199
    assert found["password_age:" + user("oauthpw.int")]["evidence"]["never_expires"] is True
    assert found["admin_grade_api_user:" + user("mad.int")]["evidence"]["rights"] == ["View All Data"]
    assert found["admin_grade_api_user:" + user("admin.api")]["evidence"]["admin_grade_profile"]
    assert found["inactive_integration_user:" + user("stale.int")]["evidence"]["days"] >= 119
    failed = found["failed_logins:" + user("failing.int")]
    assert failed["evidence"]["by_status"] == {"Invalid Password": 3, "Failed: API security token required": 1}
    assert "security token" in failed["remedy"]
    changes = found["setup_changes:" + user("shared.int")]["evidence"]
    assert changes["count"] == 1 and changes["by"] == [user("person")]
    assert found["no_free_seats:Salesforce Integration"]["evidence"]["total"] == 6
    assert found["drift:marketo"]["evidence"]["extra_permission_sets"] == ["Extra_Set"]
    assert found["drift:retired"]["evidence"]["active"] is True
    assert found["drift:ghost"]["evidence"]["user"] == "missing" and found["drift:ghost"]["user"] is None
    for finding in found.values():
        assert finding["title"] and finding["remedy"]


def test_results_around_the_findings(situations, emulator):
    result = situations[0]["audit"]
    admin = emulator.orgs["org1"]["username"]
    assert result["excluded_users"] == [admin]
    assert dict((s["license"], s["available"]) for s in result["seats"]) == {
        "Salesforce Integration": 0, "Salesforce API Integration": 4}
    assert result["counts"]["integration_users"] == 6
    assert result["counts"]["login_history_rows"] >= sum(row["count"] for row in LOGINS)
    assert result["org"]["id"] == emulator.orgs["org1"]["org_id"]
    assert result["window"]["days"] == 30


def test_requests_bounded_and_nothing_written(situations):
    run, log = situations
    # login + two composite requests (seven queries): the small org's budget is 10
    assert [run[name]["api_requests"] for name in ("audit", "check_mode", "high_only", "everyone")] == [3, 3, 3, 3]
    assert len(log) == 12
    assert sum(entry["writes"] for entry in log) == 0
    assert {entry["method"] for entry in log if entry["kind"] == "rest"} == {"POST"}  # composite requests only
    assert all(entry["path"].endswith("/composite") for entry in log if entry["kind"] == "rest")


def test_check_mode_and_severity_filter(situations):
    run, _log = situations
    assert by_id(run["check_mode"]).keys() == by_id(run["audit"]).keys()
    high = run["high_only"]
    assert set(by_id(high)) == set(i for i, s in EXPECTED.items() if s == "high")
    assert high["summary"]["total"] == 3 and high["summary"]["medium"] == 0


def test_the_login_user_is_reported_unless_left_out(situations, emulator):
    everyone = by_id(situations[0]["everyone"])
    admin = emulator.orgs["org1"]["username"]
    assert {"admin_grade_api_user:" + admin, "person_api_user:" + admin, "password_login:" + admin} <= set(everyone)
    assert not any(i.startswith("drift:") for i in everyone)  # no integrations given


def test_bad_options_fail_before_any_request(emulator, tmp_path):
    org = "org1"
    emulator.clear_requests(org)
    creds = connection_args(emulator, org)
    run = run_playbook(tmp_path, [
        {"name": "zero_window", AUDIT: dict(creds, window_days=0)},
        {"name": "negative_window", AUDIT: dict(creds, window_days=-7)},
        {"name": "negative_and_unknown", AUDIT: dict(creds, inactive_days=-5, severities=["high", "critical"])},
        {"name": "bad_integration", AUDIT: dict(creds, integrations=[dict(name="x", user={}), dict(user=dict(username="u"))])},
    ])
    assert "window_days must be a number of days greater than 0, not 0" in failure(run, "zero_window")
    assert "window_days must be a number of days greater than 0, not -7" in failure(run, "negative_window")
    message = failure(run, "negative_and_unknown")
    assert "inactive_days must be a number of days greater than 0, not -5" in message
    assert "severities[1]: unknown severity 'critical'" in message
    message = failure(run, "bad_integration")
    assert "integrations[0] (x) needs user.username" in message and "integrations[1] needs a name" in message
    assert all(run[name]["api_requests"] == 0
               for name in ("zero_window", "negative_window", "negative_and_unknown", "bad_integration"))
    assert emulator.requests(org) == []


def org_inventory(emulator, path, orgs):
    """An inventory file for playbooks/audit.yml with the administrator's login of each org."""
    hosts = dict((org, dict(sf_login_url=emulator.orgs[org]["login_url"], sf_username=emulator.orgs[org]["username"],
                            sf_password=emulator.orgs[org]["password"],
                            sf_security_token=emulator.orgs[org]["security_token"], sf_ca_path=emulator.ca_file))
                 for org in orgs)
    with open(str(path), "w") as handle:
        yaml.safe_dump({"all": {"hosts": hosts, "vars": dict(ansible_python_interpreter=sys.executable)}}, handle)
    return str(path)


@pytest.mark.parametrize("option, value, expected", [
    ("sf_audit_window_days", 0, "sf_audit_window_days: 0 is not a number of days of at least 1"),
    ("sf_audit_window_days", -3, "sf_audit_window_days: -3 is not a number of days of at least 1"),
    ("sf_audit_severities", ["high", "critical"], "sf_audit_severities must be one or more of: high, medium, low, info"),
    ("sf_audit_fail_on", "critical", "sf_audit_fail_on must be one of: none, high, medium, low, info"),
])
def test_bad_role_options_fail_the_run_before_any_login(emulator, tmp_path, option, value, expected):
    """A bad option is a usage error: the playbook fails (non-zero) naming it, before any org is logged in to."""
    inventory = org_inventory(emulator, tmp_path / "inventory.yml", ["org1", "org3"])
    for org in ("org1", "org3"):
        emulator.clear_requests(org)
    rc, output, report, _markdown = run_audit(tmp_path, inventory, "-e", json.dumps({option: value}))
    assert rc != 0, output
    assert expected in output, output
    if option != "sf_audit_window_days":  # Ansible's own check of the argument spec's choices names the value
        assert "critical" in output, output
    assert "Log in once" not in output and report is None
    assert emulator.requests("org1") == [] and emulator.requests("org3") == []


def test_the_role_alone_checks_its_options_before_the_login(emulator, tmp_path):
    """Without the playbook's prepare play, the role's main entry point refuses a bad option before logging in."""
    inventory = org_inventory(emulator, tmp_path / "inventory.yml", ["org1"])
    playbook = tmp_path / "role_alone.yml"
    playbook.write_text(yaml.safe_dump([dict(hosts="all", connection="local", gather_facts=False,
                                             roles=["sfops.integration.integration_audit"])]))
    emulator.clear_requests("org1")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                           str(playbook), "-e", json.dumps(dict(sf_audit_inactive_days=0, sf_audit_window_days="-2"))],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "sf_audit_window_days: -2 is not a number of days of at least 1" in output, output
    assert "sf_audit_inactive_days: 0 is not a number of days of at least 1" in output, output
    assert emulator.requests("org1") == []


# ---- org3: the auditor's permissions ----------------------------------------------------------------------------------

AUDITOR = user("auditor")
AUDITOR_PASSWORD = "Auditor-Secret-42"


def test_an_auditor_without_the_permissions_is_told_which(emulator, tmp_path):
    org = "org3"
    RawOrg(emulator, org)  # the administrator logs in: other users' logins the auditor would have to see
    emulator._admin("POST", org, "users", dict(users=[dict(username=AUDITOR, profile="Standard User",
                                                           password=AUDITOR_PASSWORD)]))
    token = emulator._admin("GET", org, "security_token?username=" + AUDITOR)["security_token"]
    as_auditor = connection_args(emulator, org, username=AUDITOR, password=AUDITOR_PASSWORD, security_token=token)
    admin = connection_args(emulator, org)
    view_setup_only = dict(admin, name="Audit_View_Setup", license="none", system_permissions=["ViewSetup"])
    # The README's read-only auditor permission set.
    auditor_set = dict(admin, name="Integration_Auditor", label="Integration Auditor", license="none",
                       system_permissions=["ApiEnabled", "ViewSetup", "MonitorLoginHistory"])
    run = run_playbook(tmp_path, [
        {"name": "nothing", AUDIT: as_auditor},
        {"name": "view_setup_set", "sfops.integration.sf_permission_set": view_setup_only},
        {"name": "assign_view_setup", "sfops.integration.sf_permset_assignment": dict(
            {k: v for k, v in admin.items() if k not in ("username", "password")}, login_username=admin["username"],
            login_password=admin["password"], username=AUDITOR, permission_sets=["Audit_View_Setup"])},
        {"name": "view_setup", AUDIT: as_auditor},
        {"name": "auditor_set", "sfops.integration.sf_permission_set": auditor_set},
        {"name": "assign_auditor_set", "sfops.integration.sf_permset_assignment": dict(
            {k: v for k, v in admin.items() if k not in ("username", "password")}, login_username=admin["username"],
            login_password=admin["password"], username=AUDITOR, permission_sets=["Integration_Auditor"],
            exclusive=True)},
        {"name": "auditor", AUDIT: as_auditor},
    ])
    message = failure(run, "nothing")
    assert "View Setup and Configuration (ViewSetup)" in message
    assert "PermissionSetAssignment" in message and "SetupAuditTrail" in message
    assert "README" in message
    for name in ("view_setup_set", "assign_view_setup", "auditor_set", "assign_auditor_set"):
        assert not run[name].get("failed"), run[name]
    message = failure(run, "view_setup")
    assert "sees only its own login history" in message
    assert "Monitor Login History (MonitorLoginHistory) or Manage Users (ManageUsers)" in message
    result = run["auditor"]
    assert not result.get("failed"), result
    assert "admin_grade_api_user:" + emulator.orgs[org]["username"] in by_id(result)


# ---- org2: a clean org set up by the role, and the audit playbook -----------------------------------------------------


def clean_integrations(key_dir):
    return [
        dict(name="marketo",
             user=dict(username="marketo.integration@%s.{{ inventory_hostname }}" % DOMAIN, email="ops@audit.example",
                       last_name="Marketo Integration"),
             permission_sets=[dict(name="Marketo_Sync", object_permissions=[dict(object="Lead", access=["read", "edit"])])],
             oauth=dict(flow="jwt", generate_key=os.path.join(key_dir, "{{ inventory_hostname }}", "marketo.key"))),
        dict(name="accounting",
             user=dict(username="accounting.integration@%s.{{ inventory_hostname }}" % DOMAIN,
                       email="ops@audit.example", last_name="Accounting Integration"),
             permission_sets=[dict(name="Accounting_Sync", object_permissions=[dict(object="Invoice__c",
                                                                                    access=["read", "edit"])])],
             oauth=dict(flow="client_credentials")),
    ]


def run_audit(workdir, inventory, *extra):
    """(rc, output, report dict or None, Markdown or None) of one run of playbooks/audit.yml."""
    ensure_collection_path()
    reports = os.path.join(str(workdir), "audit-reports")
    for name in ("audit-report.json", "audit-report.md"):
        if os.path.exists(os.path.join(reports, name)):
            os.remove(os.path.join(reports, name))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(str(workdir), "ansible-tmp"), SF_RETRY_BACKOFF="0.01")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, PLAYBOOK,
               "-e", "sf_audit_report_dir=%s" % reports] + list(extra)
    proc = subprocess.run(command, cwd=str(workdir), env=env, capture_output=True, text=True, timeout=600, check=False)
    report = markdown = None
    if os.path.exists(os.path.join(reports, "audit-report.json")):
        with open(os.path.join(reports, "audit-report.json")) as handle:
            report = json.load(handle)
        with open(os.path.join(reports, "audit-report.md")) as handle:
            markdown = handle.read()
    return proc.returncode, proc.stdout + proc.stderr, report, markdown


def test_a_clean_org_set_up_by_the_role_has_no_findings(emulator, situations, tmp_path):
    org = "org2"
    emulator.settings(org, eca_client_secret_in_rest_api=True)
    info = emulator.orgs[org]
    hosts = {org: dict(sf_login_url=info["login_url"], sf_username=info["username"], sf_password=info["password"],
                       sf_security_token=info["security_token"], sf_ca_path=emulator.ca_file)}
    rollout = Rollout(tmp_path, emulator, clean_integrations(str(tmp_path / "keys")), hosts=hosts)
    rc, output, report, _markdown = rollout.run(orgs=[org], extra=dict(sf_integration_login_check_retries=1,
                                                                       sf_integration_login_check_delay=1))
    assert rc == 0, output
    assert all(login["verified"] for login in report["orgs"][0]["logins"]), report["orgs"][0]["logins"]

    emulator.clear_requests(org)
    rc, output, report, markdown = run_audit(tmp_path, rollout.inventory, "-e", "sf_audit_fail_on=info",
                                             "-e", json.dumps(dict(sf_integration_profile=INTEGRATION_PROFILE)))
    assert rc == 0, output
    [record] = report["orgs"]
    assert record["status"] == "ok" and record["findings"] == [], record["findings"]
    assert record["counts"]["integration_users"] == 2 and record["counts"]["api_users"] >= 2
    assert record["excluded_users"] == [info["username"]]
    assert record["api_requests"] == len(emulator.requests(org)) == 3
    assert sum(entry["writes"] for entry in emulator.requests(org)) == 0
    assert "No findings." in markdown and "| org2 | ok | 0 | 0 | 0 | 0 | 3 |" in markdown

    # The same audit over the seeded org1 as well: one report, and the gate closes on high findings.
    inventory = org_inventory(emulator, tmp_path / "both.yml", ["org1", "org2"])
    rc, output, report, markdown = run_audit(tmp_path, inventory, "-e", "sf_audit_fail_on=high")
    assert rc != 0, output
    assert "sf_audit_fail_on=high fails on: org1: 3 high" in output
    assert [r["org"] for r in report["orgs"]] == ["org1", "org2"]
    assert report["totals"]["high"] == 3 and report["totals"]["failed"] == 0
    for finding in report["orgs"][0]["findings"]:
        assert finding["title"].replace("|", "\\|") in markdown
    assert markdown.index("## org1") < markdown.index("### HIGH") < markdown.index("### MEDIUM") < markdown.index("## org2")
    rc, output, report, _markdown = run_audit(tmp_path, inventory)  # no gate: a report only
    assert rc == 0, output
    assert report["totals"]["total"] > 0
