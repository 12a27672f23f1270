"""`make test-live`: module tests against a real org (a sandbox or a Developer Edition org), given by SF_LIVE_*.

Log in with JWT bearer (SF_LIVE_LOGIN_URL, SF_LIVE_USERNAME, SF_LIVE_CLIENT_ID, SF_LIVE_PRIVATE_KEY_FILE) or with a
password (SF_LIVE_LOGIN_URL, SF_LIVE_USERNAME, SF_LIVE_PASSWORD and, from outside the org's trusted IP ranges,
SF_LIVE_SECURITY_TOKEN). Optional: SF_LIVE_CA_PATH (a private CA), SF_LIVE_API_VERSION, SF_LIVE_USER_DOMAIN (the
domain of the usernames the tests make, default example.com) and SF_LIVE_RUN_ID (default random).

Without any SF_LIVE_* variable every test is skipped, saying so; with some but not enough, the run stops with what
is missing. Every name made carries the run id (permission sets SFOPS_LIVE_<run id>_..., the user
sfops.live.<run id>@<domain>, the External Client App SFOPS_LIVE_<run id>_App); what a run made is removed at the
end, a test failing or not: the app and permission sets deleted, the one user deactivated (Salesforce cannot delete
users). The other tests only read (the audit, the export, a user's access) or run in check mode (the password policy
of the standard integration profile, which a run never changes). The tests take at most one Salesforce
Integration license seat (none when no seat is free: the user test is skipped) and no permission set license seat.
"""
from __future__ import annotations

import os
import sys
import uuid

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "modules"))

from collection_path import ensure_collection_path  # noqa: E402

ensure_collection_path()
from ansible_collections.sfops.integration.plugins.module_utils import metadata  # noqa: E402
from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient  # noqa: E402
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql  # noqa: E402

PREFIX = "SF_LIVE_"
# An External Client App's parts first, then the app (as sf_external_client_app deletes them).
APP_TYPES = ("ExtlClntAppGlobalOauthSettings", "ExtlClntAppOauthSettings", "ExtlClntAppOauthConfigurablePolicies",
             "ExternalClientApplication")
FLOWS = dict(jwt=("SF_LIVE_CLIENT_ID", "SF_LIVE_PRIVATE_KEY_FILE"), password=("SF_LIVE_PASSWORD",))
NEEDED = ("SF_LIVE_LOGIN_URL", "SF_LIVE_USERNAME")
HOW = ("make test-live needs a login to a sandbox or a Developer Edition org: SF_LIVE_LOGIN_URL and SF_LIVE_USERNAME, "
       "and either SF_LIVE_CLIENT_ID + SF_LIVE_PRIVATE_KEY_FILE (JWT bearer) or SF_LIVE_PASSWORD "
       "(+ SF_LIVE_SECURITY_TOKEN)")


def live_settings():
    """The SF_LIVE_* variables that are set (empty ones count as unset)."""
    return dict((name, value) for name, value in os.environ.items() if name.startswith(PREFIX) and value)


def login_problem(settings):
    """What is missing for a login, or None."""
    lacking = [name for name in NEEDED if name not in settings]
    if not any(all(name in settings for name in names) for names in FLOWS.values()):
        lacking.append("SF_LIVE_CLIENT_ID + SF_LIVE_PRIVATE_KEY_FILE or SF_LIVE_PASSWORD")
    return ", ".join(lacking) or None


def pytest_collection_modifyitems(config, items):
    settings = live_settings()
    if not settings:
        skip = pytest.mark.skip(reason="no SF_LIVE_* variables: %s" % HOW)
        for item in items:
            item.add_marker(skip)
        return
    problem = login_problem(settings)
    if problem:
        raise pytest.UsageError("SF_LIVE_* variables are set but do not make a login: missing %s. %s" % (problem, HOW))


class LiveOrg:
    """The org of SF_LIVE_*: module options to log in, the run's names, a client for checks and cleanup."""

    def __init__(self, settings):
        self.run_id = settings.get("SF_LIVE_RUN_ID") or uuid.uuid4().hex[:8]
        self.set_prefix = "SFOPS_LIVE_%s" % self.run_id
        self.username = "sfops.live.%s@%s" % (self.run_id.lower(), settings.get("SF_LIVE_USER_DOMAIN", "example.com"))
        flow = "jwt" if all(name in settings for name in FLOWS["jwt"]) else "password"
        names = dict(login_url="SF_LIVE_LOGIN_URL", username="SF_LIVE_USERNAME", ca_path="SF_LIVE_CA_PATH",
                     api_version="SF_LIVE_API_VERSION")
        names.update(dict(client_id="SF_LIVE_CLIENT_ID", private_key_file="SF_LIVE_PRIVATE_KEY_FILE") if flow == "jwt"
                     else dict(password="SF_LIVE_PASSWORD", security_token="SF_LIVE_SECURITY_TOKEN"))
        self.login = dict((option, settings[name]) for option, name in names.items() if name in settings)
        self.client = SalesforceClient(dict(self.login))

    def set_name(self, suffix):
        return "%s_%s" % (self.set_prefix, suffix)

    def free_integration_seats(self):
        row = self.client.query_one("SELECT TotalLicenses, UsedLicenses FROM UserLicense "
                                    "WHERE Name = 'Salesforce Integration'")
        return (row["TotalLicenses"] - row["UsedLicenses"]) if row else 0

    def clean_up(self):
        """Delete the run's External Client Apps and permission sets (assignments first), deactivate the run's user."""
        apps = self.client.query(soql("SELECT DeveloperName FROM ExternalClientApplication WHERE DeveloperName LIKE "
                                      "'{:like}%'", self.set_prefix))
        if apps:  # a test stopped before it deleted its app: find the parts by the run's prefix
            for md_type in APP_TYPES:
                names = [name for name in metadata.list_names(self.client, md_type) if name.startswith(self.set_prefix)]
                for chunk in metadata.chunks(names):
                    metadata.try_delete(self.client, md_type, chunk)
        sets = self.client.query(soql("SELECT Id FROM PermissionSet WHERE Name LIKE '{:like}%'", self.set_prefix))
        set_ids = [row["Id"] for row in sets]
        if set_ids:
            assignments = self.client.query(soql("SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId IN {}",
                                                 set_ids))
            if assignments:
                self.client.delete_records([row["Id"] for row in assignments], missing_ok=True)
            self.client.delete_records(set_ids, missing_ok=True)
        user = self.client.query_one(soql("SELECT Id, IsActive FROM User WHERE Username = {}", self.username))
        if user and user["IsActive"]:
            self.client.update("User", user["Id"], dict(IsActive=False))


@pytest.fixture(scope="session")
def live():
    org = LiveOrg(live_settings())
    yield org
    org.clean_up()
