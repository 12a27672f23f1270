"""Answers in the shapes real orgs send (issue 16): error bodies, sObject Collections results, duplicate
assignments, the recycle bin and the create answer. Each expected body is one recorded from a real org by
another project (cited per test; docs/emulator.md "Wire shapes and transport")."""
from __future__ import annotations

from contract import API


def test_error_bodies_carry_fields_only_for_dml_errors(org1):
    # 3P amp-labs/connectors providers/salesforce/test/unknown-object.json and restforce
    # spec/fixtures/sobject/query_error_response.json: query errors have no fields key.
    query = org1.rest("GET", "query", params={"q": "SELECT Id FROM Nope"})
    assert query.status_code == 400 and set(query.json()[0]) == {"message", "errorCode"}
    # NOT_FOUND (an unknown sObject in the URL): no fields key.
    missing = org1.rest("GET", "sobjects/Nope/describe")
    assert missing.status_code == 404
    assert missing.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    # A body that is no JSON, and JSON of the wrong type: JSON_PARSER_ERROR without fields ([RESTREF] Composite
    # sample; 3P bodies "Cannot deserialize instance of ...").
    for body in (b"{not json", b'{"Name": "x", "AnnualRevenue": "lots"}'):
        parse = org1.rest("POST", "sobjects/Account", data=body, headers={"Authorization": f"Bearer {org1.token}",
                                                                           "Content-Type": "application/json"})
        assert parse.status_code == 400 and parse.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
        assert "fields" not in parse.json()[0]
    # An unknown field in a record body: 3P amp-labs unknown-field.json, exactly.
    unknown = org1.create("Account", {"Name": "x", "AccountNumberX": "1"})
    assert unknown.json() == [{"message": "No such column 'AccountNumberX' on sobject of type Account",
                               "errorCode": "INVALID_FIELD"}]
    # An Id in a create body (3P salesforce.stackexchange.com/questions/117370, a real org's answer).
    with_id = org1.create("Account", {"Id": "001000000000000AAA", "Name": "x"})
    assert with_id.status_code == 400
    assert with_id.json() == [{"message": "The Id field should not be specified in the sobject data.",
                               "errorCode": "INVALID_FIELD"}]
    # 405: no fields key (reference 2.3, forrest #191 body).
    user_id = org1.new_user()
    assert "fields" not in org1.rest("DELETE", f"sobjects/User/{user_id}").json()[0]
    # DML errors keep fields: INVALID_FIELD_FOR_INSERT_UPDATE (3P amp-labs invalid-field-upsert.json) and
    # REQUIRED_FIELD_MISSING.
    readonly = org1.create("Account", {"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert readonly.json()[0]["fields"] == ["CreatedDate"]
    assert org1.create("Contact", {"FirstName": "x"}).json()[0]["fields"] == ["LastName"]


def test_collections_failed_items_have_no_id_and_empty_lists_are_refused(org1):
    # 3P amp-labs/connectors providers/salesforce/test/batch/create/contacts/partial-but-allOrNone.json: a failed
    # item is {success, errors} with no id key, the rolled-back ones too.
    recs = [{"attributes": {"type": "Contact"}}, {"attributes": {"type": "Contact"}, "LastName": "Fine"}]
    rolled = org1.rest("POST", "composite/sobjects", json={"allOrNone": True, "records": recs}).json()
    assert rolled == [
        {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                       "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]},
        {"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                       "message": "Record rolled back because not all records were valid and the "
                                                  "request was using AllOrNone header", "fields": []}]}]
    # batch/create/contacts/err-bad-request.json: an empty list is a request error.
    empty = org1.rest("POST", "composite/sobjects", json={"allOrNone": False, "records": []})
    assert empty.status_code == 400
    assert empty.json() == [{"message": "At least 1 record is required", "errorCode": "REQUIRED_FIELD_MISSING"}]
    # And a delete without ids (3P restforce spec/fixtures/sobject/composite_sobjects_destroy_bad_request_response.json).
    no_ids = org1.rest("DELETE", "composite/sobjects", params={"ids": ""})
    assert no_ids.status_code == 400
    assert no_ids.json() == [{"message": "At least 1 Id is required.", "errorCode": "REQUIRED_FIELD_MISSING"}]
    # batch/update/contacts/partial-no-ids.json and partial-but-allOrNone.json: MISSING_ARGUMENT and an unknown
    # field carry fields [] inside a collection.
    contact_id = org1.create("Contact", {"LastName": "Kept"}).json()["id"]
    upd = [{"attributes": {"type": "Contact"}, "id": contact_id, "Title": "Ops"},
           {"attributes": {"type": "Contact"}, "Title": "no id"},
           {"attributes": {"type": "Contact"}, "id": contact_id, "unknownField_LastName": "x"}]
    partial = org1.rest("PATCH", "composite/sobjects", json={"allOrNone": False, "records": upd}).json()
    assert partial[0] == {"id": contact_id, "success": True, "errors": []}
    assert partial[1] == {"success": False, "errors": [{"statusCode": "MISSING_ARGUMENT",
                                                        "message": "Id not specified in an update call",
                                                        "fields": []}]}
    assert partial[2] == {"success": False, "errors": [{
        "statusCode": "INVALID_FIELD", "message": "No such column 'unknownField_LastName' on sobject of type Contact",
        "fields": []}]}


def test_duplicate_permission_set_assignment_as_a_real_org_words_it(org1):
    # 3P amp-labs/connectors providers/salesforce/test/metadata/write/err-duplicate-permission-assignment.json:
    # two spaces after the first period, 15-character ids, both fields named.
    user_id = org1.new_user()
    set_id = org1.create("PermissionSet", {"Name": "Dup_Assign_Shape", "Label": "Dup Assign Shape"}).json()["id"]
    first = org1.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetId": set_id})
    assert first.status_code == 201, first.text
    again = org1.create("PermissionSetAssignment", {"AssigneeId": user_id[:15], "PermissionSetId": set_id})
    assert again.status_code == 400
    assert again.json() == [{"message": f"Duplicate PermissionSetAssignment.  Assignee: {user_id[:15]}; "
                                        f"Permission Set: {set_id[:15]}",
                             "errorCode": "DUPLICATE_VALUE", "fields": ["AssigneeId", "PermissionSetId"]}]
    # Inside a collection the same error is a SaveResult error with statusCode.
    coll = org1.rest("POST", "composite/sobjects", json={"records": [
        {"attributes": {"type": "PermissionSetAssignment"}, "AssigneeId": user_id, "PermissionSetId": set_id}]})
    assert coll.json()[0]["errors"][0]["fields"] == ["AssigneeId", "PermissionSetId"]


def test_deleted_records_go_to_the_recycle_bin(org1):
    account_id = org1.create("Account", {"Name": "Recycled"}).json()["id"]
    assert org1.rest("DELETE", f"sobjects/Account/{account_id}").status_code == 204
    # 3P amp-labs/connectors providers/salesforce/test/crm/delete/not-found.json: the second DELETE, exactly.
    again = org1.rest("DELETE", f"sobjects/Account/{account_id}")
    assert again.status_code == 404
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    for method, kw in (("GET", {}), ("PATCH", {"json": {"Industry": "Retail"}})):
        r = org1.rest(method, f"sobjects/Account/{account_id}", **kw)
        assert r.status_code == 404 and r.json()[0]["errorCode"] == "ENTITY_IS_DELETED", (method, r.text)
    # [RESTREF] queryAll: deleted rows too, with IsDeleted true; query leaves them out.
    soql = f"SELECT Id, IsDeleted FROM Account WHERE Id = '{account_id}'"
    assert org1.query(soql)["totalSize"] == 0
    rows = org1.rest("GET", "queryAll", params={"q": soql}).json()["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(account_id, True)]
    # A collections delete of it: the same error as a SaveResult error.
    coll = org1.rest("DELETE", "composite/sobjects", params={"ids": account_id}).json()
    assert coll == [{"success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted",
                                                   "fields": []}]}]


