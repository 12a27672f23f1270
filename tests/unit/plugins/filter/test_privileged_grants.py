from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.privileged_grants import privileged_grants


def integration(*permission_sets):
    return dict(name="marketo", permission_sets=list(permission_sets))


def test_privileged_system_permissions_and_object_access_are_named_by_path():
    sets = [dict(name="Marketo_Sync", system_permissions=["ApiEnabled"]),
            dict(name="Marketo_Admin", system_permissions=["PermissionsModifyAllData", "viewalldata", "ApiEnabled"],
                 object_permissions=[dict(object="Lead", access=["read"]),
                                     dict(object="Account", access=["read", "modify_all_records"])])]
    assert privileged_grants([integration(), integration(*sets)]) == [
        "sf_integrations[1].permission_sets[1] (Marketo_Admin): privileged access an integration user should not need: "
        "ModifyAllData; ViewAllData; Account: modify_all_records; set allow_privileged: true on this permission set "
        "to grant it anyway"]


def test_allowed_or_harmless_sets_pass():
    allowed = dict(name="Migration_Set", system_permissions=["ModifyAllData"], allow_privileged=True)
    harmless = dict(name="Reader", system_permissions=["ApiEnabled"], object_permissions=[dict(object="Lead", access=["read"])])
    assert privileged_grants([integration(allowed, harmless)]) == []


def test_refuses_what_is_not_a_list():
    with pytest.raises(AnsibleFilterError):
        privileged_grants(dict(name="marketo"))
