"""Two rollouts of the same integrations against the same orgs at the same moment both end green.

Platform teams run the rollout from CI, where two pipelines can hit one org together. Each run
reads, plans and writes; when the other run created a user, permission set, assignment or
password policy between our read and our write, Salesforce answers "it already exists"
(DUPLICATE_VALUE, DUPLICATE_USERNAME): the modules re-read what they were to create, converge on
it and say so in the report (``concurrent``), instead of failing.

Real ``ansible-playbook playbooks/integration_users.yml`` runs, two started together per round on
two orgs, a fresh integration per round so that each round races on creates again. Which run
wins which create depends on timing, so every round is another interleaving and the assertions
hold for all of them: both runs rc 0, nothing made twice, every org complete, and at the end a
third run changes nothing. Timing alone may not make a create meet its duplicate, so in the first
round the emulator makes sure of it (``concurrent_write`` fault, docs/emulator.md): just before
the first create of each kind, "another client" sends the same request.

Updates race too (test_updates_that_race_converge, one quick playbook): the other writer adds the
permission row this run adds, or removes the one this run removes, just before this run's write;
the run plans again against the set as it is and ends green, unchanged. An External Client App is
made of four components written one by one: when the other writer made the app first, the run
plans again and writes the components still missing.

A round costs two runs; the file stays near 90 s on a busy two-core machine (3 rounds, 7 runs).
"""
from __future__ import annotations

import pytest

from harness import EmulatorProcess, RawOrg, connection_args, run_playbook
from test_role_integration_users import OrgApi, Rollout, by_org, writes
from test_sf_external_client_app_playbook import key_and_certificate

ROUNDS = 3
RACED_ORGS = ("org1", "org2")
SEATS = {"Salesforce Integration": 20, "SalesforceAPIIntegrationPsl": 20}
PROFILE = "Minimum Access - API Only Integrations"


def integrations(tag):
    """One integration named after ``tag``: a marketing sync (standard objects, a field, a password)."""
    return [
        dict(name="sync%s" % tag,
             user=dict(username="sync%s.integration@acme.example.{{ inventory_hostname }}" % tag,
                       email="sf-ops@acme.example", last_name="Sync Integration", password="Not-Shown-9f3#Example"),
             permission_sets=[dict(name="Sync_Integration_%s" % tag, label="Sync Integration %s" % tag,
                                   object_permissions=[dict(object="Lead", access=["read", "create", "edit"]),
                                                       dict(object="Contact", access=["read"])],
                                   field_permissions=[dict(field="Lead.Email", access="edit")])]),
    ]


def username(tag, org):
    """The integration's username in ``org``, as Salesforce keeps it (lower case)."""
    return ("sync%s.integration@acme.example.%s" % (tag, org)).lower()


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    """Two orgs of this module's own, with seats for every round."""
    emulator = EmulatorProcess(tmp_path_factory.mktemp("concurrent-emulator"), orgs=2)
    for org in RACED_ORGS:
        emulator.settings(org, license_seats=SEATS)
    yield emulator
    emulator.stop()


def assert_complete_and_single(emulator, org, tag):
    """The user once, active, holding its set and the API Integration license once; the set once, complete."""
    api = OrgApi(emulator, org)
    user_name, permission_set = username(tag, org), "Sync_Integration_" + tag
    users = api.query("SELECT Id, IsActive FROM User WHERE Username = '%s'" % user_name)
    assert len(users) == 1 and users[0]["IsActive"], (org, user_name, users)
    sets = api.query("SELECT Id FROM PermissionSet WHERE Name = '%s'" % permission_set)
    assert len(sets) == 1, (org, permission_set, sets)
    rows = api.query("SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '%s'" % users[0]["Id"])
    ids = [row["PermissionSetId"] for row in rows]
    assert len(ids) == len(set(ids)), (org, user_name, rows)  # no assignment twice
    assert api.assigned_sets(users[0]["Id"]) == [permission_set], (org, user_name)
    licenses = api.query("SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = '%s'" % users[0]["Id"])
    assert len(licenses) == 1, (org, user_name, licenses)
    assert [(r["PermissionsRead"], r["PermissionsEdit"]) for r in api.object_access(permission_set, "Lead")] \
        == [(True, True)]


def workdir(tmp_path, name):
    """Each run its own directory (inventory, report, Ansible's temporary files), as two CI pipelines have."""
    path = tmp_path / name
    path.mkdir()
    return path


def provoke_every_kind_of_duplicate(emulator, org, tag):
    """Before the first create of each kind in ``org``, the emulator sends the same request for another client."""
    sync = username(tag, org)
    for target in ('"Username": "%s"' % sync,  # the user's composite create
                   '"Name": "Sync_Integration_%s"' % tag,  # the permission set's composite create
                   '"type": "PermissionSetLicenseAssign"',  # the license assignment (sObject Collections)
                   '"type": "PermissionSetAssignment"',  # the permission set assignment
                   "createMetadata"):  # the profile's password policy (Metadata API)
        emulator.fault(org, kind="concurrent_write", count=1, method="POST", body_contains=target)


def found_by(reports, org):
    """(kind, name) of what the runs found made by another writer in ``org``; users in lower case."""
    return set((item["kind"], item["name"].lower() if item["kind"] in ("user", "assignments") else item["name"])
               for report in reports for item in by_org(report)[org].get("concurrent") or [])


