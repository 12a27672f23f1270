from __future__ import annotations

import datetime
import re

import pytest

from module_double import page, recording_client, salesforce_module

from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError, PermissionDeniedError
from ansible_collections.sfops.integration.plugins.modules import sf_integration_audit as audit

NOW = datetime.datetime(2026, 3, 15, 12, 0, 0, tzinfo=datetime.timezone.utc)
INTEGRATION = "Salesforce Integration"
API_PROFILE = "Minimum Access - API Only Integrations"


def ago(days, hours=0):
    return (NOW - datetime.timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def params(**overrides):
    base = dict(window_days=30, inactive_days=90, password_max_age_days=90, severities=list(audit.SEVERITIES),
                exclude_users=[], integrations=None, integration_profile=None, exclusive=True,
                mfa_waiver_permission_set="Integration_MFA_Waiver")
    base.update(overrides)
    return base


def user_row(user_id, username, profile=API_PROFILE, license=INTEGRATION, active=True, created=400, last_login=None,
             password_changed=None, **permissions):
    profile_row = dict(Name=profile, UserLicense=dict(Name=license))
    profile_row.update(("Permissions%s" % name, True) for name, on in permissions.items() if on)
    if license == INTEGRATION:
        profile_row.update(PermissionsApiEnabled=True, PermissionsApiUserOnly=True)
    return dict(Id=user_id, Username=username, Name=username, IsActive=active, CreatedDate=ago(created),
                LastLoginDate=ago(last_login) if last_login is not None else None,
                LastPasswordChangeDate=ago(password_changed) if password_changed is not None else None,
                ProfileId="00e" + user_id, Profile=profile_row)


def login(user_id, days=1, status="Success", login_type="Remote Access 2.0", application="App", sub_type=None,
          api_type="N/A", api_version="N/A", ip="203.0.113.5"):
    return dict(UserId=user_id, LoginTime=ago(days), LoginType=login_type, LoginSubType=sub_type, Status=status,
                Application=application, ApiType=api_type, ApiVersion=api_version, SourceIp=ip)


def soap(user_id, days=1, status="Success"):
    return login(user_id, days, status, "Partner Product", "N/A", api_type="Soap Partner", api_version="58.0")


def assignment(user_id, name, label=None, group=None, **permissions):
    row = dict(AssigneeId=user_id, PermissionSetId=None if group else "0PS" + name, PermissionSetGroupId="0PG" if group else None,
               PermissionSet=None if group else dict(Name=name, Label=label or name.replace("_", " ")),
               PermissionSetGroup=dict(DeveloperName=group) if group else None)
    if not group:
        row["PermissionSet"].update(("Permissions%s" % k, True) for k, on in permissions.items() if on)
    return row


def rows(users=(), logins=(), assignments=(), changes=(), licenses=None):
    licenses = licenses if licenses is not None else (5, 2, 5, 1)
    return dict(users=list(users), logins=list(logins), assignments=list(assignments), setup_changes=list(changes),
                organization=[dict(Id="00D1", Name="Acme", IsSandbox=False, OrganizationType="Enterprise Edition")],
                user_licenses=[dict(Name=INTEGRATION, TotalLicenses=licenses[0], UsedLicenses=licenses[1])],
                permission_set_licenses=[dict(DeveloperName="SalesforceAPIIntegrationPsl",
                                              MasterLabel="Salesforce API Integration", TotalLicenses=licenses[2],
                                              UsedLicenses=licenses[3])])


def findings(data, **options):
    return audit.Audit(data, params(**options), now=NOW).run()["findings"]


def ids(data, **options):
    return sorted(f["id"] for f in findings(data, **options))


# ---- options -----------------------------------------------------------------------------------------------


def test_good_options_have_no_problems():
    assert audit.option_problems(params(integrations=[dict(name="m", user=dict(username="m@x.com"),
                                                           permission_sets=[dict(name="M")])])) == []


@pytest.mark.parametrize("overrides, words", [
    (dict(window_days=0), "window_days must be a number of days greater than 0, not 0"),
    (dict(inactive_days=-1), "inactive_days must be a number of days greater than 0, not -1"),
    (dict(password_max_age_days=0), "password_max_age_days must"),
    (dict(severities=["high", "urgent"]), "severities[1]: unknown severity 'urgent'"),
    (dict(severities=[]), "severities must name at least one"),
    (dict(integrations=[dict(name="m")]), "integrations[0] (m) needs user.username"),
    (dict(integrations=[dict(user=dict(username="u@x.com"))]), "integrations[0] needs a name"),
    (dict(integrations=[dict(name="m", user=dict(username="u@x.com"), state="gone")]), "state must be present or absent"),
    (dict(integrations=[dict(name="m", user=dict(username="u@x.com"), permission_sets=[dict(label="x")])]),
     "permission_sets[0] needs a name"),
])
def test_bad_options(overrides, words):
    assert any(words in problem for problem in audit.option_problems(params(**overrides)))


def test_severity_names_ignore_case():
    assert audit.option_problems(params(severities=["HIGH", "Low"])) == []


# ---- queries and requests ---------------------------------------------------------------------------------------


def test_queries_filter_login_history_on_login_time_only():
    queries = audit.queries(45)
    where = queries["logins"].split(" WHERE ", 1)[1]
    assert re.findall(r"\b([A-Za-z]+)\s*(?:=|>=|<=|<|>|!=|IN|LIKE)", where) == ["LoginTime"]
    assert "LAST_N_DAYS:45" in queries["logins"] and "LAST_N_DAYS:45" in queries["setup_changes"]
    for text in queries.values():
        assert not re.search(r"\b(COUNT|MAX|MIN|SUM|GROUP BY)\b", text, re.I)


def org_client(data=None, failing=()):
    """The client answering the audit's queries from ``data`` ({reference: records}); ``failing`` {reference: code}."""
    def answer(sub):
        ref = sub["referenceId"]
        if ref in failing:
            return 403 if failing[ref].startswith("INSUFFICIENT") else 400, [dict(errorCode=failing[ref], message="no")]
        return 200, page((data or {}).get(ref, [dict(ref=ref)]))
    return recording_client(answer=answer)


def test_read_org_is_two_composite_requests():
    client = org_client()
    data = audit.read_org(client, 30)
    assert len(client.sent) == 2 and [len(c) for c in client.sent] == [5, 2]  # five queries a request
    assert set(data) == {"users", "assignments", "logins", "setup_changes", "organization", "user_licenses",
                         "permission_set_licenses"}
    assert data["logins"] == [dict(ref="logins")]


def test_every_refused_query_is_named_with_its_permission():
    client = org_client(failing=dict(setup_changes="INSUFFICIENT_ACCESS", assignments="INVALID_TYPE"))
    with pytest.raises(PermissionDeniedError) as caught:
        audit.read_org(client, 30)
    message = caught.value.message
    assert "SetupAuditTrail (setup changes): View Setup and Configuration (ViewSetup)" in message
    assert "PermissionSetAssignment" in message and "README" in message
    assert message.index("PermissionSetAssignment") < message.index("SetupAuditTrail")  # in the order of the reads


def test_another_failed_query_is_not_taken_for_missing_access():
    with pytest.raises(ApiError) as caught:
        audit.read_org(org_client(failing=dict(logins="INVALID_FIELD")), 30)
    assert not isinstance(caught.value, PermissionDeniedError) and "INVALID_FIELD" in caught.value.message


def test_the_change_record_says_nothing_changes():
    data = rows([user_row("m", "m@x.com")])
    module = salesforce_module(audit.ARGUMENT_SPEC, org_client(data), **params())
    result = audit.run(module)
    assert result["changed"] is False and result["org"]["name"] == "Acme"
    assert result["change"] == dict(kind="integration_audit", name="Acme", action="none", details=[], added=0, removed=0,
                                    attributes=[])
    assert result["diff"] == dict(before={}, after={}) and result["seats"][0]["available"] == 3


# ---- parsing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-03-15T12:00:00.000+0000", NOW),
    ("2026-03-15T14:00:00+02:00", NOW),
    ("2026-03-15T12:00:00Z", NOW),
    ("2026-03-15", NOW.replace(hour=0)),
    (None, None),
    ("yesterday", None),
])
def test_parse_time(text, expected):
    assert audit.parse_time(text) == expected


