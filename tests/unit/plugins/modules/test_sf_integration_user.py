"""sf_integration_user: defaults, validation, planning, error wording and the change record."""
from __future__ import annotations

import pytest
import requests
from module_double import page, recording_client, salesforce_module, same_record

from ansible_collections.sfops.integration.plugins.module_utils.errors import (
    ApiError,
    DuplicateError,
    InputError,
    LicenseLimitError,
    classify_api_error,
)
from ansible_collections.sfops.integration.plugins.module_utils.org import admin_grade_reasons
from ansible_collections.sfops.integration.plugins.modules import sf_integration_user as mod

INTEGRATION = dict(Id="00eINT", Name=mod.DEFAULT_PROFILE, UserLicenseId="100INT", PermissionsApiUserOnly=True,
                   UserLicense=dict(Name="Salesforce Integration", TotalLicenses=5, UsedLicenses=2))
ADMIN = dict(Id="00eADM", Name="System Administrator", UserLicenseId="100SF", PermissionsModifyAllData=True,
             PermissionsViewAllData=True, UserLicense=dict(Name="Salesforce", TotalLicenses=20, UsedLicenses=1))
PLAIN = dict(Id="00eMIN", Name="Minimum Access - Salesforce", UserLicenseId="100SF",
             UserLicense=dict(Name="Salesforce", TotalLicenses=20, UsedLicenses=1))
ROLES = [dict(Id="00EINT", Name="Integration", DeveloperName="Integration"),
         dict(Id="00EOPS", Name="Sales Operations", DeveloperName="SalesOperations")]
DESCRIBE = dict(fields=[
    dict(name="TimeZoneSidKey", label="Time Zone", type="picklist",
         picklistValues=[dict(value="GMT", active=True), dict(value="Europe/London", active=True),
                         dict(value="Europe/Paris", active=False)]),
    dict(name="LocaleSidKey", label="Locale", type="picklist", picklistValues=[dict(value="en_US", active=True)]),
    dict(name="LanguageLocaleKey", label="Language", type="picklist",
         picklistValues=[dict(value="en_US", active=True)]),
    dict(name="EmailEncodingKey", label="Email Encoding", type="picklist",
         picklistValues=[dict(value="UTF-8", active=True)]),
    dict(name="Title", label="Title", type="string", length=80),
    dict(name="Alias", label="Alias", type="string", length=8),
])


def params(**overrides):
    values = dict((name, None) for name in mod.ARGUMENT_SPEC)
    values.update(state="present", update_password="on_create", allow_privileged_profile=False,
                  username="marketo.integration@acme.com", email="ops@acme.com", last_name="Integration")
    values.update(overrides)
    return values


def existing_user(**overrides):
    record = dict(Id="005USER", Username="marketo.integration@acme.com", Email="ops@acme.com", FirstName=None,
                  LastName="Integration", Alias="marketoi", CommunityNickname="marketo.integration", IsActive=True,
                  UserPermissionsMarketingUser=False, AboutMe=None, Title=None, Department=None, CompanyName=None,
                  TimeZoneSidKey="GMT", LocaleSidKey="en_US", LanguageLocaleKey="en_US", EmailEncodingKey="UTF-8",
                  ProfileId="00eINT", Profile=dict(Name=mod.DEFAULT_PROFILE), UserRoleId=None, UserRole=None,
                  UserLogins=dict(totalSize=1, done=True, records=[dict(Id="060LOGIN", IsFrozen=False)]))
    record.update(overrides)
    return record


def facts(user=None, profiles=(INTEGRATION, ADMIN, PLAIN)):
    return mod.OrgFacts(user, list(profiles), list(ROLES), DESCRIBE)


# ---- defaults -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username, alias, nickname", [
    ("marketo.integration@acme.com.prod", "marketoi", "marketo.integration"),
    ("ERP_Sync-2@acme.com", "erpsync2", "ERP_Sync-2"),
    ("ab@acme.com", "ab", "ab"),
    ("%s@acme.com" % ("x" * 50), "xxxxxxxx", "x" * 40),
    ("...@acme.com", "intuser", "..."),
])
def test_alias_and_nickname_derived_from_the_username(username, alias, nickname):
    assert mod.derive_alias(username) == alias
    assert len(mod.derive_alias(username)) <= 8
    assert mod.derive_nickname(username) == nickname


