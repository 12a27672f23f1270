from __future__ import annotations

import pytest

from module_double import page, recording_client, salesforce_module, soql_of

from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError, PermissionDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue
from ansible_collections.sfops.integration.plugins.module_utils.soql import FIELDS_PER_QUERY
from ansible_collections.sfops.integration.plugins.modules import sf_integration_export as export

PSL_ID = "0PL000000000001"
API_PROFILE = dict(Name="Minimum Access - API Only Integrations", UserLicense=dict(Name="Salesforce Integration"),
                   PermissionsApiUserOnly=True)
CATALOGUE = SystemPermissionCatalogue(dict(fields=[
    dict(name="Permissions" + name, type="boolean", label=name) for name in ("ApiEnabled", "ConvertLeads", "ModifyAllData")]))


def user(user_id, username, sets=(), groups=(), psls=(), profile=None, active=True, **fields):
    assignments = [dict(PermissionSetId=set_id, PermissionSetGroupId=None, PermissionSet=dict(IsOwnedByProfile=False))
                   for set_id in sets]
    assignments.append(dict(PermissionSetId="0PSprofile", PermissionSetGroupId=None, PermissionSet=dict(IsOwnedByProfile=True)))
    assignments += [dict(PermissionSetId=None, PermissionSetGroupId=group_id, PermissionSetGroup=dict(DeveloperName="G"))
                    for group_id in groups]
    row = dict(Id=user_id, Username=username, Email="ops@acme.example", LastName="Sync", IsActive=active,
               Profile=profile or API_PROFILE,
               PermissionSetAssignments=page(assignments),
               PermissionSetLicenseAssignments=page([dict(PermissionSetLicenseId=i, PermissionSetLicense=dict(
                   DeveloperName=name, MasterLabel=name.title())) for i, name in psls]))
    row.update(fields)
    return row


def permission_set(set_id, name, assignees, license_id=PSL_ID, objects=(), fields=(), namespace=None, **permissions):
    row = dict(Id=set_id, Name=name, Label=name.replace("_", " "), Description=None, LicenseId=license_id,
               NamespacePrefix=namespace, IsOwnedByProfile=False, PermissionSetGroupId=None,
               ObjectPerms=page(objects), FieldPerms=page(fields), Assignments=page(dict(AssigneeId=a) for a in assignees))
    row.update(("Permissions" + name_, on) for name_, on in permissions.items())
    return row


def rows(users, sets=(), groups=()):
    return dict(users=list(users), sets=list(sets), groups=list(groups), organization=[dict(Id="00D1", Name="Acme")],
                licenses=[dict(Id=PSL_ID, DeveloperName="SalesforceAPIIntegrationPsl", MasterLabel="Salesforce API Integration")],
                user_licenses=[dict(Id="100000000000001", Name="Salesforce Integration", MasterLabel="Salesforce Integration")])


def run(data, waiver="Integration_MFA_Waiver"):
    return export.Export(data, CATALOGUE, dict(mfa_waiver_permission_set=waiver)).result()


def notes(result):
    return [note["note"] for note in result["review"]]


def test_an_owned_set_is_described_whole():
    objects = [dict(Id="110", SobjectType="Lead", PermissionsRead=True, PermissionsEdit=True, PermissionsCreate=False),
               dict(Id="111", SobjectType="Task", PermissionsRead=False),  # no access this module manages
               dict(Id="000abc", SobjectType="Case", PermissionsRead=True)]  # implied by Modify All Data
    fields = [dict(SobjectType="Lead", Field="Lead.Email", PermissionsRead=True, PermissionsEdit=False)]
    data = rows([user("005A", "etl.sync@acme.example", sets=["0PS1"], Title="Sync", UserRole=dict(DeveloperName="Ops"),
                      UserPermissionsMarketingUser=True)],
                [permission_set("0PS1", "ETL", ["005A"], objects=objects, fields=fields, ApiEnabled=True, ConvertLeads=True,
                                ModifyAllData=False)])
    result = run(data)
    [entry] = result["integrations"]
    assert entry["name"] == "etl_sync"
    assert entry["user"] == dict(username="etl.sync@acme.example", email="ops@acme.example", last_name="Sync",
                                 title="Sync", marketing_user=True, role="Ops")
    assert entry["permission_sets"] == [dict(name="ETL", label="ETL", description="", license="Salesforce API Integration",
                                             system_permissions=["ApiEnabled", "ConvertLeads"],
                                             object_permissions=[dict(object="Lead", access=["read", "edit"])],
                                             field_permissions=[dict(field="Lead.Email", access="read")])]
    assert result["review"] == [] and result["profile"] == API_PROFILE["Name"]
    assert result["counts"] == dict(integration_users=1, left_out=0, permission_sets=1, extra_permission_sets=0,
                                    permission_set_groups=0)


