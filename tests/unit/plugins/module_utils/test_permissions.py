"""The permission catalogue (names from a describe) and the access dependency completion."""
from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils import permissions as perms

DESCRIBE = {"fields": [
    {"name": "Id", "type": "id", "label": "Permission Set ID"},
    {"name": "PermissionsApiEnabled", "type": "boolean", "label": "API Enabled"},
    {"name": "PermissionsConvertLeads", "type": "boolean", "label": "Convert Leads"},
    {"name": "PermissionsModifyAllData", "type": "boolean", "label": "Modify All Data"},
    {"name": "PermissionsViewAllData", "type": "boolean", "label": "View All Data"},
    {"name": "Permissions", "type": "boolean", "label": "not a permission"},
    {"name": "PermissionsSetId", "type": "reference", "label": "not boolean"},
]}


@pytest.fixture
def catalogue():
    return perms.SystemPermissionCatalogue(DESCRIBE)


def test_catalogue_reads_boolean_permission_fields_only(catalogue):
    assert catalogue.names == ["ApiEnabled", "ConvertLeads", "ModifyAllData", "ViewAllData"]
    assert catalogue.label("ModifyAllData") == "Modify All Data"
    assert catalogue.field("ApiEnabled") == "PermissionsApiEnabled"


@pytest.mark.parametrize("typed", ["ApiEnabled", "apienabled", "PermissionsApiEnabled", "permissionsAPIENABLED",
                                   " ApiEnabled "])
def test_names_with_or_without_prefix_any_case(catalogue, typed):
    assert catalogue.canonical(typed) == "ApiEnabled"


def test_resolve_sorts_dedupes_and_reports_unknown(catalogue):
    found, unknown = catalogue.resolve(["convertleads", "ApiEnabled", "PermissionsConvertLeads", "ApiEnable"])
    assert found == ["ApiEnabled", "ConvertLeads"]
    assert unknown == ["ApiEnable"]


def test_enabled_reads_a_record(catalogue):
    record = dict(PermissionsApiEnabled=True, PermissionsConvertLeads=False, PermissionsViewAllData=True)
    assert catalogue.enabled(record) == ["ApiEnabled", "ViewAllData"]


@pytest.mark.parametrize("asked, effective", [
    (["edit"], ["read", "edit"]),
    (["create"], ["read", "create"]),
    (["delete"], ["read", "edit", "delete"]),
    (["view_all_records"], ["read", "view_all_records"]),
    (["modify_all_records"], ["read", "edit", "delete", "view_all_records", "modify_all_records"]),
    (["edit", "read", "create"], ["read", "create", "edit"]),
    ([], []),
])
def test_object_access_completion(asked, effective):
    assert perms.complete_object_access(asked) == effective


def test_object_and_field_records_round_trip():
    record = perms.object_access_record(["read", "edit"])
    assert record["PermissionsRead"] is True and record["PermissionsDelete"] is False
    assert perms.object_access_from_record(record) == ["read", "edit"]
    assert perms.field_access_record("edit") == dict(PermissionsRead=True, PermissionsEdit=True)
    assert perms.field_access_record(None) == dict(PermissionsRead=False, PermissionsEdit=False)
    assert perms.field_access_from_record(dict(PermissionsRead=True, PermissionsEdit=False)) == "read"


def test_privileged_permissions():
    assert perms.privileged_permissions(["ApiEnabled", "ModifyAllData", "AuthorApex"]) == ["AuthorApex", "ModifyAllData"]