# ---- validation without the org -------------------------------------------------------------------------


@pytest.mark.parametrize("overrides, words", [
    (dict(username="marketo"), ["username 'marketo' must be in the form of an email address"]),
    (dict(username="a@b"), ["username 'a@b'"]),
    (dict(username="%s@acme.com" % ("a" * 80)), ["at most 80"]),
    (dict(email="ops at acme"), ["email 'ops at acme'"]),
    (dict(alias="ninechars"), ["alias 'ninechars' must be 1 to 8"]),
    (dict(alias=""), ["alias '' must be 1 to 8"]),
    (dict(nickname="n" * 41), ["nickname"]),
    (dict(email="x", alias="toolongalias"), ["email 'x'", "alias 'toolongalias'"]),
])
def test_option_problems(overrides, words):
    message = "; ".join(mod.option_problems(params(**overrides)))
    for word in words:
        assert word in message


def test_good_options_and_absent_need_only_a_username():
    assert mod.option_problems(params(alias="mktoint", nickname="marketo-integration")) == []
    assert mod.option_problems(params(state="absent", email="not checked", alias="not checked either")) == []


# ---- validation against the org ---------------------------------------------------------------------------


def test_picklists_are_read_from_the_describe_and_canonicalised():
    assert mod.canonical_picklist("time_zone", "europe/london", DESCRIBE) == "Europe/London"
    with pytest.raises(InputError, match=r"time_zone 'Europe/Londn' is not a valid Time Zone in this org "
                                         r"\(did you mean Europe/London"):
        mod.canonical_picklist("time_zone", "Europe/Londn", DESCRIBE)
    with pytest.raises(InputError, match="Europe/Paris"):  # inactive values are refused
        mod.canonical_picklist("time_zone", "Europe/Paris", DESCRIBE)
    assert mod.canonical_picklist("time_zone", "Mars/Base", dict(fields=[])) == "Mars/Base"  # left to Salesforce


def test_lengths_come_from_the_describe():
    assert mod.length_problems(dict(Title="t" * 81, Alias="ok"), DESCRIBE) == \
        ["title is 81 characters long; the org allows at most 80"]


def test_unknown_profile_lists_the_integration_profiles():
    with pytest.raises(InputError) as error:
        mod.resolve_profile("Minimum Access - API Only Integration", [INTEGRATION, ADMIN, PLAIN])
    message = error.value.message
    assert "does not exist in this org (did you mean %s, Minimum Access - Salesforce?)." % mod.DEFAULT_PROFILE \
        in message
    assert message.endswith("Profiles available for integration users: %s" % mod.DEFAULT_PROFILE)
    assert mod.resolve_profile("system administrator", [INTEGRATION, ADMIN])["Id"] == "00eADM"


def test_roles_by_developer_name_or_name():
    assert mod.resolve_role("SalesOperations", ROLES)["Id"] == "00EOPS"
    assert mod.resolve_role("sales operations", ROLES)["Id"] == "00EOPS"
    twins = [dict(Id="00E1", Name="Integration", DeveloperName="Integration_EU"),
             dict(Id="00E2", Name="Integration", DeveloperName="Integration_US")]
    with pytest.raises(InputError, match="matches 2 roles by Name.*Integration_EU, Integration_US"):
        mod.resolve_role("integration", twins)
    with pytest.raises(InputError, match="role 'Nope' does not exist"):
        mod.resolve_role("Nope", ROLES)


def test_admin_grade_profiles():
    assert admin_grade_reasons(ADMIN) == ["Modify All Data", "View All Data"]
    assert admin_grade_reasons(INTEGRATION) == []
    assert mod.integration_profiles([INTEGRATION, ADMIN, PLAIN]) == [mod.DEFAULT_PROFILE]
    api_admin = dict(ADMIN, Name="API Admin", PermissionsApiUserOnly=True)
    assert mod.integration_profiles([api_admin, INTEGRATION]) == [mod.DEFAULT_PROFILE]


def test_seat_problem():
    full = dict(INTEGRATION, UserLicense=dict(Name="Salesforce Integration", TotalLicenses=5, UsedLicenses=5))
    assert mod.seat_problem(full) == "Salesforce Integration: 5 of 5 used"
    assert mod.seat_problem(INTEGRATION) is None
    assert mod.seat_problem(dict(Name="x")) is None  # seats unknown: Salesforce decides


