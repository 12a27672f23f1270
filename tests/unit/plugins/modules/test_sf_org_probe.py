"""sf_org_probe without an org: which questions run or are skipped, and why; the production check; the change record."""
from __future__ import annotations

import pytest
from module_double import recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils import probe_catalogue as catalogue
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.modules import sf_org_probe

ALL = catalogue.PROBE_NAMES


def org_values(**changes):
    values = dict(catalogue.prefix_values("SFOPS_PROBE", "r1", "ops@example.com"), is_sandbox=True,
                  edition="Enterprise Edition", integration_seats=5, integration_seats_used=1,
                  salesforce_license_id="100A", psl_id="0PL1", integration_profile_id="00e1", caller_id="0051",
                  caller_username="admin@acme.com", caller_api_only=False)
    values.update(changes)
    return values


def reasons(values, selected=ALL, free_seats=4, existing_policy=None):
    planned = sf_org_probe.plan(selected, values, dict(free_seats=free_seats, existing_policy=existing_policy))
    return dict((probe["name"], reason) for probe, reason in planned)


def test_an_org_with_everything_runs_every_question_in_order():
    found = reasons(org_values())
    assert list(found) == list(ALL) and set(found.values()) == {None}


def test_what_the_org_lacks_skips_the_questions_that_need_it():
    found = reasons(org_values(psl_id=None, caller_api_only=True), free_seats=0, existing_policy="Old_policy")
    assert "no free Salesforce Integration license seat" in found["assigned_set_delete_refused"]
    assert "no free Salesforce Integration license seat" in found["assignment_other_user_license"]
    assert "needs psl_id" in found["psl_set_waive_mfa"] and "needs psl_id" in found["psl_set_api_enabled_stays_on"]
    assert "caller_api_only is True" in found["eca_run_as_user_api_only"]
    assert "already has a password policy (Old_policy)" in found["password_policy_standard_profile"]
    # The second policy needs the first one's answer.
    assert "needs policy_created" in found["password_policy_one_per_profile"]
    assert found["permission_set_duplicate_name"] is None


def test_a_question_needing_another_is_skipped_when_that_one_is_not_asked():
    found = reasons(org_values(), selected=["password_policy_one_per_profile"])
    assert list(found) == ["password_policy_one_per_profile"]
    assert "needs policy_created" in found["password_policy_one_per_profile"]
    assert reasons(org_values(integration_profile_id=None), selected=["assigned_set_delete_refused"]) == {
        "assigned_set_delete_refused": "the org has no integration_profile_id (needed for one integration user "
                                       "(Salesforce Integration license, Minimum Access - API Only Integrations); "
                                       "deactivated afterwards)"}


def test_production_is_refused_unless_allowed_developer_edition_and_sandboxes_are_not():
    assert sf_org_probe.production_problem(org_values(), False) is None
    assert sf_org_probe.production_problem(org_values(is_sandbox=False, edition="Developer Edition"), False) is None
    problem = sf_org_probe.production_problem(org_values(is_sandbox=False), False)
    assert "production org" in problem and "'Enterprise Edition'" in problem and "allow_production=true" in problem
    assert sf_org_probe.production_problem(org_values(is_sandbox=False), True) is None
    assert "cannot tell" in sf_org_probe.production_problem(org_values(is_sandbox=None), True)


def test_option_problems_name_each_option():
    good = dict(prefix="SFOPS_PROBE", run_id=None, email="ops@example.com")
    assert sf_org_probe.option_problems(good) == []
    problems = sf_org_probe.option_problems(dict(prefix="A_" * 11, run_id="a-b", email="ops"))
    assert [p.split(" ")[0] for p in problems] == ["prefix", "run_id", "email"]


def test_cleanup_requests():
    created = dict(ok=True)
    user = catalogue.rest("POST", "sobjects/User", dict(Username="u@x.com"))
    assert sf_org_probe.cleanup_for(user, dict(id="0051"), created) == catalogue.rest(
        "PATCH", "sobjects/User/0051", dict(IsActive=False))
    app = catalogue.metadata("create", catalogue.APP_TYPE, dict(fullName="P_App"))
    undo = sf_org_probe.cleanup_for(app, dict(success=True), created)
    assert undo == catalogue.metadata("delete", catalogue.APP_TYPE, names=["P_App"])
    assert sf_org_probe.removes(catalogue.metadata("delete", catalogue.APP_TYPE, names=["P_App"]), undo)
    assert sf_org_probe.cleanup_for(user, None, dict(ok=False)) is None


def test_option_problems_are_refused_together_naming_each_value_before_any_request():
    client = recording_client()
    probe = salesforce_module(sf_org_probe.ARGUMENT_SPEC, client, prefix="9bad", run_id="a-b", email="ops")
    with pytest.raises(InputError) as refused:
        sf_org_probe.run(probe)
    assert len(refused.value.problems) == 3
    for problem, value in zip(refused.value.problems, ("'9bad'", "'a-b'", "'ops'")):
        assert value in problem, (value, problem)
    assert client.api_requests == 0


# ---- the change record --------------------------------------------------------------------------------------


def probe_result(check_mode, planned, outcome):
    """sf_org_probe.finish for the questions ``planned`` ([(probe, skip reason)]): asked ones get ``outcome``."""
    probe = salesforce_module(sf_org_probe.ARGUMENT_SPEC, recording_client(check_mode), check_mode, run_id="r1")
    probes = [sf_org_probe.result_entry(p, sf_org_probe.SKIPPED if reason else outcome, reason, []) for p, reason in planned]
    to_run = [p for p, reason in planned if reason is None]
    return sf_org_probe.finish(probe, "r1", dict(edition="Developer Edition", is_sandbox=False), probes, to_run)


def test_record_of_a_probe_names_each_question_and_its_outcome():
    planned = sf_org_probe.plan(["permission_set_duplicate_name", "password_policy_one_per_profile"], org_values(),
                                dict(free_seats=4, existing_policy=None))
    checked, ran = probe_result(True, planned, sf_org_probe.PLANNED), probe_result(False, planned, sf_org_probe.HOLDS)
    for result in (checked, ran):
        assert {key: result["change"][key] for key in ("kind", "name", "action")} == dict(
            kind="org probe", name="SFOPS_PROBE_r1", action="probe")
        assert result["changed"] is True
    # Check mode says what would be asked, a run what was found; the skipped question reads the same in both.
    assert checked["change"]["details"] == ["permission_set_duplicate_name: planned", "password_policy_one_per_profile: skipped"]
    assert ran["change"]["details"] == ["permission_set_duplicate_name: holds", "password_policy_one_per_profile: skipped"]


def test_record_when_every_question_is_skipped_says_none():
    planned = sf_org_probe.plan(["password_policy_one_per_profile"], org_values(), dict(free_seats=4, existing_policy=None))
    result = same_record(probe_result, planned, sf_org_probe.HOLDS)
    assert result["change"]["action"] == "none" and result["change"]["details"] == [] and result["changed"] is False
