"""sf_integration_user against the emulator, through real ansible-playbook runs.

The module creates users, and the Salesforce Integration license has 5 seats per org, so these
tests run their own two-org emulator (module scope, 0.3 s to start): the seat test can set the seats
it needs without touching the orgs other test files share (sf_org_info asserts 5 seats), and every
username is unique anyway, as users cannot be deleted. Each test is one or two ansible-playbook runs
checking many cases; a task costs about 0.7 s, so cases share tasks where they can.
"""
from __future__ import annotations

import uuid

import pytest

from harness import EmulatorProcess, connection_args, result_var, run_playbook

USER = "sfops.integration.sf_integration_user"
SESSION = "sfops.integration.sf_session"
ORG_INFO = "sfops.integration.sf_org_info"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
INTEGRATION_LICENSE = "Salesforce Integration"

MANAGED_FIELDS = ["username", "email", "first_name", "last_name", "alias", "nickname", "marketing_user", "about_me",
                  "title", "department", "company_name", "time_zone", "locale", "language", "email_encoding",
                  "profile", "license", "role", "active", "frozen"]


def unique(prefix):
    return "%s.%s@acme.test" % (prefix, uuid.uuid4().hex[:8])


def secret():
    return "Pw%s9x" % uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    emulator = EmulatorProcess(tmp_path_factory.mktemp("user_emulator"), orgs=2)
    # org1 gets room for every user the tests create; org2 keeps 5 seats for the seat test.
    emulator.settings("org1", license_seats={INTEGRATION_LICENSE: 500})
    yield emulator
    emulator.stop()


def session_tasks(emu, org):
    """A login task and the play's module_defaults passing its session to the module."""
    login = result_var("login")
    # ansible-core 2.17 templates a play's module_defaults for every task, the login included, before
    # the login result exists: omitted until then.
    defaults = {USER: dict(instance_url="{{ %s.instance_url | default(omit) }}" % login,
                           access_token="{{ %s.access_token | default(omit) }}" % login, ca_path=emu.ca_file)}
    return [{"name": "login", SESSION: connection_args(emu, org, "soap")}], defaults


def admin_login_args(emu, org):
    """Login options under the names this module gives them (login_username, login_password)."""
    args = connection_args(emu, org, "soap")
    args["login_username"] = args.pop("username")
    args["login_password"] = args.pop("password")
    return dict(args, instance_url=None, access_token=None)  # not the session of module_defaults


def security_token(emu, name, username):
    """A task reading the user's security token from the emulator (Salesforce would e-mail it to the user)."""
    return {"name": name, "ansible.builtin.uri": {"url": emu.admin_url("org1", "security_token?username=%s" % username),
                                                  "ca_path": emu.ca_file}}


def user_login(emu, username, password, token_task):
    """sf_session logging in as the managed user: a password login from outside trusted IP ranges needs the token."""
    return {SESSION: dict(login_url=emu.orgs["org1"]["login_url"], ca_path=emu.ca_file, username=username,
                          password=password, security_token="{{ %s.json.security_token }}" % result_var(token_task))}


def ok(result):
    assert not result.get("failed"), result
    return result


def failed(result, *words):
    assert result.get("failed") is True, result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"]
    return result


def writes(emu, org):
    return sum(r["writes"] for r in emu.requests(org))


# ---- create, re-run, change every field ----------------------------------------------------------------


