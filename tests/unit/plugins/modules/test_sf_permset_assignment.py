from __future__ import annotations

import pytest
from module_double import page, recording_client, salesforce_module, same_record, soql_of

from ansible_collections.sfops.integration.plugins.module_utils import assignments
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.modules import sf_permset_assignment as module

INTEGRATION_LICENSE = "100INT"
SALESFORCE_LICENSE = "100SF"
API_PSL = "0PLAPI"
CONSOLE_PSL = "0PLCON"


def permission_set(ps_id, name, license=None, objects=(), **permissions):
    rows = [dict(SobjectType=o, PermissionsRead=True) for o in objects]
    record = dict(Id=ps_id, Name=name, LicenseId=license, IsOwnedByProfile=False, PermissionSetGroupId=None,
                  ObjectPerms=dict(records=rows) if rows else None)
    record.update(("Permissions" + p, v) for p, v in permissions.items())
    return record


SETS = [
    permission_set("0PS1", "Api_Set", API_PSL, ["Account"]),
    permission_set("0PS2", "Std_Set", None, ["Account"]),
    permission_set("0PS3", "Custom_Set", None, ["Invoice__c"]),
    permission_set("0PS4", "Setup_Set", None, ViewSetup=True),
    permission_set("0PS5", "Sales_Set", SALESFORCE_LICENSE),
    permission_set("0PS6", "Console_Set", CONSOLE_PSL),
]
GROUPS = [dict(Id="0PG1", DeveloperName="Std_Group", Status="Updated",
               PermissionSetGroupComponents=dict(records=[dict(PermissionSetId="0PS2")])),
          dict(Id="0PG2", DeveloperName="Slow_Group", Status="Updating", PermissionSetGroupComponents=None),
          dict(Id="0PG3", DeveloperName="Broken_Group", Status="Failed", PermissionSetGroupComponents=None)]
PSLS = [dict(Id=API_PSL, DeveloperName="SalesforceAPIIntegrationPsl", MasterLabel="Salesforce API Integration",
             TotalLicenses=5, UsedLicenses=1),
        dict(Id=CONSOLE_PSL, DeveloperName="LightningConsolePsl", MasterLabel="Lightning Console User",
             TotalLicenses=2, UsedLicenses=2)]


def catalogue():
    return assignments.Catalogue(SETS, GROUPS, [SETS[1]], PSLS)


def user(license_name="Salesforce Integration", license_id=INTEGRATION_LICENSE, sets=(), groups=(), psls=()):
    psas = [dict(Id="0PaP", PermissionSetId="0PSX", PermissionSetGroupId=None,
                 PermissionSet=dict(Name="X00e1", IsOwnedByProfile=True, LicenseId=license_id))]
    psas += [dict(Id="0Pa" + s["Id"], PermissionSetId=s["Id"], PermissionSetGroupId=None,
                  PermissionSet=dict(Name=s["Name"], IsOwnedByProfile=False, LicenseId=s["LicenseId"])) for s in sets]
    psas += [dict(Id="0Pa" + g, PermissionSetId=None, PermissionSetGroupId="0PGid" + g,
                  PermissionSetGroup=dict(DeveloperName=g)) for g in groups]
    pslas = [dict(Id="2LA" + p, PermissionSetLicenseId=p, PermissionSetLicense=dict(DeveloperName=p)) for p in psls]
    record = dict(Id="005U", Username="int@acme.test", Name="Int User",
                  Profile=dict(UserLicenseId=license_id, UserLicense=dict(Name=license_name)),
                  PermissionSetAssignments=dict(records=psas),
                  PermissionSetLicenseAssignments=dict(records=pslas) if pslas else None)
    return assignments.user_summary(record), assignments.current_assignments(record)


def present(sets=(), groups=(), psls=(), **kwargs):
    wanted = dict(permission_sets=list(sets), permission_set_groups=list(groups), permission_set_licenses=list(psls))
    summary, current = kwargs.pop("who", user())
    return assignments.plan_present(wanted, summary, current, catalogue(), **kwargs)


def test_profile_owned_assignment_is_never_current():
    _summary, current = user()
    assert current["permission_sets"] == {}


def test_psl_licensed_set_gets_its_psl_first():
    plan = present(["Api_Set"])
    assert [p["name"] for p in plan.add_psls] == ["SalesforceAPIIntegrationPsl"]
    assert [s["name"] for s in plan.add_sets] == ["Api_Set"] and not plan.problems


