"""What an API access audit reads, over raw HTTP: SetupAuditTrail rows for the setup changes the emulator carries out,
User.LastLoginDate and LastPasswordChangeDate, SOQL date literals and datetime comparisons, LoginHistory's
filterable fields, object access of the calling user (access.py), and the admin API that seeds history.

Sources: oauth reference B.1 (LoginHistory, its access rule and filterable fields), B.2 (SetupAuditTrail, PermSetCreate
and its Display text, View Setup and Configuration), B.3/B.4 (access to assignments, permission sets, UserLogin); SOQL
reference "Date Formats and Date Literals"; docs/emulator.md "Setup Audit Trail", "Access to objects", "SOQL".
One emulator of its own (two orgs), so rows other test files write do not show up here.
"""
from __future__ import annotations

import datetime as dt
import uuid
from xml.sax.saxutils import escape

import pytest

from contract import OrgClient, start_emulator, stop_emulator, unique_username, user_values
from sf_emulator.schema import PERMISSION_DEPENDENCIES

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    proc, info = start_emulator(tmp_path_factory.mktemp("audit-emu"), orgs=2)
    yield info
    stop_emulator(proc)


@pytest.fixture(scope="module")
def org(emu) -> OrgClient:
    client = OrgClient(emu, emu["orgs"][0])
    r = client.admin("POST", "settings", json={"license_seats": {"Salesforce": 500, "Salesforce Integration": 50,
                                                                 "SalesforceAPIIntegrationPsl": 50}})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture(scope="module")
def other(emu) -> OrgClient:
    return OrgClient(emu, emu["orgs"][1])


def trail(org: OrgClient, since_id: set = frozenset()) -> list[dict]:
    """Audit rows newest last, leaving out those already seen."""
    rows = org.query("SELECT Id, Action, Section, Display, CreatedDate, CreatedById, CreatedBy.Username, DelegateUser "
                     "FROM SetupAuditTrail ORDER BY CreatedDate")["records"]
    return [r for r in rows if r["Id"] not in since_id]


def seen(org: OrgClient) -> set:
    return {r["Id"] for r in trail(org)}


def profile_id(org: OrgClient, name: str) -> str:
    return org.one(f"SELECT Id FROM Profile WHERE Name = '{name}'")["Id"]


def new_user(org: OrgClient, profile: str = "Minimum Access - API Only Integrations", **values) -> tuple[str, str]:
    body = user_values(profile_id(org, profile), **values)
    r = org.create("User", body)
    assert r.status_code == 201, r.text
    return r.json()["id"], body["Username"].lower()


def new_permission_set(org: OrgClient, **values) -> str:
    name = "Audit_" + uuid.uuid4().hex[:8]
    r = org.create("PermissionSet", dict({"Name": name, "Label": name.replace("_", " ")}, **values))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def login_as(org: OrgClient, username: str, password: str) -> OrgClient:
    """A client of the same org logged in (SOAP) as another user."""
    token = org.security_token(username)
    client = OrgClient.__new__(OrgClient)
    client.info, client.org, client.url, client.http = org.info, dict(org.org, username=username,
                                                                      password=password, security_token=token), \
        org.url, org.http
    client.token = client.login()
    return client


# ---- SetupAuditTrail -----------------------------------------------------------------------------------------------


