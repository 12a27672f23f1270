"""External Client Apps through Metadata SOAP, the Connect REST credentials resources, SOQL on
ExternalClientApplication, ConnectedApp creation, and the OAuth clients find_app builds (oauth reference
A.1-A.3; docs/emulator.md "External Client Apps").

Raw HTTP shaped as zeep sends it (reference 1.7), plus one end-to-end run of simple-salesforce's sf.mdapi.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import pytest

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
APP, GLOBAL, OAUTH, POLICIES = ("ExternalClientApplication", "ExtlClntAppGlobalOauthSettings",
                                "ExtlClntAppOauthSettings", "ExtlClntAppOauthConfigurablePolicies")


def _xml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "".join(f"<ns0:{k}>{_xml(v)}</ns0:{k}>" for k, v in value.items())
    return escape(str(value))


class Metadata:
    """Metadata SOAP calls over raw HTTP for one org."""

    def __init__(self, org):
        self.org = org
        self.url = f"{org.url}/services/Soap/m/62.0/"

    def call(self, op: str, inner: str, session_id=None):
        body = (f'<soap-env:Envelope xmlns:soap-env="{SOAP}"><soap-env:Header><ns0:SessionHeader xmlns:ns0="{MD}">'
                f'<ns0:sessionId>{session_id or self.org.token}</ns0:sessionId></ns0:SessionHeader></soap-env:Header>'
                f'<soap-env:Body><ns0:{op} xmlns:ns0="{MD}">{inner}</ns0:{op}></soap-env:Body></soap-env:Envelope>')
        r = self.org.http.post(self.url, data=body.encode(), headers={"SOAPAction": '""',
                                                                      "Content-Type": "text/xml; charset=utf-8"})
        return r.status_code, ET.fromstring(r.content)

    def results(self, op: str, inner: str) -> list[ET.Element]:
        status, root = self.call(op, inner)
        assert status == 200, ET.tostring(root)
        return root.find(f"{{{SOAP}}}Body/{{{MD}}}{op}Response").findall(f"{{{MD}}}result")

    def save(self, op: str, type_: str, full_name: str, **fields) -> ET.Element:
        inner = "".join(f"<ns0:{k}>{_xml(v)}</ns0:{k}>" for k, v in fields.items() if v is not None)
        [result] = self.results(op, f'<ns0:metadata xmlns:xsi="{XSI}" xsi:type="ns0:{type_}"><ns0:fullName>'
                                    f'{escape(full_name)}</ns0:fullName>{inner}</ns0:metadata>')
        return result

    def ok(self, op: str, type_: str, full_name: str, **fields) -> ET.Element:
        result = self.save(op, type_, full_name, **fields)
        assert text(result, "success") == "true", ET.tostring(result)
        return result

    def read(self, type_: str, name: str) -> ET.Element:
        [result] = self.results("readMetadata", f"<ns0:type>{type_}</ns0:type><ns0:fullNames>{name}</ns0:fullNames>")
        [record] = result.findall(f"{{{MD}}}records")
        return record

    def delete(self, type_: str, name: str) -> ET.Element:
        [result] = self.results("deleteMetadata", f"<ns0:type>{type_}</ns0:type><ns0:fullNames>{name}</ns0:fullNames>")
        return result

    def list(self, type_: str) -> dict[str, ET.Element]:
        rows = self.results("listMetadata", f"<ns0:queries><ns0:type>{type_}</ns0:type></ns0:queries>"
                                            "<ns0:asOfVersion>62.0</ns0:asOfVersion>")
        return {text(r, "fullName"): r for r in rows}


def text(el: ET.Element, name: str):
    found = el.find(f"{{{MD}}}{name}")
    return None if found is None else found.text


def error(result: ET.Element) -> tuple[str, str]:
    assert text(result, "success") == "false", ET.tostring(result)
    err = result.find(f"{{{MD}}}errors")
    return text(err, "statusCode"), text(err, "message")


def fault(root: ET.Element) -> tuple[str, str]:
    el = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert el is not None, ET.tostring(root)
    return el.findtext("faultcode"), el.findtext("faultstring")


def new_name(prefix: str = "Eca") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def new_app(md: Metadata, **fields) -> str:
    name = new_name()
    md.ok("createMetadata", APP, name, **dict(dict(label="Billing sync", contactEmail="ops@example.test"), **fields))
    return name


def oauth_app(md: Metadata, run_as: str = None, **policy) -> str:
    """An app with its three OAuth components, named as the collection names them."""
    name = new_app(md)
    md.ok("createMetadata", GLOBAL, f"{name}_glbloauth", externalClientApplication=name,
          callbackUrl="https://localhost/callback", isClientCredentialsFlowEnabled=True)
    md.ok("createMetadata", OAUTH, f"{name}_oauth", externalClientApplication=name, commaSeparatedOauthScopes="Api")
    md.ok("createMetadata", POLICIES, f"{name}_oauthPlcy", externalClientApplication=name,
          clientCredentialsFlowUser=run_as, isClientCredentialsFlowEnabled=run_as is not None, **policy)
    return name


def settings(org, **values) -> None:
    r = org.admin("POST", "settings", json=values)
    assert r.status_code == 200, r.text


def pem_certificate() -> str:
    from sf_emulator import tls
    _key, cert = tls.make_jwt_keypair("eca-test")
    return tls.pem_cert(cert).decode()


@pytest.fixture(scope="module")
def md(org2) -> Metadata:
    return Metadata(org2)


@pytest.fixture(scope="module")
def integration_username(org2) -> str:
    """A user on Minimum Access - API Only Integrations: API Only User through the profile."""
    user_id = org2.new_user()
    return org2.one(f"SELECT Username FROM User WHERE Id = '{user_id}'")["Username"]


# -- ExternalClientApplication -----------------------------------------------------------------------------
def test_app_create_read_update_upsert_list_delete(md, org2):
    name = new_name()
    created = md.ok("createMetadata", APP, name, label="Billing sync", contactEmail="ops@example.test",
                    description="nightly", distributionState="Local", isProtected=False)
    assert text(created, "fullName") == name
    record = md.read(APP, name)
    assert record.get(f"{{{XSI}}}type") == APP  # zeep needs the type (reference 1.7)
    assert text(record, "label") == "Billing sync" and text(record, "description") == "nightly"
    # [MD-ECA] "[orgId]:[ECA name]", generated when not given.
    assert text(record, "orgScopedExternalApp") == f"{org2.org['org_id']}:{name}"
    row = md.list(APP)[name]
    assert text(row, "type") == APP and text(row, "fileName") == f"externalClientApps/{name}.eca"
    sobject = org2.one(f"SELECT Id, DeveloperName, MasterLabel FROM ExternalClientApplication "
                       f"WHERE DeveloperName = '{name}'")
    assert text(row, "id") == sobject["Id"] and sobject["MasterLabel"] == "Billing sync"

    updated = md.ok("updateMetadata", APP, name, label="Billing sync 2", contactEmail="ops@example.test")
    assert text(updated, "created") is None
    record = md.read(APP, name)
    assert text(record, "label") == "Billing sync 2" and text(record, "description") is None  # replaced whole
    assert text(record, "orgScopedExternalApp") == f"{org2.org['org_id']}:{name}"  # kept once generated
    assert org2.one(f"SELECT MasterLabel FROM ExternalClientApplication WHERE Id = '{sobject['Id']}'")[
        "MasterLabel"] == "Billing sync 2"
    upserted = md.ok("upsertMetadata", APP, name, label="Billing sync 3", contactEmail="ops@example.test")
    assert text(upserted, "created") == "false"
    other = new_name()
    assert text(md.ok("upsertMetadata", APP, other, label="x", contactEmail="ops@example.test"), "created") == "true"
    assert text(md.read(APP, other), "distributionState") == "Local"  # defaulted on create (docs/emulator.md)

    assert text(md.delete(APP, name), "success") == "true"
    assert md.read(APP, name).get(f"{{{XSI}}}nil") == "true"
    assert org2.query(f"SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '{name}'")["totalSize"] == 0
    assert error(md.delete(APP, name))[0] == "INVALID_CROSS_REFERENCE_KEY"
    md.delete(APP, other)


def test_app_needs_label_contact_email_and_an_api_name(md):
    code, message = error(md.save("createMetadata", APP, new_name(), label="No email"))
    assert code == "REQUIRED_FIELD_MISSING" and "contactEmail" in message
    code, message = error(md.save("createMetadata", APP, "Bad__name", label="x", contactEmail="ops@example.test"))
    assert "fullName" in message
    name = new_app(md)
    assert error(md.save("createMetadata", APP, name, label="x", contactEmail="ops@example.test"))[0] == \
        "DUPLICATE_VALUE"
    assert error(md.save("updateMetadata", APP, new_name(), label="x", contactEmail="ops@example.test"))[0] == \
        "INVALID_CROSS_REFERENCE_KEY"
    md.delete(APP, name)


@pytest.mark.parametrize("type_, fields, bad", [
    (APP, dict(label="x", contactEmail="ops@example.test", distributionState="Global"), "distributionState"),
    (APP, dict(label="x", contactEmail="ops@example.test", isProtected="maybe"), "isProtected"),
    (POLICIES, dict(permittedUsersPolicyType="Everyone"), "permittedUsersPolicyType"),
    (POLICIES, dict(requiredSessionLevel="MEDIUM"), "requiredSessionLevel"),
    (POLICIES, dict(policyAction="Allow"), "policyAction"),
    (POLICIES, dict(refreshTokenPolicyType="Forever"), "refreshTokenPolicyType"),
    (POLICIES, dict(ipRelaxationPolicyType="Relax"), "ipRelaxationPolicyType"),
    (POLICIES, dict(sessionTimeoutInMinutes="soon"), "sessionTimeoutInMinutes"),
    (OAUTH, dict(noSuchField="x"), "noSuchField"),
])
def test_enumerations_and_field_types_are_checked(md, type_, fields, bad):
    name = new_app(md)
    if type_ != APP:
        fields = dict(fields, externalClientApplication=name)
    code, message = error(md.save("createMetadata", type_, new_name(), **fields))
    assert bad in message and code
    md.delete(APP, name)


# -- child components --------------------------------------------------------------------------------------
@pytest.mark.parametrize("type_, fields, changed, file_name", [
    (GLOBAL, dict(callbackUrl="https://localhost/cb", isPkceRequired=True), dict(callbackUrl="https://localhost/2"),
     "extlClntAppGlobalOauthSets/{}.ecaGlblOauth"),
    (OAUTH, dict(commaSeparatedOauthScopes="Api,RefreshToken"), dict(commaSeparatedOauthScopes="Api"),
     "extlClntAppOauthSettings/{}.ecaOauth"),
    (POLICIES, dict(permittedUsersPolicyType="AllSelfAuthorized", ipRelaxationPolicyType="Enforce",
                    refreshTokenPolicyType="Infinite", sessionTimeoutInMinutes=15),
     dict(permittedUsersPolicyType="AdminApprovedPreAuthorized", requiredSessionLevel="STANDARD"),
     "extlClntAppOauthPolicies/{}.ecaOauthPlcy"),
])
def test_child_types_create_read_update_upsert_list_delete(md, type_, fields, changed, file_name):
    app = new_app(md)
    name = f"{app}_child"
    md.ok("createMetadata", type_, name, externalClientApplication=app, **fields)
    record = md.read(type_, name)
    assert record.get(f"{{{XSI}}}type") == type_ and text(record, "externalClientApplication") == app
    for k, v in fields.items():
        assert text(record, k) == (str(v).lower() if isinstance(v, bool) else str(v))
    assert text(md.list(type_)[name], "fileName") == file_name.format(name)
    md.ok("updateMetadata", type_, name, externalClientApplication=app, **changed)
    record = md.read(type_, name)
    assert all(text(record, k) == v for k, v in changed.items())
    assert text(md.ok("upsertMetadata", type_, name, externalClientApplication=app, **fields), "created") == "false"
    assert text(md.delete(type_, name), "success") == "true"
    assert md.read(type_, name).get(f"{{{XSI}}}nil") == "true"
    md.delete(APP, app)


def test_child_needs_an_existing_app_and_each_type_once_per_app(md):
    code, message = error(md.save("createMetadata", OAUTH, new_name(), externalClientApplication="No_such_app"))
    # The platform's answer to a reference naming no component (3P recording, docs/emulator.md).
    assert (code, message) == ("INVALID_CROSS_REFERENCE_KEY",
                               "In field: externalClientApplication - no ExternalClientApplication named No_such_app found")
    assert error(md.save("createMetadata", OAUTH, new_name()))[0] == "REQUIRED_FIELD_MISSING"
    app = new_app(md)
    md.ok("createMetadata", OAUTH, f"{app}_oauth", externalClientApplication=app)
    code, message = error(md.save("createMetadata", OAUTH, f"{app}_oauth2", externalClientApplication=app))
    assert code == "DUPLICATE_VALUE" and f"{app}_oauth" in message


def test_deleting_the_app_deletes_its_components(md, org2):
    app = oauth_app(md)
    before = len(org2.requests_log())
    assert text(md.delete(APP, app), "success") == "true"
    for type_, suffix in ((GLOBAL, "_glbloauth"), (OAUTH, "_oauth"), (POLICIES, "_oauthPlcy")):
        assert md.read(type_, app + suffix).get(f"{{{XSI}}}nil") == "true"
    delete = [r for r in org2.requests_log()[before:] if r["kind"] == "metadata"][0]
    assert delete["writes"] == 4  # the app and its three components


# -- consumer key and secret -------------------------------------------------------------------------------
def test_generated_key_and_secret_the_secret_never_read_back(md, org2):
    app = oauth_app(md)
    record = md.read(GLOBAL, f"{app}_glbloauth")
    key = text(record, "consumerKey")
    # As a key a real org generated for an ECA (3P, docs/emulator.md): 85 characters, 3MVG9, two dots inside.
    assert len(key) == 85 and key.startswith("3MVG9") and key.count(".") == 2 and key.replace(".", "").isalnum()
    assert record.find(f"{{{MD}}}consumerSecret") is None  # [MD-CA]: secrets are not returned
    chosen = md.ok("createMetadata", GLOBAL, new_name(), externalClientApplication=new_app(md),
                   consumerKey="Key" + uuid.uuid4().hex, consumerSecret="Secret" + uuid.uuid4().hex)
    record = md.read(GLOBAL, text(chosen, "fullName"))
    assert text(record, "consumerKey").startswith("Key") and record.find(f"{{{MD}}}consumerSecret") is None


def test_consumer_key_is_unique_across_orgs_and_create_only(md, org1, org2):
    key = "Unique" + uuid.uuid4().hex
    app = new_app(md)
    md.ok("createMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app, consumerKey=key)
    md1 = Metadata(org1)
    other = new_app(md1)
    code, message = error(md1.save("createMetadata", GLOBAL, f"{other}_glbloauth", externalClientApplication=other,
                                   consumerKey=key))
    assert (code, message) == ("DUPLICATE_VALUE", "The consumer key is already taken.")
    # The seeded connected app's key is taken as well.
    assert error(md1.save("createMetadata", GLOBAL, f"{other}_glbloauth", externalClientApplication=other,
                          consumerKey=org1.org["client_id"]))[0] == "DUPLICATE_VALUE"
    assert error(md1.save("createMetadata", GLOBAL, f"{other}_glbloauth", externalClientApplication=other,
                          consumerKey="short"))[0]
    md1.delete(APP, other)
    # Create-only: an update may repeat the key or leave it out, not change it.
    code, message = error(md.save("updateMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app,
                                  consumerKey="Other" + uuid.uuid4().hex))
    assert "consumerKey" in message
    md.ok("updateMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app, consumerKey=key,
          callbackUrl="https://localhost/2")
    md.ok("updateMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app, callbackUrl="https://l/3")
    assert text(md.read(GLOBAL, f"{app}_glbloauth"), "consumerKey") == key
    md.delete(APP, app)


def test_certificate_must_be_a_pem_certificate(md):
    app = new_app(md)
    code, message = error(md.save("createMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app,
                                  certificate="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"))
    assert "certificate" in message and code
    pem = pem_certificate()
    md.ok("createMetadata", GLOBAL, f"{app}_glbloauth", externalClientApplication=app, certificate=pem)
    assert text(md.read(GLOBAL, f"{app}_glbloauth"), "certificate").strip() == pem.strip()
    md.delete(APP, app)


# -- policies ----------------------------------------------------------------------------------------------
def test_run_as_user_must_exist_and_be_api_only(md, org2, integration_username):
    app = new_app(md)
    standard_id = org2.new_user("Standard User")
    standard = org2.one(f"SELECT Username FROM User WHERE Id = '{standard_id}'")["Username"]
    for username in (standard, "nobody@example.test"):
        code, message = error(md.save("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
                                      clientCredentialsFlowUser=username, isClientCredentialsFlowEnabled=True))
        assert "clientCredentialsFlowUser" in message and code
    md.ok("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
          clientCredentialsFlowUser=integration_username.upper(), isClientCredentialsFlowEnabled=True)
    md.delete(APP, app)


def test_api_only_through_an_assigned_permission_set_counts(md, org2):
    app = new_app(md)
    user_id = org2.new_user("Standard User")
    username = org2.one(f"SELECT Username FROM User WHERE Id = '{user_id}'")["Username"]
    r = org2.create("PermissionSet", {"Name": new_name("ApiOnly"), "Label": "API only",
                                      "PermissionsApiEnabled": True, "PermissionsApiUserOnly": True})
    assert r.status_code == 201, r.text
    assert org2.create("PermissionSetAssignment", {"AssigneeId": user_id,
                                                   "PermissionSetId": r.json()["id"]}).status_code == 201
    md.ok("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
          clientCredentialsFlowUser=username)
    md.delete(APP, app)


def test_permission_set_and_profile_ids_must_exist(md, org2):
    app = new_app(md)
    r = org2.create("PermissionSet", {"Name": new_name("Eca"), "Label": "ECA users"})
    assert r.status_code == 201, r.text
    ps_id = r.json()["id"]
    profile_id = org2.one("SELECT Id FROM Profile WHERE Name = 'Minimum Access - API Only Integrations'")["Id"]
    missing = ps_id[:3] + "Hz000000ZZZZ"
    code, message = error(md.save("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
                                  permittedUsersPolicyType="AdminApprovedPreAuthorized",
                                  commaSeparatedPermissionSet=f"{ps_id},{missing}"))
    assert code and missing in message
    assert error(md.save("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
                         commaSeparatedProfile="Standard User"))[0]  # ids, not names
    md.ok("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
          permittedUsersPolicyType="AdminApprovedPreAuthorized", commaSeparatedPermissionSet=ps_id[:15],
          commaSeparatedProfile=profile_id)
    md.delete(APP, app)


def test_preauthorise_by_names_setting_switches_ids_for_names(md, org2):
    """UNVERIFIED which the org takes (docs/emulator.md): with the setting the policies name sets and profiles."""
    app = new_app(md)
    set_name = new_name("Eca")
    r = org2.create("PermissionSet", {"Name": set_name, "Label": set_name})
    assert r.status_code == 201, r.text
    ps_id = r.json()["id"]
    settings(org2, eca_preauthorise_by_names=True)
    try:
        code, message = error(md.save("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
                                      permittedUsersPolicyType="AdminApprovedPreAuthorized",
                                      commaSeparatedPermissionSet=ps_id))
        assert code == "INVALID_CROSS_REFERENCE_KEY" and ps_id in message  # an id names no set
        md.ok("createMetadata", POLICIES, f"{app}_oauthPlcy", externalClientApplication=app,
              permittedUsersPolicyType="AdminApprovedPreAuthorized", commaSeparatedPermissionSet=set_name,
              commaSeparatedProfile="Minimum Access - API Only Integrations")
        assert text(md.read(POLICIES, f"{app}_oauthPlcy"), "commaSeparatedPermissionSet") == set_name
    finally:
        settings(org2, eca_preauthorise_by_names=False)
    md.delete(APP, app)


# -- settings ----------------------------------------------------------------------------------------------
def test_connected_app_creation_is_refused_unless_enabled(md, org2):
    name = new_name("Ca")
    connected_app = dict(label="Legacy", contactEmail="ops@example.test",
                         oauthConfig=dict(callbackUrl="https://localhost/cb", scopes="Api"))
    code, message = error(md.save("createMetadata", "ConnectedApp", name, **connected_app))
    assert message == ("You can't create a connected app. To enable connected app creation, contact Salesforce "
                       "Customer Support.") and code
    assert error(md.save("upsertMetadata", "ConnectedApp", name, **connected_app))[1].startswith("You can't create")
    settings(org2, connected_app_creation=True)
    try:
        md.ok("createMetadata", "ConnectedApp", name, **connected_app)
    finally:
        settings(org2, connected_app_creation=False)
    record = md.read("ConnectedApp", name)
    oauth = record.find(f"{{{MD}}}oauthConfig")
    assert text(oauth, "consumerKey") and oauth.find(f"{{{MD}}}consumerSecret") is None  # [MD-CA]
    md.ok("updateMetadata", "ConnectedApp", name, **dict(connected_app, label="Legacy 2"))  # editing still works
    assert text(md.list("ConnectedApp")[name], "fileName") == f"connectedApps/{name}.connectedApp"
    assert text(md.delete("ConnectedApp", name), "success") == "true"


def test_metadata_secret_access_setting_gates_both_oauth_types(md, org2):
    app = oauth_app(md)
    settings(org2, eca_consumer_secrets_in_metadata=False)
    try:
        for type_, suffix in ((GLOBAL, "_glbloauth"), (OAUTH, "_oauth")):
            code, message = error(md.save("updateMetadata", type_, app + suffix, externalClientApplication=app))
            assert "Allow Access to OAuth Consumer Secrets via Metadata API" in message and code
            status, root = md.call("readMetadata", f"<ns0:type>{type_}</ns0:type>"
                                                   f"<ns0:fullNames>{app}{suffix}</ns0:fullNames>")
            assert status == 500
            assert "Allow Access to OAuth Consumer Secrets via Metadata API" in fault(root)[1]
        md.read(POLICIES, f"{app}_oauthPlcy")  # the policies are not gated by it
    finally:
        settings(org2, eca_consumer_secrets_in_metadata=True)
    md.read(GLOBAL, f"{app}_glbloauth")
    md.delete(APP, app)


def test_external_client_apps_setting_refuses_the_types(md, org2):
    settings(org2, external_client_apps_enabled=False)
    try:
        code, message = error(md.save("createMetadata", APP, new_name(), label="x", contactEmail="ops@example.test"))
        assert "External Client Apps" in message and code
    finally:
        settings(org2, external_client_apps_enabled=True)
    new_app(md)


# -- SOQL and the Connect REST credentials resources -------------------------------------------------------
def test_soql_on_external_client_application(md, org2):
    app = new_app(md, label="Reporting")
    row = org2.one(f"SELECT Id, DeveloperName, MasterLabel FROM ExternalClientApplication "
                   f"WHERE DeveloperName = '{app}'")
    assert row["DeveloperName"] == app and row["MasterLabel"] == "Reporting" and len(row["Id"]) == 18
    r = org2.create("ExternalClientApplication", {"DeveloperName": "Nope", "MasterLabel": "Nope"})
    assert r.status_code == 400  # read-only: the Metadata API makes the rows
    md.delete(APP, app)


def test_rest_credentials_resources(md, org2):
    app = oauth_app(md)
    app_id = org2.one(f"SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '{app}'")["Id"]
    base = f"apps/oauth/credentials/{app_id}"
    r = org2.rest("GET", base)
    assert r.status_code == 403
    assert r.json()[0]["errorCode"] and "Allow access to External Client App consumer secrets via REST API" in \
        r.json()[0]["message"]
    settings(org2, eca_client_secret_in_rest_api=True)
    try:
        r = org2.rest("GET", base)
        assert r.status_code == 200, r.text
        [consumer] = r.json()["consumers"]
        assert consumer["url"] == f"/services/data/v62.0/{base}/{consumer['id']}"
        key = text(md.read(GLOBAL, f"{app}_glbloauth"), "consumerKey")
        only_key = org2.rest("GET", f"{base}/{consumer['id']}", params={"part": "key"}).json()
        assert only_key["key"] == key and only_key["id"] == consumer["id"] and only_key.get("secret") is None
        both = org2.rest("GET", f"{base}/{consumer['id']}", params={"part": "keyandsecret"}).json()
        assert both["key"] == key and both["secret"] and both["secret"].isalnum()
        assert org2.rest("GET", f"{base}/{consumer['id']}", params={"part": "secret"}).json()["secret"] == \
            both["secret"]
        assert org2.rest("GET", f"{base}/{consumer['id']}", params={"part": "nope"}).status_code == 400
        unknown = app_id[:3] + "Hz000000ZZZZ"
        r = org2.rest("GET", f"apps/oauth/credentials/{unknown}")
        assert r.status_code == 404 and r.json()[0]["errorCode"] == "NOT_FOUND"
        assert org2.rest("GET", f"{base}/{app_id}").status_code == 404  # not a consumer of the app
        # v60+ only [CONNECT].
        old = org2.rest("GET", f"{org2.url}/services/data/v59.0/{base}")
        assert old.status_code == 404
        # Without the app's global settings there is no consumer.
        bare = new_app(md)
        bare_id = org2.one(f"SELECT Id FROM ExternalClientApplication WHERE DeveloperName = '{bare}'")["Id"]
        assert org2.rest("GET", f"apps/oauth/credentials/{bare_id}").json() == {"consumers": []}
        # Needs a session like every REST call.
        assert org2.rest("GET", base, headers={"Authorization": "Bearer nope"}).status_code == 401
        # GET only [CONNECT]; other methods get the platform's 405 (reference 2.3).
        r = org2.rest("POST", base, json={})
        assert r.status_code == 405 and r.json() == [{"errorCode": "METHOD_NOT_ALLOWED",
                                                      "message": "HTTP Method 'POST' not allowed. Allowed are HEAD,GET"}]
    finally:
        settings(org2, eca_client_secret_in_rest_api=False)
    logged = [r for r in org2.requests_log() if "/apps/oauth/credentials/" in r["path"]]
    assert logged and all(r["kind"] == "rest" and r["writes"] == 0 for r in logged)
    md.delete(APP, app)


def test_metadata_writes_are_counted(md, org2):
    before = len(org2.requests_log())
    app = oauth_app(md)
    md.read(GLOBAL, f"{app}_glbloauth")
    md.save("createMetadata", OAUTH, f"{app}_again", externalClientApplication=app)  # refused: one per app
    log = [r for r in org2.requests_log()[before:] if r["kind"] == "metadata"]
    assert [r["writes"] for r in log] == [1, 1, 1, 1, 0, 0]
    md.delete(APP, app)


# -- find_app: the OAuth client the token endpoint sees ----------------------------------------------------
def test_find_app_builds_the_oauth_client_from_the_components():
    from sf_emulator import metadata
    from sf_emulator.server import Emulator

    emulator = Emulator(2)
    rt = emulator.runtimes["org2"]
    org = rt.org
    admin = org.find_one("User", Username=rt.info["username"])

    def call(op: str, inner: str) -> ET.Element:
        body = (f'<e:Envelope xmlns:e="{SOAP}"><e:Header><m:SessionHeader xmlns:m="{MD}"><m:sessionId>s'
                f'</m:sessionId></m:SessionHeader></e:Header><e:Body><m:{op} xmlns:m="{MD}" xmlns:xsi="{XSI}">'
                f'{inner}</m:{op}></e:Body></e:Envelope>')
        ctx = metadata.MetadataContext(store=rt.policies, find_profile=lambda n: n, can_modify_metadata=True,
                                       api_version="62.0", now_millis=lambda: int(time.time() * 1000))
        resp = metadata.handle_metadata(body.encode(), lambda sid: ctx)
        assert resp.status == 200, resp.body
        result = ET.fromstring(resp.body).find(f".//{{{MD}}}result")
        assert op == "readMetadata" or text(result, "success") == "true", resp.body
        return result

    def create(type_: str, full_name: str, **fields) -> None:
        inner = "".join(f"<m:{k}>{_xml(v)}</m:{k}>" for k, v in fields.items())
        call("createMetadata", f'<m:metadata xsi:type="m:{type_}"><m:fullName>{full_name}</m:fullName>{inner}'
                               f'</m:metadata>')

    profile = org.find_one("Profile", Name="Minimum Access - API Only Integrations")
    org.current_user_id = admin["Id"]
    user_id = org.insert("User", {"Username": f"run.as.{uuid.uuid4().hex[:6]}@example.test", "LastName": "Run",
                                  "Email": "ops@example.test", "Alias": "run", "TimeZoneSidKey": "GMT",
                                  "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
                                  "ProfileId": profile["Id"]})
    username = org.record("User", user_id)["Username"]
    ps_id = org.insert("PermissionSet", {"Name": "Eca_users", "Label": "ECA users"})
    pem = pem_certificate()

    create(APP, "Billing", label="Billing", contactEmail="ops@example.test")
    create(GLOBAL, "Billing_glbloauth", externalClientApplication="Billing", callbackUrl="https://localhost/cb",
           certificate=pem, isClientCredentialsFlowEnabled=True)
    key = text(call("readMetadata", f"<m:type>{GLOBAL}</m:type><m:fullNames>Billing_glbloauth</m:fullNames>")
               .find(f"{{{MD}}}records"), "consumerKey")
    assert emulator.find_app(key) is None  # no ExtlClntAppOauthSettings yet: the OAuth plugin is not set up
    create(OAUTH, "Billing_oauth", externalClientApplication="Billing", commaSeparatedOauthScopes="Api")
    create(POLICIES, "Billing_oauthPlcy", externalClientApplication="Billing", clientCredentialsFlowUser=username,
           isClientCredentialsFlowEnabled=True, permittedUsersPolicyType="AdminApprovedPreAuthorized",
           commaSeparatedPermissionSet=ps_id[:15], commaSeparatedProfile=profile["Id"])

    emulator._login_org.value = None
    app = emulator.find_app(key)
    assert emulator._login_org.value == "org2"
    assert (app.org_id, app.client_id, app.name, app.kind) == (org.org_id, key, "Billing", "external_client_app")
    assert app.client_secret == rt.eca_store.components[GLOBAL]["Billing_glbloauth"]["consumerSecret"]
    assert app.certificate_pem.decode().strip() == pem.strip() and app.run_as_username == username
    assert app.client_credentials_enabled and app.admin_approved_only
    assert app.permission_set_ids == frozenset({ps_id}) and app.profile_ids == frozenset({profile["Id"]})

    # Both client-credentials flags are needed (UNVERIFIED which one Salesforce checks).
    create(APP, "Other", label="Other", contactEmail="ops@example.test")
    create(GLOBAL, "Other_glbloauth", externalClientApplication="Other", isClientCredentialsFlowEnabled=False)
    create(OAUTH, "Other_oauth", externalClientApplication="Other")
    create(POLICIES, "Other_oauthPlcy", externalClientApplication="Other", isClientCredentialsFlowEnabled=True,
           permittedUsersPolicyType="AllSelfAuthorized")
    other_key = rt.eca_store.components[GLOBAL]["Other_glbloauth"]["consumerKey"]
    other = emulator.find_app(other_key)
    assert not other.client_credentials_enabled and not other.admin_approved_only
    assert other.certificate_pem == b"" and other.run_as_username == ""
    assert emulator.find_app("3MVG9unknown") is None and emulator.find_app("") is None


# -- simple-salesforce's sf.mdapi end to end ---------------------------------------------------------------
def test_mdapi_end_to_end(emulator, org2, integration_username):
    pytest.importorskip("simple_salesforce")
    env = dict(os.environ, REQUESTS_CA_BUNDLE=emulator["ca_file"], SF_URL=emulator["url"], SF_TOKEN=org2.token,
               RUN_AS=integration_username, APP=new_name())
    code = """
        import os
        from simple_salesforce import Salesforce
        sf = Salesforce(session_id=os.environ["SF_TOKEN"], instance_url=os.environ["SF_URL"], version="62.0")
        md, app = sf.mdapi, os.environ["APP"]
        md.ExternalClientApplication.create([md.ExternalClientApplication(
            fullName=app, label="Billing", contactEmail="ops@example.test", distributionState="Local")])
        md.ExtlClntAppGlobalOauthSettings.create([md.ExtlClntAppGlobalOauthSettings(
            fullName=app + "_glbloauth", externalClientApplication=app, callbackUrl="https://localhost/cb",
            isClientCredentialsFlowEnabled=True)])
        md.ExtlClntAppOauthSettings.create([md.ExtlClntAppOauthSettings(
            fullName=app + "_oauth", externalClientApplication=app, commaSeparatedOauthScopes="Api")])
        md.ExtlClntAppOauthConfigurablePolicies.create([md.ExtlClntAppOauthConfigurablePolicies(
            fullName=app + "_oauthPlcy", externalClientApplication=app, clientCredentialsFlowUser=os.environ["RUN_AS"],
            isClientCredentialsFlowEnabled=True, permittedUsersPolicyType="AdminApprovedPreAuthorized")])
        got = md.ExtlClntAppGlobalOauthSettings.read(app + "_glbloauth")
        print(len(got.consumerKey) > 20, got.consumerSecret, got.isClientCredentialsFlowEnabled)
        policy = md.ExtlClntAppOauthConfigurablePolicies.read(app + "_oauthPlcy")
        print(policy.permittedUsersPolicyType, policy.clientCredentialsFlowUser == os.environ["RUN_AS"])
        print(md.ExternalClientApplication.read(app).orgScopedExternalApp.endswith(":" + app))
        names = [r.fullName for r in md.list_metadata(md.ListMetadataQuery(type="ExtlClntAppOauthSettings"))]
        print(app + "_oauth" in names)
        policy.permittedUsersPolicyType = "AllSelfAuthorized"
        md.ExtlClntAppOauthConfigurablePolicies.upsert([policy])
        print(md.ExtlClntAppOauthConfigurablePolicies.read(app + "_oauthPlcy").permittedUsersPolicyType)
        try:
            md.ExtlClntAppOauthSettings.create([md.ExtlClntAppOauthSettings(
                fullName=app + "_x", externalClientApplication="No_such_app")])
        except Exception as exc:
            print("refused:", "No_such_app" in str(exc))
        md.ExternalClientApplication.delete([app])
        print(md.ExtlClntAppOauthSettings.read(app + "_oauth").fullName)
    """
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.splitlines() == ["True None True", "AdminApprovedPreAuthorized True", "True", "True",
                                     "AllSelfAuthorized", "refused: True", "None"]