def test_create_rerun_and_change_each_field(emu, tmp_path):
    name = unique("marketo.integration")
    new = dict(username=name, email="sf-integrations@acme.test", last_name="Integration")
    changed_values = dict(
        email="marketing-ops@acme.test", first_name="Marketo", last_name="Sync", alias="mktoint",
        nickname="marketo-" + uuid.uuid4().hex[:8], profile="Minimum Access - Salesforce", role="Integration",
        marketing_user=True, about_me="Integration user for Marketo. Do not log in.", title="Integration user",
        department="Marketing Operations", company_name="Acme", time_zone="europe/amsterdam", locale="nl_NL",
        language="de", email_encoding="ISO-8859-1")
    login, defaults = session_tasks(emu, "org1")
    tasks = login + [
        {"name": "create", USER: new},
        {"name": "unchanged", USER: new},
        {"name": "only_title", USER: dict(username=name.upper(), title="Integration")},
        {"name": "change_all", USER: dict(changed_values, username=name)},
        {"name": "change_all_again", USER: dict(changed_values, username=name)},
        {"name": "role_by_developer_name", USER: dict(username=name, role="SalesOperations")},
        {"name": "role_removed", USER: dict(username=name, role="")},
        {"name": "profile_back", USER: dict(username=name, profile=INTEGRATION_PROFILE)},
    ]
    run = run_playbook(tmp_path, tasks, diff=True, module_defaults=defaults)

    created = ok(run["create"])
    assert created["changed"] is True and created["created"] is True and created["password_set"] is False
    user = created["user"]
    assert user["id"].startswith("005")
    assert user == dict(id=user["id"], username=name, profile=INTEGRATION_PROFILE, license=INTEGRATION_LICENSE,
                        active=True, frozen=False, role=None)
    assert created["diff"]["before"] == {}
    after = created["diff"]["after"]
    assert sorted(after) == sorted(MANAGED_FIELDS)
    local = name.split("@")[0]
    assert after["alias"] == "".join(c for c in local if c.isalnum())[:8] and after["nickname"] == local
    assert (after["time_zone"], after["locale"], after["language"], after["email_encoding"]) == \
        ("GMT", "en_US", "en_US", "UTF-8")
    assert after["marketing_user"] is False and after["active"] is True and after["frozen"] is False
    assert created["api_requests"] == 2  # one composite read, one composite write

    for task in ("unchanged", "change_all_again"):
        assert_unchanged(run[task])

    only_title = ok(run["only_title"])
    before, after = only_title["diff"]["before"], only_title["diff"]["after"]
    assert [k for k in after if before.get(k) != after[k]] == ["title"]

    changed = ok(run["change_all"])
    before, after = changed["diff"]["before"], changed["diff"]["after"]
    for option, value in dict(changed_values, time_zone="Europe/Amsterdam").items():  # stored in the org's spelling
        assert (before[option], after[option]) != (value, value), option
        assert after[option] == value, option
    assert (before["license"], after["license"]) == (INTEGRATION_LICENSE, "Salesforce")
    assert changed["user"]["role"] == "Integration" and changed["api_requests"] == 2

    assert ok(run["role_by_developer_name"])["user"]["role"] == "Sales Operations"
    removed = ok(run["role_removed"])
    assert removed["changed"] is True and removed["user"]["role"] is None
    assert removed["diff"]["before"]["role"] == "Sales Operations"
    back = ok(run["profile_back"])["user"]
    assert (back["profile"], back["license"]) == (INTEGRATION_PROFILE, INTEGRATION_LICENSE)


def assert_unchanged(result):
    ok(result)
    assert result["changed"] is False, result
    assert result["api_requests"] == 1, result  # the one composite read
    if "diff" in result:
        assert result["diff"]["before"] == result["diff"]["after"]


# ---- freeze, deactivate, reactivate ------------------------------------------------------------------------


def test_freeze_deactivate_and_reactivate(emu, tmp_path):
    name = unique("erp.integration")
    login, defaults = session_tasks(emu, "org1")
    tasks = login + [
        {"name": "create_frozen", USER: dict(username=name, email="x@acme.test", last_name="ERP", frozen=True)},
        {"name": "unfreeze", USER: dict(username=name, frozen=False)},
        {"name": "freeze", USER: dict(username=name, frozen=True)},
        {"name": "freeze_again", USER: dict(username=name, frozen=True)},
        {"name": "deactivate", USER: dict(username=name, state="absent")},
        {"name": "deactivate_again", USER: dict(username=name, state="absent")},
        {"name": "reactivate", USER: dict(username=name)},
        {"name": "absent_missing", USER: dict(username=unique("never.created"), state="absent")},
    ]
    run = run_playbook(tmp_path, tasks, diff=True, module_defaults=defaults)
    created = ok(run["create_frozen"])
    user_id = created["user"]["id"]
    assert created["user"]["frozen"] is True and created["api_requests"] == 2  # create and freeze in one write
    unfrozen = ok(run["unfreeze"])
    assert unfrozen["changed"] is True and unfrozen["user"]["frozen"] is False
    frozen = ok(run["freeze"])
    assert frozen["changed"] is True and frozen["user"]["frozen"] is True and frozen["user"]["active"] is True
    assert (frozen["diff"]["before"]["frozen"], frozen["diff"]["after"]["frozen"]) == (False, True)

    gone = ok(run["deactivate"])
    assert gone["changed"] is True and gone["user"]["active"] is False and gone["user"]["id"] == user_id
    assert (gone["diff"]["before"]["active"], gone["diff"]["after"]["active"]) == (True, False)
    back = ok(run["reactivate"])
    assert back["changed"] is True and back["created"] is False
    assert back["user"]["active"] is True and back["user"]["id"] == user_id

    for task in ("freeze_again", "deactivate_again", "absent_missing"):
        assert_unchanged(run[task])
    assert run["absent_missing"]["user"] == {}


