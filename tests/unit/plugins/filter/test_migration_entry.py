"""migration_entry: the sf_integrations entry a shared user's access turns into."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.argument_errors import argument_errors
from ansible_collections.sfops.integration.plugins.filter.migration_entry import migration_entry, set_name

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PROFILE = dict(kind="profile", name="Standard User")
ADMIN = dict(kind="permission_set", name="Shared_Admin")


def access(**changes):
    value = dict(
        user=dict(username="shared@acme.example", email="ops@acme.example", profile="Standard User", license="Salesforce"),
        permission_set_license=dict(developer_name="SalesforceAPIIntegrationPsl", label="Salesforce API Integration"),
        system_permissions=[
            dict(name="ApiEnabled", label="API Enabled", privileged=False, license_allows=True, sources=[PROFILE]),
            dict(name="ModifyAllData", label="Modify All Data", privileged=True, license_allows=False, sources=[ADMIN]),
            dict(name="LightningExperienceUser", label="Lightning Experience User", privileged=True,
                 license_allows=False, sources=[PROFILE]),
            dict(name="ManageLeads", label="Manage Leads", privileged=False, license_allows=False, sources=[ADMIN]),
            dict(name="RunReports", label="Run Reports", privileged=False, license_allows=None, sources=[PROFILE, ADMIN]),
        ],
        object_permissions=[
            dict(object="Account", access=["read", "create", "edit", "delete", "view_all_records"], sources=[
                dict(PROFILE, access=["read", "create", "edit", "delete"]),
                dict(kind="permission_set", name="Shared_Sync", access=["read", "view_all_records"])]),
            dict(object="Invoice__c", access=["read"], sources=[dict(PROFILE, access=["read"])]),
        ],
        field_permissions=[dict(field="Account.Industry", object="Account", access="edit",
                                sources=[dict(kind="permission_set", name="Shared_Sync", access="edit")])],
    )
    value.update(changes)
    return value


def test_the_entry_keeps_data_access_and_leaves_out_privileged_and_unlicensed():
    result = migration_entry(access(), "marketo", org="org1")
    entry = result["entry"]
    assert entry["user"] == dict(username="marketo.integration@acme.example", email="ops@acme.example",
                                 last_name="Marketo Integration")
    permission_set = entry["permission_sets"][0]
    assert permission_set["name"] == "Marketo_Integration" and "license" not in permission_set
    assert permission_set["system_permissions"] == ["ApiEnabled", "RunReports"]
    assert permission_set["object_permissions"] == [
        dict(object="Account", access=["read", "create", "edit", "delete"]), dict(object="Invoice__c", access=["read"])]
    assert permission_set["field_permissions"] == [dict(field="Account.Industry", access="edit")]
    reasons = dict((item["permission"], item) for item in result["left_out"])
    assert reasons["ModifyAllData (Modify All Data)"]["reason"].startswith("admin-grade")
    assert reasons["ModifyAllData (Modify All Data)"]["sources"] == "permission set Shared_Admin"
    assert reasons["LightningExperienceUser (Lightning Experience User)"]["reason"].startswith("privileged")
    assert "Salesforce API Integration license does not allow it" in reasons["ManageLeads (Manage Leads)"]["reason"]
    assert reasons["view_all_records on Account"]["sources"] == "permission set Shared_Sync"
    assert result["kept"] == dict(system_permissions=2, objects=2, fields=1)


def test_the_text_is_the_entry_with_comments_and_the_role_accepts_it():
    result = migration_entry(access(), "marketo", username="marketo@acme.example", email="int@acme.example", org="org1")
    text = result["text"]
    loaded = yaml.safe_load(text)
    assert loaded == dict(sf_integrations=[result["entry"]])
    assert loaded["sf_integrations"][0]["user"]["username"] == "marketo@acme.example"
    assert "#   - ModifyAllData (Modify All Data): admin-grade" in text
    assert "- RunReports  # profile Standard User; permission set Shared_Admin; the license does not say" in text
    assert "- object: Account  # profile Standard User (read, create, edit, delete); permission set Shared_Sync" in text
    assert "ModifyAllData" not in yaml.safe_dump(loaded)
    with open(os.path.join(REPO, "roles", "integration_users", "meta", "argument_specs.yml")) as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert argument_errors(loaded, spec) == []


def test_a_user_without_access_gives_an_empty_set():
    result = migration_entry(access(system_permissions=[], object_permissions=[], field_permissions=[]), "billing")
    permission_set = result["entry"]["permission_sets"][0]
    assert set(permission_set) == {"name", "label", "description"}
    assert result["left_out"] == []
    assert "holds no access" in result["text"]
    assert yaml.safe_load(result["text"])["sf_integrations"][0]["permission_sets"][0]["name"] == "Billing_Integration"


def test_names():
    assert set_name("sap-erp") == "Sap_Erp_Integration"
    with pytest.raises(AnsibleFilterError, match="integration name 'bad name'"):
        migration_entry(access(), "bad name")
    with pytest.raises(AnsibleFilterError, match="permission_set_license"):
        migration_entry(dict((k, v) for k, v in access().items() if k != "permission_set_license"), "ok")
    with pytest.raises(AnsibleFilterError, match="sf_user_access"):
        migration_entry({}, "ok")
