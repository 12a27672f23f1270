"""sf_profile_password_policy against the emulator, through ansible-playbook.

Two playbook runs: one applying many cases (create, re-run, change one value, other values kept,
policies made by simple-salesforce's own sf.mdapi, bad values, unknown profile, absent), then one in
check mode that must write nothing. Policies are read back with a plain simple-salesforce client in
a subprocess that trusts the emulator through REQUESTS_CA_BUNDLE, the way a user's script would.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import requests
from collection_path import ensure_collection_path
from harness import connection_args, run_playbook

ensure_collection_path()
from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient  # noqa: E402

MODULE = "sfops.integration.sf_profile_password_policy"
ORG = "org3"
API = "v62.0"

SEED_000 = dict(password_expiration="never", password_history=0, lockout_interval=30, max_login_attempts=10,
                minimum_password_length=16, password_complexity="upper_lower_numeric_special",
                password_question="cannot_contain_password")
DEFAULTS = dict(password_expiration=90, password_history=3, lockout_interval=15, max_login_attempts=10,
                minimum_password_length=8, password_complexity="alpha_numeric",
                password_question="cannot_contain_password", forgot_password_redirect=False,
                minimum_password_lifetime=False, obscure=False)
# Every bad value: (task name, options, the option the message must name). None fail before any request.
INVALID = [
    ("bad_expiration_days", dict(password_expiration=45), "password_expiration"),
    ("bad_expiration_word", dict(password_expiration="always"), "password_expiration"),
    ("bad_history_high", dict(password_history=25), "password_history"),
    ("bad_history_negative", dict(password_history=-1), "password_history"),
    ("bad_lockout", dict(lockout_interval=20), "lockout_interval"),
    ("bad_attempts", dict(max_login_attempts=4), "max_login_attempts"),
    ("bad_length_low", dict(minimum_password_length=4), "minimum_password_length"),
    ("bad_length_high", dict(minimum_password_length=51), "minimum_password_length"),
    ("bad_complexity", dict(password_complexity="strong"), "password_complexity"),
    ("bad_question", dict(password_question="maybe"), "password_question"),
    ("bad_boolean", dict(obscure="sometimes"), "obscure"),
    ("bad_history_rule", dict(password_history=0, password_expiration=90), "password_expiration: never"),
]

# Runs in a subprocess: simple-salesforce's own client, trusting the emulator only through
# REQUESTS_CA_BUNDLE. stdin: {instance_url, session_id, create: [records], read: [names]}.
PLAIN_MDAPI = r"""
import json, sys
from simple_salesforce import Salesforce
from zeep.helpers import serialize_object
job = json.load(sys.stdin)
sf = Salesforce(instance_url=job["instance_url"], session_id=job["session_id"], version="62.0")
policy_type = sf.mdapi.ProfilePasswordPolicy
if job.get("create"):
    policy_type.create([sf.mdapi.ProfilePasswordPolicy(**record) for record in job["create"]])