# ---- planning -------------------------------------------------------------------------------------------


def test_create_plan_uses_the_defaults():
    plan, profile, _role = mod.plan_present(params(password="S3cretPass"), facts())
    assert plan.create == dict(Username="marketo.integration@acme.com", Email="ops@acme.com", LastName="Integration",
                               Alias="marketoi", CommunityNickname="marketo.integration",
                               UserPermissionsMarketingUser=False, TimeZoneSidKey="GMT", LocaleSidKey="en_US",
                               LanguageLocaleKey="en_US", EmailEncodingKey="UTF-8", ProfileId="00eINT", IsActive=True)
    assert plan.password == "S3cretPass" and plan.frozen is None and profile is INTEGRATION


def test_create_needs_email_and_last_name_and_every_problem_is_named():
    with pytest.raises(InputError) as error:
        mod.plan_present(params(email=None, last_name=None, time_zone="Mars", profile="Nope"), facts())
    message = error.value.message
    for word in ("email is required", "last_name is required", "time_zone 'Mars'", "profile 'Nope'"):
        assert word in message


def test_unchanged_user_plans_nothing_and_keeps_its_profile():
    plan, profile, _role = mod.plan_present(params(username="Marketo.Integration@ACME.com", email="OPS@acme.com",
                                                   password="x", frozen=False), facts(existing_user()))
    assert not plan.changed and profile is INTEGRATION


def test_update_plans_only_the_differences():
    plan, _profile, role = mod.plan_present(params(title="Integration", role="SalesOperations", frozen=True,
                                                   time_zone="europe/london"), facts(existing_user()))
    assert plan.update == dict(Title="Integration", UserRoleId="00EOPS", TimeZoneSidKey="Europe/London")
    assert plan.frozen is True and plan.login_id == "060LOGIN" and role["Name"] == "Sales Operations"


def test_empty_role_removes_it():
    user = existing_user(UserRoleId="00EINT", UserRole=dict(Name="Integration"))
    plan = mod.plan_present(params(role=""), facts(user))[0]
    assert plan.update == dict(UserRoleId="")
    assert mod.write_subrequests(recording_client(), plan)[0]["body"] == dict(UserRoleId=None)


def test_password_always_is_set_on_every_run():
    plan = mod.plan_present(params(password="S3cretPass", update_password="always"), facts(existing_user()))[0]
    assert plan.password == "S3cretPass" and plan.changed


def test_reactivation_needs_a_free_seat():
    full = dict(INTEGRATION, UserLicense=dict(Name="Salesforce Integration", TotalLicenses=3, UsedLicenses=3))
    with pytest.raises(LicenseLimitError, match="Salesforce Integration: 3 of 3 used"):
        mod.plan_present(params(), facts(existing_user(IsActive=False), profiles=[full]))
    # an active user on the same license takes no new seat
    assert not mod.plan_present(params(), facts(existing_user(), profiles=[full]))[0].changed


def test_admin_profile_refused_unless_allowed():
    with pytest.raises(InputError, match="admin-grade .*allow_privileged_profile"):
        mod.plan_present(params(profile="System Administrator"), facts())
    plan = mod.plan_present(params(profile="System Administrator", allow_privileged_profile=True), facts())[0]
    assert plan.create["ProfileId"] == "00eADM" and "admin-grade" in plan.warnings[0]


def test_absent_deactivates_once():
    assert mod.plan_absent(facts(existing_user())).update == dict(IsActive=False)
    assert not mod.plan_absent(facts(existing_user(IsActive=False))).changed
    assert not mod.plan_absent(facts(None)).changed


# ---- diff and writes ------------------------------------------------------------------------------------------


def test_diff_views_name_every_managed_field():
    current = facts(existing_user())
    plan, profile, role = mod.plan_present(params(frozen=True, password="S3cretPass", update_password="always",
                                                  profile="Minimum Access - Salesforce"), current)
    before, after = mod.before_view(current), mod.after_view(current, plan, profile, role)
    assert set(after) - set(before) == {"password"} and after["password"] == mod.PASSWORD_MARK
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == ["frozen", "license", "profile"]
    assert "S3cretPass" not in repr(before) + repr(after)