# ---- passwords, never shown even at -vvvv ------------------------------------------------------------------


def test_passwords_on_create_and_always(emu, tmp_path):
    name, weak = unique("billing.integration"), unique("weak.password")
    first, second = secret(), secret()
    new = dict(username=name, email="x@acme.test", last_name="Billing", password=first)
    login, defaults = session_tasks(emu, "org1")
    tasks = login + [
        {"name": "create", USER: new},
        security_token(emu, "token", name),
        {"name": "login_with_first", **user_login(emu, name, first, "token")},
        {"name": "on_create_existing", USER: dict(new, password=second)},
        {"name": "always", USER: dict(new, password=second, update_password="always")},
        {"name": "login_with_second", **user_login(emu, name, second, "token")},
        {"name": "weak_password", USER: dict(new, username=weak, password="short")},
        {"name": "weak_password_user", USER: dict(username=weak, state="absent")},
    ]
    run = run_playbook(tmp_path, tasks, verbosity=4, diff=True, module_defaults=defaults)
    created = ok(run["create"])
    assert created["password_set"] is True and created["diff"]["after"]["password"] == "(new password set)"
    assert created["api_requests"] == 2  # user and password in one composite write
    ok(run["login_with_first"])
    assert_unchanged(run["on_create_existing"])
    assert run["on_create_existing"]["password_set"] is False
    # always: set, and reported as a change, although nothing else differs
    always = ok(run["always"])
    assert always["changed"] is True and always["password_set"] is True
    assert "password" not in always["diff"]["before"]
    assert dict(always["diff"]["after"], password=None) == dict(always["diff"]["before"], password=None)
    ok(run["login_with_second"])
    # a password the org's policy refuses: one message naming the option, and no user left behind
    weak_result = failed(run["weak_password"], "password: Salesforce refused to set the password of User",
                         "INVALID_NEW_PASSWORD")
    assert weak_result["api_requests"] == 2
    assert ok(run["weak_password_user"])["user"] == {}

    assert "<localhost> ESTABLISH LOCAL CONNECTION" in run.output  # the run really was -vvvv
    for password in (first, second):
        assert password not in run.output


# ---- admin-grade profiles and a duplicate nickname -------------------------------------------------------------


def test_privileged_profile_and_duplicate_nickname(emu, tmp_path):
    admin_user, first, second = unique("admin.integration"), unique("sync.one"), unique("sync.two")
    nickname = "sync-" + uuid.uuid4().hex[:8]
    admin = dict(username=admin_user, email="x@acme.test", last_name="Admin", profile="System Administrator")
    login, defaults = session_tasks(emu, "org1")
    tasks = login + [
        {"name": "admin_refused", USER: admin},
        {"name": "admin_allowed", USER: dict(admin, allow_privileged_profile=True)},
        {"name": "admin_rerun_refused", USER: dict(username=admin_user, title="Admin")},
        {"name": "first", USER: dict(username=first, email="x@acme.test", last_name="One", nickname=nickname)},
        {"name": "duplicate_nickname", USER: dict(username=second, email="x@acme.test", last_name="Two",
                                                  nickname=nickname)},
    ]
    run = run_playbook(tmp_path, tasks, module_defaults=defaults)
    refused = failed(run["admin_refused"], "profile 'System Administrator' is admin-grade", "Modify All Data",
                     "allow_privileged_profile")
    assert refused["api_requests"] == 1  # the read only
    allowed = ok(run["admin_allowed"])
    assert allowed["changed"] is True and allowed["user"]["profile"] == "System Administrator"
    assert any("admin-grade" in warning for warning in allowed["warnings"])
    # An existing admin-grade user is refused too until its profile is changed or allowed.
    failed(run["admin_rerun_refused"], "admin-grade")

    ok(run["first"])
    duplicate = failed(run["duplicate_nickname"], "nickname '%s' is already used by another user" % nickname)
    assert duplicate["error_code"] == "DUPLICATE_COMM_NICKNAME" and "<br>" not in duplicate["msg"]