@pytest.mark.parametrize("name", ["Std_Set", "Setup_Set"])
def test_unlicensed_set_beyond_the_integration_license_needs_the_api_psl(name):
    assert [p["name"] for p in present([name]).add_psls] == ["SalesforceAPIIntegrationPsl"]


def test_unlicensed_set_with_custom_objects_only_needs_no_psl():
    plan = present(["custom_set"])  # names match without case
    assert plan.add_psls == [] and [s["name"] for s in plan.add_sets] == ["Custom_Set"]


def test_unlicensed_set_needs_no_psl_for_a_full_salesforce_user():
    who = user("Salesforce", SALESFORCE_LICENSE)
    assert present(["Std_Set"], who=who).add_psls == []


def test_group_members_count_for_licenses():
    plan = present(groups=["Std_Group"])
    assert [p["name"] for p in plan.add_psls] == ["SalesforceAPIIntegrationPsl"]
    assert [g["name"] for g in plan.add_groups] == ["Std_Group"]


def test_without_auto_licenses_only_salesforce_assigns_the_psl_of_a_licensed_set():
    plan = present(["Api_Set", "Std_Set"], auto_licenses=False)
    assert plan.add_psls == []
    assert [p["name"] for p in plan.auto_psls] == ["SalesforceAPIIntegrationPsl"]
    assert plan.added()["permission_set_licenses"] == ["SalesforceAPIIntegrationPsl"]


def test_held_psl_is_not_assigned_again():
    plan = present(["Api_Set"], who=user(psls=[API_PSL]))
    assert plan.add_psls == [] and plan.auto_psls == []


def test_nothing_to_do_when_everything_is_there():
    plan = present(["Api_Set"], who=user(sets=[SETS[0]], psls=[API_PSL]))
    assert not plan.changed


def test_exclusive_removes_unlisted_but_keeps_needed_psls_and_removes_sets_before_psls():
    who = user(sets=[SETS[0], SETS[2]], groups=["Old_Group"], psls=[API_PSL, CONSOLE_PSL])
    plan = present(["Std_Set"], who=who, exclusive=True)
    assert plan.remove == [("permission_sets", "Api_Set", "0Pa0PS1"), ("permission_sets", "Custom_Set", "0Pa0PS3"),
                           ("permission_set_groups", "Old_Group", "0PaOld_Group"),
                           ("permission_set_licenses", CONSOLE_PSL, "2LA" + CONSOLE_PSL)]
    assert plan.add_psls == []  # Std_Set needs the API PSL, which the user holds


def test_absent_removes_only_listed_assignments_the_user_has():
    summary, current = user(sets=[SETS[0], SETS[2]], psls=[API_PSL])
    wanted = dict(permission_sets=["Api_Set", "Std_Set"], permission_set_groups=[],
                  permission_set_licenses=["salesforce api integration"])
    plan = assignments.plan_absent(wanted, summary, current, catalogue())
    assert plan.remove == [("permission_sets", "Api_Set", "0Pa0PS1"),
                           ("permission_set_licenses", API_PSL, "2LA" + API_PSL)]
    assert not plan.problems


def test_absent_refuses_to_remove_a_psl_a_remaining_set_is_licensed_by():
    summary, current = user(sets=[SETS[0]], psls=[API_PSL])
    wanted = dict(permission_sets=[], permission_set_groups=[], permission_set_licenses=["SalesforceAPIIntegrationPsl"])
    plan = assignments.plan_absent(wanted, summary, current, catalogue())
    assert [p["kind"] for p in plan.problems] == ["psl_in_use"]
    assert "Api_Set" in assignments.problem_message(plan.problems[0], summary, {})


def test_problems_found_before_writing():
    plan = present(["Sales_Set", "Console_Set", "Nope"], ["Broken_Group", "Slow_Group"], ["Unknown PSL"])
    kinds = sorted(p["kind"] for p in plan.problems)
    assert kinds == ["group_failed", "license", "seats"]
    assert plan.unknown == dict(permission_sets=["Nope"], permission_set_groups=[],
                                permission_set_licenses=["Unknown PSL"])
    assert [g["name"] for g in plan.wait_for] == ["Slow_Group"]
    summary, _current = user()
    messages = dict((p["kind"], assignments.problem_message(p, summary, {SALESFORCE_LICENSE: "Salesforce"}))
                    for p in plan.problems)
    assert "'Sales_Set' is licensed for the user license 'Salesforce', but the user has 'Salesforce Integration'" \
        in messages["license"]
    assert "no free seat (2 of 2 used)" in messages["seats"] and "Console_Set" in messages["seats"]