def test_login_kinds():
    assert audit.is_soap_login(soap("1")) and not audit.is_oauth_password_login(soap("1"))
    assert audit.is_soap_login(login("1", login_type="Other Apex API", api_type="Soap Enterprise"))
    for sub in ("OauthUsernamePassword", "OAuth Username-Password"):
        assert audit.is_oauth_password_login(login("1", sub_type=sub))
    assert not audit.is_oauth_password_login(login("1", login_type="Application", sub_type="UsernamePasswordUiLogin"))
    assert not audit.is_oauth_password_login(login("1", sub_type="OauthClientCredentials"))
    assert audit.client_of(login("1", application="Marketo")) == "Marketo"
    assert audit.client_of(soap("1")) == "SOAP API login()"
    assert not audit.is_api_login(login("1", login_type="Application"))


# ---- checks ------------------------------------------------------------------------------------------------------


def test_a_person_used_for_api_logins():
    data = rows([user_row("p", "p@x.com", "Standard User", "Salesforce", ApiEnabled=True),
                 user_row("q", "q@x.com", "Standard User", "Salesforce", ApiEnabled=True),
                 user_row("r", "r@x.com", "Standard User", "Salesforce", active=False, ApiEnabled=True)],
                [login("p"), login("q", login_type="Application"), login("p", status="Invalid Password", application="X"),
                 login("r")])
    [found] = findings(data)
    assert found["id"] == "person_api_user:p@x.com" and found["evidence"]["api_logins"] == 1