# ---- validation: every bad input fails clearly and writes nothing --------------------------------------


# Every problem of one task is named in its one message, so a few tasks cover every validation error.
BAD_INPUTS = [
    ("bad_shapes", dict(username="marketo-integration", email="not-an-email", alias="toolongalias", nickname="n" * 41),
     ["username 'marketo-integration' must be in the form of an email address", "email 'not-an-email'",
      "alias 'toolongalias' must be 1 to 8 characters", "nickname '%s' must be 1 to 40" % ("n" * 41)]),
    ("long_username", dict(username="a" * 72 + "@acme.test"), ["is 82 characters long", "at most 80"]),
    ("bad_against_org", dict(email=None, last_name=None, profile="Integration Profile", role="Integrations Team",
                             time_zone="Europe/Londn", locale="xx_XX", language="klingon", email_encoding="UTF-9",
                             title="t" * 81),
     ["email is required", "last_name is required",
      "profile 'Integration Profile' does not exist", "Profiles available for integration users: " + INTEGRATION_PROFILE,
      "role 'Integrations Team' does not exist",
      "time_zone 'Europe/Londn' is not a valid Time Zone in this org (did you mean Europe/London",
      "locale 'xx_XX' is not a valid Locale", "language 'klingon' is not a valid Language",
      "email_encoding 'UTF-9' is not a valid Email Encoding", "title is 81 characters long; the org allows at most 80"]),
    ("admin_profile", dict(profile="System Administrator"), ["admin-grade", "allow_privileged_profile"]),
]
SHAPE_ONLY = ("bad_shapes", "long_username")  # found before any request


def test_bad_input_fails_clearly_and_writes_nothing(emu, tmp_path):
    login, defaults = session_tasks(emu, "org2")
    tasks = list(login)
    for task, options, _words in BAD_INPUTS:
        args = dict(username=unique("invalid"), email="x@acme.test", last_name="Invalid")
        args.update(options)
        args = dict((k, v) for k, v in args.items() if v is not None)
        tasks.append({"name": task, USER: args})
        if task not in SHAPE_ONLY:
            tasks.append({"name": task + "_check", USER: args, "check_mode": True})
    emu.clear_requests("org2")
    run = run_playbook(tmp_path, tasks, module_defaults=defaults)
    for task, _options, words in BAD_INPUTS:
        result = failed(run[task], *words)
        if task not in SHAPE_ONLY:
            assert failed(run[task + "_check"])["msg"] == result["msg"]
        assert result["api_requests"] == (0 if task in SHAPE_ONLY else 1), task
    assert writes(emu, "org2") == 0


# ---- license seats and a username taken in another org -----------------------------------------------------


