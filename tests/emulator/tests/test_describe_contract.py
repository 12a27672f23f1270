"""describe as real orgs answer it (issue 16 item 7): the key sets of the global describe, an object describe and
each field, and their values where the recordings show them. The expected keys and values come from describes
recorded from real orgs (3P SFDO-Tooling/CumulusCI cumulusci/tests/shared_cassettes/GET_sobjects_*_describe.yaml;
docs/emulator.md "describe")."""
from __future__ import annotations

GLOBAL_ENTRY_KEYS = {
    "activateable", "associateEntityType", "associateParentEntity", "createable", "custom", "customSetting",
    "deepCloneable", "deletable", "deprecatedAndHidden", "feedEnabled", "hasSubtypes", "isInterface", "isSubtype",
    "keyPrefix", "label", "labelPlural", "layoutable", "mergeable", "mruEnabled", "name", "queryable",
    "replicateable", "retrieveable", "searchable", "triggerable", "undeletable", "updateable", "urls"}
DESCRIBE_KEYS = GLOBAL_ENTRY_KEYS | {
    "actionOverrides", "childRelationships", "compactLayoutable", "defaultImplementation", "extendedBy",
    "extendsInterfaces", "fields", "implementedBy", "implementsInterfaces", "listviewable", "lookupLayoutable",
    "namedLayoutInfos", "networkScopeFieldName", "recordTypeInfos", "searchLayoutable", "sobjectDescribeOption",
    "supportedScopes"}
FIELD_KEYS = {
    "aggregatable", "aiPredictionField", "autoNumber", "byteLength", "calculated", "calculatedFormula",
    "cascadeDelete", "caseSensitive", "compoundFieldName", "controllerName", "createable", "custom", "defaultValue",
    "defaultValueFormula", "defaultedOnCreate", "dependentPicklist", "deprecatedAndHidden", "digits",
    "displayLocationInDecimal", "encrypted", "externalId", "extraTypeInfo", "filterable", "filteredLookupInfo",
    "formulaTreatNullNumberAsZero", "groupable", "highScaleNumber", "htmlFormatted", "idLookup", "inlineHelpText",
    "label", "length", "mask", "maskType", "name", "nameField", "namePointing", "nillable", "permissionable",
    "picklistValues", "polymorphicForeignKey", "precision", "queryByDistance", "referenceTargetField",
    "referenceTo", "relationshipName", "relationshipOrder", "restrictedDelete", "restrictedPicklist", "scale",
    "searchPrefilterable", "soapType", "sortable", "type", "unique", "updateable", "writeRequiresMasterRead"}
CHILD_KEYS = {"cascadeDelete", "childSObject", "deprecatedAndHidden", "field", "junctionIdListNames",
              "junctionReferenceTo", "relationshipName", "restrictedDelete"}


def test_global_describe_entries_have_every_key(org1):
    body = org1.rest("GET", "sobjects").json()
    assert set(body) == {"encoding", "maxBatchSize", "sobjects"} and body["maxBatchSize"] == 200
    for entry in body["sobjects"]:
        assert set(entry) == GLOBAL_ENTRY_KEYS, entry["name"]
    by_name = {e["name"]: e for e in body["sobjects"]}
    # Values recorded for these objects.
    assert by_name["User"]["deletable"] is False and by_name["User"]["undeletable"] is False
    assert set(by_name["User"]["urls"]) >= {"passwordUtilities", "rowTemplate", "describe", "sobject"}
    assert by_name["UserLicense"]["replicateable"] is False and by_name["UserLicense"]["layoutable"] is False
    assert by_name["UserLogin"]["keyPrefix"] == "0Yw" and by_name["UserLogin"]["labelPlural"] == "User Login"
    assert by_name["Opportunity"]["labelPlural"] == "Opportunities"
    assert by_name["Account"]["mergeable"] is True and by_name["Opportunity"]["mergeable"] is False
    assert by_name["CampaignMember"]["undeletable"] is False and by_name["Account"]["undeletable"] is True
    assert org1.rest("GET", "sobjects/Account").json()["objectDescribe"] == by_name["Account"]