def test_admin_grade_rights_only_for_api_users():
    data = rows([user_row("a", "a@x.com", "System Administrator", "Salesforce", ApiEnabled=True, ModifyAllData=True),
                 user_row("b", "b@x.com", "System Administrator", "Salesforce", ApiEnabled=True),  # no API login
                 user_row("c", "c@x.com", created=1),  # integration user, reads everything through a set
                 user_row("d", "d@x.com", created=1)],  # integration user with a harmless set
                [login("a")],
                [assignment("c", "Everything", ViewAllData=True, ApiEnabled=True), assignment("d", "Harmless", RunReports=True)])
    found = dict((f["id"], f) for f in findings(data))
    admin_grade = set(i for i in found if i.startswith("admin_grade"))
    assert admin_grade == {"admin_grade_api_user:a@x.com", "admin_grade_api_user:c@x.com"}
    assert found["admin_grade_api_user:c@x.com"]["evidence"]["rights"] == ["View All Data"]
    assert found["admin_grade_api_user:a@x.com"]["evidence"]["admin_grade_profile"]


def test_shared_users_count_successful_api_logins_by_client():
    data = rows([user_row("s", "s@x.com", created=1), user_row("t", "t@x.com", created=1)],
                [login("s", application="A"), login("s", application="B"), soap("s"),
                 login("t", application="A"), login("t", application="B", status="Invalid Password")])
    found = dict((f["id"], f) for f in findings(data))
    assert found["shared_user:s@x.com"]["evidence"]["clients"] == {"A": 1, "B": 1, "SOAP API login()": 1}
    assert "shared_user:t@x.com" not in found