def test_unknown_messages_name_the_closest():
    messages = assignments.unknown_messages(
        dict(permission_sets=["Api_St"], permission_set_groups=[], permission_set_licenses=[]),
        dict(permission_sets=["Api_Set", "Other"]))
    assert messages == ["no permission set named 'Api_St' (did you mean Api_Set?)"]


def test_predicted_state():
    summary, current = user(sets=[SETS[2]])
    plan = present(["Api_Set"], who=(summary, current), exclusive=True)
    assert assignments.predicted(current, plan) == dict(
        permission_sets=["Api_Set"], permission_set_groups=[], permission_set_licenses=["SalesforceAPIIntegrationPsl"])


class FakeClient:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.queries = 0

    def query(self, _soql):
        self.queries += 1
        return [dict(Id="0PG2", Status=self.statuses.pop(0))]


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def slow_group():
    return [dict(id="0PG2", name="Slow_Group", status="Updating")]


def test_wait_for_groups_polls_until_updated():
    clock, client = Clock(), FakeClient(["Updating", "Updated"])
    waited = module.wait_for_groups(client, slow_group(), 60, sleep=clock.sleep, clock=clock)
    assert waited == {"Slow_Group": 2.5} and clock.sleeps == [1.0, 1.5] and client.queries == 2


def test_wait_for_groups_times_out():
    clock = Clock()
    with pytest.raises(module.AssignmentError, match=r"Timed out after 3 s .*Slow_Group \(Updating\)"):
        module.wait_for_groups(FakeClient(["Updating"] * 10), slow_group(), 3, sleep=clock.sleep, clock=clock)
    assert clock.now == 3


def test_wait_for_groups_stops_on_failed():
    clock = Clock()
    with pytest.raises(module.AssignmentError, match="Slow_Group have Status Failed"):
        module.wait_for_groups(FakeClient(["Failed"]), slow_group(), 60, sleep=clock.sleep, clock=clock)


def write_client(results):
    """The real client's collections handling over canned SaveResults: every request is answered ``results``."""
    client = recording_client()
    client._rest.restful = lambda path, params=None, method="GET", json=None: results
    return client


def test_write_failures_name_the_set_and_the_user():
    rolled_back = dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="rolled back")
    refused = dict(statusCode="FIELD_INTEGRITY_EXCEPTION",
                   message="The user license doesn't allow the permission: Read Account")
    client = write_client([dict(success=False, errors=[rolled_back]), dict(success=False, errors=[refused])])
    user = dict(id="005U", username="int@acme.test")
    additions = [(module.assignment_record(user, dict(id=i), "PermissionSetId"), "permission set '%s'" % name)
                 for i, name in (("0PS1", "A"), ("0PS2", "B"))]
    with pytest.raises(module.AssignmentError) as caught:
        module.create(client, user, additions, ["assigned permission set license 'P'"], module.LICENSE_HINT)
    message = caught.value.message
    assert message.startswith("Salesforce refused to assign permission set 'B' to user 'int@acme.test': "
                              "FIELD_INTEGRITY_EXCEPTION: The user license doesn't allow the permission: Read Account.")
    assert "'A'" not in message and "auto_licenses" in message
    assert message.endswith("Done before this failure: assigned permission set license 'P'.")
    assert caught.value.fail_kwargs() == dict(msg=message, error_code="FIELD_INTEGRITY_EXCEPTION")


def test_successful_writes_raise_nothing_and_are_noted():
    done = []
    user = dict(id="005U", username="int@acme.test")
    module.create(write_client([dict(success=True, errors=[])]), user,
                  [(module.psl_record(user, dict(id=API_PSL)), "permission set license 'P'")], done)
    assert done == ["assigned permission set license 'P'"]


def read_client():
    """The client of an org where every query finds no rows but the user's."""
    return recording_client(user=page([dict(Id="005U")]))


def queries_read(client):
    """{referenceId: SOQL} of the one composite request the client sent."""
    [request] = client.sent
    return dict((sub["referenceId"], soql_of(sub)) for sub in request)