def test_create_writes_user_password_and_freeze_in_one_composite():
    plan = mod.plan_present(params(password="S3cretPass", frozen=True), facts())[0]
    subs = mod.write_subrequests(recording_client(), plan)
    assert [(s["method"], s["referenceId"]) for s in subs] == [
        ("POST", "user"), ("POST", "password"), ("GET", "login"), ("PATCH", "freeze")]
    assert subs[1]["url"].endswith("/sobjects/User/@{user.id}/password")
    assert "WHERE+UserId+%3D+'@{user.id}'" in subs[2]["url"]
    assert subs[3]["url"].endswith("/sobjects/UserLogin/@{login.records[0].Id}")


def test_the_failing_subrequest_is_reported_not_the_halted_ones():
    options = params(password="S3cretPass", update_password="always", title="Integration")
    plan = mod.plan_present(options, facts(existing_user()))[0]
    halted = [dict(errorCode="PROCESSING_HALTED", message="The transaction was rolled back")]
    refused = [dict(errorCode="INVALID_NEW_PASSWORD", message="Your password must have a mix of letters and numbers.")]
    answers = dict(password=(400, refused))
    client = recording_client(answer=lambda sub: answers.get(sub["referenceId"], (400, halted)))
    with pytest.raises(ApiError) as caught:
        mod.apply(client, plan, options)
    assert [sub["referenceId"] for sub in client.sent[0]] == ["user", "password"]  # the user's update was halted
    assert caught.value.message.startswith("password: Salesforce refused to set the password of User "
                                           "'marketo.integration@acme.com' (HTTP 400): INVALID_NEW_PASSWORD")
    assert "PROCESSING_HALTED" not in caught.value.message
    answers.update(password=(204, None), user=(204, None))
    assert mod.apply(client, plan, options) == "005USER"  # no failure


@pytest.mark.parametrize("code, field, text, words", [
    ("DUPLICATE_USERNAME", "Username", "Duplicate Username.<br>The username already exists",
     ["username 'marketo.integration@acme.com' is already taken", "another Salesforce org"]),
    ("DUPLICATE_COMM_NICKNAME", "CommunityNickname", "Duplicate Nickname.<br>Another user has already selected",
     ["nickname 'marketo.integration' is already used", "set the nickname option"]),
    # the generic duplicate code, by the field it names
    ("DUPLICATE_VALUE", "Username", "duplicate value found: Username", ["username 'marketo"]),
])
def test_salesforce_duplicates_become_one_message_naming_the_option(code, field, text, words):
    error = classify_api_error(400, [dict(errorCode=code, message=text, fields=[field] if field else [])],
                               action="create", sobject="User")
    assert isinstance(error, DuplicateError)
    message = mod.explain(error, params())
    for word in words:
        assert word in message
    assert "<br>" not in message


def test_other_field_errors_name_the_option():
    error = classify_api_error(400, [dict(errorCode="INVALID_EMAIL_ADDRESS", message="Email: invalid email address",
                                          fields=["Email"])], action="create", sobject="User")
    assert mod.explain(error, params()).startswith("email: Salesforce refused to create User")
    assert mod.explain(classify_api_error(500, "boom"), params()) is None


# ---- a create whose answer was lost ------------------------------------------------------------------------


def dropping_client():
    """A client whose first write is carried out by the org but whose answer is lost: the connection drops."""
    client = recording_client(user=page([]), profiles=page([INTEGRATION]), roles=page(ROLES), describe=DESCRIBE)
    client.connect()  # the session (an access token: no request) a dropped connection is reported against
    rest, restful = client._rest, client._rest.restful

    def first_write_lost(path, params=None, method="GET", json=None):
        answer = restful(path, params=params, method=method, json=json)
        if path == "composite" and not client.writes and any(sub["method"] != "GET" for sub in json["compositeRequest"]):
            client.writes.append(json["compositeRequest"])
            created = page([existing_user(**dict(json["compositeRequest"][0]["body"], Id="005NEW"))])
            rest.bodies["user"] = created  # the org has the user now; the re-reads find it
            rest.query = lambda soql_text, include_deleted=False: created
            raise requests.exceptions.ConnectionError("Connection reset by peer")
        return answer
    rest.restful = first_write_lost
    client.writes = []
    return client