def test_setup_audit_trail_is_a_read_only_setup_object(org):
    d = org.rest("GET", "sobjects/SetupAuditTrail/describe").json()
    fields = {f["name"]: f for f in d["fields"]}
    assert {"Action", "Section", "Display", "CreatedDate", "CreatedById", "DelegateUser",
            "ResponsibleNamespacePrefix", "CreatedByContext", "CreatedByIssuer"} <= set(fields)
    assert (fields["Action"]["length"], fields["Section"]["length"], fields["Display"]["length"]) == (120, 40, 1000)
    # [FIELDREF SetupAuditTrail] lengths and labels; filterable as [OBJREF] and a real org's describe (3P).
    assert (fields["CreatedByContext"]["length"], fields["CreatedByIssuer"]["length"]) == (80, 80)
    assert fields["Id"]["label"] == "Setup Audit Trail ID"
    assert sorted(n for n, f in fields.items() if not f["filterable"]) == ["Display", "Section"]
    assert d["keyPrefix"] == "0Ym"
    assert not d["createable"] and not d["updateable"] and not d["deletable"]
    r = org.create("SetupAuditTrail", {"Action": "x"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_user_lifecycle_rows_and_password_date(org):
    before = seen(org)
    user_id, username = new_user(org)
    assert org.rest("PATCH", f"sobjects/User/{user_id}", json={"Email": "new@example.test"}).status_code == 204
    assert org.rest("PATCH", f"sobjects/User/{user_id}",
                    json={"ProfileId": profile_id(org, "Standard User")}).status_code == 204
    login = org.one(f"SELECT Id FROM UserLogin WHERE UserId = '{user_id}'")
    assert org.rest("PATCH", f"sobjects/UserLogin/{login['Id']}", json={"IsFrozen": True}).status_code == 204
    assert org.one(f"SELECT LastPasswordChangeDate FROM User WHERE Id = '{user_id}'")["LastPasswordChangeDate"] is None
    assert org.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": "Secret-12345"}).status_code == 204
    changed = org.one(f"SELECT LastPasswordChangeDate FROM User WHERE Id = '{user_id}'")["LastPasswordChangeDate"]
    assert changed and changed.endswith("+0000")
    assert org.rest("PATCH", f"sobjects/User/{user_id}", json={"IsActive": False}).status_code == 204
    rows = trail(org, before)
    assert [r["Action"] for r in rows] == ["createduser", "changeduser", "changedprofileforuser", "frozeuser",
                                           "changedpassword", "deactivateduser"]
    assert all(username in r["Display"] for r in rows)
    assert "from Minimum Access - API Only Integrations to Standard User" in rows[2]["Display"]
    assert {r["Section"] for r in rows} == {"Manage Users"}
    assert {r["CreatedById"] for r in rows} == {org.org["user_id"]}
    assert rows[0]["CreatedBy"]["Username"] == org.org["username"]


def test_permission_set_rows_use_the_documented_action_and_display(org):
    before = seen(org)
    license = org.one("SELECT Id FROM UserLicense WHERE Name = 'Salesforce'")["Id"]
    ps_id = new_permission_set(org, LicenseId=license)
    label = org.one(f"SELECT Label FROM PermissionSet WHERE Id = '{ps_id}'")["Label"]
    assert org.rest("PATCH", f"sobjects/PermissionSet/{ps_id}", json={"PermissionsRunReports": True}).status_code == 204
    r = org.create("ObjectPermissions", {"ParentId": ps_id, "SobjectType": "Account", "PermissionsRead": True})
    assert r.status_code == 201, r.text
    user_id, username = new_user(org, "Standard User")
    r = org.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": ps_id})
    assert r.status_code == 201, r.text
    assert org.rest("DELETE", f"sobjects/PermissionSetAssignment/{r.json()['id']}").status_code == 204
    rows = trail(org, before)
    actions = [r["Action"] for r in rows]
    assert actions == ["PermSetCreate", "PermSetEnableUserPerm", "PermSetEntityPermChanged", "createduser",
                       "PermSetAssign", "PermSetUnassign"]
    # Oauth reference B.2: "Created permission set MAD: with user license Salesforce."
    assert rows[0]["Display"] == f"Created permission set {label}: with user license Salesforce."
    assert "Run Reports was enabled" in rows[1]["Display"]
    assert "Account changed from none to Read" in rows[2]["Display"]
    assert rows[4]["Display"] == f"Permission set {label}: assigned to user {username}"
    # the profile's own assignment of the new user is the platform's doing: no row for it
    assert not any("X00e" in r["Display"] for r in rows)


def test_a_set_without_license_has_its_own_action(org):
    """3P ExabeamLabs/Content-Library-CIM2 parser permsetcreatenolicense: "Created permission set X: with no license"."""
    before = seen(org)
    ps_id = new_permission_set(org)
    label = org.one(f"SELECT Label FROM PermissionSet WHERE Id = '{ps_id}'")["Label"]
    [row] = trail(org, before)
    assert (row["Action"], row["Display"]) == ("PermSetCreateNoLicense", f"Created permission set {label}: with no license")


def test_profile_and_license_assignment_rows(org):
    before = seen(org)
    license = org.one("SELECT Id FROM UserLicense WHERE Name = 'Salesforce Integration'")["Id"]
    name = "Audit Profile " + uuid.uuid4().hex[:6]
    r = org.create("Profile", {"Name": name, "UserLicenseId": license})
    assert r.status_code == 201, r.text
    assert org.rest("PATCH", f"sobjects/Profile/{r.json()['id']}",
                    json={"PermissionsPasswordNeverExpires": True}).status_code == 204
    user_id, username = new_user(org)
    psl = org.one("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")["Id"]
    r = org.create("PermissionSetLicenseAssign", {"AssigneeId": user_id, "PermissionSetLicenseId": psl})
    assert r.status_code == 201, r.text
    rows = trail(org, before)
    assert [r["Action"] for r in rows] == ["ProfileCreate", "profilePermChangedCustom", "createduser",
                                           "PermSetLicenseAssign"]
    # The Action and the Display's form as real orgs write them (3P: ExabeamLabs/Content-Library-CIM2 parser
    # profilepermchangedcustom, "Changed profile X: administrative permission Y was changed from").
    assert rows[1]["Display"] == (f"Changed profile {name}: administrative permission Password Never Expires was "
                                  "changed from disabled to enabled")
    assert rows[3]["Display"] == f"Permission set license Salesforce API Integration: assigned to user {username}"


def test_a_rolled_back_change_leaves_no_row(org):
    before = seen(org)
    good, taken = "Audit_" + uuid.uuid4().hex[:8], "Audit_" + uuid.uuid4().hex[:8]
    new_permission_set(org, Name=taken, Label=taken)
    trail_after_first = seen(org)
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "referenceId": "good", "url": "/services/data/v62.0/sobjects/PermissionSet",
         "body": {"Name": good, "Label": good}},
        {"method": "POST", "referenceId": "bad", "url": "/services/data/v62.0/sobjects/PermissionSet",
         "body": {"Name": taken, "Label": taken}}]}
    r = org.rest("POST", "composite", json=body)
    assert r.status_code == 200 and r.json()["compositeResponse"][1]["httpStatusCode"] == 400
    assert len(trail_after_first - before) == 1
    assert trail(org, trail_after_first) == []


