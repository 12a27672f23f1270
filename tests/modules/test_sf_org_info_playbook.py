"""sf_org_info against the emulator: the facts and how few requests they cost."""
from __future__ import annotations

import pytest

from harness import connection_args, result_var, run_playbook

ORG_INFO = "sfops.integration.sf_org_info"
SESSION = "sfops.integration.sf_session"


@pytest.fixture(scope="module")
def info_run(emulator, tmp_path_factory):
    org = "org2"
    emulator.settings(org, mfa_for_api_logins=False)
    emulator.clear_requests(org)
    creds = connection_args(emulator, org, "soap")
    login = result_var("login")
    tasks = [
        {"name": "with_login", ORG_INFO: creds},
        {"name": "login", SESSION: creds},
        {"name": "with_session", ORG_INFO: {}, "module_defaults": {"group/sfops.integration.salesforce": dict(
            ca_path=emulator.ca_file, instance_url="{{ %s.instance_url }}" % login,
            access_token="{{ %s.access_token }}" % login)}},
        {"name": "check_mode", ORG_INFO: creds, "check_mode": True},
    ]
    run = run_playbook(tmp_path_factory.mktemp("org_info"), tasks)
    return run, emulator.requests(org)


def test_facts(info_run, emulator):
    run, _log = info_run
    facts = run["with_login"]
    assert not facts.get("failed"), facts
    assert facts["changed"] is False
    assert facts["org"]["id"] == emulator.orgs["org2"]["org_id"]
    assert facts["org"]["edition"]
    assert facts["org"]["is_sandbox"] is False
    daily = facts["limits"]["daily_api_requests"]
    assert daily["max"] > 0 and 0 < daily["remaining"] <= daily["max"]
    licenses = dict((lic["name"], lic) for lic in facts["user_licenses"])
    integration = licenses["Salesforce Integration"]
    assert integration["total"] == 5
    assert integration["available"] == integration["total"] - integration["used"]
    psls = dict((psl["developer_name"], psl) for psl in facts["permission_set_licenses"])
    assert psls["SalesforceAPIIntegrationPsl"]["total"] > 0
    profiles = dict((p["name"], p) for p in facts["integration_profiles"])
    assert profiles["Minimum Access - API Only Integrations"]["user_license"] == "Salesforce Integration"
    assert profiles["Minimum Access - API Only Integrations"]["api_only"] is True
    assert "System Administrator" not in profiles
    assert facts["mfa_for_api_logins"] == dict(required=False, profiles=[], permission_sets=[])


def test_request_count(info_run):
    run, log = info_run
    # login + one composite (5 queries) + /limits
    assert run["with_login"]["api_requests"] == 3
    assert run["with_session"]["api_requests"] == 2
    assert run["check_mode"]["api_requests"] == 3
    total = sum(run[name]["api_requests"] for name in ("with_login", "login", "with_session", "check_mode"))
    assert len(log) == total
    assert not [r for r in log if r["method"] not in ("GET", "POST") or
                (r["method"] == "POST" and not any(p in r["path"] for p in ("/composite", "/Soap/u/", "/oauth2/")))]


def test_same_facts_with_a_session(info_run):
    run, _log = info_run
    with_login = dict(run["with_login"])
    with_session = dict(run["with_session"])
    for result in (with_login, with_session):
        for key in ("api_requests", "invocation", "limits", "failed", "changed"):
            result.pop(key, None)
    assert with_login == with_session


def test_mfa_for_api_logins(emulator, tmp_path):
    org = "org2"
    emulator.settings(org, mfa_for_api_logins=True)
    try:
        run = run_playbook(tmp_path, [{"name": "facts", ORG_INFO: connection_args(emulator, org, "soap")}])
    finally:
        emulator.settings(org, mfa_for_api_logins=False)
    mfa = run["facts"]["mfa_for_api_logins"]
    assert mfa["required"] is True
    assert mfa["profiles"] or mfa["permission_sets"]
