"""The org lookups every module shares: ids, names, picklists, licenses, seats and integration profiles."""
from __future__ import annotations

import pytest

from ansible_collections.sfops.integration.plugins.module_utils import org


def test_ids_compare_by_their_15_character_form():
    assert org.same_id("0PS5g000000XyZaGAK", "0PS5g000000XyZa")
    assert not org.same_id("0PS5g000000XyZaGAK", "0PS5g000000XyZb")
    assert org.same_id(None, "") and not org.same_id(None, "0PS5g000000XyZa")
    assert org.id15("0PS5g000000XyZaGAK") == "0PS5g000000XyZa" and org.id15(None) == ""


def test_one_hint_wording():
    assert org.did_you_mean("ApiEnable", ["ApiEnabled", "ConvertLeads"]) == " (did you mean ApiEnabled?)"
    assert org.did_you_mean("ApiEnable", ["ApiUserOnly", "ApiEnabled"]) == " (did you mean ApiEnabled, ApiUserOnly?)"
    assert org.did_you_mean("Qqq", ["ApiEnabled"]) == ""
    assert org.closest("apienabled", ["ApiEnabled", "APIENABLED", None]) == ["ApiEnabled"]
    assert org.unknown_message("system permission", ["ApiEnable", "Zzz"], ["ApiEnabled"]) == \
        "unknown system permission 'ApiEnable' (did you mean ApiEnabled?); 'Zzz'"


DESCRIBE = {"fields": [
    {"name": "TimeZoneSidKey", "label": "Time Zone", "picklistValues": [
        {"value": "GMT", "active": True}, {"value": "Europe/Amsterdam"}, {"value": "Old/Zone", "active": False}]},
    {"name": "Alias", "label": "Alias"},
]}


def test_picklist_values():
    assert org.picklist_values(DESCRIBE, "TimeZoneSidKey") == ["GMT", "Europe/Amsterdam"]
    assert org.picklist_values(DESCRIBE, "Alias") == []
    assert org.picklist_values(DESCRIBE, "Nope") is None and org.picklist_values(None, "Alias") is None
    assert org.describe_field(DESCRIBE, "Alias")["label"] == "Alias"


USER_LICENSES = [dict(Id="100000000000001AAA", Name="Salesforce", MasterLabel="Salesforce"),
                 dict(Id="100000000000002AAA", Name="Salesforce Integration", MasterLabel="Salesforce Integration")]
PSLS = [dict(Id="0PL000000000001AAA", DeveloperName="SalesforceAPIIntegrationPsl",
             MasterLabel="Salesforce API Integration")]


def test_licenses_by_any_of_their_names():
    found = org.licenses(USER_LICENSES, PSLS)
    psl = org.find_license(" salesforceapiintegrationpsl ", found)
    assert (psl.id, psl.name, psl.kind) == ("0PL000000000001AAA", "Salesforce API Integration", "psl")
    assert org.find_license("SALESFORCE INTEGRATION", found).kind == "user"
    assert org.find_license("Salesforce Integraton", found) is None
    assert org.license_by_id("100000000000002", found).name == "Salesforce Integration"
    assert org.license_by_id(None, found) is None
    assert "SalesforceAPIIntegrationPsl" in org.license_names(found)
    assert org.License().same_as(None) and org.License().name == org.NO_LICENSE


@pytest.mark.parametrize("total, used, available, full", [(5, 1, 4, False), (5, 5, 0, True), (5, 6, 0, True)])
def test_seats(total, used, available, full):
    row = dict(TotalLicenses=total, UsedLicenses=used)
    assert org.seats(row) == dict(total=total, used=used, available=available)
    assert org.out_of_seats(row) is full
    assert org.seats_text(row) == "%d of %d used" % (used, total)


def test_unknown_seat_counts_leave_the_check_to_salesforce():
    assert org.out_of_seats({}) is False and org.seats({}) == dict(total=0, used=0, available=0)


def profile(name, api_only=False, **permissions):
    row = dict(Name=name, PermissionsApiUserOnly=api_only)
    row.update(("Permissions" + p, v) for p, v in permissions.items())
    return row


def test_integration_profiles_are_api_profiles_that_are_not_admin_grade():
    assert org.is_integration_profile(profile("Minimum Access - API Only Integrations", True), "Salesforce Integration")
    assert org.is_integration_profile(profile("Custom Integration"), "Salesforce Integration")
    assert org.is_integration_profile(profile("Custom API Only", True), "Salesforce")
    assert not org.is_integration_profile(profile("Standard User"), "Salesforce")
    assert not org.is_integration_profile(profile("API Admin", True, ModifyAllData=True), "Salesforce")
    assert not org.is_integration_profile(profile("System Administrator", True), "Salesforce")


def test_admin_grade_reasons():
    assert org.admin_grade_reasons(profile("X", ViewAllData=True, AuthorApex=True)) == ["View All Data", "Author Apex"]
    assert org.admin_grade_reasons(profile("System Administrator")) == ["System Administrator"]
    assert org.admin_grade_reasons(profile("Minimum Access - Salesforce")) == []


def test_an_integration_user_is_one_rule_whatever_its_rights():
    assert org.is_integration_user("Salesforce Integration", False)
    assert org.is_integration_user("Salesforce", True)  # API Only User through its profile or a permission set
    assert not org.is_integration_user("Salesforce", False) and not org.is_integration_user(None, False)
    # An admin-grade API only profile still makes its users integration users (the audit reports them), but is unfit.
    admin = dict(Name="Custom API Admin", PermissionsApiUserOnly=True, PermissionsModifyAllData=True)
    assert org.is_integration_user("Salesforce", admin["PermissionsApiUserOnly"])
    assert not org.is_integration_profile(admin, "Salesforce")
