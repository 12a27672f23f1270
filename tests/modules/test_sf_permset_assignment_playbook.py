"""sf_permset_assignment against the emulator, through ansible-playbook.

The fixtures (users, permission sets, groups) are made with raw REST calls, not with the other
modules of the collection, so these tests only depend on the module under test. Everything runs
in one playbook: each case is a task, and uri tasks read the emulator's request log around the
check-mode tasks.
"""
from __future__ import annotations

import sys
import uuid

import pytest
import requests

from harness import connection_args, result_var, run_playbook

MODULE = "sfops.integration.sf_permset_assignment"
SESSION = "sfops.integration.sf_session"
ORG = "org3"
API = "v62.0"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"
CONSOLE_PSL = "LightningConsolePsl"

# Flips a group's Status to Updated five seconds after it starts (run as an async task): time enough for
# the module to start and see the group Updating first, even on a loaded machine.
FLIP_LATER = ("import sys, time, requests; time.sleep(5); requests.post(sys.argv[1], verify=sys.argv[2], "
              "json={'permission_set_group_status': {sys.argv[3]: 'Updated'}}).raise_for_status()")


class OrgApi:
    """Raw REST against one emulated org, as its administrator (OAuth password grant)."""

    def __init__(self, emulator, org):
        info = emulator.orgs[org]
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override the emulator's CA
        self.http.verify = emulator.ca_file
        token = self.http.post(info["login_url"] + "/services/oauth2/token", data=dict(
            grant_type="password", client_id=info["client_id"], client_secret=info["client_secret"],
            username=info["username"], password=info["password"] + info["security_token"]))
        token.raise_for_status()
        self.http.headers["Authorization"] = "Bearer " + token.json()["access_token"]
        self.base = "%s/services/data/%s/" % (info["instance_url"], API)

    def query(self, soql):
        answer = self.http.get(self.base + "query", params={"q": soql})
        assert answer.status_code == 200, answer.text
        return answer.json()["records"]

    def create(self, sobject, **fields):
        answer = self.http.post(self.base + "sobjects/%s/" % sobject, json=fields)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def update(self, sobject, record_id, **fields):
        answer = self.http.patch(self.base + "sobjects/%s/%s" % (sobject, record_id), json=fields)
        assert answer.status_code == 204, answer.text

    def delete(self, sobject, record_id):
        self.http.delete(self.base + "sobjects/%s/%s" % (sobject, record_id))

    def one(self, soql):
        rows = self.query(soql)
        assert len(rows) == 1, (soql, rows)
        return rows[0]

    def user(self, username, profile):
        profile_id = self.one("SELECT Id FROM Profile WHERE Name = '%s'" % profile)["Id"]
        return self.create("User", Username=username, LastName=username.split("@")[0], Email="ops@sfops.test",
                           Alias="assign", TimeZoneSidKey="GMT", LocaleSidKey="en_US", EmailEncodingKey="UTF-8",
                           LanguageLocaleKey="en_US", ProfileId=profile_id)

    def permission_set(self, name, license_id=None, read=(), **permissions):
        ps_id = self.create("PermissionSet", Name=name, Label=name.replace("_", " "), LicenseId=license_id,
                            **dict(("Permissions" + p, v) for p, v in permissions.items()))
        for sobject in read:
            self.create("ObjectPermissions", ParentId=ps_id, SobjectType=sobject, PermissionsRead=True)
        return ps_id

    def group(self, name, members):
        group_id = self.create("PermissionSetGroup", DeveloperName=name, MasterLabel=name)
        for member in members:
            self.create("PermissionSetGroupComponent", PermissionSetGroupId=group_id, PermissionSetId=member)
        return group_id

    def assignments(self, user_id):
        """{'sets': [...], 'groups': [...], 'psls': [...], 'profile_owned': n} as the org has them now."""
        psas = self.query("SELECT PermissionSet.Name, PermissionSet.IsOwnedByProfile, PermissionSetGroup.DeveloperName "
                          "FROM PermissionSetAssignment WHERE AssigneeId = '%s'" % user_id)
        pslas = self.query("SELECT PermissionSetLicense.DeveloperName FROM PermissionSetLicenseAssign "
                           "WHERE AssigneeId = '%s'" % user_id)
        owned = [a for a in psas if (a.get("PermissionSet") or {}).get("IsOwnedByProfile")]
        return dict(
            # A group assignment names the group's aggregate set too: a group, not a set.
            sets=sorted(a["PermissionSet"]["Name"] for a in psas
                        if a.get("PermissionSet") and not a.get("PermissionSetGroup") and a not in owned),
            groups=sorted(a["PermissionSetGroup"]["DeveloperName"] for a in psas if a.get("PermissionSetGroup")),
            psls=sorted(a["PermissionSetLicense"]["DeveloperName"] for a in pslas),
            profile_owned=len(owned))

    def clear_assignments(self, user_id):
        for row in self.query("SELECT Id, PermissionSet.IsOwnedByProfile FROM PermissionSetAssignment "
                              "WHERE AssigneeId = '%s'" % user_id):
            if not (row.get("PermissionSet") or {}).get("IsOwnedByProfile"):
                self.delete("PermissionSetAssignment", row["Id"])
        for row in self.query("SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = '%s'" % user_id):
            self.delete("PermissionSetLicenseAssign", row["Id"])