def _metadata(org: OrgClient, op: str, inner: str) -> int:
    body = (f'<soap-env:Envelope xmlns:soap-env="{SOAP}"><soap-env:Header><ns0:SessionHeader xmlns:ns0="{MD}">'
            f'<ns0:sessionId>{org.token}</ns0:sessionId></ns0:SessionHeader></soap-env:Header>'
            f'<soap-env:Body><ns0:{op} xmlns:ns0="{MD}">{inner}</ns0:{op}></soap-env:Body></soap-env:Envelope>')
    r = org.http.post(f"{org.url}/services/Soap/m/62.0/", data=body.encode(),
                      headers={"SOAPAction": '""', "Content-Type": "text/xml; charset=utf-8"})
    assert r.status_code == 200 and "<success>true</success>" in r.text, r.text
    return r.status_code


def test_external_client_app_changes_have_rows(org):
    before = seen(org)
    name = "Audit_" + uuid.uuid4().hex[:8]
    _metadata(org, "createMetadata", f'<ns0:metadata xmlns:xsi="{XSI}" xsi:type="ns0:ExternalClientApplication">'
                                     f'<ns0:fullName>{name}</ns0:fullName><ns0:label>{name}</ns0:label>'
                                     f'<ns0:contactEmail>ops@example.test</ns0:contactEmail></ns0:metadata>')
    _metadata(org, "deleteMetadata", f"<ns0:type>ExternalClientApplication</ns0:type><ns0:fullNames>{escape(name)}"
                                     "</ns0:fullNames>")
    rows = trail(org, before)
    assert [(r["Action"], r["Section"]) for r in rows] == [("ExternalClientAppCreate", "External Client Apps"),
                                                           ("ExternalClientAppDelete", "External Client Apps")]
    assert all(name in r["Display"] for r in rows)
    assert {r["CreatedById"] for r in rows} == {org.org["user_id"]}


