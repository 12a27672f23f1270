from __future__ import annotations

import pytest
from module_double import page, recording_client, salesforce_module, soql_of

from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError, PermissionDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue
from ansible_collections.sfops.integration.plugins.modules import sf_user_access

CATALOGUE = SystemPermissionCatalogue(dict(fields=[
    dict(name="PermissionsApiEnabled", type="boolean", label="API Enabled"),
    dict(name="PermissionsModifyAllData", type="boolean", label="Modify All Data"),
    dict(name="PermissionsRunReports", type="boolean", label="Run Reports"),
    dict(name="Name", type="string", label="Name"),
]))
USER = dict(Id="005A", Username="shared@acme.example", Name="Shared", Email="ops@acme.example", IsActive=True,
            Profile=dict(Name="Standard User", UserLicense=dict(Name="Salesforce")))


def rows(**overrides):
    data = dict(
        assignments=[
            dict(PermissionSetId="0PS_PROFILE", PermissionSet=dict(Name="X00e", IsOwnedByProfile=True)),
            dict(PermissionSetId="0PS_SYNC", PermissionSet=dict(Name="Sync", Label="Sync", IsOwnedByProfile=False,
                                                                License=None)),
            dict(PermissionSetId="0PS_GROUP", PermissionSetGroupId="0PG1",
                 PermissionSet=dict(Name="X0PG1", IsOwnedByProfile=False),
                 PermissionSetGroup=dict(DeveloperName="Reads", MasterLabel="Reads")),
        ],
        licenses=[dict(PermissionSetLicense=dict(DeveloperName="LightningConsolePsl", MasterLabel="Console"))],
        objects=[
            dict(ParentId="0PS_PROFILE", SobjectType="Account", PermissionsRead=True),
            dict(ParentId="0PS_SYNC", SobjectType="Account", PermissionsRead=True, PermissionsEdit=True),
            dict(ParentId="0PS_GROUP", SobjectType="Contact", PermissionsRead=True),
            dict(ParentId="0PS_EXPIRED", SobjectType="Lead", PermissionsRead=True),  # not in the assignments read
            dict(ParentId="0PS_SYNC", SobjectType="Case"),  # no flag: no access
        ],
        fields=[
            dict(ParentId="0PS_PROFILE", SobjectType="Account", Field="Account.Industry", PermissionsRead=True),
            dict(ParentId="0PS_SYNC", SobjectType="Account", Field="Account.Industry", PermissionsRead=True,
                 PermissionsEdit=True),
        ],
    )
    data.update(overrides)
    return data


SETS = [dict(Id="0PS_PROFILE", PermissionsApiEnabled=True, PermissionsRunReports=True),
        dict(Id="0PS_SYNC", PermissionsModifyAllData=True),
        dict(Id="0PS_GROUP", PermissionsRunReports=True),
        dict(Id="0PS_EXPIRED", PermissionsModifyAllData=True)]


def test_union_with_sources():
    result = sf_user_access.effective_access(USER, rows(), SETS, CATALOGUE)
    assert [(s["kind"], s["name"]) for s in result["sources"]] == [
        ("profile", "Standard User"), ("permission_set", "Sync"), ("permission_set_group", "Reads")]
    account, contact = result["object_permissions"]
    assert account == dict(object="Account", access=["read", "edit"], sources=[
        dict(kind="profile", name="Standard User", access=["read"]),
        dict(kind="permission_set", name="Sync", access=["read", "edit"])])
    assert contact["sources"] == [dict(kind="permission_set_group", name="Reads", access=["read"])]
    assert result["field_permissions"][0]["access"] == "edit"
    system = dict((p["name"], p) for p in result["system_permissions"])
    assert [s["name"] for s in system["RunReports"]["sources"]] == ["Standard User", "Reads"]
    assert system["ModifyAllData"]["privileged"] is True and system["ApiEnabled"]["privileged"] is False
    assert "license_allows" not in system["ApiEnabled"]
    assert result["user"]["api_only"] is False and result["user"]["email"] == "ops@acme.example"
    assert result["permission_set_licenses"] == [dict(developer_name="LightningConsolePsl", label="Console")]
    assert result["counts"] == dict(objects=2, fields=1, system_permissions=3)


