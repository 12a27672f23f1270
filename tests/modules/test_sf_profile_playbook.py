"""sf_profile against the emulator, through one ansible-playbook run.

A profile with a user is prepared with raw REST calls first; the run then creates, re-runs,
changes, refuses what Salesforce refuses (with nothing written) and deletes.
"""
from __future__ import annotations

import uuid

import pytest

from harness import RawOrg, connection_args, failure, log_snapshot, merged, run_playbook, writes_between

MODULE = "sfops.integration.sf_profile"
ORG = "org2"
STANDARD = "Minimum Access - API Only Integrations"
SEED_000 = dict(license="Salesforce Integration",
                description="API-only profile for integration users; access comes from permission sets",
                system_permissions=["ApiEnabled", "permissionsapiuseronly", "PasswordNeverExpires"])


def staffed_profile(raw, name):
    """A custom profile on the Salesforce license with one (deactivated) user, made behind the module's back."""
    license = raw.query("SELECT Id FROM UserLicense WHERE Name = 'Salesforce'")[0]["Id"]
    profile_id = raw.create("Profile", dict(Name=name, UserLicenseId=license))
    user = raw.create("User", dict(Username="staffed.%s@example.test" % uuid.uuid4().hex[:10], LastName="Staffed",
                                   Email="ops@example.test", Alias="staffed", TimeZoneSidKey="GMT",
                                   LocaleSidKey="en_US", EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US",
                                   ProfileId=profile_id))
    raw.call("PATCH", "sobjects/User/%s" % user, json=dict(IsActive=False))  # frees the seat, keeps the profile
    return profile_id


def task(task_name, options):
    return {"name": task_name, MODULE: options}


@pytest.fixture(scope="module")
def profile_run(emulator, tmp_path_factory):
    raw = RawOrg(emulator, ORG)
    name = "Integration Only %s" % uuid.uuid4().hex[:8]
    staffed = "Staffed %s" % uuid.uuid4().hex[:8]
    staffed_profile(raw, staffed)
    creds = connection_args(emulator, ORG)
    seed = dict(creds, name=name, **SEED_000)
    tasks = [
        log_snapshot(emulator, "log0", ORG),
        dict(task("check_create", seed), check_mode=True),
        log_snapshot(emulator, "log1", ORG),
        task("create", merged(seed, purge=False)),
        task("rerun", seed),
        dict(task("change_check", merged(seed, system_permissions=["ApiEnabled", "ApiUserOnly"])), check_mode=True),
        task("change", merged(seed, system_permissions=["ApiEnabled", "ApiUserOnly"])),
        task("change_rerun", merged(creds, name=name.upper(), system_permissions=["ApiEnabled", "ApiUserOnly"])),
        task("description_only", merged(creds, name=name, description="Rotated every year")),
        task("standard_unchanged", merged(creds, name=STANDARD, system_permissions=["ApiEnabled"], purge=False)),
        log_snapshot(emulator, "log2", ORG),
        task("unknown_names", merged(creds, name=name, system_permissions=["ApiEnable", "PasswordNeverExpire"])),
        task("privileged", merged(creds, name=name, system_permissions=["ApiEnabled", "ApiUserOnly", "ManageUsers"])),
        task("license_change", merged(creds, name=name, license="Salesforce",
                                      system_permissions=["ApiEnabled", "ApiUserOnly"])),
        task("standard_change", merged(creds, name=STANDARD, system_permissions=["ApiEnabled", "PasswordNeverExpires"])),
        task("no_license", merged(creds, name="Nowhere %s" % uuid.uuid4().hex[:8], system_permissions=["ApiEnabled"])),
        task("unknown_license", merged(creds, name="Nowhere", license="Salesforce Integraton")),
        task("absent_with_users", merged(creds, name=staffed, state="absent")),
        task("absent_standard", merged(creds, name=STANDARD, state="absent")),
        dict(task("absent_check", merged(creds, name=name, state="absent")), check_mode=True),
        log_snapshot(emulator, "log3", ORG),
        task("absent", merged(creds, name=name, state="absent")),
        task("absent_again", merged(creds, name=name, state="absent")),
    ]
    run = run_playbook(tmp_path_factory.mktemp("profile"), tasks, diff=True)
    return run, raw, name


