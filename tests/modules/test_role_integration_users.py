"""The role integration_users through playbooks/integration_users.yml, against three emulated orgs.

One rollout story, run in order with real ansible-playbook runs (each costs 10-30 s, so the story
is one test and each step is a checker named after what it proves):

1. check mode on fresh orgs: nothing written anywhere, the report is the plan; org3 has no
   Salesforce Integration seat left, fails before any write and does not stop org1 and org2;
2. apply: org1 and org2 converge, org3 fails again, the run ends non-zero and the report says why;
3. re-run: nothing changes;
4. drift made behind the collection's back with raw API calls (object permission removed, extra
   assignment, password expiration turned on, user deactivated) is reported by check mode and
   fixed on apply, in staged batches (serial 1) limited to two orgs, still with one report;
5. an integration switched to state absent: user deactivated, assignments removed.

Bad input is a separate quick test: it fails before any login, naming the path of the bad value.
The emulator is this module's own (three orgs), so other test files' shared orgs are untouched.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
import yaml

from collection_path import COLLECTIONS, REPO, ensure_collection_path
from harness import EmulatorProcess

PLAYBOOK = os.path.join(REPO, "playbooks", "integration_users.yml")
API = "v62.0"
MARKETO = "Marketo_Integration"
ACCOUNTING = "Accounting_Integration"
WAIVER = "Integration_MFA_Waiver"
PASSWORD = "Not-Shown-9f3#Example"  # set on create; must never appear in output or report

INTEGRATIONS = [
    dict(name="marketo",
         user=dict(username="marketo.integration@acme.example.{{ inventory_hostname }}", email="sf-ops@acme.example",
                   first_name="Marketo", last_name="Integration", marketing_user=True, password=PASSWORD),
         permission_sets=[dict(name=MARKETO, label="Marketo Integration", system_permissions=["ConvertLeads"],
                               object_permissions=[dict(object="Lead", access=["read", "create", "edit"]),
                                                   dict(object="Contact", access=["read", "edit"])],
                               field_permissions=[dict(field="Lead.Email", access="edit")])]),
    dict(name="accounting",
         user=dict(username="accounting.integration@acme.example.{{ inventory_hostname }}", email="sf-ops@acme.example",
                   last_name="Accounting Integration"),
         permission_sets=[dict(name=ACCOUNTING, object_permissions=[dict(object="Invoice__c", access=["read", "edit"])],
                               field_permissions=[dict(field="Invoice__c.Paid__c", access="edit")])]),
]


def username(name, org):
    return "%s.integration@acme.example.%s" % (name, org)


class Rollout:
    """Runs the rollout playbook on an inventory of the emulator's orgs; reads the report."""

    def __init__(self, workdir, emulator=None, integrations=None, hosts=None):
        ensure_collection_path()
        self.workdir = str(workdir)
        self.reports = os.path.join(self.workdir, "reports")
        self.emulator = emulator
        if hosts is None:
            hosts = dict((name, dict(sf_login_url=org["login_url"], sf_username=org["username"],
                                     sf_password=org["password"], sf_security_token=org["security_token"],
                                     sf_ca_path=emulator.ca_file))
                         for name, org in sorted(emulator.orgs.items()))
        self.inventory = os.path.join(self.workdir, "inventory.yml")
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"all": {"hosts": hosts, "vars": dict(
                ansible_python_interpreter=sys.executable, sf_integrations=integrations or INTEGRATIONS)}}, handle)

    def run(self, *args, check=False, orgs=None, extra=None):
        """(rc, output, report dict or None, Markdown or None) of one run; request logs cleared first."""
        for name in orgs or (self.emulator.orgs if self.emulator else []):
            self.emulator.clear_requests(name)
        return self.finish(self.start(*args, check=check, orgs=orgs, extra=extra))

    def start(self, *args, check=False, orgs=None, extra=None):
        """The running ansible-playbook process of one run (see finish); its output goes to a file."""
        for name in ("rollout-report.json", "rollout-report.md"):
            if os.path.exists(os.path.join(self.reports, name)):
                os.remove(os.path.join(self.reports, name))
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory, PLAYBOOK,
                   "-e", "sf_integration_report_dir=%s" % self.reports]
        if check:
            command += ["--check", "--diff"]
        if orgs:
            command += ["--limit", ",".join(orgs)]
        if extra:
            extra_file = os.path.join(self.workdir, "extra-%d.json" % len(os.listdir(self.workdir)))
            with open(extra_file, "w") as handle:
                json.dump(extra, handle)
            command += ["-e", "@" + extra_file]
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
        env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, "ansible-tmp"), ANSIBLE_PIPELINING="1",
                   SF_RETRY_BACKOFF="0.01")
        output = open(os.path.join(self.workdir, "ansible-output.txt"), "w+")
        process = subprocess.Popen(command + list(args), cwd=self.workdir, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
        process.output = output
        return process

    def finish(self, process, timeout=600):
        """(rc, output, report dict or None, Markdown or None) of a run start() began."""
        try:
            process.wait(timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        with process.output as handle:
            handle.seek(0)
            output = handle.read()
        report = markdown = None
        if os.path.exists(os.path.join(self.reports, "rollout-report.json")):
            with open(os.path.join(self.reports, "rollout-report.json")) as handle:
                report = json.load(handle)
            with open(os.path.join(self.reports, "rollout-report.md")) as handle:
                markdown = handle.read()
        return process.returncode, output, report, markdown


class OrgApi:
    """Raw REST and Metadata SOAP against one emulated org, as its administrator."""

    def __init__(self, emulator, org):
        info = emulator.orgs[org]
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = emulator.ca_file
        token = self.http.post(info["login_url"] + "/services/oauth2/token", data=dict(
            grant_type="password", client_id=info["client_id"], client_secret=info["client_secret"],
            username=info["username"], password=info["password"] + info["security_token"]))
        token.raise_for_status()
        self.token = token.json()["access_token"]
        self.http.headers["Authorization"] = "Bearer " + self.token
        self.instance = info["instance_url"]
        self.base = "%s/services/data/%s/" % (self.instance, API)

    def query(self, soql):
        answer = self.http.get(self.base + "query", params={"q": soql})
        assert answer.status_code == 200, answer.text
        return answer.json()["records"]

    def one(self, soql):
        rows = self.query(soql)
        assert len(rows) == 1, (soql, rows)
        return rows[0]

    def write(self, method, path, **fields):
        answer = self.http.request(method, self.base + path, json=fields or None)
        assert answer.status_code in (200, 201, 204), answer.text

    def user(self, name, org):
        return self.one("SELECT Id, IsActive FROM User WHERE Username = '%s'" % username(name, org))

    def assigned_sets(self, user_id):
        rows = self.query("SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '%s'" % user_id)
        ids = set(row["PermissionSetId"] for row in rows)
        return sorted(row["Name"] for row in self.query("SELECT Id, Name, IsOwnedByProfile FROM PermissionSet")
                      if row["Id"] in ids and not row["IsOwnedByProfile"])

    def object_access(self, permission_set, sobject):
        parent = self.one("SELECT Id FROM PermissionSet WHERE Name = '%s'" % permission_set)["Id"]
        return self.query("SELECT Id, PermissionsRead, PermissionsEdit FROM ObjectPermissions "
                          "WHERE ParentId = '%s' AND SobjectType = '%s'" % (parent, sobject))

    def expire_passwords(self, profile, days):
        """Metadata API updateMetadata of the profile's password policy (passwordExpiration in days)."""
        listed = self._soap("<listMetadata><queries><type>ProfilePasswordPolicy</type></queries>"
                            "<asOfVersion>62.0</asOfVersion></listMetadata>")
        names = [part.split("</fullName>")[0] for part in listed.split("<fullName>")[1:]]
        assert len(names) == 1, listed
        values = dict(lockoutInterval=15, maxLoginAttempts=10, minimumPasswordLength=8, passwordComplexity=1,
                      passwordExpiration=days, passwordHistory=3, passwordQuestion=1)
        fields = "".join("<%s>%s</%s>" % (k, v, k) for k, v in sorted(values.items()))
        answer = self._soap('<updateMetadata><metadata xsi:type="ProfilePasswordPolicy"><fullName>%s</fullName>%s'
                            '<profile>%s</profile></metadata></updateMetadata>' % (names[0], fields, profile))
        assert "<success>true</success>" in answer, answer

    def _soap(self, call):
        envelope = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                    'xmlns="http://soap.sforce.com/2006/04/metadata" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                    '<soapenv:Header><SessionHeader><sessionId>%s</sessionId></SessionHeader></soapenv:Header>'
                    '<soapenv:Body>%s</soapenv:Body></soapenv:Envelope>' % (self.token, call))
        answer = requests.post(self.instance + "/services/Soap/m/62.0", data=envelope.encode(), verify=self.http.verify,
                               headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.text


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    """Three orgs of this module's own: org2 requires MFA for API logins, org3 has no seat left."""
    emulator = EmulatorProcess(tmp_path_factory.mktemp("role-emulator"), orgs=3)
    emulator.settings("org2", mfa_for_api_logins=True)
    emulator.settings("org3", license_seats={"Salesforce Integration": 0})
    yield emulator
    emulator.stop()


def writes(emulator, org):
    return sum(entry.get("writes", 0) for entry in emulator.requests(org))


def by_org(report):
    return dict((record["org"], record) for record in report["orgs"])


def changes(record, kind, name=None):
    return [c for c in record["changes"] if c["kind"] == kind and (name is None or c["name"] == name)]


def assert_api_requests_add_up(emulator, report):
    for record in report["orgs"]:
        assert record["api_requests"] == len(emulator.requests(record["org"])), record["org"]
    assert report["totals"]["api_requests"] == sum(r["api_requests"] for r in report["orgs"])


# ---- the steps of the story ------------------------------------------------------------------------


def check_plan_writes_nothing_and_lists_the_plan(orgs, run):
    rc, output, report, markdown = run
    assert rc != 0, output  # org3 failed
    assert all(writes(orgs, org) == 0 for org in orgs.orgs), [orgs.requests(org) for org in orgs.orgs]
    assert report["mode"] == "check", report
    records = by_org(report)
    for org in ("org1", "org2"):
        record = records[org]
        assert record["status"] == "changed" and record["check_mode"], record
        assert record["counts"]["users_created"] == 2 and record["counts"]["permission_sets_created"] >= 2, record
        assert record["counts"]["password_policies_changed"] == 1, record
        marketo = changes(record, "permission_set", MARKETO)[0]
        assert marketo["action"] == "create"
        assert "object_permissions.Lead: read, create, edit" in marketo["details"], marketo
        planned = changes(record, "assignments", username("marketo", org))[0]
        assert "+ %s" % MARKETO in " ".join(planned["details"]), planned
    # MFA waiver only where the org requires MFA for API logins (auto).
    assert changes(records["org2"], "permission_set", WAIVER) and not changes(records["org1"], "permission_set", WAIVER)
    assert "Rollout plan (check mode" in markdown and "would create" in markdown
    assert_api_requests_add_up(orgs, report)


def check_one_org_failing_does_not_stop_the_others(orgs, run):
    rc, output, report, markdown = run
    assert rc != 0
    record = by_org(report)["org3"]
    assert record["status"] == "failed" and record["changes"] == [], record
    assert "Salesforce Integration" in record["failure"]["message"] and "seat" in record["failure"]["message"], record
    assert writes(orgs, "org3") == 0
    assert "**FAILED**" in markdown and "1 of 3 org(s) failed: org3" in output, output[-2000:]


def check_apply_converges(orgs, run):
    rc, output, report, _markdown = run
    assert report["mode"] == "apply"
    assert_api_requests_add_up(orgs, report)  # before the raw API calls below add to the request logs
    for org in ("org1", "org2"):
        record = by_org(report)[org]
        assert record["status"] == "changed" and not record["check_mode"], record
        api = OrgApi(orgs, org)
        for name, permission_set in (("marketo", MARKETO), ("accounting", ACCOUNTING)):
            user = api.user(name, org)
            assert user["IsActive"]
            expected = sorted([permission_set] + ([WAIVER] if org == "org2" else []))
            assert api.assigned_sets(user["Id"]) == expected, (org, name)


def check_rerun_changes_nothing(orgs, run):
    rc, output, report, markdown = run
    assert rc == 0, output[-3000:]
    assert [r["status"] for r in report["orgs"]] == ["unchanged", "unchanged"], report
    assert all(writes(orgs, org) == 0 for org in ("org1", "org2"))
    recap = output.split("PLAY RECAP")[1]
    assert "changed=0" in recap and "changed=1" not in recap, recap
    assert "No change: the org already matches." in markdown


def make_drift(orgs):
    """Behind the collection's back, in org1: four kinds of drift."""
    api = OrgApi(orgs, "org1")
    for row in api.object_access(MARKETO, "Contact"):
        api.write("DELETE", "sobjects/ObjectPermissions/%s" % row["Id"])
    marketo, accounting = api.user("marketo", "org1"), api.user("accounting", "org1")
    extra = api.one("SELECT Id FROM PermissionSet WHERE Name = '%s'" % ACCOUNTING)["Id"]
    api.write("POST", "sobjects/PermissionSetAssignment/", AssigneeId=marketo["Id"], PermissionSetId=extra)
    api.expire_passwords("Minimum Access - API Only Integrations", 90)
    api.write("PATCH", "sobjects/User/%s" % accounting["Id"], IsActive=False)


def check_drift_is_reported_in_check_mode(orgs, run):
    rc, output, report, _markdown = run
    assert rc == 0, output[-3000:]
    assert writes(orgs, "org1") == 0
    record = by_org(report)["org1"]
    assert record["status"] == "changed" and record["check_mode"]
    assert any("Contact" in d and "read" in d for d in changes(record, "permission_set", MARKETO)[0]["details"]), record
    assert changes(record, "user", username("accounting", "org1"))[0]["action"] == "reactivate", record
    removal = changes(record, "assignments", username("marketo", "org1"))[0]
    assert "- %s" % ACCOUNTING in " ".join(removal["details"]), removal
    policy = changes(record, "password_policy")[0]
    assert "password_expiration: 90 -> never" in policy["details"], policy


def check_drift_fixed_in_serial_batches(orgs, run):
    rc, output, report, _markdown = run
    assert rc == 0, output[-3000:]
    assert output.count("PLAY [Roll out the integration users]") == 2, output  # serial 1: two batches
    records = by_org(report)
    assert sorted(records) == ["org1", "org2"]  # --limit; one report across both batches
    assert records["org1"]["status"] == "changed" and records["org2"]["status"] == "unchanged"
    api = OrgApi(orgs, "org1")
    assert [(r["PermissionsRead"], r["PermissionsEdit"]) for r in api.object_access(MARKETO, "Contact")] == [(True, True)]
    marketo, accounting = api.user("marketo", "org1"), api.user("accounting", "org1")
    assert accounting["IsActive"] and api.assigned_sets(marketo["Id"]) == [MARKETO]


def check_absent_deactivates_and_removes_assignments(orgs, run):
    rc, output, report, _markdown = run
    assert rc == 0, output[-3000:]
    record = by_org(report)["org2"]
    assert changes(record, "user", username("marketo", "org2"))[0]["action"] == "deactivate", record
    removed = changes(record, "assignments", username("marketo", "org2"))[0]
    assert removed["removed"] >= 2, removed  # its set and the MFA waiver (and the license)
    api = OrgApi(orgs, "org2")
    marketo = api.user("marketo", "org2")
    assert not marketo["IsActive"] and api.assigned_sets(marketo["Id"]) == []
    assert api.user("accounting", "org2")["IsActive"]


def test_rollout(orgs, tmp_path):
    rollout = Rollout(tmp_path, orgs)
    check_plan_writes_nothing_and_lists_the_plan(orgs, rollout.run(check=True))

    applied = rollout.run("-v")
    assert PASSWORD not in applied[1] and PASSWORD not in json.dumps(applied[2]) + applied[3]
    check_one_org_failing_does_not_stop_the_others(orgs, applied)
    check_apply_converges(orgs, applied)

    check_rerun_changes_nothing(orgs, rollout.run(orgs=["org1", "org2"]))

    make_drift(orgs)
    check_drift_is_reported_in_check_mode(orgs, rollout.run(check=True, orgs=["org1"]))
    check_drift_fixed_in_serial_batches(orgs, rollout.run(orgs=["org1", "org2"], extra=dict(sf_rollout_serial=1)))

    retired = [dict(INTEGRATIONS[0], state="absent"), INTEGRATIONS[1]]
    check_absent_deactivates_and_removes_assignments(
        orgs, rollout.run(orgs=["org2"], extra=dict(sf_integrations=retired)))


def test_bad_input_fails_before_any_login_naming_the_path(tmp_path):
    bad = json.loads(json.dumps(INTEGRATIONS))
    bad[1]["permission_sets"][0]["object_permissions"] += [
        dict(object="Account", access=["read"]), dict(object="Lead", access=["reed"])]
    bad[0]["user"]["usernme"] = "typo"
    hosts = dict(org1=dict(sf_login_url="https://login.invalid"), org2=dict(sf_login_url="https://login.invalid"))
    rollout = Rollout(tmp_path, integrations=bad, hosts=hosts)
    rc, output, report, _markdown = rollout.run()
    assert rc != 0 and report is None
    assert "sf_integrations[1].permission_sets[0].object_permissions[2].access: 'reed' is not one of" in output, output
    assert "sf_integrations[0].user.usernme: unknown option (did you mean username?)" in output, output
    assert "Log in once" not in output and "Roll out the integration users" not in output


def test_standard_profile_refusing_a_policy_is_a_warning_not_a_failure(tmp_path_factory, tmp_path):
    """Whether Salesforce takes a policy for the standard integration profile is UNVERIFIED (reference
    3.12): where it refuses, the rollout goes on and the report says what was not set."""
    emulator = EmulatorProcess(tmp_path_factory.mktemp("refusing-emulator"), orgs=1)
    try:
        emulator.settings("org1", standard_profile_password_policies=False)
        rc, output, report, markdown = Rollout(tmp_path, emulator).run()
    finally:
        emulator.stop()
    assert rc == 0, output[-3000:]
    [record] = report["orgs"]
    assert record["status"] == "changed" and record["failure"] is None
    assert record["counts"]["users_created"] == 2 and record["counts"]["permission_sets_created"] == 2
    assert record["counts"]["password_policies_changed"] == 0
    [warning] = record["warnings"]
    assert "password policy of profile 'Minimum Access - API Only Integrations' was not set" in warning
    assert "standard profile" in warning and "sf_integration_custom_profile" in warning
    assert "**Warning:** The password policy" in markdown
