"""The consumer secret of a client credentials integration never leaves the registered variables.

One rollout through playbooks/integration_users.yml at -vvvv, against an org that lets the secret be
read through the REST API: the role reads the secret for the login proof and logs in with it, and the
secret (read back from the org afterwards) is nowhere in the output (stdout and stderr) or the reports.
"""
from __future__ import annotations

import os

import pytest

from harness import own_emulator
from test_role_integration_users import API, OrgApi, Rollout, by_org

APP = "Billing_Integration"
USERNAME = "billing.integration@secrets.example"


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "secrets-emulator", eca_client_secret_in_rest_api=True)


def consumer_secret(api, app):
    """The app's secret, as the org's OAuth credentials resource gives it to its administrator."""
    app_id = api.one("SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '%s'" % app)["Id"]
    base = "%s/services/data/%s/apps/oauth/credentials/%s" % (api.instance, API, app_id)
    consumers = api.http.get(base)
    assert consumers.status_code == 200, consumers.text
    consumer = consumers.json()["consumers"][0]["id"]
    answer = api.http.get("%s/%s" % (base, consumer), params={"part": "secret"})
    assert answer.status_code == 200, answer.text
    return answer.json()["secret"]


def test_the_secret_is_nowhere_in_the_output_or_the_reports_at_vvvv(org, tmp_path):
    integrations = [dict(
        name="billing", user=dict(username=USERNAME, email="ops@secrets.example", last_name="Billing Integration"),
        permission_sets=[dict(name="Billing_Sync", object_permissions=[dict(object="Account", access=["read"])])],
        oauth=dict(flow="client_credentials", app_name=APP))]
    rollout = Rollout(tmp_path, org, integrations)
    rc, output, report, markdown = rollout.run("-vvvv", extra=dict(sf_integration_login_check_retries=1,
                                                                   sf_integration_login_check_delay=1))
    assert rc == 0, output[-5000:]
    assert "ESTABLISH LOCAL CONNECTION" in output  # the run was at -vvvv
    login = by_org(report)["org1"]["logins"][0]
    # The secret was read and used: the login through the app was proven.
    assert login["verified"] is True and login["method"] == "client_credentials", login
    assert login["consumer_key"] and login["consumer_key"] in markdown

    secret = consumer_secret(OrgApi(org, "org1"), APP)
    assert secret and len(secret) >= 16
    assert secret not in output
    files = sorted(os.listdir(rollout.reports))
    assert "rollout-report.md" in files and "rollout-report.json" in files
    for name in files:
        if name.endswith((".md", ".json")):
            with open(os.path.join(rollout.reports, name)) as handle:
                assert secret not in handle.read(), name