def test_create_answers_201_with_a_location_header(org1):
    # 3P alpha-bytes/zs50-content lectures/week5.md: a real org's raw answer to POST /sobjects/Account.
    r = org1.create("Account", {"Name": "Located"})
    assert r.status_code == 201
    assert r.json() == {"id": r.json()["id"], "success": True, "errors": []}
    assert r.headers["Location"] == f"/services/data/{API}/sobjects/Account/{r.json()['id']}"
    assert org1.rest("GET", org1.url + r.headers["Location"]).json()["Name"] == "Located"
    # A composite subrequest carries the same header ([RESTREF Composite] sample).
    sub = org1.rest("POST", "composite", json={"compositeRequest": [
        {"method": "POST", "url": f"/services/data/{API}/sobjects/Contact", "referenceId": "c",
         "body": {"LastName": "Located"}}]}).json()["compositeResponse"][0]
    assert sub["httpHeaders"] == {"Location": f"/services/data/{API}/sobjects/Contact/{sub['body']['id']}"}


def test_polymorphic_lookups_read_the_name_object_and_typeof(org1):
    # [SOQL reference "Understanding Relationship Fields and Polymorphic Fields", "TYPEOF"; OBJREF Name]
    psl = org1.one("SELECT Id, MasterLabel FROM PermissionSetLicense WHERE DeveloperName = "
                   "'SalesforceAPIIntegrationPsl'")
    set_id = org1.create("PermissionSet", {"Name": "Poly_Licensed", "Label": "Poly Licensed",
                                           "LicenseId": psl["Id"]}).json()["id"]
    row = org1.one(f"SELECT Id, License.Name, License.Type, License.Id FROM PermissionSet WHERE Id = '{set_id}'")
    assert row["License"]["Name"] == "Salesforce API Integration"
    assert row["License"]["Type"] == "PermissionSetLicense" and row["License"]["Id"] == psl["Id"]
    assert row["License"]["attributes"]["url"].endswith(f"/sobjects/PermissionSetLicense/{psl['Id']}")
    # A filter on the Name object's fields works; a field the Name object lacks fails like on a real org.
    found = org1.query("SELECT Id FROM PermissionSet WHERE License.Name = 'Salesforce API Integration' "
                       f"AND Id = '{set_id}'")
    assert found["totalSize"] == 1
    bad = org1.rest("GET", "query", params={"q": "SELECT License.MasterLabel FROM PermissionSet"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'MasterLabel' on entity 'Name'" in bad.json()[0]["message"]
    # Owner: the creating user owns a record; Lead's owner can be a queue, so Owner is polymorphic there.
    lead_id = org1.create("Lead", {"LastName": "Poly", "FirstName": "Lee", "Company": "Acme"}).json()["id"]
    lead = org1.one(f"SELECT Name, Owner.Name, Owner.Username FROM Lead WHERE Id = '{lead_id}'")
    assert lead["Name"] == "Lee Poly"
    assert lead["Owner"]["Name"] == "Org1 Administrator" and lead["Owner"]["Username"] == org1.org["username"]
    assert lead["Owner"]["attributes"]["type"] == "Name"
    # [OBJREF Name]: its ProfileId and UserRoleId are relationship fields, so the path may go on from there.
    lead = org1.one(f"SELECT Owner.Profile.Name, Owner.UserRole.Name FROM Lead WHERE Id = '{lead_id}'")
    assert lead["Owner"]["Profile"]["Name"] == "System Administrator" and lead["Owner"]["UserRole"]["Name"] == "CEO"
    assert org1.rest("GET", "query", params={"q": "SELECT Owner.Department FROM Lead"}).status_code == 400
    account_id = org1.create("Account", {"Name": "Poly Account", "Phone": "555"}).json()["id"]
    assert org1.one(f"SELECT Owner.Profile.Name FROM Account WHERE Id = '{account_id}'")["Owner"]["Profile"][
        "Name"] == "System Administrator"  # Account's owner is a plain User lookup
    # TYPEOF: the branch of the parent's type, else the Name fields of ELSE, typed by the parent.
    org1.create("Task", {"Subject": "Call", "WhatId": account_id, "WhoId": lead_id})
    task = org1.one("SELECT Subject, TYPEOF What WHEN Account THEN Name, Phone WHEN Opportunity THEN Amount END, "
                    "TYPEOF Who WHEN Contact THEN Email ELSE Name, Type END FROM Task "
                    f"WHERE WhatId = '{account_id}'")
    assert task["What"]["attributes"]["type"] == "Account"
    assert {k: v for k, v in task["What"].items() if k != "attributes"} == {"Name": "Poly Account", "Phone": "555"}
    assert {k: v for k, v in task["Who"].items() if k != "attributes"} == {"Name": "Lee Poly", "Type": "Lead"}
    assert org1.one(f"SELECT Id FROM Task WHERE What.Type = 'Account' AND WhatId = '{account_id}'")
    not_poly = org1.rest("GET", "query", params={"q": "SELECT TYPEOF Account WHEN Account THEN Name END FROM Contact"})
    assert not_poly.status_code == 400 and not_poly.json()[0]["errorCode"] == "MALFORMED_QUERY"