class Fixture:
    """Users, permission sets and groups with unique names, made for this test module."""

    def __init__(self, emulator):
        self.api = OrgApi(emulator, ORG)
        self.suffix = uuid.uuid4().hex[:8]
        self.users = {}
        api = self.api
        psl = self.psl_ids()
        salesforce_license = api.one("SELECT Id FROM UserLicense WHERE Name = 'Salesforce'")["Id"]
        self.sets = dict(
            api_licensed=self.name("Api"), standard=self.name("Std"), custom=self.name("Custom"),
            extra=self.name("Extra"), sales=self.name("Sales"), console=self.name("Console"))
        self.set_ids = dict(
            api_licensed=api.permission_set(self.sets["api_licensed"], psl[INTEGRATION_PSL], read=["Account"]),
            standard=api.permission_set(self.sets["standard"], read=["Account", "Contact"]),
            custom=api.permission_set(self.sets["custom"], read=["Invoice__c"]),
            extra=api.permission_set(self.sets["extra"], PasswordNeverExpires=True),
            sales=api.permission_set(self.sets["sales"], salesforce_license),
            console=api.permission_set(self.sets["console"], psl[CONSOLE_PSL], RunReports=True))
        self.groups = dict(ready=self.name("GReady"), slow=self.name("GSlow"), never=self.name("GNever"),
                           standard=self.name("GStd"))
        api.group(self.groups["ready"], [self.set_ids["custom"]])
        api.group(self.groups["standard"], [self.set_ids["standard"]])
        api.group(self.groups["slow"], [self.set_ids["extra"]])
        api.group(self.groups["never"], [self.set_ids["extra"]])
        for key in ("main", "auto", "no_auto", "groups"):
            self.add_user(key, INTEGRATION_PROFILE)
        self.add_user("console", "Standard User")

    def name(self, word):
        return "Assign_%s_%s" % (word, self.suffix)

    def psl_ids(self):
        rows = self.api.query("SELECT Id, DeveloperName FROM PermissionSetLicense")
        return dict((r["DeveloperName"], r["Id"]) for r in rows)

    def add_user(self, key, profile):
        username = "assign.%s.%s@sfops.test" % (key.replace("_", ""), self.suffix)
        self.users[key] = dict(username=username, id=self.api.user(username, profile))

    def username(self, key):
        return self.users[key]["username"]

    def cleanup(self):
        """Users cannot be deleted: take their assignments away and deactivate them (frees the seats)."""
        for user in self.users.values():
            self.api.clear_assignments(user["id"])
            self.api.update("User", user["id"], IsActive=False)


def seats(api):
    """{license name: (total, used)} for the integration user license and both PSLs."""
    out = dict((r["Name"], (r["TotalLicenses"], r["UsedLicenses"]))
               for r in api.query("SELECT Name, TotalLicenses, UsedLicenses FROM UserLicense"))
    out.update((r["DeveloperName"], (r["TotalLicenses"], r["UsedLicenses"]))
               for r in api.query("SELECT DeveloperName, TotalLicenses, UsedLicenses FROM PermissionSetLicense"))
    return out


@pytest.fixture(scope="module")
def fixture(emulator):
    api = OrgApi(emulator, ORG)
    before = seats(api)
    # Other test files use this org's seats too: make room for five users and their PSLs, give back later.
    roomy = dict((name, max(before[name][0], before[name][1] + 6))
                 for name in ("Salesforce Integration", INTEGRATION_PSL, CONSOLE_PSL))
    emulator.settings(ORG, license_seats=roomy)
    data = Fixture(emulator)
    yield data
    data.cleanup()
    emulator.settings(ORG, license_seats=dict((name, before[name][0]) for name in roomy))