def test_shared_managed_and_waiver_sets_are_listed_by_name():
    data = rows([user("005A", "a@acme.example", sets=["0PS1", "0PS2", "0PS3"]), user("005B", "b@acme.example", sets=["0PS1"])],
                [permission_set("0PS1", "Shared", ["005A", "005B"]),
                 permission_set("0PS2", "Pkg_Set", ["005A"], namespace="pkg"),
                 permission_set("0PS3", "Integration_MFA_Waiver", ["005A"])])
    result = run(data)
    a = result["integrations"][0]
    assert a["permission_sets"] == [] and a["extra_permission_sets"] == ["Integration_MFA_Waiver", "Pkg_Set", "Shared"]
    assert any("permission set Shared is assigned to 2 users" in n for n in notes(result))
    assert any("Pkg_Set belongs to the managed package pkg" in n for n in notes(result))
    assert not any("Integration_MFA_Waiver" in n for n in notes(result))  # the role's own set


def test_privileged_access_is_kept_allowed_and_named():
    objects = [dict(SobjectType="Account", PermissionsRead=True, PermissionsViewAllRecords=True)]
    data = rows([user("005A", "a@acme.example", sets=["0PS1"])],
                [permission_set("0PS1", "Wide", ["005A"], license_id=None, objects=objects, ModifyAllData=True)])
    result = run(data)
    [permission] = result["integrations"][0]["permission_sets"]
    assert permission["allow_privileged"] is True and permission["license"] == "none"
    assert "ModifyAllData, Account: view_all_records" in notes(result)[0]


def test_groups_licenses_and_profiles():
    group = dict(Id="0PG1", DeveloperName="Sync_Group", PermissionSetGroupComponents=page(
        [dict(PermissionSetId="0PS9", PermissionSet=dict(LicenseId="0PL9"))]))
    admin = dict(Name="System Administrator", UserLicense=dict(Name="Salesforce"), PermissionsModifyAllData=True)
    data = rows([user("005A", "a@acme.example", groups=["0PG1"], psls=[("0PL9", "GroupPsl"), ("0PL8", "Stray")]),
                 user("005B", "b@acme.example", profile=admin), user("005C", "c@acme.example", active=False)],
                groups=[group])
    result = run(data)
    a, b = result["integrations"]
    assert a["permission_set_groups"] == ["Sync_Group"] and a["permission_sets"] == []
    assert any("permission set license Stray" in n for n in notes(result))
    assert not any("GroupPsl" in n for n in notes(result))  # the group's set needs it
    assert any("profile System Administrator is admin-grade (Modify All Data)" in n for n in notes(result))
    assert result["profile"] is None and any("different profiles" in n for n in notes(result))
    assert result["left_out"] == [dict(username="c@acme.example", reason="inactive")]
    assert "1 inactive integration user(s) left out" in result["message"]


def test_no_integration_users():
    result = run(rows([]))
    assert result["integrations"] == [] and result["profile"] is None
    assert result["message"].startswith("No integration users in this org")


def test_integration_names_are_unique():
    taken = set()
    assert [export.integration_name(u, taken) for u in ("Etl.Sync@a.com", "etl-sync@b.com", "@x")] == [
        "etl_sync", "etl_sync_2", "integration"]