def test_a_create_whose_answer_was_lost_is_finished_with_its_password():
    client = dropping_client()
    options = dict((name, value) for name, value in params(password="S3cretPass").items() if value is not None)
    module = salesforce_module(mod.ARGUMENT_SPEC, client, **options)
    result = mod.run(module)
    assert result["created"] is True and result["password_set"] is True and result["user"]["id"] == "005NEW"
    assert module.warnings == []
    [first] = client.writes
    second = [request for request in client.sent if any(sub["method"] != "GET" for sub in request)][1:]
    assert [sub["referenceId"] for sub in first] == ["user", "password"]
    assert second == [[dict(method="POST", referenceId="password", body=dict(NewPassword="S3cretPass"),
                            url="/services/data/v62.0/sobjects/User/005NEW/password")]]


# ---- the change record, from the module's own run ----------------------------------------------------------


def user_run(check_mode, user=None, **overrides):
    """module.run against an org holding ``user`` (or none), the three profiles and the User describe."""
    page = dict(done=True, totalSize=1 if user else 0, records=[user] if user else [])
    profiles = dict(done=True, totalSize=3, records=[INTEGRATION, ADMIN, PLAIN])
    client = recording_client(check_mode, user=page, profiles=profiles, describe=DESCRIBE,
                              roles=dict(done=True, totalSize=2, records=ROLES))
    options = dict((name, value) for name, value in params(**overrides).items() if value is not None)
    result = mod.run(salesforce_module(mod.ARGUMENT_SPEC, client, check_mode, **options))
    writes = [sub for request in client.sent for sub in request if sub["method"] != "GET"]
    assert bool(writes) == (result["changed"] and not check_mode), writes
    return result


def test_record_of_a_new_user_lists_what_it_gets_and_hides_the_password():
    change = same_record(lambda check: user_run(check, password="S3cretPass"))["change"]
    assert change["kind"] == "user" and change["name"] == "marketo.integration@acme.com" and change["action"] == "create"
    for line in ("email: ops@acme.com", "alias: marketoi", "profile: %s" % mod.DEFAULT_PROFILE,
                 "license: Salesforce Integration", "active: true", "password: %s" % mod.PASSWORD_MARK):
        assert line in change["details"], (line, change["details"])
    assert "S3cretPass" not in repr(change)


def test_record_of_an_update_names_each_field_that_changes():
    change = same_record(lambda check: user_run(check, existing_user(), title="Integration", role="SalesOperations",
                                                frozen=True))["change"]
    assert change["action"] == "update"
    assert change["details"] == ["title: Integration", "role: Sales Operations", "frozen: false -> true"]


def test_record_of_an_unchanged_user_says_none():
    result = same_record(lambda check: user_run(check, existing_user()))
    assert result["change"]["action"] == "none" and result["change"]["details"] == [] and result["changed"] is False


def test_record_of_a_deactivation():
    change = same_record(lambda check: user_run(check, existing_user(), state="absent"))["change"]
    assert change["action"] == "deactivate" and change["details"] == ["active: true -> false"]
    assert same_record(lambda check: user_run(check, None, state="absent"))["change"]["action"] == "none"


# ---- one refusal naming every problem ------------------------------------------------------------------------


def test_what_the_org_shows_is_refused_together_with_the_admin_grade_profile_and_a_missing_login():
    user = existing_user(UserLogins=dict(totalSize=0, done=True, records=[]))
    with pytest.raises(InputError) as refused:
        user_run(False, user, profile="System Administrator", time_zone="Mars", frozen=True)
    problems = refused.value.problems
    assert [p.split(" '")[0].split(":")[0] for p in problems] == ["time_zone", "profile", "frozen"], problems
    assert problems[0].startswith("time_zone 'Mars' is not a valid")
    assert problems[1].startswith("profile 'System Administrator' is admin-grade (") and "allow_privileged_profile" in problems[1]
    assert problems[2] == "frozen: user marketo.integration@acme.com has no UserLogin row to freeze or unfreeze"


def test_option_problems_are_refused_together_before_any_request():
    client = recording_client()
    options = dict(username="not-an-email", email="nope", alias="much-too-long-alias")
    with pytest.raises(InputError) as refused:
        mod.run(salesforce_module(mod.ARGUMENT_SPEC, client, **options))
    assert [p.split()[0] for p in refused.value.problems] == ["username", "email", "alias"]
    assert "'not-an-email'" in refused.value.problems[0] and "'nope'" in refused.value.problems[1]
    assert client.sent == [] and client.api_requests == 0
