"""The modules against a real org (`make test-live`; conftest.py says how to give the login).

A few ansible-playbook runs that make sense in any sandbox: log in and read the org; a permission set made, left
alone on a re-run, changed and removed (check mode first, which must change nothing); one integration user made,
given the set and deactivated, when a Salesforce Integration seat is free; an External Client App for JWT logins
made, left alone on a re-run and deleted; the password policy of the standard integration profile planned in check
mode only (a run never changes a standard profile); the audit, the export of the integration users and the access of
the login user, which only read; the org probe's plan (check mode). Everything is named after the run and removed at
the end (see the `live` fixture).
"""
from __future__ import annotations

import pytest

from harness import failure, result_var, run_playbook

SESSION = "sfops.integration.sf_session"
# Modules that talk to no org: they take no session.
OFFLINE = ("sfops.integration.sf_jwt_keypair",)
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
    modules = set(key for task in tasks for key in task if key.startswith("sfops.integration.") and key not in OFFLINE)
    return [dict(name="login", ignore_errors=False, **{SESSION: dict(live.login)})] + tasks, \
        dict((module, session) for module in modules)


def lifecycle(module, wanted, changed=None):
    """Tasks that plan one record in check mode, make it, run again, change it if asked, remove it twice."""
    tasks = [dict(name="plan", check_mode=True, **{module: wanted}), dict(name="create", **{module: wanted}),
             dict(name="again", **{module: wanted})]
    if changed:
        tasks.append(dict(name="change", **{module: changed}))
    absent = dict(name=wanted["name"], state="absent")
    return tasks + [dict(name="remove", **{module: absent}), dict(name="remove again", **{module: absent})]


def check_lifecycle(run):
    assert run["plan"]["changed"] is True and run["plan"]["change"]["action"] == "create", run["plan"]
    assert run["create"]["change"]["action"] == "create", run["create"]  # the plan made nothing
    assert run["again"]["changed"] is False, run["again"]
    assert run["remove"]["changed"] is True and run["remove again"]["changed"] is False, run["remove again"]


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
    tasks, defaults = logged_in(live, lifecycle(module, wanted, dict(wanted, label="sfops live test, changed")))
    run = run_playbook(tmp_path, tasks, module_defaults=defaults, diff=True)
    check_lifecycle(run)
    assert run["change"]["changed"] is True and any("label" in d for d in run["change"]["change"]["details"])
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


def test_external_client_app_made_kept_and_deleted(live, tmp_path):
    name = live.set_name("App")
    users = live.set_name("App_Users")
    module = "sfops.integration.sf_external_client_app"
    app = dict(name=name, label="sfops live test", contact_email="sfops-live@example.com", flows=["jwt"],
               certificate="{{ %s.certificate }}" % result_var("keypair"), permission_sets=[users])
    tasks, defaults = logged_in(live, [
        dict(name="keypair", **{"sfops.integration.sf_jwt_keypair": dict(
            private_key_path=str(tmp_path / "live-app.key"), common_name=name)}),
        dict(name="users", **{"sfops.integration.sf_permission_set": dict(name=users, license="none")}),
    ] + lifecycle(module, app))
    run = run_playbook(tmp_path, tasks, module_defaults=defaults, diff=True)
    check_lifecycle(run)
    assert live.client.query("SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '%s'" % name) == []


def test_password_policy_of_the_integration_profile_planned_only(live, tmp_path):
    module = "sfops.integration.sf_profile_password_policy"
    wanted = dict(profile=INTEGRATION_PROFILE, password_expiration="never", minimum_password_length=20)
    tasks, defaults = logged_in(live, [
        dict(name="plan", check_mode=True, **{module: wanted}),
        dict(name="plan again", check_mode=True, **{module: wanted}),
    ])
    run = run_playbook(tmp_path, tasks, module_defaults=defaults, diff=True)
    plan = run["plan"]
    assert not plan.get("failed"), plan
    assert plan["change"]["action"] in ("create", "update", "none") and plan["changed"] is (plan["change"]["action"] != "none")
    assert plan["policy"]["minimum_password_length"] == 20 and plan["policy"]["password_expiration"] == "never"
    # check mode wrote nothing: the second plan starts from the same policy
    assert run["plan again"]["change"] == plan["change"] and run["plan again"]["diff"] == plan["diff"]


def test_read_only_modules(live, tmp_path):
    """The audit, the export and a user's access: they only read, in check mode as without."""
    username = live.login["username"]  # the user the tests log in as, in both flows
    read = [
        ("audit", "sfops.integration.sf_integration_audit", dict(window_days=1)),
        ("export", "sfops.integration.sf_integration_export", {}),
        ("access", "sfops.integration.sf_user_access", dict(username=username, objects=["Account"],
                                                            permission_set_license="Salesforce API Integration")),
    ]
    tasks, defaults = logged_in(live, [dict(name=name, **{module: options}) for name, module, options in read]
                                + [dict(name=name + " check", check_mode=True, **{module: options})
                                   for name, module, options in read])
    run = run_playbook(tmp_path, tasks, module_defaults=defaults)
    for name, _module, _options in read:
        for task in (name, name + " check"):
            assert not run[task].get("failed"), (task, run[task])
            assert run[task]["changed"] is False and run[task]["change"]["action"] == "none", (task, run[task])
    audit = run["audit"]
    assert audit["summary"]["total"] == len(audit["findings"]) and audit["window"]["days"] == 1
    assert all(f["id"] and f["severity"] in ("high", "medium", "low", "info") for f in audit["findings"])
    export = run["export"]
    assert export["counts"] and all(entry["name"] and entry["user"]["username"] for entry in export["integrations"])
    access = run["access"]
    assert access["user"]["username"].lower() == username.lower()
    assert "ApiEnabled" in [p["name"] for p in access["system_permissions"]], access["system_permissions"]