def check_round(emulator, reports, tag, provoked):
    for org in RACED_ORGS:
        assert_complete_and_single(emulator, org, tag)
        # What one run reports as created, the other does not; what "another client" made, neither does.
        created = [c["name"] for report in reports for c in by_org(report)[org]["changes"]
                   if c["kind"] in ("user", "permission_set") and c["action"] == "create"]
        assert len(created) == len(set(created)) == (0 if provoked else 2), (org, created)
        if provoked:
            found = found_by(reports, org)
            sync = username(tag, org)
            assert {("user", sync), ("permission_set", "Sync_Integration_" + tag), ("assignments", sync),
                    ("password_policy", PROFILE)} <= found, (org, found)
            assert [e["kind"] for e in emulator.requests(org)].count("fault") == 5  # every fault fired once


def test_two_rollouts_at_once(orgs, tmp_path):
    found = 0
    for number in range(1, ROUNDS + 1):
        tag = "R%d" % number
        provoked = number == 1
        for org in RACED_ORGS:
            orgs.clear_requests(org)
            if provoked:
                provoke_every_kind_of_duplicate(orgs, org, tag)
        first, second = (Rollout(workdir(tmp_path, "%s-%s" % (tag, side)), orgs, integrations(tag)) for side in "ab")
        both = [first.start(orgs=list(RACED_ORGS)), second.start(orgs=list(RACED_ORGS))]
        runs = [first.finish(both[0]), second.finish(both[1])]
        for rc, output, report, _markdown in runs:
            assert rc == 0, output[-4000:]
            assert report is not None and all(record["status"] != "failed" for record in report["orgs"]), report
        check_round(orgs, [run[2] for run in runs], tag, provoked)
        if provoked:
            assert "**Note:** found already made by another run at the same time" in runs[0][3] + runs[1][3]
        else:
            found += sum(len(found_by([run[2]], org)) for run in runs for org in RACED_ORGS)
    # A third run of the last round's integration finds every org as asked and changes nothing.
    for org in RACED_ORGS:
        orgs.clear_requests(org)
    rc, output, report, markdown = first.run(orgs=list(RACED_ORGS))
    assert rc == 0, output[-4000:]
    assert [record["status"] for record in report["orgs"]] == ["unchanged", "unchanged"], report
    assert all(writes(orgs, org) == 0 for org in RACED_ORGS)
    assert not any(record.get("concurrent") for record in report["orgs"]) and "another run" not in markdown
    print("found made by the other run in rounds 2 to %d, by timing alone: %d" % (ROUNDS, found))


def fault_task(emulator, org, name, body_contains):
    """A task that makes the emulator send the next matching write for another client first."""
    return {"name": name, "ansible.builtin.uri": dict(
        url=emulator.admin_url(org, "faults"), method="POST", body_format="json", ca_path=emulator.ca_file,
        body=dict(kind="concurrent_write", count=1, method="POST", body_contains=body_contains)), "check_mode": False}


def test_updates_that_race_converge(orgs, tmp_path):
    """One playbook: a permission set's rows and an External Client App, each meeting the other writer's work."""
    name = "Race_Update_Set"
    options = dict(connection_args(orgs, "org1"), name=name)

    def ensure(task_name, objects):
        return {"name": task_name, "sfops.integration.sf_permission_set": dict(options, object_permissions=[
            dict(object=sobject, access=access) for sobject, access in objects])}

    _key_file, certificate = key_and_certificate(tmp_path)
    app = dict(connection_args(orgs, "org2"), name="Race_App", contact_email="ops@example.test", flows=["jwt"],
               certificate=certificate)
    lead, contact = ("Lead", ["read", "edit"]), ("Contact", ["read"])
    run = run_playbook(tmp_path, [
        ensure("create", [lead]),
        fault_task(orgs, "org1", "other_adds_contact", '"SobjectType": "Contact"'),
        ensure("add_contact", [lead, contact]),
        fault_task(orgs, "org1", "other_removes_lead", '"PermissionsRead": false'),
        ensure("remove_lead", [contact]),
        ensure("rerun", [contact]),
        fault_task(orgs, "org2", "other_creates_the_app", "createMetadata"),  # the first component: the app itself
        {"name": "app_create", "sfops.integration.sf_external_client_app": app},
        {"name": "app_rerun", "sfops.integration.sf_external_client_app": app},
    ])
    for task_name in ("create", "add_contact", "remove_lead", "rerun", "app_create", "app_rerun"):
        assert not run[task_name].get("failed"), run[task_name]
    assert run["create"]["changed"] is True
    for task_name in ("add_contact", "remove_lead"):  # the other writer did it: this run has nothing left to do
        assert run[task_name]["changed"] is False and run[task_name]["change"]["concurrent"] is True, run[task_name]
    rows = RawOrg(orgs, "org1").query("SELECT SobjectType FROM ObjectPermissions WHERE Parent.Name = '%s'" % name)
    assert [row["SobjectType"] for row in rows] == ["Contact"]
    # The app was there when this run planned again: it completed it (its OAuth settings and policies).
    created = run["app_create"]
    assert created["changed"] is True and created["app"]["consumer_key"], created
    assert created["change"]["concurrent"] is True and created["change"]["action"] == "update", created["change"]
    for task_name in ("rerun", "app_rerun"):
        assert run[task_name]["changed"] is False and "concurrent" not in run[task_name]["change"], run[task_name]
