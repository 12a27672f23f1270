"""The collection's own login as password logins are retired, through ansible-playbook against the emulator.

SOAP login() does not exist at API 65.0 and later: a password login goes to 64.0 and the session is
used at the requested version. An org with SOAP login() or the OAuth username-password flow
switched off gets a message that names the setting and points to JWT bearer, which keeps working.
The emulator is this module's own: its org settings are changed.
"""
from __future__ import annotations

import pytest

from harness import connection_args, failure, own_emulator, run_playbook

SESSION = "sfops.integration.sf_session"
ORG_INFO = "sfops.integration.sf_org_info"


@pytest.fixture(scope="module")
def retirement_emulator(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "retirement-emulator")


def test_a_password_login_at_api_66_logs_in_at_64_and_works_at_66(retirement_emulator, tmp_path):
    retirement_emulator.clear_requests("org1")
    soap = connection_args(retirement_emulator, "org1", "soap", api_version="66.0")
    run = run_playbook(tmp_path, [{"name": "login", SESSION: soap}, {"name": "read", ORG_INFO: soap}])
    assert not run["login"].get("failed"), run["login"]
    assert run["login"]["api_version"] == "66.0" and not run["read"].get("failed"), run["read"]
    paths = [entry["path"] for entry in retirement_emulator.requests("org1")]
    assert "/services/Soap/u/64.0" in paths and not any(p.startswith("/services/Soap/u/66") for p in paths)
    assert any(p.startswith("/services/data/v66.0/") for p in paths), paths


def test_switched_off_password_logins_name_the_setting_and_jwt_still_works(retirement_emulator, tmp_path):
    retirement_emulator.settings("org1", soap_login_enabled=False, oauth_password_flow_blocked=True)
    try:
        run = run_playbook(tmp_path, [
            {"name": "soap", SESSION: connection_args(retirement_emulator, "org1", "soap")},
            {"name": "oauth_password", SESSION: connection_args(retirement_emulator, "org1", "oauth_password")},
            {"name": "jwt", SESSION: connection_args(retirement_emulator, "org1", "jwt")},
        ])
    finally:
        retirement_emulator.settings("org1", soap_login_enabled=True, oauth_password_flow_blocked=False)
    soap = failure(run, "soap")
    assert "Enable SOAP API login()" in soap and "JWT bearer" in soap and "private_key_file" in soap
    oauth = failure(run, "oauth_password")
    assert "Allow OAuth Username-Password Flows" in oauth and "JWT bearer" in oauth
    assert not run["jwt"].get("failed") and run["jwt"]["auth_flow"] == "jwt_bearer", run["jwt"]
