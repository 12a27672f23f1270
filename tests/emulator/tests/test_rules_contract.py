"""Platform rules, over raw HTTP, each against the doc it comes from (see docs/emulator.md)."""
from __future__ import annotations

import time
import uuid

import pytest
from contract import unique_username, user_values

INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"


def err(r):
    assert r.status_code == 400, r.text
    return r.json()[0]


def psl_id(org, dev="SalesforceAPIIntegrationPsl"):
    return org.one(f"SELECT Id FROM PermissionSetLicense WHERE DeveloperName = '{dev}'")["Id"]


def new_set(org, name=None, **values) -> str:
    import uuid
    name = name or f"Set_{uuid.uuid4().hex[:8]}"
    r = org.create("PermissionSet", dict({"Name": name, "Label": name.replace("_", " ")}, **values))
    assert r.status_code == 201, r.text
    return r.json()["id"]


# -- User [OBJREF User; reference 2.3, 3.1] ------------------------------------------------------------


def test_seeded_org_has_licenses_profiles_and_psl(org1, org3):
    seats = org3.one("SELECT TotalLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'")
    assert seats["TotalLicenses"] == 5
    lic = {r["Name"]: r for r in org1.query("SELECT Name, TotalLicenses, UsedLicenses FROM UserLicense")["records"]}
    assert lic["Salesforce"]["UsedLicenses"] >= 1
    psl = org1.one("SELECT MasterLabel, TotalLicenses, MaximumPermissionsApiEnabled, MaximumPermissionsModifyAllData "
                   "FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")
    assert psl["MasterLabel"] == "Salesforce API Integration" and psl["MaximumPermissionsApiEnabled"] is True
    prof = org1.one(f"SELECT UserLicense.Name, PermissionsApiEnabled, PermissionsApiUserOnly FROM Profile "
                    f"WHERE Name = '{INTEGRATION_PROFILE}'")
    assert prof["UserLicense"]["Name"] == "Salesforce Integration"
    assert prof["PermissionsApiEnabled"] is True and prof["PermissionsApiUserOnly"] is True
    names = {r["Name"] for r in org1.query("SELECT Name FROM Profile")["records"]}
    assert {"System Administrator", "Standard User", "Read Only", "Minimum Access - Salesforce",
            INTEGRATION_PROFILE} <= names


def test_every_user_has_profile_owned_assignment_and_userlogin(org1):
    uid = org1.new_user()
    rows = org1.query(f"SELECT PermissionSet.IsOwnedByProfile, PermissionSet.Name FROM PermissionSetAssignment "
                      f"WHERE AssigneeId = '{uid}'")["records"]
    assert len(rows) == 1 and rows[0]["PermissionSet"]["IsOwnedByProfile"] is True
    assert rows[0]["PermissionSet"]["Name"].startswith("X")
    login = org1.one(f"SELECT Id, IsFrozen FROM UserLogin WHERE UserId = '{uid}'")
    assert login["IsFrozen"] is False
    assert org1.rest("PATCH", f"sobjects/UserLogin/{login['Id']}", json={"IsFrozen": True}).status_code == 204
    assert org1.one(f"SELECT IsFrozen FROM UserLogin WHERE UserId = '{uid}'")["IsFrozen"] is True