def test_action_is_filterable(org):
    rows = org.query("SELECT Action FROM SetupAuditTrail WHERE Action = 'PermSetCreate' AND "
                     "CreatedDate = LAST_N_DAYS:1")["records"]
    assert rows and {r["Action"] for r in rows} == {"PermSetCreate"}
    # Display and Section are not ([OBJREF SetupAuditTrail] properties "Nillable, Sort").
    for field in ("Display", "Section"):
        r = org.rest("GET", "query", params={"q": f"SELECT Id FROM SetupAuditTrail WHERE {field} = 'x'"})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
        assert r.json()[0]["message"].endswith(f"field '{field}' can not be filtered in a query call")


# ---- logins: LastLoginDate, LoginHistory ---------------------------------------------------------------------------


def test_a_login_sets_last_login_date_and_writes_a_row(org):
    user_id, username = new_user(org, "Standard User")
    assert org.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": "Secret-12345"}).status_code == 204
    assert org.one(f"SELECT LastLoginDate FROM User WHERE Id = '{user_id}'")["LastLoginDate"] is None
    login_as(org, username, "Secret-12345")
    last = org.one(f"SELECT LastLoginDate FROM User WHERE Id = '{user_id}'")["LastLoginDate"]
    row = org.one(f"SELECT LoginTime, LoginType, Status FROM LoginHistory WHERE UserId = '{user_id}'")
    assert (row["LoginType"], row["Status"]) == ("Partner Product", "Success")
    assert last == row["LoginTime"]


