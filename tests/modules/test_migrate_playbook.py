"""playbooks/migrate.yml: a shared administrator-like user's access becomes a dedicated integration user's.

The story, with real ansible-playbook runs against the emulator: a shared user made by hand (a profile,
permission sets with object and field access, Modify All Data, a permission set group) is migrated; the
written entry, applied with playbooks/integration_users.yml, gives the new integration user that data
access and nothing privileged (read back with sf_user_access). The org is not changed by the migration.
A user that does not exist fails naming it; a user without access gives an entry with an empty set.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import yaml

from collection_path import COLLECTIONS, REPO, ensure_collection_path
from harness import RawOrg, connection_args, run_playbook
from test_role_integration_users import Rollout
from test_sf_user_access_playbook import USER_ACCESS, by, shared_admin

ORG = "org1"
MIGRATE = os.path.join(REPO, "playbooks", "migrate.yml")
OBJECTS = "Account,Contact,Invoice__c"


def migrate(rollout, *extra):
    """(rc, output) of one migrate.yml run on the rollout's inventory, in its work directory."""
    ensure_collection_path()
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", rollout.inventory, MIGRATE]
    for item in extra:
        command += ["-e", item]
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("SF_"))
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=os.path.join(rollout.workdir, "ansible-tmp"), SF_RETRY_BACKOFF="0.01")
    proc = subprocess.run(command, cwd=rollout.workdir, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def story(emulator, tmp_path_factory):
    emulator.settings(ORG, license_seats={"Salesforce Integration": 500, "SalesforceAPIIntegrationPsl": 500})
    shared = shared_admin(emulator, ORG)
    info = emulator.orgs[ORG]
    hosts = {ORG: dict(sf_login_url=info["login_url"], sf_username=info["username"], sf_password=info["password"],
                       sf_security_token=info["security_token"], sf_ca_path=emulator.ca_file)}
    rollout = Rollout(tmp_path_factory.mktemp("migrate"), emulator, hosts=hosts)
    suffix = uuid.uuid4().hex[:6]
    name = "sync" + suffix
    emulator.clear_requests(ORG)
    rc, output = migrate(rollout, "sf_migrate_from=" + shared["username"], "sf_migrate_to=" + name,
                         "sf_migrate_objects=" + OBJECTS, "sf_migrate_username=%s.integration@acme.example" % name)
    migrate_log = emulator.requests(ORG)
    path = os.path.join(rollout.workdir, "reports", "migrate-%s.yml" % name)
    text = open(path).read() if os.path.exists(path) else ""
    return dict(rollout=rollout, shared=shared, name=name, rc=rc, output=output, text=text, log=migrate_log,
                username="%s.integration@acme.example" % name)


def test_migrate_writes_a_reviewable_entry_and_changes_nothing(story):
    assert story["rc"] == 0, story["output"][-3000:]
    assert sum(entry.get("writes", 0) for entry in story["log"]) == 0
    entry = yaml.safe_load(story["text"])["sf_integrations"][0]
    assert entry["user"]["username"] == story["username"]
    permission_set = entry["permission_sets"][0]
    assert permission_set["name"] == story["name"].capitalize() + "_Integration"
    objects = by(permission_set["object_permissions"], "object")
    assert sorted(objects) == ["Account", "Contact", "Invoice__c"]
    assert objects["Account"]["access"] == ["read", "create", "edit", "delete"]  # View All left out
    assert by(permission_set["field_permissions"], "field") == {
        "Account.Industry": dict(field="Account.Industry", access="edit"),
        "Contact.Email": dict(field="Contact.Email", access="read"),
        "Invoice__c.Paid__c": dict(field="Invoice__c.Paid__c", access="edit")}
    system = permission_set["system_permissions"]
    assert "ViewRoles" in system and "RunReports" in system  # from the group and the profile
    for privileged in ("ModifyAllData", "ViewAllData", "ModifyMetadata", "LightningExperienceUser"):
        assert privileged not in system
    text = story["text"]
    assert "#   - ModifyAllData (Modify All Data): admin-grade" in text and story["shared"]["admin"] in text
    assert "#   - view_all_records on Account: reaches every record regardless of sharing" in text
    assert "- ViewRoles  # group %s" % story["shared"]["group"] in text
    assert "Left out, never granted:" in story["output"]


def test_applied_entry_gives_the_data_access_and_nothing_privileged(story, emulator, tmp_path_factory):
    assert story["rc"] == 0, story["output"][-3000:]
    entry_file = os.path.join(story["rollout"].workdir, "reports", "migrate-%s.yml" % story["name"])
    # Only the entry: the profile's password policy and the MFA waiver are other steps of the rollout.
    rc, output, report, _markdown = story["rollout"].run("-e", "@" + entry_file, orgs=[ORG], extra=dict(
        sf_integration_password_policy={}, sf_integration_mfa_waiver="never"))
    assert rc == 0, output[-4000:]
    assert report["orgs"][0]["status"] == "changed", report
    creds = connection_args(emulator, ORG, "soap")
    creds = dict(login_username=creds.pop("username"), login_password=creds.pop("password"), **creds)
    run = run_playbook(tmp_path_factory.mktemp("migrated"), [
        {"name": "new", USER_ACCESS: dict(creds, username=story["username"], objects=OBJECTS.split(","))}])
    access = run["new"]
    assert not access.get("failed"), access
    assert access["user"]["license"] == "Salesforce Integration" and access["user"]["api_only"] is True
    objects = by(access["object_permissions"], "object")
    assert dict((name, item["access"]) for name, item in objects.items()) == {
        "Account": ["read", "create", "edit", "delete"], "Contact": ["read", "create", "edit", "delete"],
        "Invoice__c": ["read", "create", "edit", "delete"]}
    assert dict((f["field"], f["access"]) for f in access["field_permissions"]) == {
        "Account.Industry": "edit", "Contact.Email": "read", "Invoice__c.Paid__c": "edit"}
    assert [p["name"] for p in access["system_permissions"] if p["privileged"]] == []
    assert "ViewRoles" in [p["name"] for p in access["system_permissions"]]


def test_unknown_user_and_user_without_access(story, emulator):
    rc, output = migrate(story["rollout"], "sf_migrate_from=nobody.%s@acme.example" % story["name"],
                         "sf_migrate_to=ghost")
    assert rc != 0 and "no user with username 'nobody.%s@acme.example'" % story["name"] in output
    assert "Traceback" not in output
    assert not os.path.exists(os.path.join(story["rollout"].workdir, "reports", "migrate-ghost.yml"))

    raw = RawOrg(emulator, ORG)
    profile = raw.query("SELECT Id FROM Profile WHERE Name = 'Minimum Access - Salesforce'")[0]["Id"]
    bare = "bare.%s@acme.example" % story["name"]
    raw.create("User", dict(Username=bare, LastName="Bare", Email="sf-ops@acme.example", Alias="bare",
                            TimeZoneSidKey="GMT", LocaleSidKey="en_US", EmailEncodingKey="UTF-8",
                            LanguageLocaleKey="en_US", ProfileId=profile))
    rc, output = migrate(story["rollout"], "sf_migrate_from=" + bare, "sf_migrate_to=bare",
                         "sf_migrate_output=out/bare.yml")
    assert rc == 0, output[-3000:]
    with open(os.path.join(story["rollout"].workdir, "out", "bare.yml")) as handle:
        text = handle.read()
    permission_set = yaml.safe_load(text)["sf_integrations"][0]["permission_sets"][0]
    assert set(permission_set) == {"name", "label", "description"} and "holds no access" in text

    rc, output = migrate(story["rollout"], "sf_migrate_to=no user given")
    assert rc != 0 and "Give the shared user and the name of the new integration" in output