def test_user_required_fields_and_value_rules(org1):
    pid = org1.one(f"SELECT Id FROM Profile WHERE Name = '{INTEGRATION_PROFILE}'")["Id"]
    e = err(org1.create("User", {"Username": unique_username(), "ProfileId": pid}))
    assert e["errorCode"] == "REQUIRED_FIELD_MISSING" and "LastName" in e["fields"] and "Alias" in e["fields"]
    e = err(org1.create("User", user_values(pid, Username="not-an-email")))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and e["fields"] == ["Username"]
    e = err(org1.create("User", user_values(pid, Alias="muchtoolong")))
    assert e == {"errorCode": "STRING_TOO_LONG", "message": "Alias: data value too large: muchtoolong (max length=8)",
                 "fields": ["Alias"]}
    e = err(org1.create("User", user_values(pid, TimeZoneSidKey="Mars/Olympus")))
    assert e["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" and e["fields"] == ["TimeZoneSidKey"]
    e = err(org1.create("User", user_values(pid, Email="nope")))
    assert e["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_username_unique_across_orgs_and_nickname_unique(org1, org2):
    name = unique_username("dup")
    org1.new_user(Username=name)
    pid2 = org2.one(f"SELECT Id FROM Profile WHERE Name = '{INTEGRATION_PROFILE}'")["Id"]
    e = err(org2.create("User", user_values(pid2, Username=name)))
    assert e["errorCode"] == "DUPLICATE_USERNAME" and e["fields"] == ["Username"]
    # Left out, it is generated as real orgs do: "User", the creation time in epoch milliseconds, 7 digits.
    before = int(time.time() * 1000)
    made = org1.new_user()
    nick = org1.one(f"SELECT CommunityNickname FROM User WHERE Id = '{made}'")["CommunityNickname"]
    assert nick.startswith("User") and len(nick) == 24 and nick[4:].isdigit()
    assert before - 5000 <= int(nick[4:17]) <= time.time() * 1000 + 5000
    org1.new_user(CommunityNickname="taken-nick")
    pid1 = org1.one(f"SELECT Id FROM Profile WHERE Name = '{INTEGRATION_PROFILE}'")["Id"]
    e = err(org1.create("User", user_values(pid1, CommunityNickname="taken-nick")))
    assert e["errorCode"] == "DUPLICATE_COMM_NICKNAME"


def test_license_seats_enforced_on_create_and_reactivation(org3):
    r = org3.admin("POST", "settings", json={"license_seats": {"Salesforce Integration": 1}})
    assert r.status_code == 200
    try:
        first = org3.new_user()
        pid = org3.one(f"SELECT Id FROM Profile WHERE Name = '{INTEGRATION_PROFILE}'")["Id"]
        e = err(org3.create("User", user_values(pid)))
        assert e["errorCode"] == "LICENSE_LIMIT_EXCEEDED" and "Salesforce Integration" in e["message"]
        assert org3.rest("PATCH", f"sobjects/User/{first}", json={"IsActive": False}).status_code == 204
        second = org3.new_user()  # the seat came free
        e = err(org3.rest("PATCH", f"sobjects/User/{first}", json={"IsActive": True}))
        assert e["errorCode"] == "LICENSE_LIMIT_EXCEEDED"
        org3.rest("PATCH", f"sobjects/User/{second}", json={"IsActive": False})
    finally:
        org3.admin("POST", "settings", json={"license_seats": {"Salesforce Integration": 5}})


# -- PermissionSet [OBJREF PermissionSet; reference 3.5] -------------------------------------------------


@pytest.mark.parametrize("name", ["1starts_with_digit", "has space", "double__underscore", "trailing_"])
def test_permission_set_name_rules(org1, name):
    e = err(org1.create("PermissionSet", {"Name": name, "Label": "x"}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and e["fields"] == ["Name"]


def test_permission_set_name_unique_and_license_create_only(org1):
    ps = new_set(org1, "Unique_Name_Set", LicenseId=psl_id(org1))
    e = err(org1.create("PermissionSet", {"Name": "unique_name_set", "Label": "again"}))
    assert e["errorCode"] == "DUPLICATE_DEVELOPER_NAME" and e["fields"] == ["Name"]  # 3P CumulusCI#3045
    e = err(org1.rest("PATCH", f"sobjects/PermissionSet/{ps}", json={"LicenseId": None}))
    assert e["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and e["fields"] == ["LicenseId"]
    row = org1.one(f"SELECT PermissionsApiEnabled, LicenseId FROM PermissionSet WHERE Id = '{ps}'")
    assert row["PermissionsApiEnabled"] is True  # switched on by the PSL (reference 3.12)


def test_permissions_the_license_does_not_allow_are_refused(org1):
    e = err(org1.create("PermissionSet", {"Name": "Too_Much", "Label": "Too much", "LicenseId": psl_id(org1),
                                          "PermissionsManageRoles": True}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and "Manage Roles" in e["message"]


def test_system_permission_dependencies(org1):
    e = err(org1.create("PermissionSet", {"Name": "Deps", "Label": "Deps", "PermissionsModifyMetadata": True}))
    assert "depends on permission(s)" in e["message"] and "View Setup" in e["message"]


def test_profile_owned_permission_sets_are_read_only(org1):
    owned = org1.one("SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true AND Profile.Name = 'Standard User'")
    r = org1.rest("PATCH", f"sobjects/PermissionSet/{owned['Id']}", json={"Description": "x"})
    assert r.status_code == 400
    r = org1.create("ObjectPermissions", {"ParentId": owned["Id"], "SobjectType": "Invoice__c",
                                          "PermissionsRead": True})
    assert r.status_code == 400


def test_object_permission_dependencies_and_all_false_rows_vanish(org1):
    ps = new_set(org1, LicenseId=psl_id(org1))
    e = err(org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Lead", "PermissionsEdit": True}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert e["message"] == "Permission Edit Lead depends on permission(s): Read Lead"
    e = err(org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Lead", "PermissionsRead": True,
                                              "PermissionsModifyAllRecords": True}))
    assert "Edit Lead" in e["message"] and "View All Lead" in e["message"]
    op = org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Lead", "PermissionsRead": True})
    assert op.status_code == 201
    assert org1.rest("PATCH", f"sobjects/ObjectPermissions/{op.json()['id']}",
                     json={"PermissionsRead": False}).status_code == 204
    assert org1.query(f"SELECT COUNT() FROM ObjectPermissions WHERE ParentId = '{ps}'")["totalSize"] == 0
    e = err(org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Nope__c", "PermissionsRead": True}))
    assert e["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_field_permission_rules(org1):
    ps = new_set(org1, LicenseId=psl_id(org1))
    e = err(org1.create("FieldPermissions", {"ParentId": ps, "SobjectType": "Account", "Field": "Account.CreatedDate",
                                             "PermissionsRead": True}))
    assert e == {"errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["Field"],
                 "message": "Field Name: bad value for restricted picklist field: Account.CreatedDate"}
    e = err(org1.create("FieldPermissions", {"ParentId": ps, "SobjectType": "Invoice__c",
                                             "Field": "Invoice__c.Paid__c", "PermissionsEdit": True}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    e = err(org1.create("FieldPermissions", {"ParentId": ps, "SobjectType": "Invoice__c",
                                             "Field": "Invoice__c.Days_Overdue__c", "PermissionsRead": True,
                                             "PermissionsEdit": True}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    ok = org1.create("FieldPermissions", {"ParentId": ps, "SobjectType": "Contact", "Field": "Contact.Account",
                                          "PermissionsRead": True})
    assert ok.status_code == 201, ok.text
    assert org1.one(f"SELECT Field FROM FieldPermissions WHERE Id = '{ok.json()['id']}'")["Field"] == \
        "Contact.AccountId"


# -- Assignments [OBJREF PermissionSetAssignment; reference 3.4, 3.8, 3.12] -------------------------------


def test_psl_licensed_set_assigns_its_psl_and_duplicates_are_refused(org1):
    uid = org1.new_user()
    ps = new_set(org1, LicenseId=psl_id(org1))
    org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Lead", "PermissionsRead": True})
    r = org1.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps})
    assert r.status_code == 201, r.text
    held = org1.query(f"SELECT PermissionSetLicense.DeveloperName FROM PermissionSetLicenseAssign "
                      f"WHERE AssigneeId = '{uid}'")["records"]
    assert [h["PermissionSetLicense"]["DeveloperName"] for h in held] == ["SalesforceAPIIntegrationPsl"]
    e = err(org1.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps}))
    assert e["errorCode"] == "DUPLICATE_VALUE"
    assert e == {"message": f"Duplicate PermissionSetAssignment.  Assignee: {uid[:15]}; Permission Set: {ps[:15]}",
                 "errorCode": "DUPLICATE_VALUE", "fields": ["AssigneeId", "PermissionSetId"]}  # a real org's form
    e = err(org1.create("PermissionSetLicenseAssign", {"AssigneeId": uid, "PermissionSetLicenseId": psl_id(org1)}))
    assert e["errorCode"] == "DUPLICATE_VALUE" and e["message"].startswith("duplicate value found")


def test_unlicensed_set_with_standard_objects_needs_the_psl_first(org1):
    uid = org1.new_user()
    ps = new_set(org1)
    org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Account", "PermissionsRead": True})
    e = err(org1.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert e["message"] == "The user license doesn't allow the permission: Read Account"
    assert org1.create("PermissionSetLicenseAssign", {"AssigneeId": uid,
                                                      "PermissionSetLicenseId": psl_id(org1)}).status_code == 201
    assert org1.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps}).status_code == 201
    # ...and the PSL cannot go first while that set is assigned; removing the set first frees it.
    psla = org1.one(f"SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = '{uid}'")["Id"]
    e = err(org1.rest("DELETE", f"sobjects/PermissionSetLicenseAssign/{psla}"))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and "Read Account" in e["message"]
    psa = org1.one(f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{uid}' AND PermissionSetId = '{ps}'")
    assert org1.rest("DELETE", f"sobjects/PermissionSetAssignment/{psa['Id']}").status_code == 204
    assert org1.rest("DELETE", f"sobjects/PermissionSetLicenseAssign/{psla}").status_code == 204


def test_psl_not_supported_by_user_license(org1):
    uid = org1.new_user(profile="Standard User")
    e = err(org1.create("PermissionSetLicenseAssign", {"AssigneeId": uid, "PermissionSetLicenseId": psl_id(org1)}))
    assert e["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and "user license doesn't support it" in e["message"]


def test_psl_seats(org3):
    org3.admin("POST", "settings", json={"license_seats": {"SalesforceAPIIntegrationPsl": 0}})
    try:
        uid = org3.new_user()
        ps = new_set(org3, LicenseId=psl_id(org3))
        e = err(org3.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps}))
        assert e["errorCode"] == "LICENSE_LIMIT_EXCEEDED"
        assert e["message"].startswith("All Salesforce API Integration permission set licenses are in use.")
        org3.rest("PATCH", f"sobjects/User/{uid}", json={"IsActive": False})
    finally:
        org3.admin("POST", "settings", json={"license_seats": {"SalesforceAPIIntegrationPsl": 5}})


def test_assigned_set_cannot_be_deleted_nor_grow_beyond_the_license(org1):
    uid = org1.new_user()
    ps = new_set(org1)
    org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Invoice__c", "PermissionsRead": True})
    psa = org1.create("PermissionSetAssignment", {"AssigneeId": uid, "PermissionSetId": ps})
    assert psa.status_code == 201, psa.text
    e = err(org1.rest("DELETE", f"sobjects/PermissionSet/{ps}"))
    assert "assigned" in e["message"]
    e = err(org1.create("ObjectPermissions", {"ParentId": ps, "SobjectType": "Account", "PermissionsRead": True}))
    assert e["message"].startswith("Can't save permission set")
    assert org1.rest("DELETE", f"sobjects/PermissionSetAssignment/{psa.json()['id']}").status_code == 204
    assert org1.rest("DELETE", f"sobjects/PermissionSet/{ps}").status_code == 204


def test_profile_owned_assignment_cannot_be_removed(org1):
    uid = org1.new_user()
    owned = org1.one(f"SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = '{uid}'")
    assert org1.rest("DELETE", f"sobjects/PermissionSetAssignment/{owned['Id']}").status_code == 400


# -- settings and admin API --------------------------------------------------------------------------------


def test_mfa_for_api_logins_is_the_two_factor_api_permission(org3):
    assert org3.admin("POST", "settings", json={"mfa_for_api_logins": True}).status_code == 200
    try:
        rows = org3.query("SELECT Name FROM Profile WHERE PermissionsTwoFactorApi = true")["records"]
        assert INTEGRATION_PROFILE in {r["Name"] for r in rows}
    finally:
        org3.admin("POST", "settings", json={"mfa_for_api_logins": False})
    assert org3.query("SELECT COUNT() FROM Profile WHERE PermissionsTwoFactorApi = true")["totalSize"] == 0


def test_request_log_counts_and_clears(org2):
    assert org2.admin("DELETE", "requests").status_code == 200
    org2.query("SELECT Id FROM Organization")
    org2.create("Account", {"Name": "logged"})
    log = org2.requests_log()
    assert [(r["method"], r["status"]) for r in log] == [("GET", 200), ("POST", 201)]
    assert log[0]["path"].endswith("/query") and log[1]["writes"] == 1 and log[0]["writes"] == 0


@pytest.mark.parametrize("kind,status,code", [("unable_to_lock_row", 400, "UNABLE_TO_LOCK_ROW"),
                                              ("service_unavailable", 503, None),
                                              ("request_limit", 403, "REQUEST_LIMIT_EXCEEDED")])
def test_faults_for_next_request(org2, kind, status, code):
    assert org2.admin("POST", "faults", json={"kind": kind, "count": 1}).status_code == 200
    r = org2.rest("GET", "limits")
    assert r.status_code == status
    if code:
        assert r.json()[0]["errorCode"] == code
    assert org2.rest("GET", "limits").status_code == 200


def test_expire_session_fault_then_relogin(org2):
    org2.admin("POST", "faults", json={"kind": "expire_session", "count": 1})
    r = org2.rest("GET", "limits")
    assert r.status_code == 401 and r.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert org2.rest("GET", "limits").status_code == 401  # the token stays dead
    org2.token = org2.login()
    assert org2.rest("GET", "limits").status_code == 200


def test_drop_connection_after_the_write(org2):
    import requests
    org2.admin("POST", "faults", json={"kind": "drop_connection", "count": 1, "method": "POST", "when": "after"})
    with pytest.raises(requests.exceptions.ConnectionError):
        org2.create("Account", {"Name": "Dropped reply"})
    assert org2.query("SELECT COUNT() FROM Account WHERE Name = 'Dropped reply'")["totalSize"] == 1


def test_concurrent_write_carries_out_the_same_request_first(org2):
    name = "Set_Concurrent_%s" % uuid.uuid4().hex[:8]
    org2.admin("DELETE", "requests")
    org2.admin("POST", "faults", json={"kind": "concurrent_write", "count": 1, "method": "POST",
                                       "body_contains": name})
    assert org2.rest("GET", "limits").status_code == 200  # no match: left alone
    r = org2.create("PermissionSet", {"Name": name, "Label": name.replace("_", " ")})
    # the other client's identical create came first: its label and its name are taken
    assert [e["errorCode"] for e in r.json()] == ["DUPLICATE_MASTER_LABEL", "DUPLICATE_DEVELOPER_NAME"], r.text
    assert org2.query(f"SELECT COUNT() FROM PermissionSet WHERE Name = '{name}'")["totalSize"] == 1
    log = org2.admin("GET", "requests").json()["requests"]
    assert [(e["kind"], e["status"], e["writes"]) for e in log if e["method"] == "POST"][-2:] == [
        ("fault", 201, 1), ("rest", 400, 0)]
    assert org2.create("PermissionSet", {"Name": name + "2", "Label": name + " alone"}).status_code == 201  # fired once


def test_probability_faults_are_seeded(org2):
    org2.admin("POST", "faults", json={"kind": "service_unavailable", "probability": 0.5, "seed": 7})
    first = [org2.rest("GET", "limits").status_code for _ in range(12)]
    org2.admin("DELETE", "faults")
    org2.admin("POST", "faults", json={"kind": "service_unavailable", "probability": 0.5, "seed": 7})
    second = [org2.rest("GET", "limits").status_code for _ in range(12)]
    org2.admin("DELETE", "faults")
    assert first == second and 503 in first and 200 in first
