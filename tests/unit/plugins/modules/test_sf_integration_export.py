from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils.errors import PermissionDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue
from ansible_collections.sfops.integration.plugins.module_utils.soql import FIELDS_PER_QUERY
from ansible_collections.sfops.integration.plugins.modules import sf_integration_export as export

PSL_ID = "0PL000000000001"
API_PROFILE = dict(Name="Minimum Access - API Only Integrations", UserLicense=dict(Name="Salesforce Integration"),
                   PermissionsApiUserOnly=True)
CATALOGUE = SystemPermissionCatalogue(dict(fields=[
    dict(name="Permissions" + name, type="boolean", label=name) for name in ("ApiEnabled", "ConvertLeads", "ModifyAllData")]))


def page(records):
    records = list(records)
    return dict(totalSize=len(records), done=True, records=records)


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


class FakeClient:
    """Answers composite reads from {reference: records}; counts the composite requests."""

    def __init__(self, answers, refused=()):
        self.answers, self.refused, self.composites = answers, set(refused), []

    def composite_query(self, ref, text):
        return dict(referenceId=ref, query=text)

    def composite_describe(self, ref, sobject):
        return dict(referenceId=ref, describe=sobject)

    def read(self, subs):
        self.composites.append(subs)
        out = {}
        for sub in subs:
            ref = sub["referenceId"]
            if ref in self.refused:
                out[ref] = dict(httpStatusCode=403, body=[dict(errorCode="INSUFFICIENT_ACCESS", message="no")])
            elif "describe" in sub:
                out[ref] = dict(httpStatusCode=200, body=dict(fields=[dict(name="PermissionsApiEnabled", type="boolean")]))
            else:
                out[ref] = dict(httpStatusCode=200, body=page(self.answers.get(ref, [])))
        return out

    def composite_body(self, responses, ref, **_kwargs):
        return responses[ref]["body"]

    def composite_records(self, responses, ref):
        return responses[ref]["body"]["records"]

    def more_records(self, child):
        return list((child or {}).get("records") or [])


def test_reads_one_composite_without_users_and_two_with():
    empty = FakeClient(dict(organization=[dict(Id="00D1", Name="Acme")]))
    export.read_org(empty)
    assert len(empty.composites) == 1
    client = FakeClient(dict(users=[user("005A", "a@acme.example", sets=["0PS1"], groups=["0PG1"])],
                             api_only_users=[user("005A", "a@acme.example", sets=["0PS1"], groups=["0PG1"])]))
    data, _catalogue = export.read_org(client)
    assert len(client.composites) == 2 and len(data["users"]) == 1  # found by both queries, once
    second = dict((sub["referenceId"], sub["query"]) for sub in client.composites[1])
    assert sorted(second) == ["groups", "licenses", "sets", "user_licenses"]
    assert "Id IN ('0PS1')" in second["sets"] and "PermissionsApiEnabled" in second["sets"]
    assert "0PSprofile" not in second["sets"] and "Id IN ('0PG1')" in second["groups"]


def test_a_user_without_view_setup_is_told_what_it_needs():
    with pytest.raises(PermissionDeniedError, match="may not read users and their assignments; nothing was changed. "
                                                    "It needs API Enabled and View Setup and Configuration"):
        export.read_org(FakeClient({}, refused=["users", "api_only_users"]))


class ManyPermissionsClient(FakeClient):
    """A PermissionSet describe with as many system permissions as a real org has (hundreds)."""

    FIELDS = ["Permissions%s%03d" % ("X" * 20, i) for i in range(500)]

    def read(self, subs):
        out = super().read(subs)
        for sub in subs:
            if "describe" in sub:
                out[sub["referenceId"]]["body"] = dict(fields=[dict(name=name, type="boolean") for name in self.FIELDS])
        return out


def test_a_real_org_s_hundreds_of_permissions_are_read_in_short_queries_and_merged():
    first, last = ManyPermissionsClient.FIELDS[0], ManyPermissionsClient.FIELDS[-1]
    client = ManyPermissionsClient(dict(
        users=[user("005A", "a@acme.example", sets=["0PS1"])],
        sets=[dict(Id="0PS1", Name="Sync", **{first: True})],
        sets2=[dict(Id="0PS1", **{last: True})]))
    data, _catalogue = export.read_org(client)
    second = dict((sub["referenceId"], sub["query"]) for sub in client.composites[1])
    assert len(client.composites) == 2 and sorted(ref for ref in second if ref.startswith("sets")) == ["sets", "sets1", "sets2"]
    assert all(len(text) < FIELDS_PER_QUERY + 1000 for text in second.values())  # field names plus the query's frame
    [merged] = data["sets"]
    assert merged[first] is True and merged[last] is True and merged["Name"] == "Sync"
    assert "sets1" not in data and "sets2" not in data