def test_seats_exhausted_and_username_taken_elsewhere(emu, tmp_path):
    active, inactive, extra = unique("seat.active"), unique("seat.inactive"), unique("seat.extra")
    taken = unique("taken.elsewhere")
    login, defaults = session_tasks(emu, "org2")
    setup = login + [
        {"name": "active", USER: dict(username=active, email="x@acme.test", last_name="Active")},
        {"name": "inactive", USER: dict(username=inactive, email="x@acme.test", last_name="Inactive")},
        {"name": "deactivate", USER: dict(username=inactive, state="absent")},
        # org1, logging in with this module's login_username/login_password options
        {"name": "taken_in_org1",
         USER: dict(admin_login_args(emu, "org1"), username=taken, email="x@acme.test", last_name="Taken")},
        {"name": "facts", ORG_INFO: {"instance_url": "{{ %s.instance_url }}" % result_var("login"),
                                     "access_token": "{{ %s.access_token }}" % result_var("login"),
                                     "ca_path": emu.ca_file}},
    ]
    prepared = run_playbook(tmp_path, setup, module_defaults=defaults)
    for task in ("active", "inactive", "deactivate", "taken_in_org1", "facts"):
        ok(prepared[task])
    used = [lic for lic in prepared["facts"]["user_licenses"] if lic["name"] == INTEGRATION_LICENSE][0]["used"]
    new_user = dict(username=extra, email="x@acme.test", last_name="Extra")
    refusals = login + [
        {"name": "create_full", USER: new_user},
        {"name": "create_full_check", USER: new_user, "check_mode": True},
        {"name": "reactivate_full", USER: dict(username=inactive)},
        {"name": "update_active_still_fine", USER: dict(username=active, last_name="Active")},
        {"name": "seats_back", "ansible.builtin.uri": dict(
            url=emu.admin_url("org2", "settings"), method="POST", body_format="json", ca_path=emu.ca_file,
            body=dict(license_seats={INTEGRATION_LICENSE: 5}))},
        {"name": "taken_in_other_org", USER: dict(username=taken.upper(), email="x@acme.test", last_name="Taken")},
    ]
    emu.settings("org2", license_seats={INTEGRATION_LICENSE: used})
    try:
        emu.clear_requests("org2")
        run = run_playbook(tmp_path, refusals, module_defaults=defaults)
    finally:
        emu.settings("org2", license_seats={INTEGRATION_LICENSE: 5})

    for task in ("create_full", "create_full_check", "reactivate_full"):
        result = failed(run[task], "%s: %d of %d used" % (INTEGRATION_LICENSE, used, used), "No free seat")
        assert result["api_requests"] == 1, task
        assert result["error_code"] == "LICENSE_LIMIT_EXCEEDED"
    assert_unchanged(run["update_active_still_fine"])
    duplicate = failed(run["taken_in_other_org"], "username '%s'" % taken,
                       "already taken by a user in this or another Salesforce org")
    assert duplicate["error_code"] == "DUPLICATE_USERNAME" and "<br>" not in duplicate["msg"]
    assert writes(emu, "org2") == 0


# ---- check mode: everything reported, nothing written ---------------------------------------------------------


def test_check_mode_writes_nothing(emu, tmp_path):
    name, fresh = unique("check.existing"), unique("check.new")
    login, defaults = session_tasks(emu, "org1")
    clear = {"ansible.builtin.uri": dict(url=emu.admin_url("org1", "requests"), method="DELETE",
                                         ca_path=emu.ca_file, status_code=[200, 204]), "check_mode": False}
    tasks = login + [
        {"name": "setup", USER: dict(username=name, email="x@acme.test", last_name="Check"), "check_mode": False},
        {"name": "clear_log", **clear},
        {"name": "create", USER: dict(username=fresh, email="x@acme.test", last_name="New", password=secret(),
                                      frozen=True, role="Integration")},
        {"name": "change", USER: dict(username=name, title="Checked", role="CEO", time_zone="Asia/Tokyo",
                                      profile="Minimum Access - Salesforce")},
        {"name": "freeze", USER: dict(username=name, frozen=True)},
        {"name": "password", USER: dict(username=name, password=secret(), update_password="always")},
        {"name": "deactivate", USER: dict(username=name, state="absent")},
    ]
    run = run_playbook(tmp_path, tasks, check=True, diff=True, module_defaults=defaults)
    ok(run["setup"])
    for task in ("create", "change", "freeze", "password", "deactivate"):
        result = ok(run[task])
        assert result["changed"] is True, task
        assert result["api_requests"] == 1, task
    assert run["create"]["diff"]["before"] == {} and run["create"]["diff"]["after"]["frozen"] is True
    assert run["change"]["diff"]["after"]["time_zone"] == "Asia/Tokyo"
    assert run["change"]["diff"]["after"]["license"] == "Salesforce"
    assert writes(emu, "org1") == 0
