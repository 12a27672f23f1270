from __future__ import annotations

from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
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


# ---- names and fields checked before a rollout writes ------------------------------------------------

def describe(name, *fields):
    return dict(name=name, fields=[dict(name=f, permissionable=not f.startswith("No"), calculated=f.startswith("Formula"))
                                   for f in fields])


DESCRIBES = dict(
    ObjectPermissions=dict(name="ObjectPermissions", fields=[dict(name="SobjectType", picklistValues=[
        dict(value="Account", active=True), dict(value="Lead", active=True)])]),
    Account=describe("Account", "Industry", "NoPermissions", "FormulaScore"),
    Lead=describe("Lead", "Email"),
    User=describe("User", "Email"),
    PermissionSet=dict(name="PermissionSet", fields=[dict(name="PermissionsConvertLeads", type="boolean", label="Convert Leads"),
                                                     dict(name="PermissionsApiEnabled", type="boolean", label="API Enabled")]),
)


class FakeClient:
    """Answers composite reads: queries from {reference: rows}, describes from DESCRIBES (404 for others)."""

    def __init__(self, answers):
        self.answers, self.composites = answers, []

    def composite_query(self, ref, text):
        return dict(referenceId=ref, query=text)

    def composite_describe(self, ref, sobject):
        return dict(referenceId=ref, describe=sobject)

    def read(self, subs):
        self.composites.append(subs)
        out = {}
        for sub in subs:
            if "describe" in sub:
                body = DESCRIBES.get(sub["describe"])
                out[sub["referenceId"]] = dict(httpStatusCode=200 if body else 404, body=body or [dict(errorCode="NOT_FOUND")])
            else:
                out[sub["referenceId"]] = dict(httpStatusCode=200, body=dict(records=self.answers.get(sub["referenceId"], [])))
        return out

    def composite_body(self, responses, ref, **_kwargs):
        assert responses[ref]["httpStatusCode"] < 300
        return responses[ref]["body"]

    def composite_records(self, responses, ref):
        return responses[ref]["body"]["records"]

    def more_records(self, page):
        return list((page or {}).get("records") or [])

    def limits(self):
        return {}


class FakeModule:
    """What run() uses of SalesforceModule: params, the client, and the real finish()."""

    finish = SalesforceModule.finish
    _client = None

    def __init__(self, params, client):
        self.params, self.client = params, client


def params(**given):
    return dict(dict(permission_sets=[], permission_set_groups=[], system_permissions=[], objects=[], fields=[]), **given)


def run(answers, **given):
    client = FakeClient(dict(rows(), **answers))
    return sf_org_info.run(FakeModule(params(**given), client)), client


def test_nothing_to_check_reads_as_before():
    result, client = run({})
    assert len(client.composites) == 1 and len(client.composites[0]) == 5
    assert dict((s["referenceId"], s["query"]) for s in client.composites[0]) == sf_org_info.QUERIES
    assert result["problems"] == []


def test_the_change_record_says_nothing_changed():
    result, _client = run({})
    assert result["changed"] is False
    assert result["change"]["action"] == "none" and result["change"]["kind"] == "org" and result["change"]["name"] == "Acme"
    assert result["change"]["details"] == []


def test_sets_and_groups_ride_in_the_permission_set_query():
    found = [dict(Id="0PS1", Name="MFA_For_API", PermissionsTwoFactorApi=True),
             dict(Id="0PS2", Name="Marketo_Extra", PermissionsTwoFactorApi=False),
             dict(Id="0PS3", Name="X0PG1", PermissionsTwoFactorApi=False, PermissionSetGroupId="0PG1",
                  PermissionSetGroup=dict(DeveloperName="Sales_Ops"))]
    hints = dict(permission_set=[dict(Name="Marketo_Extra"), dict(Name="No_Such_Sat")],
                 permission_set_group=[dict(DeveloperName="Sales_Ops")])
    result, client = run(dict(mfa_permission_sets=found, **hints), permission_sets=["marketo_extra", "No_Such_Set"],
                         permission_set_groups=["SALES_OPS", "No_Such_Group"])
    first = dict((s["referenceId"], s["query"]) for s in client.composites[0])
    assert len(first) == 5
    assert "Name IN ('marketo_extra','No_Such_Set')" in first["mfa_permission_sets"]
    assert "PermissionSetGroup.DeveloperName IN ('SALES_OPS','No_Such_Group')" in first["mfa_permission_sets"]
    # the MFA facts are still only the sets granting the permission
    assert result["mfa_for_api_logins"]["permission_sets"] == ["MFA_For_API"]
    assert [(p["kind"], p["name"]) for p in result["problems"]] == [
        ("permission_set", "No_Such_Set"), ("permission_set_group", "No_Such_Group")]
    assert result["problems"][0]["message"] == "no permission set named 'No_Such_Set' (did you mean No_Such_Sat?)"
    assert len(client.composites) == 2  # the hint read, only because something is missing