def test_password_logins_with_retirement_dates():
    data = rows([user_row("s", "s@x.com", created=1), user_row("o", "o@x.com", created=1)],
                [soap("s"), soap("s", status="Invalid Password"), login("o", sub_type="OauthUsernamePassword")])
    found = dict((f["id"], f) for f in findings(data))
    assert found["password_login:s@x.com"]["severity"] == "high"
    assert found["password_login:s@x.com"]["evidence"]["soap_logins"] == 1
    assert "Summer '27" in found["password_login:s@x.com"]["remedy"]
    assert found["password_login:o@x.com"]["severity"] == "medium"
    assert "Summer '23" in found["password_login:o@x.com"]["evidence"]["stops_working"][0]


@pytest.mark.parametrize("last_login, created, expected", [
    (89, 400, False), (90, 400, True), (None, 89, False), (None, 90, True),
])
def test_inactive_integration_users(last_login, created, expected):
    data = rows([user_row("i", "i@x.com", created=created, last_login=last_login),
                 user_row("p", "p@x.com", "Standard User", "Salesforce", created=400)])  # not an integration user
    assert ids(data) == (["inactive_integration_user:i@x.com"] if expected else [])


def test_inactive_users_are_not_reported_as_inactive():
    assert ids(rows([user_row("i", "i@x.com", active=False, created=400)])) == []


def test_failed_logins_of_integration_users_by_status():
    data = rows([user_row("f", "f@x.com", active=False, created=1), user_row("p", "p@x.com", "Standard User", "Salesforce")],
                [soap("f", status="Invalid Password"), soap("f", status="Invalid Password"),
                 login("f", status="User is Inactive"), soap("p", status="Invalid Password")])
    [found] = findings(data)
    assert found["id"] == "failed_logins:f@x.com"
    assert found["evidence"]["by_status"] == {"Invalid Password": 2, "User is Inactive": 1}
    assert "deactivated user" in found["remedy"]


@pytest.mark.parametrize("changed, never, severity", [
    (100, False, "medium"), (10, True, "low"), (10, False, None), (100, True, "medium"),
])
def test_password_age(changed, never, severity):
    data = rows([user_row("s", "s@x.com", created=500, password_changed=changed, PasswordNeverExpires=never)], [soap("s")])
    found = dict((f["check"], f) for f in findings(data))
    assert (found["password_age"]["severity"] if "password_age" in found else None) == severity


def test_password_age_falls_back_to_creation():
    data = rows([user_row("s", "s@x.com", created=120)], [soap("s")])
    age = [f for f in findings(data) if f["check"] == "password_age"][0]["evidence"]
    assert age["age_days"] == 120 and age["last_password_change"] is None


def test_setup_changes_touching_integration_users():
    changes = [
        dict(Action="PermSetAssign", Display="Permission set Marketo Sync: assigned to user m@x.com",
             CreatedDate=ago(2), CreatedBy=dict(Username="jane@x.com")),
        dict(Action="PermSetEnableUserPerm", Display="Permission set Marketo_Sync_Old: Run Reports was enabled",
             CreatedDate=ago(2), CreatedBy=dict(Username="jane@x.com")),  # another set, same words
        dict(Action="changedpassword", Display="Changed password for user m@x.com", CreatedDate=ago(3),
             CreatedBy=dict(Username="robot@x.com")),  # by an excluded user
        dict(Action="createduser", Display="Created new user jane@x.com", CreatedDate=ago(3),
             CreatedBy=dict(Username="jane@x.com")),  # no integration user
        dict(Action="ProfileUpdate", Display="Changed profile %s: Api Enabled was enabled" % API_PROFILE,
             CreatedDate=ago(4), CreatedBy=dict(Username="jane@x.com")),
    ]
    data = rows([user_row("m", "m@x.com", created=1), user_row("j", "jane@x.com", "Standard User", "Salesforce"),
                 user_row("r", "robot@x.com", "Standard User", "Salesforce")],
                assignments=[assignment("m", "Marketo_Sync")], changes=changes)
    [found] = findings(data, exclude_users=["ROBOT@x.com"])
    assert found["id"] == "setup_changes:m@x.com"
    assert [c["action"] for c in found["evidence"]["changes"]] == ["PermSetAssign", "ProfileUpdate"]
    assert found["evidence"]["by"] == ["jane@x.com"]