found = policy_type.read(job["read"]) if job.get("read") else []
found = found if isinstance(found, list) else [found]
names = [row.fullName for row in sf.mdapi.list_metadata(sf.mdapi.ListMetadataQuery(type="ProfilePasswordPolicy"))]
print(json.dumps(dict(read=[serialize_object(r, dict) for r in found], names=names)))
"""


def plain_mdapi(emulator, session, create=None, read=None):
    env = dict(os.environ, REQUESTS_CA_BUNDLE=emulator.ca_file)
    job = dict(instance_url=session.instance_url, session_id=session.access_token, create=create, read=read)
    proc = subprocess.run([sys.executable, "-c", PLAIN_MDAPI], input=json.dumps(job), env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def create_profile(emulator, session, name):
    """A custom profile on the Salesforce Integration license, by raw REST."""
    url = "%s/services/data/%s/" % (session.instance_url, API)
    headers = {"Authorization": "Bearer " + session.access_token}
    query = {"q": "SELECT Id FROM UserLicense WHERE Name = 'Salesforce Integration'"}
    license = requests.get(url + "query/", params=query, headers=headers, verify=emulator.ca_file,
                           timeout=30).json()["records"][0]["Id"]
    answer = requests.post(url + "sobjects/Profile/", json={"Name": name, "UserLicenseId": license}, headers=headers,
                           verify=emulator.ca_file, timeout=30)
    assert answer.status_code == 201, answer.text


def task(name, **options):
    return {"name": name, MODULE: options}


@pytest.fixture(scope="module")
def org(emulator):
    """Fresh profiles (unique names: other tests share the org) and two policies made by sf.mdapi."""
    session = SalesforceClient(connection_args(emulator, ORG, "soap")).connect()
    suffix = uuid.uuid4().hex[:8]
    names = dict((key, "PPP %s %s" % (key, suffix)) for key in ("main", "defaults", "check", "mdapi", "renamed"))
    for name in names.values():
        create_profile(emulator, session, name)
    fixed = dict(lockoutInterval=15, maxLoginAttempts=5, minimumPasswordLength=10, passwordComplexity=1,
                 passwordExpiration=60, passwordHistory=5, passwordQuestion=0)
    # A deployed policy with a name of its own, and one named after the profile's old name.
    mdapi_names = dict(mdapi="deployed_policy_%s" % suffix,
                       renamed="Old_Name_%s_profilePasswordPolicy1700000000000" % suffix)
    plain_mdapi(emulator, session, create=[dict(fixed, fullName=full_name, profile=names[key])
                                           for key, full_name in mdapi_names.items()])
    return dict(session=session, names=names, mdapi_names=mdapi_names, connection=connection_args(emulator, ORG))


def apply_tasks(org):
    names, conn = org["names"], org["connection"]
    unknown = names["main"].replace("main", "mian")
    tasks = [
        task("create", profile=names["main"], **dict(conn, **SEED_000)),
        task("rerun", profile=names["main"], **dict(conn, **SEED_000)),
        task("change_one", profile=names["main"], minimum_password_length=20, **conn),
        task("other_case", profile=names["main"].upper(), minimum_password_length=20, **conn),
        task("defaults", profile=names["defaults"], **conn),
        task("history_against_current", profile=names["defaults"], password_history=0, **conn),
        task("expiration_against_current", profile=names["main"], password_expiration=30, **conn),
        task("update_mdapi_created", profile=names["mdapi"], lockout_interval=60, **conn),
        task("update_renamed", profile=names["renamed"], obscure=True, **conn),
        task("unknown_profile", profile=unknown, password_expiration="never", **conn),
        task("absent_unknown", profile=unknown, state="absent", **conn),
    ]
    tasks += [task(name, profile=names["main"], **dict(conn, **options)) for name, options, _option in INVALID]
    tasks += [
        task("absent", profile=names["main"], state="absent", **conn),
        task("absent_again", profile=names["main"], state="absent", **conn),
    ]
    return tasks


def check_tasks(org):
    names, conn = org["names"], org["connection"]
    return [
        task("check_create", profile=names["check"], **dict(conn, **SEED_000)),
        task("check_update", profile=names["defaults"], minimum_password_length=12, **conn),
        task("check_unchanged", profile=names["defaults"], minimum_password_length=8, **conn),
        task("check_absent", profile=names["defaults"], state="absent", **conn),
    ]


@pytest.fixture(scope="module")
def runs(emulator, org, tmp_path_factory):
    """(apply run, its request log, check-mode run, its request log, plain sf.mdapi read afterwards)."""
    tmp = tmp_path_factory.mktemp("password_policy")
    start = len(emulator.requests(ORG))
    applied = run_playbook(tmp, apply_tasks(org), diff=True)
    middle = len(emulator.requests(ORG))
    checked = run_playbook(tmp, check_tasks(org), check=True, diff=True)
    log = emulator.requests(ORG)
    full_names = [applied[name]["policy"]["full_name"] for name in ("defaults", "update_mdapi_created",
                                                                    "update_renamed")]
    after = plain_mdapi(emulator, org["session"], read=full_names)
    return applied, log[start:middle], checked, log[middle:], after


def ok(result):
    assert not result.get("failed"), result
    return result


def test_create_then_rerun_unchanged(runs, org):
    applied = runs[0]
    created = ok(applied["create"])
    assert created["changed"] is True
    policy = created["policy"]
    assert policy["profile"] == org["names"]["main"]
    assert policy["full_name"].startswith("PPP_main_%s_profilePasswordPolicy" % org["names"]["main"].split()[-1])
    assert dict((k, policy[k]) for k in SEED_000) == SEED_000
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["password_expiration"] == "never"
    rerun = ok(applied["rerun"])
    assert rerun["changed"] is False
    assert rerun["policy"] == policy
    assert rerun["diff"]["before"] == rerun["diff"]["after"]
    assert rerun["api_requests"] == 3  # login, listMetadata, one readMetadata: the policy proves the profile


def test_change_one_value_keeps_the_others(runs):
    applied = runs[0]
    changed = ok(applied["change_one"])
    assert changed["changed"] is True
    assert changed["policy"] == dict(applied["create"]["policy"], minimum_password_length=20)
    before, after = changed["diff"]["before"], changed["diff"]["after"]
    assert [k for k in after if before.get(k) != after[k]] == ["minimum_password_length"]
    assert (before["minimum_password_length"], after["minimum_password_length"]) == (16, 20)
    assert changed["api_requests"] == 4  # ... and one updateMetadata
    same = ok(applied["other_case"])
    assert same["changed"] is False
    assert same["policy"]["full_name"] == changed["policy"]["full_name"]


def test_new_policy_gets_the_documented_defaults(runs, org):
    created = ok(runs[0]["defaults"])
    assert created["changed"] is True
    assert dict((k, created["policy"][k]) for k in DEFAULTS) == DEFAULTS


def test_history_rule_against_the_current_policy(runs):
    applied = runs[0]
    history = applied["history_against_current"]
    assert history["failed"] and "set password_expiration: never too" in history["msg"], history
    expiration = applied["expiration_against_current"]
    assert expiration["failed"] and expiration["msg"].startswith("password_expiration 30 needs password_history"), \
        expiration


def test_policies_made_by_sf_mdapi_are_found_and_updated(runs, org):
    applied, _log, _checked, _check_log, after = runs
    mdapi = ok(applied["update_mdapi_created"])
    assert mdapi["changed"] is True
    assert mdapi["policy"]["full_name"] == org["mdapi_names"]["mdapi"]
    assert (mdapi["diff"]["before"]["lockout_interval"], mdapi["policy"]["lockout_interval"]) == (15, 60)
    assert mdapi["policy"]["password_expiration"] == 60 and mdapi["policy"]["password_question"] == "none"
    renamed = ok(applied["update_renamed"])
    assert renamed["policy"]["full_name"] == org["mdapi_names"]["renamed"]
    assert renamed["policy"]["obscure"] is True
    read = dict((row["fullName"], row) for row in after["read"])
    assert read[org["mdapi_names"]["mdapi"]]["lockoutInterval"] == 60
    assert read[org["mdapi_names"]["renamed"]]["obscure"] is True


def test_module_policy_read_back_by_plain_sf_mdapi(runs, org):
    applied, after = runs[0], runs[4]
    full_name = applied["defaults"]["policy"]["full_name"]
    record = dict((row["fullName"], row) for row in after["read"])[full_name]
    assert record["profile"].lower() == org["names"]["defaults"].lower()
    assert (record["passwordExpiration"], record["passwordHistory"], record["minimumPasswordLength"],
            record["passwordComplexity"], record["passwordQuestion"]) == (90, 3, 8, 1, 1)


def test_unknown_profile(runs, org):
    applied = runs[0]
    unknown = applied["unknown_profile"]
    assert unknown["failed"] is True
    assert unknown["msg"].startswith("Profile '%s' does not exist in this org (did you mean %s" % (
        org["names"]["main"].replace("main", "mian"), org["names"]["main"])), unknown["msg"]
    # login, listMetadata, (a read of custom-named policies, if the org has any), two profile queries:
    # the policies of other profiles are not read.
    assert 4 <= unknown["api_requests"] <= 5
    absent = ok(applied["absent_unknown"])
    assert absent["changed"] is False
    assert "does not exist" in " ".join(absent.get("warnings", []))


@pytest.mark.parametrize("name, option", [(name, option) for name, _options, option in INVALID])
def test_invalid_values_fail_before_any_request(runs, name, option):
    result = runs[0][name]
    assert result["failed"] is True, result
    assert option in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"] + result.get("module_stderr", "")
    assert result.get("api_requests", 0) == 0


def test_absent(runs, org):
    applied, after = runs[0], runs[4]
    removed = ok(applied["absent"])
    assert removed["changed"] is True and removed["policy"] == {}
    assert removed["diff"]["after"] == {}
    assert removed["diff"]["before"]["minimum_password_length"] == 20
    again = ok(applied["absent_again"])
    assert again["changed"] is False
    assert applied["create"]["policy"]["full_name"] not in after["names"]


def test_apply_writes_once_per_change(runs):
    applied, log = runs[0], runs[1]
    changed = [name for name, result in applied.results.items() if result and result.get("changed")]
    assert sorted(changed) == sorted(["create", "change_one", "defaults", "update_mdapi_created", "update_renamed",
                                      "absent"])
    assert [r["writes"] for r in log if r["writes"]] == [1] * len(changed)


def test_check_mode_writes_nothing(runs, org):
    _applied, _log, checked, check_log, after = runs
    assert check_log and sum(r["writes"] for r in check_log) == 0
    create = ok(checked["check_create"])
    assert create["changed"] is True and create["policy"]["full_name"] is None
    assert create["diff"]["after"]["password_expiration"] == "never"
    update = ok(checked["check_update"])
    assert update["changed"] is True
    assert (update["diff"]["before"]["minimum_password_length"], update["diff"]["after"]["minimum_password_length"]) \
        == (8, 12)
    assert ok(checked["check_unchanged"])["changed"] is False
    absent = ok(checked["check_absent"])
    assert absent["changed"] is True and absent["diff"]["after"] == {}
    assert not [n for n in after["names"] if n.lower().startswith("ppp_check_%s" % org["names"]["check"].split()[-1])]