def params(**values):
    base = dict(username="o'brien@acme.test", permission_sets=[], permission_set_groups=[])
    base.update(values)
    return base


def test_one_composite_read_skips_what_was_not_asked():
    client = read_client()
    record, _catalogue = module.read(client, params(permission_sets=["Marketo_Integration"]))
    assert record == dict(Id="005U")
    queries = queries_read(client)
    assert sorted(queries) == ["psls", "sets", "user"]
    assert queries["user"].endswith("FROM User WHERE Username = 'o\\'brien@acme.test'")
    assert "FROM PermissionSetAssignments" in queries["user"]
    assert "FROM PermissionSetLicenseAssignments" in queries["user"]
    assert queries["sets"].endswith("WHERE Name IN ('Marketo_Integration')")


def test_groups_bring_their_member_sets():
    client = read_client()
    module.read(client, params(permission_set_groups=["Sync"]))
    queries = queries_read(client)
    assert sorted(queries) == ["groups", "members", "psls", "user"]
    assert "PermissionSetGroup.DeveloperName IN ('Sync')" in queries["members"]


class LookupClient:
    """Answers the re-read after a dropped connection with a user holding the given assignments."""

    def __init__(self, record):
        self.record = record
        self.soql = None

    def query_one(self, soql):
        self.soql = soql
        return self.record


def test_find_existing_names_the_assignments_the_user_holds_now():
    record = dict(Id="005U", PermissionSetAssignments=dict(records=[dict(
        Id="0Pa1", PermissionSetId="0PS1", PermissionSetGroupId=None,
        PermissionSet=dict(Name="Api_Set", IsOwnedByProfile=False))]), PermissionSetLicenseAssignments=None)
    client = LookupClient(record)
    user = dict(id="005U")
    records = [module.assignment_record(user, dict(id="0PS1"), "PermissionSetId"), module.psl_record(user, dict(id=API_PSL))]
    assert module.find_existing(client, user)(records) == ["0Pa1", None]
    assert client.soql.endswith("FROM User WHERE Id = '005U'")


class RacingRest:
    """sObject Collections answers of an org where another run assigned the first set just before us."""

    def __init__(self):
        self.sent = []

    def restful(self, path, params=None, method="GET", json=None):
        records = json["records"]
        self.sent.append([r["PermissionSetId"] for r in records])
        if len(self.sent) == 1:
            duplicate = dict(statusCode="DUPLICATE_VALUE", message="Duplicate PermissionSetAssignment",
                             fields=["AssigneeId", "PermissionSetId"])
            rolled_back = dict(statusCode="ALL_OR_NONE_OPERATION_ROLLED_BACK", message="rolled back")
            return [dict(success=False, errors=[duplicate])] + [dict(success=False, errors=[rolled_back])] * (
                len(records) - 1)
        return [dict(id="0Pa%s" % r["PermissionSetId"], success=True, errors=[]) for r in records]


def test_an_assignment_made_meanwhile_is_found_and_only_the_rest_is_created():
    client = recording_client()
    client._rest = RacingRest()
    client.query_one = lambda _soql: dict(Id="005U", PermissionSetLicenseAssignments=None, PermissionSetAssignments=dict(
        records=[dict(Id="0PaOTHER", PermissionSetId="0PS1", PermissionSet=dict(Name="A", IsOwnedByProfile=False))]))
    user = dict(id="005U", username="int@acme.test")
    plan = assignments.Plan()
    plan.add_sets = [dict(id="0PS1", name="A", license_id=None), dict(id="0PS2", name="B", license_id=None)]
    done = []
    found = module.create(client, user, [(module.assignment_record(user, s, "PermissionSetId"), "permission set '%s'"
                                          % s["name"]) for s in plan.add_sets], done)
    assert found == [True, False]
    assert client._rest.sent == [["0PS1", "0PS2"], ["0PS2"]]  # the rest written again, alone
    assert done == ["assigned permission set 'B'"] and client.done_elsewhere
    assert module.not_found(plan.add_sets, found, plan, "permission_sets") == [plan.add_sets[1]]
    assert plan.found["permission_sets"] == ["A"]


class DeleteClient:
    """Records the delete the module asks the client for."""

    def __init__(self):
        self.calls = []

    def delete_records(self, ids, **kwargs):
        self.calls.append(dict(kwargs, ids=list(ids)))