def test_all_found_costs_no_hint_read():
    found = [dict(Id="0PS2", Name="Marketo_Extra", PermissionsTwoFactorApi=False)]
    result, client = run(dict(mfa_permission_sets=found), permission_sets=["Marketo_Extra"])
    assert result["problems"] == [] and len(client.composites) == 1
    assert result["mfa_for_api_logins"]["permission_sets"] == []


def test_objects_and_fields_are_described_in_the_same_composite():
    result, client = run({}, objects=["Account", "Nope__c", "User"], fields=[
        dict(field="Account.Industry", access="edit"), dict(field="Lead.Emial", access="read"),
        dict(field="Account.NoPermissions", access="read"), dict(field="Account.FormulaScore", access="edit"),
        dict(field="Account.FormulaScore", access="read"), dict(field="Ghost__c.Field__c", access="read"),
        dict(field="Ghost__c.Field__c", access="edit"),
        dict(field="Industry", access="read")])
    assert len(client.composites) == 1
    described = [s["describe"] for s in client.composites[0] if "describe" in s]
    assert described == ["ObjectPermissions", "Account", "Nope__c", "User", "Lead", "Ghost__c"]
    messages = [(p["kind"], p["name"], p["message"]) for p in result["problems"]]
    assert messages == [
        ("object", "Nope__c", "unknown object 'Nope__c'"),
        ("object", "User", "object 'User' takes no object or field permissions in Salesforce"),
        ("field", "Lead.Emial", "unknown field 'Lead.Emial' (did you mean Lead.Email?)"),
        ("field", "Account.NoPermissions", "field Account.NoPermissions takes no field permissions in Salesforce "
                                           "(system, required or master-detail fields are always visible)"),
        ("field", "Account.FormulaScore", "field Account.FormulaScore is a formula or auto-number field: only read "
                                          "access can be granted"),
        ("field", "Ghost__c.Field__c", "unknown object 'Ghost__c'"),
        ("field", "Industry", "field 'Industry' must be written Object.Field, for example Invoice__c.Paid__c"),
    ]


def test_system_permissions_are_checked_against_the_permission_set_describe():
    result, client = run({}, system_permissions=["convertleads", "PermissionsApiEnabled", "ConvertLead", "NoSuch"])
    assert len(client.composites) == 1
    assert [s["describe"] for s in client.composites[0] if "describe" in s] == ["PermissionSet"]
    assert [(p["kind"], p["name"], p["message"]) for p in result["problems"]] == [
        ("system_permission", "ConvertLead", "unknown system permission 'ConvertLead' (did you mean ConvertLeads?)"),
        ("system_permission", "NoSuch", "unknown system permission 'NoSuch'"),
    ]


def test_licenses_are_checked_against_the_rows_read_anyway():
    """Names as sf_permission_set takes them (API name or label, user license, none), without regard to case."""
    asked = dict(licenses=["salesforce api integration", "SalesforceAPIIntegrationPsl", "Salesforce Integration", "none",
                           "Salesforce API Integrations"])
    assert sf_org_info.license_problems(asked, rows()) == [dict(
        kind="license", name="Salesforce API Integrations",
        message="unknown license 'Salesforce API Integrations' (did you mean Salesforce API Integration, "
                "SalesforceAPIIntegrationPsl, Salesforce Integration?)")]
    assert sf_org_info.license_problems(dict(licenses=[]), rows()) == []
