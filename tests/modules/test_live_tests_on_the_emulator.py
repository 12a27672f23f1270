"""`make test-live` (tests/live) pointed at the emulator: the one place `make test` runs the live tests.

SF_LIVE_* are set to an emulated org's preloaded administrator, as a user sets them to a sandbox's: the JWT bearer
login runs every live test (the integration user test also leaves something for the end-of-run cleanup), the
password login the tests that only read or plan (which must write nothing). Without SF_LIVE_* the live tests are
skipped with a message saying what to set.

Run on the newest ansible-core only: it checks the live suite itself (its logins, names, cleanup), while
the modules it drives are tested on the oldest and the newest by their own module tests; running it twice
would only add two minutes to make test.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
from ansible.release import __version__ as ansible_version

from collection_path import REPO
from harness import RawOrg, own_emulator

pytestmark = pytest.mark.skipif(tuple(int(part) for part in ansible_version.split(".")[:2]) < (2, 19),
                                reason="the live suite is checked on the newest ansible-core only")

ORG = "org1"
LIVE = os.path.join(REPO, "tests", "live")


def live_test_count():
    """How many tests tests/live holds (every one must run against the emulator, none skipped)."""
    count = 0
    for name in sorted(os.listdir(LIVE)):
        if name.startswith("test_") and name.endswith(".py"):
            with open(os.path.join(LIVE, name)) as handle:
                count += len(re.findall(r"^def test_", handle.read(), re.M))
    return count


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "live-emulator")


def live_tests(tmp_path, settings, *args):
    """(rc, output) of pytest on tests/live with only the given SF_LIVE_* variables."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(settings)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           LIVE] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_without_a_login_every_live_test_is_skipped_saying_why(tmp_path):
    rc, output = live_tests(tmp_path, {})
    assert rc == 0, output
    assert "skipped" in output and "passed" not in output and "failed" not in output, output
    assert "no SF_LIVE_* variables: make test-live needs a login" in output


def test_live_tests_against_the_emulator(emulator, tmp_path):
    info = emulator.orgs[ORG]
    run_id = uuid.uuid4().hex[:8]
    common = dict(SF_LIVE_LOGIN_URL=info["login_url"], SF_LIVE_USERNAME=info["username"],
                  SF_LIVE_CA_PATH=emulator.ca_file, SF_LIVE_RUN_ID=run_id)
    rc, output = live_tests(tmp_path, dict(common, SF_LIVE_CLIENT_ID=info["client_id"],
                                           SF_LIVE_PRIVATE_KEY_FILE=info["private_key_file"]))
    assert rc == 0 and "%d passed" % live_test_count() in output and "skipped" not in output, output
    raw = RawOrg(emulator, ORG)
    # The run's permission sets (one left assigned by the user test) were removed by the end-of-run cleanup, the
    # app by its test.
    assert raw.query("SELECT Id FROM PermissionSet WHERE Name LIKE 'SFOPS_LIVE_%s%%'" % run_id) == []
    assert raw.query("SELECT Id FROM ExternalClientApplication WHERE DeveloperName LIKE 'SFOPS_LIVE_%s%%'" % run_id) == []

    users = raw.query("SELECT IsActive, Profile.Name FROM User WHERE Username = 'sfops.live.%s@example.com'" % run_id)
    assert [(u["IsActive"], u["Profile"]["Name"]) for u in users] == [(False, "Minimum Access - API Only Integrations")]

    # The password login, with the tests that only read or plan: they write nothing (the cleanup finds nothing).
    emulator.clear_requests(ORG)
    rc, output = live_tests(tmp_path, dict(common, SF_LIVE_PASSWORD=info["password"],
                                           SF_LIVE_SECURITY_TOKEN=info["security_token"]),
                            "-k", "read_the_org or read_only or planned_only")
    assert rc == 0 and "3 passed" in output, output
    log = emulator.requests(ORG)
    assert log and sum(entry["writes"] for entry in log) == 0, log

    rc, output = live_tests(tmp_path, dict(SF_LIVE_LOGIN_URL=info["login_url"]))
    assert rc != 0 and "do not make a login: missing SF_LIVE_USERNAME" in output, output