def test_check_mode_writes_nothing(profile_run):
    run, _raw, name = profile_run
    planned = run["check_create"]
    assert planned["changed"] is True and not planned.get("failed"), planned
    assert planned["profile"]["id"] is None
    assert planned["profile"]["system_permissions"] == ["ApiEnabled", "ApiUserOnly", "PasswordNeverExpires"]
    assert writes_between(run, "log0", "log1") == 0


def test_create_and_rerun(profile_run):
    run, raw, name = profile_run
    created = run["create"]
    assert created["changed"] is True and not created.get("failed"), created
    profile = created["profile"]
    assert profile["id"].startswith("00e") and profile["custom"] is True
    assert profile["license"] == "Salesforce Integration"
    assert profile["system_permissions"] == ["ApiEnabled", "ApiUserOnly", "PasswordNeverExpires"]
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["description"] == SEED_000["description"]
    assert created["api_requests"] == 3
    rerun = run["rerun"]
    assert rerun["changed"] is False, rerun
    assert rerun["api_requests"] == 2


def test_permissions_change_with_diff(profile_run):
    run, _raw, _name = profile_run
    planned, changed = run["change_check"], run["change"]
    assert planned["changed"] is True and changed["changed"] is True, changed
    assert changed["changes"]["system_permissions"] == dict(added=[], removed=["PasswordNeverExpires"])
    assert planned["changes"] == changed["changes"]
    assert "PasswordNeverExpires" in changed["diff"]["before"]["system_permissions"]
    assert changed["diff"]["after"]["system_permissions"] == ["ApiEnabled", "ApiUserOnly"]
    assert run["change_rerun"]["changed"] is False
    described = run["description_only"]
    assert described["changed"] is True, described
    assert described["changes"] == dict(system_permissions=dict(added=[], removed=[]),
                                        properties=dict(description="Rotated every year"))
    assert described["profile"]["system_permissions"] == ["ApiEnabled", "ApiUserOnly"]
    assert run["standard_unchanged"]["changed"] is False
    assert run["standard_unchanged"]["profile"]["custom"] is False


def test_refusals_are_clear_and_write_nothing(profile_run):
    run, _raw, _name = profile_run
    assert writes_between(run, "log2", "log3") == 0
    assert "'ApiEnable' (did you mean ApiEnabled" in failure(run, "unknown_names")
    assert "ManageUsers (Manage Users)" in failure(run, "privileged")
    msg = failure(run, "license_change")
    assert "'Salesforce Integration'" in msg and "cannot change it" in msg
    msg = failure(run, "standard_change")
    assert "standard profile" in msg and "PasswordNeverExpires" in msg
    assert "give license" in failure(run, "no_license")
    assert "did you mean Salesforce Integration" in failure(run, "unknown_license")
    assert "has 1 user(s)" in failure(run, "absent_with_users")
    assert "standard profile" in failure(run, "absent_standard")
    assert run["absent_check"]["changed"] is True


def test_absent(profile_run):
    run, raw, name = profile_run
    assert run["absent"]["changed"] is True, run["absent"]
    assert run["absent_again"]["changed"] is False
    assert raw.query("SELECT Id FROM Profile WHERE Name = '%s'" % name) == []


def test_a_profile_another_run_just_created_is_taken_as_it_is(emulator, tmp_path):
    """Two rollouts at once: the other run's identical create lands just before ours (the emulator's
    concurrent_write fault); ours is refused, reads the profile again and finds what it asked for."""
    name = "Raced %s" % uuid.uuid4().hex[:8]
    emulator.fault(ORG, kind="concurrent_write", count=1, method="POST", body_contains=name)
    run = run_playbook(tmp_path, [task("create", dict(connection_args(emulator, ORG), name=name, **SEED_000))],
                       diff=True)
    result = run["create"]
    assert not result.get("failed"), result
    assert result["change"]["action"] == "none" and result["change"]["concurrent"] is True, result["change"]
    assert result["changed"] is False
    assert len(RawOrg(emulator, ORG).query("SELECT Id FROM Profile WHERE Name = '%s'" % name)) == 1