def test_object_and_field_describe_have_every_key_and_recorded_values(org1):
    for name in ("Account", "Lead", "User", "PermissionSet", "Invoice__c", "LoginHistory"):
        d = org1.rest("GET", f"sobjects/{name}/describe").json()
        assert set(d) == DESCRIBE_KEYS, name
        for f in d["fields"]:
            assert set(f) == FIELD_KEYS, (name, f["name"])
        for c in d["childRelationships"]:
            assert set(c) == CHILD_KEYS, (name, c)
    lead = org1.rest("GET", "sobjects/Lead/describe").json()
    assert lead["sobjectDescribeOption"] == "FULL" and lead["labelPlural"] == "Leads"
    assert lead["recordTypeInfos"] == [{
        "active": True, "available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
        "master": True, "name": "Master", "recordTypeId": "012000000000000AAA",
        "urls": {"layout": "/services/data/v62.0/sobjects/Lead/describe/layouts/012000000000000AAA"}}]
    fields = {f["name"]: f for f in lead["fields"]}
    # Audit fields and Id: defaulted on create; Id an idLookup labelled after the object.
    for audit in ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                  "SystemModstamp"):
        assert fields[audit]["defaultedOnCreate"] is True, audit
    assert fields["Id"]["label"] == "Lead ID" and fields["Id"]["idLookup"] is True
    assert fields["Id"]["soapType"] == "tns:ID" and fields["Id"]["byteLength"] == 18
    assert fields["IsDeleted"]["defaultValue"] is False and fields["IsDeleted"]["aggregatable"] is False
    assert fields["Name"]["nameField"] is True and fields["Name"]["length"] == 121
    assert fields["Name"]["byteLength"] == 363 and fields["Name"]["extraTypeInfo"] == "personname"
    assert fields["LastName"]["compoundFieldName"] == "Name"
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert fields["OwnerId"]["namePointing"] is True and fields["OwnerId"]["polymorphicForeignKey"] is True
    assert fields["Status"]["defaultValue"] == "Open - Not Contacted" and fields["Status"]["length"] == 255
    assert fields["Status"]["picklistValues"][0] == {"active": True, "defaultValue": True,
                                                     "label": "Open - Not Contacted", "validFor": None,
                                                     "value": "Open - Not Contacted"}
    assert fields["NumberOfEmployees"]["soapType"] == "xsd:int" and fields["NumberOfEmployees"]["digits"] == 8
    assert fields["CreatedDate"]["groupable"] is False and fields["CreatedDate"]["soapType"] == "xsd:dateTime"
    # Picklist lengths as Salesforce defines them (Account Type 40, Case Status 40).
    account = {f["name"]: f for f in org1.rest("GET", "sobjects/Account/describe").json()["fields"]}
    assert account["Type"]["length"] == 40 and account["Type"]["byteLength"] == 120
    case = {f["name"]: f for f in org1.rest("GET", "sobjects/Case/describe").json()["fields"]}
    assert case["Status"]["length"] == 40 and case["CaseNumber"]["autoNumber"] is True
    assert case["CaseNumber"]["nameField"] is True and case["Description"]["filterable"] is False
    opp = {f["name"]: f for f in org1.rest("GET", "sobjects/Opportunity/describe").json()["fields"]}
    assert (opp["Amount"]["precision"], opp["Amount"]["scale"]) == (18, 2)
    assert (opp["Probability"]["precision"], opp["Probability"]["scale"]) == (3, 0)
    # A described default is what create fills in, and the recorded child relationships answer subqueries.
    account_id = org1.create("Account", {"Name": "Described"}).json()["id"]
    case_id = org1.create("Case", {"Subject": "Described", "AccountId": account_id}).json()["id"]
    row = org1.one(f"SELECT Status, Priority FROM Case WHERE Id = '{case_id}'")
    assert (row["Status"], row["Priority"]) == ("New", "Medium")
    rel = {c["relationshipName"]: c for c in org1.rest("GET", "sobjects/Account/describe").json()[
        "childRelationships"]}
    assert rel["Contacts"]["cascadeDelete"] is True and rel["Cases"]["restrictedDelete"] is True
    org1.create("Contact", {"LastName": "Child", "AccountId": account_id})
    parent = org1.one(f"SELECT Id, (SELECT LastName FROM Contacts) FROM Account WHERE Id = '{account_id}'")
    assert [c["LastName"] for c in parent["Contacts"]["records"]] == ["Child"]
    # Deleting the account takes its contacts along (cascadeDelete), into the recycle bin.
    assert org1.rest("DELETE", f"sobjects/Account/{account_id}").status_code == 204
    assert org1.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{account_id}'")["totalSize"] == 0
    assert org1.rest("GET", "queryAll", params={"q": f"SELECT COUNT() FROM Contact WHERE AccountId = "
                                                     f"'{account_id}'"}).json()["totalSize"] == 1
