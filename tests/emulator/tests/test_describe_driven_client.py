"""A client that drives its work from describe works on the emulator as on an org (issue 16 item 7).

For each object the collection uses, this test knows nothing but what describe says: the global describe lists it;
every field its describe lists can be selected in SOQL; where the global describe says the object is createable, a
record built only from describe (the createable fields that are neither nillable nor defaulted on create, with values
from their type, length, picklist values and reference targets) is created through REST and read back through every
field, with the values it was given. Where describe says an object is not createable, REST refuses to create it.
"""
from __future__ import annotations

import uuid

import pytest

# The objects the collection reads or writes (plugins/), in an order where a reference can use a record made before.
OBJECTS = ("Organization", "UserLicense", "Profile", "UserRole", "User", "UserLogin", "PermissionSetLicense",
           "PermissionSet", "PermissionSetAssignment", "PermissionSetLicenseAssign", "PermissionSetGroup",
           "PermissionSetGroupComponent", "ObjectPermissions", "FieldPermissions", "LoginHistory", "SetupAuditTrail",
           "ExternalClientApplication")

# What describe cannot say, so a client fills these in too: an assignment names a permission set or a permission set
# group, so both are nillable in a real org's describe (3P jawills/jira-sf-integration
# .sfdx/tools/soqlMetadata/standardObjects/PermissionSetAssignment.json) and one of them is needed; an object or field
# permission row that grants nothing is deleted by the platform (salesforce_api.md §3.6), so it grants Read.
ALSO = {"PermissionSetAssignment": "PermissionSetId", "ObjectPermissions": "PermissionsRead",
        "FieldPermissions": "PermissionsRead"}


# Rules on the org's data that describe cannot show either, with the error code a real org answers: a permission
# set license assignment needs a license the user's user license supports (salesforce_api.md §3.8, "Missing
# license"); the first license the client picks need not be one.
DATA_RULES = {"PermissionSetLicenseAssign": "FIELD_INTEGRITY_EXCEPTION"}


def value_for(field: dict, client, made: dict):
    """A value for one field, from describe alone."""
    kind, length = field["type"], field["length"] or 40
    token = "d" + uuid.uuid4().hex
    if field["picklistValues"]:
        active = [p for p in field["picklistValues"] if p["active"]]
        default = [p for p in active if p["defaultValue"]]
        return (default or active)[0]["value"]
    if kind == "reference":
        for target in field["referenceTo"]:
            if target in made:
                return made[target]
        for target in field["referenceTo"]:
            rows = client.query(f"SELECT Id FROM {target} LIMIT 1")["records"]
            if rows:
                return rows[0]["Id"]
        pytest.fail(f"no record of {field['referenceTo']} for {field['name']}")
    if kind == "email" or field["name"] == "Username":  # a username is e-mail shaped; describe types it string
        return (token[:20] + "@example.test")
    if kind in ("string", "textarea", "combobox", "phone", "url", "encryptedstring"):
        return token[:max(1, min(length, 30))]
    if kind == "boolean":
        return True
    if kind in ("int", "double", "currency", "percent"):
        return 1
    if kind == "date":
        return "2026-01-02"
    if kind == "datetime":
        return "2026-01-02T03:04:05.000+0000"
    pytest.fail(f"no value for a {kind} field ({field['name']})")


@pytest.fixture(scope="module")
def described(org1):
    catalogue = {e["name"]: e for e in org1.rest("GET", "sobjects").json()["sobjects"]}
    result = {}
    for name in OBJECTS:
        assert name in catalogue, f"{name} is not in the global describe"
        r = org1.rest("GET", org1.url + catalogue[name]["urls"]["describe"])  # urls are paths on the instance
        assert r.status_code == 200, r.text
        result[name] = (catalogue[name], r.json())
    return result


@pytest.mark.parametrize("name", OBJECTS)
def test_every_field_describe_lists_is_selectable(org1, described, name):
    _entry, describe = described[name]
    fields = [f["name"] for f in describe["fields"]]
    r = org1.rest("GET", "query", params={"q": f"SELECT {', '.join(fields)} FROM {name} LIMIT 5"})
    assert r.status_code == 200, (name, r.text)
    for record in r.json()["records"]:
        assert set(record) - {"attributes"} == set(fields), name


def test_records_built_from_describe_are_created_and_read_back(org1, described):
    made, created, refused = {}, [], []
    for name in OBJECTS:
        entry, describe = described[name]
        required = [f for f in describe["fields"]
                    if f["createable"] and (not f["nillable"] and not f["defaultedOnCreate"] or f["name"] == ALSO.get(name))]
        values = dict((f["name"], value_for(f, org1, made)) for f in required)
        r = org1.create(name, values)
        if not entry["createable"]:
            assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION", (name, r.text)
            refused.append(name)
            continue
        if name in DATA_RULES and r.status_code == 400 and r.json()[0]["errorCode"] == DATA_RULES[name]:
            refused.append(name)
            continue
        assert r.status_code == 201, (name, values, r.text)
        made[name] = r.json()["id"]
        created.append(name)
        fields = [f["name"] for f in describe["fields"]]
        record = org1.one(f"SELECT {', '.join(fields)} FROM {name} WHERE Id = '{made[name]}'")
        # the same record through the sObject URL describe gives (urls.rowTemplate)
        row = org1.rest("GET", org1.url + entry["urls"]["rowTemplate"].replace("{ID}", made[name]))
        assert row.status_code == 200, (name, row.text)
        for got in (record, row.json()):
            assert set(got) - {"attributes"} == set(fields), name
            for field, value in values.items():
                assert same(got[field], value), (name, field, values, got)
    assert set(created) == {"Profile", "UserRole", "User", "PermissionSet", "PermissionSetAssignment",
                            "PermissionSetGroup", "PermissionSetGroupComponent", "ObjectPermissions", "FieldPermissions"}
    assert set(refused) == set(OBJECTS) - set(created)


def same(got, sent) -> bool:
    """A value read back is the one sent; ids compare by their first 15 characters (either form may be sent)."""
    if isinstance(got, str) and isinstance(sent, str) and len(got) == 18 and len(sent) in (15, 18):
        return got[:15] == sent[:15]
    return got == sent