USER_ID = "005Hs00000AbCdEIAV"  # an 18-character user id; its first 15 characters are the case-sensitive id


def setup_change_findings(*changes):
    users = [user_row(USER_ID, "m@x.com", created=1),
             user_row("005Hs00000AbCdFIAV", "jane@x.com", "Standard User", "Salesforce")]
    data = rows(users, changes=changes)
    return [f for f in findings(data) if f["check"] == "setup_changes"]


def test_setup_changes_name_the_user_by_15_character_id():
    # Salesforce may write the user's full name and "(UserID: [15-character id])" instead of the username.
    change = dict(Action="changedpassword", Display="Changed password for user Marketo Sync (UserID: [%s])" % USER_ID[:15],
                  CreatedDate=ago(2), CreatedBy=dict(Username="jane@x.com"))
    [found] = setup_change_findings(change)
    assert found["user_id"] == USER_ID and found["evidence"]["changes"][0]["action"] == "changedpassword"
    # 15-character ids are case-sensitive: another case is another record.
    change["Display"] = "Changed password for user Marketo Sync (UserID: [%s])" % USER_ID[:15].lower()
    assert setup_change_findings(change) == []


def test_setup_changes_name_the_user_by_18_character_id():
    change = dict(Action="frozeuser", Display="Froze user %s" % USER_ID.lower(), CreatedDate=ago(2),
                  CreatedBy=dict(Username="jane@x.com"))
    [found] = setup_change_findings(change)
    assert found["user_id"] == USER_ID
    # An id inside a longer word is no id.
    change["Display"] = "Froze user X%s" % USER_ID
    assert setup_change_findings(change) == []


def test_setup_changes_made_by_an_integration_user_logged_in_as_another():
    change = dict(Action="createduser", Display="Created new user jane@x.com", CreatedDate=ago(2),
                  CreatedBy=dict(Username="jane@x.com"), DelegateUser="M@x.com")
    [found] = setup_change_findings(change)
    assert found["user"] == "m@x.com" and found["evidence"]["changes"][0]["delegate_user"] == "M@x.com"


def test_seats():
    data = rows(licenses=(5, 5, 5, 2))
    [found] = findings(data)
    assert found["id"] == "no_free_seats:Salesforce Integration" and found["user"] is None
    result = audit.Audit(data, params(), now=NOW).run()
    seats = [(s["license"], s["available"]) for s in result["seats"]]
    assert seats == [("Salesforce Integration", 0), ("Salesforce API Integration", 3)]