def test_removals_name_the_user_and_accept_what_is_already_gone():
    client = DeleteClient()
    module.remove(client, dict(username="int@acme.test"),
                  [("0Pa1", "permission set group 'G'"), ("2LA1", "permission set license 'P'")], [])
    assert client.calls == [dict(ids=["0Pa1", "2LA1"], action="remove", missing_ok=True, labels=[
        "remove permission set group 'G' from user 'int@acme.test'",
        "remove permission set license 'P' from user 'int@acme.test'"])]


# ---- the change record, from the module's own run -------------------------------------------------------------


def page(rows):
    return dict(records=list(rows), done=True, totalSize=len(rows))


def assigned(check_mode, held=(), **options):
    """module.run for the user int@acme.test holding the sets ``held``; the org answers with SETS, GROUPS and PSLS."""
    record = dict(Id="005U", Username="int@acme.test", Name="Int User",
                  Profile=dict(UserLicenseId=INTEGRATION_LICENSE, UserLicense=dict(Name="Salesforce Integration")),
                  PermissionSetAssignments=page(
                      [dict(Id="0Pa" + s["Id"], PermissionSetId=s["Id"], PermissionSetGroupId=None,
                            PermissionSet=dict(Name=s["Name"], IsOwnedByProfile=False, LicenseId=s["LicenseId"]))
                       for s in SETS if s["Name"] in held]),
                  PermissionSetLicenseAssignments=None)
    wanted = [name.lower() for name in options.get("permission_sets", [])]
    client = recording_client(check_mode, user=page([record]), psls=page(PSLS),
                              sets=page([s for s in SETS if s["Name"].lower() in wanted]))
    result = module.run(salesforce_module(module.ARGUMENT_SPEC, client, check_mode, username="int@acme.test", **options))
    writes = [sub for request in client.sent for sub in request if sub["method"] != "GET"]
    assert bool(writes) == (result["changed"] and not check_mode), writes
    return result


def test_record_of_new_assignments_with_the_license_they_need():
    change = same_record(lambda check: assigned(check, permission_sets=["std_set", "Custom_Set"]))["change"]
    assert change["kind"] == "assignments" and change["name"] == "int@acme.test" and change["action"] == "add"
    assert change["details"] == ["permission_set_licenses: + SalesforceAPIIntegrationPsl",
                                 "permission_sets: + Custom_Set; + Std_Set"]
    assert change["added"] == 3 and change["removed"] == 0


def test_record_of_an_exclusive_run_that_adds_and_removes():
    change = same_record(lambda check: assigned(check, held=["Custom_Set"], permission_sets=["Setup_Set"],
                                                exclusive=True, auto_licenses=False))["change"]
    assert change["action"] == "update"
    assert change["details"] == ["permission_sets: + Setup_Set; - Custom_Set"]


def test_record_of_removals():
    change = same_record(lambda check: assigned(check, held=["Custom_Set"], permission_sets=["Custom_Set"],
                                                state="absent"))["change"]
    assert change["action"] == "remove" and change["details"] == ["permission_sets: - Custom_Set"]
    assert change["removed"] == 1


def test_record_of_assignments_already_held_says_none():
    result = same_record(lambda check: assigned(check, held=["Custom_Set"], permission_sets=["Custom_Set"]))
    assert result["change"]["action"] == "none" and result["change"]["details"] == [] and result["changed"] is False


# ---- option problems ---------------------------------------------------------------------------------------------


def test_option_problems_come_together_naming_each_option():
    options = dict(username=" ", permission_sets=["Std_Set", ""], permission_set_groups=[], permission_set_licenses=[" "],
                   group_wait_timeout=-5, state="present")
    assert module.option_problems(options) == [
        "username must not be empty: it names the user whose assignments are managed",
        "permission_sets: an empty name at position 2",
        "permission_set_licenses: an empty name at position 1",
        "group_wait_timeout must be 0 or more seconds; got -5",
    ]
    # With state=absent an unknown (or empty) name only gets a warning: there is nothing to remove.
    assert module.option_problems(dict(options, username="int@acme.test", group_wait_timeout=0, state="absent")) == []


def test_option_problems_are_refused_before_any_request():
    client = recording_client()
    with pytest.raises(InputError, match="group_wait_timeout must be 0 or more seconds; got -1"):
        module.run(salesforce_module(module.ARGUMENT_SPEC, client, username="int@acme.test", group_wait_timeout=-1))
    assert client.sent == [] and client.api_requests == 0
