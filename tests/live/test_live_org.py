"""The modules against a real org (`make test-live`; conftest.py says how to give the login).

A few ansible-playbook runs that make sense in any sandbox: log in and read the org; a permission set made, left
alone on a re-run, changed and removed (check mode first, which must change nothing); one integration user made,
given the set and deactivated, when a Salesforce Integration seat is free; the org probe's plan (check mode).
Everything is named after the run and removed at the end (see the `live` fixture).
"""
from __future__ import annotations

import pytest

from harness import failure, result_var, run_playbook

SESSION = "sfops.integration.sf_session"
ASSIGNMENT = "sfops.integration.sf_permset_assignment"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"


def logged_in(live, tasks):
    """A login task first; the modules of the other tasks use its session (module_defaults)."""
    login = result_var("login")
    # ansible-core 2.17 templates a play's module_defaults for every task, the login included: omitted until then.
    session = dict(instance_url="{{ %s.instance_url | default(omit) }}" % login,
                   access_token="{{ %s.access_token | default(omit) }}" % login,
                   ca_path=live.login.get("ca_path"), api_version=live.login.get("api_version"))
    session = dict((k, v) for k, v in session.items() if v is not None)
    modules = set(key for task in tasks for key in task if key.startswith("sfops.integration."))
    return [dict(name="login", ignore_errors=False, **{SESSION: dict(live.login)})] + tasks, \
        dict((module, session) for module in modules)


def test_log_in_and_read_the_org(live, tmp_path):
    tasks, defaults = logged_in(live, [dict(name="facts", **{"sfops.integration.sf_org_info": {}})])
    run = run_playbook(tmp_path, tasks, module_defaults=defaults)
    facts = run["facts"]
    assert not facts.get("failed"), facts
    assert facts["org"]["id"] and facts["limits"]["daily_api_requests"]["max"] > 0
    assert any(lic["name"] == "Salesforce Integration" for lic in facts["user_licenses"]), facts["user_licenses"]


def test_permission_set_made_kept_changed_and_removed(live, tmp_path):
    name = live.set_name("Set")
    module = "sfops.integration.sf_permission_set"
    wanted = dict(name=name, label="sfops live test", license="none", system_permissions=["ApiEnabled"])
    tasks, defaults = logged_in(live, [
        dict(name="plan", check_mode=True, **{module: wanted}),
        dict(name="create", **{module: wanted}),
        dict(name="again", **{module: wanted}),
        dict(name="change", **{module: dict(wanted, label="sfops live test, changed")}),
        dict(name="remove", **{module: dict(name=name, state="absent")}),
        dict(name="remove again", **{module: dict(name=name, state="absent")}),
    ])
    run = run_playbook(tmp_path, tasks, module_defaults=defaults, diff=True)
    assert run["plan"]["changed"] is True and run["plan"]["change"]["action"] == "create", run["plan"]
    assert run["create"]["change"]["action"] == "create", run["create"]  # the plan made nothing
    assert run["again"]["changed"] is False, run["again"]
    assert run["change"]["changed"] is True and any("label" in d for d in run["change"]["change"]["details"])
    assert run["remove"]["changed"] is True and run["remove again"]["changed"] is False, run["remove again"]
    assert live.client.query("SELECT Id FROM PermissionSet WHERE Name = '%s'" % name) == []


def test_one_integration_user(live, tmp_path):
    if live.free_integration_seats() < 1:
        pytest.skip("no free Salesforce Integration license seat; the test takes one")
    name = live.set_name("User_Set")
    tasks, defaults = logged_in(live, [
        dict(name="set", **{"sfops.integration.sf_permission_set": dict(name=name, license="none")}),
        dict(name="user", **{"sfops.integration.sf_integration_user": dict(
            username=live.username, last_name="sfops live test", email="sfops-live@example.com",
            profile=INTEGRATION_PROFILE)}),
        dict(name="user again", **{"sfops.integration.sf_integration_user": dict(
            username=live.username, last_name="sfops live test", email="sfops-live@example.com",
            profile=INTEGRATION_PROFILE)}),
        dict(name="assign", **{ASSIGNMENT: dict(username=live.username, permission_sets=[name])}),
        dict(name="assign again", **{ASSIGNMENT: dict(username=live.username, permission_sets=[name])}),
        dict(name="deactivate", **{"sfops.integration.sf_integration_user": dict(username=live.username, state="absent")}),
    ])
    run = run_playbook(tmp_path, tasks, module_defaults=defaults)
    for task in ("set", "user", "assign", "deactivate"):
        assert run[task]["changed"] is True, (task, run[task])
    assert run["user again"]["changed"] is False and run["assign again"]["changed"] is False
    user = live.client.query_one("SELECT IsActive FROM User WHERE Username = '%s'" % live.username)
    assert user["IsActive"] is False


def test_the_org_probe_plans_or_refuses_production(live, tmp_path):
    # Its own login (no session): the probe learns the calling user from it.
    run = run_playbook(tmp_path, [dict(name="plan", check_mode=True, **{"sfops.integration.sf_org_probe": dict(
        live.login, run_id=live.run_id)})])
    if run["plan"].get("failed"):
        assert "production org" in failure(run, "plan")
    else:
        assert set(p["outcome"] for p in run["plan"]["probes"]) <= {"planned", "skipped"}, run["plan"]["probes"]
        assert run["plan"]["api_requests"] < 20