def login_args(emulator):
    """A SOAP login with this module's option names: login_username/login_password (username is the managed user)."""
    info = emulator.orgs[ORG]
    return dict(login_url=info["login_url"], ca_path=emulator.ca_file, login_username=info["username"],
                login_password=info["password"], security_token=info["security_token"])


def log_tasks(emulator, name):
    """uri tasks that clear the org's request log (name_start) and read it back (name_end)."""
    common = dict(url=emulator.admin_url(ORG, "requests"), ca_path=emulator.ca_file, status_code=[200, 204])
    return ({"name": name + "_start", "ansible.builtin.uri": dict(common, method="DELETE"), "check_mode": False},
            {"name": name + "_end", "ansible.builtin.uri": dict(common, method="GET", return_content=True),
             "check_mode": False})


def writes(run, name):
    return sum(r.get("writes") or 0 for r in run[name + "_end"]["json"]["requests"])


@pytest.fixture(scope="module")
def play(emulator, fixture, tmp_path_factory):
    """Every case in one playbook run; returns the run."""
    f = fixture
    sets, groups = f.sets, f.groups
    main = dict(username=f.username("main"))
    check_start, check_end = log_tasks(emulator, "check_log")
    no_writes_start, no_writes_end = log_tasks(emulator, "no_writes_log")
    tasks = [
        {"name": "login", SESSION: connection_args(emulator, ORG), "ignore_errors": False},
        # assign, in check mode first
        check_start,
        {"name": "check_assign", MODULE: dict(main, permission_sets=[sets["api_licensed"], sets["custom"]],
                                              permission_set_groups=[groups["ready"]]),
         "check_mode": True, "diff": True},
        check_end,
        {"name": "assign", MODULE: dict(main, permission_sets=[sets["api_licensed"], sets["custom"].lower()],
                                        permission_set_groups=[groups["ready"]]), "diff": True},
        # the same again, logging in with this module's login option names instead of the session
        {"name": "rerun", MODULE: dict(login_args(emulator), username=f.username("main"),
                                       permission_sets=[sets["api_licensed"], sets["custom"]],
                                       permission_set_groups=[groups["ready"]])},
        {"name": "add_one", MODULE: dict(main, permission_sets=[sets["extra"]])},
        # PSL ordering: a set with no license granting Account access needs the PSL first
        {"name": "auto_psl", MODULE: dict(username=f.username("auto"), permission_sets=[sets["standard"]])},
        {"name": "exclusive_psl", MODULE: dict(username=f.username("auto"), permission_sets=[sets["custom"]],
                                               exclusive=True)},
        # check mode and failures: none of these may write
        no_writes_start,
        {"name": "exclusive_check", MODULE: dict(main, permission_sets=[sets["api_licensed"]], exclusive=True),
         "check_mode": True},
        {"name": "no_auto_psl", MODULE: dict(username=f.username("no_auto"), permission_sets=[sets["standard"]],
                                             auto_licenses=False)},
        {"name": "mismatch", MODULE: dict(username=f.username("no_auto"), permission_sets=[sets["sales"]])},
        {"name": "unknown", MODULE: dict(username=f.username("groups"), permission_sets=[sets["custom"] + "x"],
                                         permission_set_groups=["Assign_Nope"],
                                         permission_set_licenses=["Salesforce API Integraton"])},
        {"name": "no_user", MODULE: dict(username="nobody.%s@sfops.test" % f.suffix, permission_sets=[sets["custom"]])},
        {"name": "seats", MODULE: dict(username=f.username("console"), permission_sets=[sets["console"]])},
        {"name": "group_never", MODULE: dict(username=f.username("groups"), permission_set_groups=[groups["never"]],
                                             group_wait_timeout=2)},
        no_writes_end,
        {"name": "exclusive", MODULE: dict(main, permission_sets=[sets["api_licensed"]], exclusive=True),
         "diff": True},
        {"name": "exclusive_rerun", MODULE: dict(main, permission_sets=[sets["api_licensed"]], exclusive=True)},
        {"name": "absent", MODULE: dict(main, permission_sets=[sets["api_licensed"]],
                                        permission_set_licenses=["salesforce api integration"], state="absent"),
         "diff": True},
        {"name": "absent_rerun", MODULE: dict(main, permission_sets=[sets["api_licensed"], "Assign_Gone"],
                                              permission_set_licenses=[INTEGRATION_PSL], state="absent")},
        # a group that becomes Updated five seconds later
        {"name": "flip_later", "ansible.builtin.command": dict(argv=[
            sys.executable, "-c", FLIP_LATER, emulator.admin_url(ORG, "settings"), emulator.ca_file, groups["slow"]]),
         "async": 30, "poll": 0},
        {"name": "group_wait", MODULE: dict(username=f.username("groups"), permission_set_groups=[groups["slow"]],
                                            group_wait_timeout=30)},
        # a group whose set reads Account: Salesforce wants the PSL before the group (it assigns none itself)
        {"name": "group_psl", MODULE: dict(username=f.username("groups"),
                                           permission_set_groups=[groups["slow"], groups["standard"]])},
    ]
    login = result_var("login")
    session = dict(ca_path=emulator.ca_file, instance_url="{{ %s.instance_url }}" % login,
                   access_token="{{ %s.access_token }}" % login)
    for task in tasks:
        if MODULE in task and task["name"] != "rerun":
            task[MODULE] = dict(session, **task[MODULE])
    emulator.settings(ORG, permission_set_group_status={groups["slow"]: "Updating", groups["never"]: "Updating"})
    console_seats = seats(f.api)[CONSOLE_PSL][0]
    emulator.settings(ORG, license_seats={CONSOLE_PSL: 0})  # nobody else here uses this PSL
    try:
        return run_playbook(tmp_path_factory.mktemp("permset_assignment"), tasks)
    finally:
        emulator.settings(ORG, license_seats={CONSOLE_PSL: console_seats})


