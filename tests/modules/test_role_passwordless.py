"""Passwordless integrations through playbooks/integration_users.yml, against two emulated orgs.

One story with real ansible-playbook runs:

1. check mode: nothing written and no key file made; the report plans each External Client App
   and says the logins are proven only when the rollout runs;
2. apply: a key and certificate are made on the controller (mode 0600), each integration gets its
   app pre-authorized through its own permission set, and each integration user logs in once with
   its own flow (JWT bearer, client credentials): the report says "proven" with the consumer key
   and never holds a secret; the password integration is flagged with the retirement dates, and only
   it gets the MFA waiver in the org that requires MFA for API logins;
3. re-run: nothing changes, the logins are proven again;
4. in an org that does not let the consumer secret be read through the REST API, the client
   credentials login is "not proven" with the reason, and the org does not fail for it.

Bad input (a JWT integration without certificate or key, a passwordless integration with a
password) fails before any login, naming the path of the bad value.
"""
from __future__ import annotations

import os
import stat

import pytest

from harness import own_emulator
from test_role_integration_users import OrgApi, Rollout, by_org, changes, writes

PASSWORD = "Not-Shown-7c1#Example"
MARKETO_APP = "Marketo_Integration"
ACCOUNTING_APP = "Accounting_Integration"


def integrations(key_path):
    return [
        dict(name="marketo",
             user=dict(username="marketo.integration@pwless.example.{{ inventory_hostname }}", email="ops@pwless.example",
                       last_name="Marketo Integration"),
             permission_sets=[dict(name="Marketo_Sync", object_permissions=[dict(object="Lead", access=["read", "edit"])])],
             oauth=dict(flow="jwt", generate_key=key_path)),
        dict(name="accounting",
             user=dict(username="accounting.integration@pwless.example.{{ inventory_hostname }}",
                       email="ops@pwless.example", last_name="Accounting Integration"),
             permission_sets=[dict(name="Accounting_Sync", object_permissions=[dict(object="Invoice__c",
                                                                                    access=["read", "edit"])])],
             oauth=dict(flow="client_credentials")),
        dict(name="legacy",
             user=dict(username="legacy.integration@pwless.example.{{ inventory_hostname }}", email="ops@pwless.example",
                       last_name="Legacy Integration", password=PASSWORD),
             permission_sets=[dict(name="Legacy_Sync", object_permissions=[dict(object="Contact", access=["read"])])]),
    ]


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    """org1 lets the consumer secret be read through the REST API and requires MFA for API logins; org2 does not."""
    yield from own_emulator(tmp_path_factory, "passwordless-emulator", orgs=2, eca_client_secret_in_rest_api=True, mfa_for_api_logins=True)


def logins(record):
    return dict((login["integration"], login) for login in record["logins"])


