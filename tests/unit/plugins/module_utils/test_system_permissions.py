"""The system-permission logic sf_permission_set and sf_profile share."""
from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils import system_permissions as sp
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.module_utils.permissions import SystemPermissionCatalogue

CATALOGUE = SystemPermissionCatalogue({"fields": [
    {"name": "Permissions" + name, "type": "boolean", "label": label} for name, label in (
        ("ApiEnabled", "API Enabled"), ("ApiUserOnly", "API Only User"), ("ConvertLeads", "Convert Leads"),
        ("ModifyAllData", "Modify All Data"), ("EditHtmlTemplates", "Edit HTML Templates"))]})


class FakeModule:
    def __init__(self, allow):
        self.params = dict(allow_privileged=allow)
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


def test_resolve_returns_canonical_names_or_one_message():
    assert sp.resolve(CATALOGUE, ["apienabled", "PermissionsConvertLeads"]) == (["ApiEnabled", "ConvertLeads"], None)
    found, error = sp.resolve(CATALOGUE, ["ApiEnabled", "ConvertLead"])
    assert found == ["ApiEnabled"]
    assert error == "unknown system permission 'ConvertLead' (did you mean ConvertLeads?)"
    assert sp.resolve(CATALOGUE, None) == ([], None)


@pytest.mark.parametrize("purge, enable, disable, after", [
    (True, ["ConvertLeads"], ["ApiUserOnly"], ["ApiEnabled", "ConvertLeads"]),
    (False, ["ConvertLeads"], [], ["ApiEnabled", "ApiUserOnly", "ConvertLeads"]),
])
def test_plan_purge_semantics(purge, enable, disable, after):
    plan = sp.SystemPermissionPlan(["ApiEnabled", "ConvertLeads"], ["ApiEnabled", "ApiUserOnly"], purge)
    assert (plan.to_enable, plan.to_disable, plan.after) == (enable, disable, after)
    assert plan.changed is True
    expected = dict(("Permissions" + name, True) for name in enable)
    expected.update(("Permissions" + name, False) for name in disable)
    assert plan.record_fields() == expected
    assert plan.changes() == dict(added=enable, removed=disable)


def test_plan_without_changes():
    plan = sp.SystemPermissionPlan(["ApiEnabled"], ["ApiEnabled"], True)
    assert plan.changed is False and plan.record_fields() == {}


def test_permissions_a_license_forces_on_are_never_purged():
    psl = dict(MaximumPermissionsApiEnabled=True, MaximumPermissionsConvertLeads=True)
    forced = sp.forced_by_license(psl)
    assert forced == ["ApiEnabled"]
    plan = sp.SystemPermissionPlan(["ConvertLeads"], ["ApiEnabled", "ConvertLeads"], True, forced)
    assert plan.changed is False and plan.after == ["ApiEnabled", "ConvertLeads"]
    assert sp.forced_by_license(dict(MaximumPermissionsApiEnabled=False)) == []
    assert sp.forced_by_license(None) == []


def test_license_allows_from_maximum_permissions():
    psl = dict(MaximumPermissionsApiEnabled=True, MaximumPermissionsEditHtmlTemplates=False)
    refused = sp.not_allowed_by_license(["ApiEnabled", "EditHtmlTemplates", "NotOnTheLicense"], psl)
    assert refused == ["EditHtmlTemplates"]
    assert sp.license_message(CATALOGUE, refused, "Salesforce API Integration") == (
        "the license 'Salesforce API Integration' does not allow the system permission(s) "
        "EditHtmlTemplates (Edit HTML Templates)")


def test_privileged_refused_unless_allowed_then_warned():
    offenders = sp.privileged_offenders(CATALOGUE, ["ApiEnabled", "ModifyAllData"])
    assert offenders == ["ModifyAllData (Modify All Data)"]
    with pytest.raises(InputError) as refused:
        sp.guard_privileged(FakeModule(allow=False), offenders, "permission set X")
    assert "allow_privileged: true" in refused.value.message and "ModifyAllData" in refused.value.message
    allowed = FakeModule(allow=True)
    sp.guard_privileged(allowed, offenders, "permission set X")
    assert "ModifyAllData" in allowed.warnings[0]
    quiet = FakeModule(allow=False)
    sp.guard_privileged(quiet, [], "permission set X")
    assert quiet.warnings == []
