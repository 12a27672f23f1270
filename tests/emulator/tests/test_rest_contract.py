"""REST contract: routes, shapes and status codes from the REST API Developer Guide (reference 2)."""
from __future__ import annotations

from contract import API, user_values


def test_versions_cover_52_to_66(org1):
    r = org1.http.get(f"{org1.url}/services/data/")
    assert r.status_code == 200
    versions = [v["version"] for v in r.json()]
    assert versions[0] == "52.0" and versions[-1] == "66.0" and len(versions) == 15


def test_unknown_version_is_not_found(org1):
    r = org1.rest("GET", f"{org1.url}/services/data/v51.0/limits")
    assert r.status_code == 404
    assert r.json()[0]["errorCode"] == "NOT_FOUND"


def test_bad_token_is_401_array(org1):
    r = org1.rest("GET", "limits", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_limits_fall_with_every_request_and_header_reports_usage(org1):
    first = org1.rest("GET", "limits/")
    second = org1.rest("GET", "limits")
    assert first.status_code == second.status_code == 200
    a, b = first.json()["DailyApiRequests"], second.json()["DailyApiRequests"]
    assert b["Max"] == a["Max"] and b["Remaining"] == a["Remaining"] - 1
    used, total = second.headers["Sforce-Limit-Info"].removeprefix("api-usage=").split("/")
    assert int(total) == a["Max"] and int(used) == a["Max"] - b["Remaining"]


def test_query_shape_parent_fields_and_null_child_subquery(org1):
    body = org1.query("SELECT Id, Username, Profile.Name, (SELECT Id FROM PermissionSetLicenseAssignments) "
                      f"FROM User WHERE Username = '{org1.org['username']}'")
    assert body["totalSize"] == 1 and body["done"] is True
    rec = body["records"][0]
    assert rec["attributes"] == {"type": "User", "url": f"/services/data/{API}/sobjects/User/{rec['Id']}"}
    assert rec["Profile"]["Name"] == "System Administrator"
    assert rec["PermissionSetLicenseAssignments"] is None


def test_query_with_trailing_slash_and_query_all(org1):
    assert org1.rest("GET", "query/", params={"q": "SELECT Id FROM Organization"}).json()["totalSize"] == 1
    r = org1.rest("GET", "queryAll", params={"q": "SELECT COUNT() FROM Profile"})
    assert r.status_code == 200 and r.json()["totalSize"] >= 5 and r.json()["records"] == []


def test_query_errors(org1):
    cases = {"SELECT Id FROM Nope": "INVALID_TYPE", "SELECT Nope FROM User": "INVALID_FIELD",
             "SELECT FROM User": "MALFORMED_QUERY"}
    for soql, code in cases.items():
        r = org1.rest("GET", "query", params={"q": soql})
        assert r.status_code == 400, soql
        assert r.json()[0]["errorCode"] == code, (soql, r.text)


def test_pagination_honours_batch_size(org1):
    ids = [org1.create("Account", {"Name": f"Paged {i}"}).json()["id"] for i in range(205)]
    assert len(set(ids)) == 205
    r = org1.rest("GET", "query", params={"q": "SELECT Id FROM Account WHERE Name LIKE 'Paged %'"},
                  headers={"Authorization": f"Bearer {org1.token}", "Sforce-Query-Options": "batchSize=200"})
    first = r.json()
    assert first["totalSize"] == 205 and first["done"] is False and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith(f"/services/data/{API}/query/")
    second = org1.rest("GET", org1.url + first["nextRecordsUrl"]).json()
    assert second["done"] is True and len(second["records"]) == 5 and "nextRecordsUrl" not in second
    assert {x["Id"] for x in first["records"] + second["records"]} == set(ids)


def test_sobject_create_get_update_delete(org1):
    r = org1.create("Account", {"Name": "Acme"})
    assert r.status_code == 201
    body = r.json()
    assert body["success"] is True and body["errors"] == [] and body["id"].startswith("001") and len(body["id"]) == 18
    got = org1.rest("GET", f"sobjects/Account/{body['id']}", params={"fields": "Name,Industry"})
    assert got.status_code == 200 and got.json()["Name"] == "Acme" and got.json()["Industry"] is None
    upd = org1.rest("PATCH", f"sobjects/Account/{body['id']}", json={"Industry": "Banking"})
    assert upd.status_code == 204 and upd.content == b""
    assert org1.rest("GET", f"sobjects/Account/{body['id']}").json()["Industry"] == "Banking"
    assert org1.rest("DELETE", f"sobjects/Account/{body['id']}/").status_code == 204
    deleted = org1.rest("GET", f"sobjects/Account/{body['id']}")  # in the recycle bin (reference 2.3)
    assert deleted.status_code == 404 and deleted.json()[0]["errorCode"] == "ENTITY_IS_DELETED"
    never = org1.rest("GET", f"sobjects/Account/{body['id'][:3]}Hz000000zzzzAAA")
    assert never.status_code == 404 and never.json()[0]["errorCode"] == "NOT_FOUND"


def test_required_fields_unknown_field_and_non_createable(org1):
    r = org1.create("Contact", {"FirstName": "No last name"})
    assert r.status_code == 400
    assert r.json()[0] == {"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING",
                           "fields": ["LastName"]}
    r = org1.create("Account", {"Name": "x", "Bogus__c": 1})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = org1.create("Account", {"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert r.json()[0]["fields"] == ["CreatedDate"]


def test_describe_global_and_object(org1):
    g = org1.rest("GET", "sobjects/").json()
    names = {o["name"] for o in g["sobjects"]}
    assert {"User", "PermissionSet", "ObjectPermissions", "FieldPermissions", "Invoice__c", "Lead"} <= names
    d = org1.rest("GET", "sobjects/Invoice__c/describe").json()
    fields = {f["name"]: f for f in d["fields"]}
    assert fields["Paid__c"]["permissionable"] is True and fields["Paid__c"]["updateable"] is True
    assert fields["Days_Overdue__c"]["calculated"] is True and fields["Days_Overdue__c"]["updateable"] is False
    assert fields["Amount__c"]["nillable"] is False and fields["Amount__c"]["permissionable"] is False
    assert fields["Id"]["permissionable"] is False
    ps = org1.rest("GET", "sobjects/PermissionSet/describe").json()
    assert {c["relationshipName"] for c in ps["childRelationships"]} >= {"Assignments", "ObjectPerms", "FieldPerms"}
    lic = {f["name"]: f for f in ps["fields"]}["LicenseId"]
    assert lic["createable"] is True and lic["updateable"] is False
    assert org1.rest("GET", "sobjects/Nope/describe").status_code == 404


def test_user_cannot_be_deleted(org1):
    uid = org1.new_user()
    r = org1.rest("DELETE", f"sobjects/User/{uid}")
    assert r.status_code == 405
    assert r.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert "Allowed are HEAD,GET,PATCH" in r.json()[0]["message"]


def test_user_password_resource(org1):
    uid = org1.new_user()
    assert org1.rest("GET", f"sobjects/User/{uid}/password").json() == {"isExpired": False}
    weak = org1.rest("POST", f"sobjects/User/{uid}/password", json={"NewPassword": "short"})
    assert weak.status_code == 400 and weak.json()[0]["errorCode"] == "INVALID_NEW_PASSWORD"
    ok = org1.rest("POST", f"sobjects/User/{uid}/password", json={"NewPassword": "Long-enough-123"})
    assert ok.status_code == 204 and ok.content == b""
    reset = org1.rest("DELETE", f"sobjects/User/{uid}/password")
    assert reset.status_code == 200 and reset.json()["NewPassword"]


def test_composite_references_and_all_or_none(org1):
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"/services/data/{API}/sobjects/Account", "referenceId": "acc",
         "body": {"Name": "Composite parent"}},
        {"method": "POST", "url": f"/services/data/{API}/sobjects/Contact", "referenceId": "con",
         "body": {"LastName": "Child", "AccountId": "@{acc.id}"}},
        {"method": "GET", "url": f"/services/data/{API}/sobjects/Contact/@{{con.id}}?fields=AccountId",
         "referenceId": "read"}]}
    r = org1.rest("POST", "composite", json=body)
    assert r.status_code == 200
    out = r.json()["compositeResponse"]
    assert [o["httpStatusCode"] for o in out] == [201, 201, 200]
    assert out[2]["body"]["AccountId"] == out[0]["body"]["id"]

    body["compositeRequest"][1]["body"] = {"FirstName": "no last name", "AccountId": "@{acc.id}"}
    before = org1.query("SELECT COUNT() FROM Account")["totalSize"]
    r = org1.rest("POST", "composite", json=body)
    assert r.status_code == 200
    out = r.json()["compositeResponse"]
    assert out[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert out[0]["body"][0]["errorCode"] == "PROCESSING_HALTED" and out[0]["httpStatusCode"] == 400
    assert out[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert org1.query("SELECT COUNT() FROM Account")["totalSize"] == before  # rolled back


def test_composite_limits_and_bad_headers(org1):
    too_many = [{"method": "GET", "url": f"/services/data/{API}/limits", "referenceId": f"r{i}"} for i in range(26)]
    r = org1.rest("POST", "composite", json={"compositeRequest": too_many})
    assert r.status_code == 400
    bad = [{"method": "GET", "url": f"/services/data/{API}/limits", "referenceId": "a",
            "httpHeaders": {"Authorization": "Bearer x"}}]
    assert org1.rest("POST", "composite", json={"compositeRequest": bad}).status_code == 400


def test_composite_without_all_or_none_halts_only_dependants(org1):
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "POST", "url": f"/services/data/{API}/sobjects/Contact", "referenceId": "bad",
         "body": {"FirstName": "x"}},
        {"method": "GET", "url": f"/services/data/{API}/sobjects/Contact/@{{bad.id}}", "referenceId": "dep"},
        {"method": "POST", "url": f"/services/data/{API}/sobjects/Account", "referenceId": "ok",
         "body": {"Name": "Independent"}}]}
    out = org1.rest("POST", "composite", json=body).json()["compositeResponse"]
    assert [o["httpStatusCode"] for o in out] == [400, 400, 201]
    assert out[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_collections_create_update_delete_and_all_or_none(org1):
    recs = [{"attributes": {"type": "Account"}, "Name": f"Coll {i}"} for i in range(3)]
    r = org1.rest("POST", "composite/sobjects", json={"allOrNone": True, "records": recs})
    assert r.status_code == 200
    ids = [x["id"] for x in r.json()]
    assert all(x["success"] for x in r.json())
    upd = [{"attributes": {"type": "Account"}, "id": i, "Industry": "Retail"} for i in ids]
    assert all(x["success"] for x in org1.rest("PATCH", "composite/sobjects", json={"records": upd}).json())
    got = org1.rest("GET", "composite/sobjects/Account", params={"ids": ",".join(ids), "fields": "Industry"}).json()
    assert [g["Industry"] for g in got] == ["Retail"] * 3

    bad = recs[:1] + [{"attributes": {"type": "Account"}}]
    res = org1.rest("POST", "composite/sobjects", json={"allOrNone": True, "records": bad}).json()
    assert res[0]["success"] is False and res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert res[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    partial = org1.rest("POST", "composite/sobjects", json={"allOrNone": False, "records": bad}).json()
    assert partial[0]["success"] is True and partial[1]["success"] is False

    dele = org1.rest("DELETE", "composite/sobjects", params={"ids": ",".join(ids), "allOrNone": "true"})
    assert [x["success"] for x in dele.json()] == [True, True, True]


def test_collections_limit_of_200(org1):
    recs = [{"attributes": {"type": "Account"}, "Name": f"x{i}"} for i in range(201)]
    r = org1.rest("POST", "composite/sobjects", json={"records": recs})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_refuse_mixed_types_with_setup_objects(org1):
    profile_id = org1.one("SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")["Id"]
    recs = [dict(user_values(profile_id), attributes={"type": "User"}),
            {"attributes": {"type": "Account"}, "Name": "mixed"}]
    r = org1.rest("POST", "composite/sobjects", json={"records": recs})
    assert r.status_code == 400
