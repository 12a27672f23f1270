"""Contract tests for permission set group assignments, with raw HTTP.

Salesforce Help "Assign Permission Set Groups to Users" (platform.perm_set_groups_assign.htm): only
groups with Status Updated can be assigned, and the permission set licenses the group's permissions
need are assigned before the group. "Permission Set Group FAQs" (platform.perm_set_groups_faqs.htm):
without such a license the assignment fails.
"""
from __future__ import annotations

import uuid

from contract import OrgClient


def created(response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def group_with(client: OrgClient, **set_values) -> tuple[str, str]:
    """(group id, DeveloperName) of a new group holding one new permission set."""
    name = "G_" + uuid.uuid4().hex[:10]
    read_account = set_values.pop("read_account", False)
    ps_id = created(client.create("PermissionSet", dict(Name="P_" + name, Label="P " + name, **set_values)))
    if read_account:
        created(client.create("ObjectPermissions",
                              {"ParentId": ps_id, "SobjectType": "Account", "PermissionsRead": True}))
    group_id = created(client.create("PermissionSetGroup", {"DeveloperName": name, "MasterLabel": name}))
    created(client.create("PermissionSetGroupComponent", {"PermissionSetGroupId": group_id, "PermissionSetId": ps_id}))
    return group_id, name


def assign_group(client: OrgClient, user_id: str, group_id: str):
    return client.create("PermissionSetAssignment", {"AssigneeId": user_id, "PermissionSetGroupId": group_id})


def error_of(response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()[0]


def psl_id(client: OrgClient, name: str) -> str:
    return client.one(f"SELECT Id FROM PermissionSetLicense WHERE DeveloperName = '{name}'")["Id"]


def set_group_status(client: OrgClient, name: str, status: str) -> None:
    r = client.admin("POST", "settings", json={"permission_set_group_status": {name: status}})
    assert r.status_code == 200, r.text


def test_only_updated_groups_can_be_assigned(org1):
    user_id = org1.new_user()
    group_id, name = group_with(org1)
    set_group_status(org1, name, "Updating")
    err = error_of(assign_group(org1, user_id, group_id))
    assert err["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and "status of Updated" in err["message"]
    set_group_status(org1, name, "Updated")
    assert assign_group(org1, user_id, group_id).status_code == 201


def test_group_needs_the_psl_first_and_does_not_assign_it(org1):
    user_id = org1.new_user()
    group_id, _name = group_with(org1, read_account=True)
    err = error_of(assign_group(org1, user_id, group_id))
    assert err["message"] == "The user license doesn't allow the permission: Read Account"
    assert not org1.query(f"SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = '{user_id}'")["records"]
    api_psl = psl_id(org1, "SalesforceAPIIntegrationPsl")
    created(org1.create("PermissionSetLicenseAssign", {"AssigneeId": user_id, "PermissionSetLicenseId": api_psl}))
    assert assign_group(org1, user_id, group_id).status_code == 201


def test_group_with_a_psl_licensed_set_needs_that_psl(org1):
    user_id = org1.new_user()
    group_id, _name = group_with(org1, LicenseId=psl_id(org1, "SalesforceAPIIntegrationPsl"))
    err = error_of(assign_group(org1, user_id, group_id))
    assert "Salesforce API Integration permission set license" in err["message"]


def test_group_assignment_names_the_aggregate_set_holding_the_union(org1):
    """Object Reference PermissionSet: "PermissionSet contains the aggregated permissions for the group"."""
    api_psl = psl_id(org1, "SalesforceAPIIntegrationPsl")
    group_id, name = group_with(org1, LicenseId=api_psl, read_account=True)
    second = created(org1.create("PermissionSet", dict(Name="Q_" + name, Label="Q " + name, LicenseId=api_psl,
                                                       PermissionsViewSetup=True)))
    created(org1.create("ObjectPermissions", {"ParentId": second, "SobjectType": "Account", "PermissionsRead": True,
                                              "PermissionsEdit": True}))
    created(org1.create("FieldPermissions", {"ParentId": second, "SobjectType": "Account", "Field": "Account.Industry",
                                             "PermissionsRead": True}))
    created(org1.create("PermissionSetGroupComponent", {"PermissionSetGroupId": group_id, "PermissionSetId": second}))
    aggregate = org1.one(f"SELECT Id, Type, Label, IsOwnedByProfile, PermissionsViewSetup, PermissionsApiEnabled, "
                         f"PermissionsModifyAllData FROM PermissionSet WHERE PermissionSetGroupId = '{group_id}'")
    assert (aggregate["Type"], aggregate["Label"], aggregate["IsOwnedByProfile"]) == ("Group", name, False)
    assert aggregate["PermissionsViewSetup"] and aggregate["PermissionsApiEnabled"]
    assert not aggregate["PermissionsModifyAllData"]
    account = org1.one(f"SELECT PermissionsRead, PermissionsEdit, PermissionsDelete FROM ObjectPermissions "
                       f"WHERE ParentId = '{aggregate['Id']}' AND SobjectType = 'Account'")
    assert (account["PermissionsRead"], account["PermissionsEdit"], account["PermissionsDelete"]) == (True, True, False)
    fields = org1.query(f"SELECT Field FROM FieldPermissions WHERE ParentId = '{aggregate['Id']}'")["records"]
    assert [f["Field"] for f in fields] == ["Account.Industry"]

    user_id = org1.new_user()
    created(org1.create("PermissionSetLicenseAssign", {"AssigneeId": user_id, "PermissionSetLicenseId": api_psl}))
    created(assign_group(org1, user_id, group_id))
    row = org1.one(f"SELECT PermissionSetId, PermissionSet.Type FROM PermissionSetAssignment "
                   f"WHERE AssigneeId = '{user_id}' AND PermissionSetGroupId = '{group_id}'")
    assert row["PermissionSetId"] == aggregate["Id"] and row["PermissionSet"]["Type"] == "Group"

    # A member's change reaches the aggregate; a removed member's access leaves it.
    org1.rest("PATCH", f"sobjects/PermissionSet/{second}", json={"PermissionsViewSetup": False}).raise_for_status()
    component = org1.one(f"SELECT Id FROM PermissionSetGroupComponent WHERE PermissionSetId = '{second}'")
    assert org1.rest("DELETE", f"sobjects/PermissionSetGroupComponent/{component['Id']}").status_code == 204
    after = org1.one(f"SELECT Id, PermissionsViewSetup FROM PermissionSet WHERE PermissionSetGroupId = '{group_id}'")
    assert after["Id"] == aggregate["Id"] and not after["PermissionsViewSetup"]
    account = org1.one(f"SELECT PermissionsEdit FROM ObjectPermissions WHERE ParentId = '{aggregate['Id']}'")
    assert account["PermissionsEdit"] is False
    assert not org1.query(f"SELECT Id FROM FieldPermissions WHERE ParentId = '{aggregate['Id']}'")["records"]


def test_a_deleted_group_takes_its_aggregate_set_along(org1):
    group_id, _name = group_with(org1, read_account=True)
    aggregate = org1.one(f"SELECT Id FROM PermissionSet WHERE PermissionSetGroupId = '{group_id}'")["Id"]
    assert org1.query(f"SELECT Id FROM ObjectPermissions WHERE ParentId = '{aggregate}'")["records"]
    assert org1.rest("DELETE", f"sobjects/PermissionSetGroup/{group_id}").status_code == 204
    assert not org1.query(f"SELECT Id FROM PermissionSet WHERE PermissionSetGroupId = '{group_id}'")["records"]
    assert not org1.query(f"SELECT Id FROM ObjectPermissions WHERE ParentId = '{aggregate}'")["records"]