def ok(run, name):
    result = run[name]
    assert result and not result.get("failed"), (name, result)
    return result


def failed(run, name):
    result = run[name]
    assert result and result.get("failed"), (name, result)
    assert "Traceback" not in result["msg"], result["msg"]
    return result


def test_check_mode_writes_nothing(play, fixture):
    result = ok(play, "check_assign")
    assert result["changed"] is True
    assert result["added"] == dict(permission_sets=sorted([fixture.sets["api_licensed"], fixture.sets["custom"]]),
                                   permission_set_groups=[fixture.groups["ready"]],
                                   permission_set_licenses=[INTEGRATION_PSL])
    assert writes(play, "check_log") == 0
    assert play["exclusive_check"]["changed"] is True
    assert writes(play, "no_writes_log") == 0  # exclusive in check mode, then the failures


def test_assign(play, fixture):
    result = ok(play, "assign")
    sets = sorted([fixture.sets["api_licensed"], fixture.sets["custom"]])
    assert result["changed"] is True
    assert result["assignments"] == dict(permission_sets=sets, permission_set_groups=[fixture.groups["ready"]],
                                         permission_set_licenses=[INTEGRATION_PSL])
    # the diff lists what was added; before is empty (the profile-owned set is never shown)
    assert result["diff"]["before"] == dict(permission_sets=[], permission_set_groups=[], permission_set_licenses=[])
    assert result["diff"]["after"] == result["assignments"]
    # one composite read, one PSL create, one assignment create (the session came from sf_session)
    assert result["api_requests"] == 3
    assert play["check_assign"]["assignments"] == result["assignments"]


def test_rerun_unchanged(play):
    result = ok(play, "rerun")
    assert result["changed"] is False
    assert result["added"] == result["removed"] == dict(permission_sets=[], permission_set_groups=[],
                                                        permission_set_licenses=[])
    assert result["api_requests"] == 2  # a login and one composite read


def test_add_one_more(play, fixture):
    result = ok(play, "add_one")
    assert result["changed"] is True
    assert result["added"]["permission_sets"] == [fixture.sets["extra"]]
    assert result["removed"]["permission_sets"] == []
    assert fixture.sets["custom"] in result["assignments"]["permission_sets"]


def test_exclusive_removes_extras_but_not_the_profile_set(play, fixture):
    planned = play["exclusive_check"]
    result = ok(play, "exclusive")
    expected = dict(permission_sets=sorted([fixture.sets["custom"], fixture.sets["extra"]]),
                    permission_set_groups=[fixture.groups["ready"]], permission_set_licenses=[])
    assert planned["removed"] == result["removed"] == expected  # the PSL stays: the listed set needs it
    assert result["assignments"] == dict(permission_sets=[fixture.sets["api_licensed"]], permission_set_groups=[],
                                         permission_set_licenses=[INTEGRATION_PSL])
    assert result["diff"]["before"]["permission_sets"] == sorted(
        [fixture.sets["api_licensed"], fixture.sets["custom"], fixture.sets["extra"]])
    assert ok(play, "exclusive_rerun")["changed"] is False