def test_passwordless_rollout(orgs, tmp_path):
    key_path = str(tmp_path / "keys" / "marketo.key")
    rollout = Rollout(tmp_path, orgs, integrations(key_path))
    extra = dict(sf_integration_login_check_retries=1, sf_integration_login_check_delay=1)

    rc, output, report, markdown = rollout.run(check=True, extra=extra)
    assert rc == 0, output
    assert all(writes(orgs, org) == 0 for org in orgs.orgs)
    assert not os.path.exists(key_path), "check mode made a key"
    record = by_org(report)["org1"]
    planned = dict((c["name"], c) for c in changes(record, "external_client_app"))
    assert set(planned) == {MARKETO_APP, ACCOUNTING_APP} and planned[MARKETO_APP]["action"] == "create"
    assert logins(record)["marketo"]["verified"] is None and "check mode" in logins(record)["marketo"]["note"]
    assert "External Client App `Marketo_Integration`: would create" in markdown

    rc, output, report, markdown = rollout.run(extra=extra)
    assert rc == 0, output
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    records = by_org(report)
    first = logins(records["org1"])
    assert first["marketo"]["verified"] is True and first["marketo"]["method"] == "jwt", first
    assert first["accounting"]["verified"] is True and first["accounting"]["method"] == "client_credentials", first
    assert first["marketo"]["consumer_key"] and first["marketo"]["app"] == MARKETO_APP
    # The proof is the identity each new session read of itself.
    assert first["marketo"]["session_user"] == "marketo.integration@pwless.example.org1", first
    assert first["accounting"]["session_user"] == "accounting.integration@pwless.example.org1", first
    assert "| yes: the session is marketo.integration@pwless.example.org1 |" in markdown
    assert sum(1 for r in orgs.requests("org1") if r["path"] == "/services/oauth2/userinfo") == 2
    assert first["legacy"]["method"] == "password" and "Summer '27" in first["legacy"]["note"]
    assert records["org1"]["counts"]["apps_created"] == 2
    assert "| marketo | marketo.integration@pwless.example.org1 | JWT bearer | Marketo_Integration |" in markdown
    assert "**Warning:** legacy: password login" in markdown
    with open(key_path) as handle:
        key_body = [line for line in handle.read().splitlines() if "-----" not in line][1]
    assert key_body not in output and key_body not in markdown
    assert PASSWORD not in output and PASSWORD not in markdown

    # Only the password integration holds the MFA waiver where the org requires MFA for API logins.
    api = OrgApi(orgs, "org1")
    waiver_holders = api.query("SELECT Assignee.Username FROM PermissionSetAssignment "
                               "WHERE PermissionSet.Name = 'Integration_MFA_Waiver'")
    assert [row["Assignee"]["Username"] for row in waiver_holders] == ["legacy.integration@pwless.example.org1"]
    # The app lets in the integration's own permission set only.
    assert api.one("SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '%s'" % MARKETO_APP)

    # org2 does not let the secret be read: the client credentials login is not proven, the org is fine.
    second = logins(records["org2"])
    assert records["org2"]["status"] == "changed", records["org2"]
    assert second["marketo"]["verified"] is True
    assert second["accounting"]["verified"] is None and "consumer secret" in second["accounting"]["note"], second

    rc, output, report, _markdown = rollout.run(extra=extra)
    assert rc == 0, output
    for org, record in by_org(report).items():
        assert record["status"] == "unchanged", (org, record["changes"])
        assert writes(orgs, org) == 0
    assert logins(by_org(report)["org1"])["accounting"]["verified"] is True


def test_bad_passwordless_input_fails_before_any_login(orgs, tmp_path):
    bad = integrations(str(tmp_path / "k.key"))
    bad[0]["oauth"] = dict(flow="jwt")
    bad[1]["user"]["password"] = PASSWORD
    rollout = Rollout(tmp_path, orgs, bad)
    for org in orgs.orgs:
        orgs.clear_requests(org)
    rc, output, _report, _markdown = rollout.run()
    assert rc != 0
    assert "sf_integrations[0].oauth: flow jwt needs exactly one of certificate_file and generate_key" in output
    assert "sf_integrations[1].user.password: an integration that logs in with oauth has no password" in output
    assert PASSWORD not in output
    assert all(orgs.requests(org) == [] for org in orgs.orgs)


def test_a_key_file_without_a_key_and_a_file_without_a_certificate_are_refused_before_any_login(orgs, tmp_path):
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key\n")
    not_a_certificate = tmp_path / "marketo.crt"
    not_a_certificate.write_text("plain-text-7d2e\n")
    bad = integrations(str(garbage))
    bad.append(dict(bad[0], name="other", user=dict(bad[0]["user"], username="other.integration@pwless.example"),
                    permission_sets=[dict(name="Other_Sync")], oauth=dict(flow="jwt", certificate_file=str(not_a_certificate))))
    for org in orgs.orgs:
        orgs.clear_requests(org)
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, bad).run()
    assert rc != 0
    assert "private_key_path %s" % garbage in output
    assert all(orgs.requests(org) == [] for org in orgs.orgs)
    assert garbage.read_text() == "not a key\n"
    bad[0]["oauth"] = dict(flow="jwt", generate_key=str(tmp_path / "fresh" / "marketo.key"))
    rc, output, _report, _markdown = Rollout(tmp_path, orgs, bad).run()
    assert rc != 0 and "is not a PEM-encoded X.509 certificate" in output and str(not_a_certificate) in output
    assert all(orgs.requests(org) == [] for org in orgs.orgs)
    assert not (tmp_path / "fresh").exists(), "the check wrote a key"
