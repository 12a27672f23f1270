"""The rollout run as a least-privilege automation user instead of a System Administrator.

playbooks/automation_identity.yml (run once as the administrator) gives a dedicated automation user
the one permission set the collection needs; the whole rollout, passwordless integrations and a
password policy included, then runs as that user, converges and re-runs without change. A user who
lacks a permission the rollout needs is refused by the org, and the report names the permission.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from collection_path import COLLECTIONS, REPO
from harness import RawOrg, own_emulator
from test_role_integration_users import Rollout, by_org, changes
from test_role_passwordless import integrations as passwordless_integrations

PASSWORD = "Automation-Run-4f2#Example"
AUTOMATION_SET = "Integration_Rollout_Automation"


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "automation-emulator", eca_client_secret_in_rest_api=True)


def new_user(emulator, name):
    """A user on the Salesforce license with the profile that grants nothing (not even API access), and its login."""
    raw = RawOrg(emulator, "org1")
    profile = raw.query("SELECT Id FROM Profile WHERE Name = 'Minimum Access - Salesforce'")[0]["Id"]
    username = "%s@automation.example" % name
    user_id = raw.create("User", dict(Username=username, LastName=name.title(), Email="ops@automation.example",
                                      Alias=name[:8], ProfileId=profile, TimeZoneSidKey="GMT", LocaleSidKey="en_US",
                                      EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US"))
    raw.call("POST", "sobjects/User/%s/password" % user_id, json={"NewPassword": PASSWORD})
    token = emulator._admin("GET", "org1", "security_token?username=%s" % username)["security_token"]
    login = dict(sf_login_url=emulator.orgs["org1"]["login_url"], sf_username=username, sf_password=PASSWORD,
                 sf_security_token=token, sf_ca_path=emulator.ca_file)
    return raw, user_id, login


def automation_identity(emulator, workdir, username):
    """playbooks/automation_identity.yml as the org's administrator."""
    info = emulator.orgs["org1"]
    inventory = os.path.join(str(workdir), "admin-inventory.yml")
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"hosts": {"org1": dict(
            sf_login_url=info["login_url"], sf_username=info["username"], sf_password=info["password"],
            sf_security_token=info["security_token"], sf_ca_path=emulator.ca_file)},
            "vars": dict(ansible_python_interpreter=sys.executable)}}, handle)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(str(workdir), "ansible-tmp"))
    playbook = os.path.join(REPO, "playbooks", "automation_identity.yml")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook,
                           "-e", "sf_automation_username=%s" % username], cwd=str(workdir), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


ASKED = ("ApiEnabled", "ManageUsers", "ModifyMetadata")
NEVER = ("ModifyAllData", "ViewAllData", "AuthorApex", "CustomizeApplication")


def held_permissions(raw, user_id):
    """Which of ASKED and NEVER the user's assigned sets (not the profile's) grant."""
    ids = [row["PermissionSetId"] for row in raw.query(
        "SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = '%s' "
        "AND PermissionSet.IsOwnedByProfile = false" % user_id)]
    fields = ", ".join("Permissions" + name for name in ASKED + NEVER)
    rows = raw.query("SELECT %s FROM PermissionSet WHERE Id IN ('%s')" % (fields, "','".join(ids)))
    return set(name for name in ASKED + NEVER if any(row["Permissions" + name] for row in rows))


def automation_permissions():
    with open(os.path.join(REPO, "playbooks", "automation_identity.yml")) as handle:
        return yaml.safe_load(handle)[0]["vars"]["sf_automation_system_permissions"]


def test_the_rollout_runs_as_the_automation_user(org, tmp_path):
    raw, user_id, login = new_user(org, "automation")
    rc, output = automation_identity(org, tmp_path, login["sf_username"])
    assert rc == 0, output[-3000:]
    held = held_permissions(raw, user_id)
    assert held == set(ASKED), held
    # Re-running the identity playbook changes nothing.
    rc, output = automation_identity(org, tmp_path, login["sf_username"])
    assert rc == 0 and "changed=0" in output, output[-3000:]

    key_path = str(tmp_path / "keys" / "marketo.key")
    rollout = Rollout(tmp_path, org, passwordless_integrations(key_path), hosts={"org1": login})
    extra = dict(sf_integration_login_check_retries=1, sf_integration_login_check_delay=1)
    rc, output, report, _markdown = rollout.run(extra=extra)
    assert rc == 0, output[-4000:]
    record = by_org(report)["org1"]
    assert record["status"] == "changed", record
    assert {c["name"] for c in changes(record, "user")} == {
        "%s.integration@pwless.example.org1" % name for name in ("marketo", "accounting", "legacy")}
    verified = dict((entry["integration"], entry["verified"]) for entry in record["logins"])
    assert verified["marketo"] is True and verified["accounting"] is True, record["logins"]
    # Everything the rollout wrote, it wrote as the automation user.
    creators = {row["CreatedById"] for row in raw.query(
        "SELECT CreatedById FROM PermissionSet WHERE Name IN ('Marketo_Sync', 'Accounting_Sync', 'Legacy_Sync')")}
    assert creators == {user_id}

    rc, output, report, _markdown = rollout.run(extra=extra)
    assert rc == 0, output[-4000:]
    assert by_org(report)["org1"]["status"] == "unchanged", by_org(report)["org1"]["changes"]


def test_a_user_without_the_permissions_is_refused_naming_them(org, tmp_path):
    raw, user_id, login = new_user(org, "viewer")
    viewer_set = raw.create("PermissionSet", dict(Name="Setup_Viewer", Label="Setup Viewer", PermissionsApiEnabled=True,
                                                  PermissionsViewSetup=True))
    raw.create("PermissionSetAssignment", dict(AssigneeId=user_id, PermissionSetId=viewer_set))
    key_path = str(tmp_path / "keys" / "marketo.key")
    org.clear_requests("org1")
    rc, output, report, _markdown = Rollout(tmp_path, org, passwordless_integrations(key_path),
                                            hosts={"org1": login}).run()
    assert sum(entry.get("writes", 0) for entry in org.requests("org1")) == 0
    assert rc != 0
    record = by_org(report)["org1"]
    assert record["status"] == "failed", record
    # The org refuses the first read or write the user lacks a permission for (which one depends on what
    # already exists), naming a permission the automation set holds; nothing was written.
    named = re.search(r"the user needs the permission [^(]+\((\w+)\)", record["failure"]["message"])
    assert named and named.group(1) in automation_permissions(), record["failure"]
    assert record["changes"] == []