def test_drift():
    data = rows([user_row("m", "m@x.com", created=1), user_row("l", "l@x.com", created=1),
                 user_row("r", "r@x.com", created=1), user_row("p", "p@x.com", profile="Custom", created=1)],
                [login("m"), soap("m")],
                [assignment("m", "Marketo"), assignment("m", "Other"), assignment("l", "Legacy"),
                 assignment("l", "Integration_MFA_Waiver"), assignment("r", "Retired_Set"),
                 assignment("p", "P", group="Sales_Group")])
    integrations = [
        dict(name="marketo", user=dict(username="M@x.com"), permission_sets=[dict(name="marketo")],
             permission_set_groups=["Missing_Group"], oauth=dict(flow="jwt")),
        dict(name="legacy", user=dict(username="l@x.com"), permission_sets=[dict(name="Legacy")]),  # waiver allowed
        dict(name="retired", state="absent", user=dict(username="r@x.com")),
        dict(name="profiled", user=dict(username="p@x.com"), permission_set_groups=["sales_group"]),
        dict(name="ghost", user=dict(username="g@x.com")),
    ]
    drift = [f for f in findings(data, integrations=integrations, integration_profile=API_PROFILE) if f["check"] == "drift"]
    found = dict((f["id"], f["evidence"]) for f in drift)
    assert set(found) == {"drift:marketo", "drift:retired", "drift:profiled", "drift:ghost"}
    assert found["drift:marketo"]["extra_permission_sets"] == ["Other"]
    assert found["drift:marketo"]["missing_permission_set_groups"] == ["missing_group"]
    assert found["drift:marketo"]["password_logins"] == 1
    assert found["drift:retired"] == dict(active=True, assignments_left=["Retired_Set"], username="r@x.com",
                                          state="absent")
    assert found["drift:profiled"]["profile"] == dict(expected=API_PROFILE, actual="Custom")
    assert found["drift:ghost"]["user"] == "missing"
    exclusive_off = [f["id"] for f in findings(data, integrations=integrations[:1], exclusive=False) if f["check"] == "drift"]
    assert exclusive_off == ["drift:marketo"]


def test_excluded_users_and_severity_filter():
    data = rows([user_row("a", "a@x.com", "System Administrator", "Salesforce", ApiEnabled=True, ModifyAllData=True),
                 user_row("p", "p@x.com", "Standard User", "Salesforce", ApiEnabled=True)],
                [soap("a"), login("p")])
    assert ids(data, exclude_users=["A@X.COM"]) == ["person_api_user:p@x.com"]
    assert ids(data, severities=["high"]) == ["admin_grade_api_user:a@x.com", "password_login:a@x.com"]
    result = audit.Audit(data, params(exclude_users=["a@x.com", "nobody@x.com"]), now=NOW).run()
    assert result["excluded_users"] == ["a@x.com"]
    assert result["summary"] == dict(high=0, medium=1, low=0, info=0, total=1)


def test_login_history_seen_only_in_part():
    users = [user_row("me", "me@x.com", "Standard User", "Salesforce", last_login=0),
             user_row("o", "o@x.com", "Standard User", "Salesforce", last_login=3),
             user_row("old", "old@x.com", "Standard User", "Salesforce", last_login=45)]  # before the window
    with pytest.raises(PermissionDeniedError) as caught:
        audit.Audit(rows(users, [login("me", 0, login_type="Application")]), params(), now=NOW).run()
    assert "Monitor Login History (MonitorLoginHistory) or Manage Users (ManageUsers)" in caught.value.message
    assert "o@x.com" in caught.value.message and "old@x.com" not in caught.value.message
    users.append(user_row("z", "z@x.com", "Standard User", "Salesforce", last_login=2))
    result = audit.Audit(rows(users, [login("me", 0, login_type="Application"), login("z", 2, login_type="Application")]),
                         params(), now=NOW).run()
    assert "1 user(s) logged in during the window without login history rows (o@x.com)" in result["warnings_found"][0]


def test_a_window_longer_than_salesforce_keeps_history_warns():
    result = audit.Audit(rows(), params(window_days=365), now=NOW).run()
    assert "180 days" in result["warnings_found"][0]
    assert result["window"] == dict(days=365, since="2025-03-15T00:00:00Z")


def test_a_clean_org_has_no_findings():
    admin = user_row("admin", "admin@x.com", "System Administrator", "Salesforce", ApiEnabled=True, ModifyAllData=True)
    data = rows([user_row("m", "m@x.com", created=10, last_login=1), admin],
                [login("m", application="Marketo_Integration"), soap("admin")], [assignment("m", "Marketo")])
    integrations = [dict(name="marketo", user=dict(username="m@x.com"), permission_sets=[dict(name="Marketo")],
                         oauth=dict(flow="jwt"))]
    assert findings(data, exclude_users=["admin@x.com"], integrations=integrations, integration_profile=API_PROFILE) == []
