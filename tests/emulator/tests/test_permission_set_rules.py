"""Rules sf_permission_set and sf_profile rely on, over raw HTTP, each against its doc."""
from __future__ import annotations

import uuid

from contract import API

PREFIX = f"/services/data/{API}"


def composite(org, subrequests, all_or_none):
    r = org.rest("POST", "composite", json={"allOrNone": all_or_none, "compositeRequest": subrequests})
    assert r.status_code == 200, r.text
    return {item["referenceId"]: item for item in r.json()["compositeResponse"]}


def set_with_bad_child(name):
    """A new permission set and, in one collections subrequest, a good and a bad ObjectPermissions row."""
    rows = [{"attributes": {"type": "ObjectPermissions"}, "ParentId": "@{newSet.id}", "SobjectType": sobject,
             "PermissionsRead": True} for sobject in ("Invoice__c", "NoSuchObject__c")]
    return [
        {"method": "POST", "url": f"{PREFIX}/sobjects/PermissionSet/", "referenceId": "newSet",
         "body": {"Name": name, "Label": name}},
        {"method": "POST", "url": f"{PREFIX}/composite/sobjects", "referenceId": "children",
         "body": {"allOrNone": False, "records": rows}},
    ]


def test_outer_all_or_none_rolls_back_for_a_failed_collection_record(org1):
    # [RESTREF "allOrNone Parameters in Composite and Collections Requests"]: with the composite's
    # allOrNone true, all-or-none applies to its collections subrequests too: one bad record rolls back
    # the whole composite request, the permission set included.
    name = f"Atomic_{uuid.uuid4().hex[:8]}"
    out = composite(org1, set_with_bad_child(name), all_or_none=True)
    assert out["newSet"]["httpStatusCode"] == 400
    assert out["newSet"]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    results = out["children"]["body"]
    assert [r["success"] for r in results] == [False, False]
    assert results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert org1.query(f"SELECT Id FROM PermissionSet WHERE Name = '{name}'")["totalSize"] == 0


def test_without_outer_all_or_none_the_collection_decides(org1):
    name = f"Partial_{uuid.uuid4().hex[:8]}"
    out = composite(org1, set_with_bad_child(name), all_or_none=False)
    assert out["newSet"]["httpStatusCode"] == 201
    assert [r["success"] for r in out["children"]["body"]] == [True, False]
    rows = org1.query(f"SELECT SobjectType FROM ObjectPermissions WHERE Parent.Name = '{name}'")["records"]
    assert [r["SobjectType"] for r in rows] == ["Invoice__c"]


def test_profile_owned_set_tells_custom_from_standard_profiles(org1):
    # PermissionSet.IsCustom (API v39+): on a profile-owned set it is true for custom profiles only,
    # the usual way to tell them apart, as Profile has no IsCustom field (3P: salesforce.stackexchange.com/a/38452).
    license = org1.one("SELECT Id FROM UserLicense WHERE Name = 'Salesforce Integration'")["Id"]
    name = f"Custom {uuid.uuid4().hex[:8]}"
    r = org1.create("Profile", {"Name": name, "UserLicenseId": license})
    assert r.status_code == 201, r.text
    custom = org1.one(f"SELECT IsCustom FROM PermissionSet WHERE IsOwnedByProfile = true AND Profile.Name = '{name}'")
    standard = org1.one("SELECT IsCustom FROM PermissionSet WHERE IsOwnedByProfile = true "
                        "AND Profile.Name = 'System Administrator'")
    assert custom["IsCustom"] is True and standard["IsCustom"] is False


def test_api_enabled_stays_on_in_a_set_licensed_by_the_api_integration_psl(org1):
    """Reference 3.12 / seed 004: API Enabled is built into such a set; an update cannot switch it off."""
    psl = org1.one("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'")["Id"]
    name = "Api_On_" + uuid.uuid4().hex[:8]
    created = org1.create("PermissionSet", {"Name": name, "Label": name, "LicenseId": psl})
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    assert org1.rest("PATCH", f"sobjects/PermissionSet/{set_id}", json={"PermissionsApiEnabled": False}).status_code == 204
    assert org1.one(f"SELECT PermissionsApiEnabled FROM PermissionSet WHERE Id = '{set_id}'")["PermissionsApiEnabled"]


def test_a_taken_label_and_api_name_are_both_reported(org1):
    """A real org's answer when both are taken (3P SFDO-Tooling/CumulusCI#3045): the label error, then the name's."""
    name = "Taken_" + uuid.uuid4().hex[:8]
    assert org1.create("PermissionSet", {"Name": name, "Label": name}).status_code == 201
    label_error = {"message": "The label you entered is in use. Enter a unique label.",
                   "errorCode": "DUPLICATE_MASTER_LABEL", "fields": ["Label"]}
    name_error = {"message": "The API name you entered is already in use. Enter a unique API name.",
                  "errorCode": "DUPLICATE_DEVELOPER_NAME", "fields": ["Name"]}
    both = org1.create("PermissionSet", {"Name": name, "Label": name})
    assert both.status_code == 400 and both.json() == [label_error, name_error]
    assert org1.create("PermissionSet", {"Name": name + "_2", "Label": name}).json() == [label_error]
    assert org1.create("PermissionSet", {"Name": name, "Label": name + " 2"}).json() == [name_error]
    # In sObject Collections the record's SaveResult lists both.
    r = org1.rest("POST", "composite/sobjects", json={"allOrNone": False, "records": [
        {"attributes": {"type": "PermissionSet"}, "Name": name, "Label": name}]})
    assert r.json()[0]["errors"] == [{"statusCode": e["errorCode"], "message": e["message"], "fields": e["fields"]}
                                     for e in (label_error, name_error)]