def test_login_history_filters_only_on_filterable_fields(org):
    r = org.rest("GET", "query", params={"q": "SELECT Id FROM LoginHistory WHERE Application = 'X'"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "field 'Application' can not be filtered in a query call" in r.json()[0]["message"]
    ok = org.query("SELECT Id FROM LoginHistory WHERE LoginTime >= LAST_N_DAYS:1 AND LoginType = 'Partner Product'")
    assert ok["totalSize"] >= 1


# ---- date literals and datetime comparisons -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dated(org):
    """Login rows at known times of a fresh user: now-ish today, yesterday noon, 3 days ago noon, 40 days ago noon."""
    user_id, username = new_user(org, "Standard User")
    now = dt.datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    times = {"today": midnight + (now - midnight) / 2, "yesterday": midnight - dt.timedelta(hours=12),
             "three": midnight - dt.timedelta(days=3) + dt.timedelta(hours=12),
             "forty": midnight - dt.timedelta(days=40) + dt.timedelta(hours=12)}
    rows = [{"username": username, "time": t.isoformat(), "application": key} for key, t in times.items()]
    r = org.admin("POST", "login_history", json={"rows": rows, "update_last_login": False})
    assert r.status_code == 200 and r.json() == {"inserted": 4}, r.text
    return user_id, times


def _apps(org, user_id, where):
    return sorted(r["Application"] for r in org.query(
        f"SELECT Application FROM LoginHistory WHERE UserId = '{user_id}' AND {where}")["records"])


@pytest.mark.parametrize("where, expected", [
    ("LoginTime = TODAY", ["today"]),
    ("LoginTime = yesterday", ["yesterday"]),
    ("LoginTime = LAST_N_DAYS:3", ["three", "today", "yesterday"]),
    ("LoginTime >= LAST_N_DAYS:30", ["three", "today", "yesterday"]),
    ("LoginTime < LAST_N_DAYS:30", ["forty"]),
    ("LoginTime = N_DAYS_AGO:3", ["three"]),
    ("LoginTime < N_DAYS_AGO:3", ["forty"]),
    ("LoginTime > TODAY", []),
    ("LoginTime <= TODAY", ["forty", "three", "today", "yesterday"]),
    ("LoginTime != TODAY", ["forty", "three", "yesterday"]),
    ("LoginTime = TOMORROW", []),
])
def test_date_literals(org, dated, where, expected):
    assert _apps(org, dated[0], where) == expected


def test_datetime_literals_compare_as_instants(org, dated):
    user_id, times = dated
    yesterday = times["yesterday"]
    # the same instant written with an offset: 12:00 UTC is 14:00+02:00
    plus_two = yesterday.astimezone(dt.timezone(dt.timedelta(hours=2))).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    assert _apps(org, user_id, f"LoginTime = {plus_two}") == ["yesterday"]
    assert _apps(org, user_id, f"LoginTime > {plus_two}") == ["today"]
    zulu = times["three"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _apps(org, user_id, f"LoginTime <= {zulu}") == ["forty", "three"]


def test_a_date_literal_needs_its_number(org):
    r = org.rest("GET", "query", params={"q": "SELECT Id FROM LoginHistory WHERE LoginTime = LAST_N_DAYS"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_date_literals_on_other_objects(org):
    assert org.query("SELECT COUNT() FROM User WHERE CreatedDate = TODAY")["totalSize"] >= 1
    assert org.query("SELECT COUNT() FROM User WHERE CreatedDate < LAST_N_DAYS:1")["totalSize"] == 0
    r = org.query("SELECT Id FROM PermissionSetAssignment WHERE ExpirationDate = null OR ExpirationDate > TODAY")
    assert r["totalSize"] >= 1


# ---- access of the calling user (access.py) --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_user(org):
    """A Standard User (API Enabled, no View Setup, no Monitor Login History) with a password, and its client."""
    user_id, username = new_user(org, "Standard User")
    assert org.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": "Secret-12345"}).status_code == 204
    return user_id, username, login_as(org, username, "Secret-12345")


def refused(client, soql):
    r = client.rest("GET", "query", params={"q": soql})
    assert r.status_code == 403, r.text
    body = r.json()
    assert body[0]["errorCode"] == "INSUFFICIENT_ACCESS" and "fields" not in body[0]
    return body[0]["message"]


def test_reading_setup_objects_needs_the_documented_permissions(plain_user):
    _user_id, _username, client = plain_user
    assert "View Setup and Configuration (ViewSetup)" in refused(client, "SELECT Id FROM SetupAuditTrail")
    message = refused(client, "SELECT Id FROM PermissionSetAssignment")
    assert "View Setup and Configuration (ViewSetup)" in message and "Manage Users (ManageUsers)" in message
    assert "PermissionSet" in refused(client, "SELECT Id FROM PermissionSet")
    assert "Manage Users (ManageUsers)" in refused(client, "SELECT Id FROM UserLogin")
    # a subquery is a read of its object too
    assert "PermissionSetAssignment" in refused(client, "SELECT Id, (SELECT Id FROM PermissionSetAssignments) FROM User")
    # objects without a documented rule stay open
    assert client.query("SELECT Id FROM User")["totalSize"] >= 1


def test_login_history_without_the_permission_shows_own_rows_only(org, plain_user):
    user_id, _username, client = plain_user
    rows = client.query("SELECT UserId FROM LoginHistory")["records"]
    assert rows and {r["UserId"] for r in rows} == {user_id}
    assert len({r["UserId"] for r in org.query("SELECT UserId FROM LoginHistory")["records"]}) > 1


def test_an_auditor_permission_set_opens_them(org, plain_user):
    user_id, _username, client = plain_user
    ps_id = new_permission_set(org, PermissionsViewSetup=True, PermissionsMonitorLoginHistory=True)
    assert org.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": ps_id}).status_code == 201
    assert client.query("SELECT Id FROM SetupAuditTrail")["totalSize"] > 0
    assert len({r["UserId"] for r in client.query("SELECT UserId FROM LoginHistory")["records"]}) > 1
    assert client.query("SELECT Id FROM PermissionSetAssignment")["totalSize"] > 0
    assert "Manage Users" in refused(client, "SELECT Id FROM UserLogin")  # still not granted


def closure(permissions):
    """The permissions with every permission they depend on (the emulator refuses a set without them)."""
    found, todo = set(), list(permissions)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(PERMISSION_DEPENDENCIES.get(name, []))
    return found


def refused_write(response, permission_label):
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY" and error["fields"] == [], error
    assert permission_label in error["message"], error
    return error["message"]


def test_writing_setup_objects_needs_the_documented_permissions(org, plain_user):
    """A Standard User (no Manage Users, no Manage Profiles and Permission Sets) is refused every setup write,
    each naming the permission; the same writes pass once a set grants exactly those permissions."""
    user_id, _username, client = plain_user
    ps_id = new_permission_set(org)
    psl = org.one("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")["Id"]
    integration_user, _ = new_user(org)
    writes = [
        (lambda: client.create("User", user_values(profile_id(org, "Minimum Access - API Only Integrations"))),
         "Manage Internal Users (ManageInternalUsers)"),
        (lambda: client.create("PermissionSet", {"Name": "Refused_" + uuid.uuid4().hex[:6], "Label": "Refused"}),
         "Manage Profiles and Permission Sets (ManageProfilesPermissionsets)"),
        (lambda: client.rest("PATCH", f"sobjects/PermissionSet/{ps_id}", json={"Label": "Renamed"}),
         "Manage Profiles and Permission Sets (ManageProfilesPermissionsets)"),
        (lambda: client.create("ObjectPermissions", {"ParentId": ps_id, "SobjectType": "Account", "PermissionsRead": True}),
         "Manage Profiles and Permission Sets (ManageProfilesPermissionsets)"),
        (lambda: client.create("PermissionSetLicenseAssign", {"AssigneeId": integration_user,
                                                              "PermissionSetLicenseId": psl}),
         "Manage Users (ManageUsers)"),
        (lambda: client.create("PermissionSetAssignment", {"AssigneeId": integration_user, "PermissionSetId": ps_id}),
         "Assign Permission Sets (AssignPermissionSets)"),
    ]
    for write, permission in writes:
        refused_write(write(), permission)
    assert org.query(f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{integration_user}' "
                     "AND PermissionSet.IsOwnedByProfile = false")["totalSize"] == 0
    # Manage Users holds the others (its dependencies); a set with it opens every write above.
    granted = closure(["ManageUsers"])
    admin_set = new_permission_set(org, **{"Permissions" + name: True for name in granted})
    r = org.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": admin_set})
    assert r.status_code == 201, r.text
    for write, permission in writes:
        response = write()
        assert response.status_code in (201, 204), (permission, response.text)


# ---- the admin API that seeds history ---------------------------------------------------------------------------


def test_seed_users_in_bulk(org):
    prefix = "bulk" + uuid.uuid4().hex[:6]
    r = org.admin("POST", "users", json={"users": [{
        "username": prefix + ".{n}@example.test", "profile": "Standard User", "count": 30, "created_days_ago": 200,
        "last_login_days_ago": 100, "password": "Secret-12345", "password_changed_days_ago": 150}]})
    assert r.status_code == 200 and r.json()["inserted"] == 30, r.text
    users = org.query(f"SELECT Username, CreatedDate, LastLoginDate, LastPasswordChangeDate, Profile.Name FROM User "
                      f"WHERE Username LIKE '{prefix}.%'")["records"]
    assert len(users) == 30 and {u["Profile"]["Name"] for u in users} == {"Standard User"}
    assert all(u["CreatedDate"] < u["LastPasswordChangeDate"] < u["LastLoginDate"] for u in users)
    license = org.one("SELECT TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce'")
    assert license["UsedLicenses"] <= license["TotalLicenses"]  # seats were raised to fit
    login_as(org, prefix + ".7@example.test", "Secret-12345")


def test_seed_login_history_spread_and_last_login(org):
    user_id, username = new_user(org, "Standard User")
    r = org.admin("POST", "login_history", json={"rows": [
        {"username": username, "count": 10, "days_ago": [20, 2], "application": "Marketo_Integration"},
        {"username": username, "count": 3, "days_ago": 1, "status": "Invalid Password", "login_type": "Partner Product"}]})
    assert r.status_code == 200 and r.json() == {"inserted": 13}, r.text
    rows = org.query(f"SELECT LoginTime, LoginType, Status, Application, ApiType FROM LoginHistory "
                     f"WHERE UserId = '{user_id}' ORDER BY LoginTime")["records"]
    assert len(rows) == 13
    assert len({r["LoginTime"] for r in rows[:10]}) == 10  # spread over the range
    assert {(r["LoginType"], r["ApiType"]) for r in rows if r["Status"] == "Invalid Password"} == {
        ("Partner Product", "Soap Partner")}
    last = org.one(f"SELECT LastLoginDate FROM User WHERE Id = '{user_id}'")["LastLoginDate"]
    assert last == max(r["LoginTime"] for r in rows if r["Status"] == "Success")  # failures do not count


def test_seed_setup_audit_trail_rows(org):
    r = org.admin("POST", "setup_audit_trail", json={"rows": [
        {"action": "PermSetCreate", "section": "Manage Users", "display": "Created permission set Old One.",
         "days_ago": 10, "by": org.org["username"]}]})
    assert r.status_code == 200 and r.json() == {"inserted": 1}
    row = org.one("SELECT Action, CreatedBy.Username FROM SetupAuditTrail WHERE CreatedDate = N_DAYS_AGO:10")
    assert row["CreatedBy"]["Username"] == org.org["username"]


@pytest.mark.parametrize("what, body, words", [
    ("login_history", {"rows": [{"username": "nobody@example.test"}]}, "no user 'nobody@example.test'"),
    ("login_history", {"rows": [{"user_id": "005000000000000AAA", "login_type": "Fax"}]}, "no user"),
    ("users", {"users": [{"username": "x{n}@example.test", "profile": "No Such Profile", "count": 2}]},
     "no profile 'No Such Profile'"),
    ("users", {"users": [{"username": "not-an-email", "profile": "Standard User"}]}, "FIELD_INTEGRITY_EXCEPTION"),
    ("setup_audit_trail", {"rows": [{"display": "no action"}]}, "action is required"),
    ("login_history", {"rows": "x"}, "must be a list"),
])
def test_seeding_refuses_bad_input_and_writes_nothing(org, what, body, words):
    users_before = org.query("SELECT COUNT() FROM User")["totalSize"]
    r = org.admin("POST", what, json=body)
    assert r.status_code == 400 and words in r.json()["error"], r.text
    assert org.query("SELECT COUNT() FROM User")["totalSize"] == users_before


def test_seeded_history_belongs_to_its_org(org, other):
    assert other.query("SELECT COUNT() FROM SetupAuditTrail")["totalSize"] == 0
    _id, username = new_user(org, "Standard User", Username=unique_username("mine"))
    r = other.admin("POST", "login_history", json={"rows": [{"username": username}]})
    assert r.status_code == 400
