from __future__ import annotations

from ansible_collections.sfops.integration.plugins.modules import sf_org_info


def rows():
    return dict(
        org=[dict(Id="00D1", Name="Acme", OrganizationType="Enterprise Edition", IsSandbox=False, InstanceName="EMU1")],
        user_licenses=[
            dict(Id="100A", Name="Salesforce", LicenseDefinitionKey="SFDC", Status="Active", TotalLicenses=10,
                 UsedLicenses=3),
            dict(Id="100B", Name="Salesforce Integration", LicenseDefinitionKey="PID_Integration", Status="Active",
                 TotalLicenses=5, UsedLicenses=6),
        ],
        permission_set_licenses=[dict(Id="0PL1", DeveloperName="SalesforceAPIIntegrationPsl",
                                      MasterLabel="Salesforce API Integration", Status="Active", TotalLicenses=5,
                                      UsedLicenses=1, ExpirationDate=None)],
        profiles=[
            dict(Id="00e1", Name="System Administrator", UserLicenseId="100A", PermissionsApiUserOnly=False,
                 PermissionsTwoFactorApi=True),
            dict(Id="00e2", Name="Minimum Access - API Only Integrations", UserLicenseId="100B",
                 PermissionsApiUserOnly=True, PermissionsTwoFactorApi=False),
            dict(Id="00e3", Name="Custom API Only", UserLicenseId="100A", PermissionsApiUserOnly=True,
                 PermissionsTwoFactorApi=False),
            # API only, but admin-grade: never an integration user's profile (sf_integration_user agrees)
            dict(Id="00e4", Name="API Admin", UserLicenseId="100A", PermissionsApiUserOnly=True,
                 PermissionsTwoFactorApi=False, PermissionsModifyAllData=True),
        ],
        mfa_permission_sets=[dict(Id="0PS1", Name="MFA_For_API")],
    )


def test_summary():
    facts = sf_org_info.summarise(rows(), {"DailyApiRequests": {"Max": 100000, "Remaining": 99990}})
    assert facts["org"] == dict(id="00D1", name="Acme", edition="Enterprise Edition", is_sandbox=False,
                                instance_name="EMU1")
    assert facts["limits"] == dict(daily_api_requests=dict(max=100000, remaining=99990))
    integration = [lic for lic in facts["user_licenses"] if lic["name"] == "Salesforce Integration"][0]
    assert (integration["total"], integration["used"], integration["available"]) == (5, 6, 0)
    assert facts["permission_set_licenses"][0]["available"] == 4
    assert [p["name"] for p in facts["integration_profiles"]] == [
        "Minimum Access - API Only Integrations", "Custom API Only"]
    assert facts["integration_profiles"][0]["user_license"] == "Salesforce Integration"
    assert facts["mfa_for_api_logins"] == dict(required=True, profiles=["System Administrator"],
                                               permission_sets=["MFA_For_API"])


def test_no_mfa():
    data = rows()
    data["profiles"][0]["PermissionsTwoFactorApi"] = False
    data["mfa_permission_sets"] = []
    assert sf_org_info.summarise(data, {})["mfa_for_api_logins"]["required"] is False


def test_five_queries_fit_one_composite():
    # composite allows at most 5 query subrequests
    assert len(sf_org_info.QUERIES) <= 5


def test_the_profile_query_reads_what_makes_a_profile_admin_grade():
    assert "PermissionsModifyAllData" in sf_org_info.QUERIES["profiles"]