def test_license_allows():
    license_record = dict(DeveloperName="SalesforceAPIIntegrationPsl", MasterLabel="Salesforce API Integration",
                          MaximumPermissionsApiEnabled=True, MaximumPermissionsModifyAllData=False)
    result = sf_user_access.effective_access(USER, rows(), SETS, CATALOGUE, license_record)
    system = dict((p["name"], p["license_allows"]) for p in result["system_permissions"])
    assert system == dict(ApiEnabled=True, ModifyAllData=False, RunReports=None)
    assert result["permission_set_license"]["not_allowed"] == ["ModifyAllData"]


def test_no_access_is_empty_and_valid():
    result = sf_user_access.effective_access(USER, rows(assignments=[], objects=[], fields=[], licenses=[]), [],
                                             CATALOGUE, objects=["Account"])
    assert (result["sources"], result["object_permissions"], result["system_permissions"]) == ([], [], [])
    assert result["objects_without_access"] == ["Account"]


def test_option_problems():
    assert sf_user_access.option_problems(dict(username="a@b.c", objects=["Account", "Invoice__c"])) == []
    problems = sf_user_access.option_problems(dict(username=" ", objects=["Bad name"], permission_set_license=""))
    assert len(problems) == 3 and "objects[0]: 'Bad name'" in problems[1]


def test_five_queries_and_semi_joins():
    assert len(sf_user_access.QUERIES) <= 5
    for ref in ("objects", "fields"):
        assert "ParentId IN (SELECT PermissionSetId FROM PermissionSetAssignment" in sf_user_access.QUERIES[ref]
    assert "ExpirationDate > TODAY" in sf_user_access.QUERIES["assignments"]


def org_client(data, refused=()):
    """The client answering the module's reads from {reference: records} (sets0... the permission sets' fields)."""
    def answer(sub):
        ref = sub["referenceId"]
        if ref in refused:
            return 403, [dict(errorCode="INSUFFICIENT_ACCESS", message="insufficient access rights")]
        if soql_of(sub) is None:
            return 200, dict(fields=[dict(name="PermissionsApiEnabled", type="boolean", label="API Enabled")])
        return 200, page(data.get(ref, []))
    return recording_client(answer=answer)


def test_the_change_record_says_nothing_changes():
    client = org_client(rows(user=[USER], sets0=SETS))
    result = sf_user_access.run(salesforce_module(sf_user_access.ARGUMENT_SPEC, client, username="shared@acme.example"))
    assert result["changed"] is False and result["user"]["username"] == "shared@acme.example"
    assert result["change"] == dict(kind="user_access", name="shared@acme.example", action="none", details=[],
                                    added=0, removed=0, attributes=[])
    assert result["diff"] == dict(before={}, after={}) and len(client.sent) == 2
    assert [p["name"] for p in result["system_permissions"]] == ["ApiEnabled"]


def test_a_user_that_may_not_read_the_sets_is_told_what_it_needs():
    client = org_client(rows(user=[USER]), refused=["assignments", "objects"])
    with pytest.raises(PermissionDeniedError) as caught:
        sf_user_access.run(salesforce_module(sf_user_access.ARGUMENT_SPEC, client, username="shared@acme.example"))
    assert caught.value.message.startswith("The user this module runs as may not read permission sets and their "
                                           "assignments; nothing was changed. It needs API Enabled and View Setup")
    assert "refused to read assignments" in caught.value.message and "refused to read objects" in caught.value.message


def test_an_unknown_user_is_refused_naming_it():
    with pytest.raises(InputError, match="no user with username 'nobody@acme.example'"):
        sf_user_access.run(salesforce_module(sf_user_access.ARGUMENT_SPEC, org_client(rows(user=[])),
                                             username="nobody@acme.example"))