def test_option_problems():
    assert export.option_problems(dict(mfa_waiver_permission_set="Integration_MFA_Waiver")) == []
    assert "mfa_waiver_permission_set" in export.option_problems(dict(mfa_waiver_permission_set=" "))[0]


def export_client(answers, refused=(), describe_fields=("PermissionsApiEnabled",)):
    """The client answering the export's reads from {reference: records}; ``refused`` reads get INSUFFICIENT_ACCESS."""
    def answer(sub):
        ref = sub["referenceId"]
        if ref in refused:
            return 403, [dict(errorCode="INSUFFICIENT_ACCESS", message="no")]
        if soql_of(sub) is None:
            return 200, dict(fields=[dict(name=name, type="boolean") for name in describe_fields])
        return 200, page(answers.get(ref, []))
    return recording_client(answer=answer)


def queries_sent(client, index):
    return dict((sub["referenceId"], soql_of(sub)) for sub in client.sent[index])


def test_reads_one_composite_without_users_and_two_with():
    empty = export_client(dict(organization=[dict(Id="00D1", Name="Acme")]))
    export.read_org(empty)
    assert len(empty.sent) == 1
    client = export_client(dict(users=[user("005A", "a@acme.example", sets=["0PS1"], groups=["0PG1"])],
                                api_only_users=[user("005A", "a@acme.example", sets=["0PS1"], groups=["0PG1"])]))
    data, _catalogue = export.read_org(client)
    assert len(client.sent) == 2 and len(data["users"]) == 1  # found by both queries, once
    second = queries_sent(client, 1)
    assert sorted(second) == ["groups", "licenses", "sets", "user_licenses"]
    assert "Id IN ('0PS1')" in second["sets"] and "PermissionsApiEnabled" in second["sets"]
    assert "0PSprofile" not in second["sets"] and "Id IN ('0PG1')" in second["groups"]


def test_a_user_without_view_setup_is_told_what_it_needs():
    with pytest.raises(PermissionDeniedError, match="may not read users and their assignments; nothing was changed. "
                                                    "It needs API Enabled and View Setup and Configuration"):
        export.read_org(export_client({}, refused=["users", "api_only_users"]))


MANY_FIELDS = ["Permissions%s%03d" % ("X" * 20, i) for i in range(500)]  # as many as a real org has (hundreds)


def test_a_real_org_s_hundreds_of_permissions_are_read_in_short_queries_and_merged():
    first, last = MANY_FIELDS[0], MANY_FIELDS[-1]
    client = export_client(dict(
        users=[user("005A", "a@acme.example", sets=["0PS1"])],
        sets=[dict(Id="0PS1", Name="Sync", **{first: True})],
        sets2=[dict(Id="0PS1", **{last: True})]), describe_fields=MANY_FIELDS)
    data, _catalogue = export.read_org(client)
    second = queries_sent(client, 1)
    assert len(client.sent) == 2 and sorted(ref for ref in second if ref.startswith("sets")) == ["sets", "sets1", "sets2"]
    assert all(len(text) < FIELDS_PER_QUERY + 1000 for text in second.values())  # field names plus the query's frame
    [merged] = data["sets"]
    assert merged[first] is True and merged[last] is True and merged["Name"] == "Sync"
    assert "sets1" not in data and "sets2" not in data


def test_the_change_record_says_nothing_changes():
    client = export_client(dict(users=[user("005A", "a@acme.example")], organization=[dict(Id="00D1", Name="Acme")]))
    result = export.run(salesforce_module(export.ARGUMENT_SPEC, client))
    assert result["changed"] is False and result["org"]["name"] == "Acme"
    assert result["change"] == dict(kind="integration_export", name="Acme", action="none", details=[], added=0, removed=0,
                                    attributes=[])
    assert result["diff"] == dict(before={}, after={})


def test_a_bad_option_is_refused_before_any_request():
    client = export_client({})
    with pytest.raises(InputError, match="mfa_waiver_permission_set must name a permission set"):
        export.run(salesforce_module(export.ARGUMENT_SPEC, client, mfa_waiver_permission_set=" "))
    assert client.sent == [] and client.api_requests == 0
