"""sf_external_client_app against the emulator, through ansible-playbook runs.

Two integration users (API only) are prepared with raw REST calls; one holds the integration's
permission set. The module then creates the app, re-runs, changes a policy, and the users log in
through it with JWT bearer and client credentials (sf_session): the pre-authorized user gets in,
the other is refused. Bad input is refused with nothing written; the secret never shows.
"""
from __future__ import annotations

import datetime
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from harness import RawOrg, connection_args, failure, log_snapshot, merged, result_var, run_playbook, writes_between

MODULE = "sfops.integration.sf_external_client_app"
ORG = "org3"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"


def key_and_certificate(directory, name="integration"):
    """A throwaway RSA key (file) and its self-signed certificate (PEM text)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file = directory / ("%s.key" % name)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return str(key_file), cert.public_bytes(serialization.Encoding.PEM).decode()


def integration_user(raw, tag):
    """An active user on the API-only integration profile (a seat of the Salesforce Integration license)."""
    profile = raw.query("SELECT Id FROM Profile WHERE Name = '%s'" % INTEGRATION_PROFILE)[0]["Id"]
    username = "eca.%s.%s@example.test" % (tag, uuid.uuid4().hex[:8])
    user_id = raw.create("User", dict(Username=username, LastName=tag.title(), Email="ops@example.test",
                                      Alias=tag[:8], TimeZoneSidKey="GMT", LocaleSidKey="en_US",
                                      EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US", ProfileId=profile))
    return username, user_id


def task(name, options, **extra):
    return dict({"name": name, MODULE: options}, **extra)


def login(name, emulator, **options):
    info = emulator.orgs[ORG]
    options.update(login_url=info["login_url"], ca_path=emulator.ca_file)
    return {"name": name, "sfops.integration.sf_session": options}


@pytest.fixture(scope="module")
def app_run(emulator, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eca")
    raw = RawOrg(emulator, ORG)
    emulator.settings(ORG, eca_client_secret_in_rest_api=True)
    member, member_id = integration_user(raw, "member")
    outsider, _outsider_id = integration_user(raw, "outsider")
    set_name = "Eca_Test_%s" % uuid.uuid4().hex[:6]
    set_id = raw.create("PermissionSet", dict(Name=set_name, Label=set_name))
    raw.create("PermissionSetAssignment", dict(AssigneeId=member_id, PermissionSetId=set_id))
    key_file, certificate = key_and_certificate(tmp)
    outsider_key, _other_certificate = key_and_certificate(tmp, "outsider")
    name = "Eca_Test_%s" % uuid.uuid4().hex[:8]
    creds = connection_args(emulator, ORG)
    wanted = dict(creds, name=name, contact_email="ops@example.test", description="Test integration",
                  flows=["jwt", "client_credentials"], certificate=certificate, run_as_user=member,
                  permission_sets=[set_name])
    created = result_var("create")
    tasks = [
        log_snapshot(emulator, "log0", ORG),
        task("check_create", wanted, check_mode=True),
        log_snapshot(emulator, "log1", ORG),
        task("create", wanted),
        task("rerun", merged(wanted, return_consumer_secret=True)),
        log_snapshot(emulator, "log2", ORG),
        task("change_check", merged(wanted, ip_relaxation="bypass", scopes=["api", "refresh_token"]), check_mode=True),
        log_snapshot(emulator, "log3", ORG),
        task("change", merged(wanted, ip_relaxation="bypass", scopes=["api", "refresh_token"])),
        login("jwt_login", emulator, client_id="{{ %s.app.consumer_key }}" % created, username=member,
              private_key_file=key_file),
        login("cc_login", emulator, client_id="{{ %s.app.consumer_key }}" % created,
              client_secret="{{ %s.consumer_secret }}" % result_var("rerun")),
        login("outsider_login", emulator, client_id="{{ %s.app.consumer_key }}" % created, username=outsider,
              private_key_file=key_file),
        login("wrong_key_login", emulator, client_id="{{ %s.app.consumer_key }}" % created, username=member,
              private_key_file=outsider_key),
        log_snapshot(emulator, "log4", ORG),
        task("not_pem", merged(wanted, name=name + "_X", certificate="MIIB-not-a-certificate")),
        task("not_api_only", merged(wanted, name=name + "_Y", run_as_user=emulator.orgs[ORG]["username"])),
        task("unknown_set", merged(wanted, name=name + "_Z", permission_sets=[set_name + "x"])),
        task("bad_name", merged(wanted, name="2bad__name_")),
        task("no_flow", merged(creds, name=name + "_W", contact_email="ops@example.test", permission_sets=[set_name])),
        log_snapshot(emulator, "log5", ORG),
        task("absent_check", merged(creds, name=name, state="absent"), check_mode=True),
        task("absent", merged(creds, name=name, state="absent")),
        task("absent_again", merged(creds, name=name, state="absent")),
        login("login_after_delete", emulator, client_id="{{ %s.app.consumer_key }}" % created, username=member,
              private_key_file=key_file),
    ]
    run = run_playbook(tmp, tasks, diff=True)
    return run, dict(member=member, member_id=member_id, outsider=outsider, name=name, set_name=set_name)


def test_check_mode_plans_the_app_and_writes_nothing(app_run):
    run, facts = app_run
    planned = run["check_create"]
    assert planned["changed"] is True and not planned.get("failed"), planned
    assert writes_between(run, "log0", "log1") == 0
    assert planned["change"]["kind"] == "external_client_app" and planned["change"]["action"] == "create"
    assert planned["app"]["consumer_key"] is None
    assert "permission_sets: %s" % facts["set_name"] in planned["change"]["details"], planned["change"]


def test_create_returns_the_consumer_key_and_rerun_changes_nothing(app_run):
    run, facts = app_run
    created, rerun = run["create"], run["rerun"]
    assert created["changed"] is True and not created.get("failed"), created
    app = created["app"]
    assert app["consumer_key"] and app["flows"] == ["jwt", "client_credentials"]
    assert app["permitted_users"] == "admin_approved" and app["permission_sets"] == [facts["set_name"]]
    assert app["run_as_user"] == facts["member"].lower()
    assert rerun["changed"] is False and not rerun.get("failed"), rerun
    assert rerun["app"]["consumer_key"] == app["consumer_key"]
    assert rerun["consumer_secret"], "the secret was asked for"
    assert writes_between(run, "log1", "log2") == 4  # the app and its three parts, once


def test_a_policy_change_is_planned_then_made(app_run):
    run, _facts = app_run
    planned, changed = run["change_check"], run["change"]
    assert planned["changed"] is True and writes_between(run, "log2", "log3") == 0
    assert "ip_relaxation: enforce -> bypass" in planned["change"]["details"], planned["change"]
    assert changed["changed"] is True and changed["app"]["ip_relaxation"] == "bypass"
    assert changed["app"]["scopes"] == ["Api", "RefreshToken"]
    assert changed["diff"]["before"]["ip_relaxation"] == "enforce"


def test_the_pre_authorized_user_logs_in_with_jwt_and_client_credentials(app_run):
    run, facts = app_run
    for name, flow in (("jwt_login", "jwt_bearer"), ("cc_login", "client_credentials")):
        result = run[name]
        assert not result.get("failed"), result
        assert result["user_id"][:15] == facts["member_id"][:15] and result["auth_flow"] == flow


def test_others_are_refused_with_a_clear_message(app_run):
    run, _facts = app_run
    assert "not admin approved" in failure(run, "outsider_login")
    assert failure(run, "wrong_key_login")
    assert failure(run, "login_after_delete")


def test_bad_input_is_refused_naming_the_value_and_nothing_is_written(app_run):
    run, facts = app_run
    assert "certificate is not a PEM-encoded X.509 certificate" in failure(run, "not_pem")
    assert "API Only" in failure(run, "not_api_only")
    unknown = failure(run, "unknown_set")
    assert "'%sx' does not exist" % facts["set_name"] in unknown and facts["set_name"] in unknown.split("did you mean")[1]
    assert "name '2bad__name_' is not a valid API name" in failure(run, "bad_name")
    assert "flows is required" in failure(run, "no_flow")
    assert writes_between(run, "log4", "log5") == 0


def test_absent_deletes_once(app_run):
    run, _facts = app_run
    assert run["absent_check"]["changed"] is True and run["absent"]["changed"] is True
    assert run["absent"]["change"]["action"] == "delete"
    assert run["absent_again"]["changed"] is False


def test_the_secret_never_shows(app_run, emulator, tmp_path):
    run, facts = app_run
    secret = run["rerun"]["consumer_secret"]
    assert secret not in run.output
    assert secret not in repr(run["rerun"]["diff"]) and secret not in repr(run["rerun"]["change"])
    creds = connection_args(emulator, ORG)
    name = facts["name"] + "_V"
    verbose = run_playbook(tmp_path, [task("verbose", merged(
        creds, name=name, contact_email="ops@example.test", flows=["client_credentials"], run_as_user=facts["member"],
        permission_sets=[facts["set_name"]], return_consumer_secret=True)),
        task("cleanup", merged(creds, name=name, state="absent"))], verbosity=4, diff=True)
    assert verbose["verbose"]["consumer_secret"] and verbose["verbose"]["consumer_secret"] not in verbose.output
    assert verbose["cleanup"]["changed"] is True


def test_only_the_name_keeps_the_app_as_it_is(app_run, emulator, tmp_path):
    """A task that names the app only (to read its secret, say) changes nothing and keeps its permission sets."""
    run, facts = app_run
    creds = connection_args(emulator, ORG)
    name = facts["name"] + "_K"
    kept = run_playbook(tmp_path, [
        task("make", merged(creds, name=name, contact_email="ops@example.test", flows=["client_credentials"],
                            run_as_user=facts["member"], permission_sets=[facts["set_name"]])),
        task("name_only", merged(creds, name=name, return_consumer_secret=True)),
        task("cleanup", merged(creds, name=name, state="absent"))])
    assert kept["make"]["changed"] is True, kept["make"]
    assert kept["name_only"]["changed"] is False and not kept["name_only"].get("failed"), kept["name_only"]
    assert kept["name_only"]["app"]["permission_sets"] == [facts["set_name"]] and kept["name_only"]["consumer_secret"]


def test_a_secret_the_org_does_not_give_fails_naming_the_setting(app_run, emulator, tmp_path):
    """The org does not let the consumer secret be read through the REST API: the error says what to turn on."""
    _run, facts = app_run
    creds = connection_args(emulator, ORG)
    name = facts["name"] + "_S"
    emulator.settings(ORG, eca_client_secret_in_rest_api=False)
    try:
        run = run_playbook(tmp_path, [
            task("make", merged(creds, name=name, contact_email="ops@example.test", flows=["client_credentials"],
                                run_as_user=facts["member"], permission_sets=[facts["set_name"]])),
            task("secret", merged(creds, name=name, return_consumer_secret=True), ignore_errors=True),
            task("cleanup", merged(creds, name=name, state="absent"))])
    finally:
        emulator.settings(ORG, eca_client_secret_in_rest_api=True)
    assert run["make"]["changed"] is True, run["make"]
    message = failure(run, "secret")
    assert "Allow access to External Client App consumer secrets via REST API" in message, message
    assert name in message and "consumer_secret" not in run["secret"]
    assert run["cleanup"]["changed"] is True


def test_session_timeout_and_refresh_token_policy_are_set_kept_and_changed(app_run, emulator, tmp_path):
    _run, facts = app_run
    creds = connection_args(emulator, ORG)
    name = facts["name"] + "_T"
    made = dict(creds, name=name, contact_email="ops@example.test", flows=["client_credentials"],
                run_as_user=facts["member"], permission_sets=[facts["set_name"]], session_timeout=30,
                refresh_token_policy="infinite")
    run = run_playbook(tmp_path, [
        task("create", made),
        task("rerun", made),
        task("change_check", merged(made, session_timeout=0, refresh_token_policy="zero"), check_mode=True),
        task("change", merged(made, session_timeout=0, refresh_token_policy="zero")),
        task("rerun_changed", merged(made, session_timeout=0, refresh_token_policy="zero")),
        task("read", merged(creds, name=name)),
        task("cleanup", merged(creds, name=name, state="absent"))], diff=True)
    created = run["create"]
    assert created["changed"] is True and created["app"]["session_timeout"] == 30, created
    assert created["app"]["refresh_token_policy"] == "infinite"
    # Read back from the org: the same values, nothing to write.
    assert run["rerun"]["changed"] is False, run["rerun"]
    assert run["rerun"]["app"]["session_timeout"] == 30 and run["rerun"]["app"]["refresh_token_policy"] == "infinite"
    planned = run["change_check"]
    assert planned["changed"] is True and "refresh_token_policy: infinite -> zero" in planned["change"]["details"]
    assert planned["diff"]["before"]["session_timeout"] == 30 and planned["diff"]["after"]["session_timeout"] is None
    assert run["change"]["changed"] is True and run["rerun_changed"]["changed"] is False, run["rerun_changed"]
    assert run["read"]["app"]["session_timeout"] is None and run["read"]["app"]["refresh_token_policy"] == "zero"
    assert run["cleanup"]["changed"] is True


@pytest.mark.parametrize("by_names", [False, True], ids=["org_reads_ids", "org_reads_names"])
def test_pre_authorisation_works_whichever_form_the_org_reads(app_run, emulator, tmp_path, by_names):
    """Whether the policies hold permission set ids or names is UNVERIFIED (docs/emulator.md): either way the
    app lets in the set's user only, a re-run changes nothing and a second set is added."""
    _run, facts = app_run
    raw = RawOrg(emulator, ORG)
    second_set = "Eca_Second_%s" % uuid.uuid4().hex[:6]
    raw.create("PermissionSet", dict(Name=second_set, Label=second_set))
    key_file, certificate = key_and_certificate(tmp_path)
    creds = connection_args(emulator, ORG)
    name = facts["name"] + ("_N" if by_names else "_I")
    made = dict(creds, name=name, contact_email="ops@example.test", flows=["jwt"], certificate=certificate,
                permission_sets=[facts["set_name"]])
    created = result_var("create")
    emulator.settings(ORG, eca_preauthorise_by_names=by_names)
    try:
        run = run_playbook(tmp_path, [
            task("create", made),
            task("rerun", made),
            login("member_login", emulator, client_id="{{ %s.app.consumer_key }}" % created, username=facts["member"],
                  private_key_file=key_file),
            login("outsider_login", emulator, client_id="{{ %s.app.consumer_key }}" % created,
                  username=facts["outsider"], private_key_file=key_file),
            task("add_set", merged(made, permission_sets=[facts["set_name"], second_set])),
            task("rerun_added", merged(made, permission_sets=[facts["set_name"], second_set])),
            task("cleanup", merged(creds, name=name, state="absent"))])
    finally:
        emulator.settings(ORG, eca_preauthorise_by_names=False)
    assert run["create"]["changed"] is True and run["create"]["app"]["permission_sets"] == [facts["set_name"]]
    assert run["rerun"]["changed"] is False, run["rerun"]
    assert run["rerun"]["app"]["permission_sets"] == [facts["set_name"]]
    assert not run["member_login"].get("failed"), run["member_login"]
    assert "not admin approved" in failure(run, "outsider_login")
    assert run["add_set"]["changed"] is True
    assert run["add_set"]["app"]["permission_sets"] == sorted([facts["set_name"], second_set])
    assert run["rerun_added"]["changed"] is False, run["rerun_added"]
    assert run["rerun_added"]["app"]["permission_sets"] == sorted([facts["set_name"], second_set])