def test_absent(play, fixture):
    result = ok(play, "absent")
    assert result["changed"] is True
    assert result["removed"] == dict(permission_sets=[fixture.sets["api_licensed"]], permission_set_groups=[],
                                     permission_set_licenses=[INTEGRATION_PSL])
    assert result["diff"]["after"] == dict(permission_sets=[], permission_set_groups=[], permission_set_licenses=[])
    rerun = ok(play, "absent_rerun")
    assert rerun["changed"] is False
    # a name the org does not have is nothing to remove: a warning, not a failure
    assert any("no permission set named 'Assign_Gone'" in w for w in rerun["warnings"])
    now = fixture.api.assignments(fixture.users["main"]["id"])
    assert now == dict(sets=[], groups=[], psls=[], profile_owned=1)


def test_psl_assigned_before_the_set_that_needs_it(play, fixture):
    result = ok(play, "auto_psl")
    assert result["added"] == dict(permission_sets=[fixture.sets["standard"]], permission_set_groups=[],
                                   permission_set_licenses=[INTEGRATION_PSL])
    # exclusive then drops the PSL: nothing listed needs it any more
    result = ok(play, "exclusive_psl")
    assert result["added"]["permission_sets"] == [fixture.sets["custom"]]
    assert result["removed"] == dict(permission_sets=[fixture.sets["standard"]], permission_set_groups=[],
                                     permission_set_licenses=[INTEGRATION_PSL])
    assert fixture.api.assignments(fixture.users["auto"]["id"]) == dict(
        sets=[fixture.sets["custom"]], groups=[], psls=[], profile_owned=1)


def test_without_auto_licenses_salesforce_refuses_the_set(play, fixture):
    result = failed(play, "no_auto_psl")
    msg = result["msg"]
    assert "The user license doesn't allow the permission: Read" in msg
    assert fixture.sets["standard"] in msg and fixture.username("no_auto") in msg
    assert "auto_licenses" in msg


def test_license_mismatch_fails_before_writing(play, fixture):
    msg = failed(play, "mismatch")["msg"]
    assert fixture.sets["sales"] in msg and fixture.username("no_auto") in msg
    assert "'Salesforce'" in msg and "'Salesforce Integration'" in msg


def test_unknown_names(play, fixture):
    msg = failed(play, "unknown")["msg"]
    assert "no permission set named '%sx' (did you mean %s," % (fixture.sets["custom"], fixture.sets["custom"]) in msg
    assert "no permission set group named 'Assign_Nope'" in msg
    assert "no permission set license named 'Salesforce API Integraton' (did you mean Salesforce API Integration" in msg
    assert "nobody." in failed(play, "no_user")["msg"]


def test_psl_without_seats(play, fixture):
    msg = failed(play, "seats")["msg"]
    assert "'Lightning Console User' (%s) has no free seat (0 of 0 used)" % CONSOLE_PSL in msg
    assert fixture.username("console") in msg and fixture.sets["console"] in msg


def test_group_that_never_updates_times_out(play):
    msg = failed(play, "group_never")["msg"]
    assert "Timed out after 2 s" in msg and "Updating" in msg


def test_failures_wrote_nothing(play, fixture):
    for key in ("no_auto", "console"):
        assert fixture.api.assignments(fixture.users[key]["id"]) == dict(sets=[], groups=[], psls=[], profile_owned=1)


def test_group_waited_for(play, fixture):
    result = ok(play, "group_wait")
    assert result["changed"] is True
    assert result["added"]["permission_set_groups"] == [fixture.groups["slow"]]
    assert result["waited_for_groups"][fixture.groups["slow"]] >= 1
    assert result["assignments"]["permission_set_groups"] == [fixture.groups["slow"]]


def test_group_gets_the_psl_its_sets_need(play, fixture):
    result = ok(play, "group_psl")
    assert result["added"] == dict(permission_sets=[], permission_set_groups=[fixture.groups["standard"]],
                                   permission_set_licenses=[INTEGRATION_PSL])
    assert fixture.api.assignments(fixture.users["groups"]["id"]) == dict(
        sets=[], groups=sorted([fixture.groups["slow"], fixture.groups["standard"]]), psls=[INTEGRATION_PSL],
        profile_owned=1)
