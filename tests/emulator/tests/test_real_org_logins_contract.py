"""SOAP login() as real orgs answer it (issue 16): the full userInfo of the partner WSDL, a nil roleId, the
metadataServerUrl served, and the security token that password logins of API-created users need."""
from __future__ import annotations

import uuid
from xml.etree import ElementTree as ET

import requests

from contract import soap_login_envelope

PARTNER = "{urn:partner.soap.sforce.com}"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# GetUserInfoResult of the partner WSDL, in order (3P jsforce/jsforce src/api/soap/schema.ts).
USER_INFO = ["accessibilityMode", "chatterExternal", "currencySymbol", "orgAttachmentFileSizeLimit",
             "orgDefaultCurrencyIsoCode", "orgDefaultCurrencyLocale", "orgDisallowHtmlAttachments",
             "orgHasPersonAccounts", "organizationId", "organizationMultiCurrency", "organizationName", "profileId",
             "roleId", "sessionSecondsValid", "userDefaultCurrencyIsoCode", "userEmail", "userFullName", "userId",
             "userLanguage", "userLocale", "userName", "userTimeZone", "userType", "userUiSkin"]
LIST_METADATA = ('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" '
                 'xmlns:m="http://soap.sforce.com/2006/04/metadata"><e:Header><m:SessionHeader><m:sessionId>{sid}'
                 '</m:sessionId></m:SessionHeader></e:Header><e:Body><m:listMetadata><m:queries><m:type>'
                 'ProfilePasswordPolicy</m:type></m:queries><m:asOfVersion>62.0</m:asOfVersion></m:listMetadata>'
                 '</e:Body></e:Envelope>')


def soap_login(org1, username: str, password: str) -> requests.Response:
    return org1.http.post(f"{org1.url}/services/Soap/u/62.0", data=soap_login_envelope(username, password),
                          headers={"Content-Type": "text/xml", "SOAPAction": "login"})


def result_of(response: requests.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content).find(f".//{PARTNER}result")


def test_soap_login_result_has_the_partner_user_info_and_a_served_metadata_url(org1):
    info = org1.org
    result = result_of(soap_login(org1, info["username"], info["password"] + info["security_token"]))
    assert [c.tag[len(PARTNER):] for c in result] == ["metadataServerUrl", "passwordExpired", "sandbox", "serverUrl",
                                                      "sessionId", "userId", "userInfo"]
    user_info = result.find(f"{PARTNER}userInfo")
    assert [c.tag[len(PARTNER):] for c in user_info] == USER_INFO
    text = {c.tag[len(PARTNER):]: c.text for c in user_info}
    assert text["organizationId"] == info["org_id"] and text["userId"] == info["user_id"]
    assert text["orgDefaultCurrencyIsoCode"] == "USD" and text["currencySymbol"] == "$"
    assert text["orgHasPersonAccounts"] == "false" and text["sessionSecondsValid"] == "7200"
    assert user_info.find(f"{PARTNER}userDefaultCurrencyIsoCode").get(XSI_NIL) == "true"
    assert text["roleId"] and text["roleId"].startswith("00E")  # the administrator has the CEO role
    # Both URLs end in the 15-character org id (recorded logins); the metadata one is served like the
    # version-only path simple-salesforce uses.
    metadata_url = result.find(f"{PARTNER}metadataServerUrl").text
    assert metadata_url == f"{org1.url}/services/Soap/m/62.0/{info['org_id'][:15]}"
    assert result.find(f"{PARTNER}serverUrl").text == f"{org1.url}/services/Soap/u/62.0/{info['org_id'][:15]}"
    session_id = result.find(f"{PARTNER}sessionId").text
    for url in (metadata_url, f"{org1.url}/services/Soap/m/62.0/"):
        listed = org1.http.post(url, data=LIST_METADATA.format(sid=session_id),
                                headers={"Content-Type": "text/xml", "SOAPAction": '""'})
        assert listed.status_code == 200 and "listMetadataResponse" in listed.text, (url, listed.text)


def test_a_user_without_a_role_gets_a_nil_role_id(org1):
    username = f"norole.{uuid.uuid4().hex[:10]}@example.test"
    user_id = org1.new_user(profile="Standard User", Username=username)
    password = "Pa55-word-" + uuid.uuid4().hex[:8]
    assert org1.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": password}).status_code == 204
    result = result_of(soap_login(org1, username, password + org1.security_token(username)))
    role = result.find(f"{PARTNER}userInfo/{PARTNER}roleId")
    assert role.get(XSI_NIL) == "true" and role.text is None


TOKEN_MISSING = ("Invalid username, password, security token; or user locked out. Are you at a new location? When "
                 "accessing Salesforce--either via a desktop client or the API--from outside of your company\u2019s "
                 "trusted networks, you must add a security token to your password to log in. To get your new security "
                 "token, log in to Salesforce. From your personal settings, enter Reset My Security Token in the Quick "
                 "Find box, then select Reset My Security Token.")


def test_password_logins_of_api_created_users_need_the_token_outside_trusted_ranges(org2):
    username = f"token.{uuid.uuid4().hex[:10]}@example.test"
    user_id = org2.new_user(profile="Standard User", Username=username)
    password = "Pa55-word-" + uuid.uuid4().hex[:8]
    assert org2.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": password}).status_code == 204
    token = org2.security_token(username)
    info = org2.org
    form = {"grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
            "username": username}

    def oauth(secret: str) -> requests.Response:
        return org2.http.post(f"{org2.url}/services/oauth2/token", data=dict(form, password=secret))

    # A new org has no trusted IP ranges: the password alone is refused (oauth reference A.5 [H-TOKEN]), SOAP with
    # its own fault (3P poanchen/poanchen.github.io, partner ExceptionCode), OAuth as any failure (A.4).
    refused = soap_login(org2, username, password)
    assert refused.status_code == 500
    fault = ET.fromstring(refused.content).find(".//{urn:fault.partner.soap.sforce.com}LoginFault")
    assert fault.findtext("{urn:fault.partner.soap.sforce.com}exceptionCode") == "LOGIN_MUST_USE_SECURITY_TOKEN"
    assert fault.findtext("{urn:fault.partner.soap.sforce.com}exceptionMessage") == TOKEN_MISSING
    assert oauth(password).json() == {"error": "invalid_grant", "error_description": "authentication failure"}
    statuses = [r["Status"] for r in org2.query(f"SELECT Status FROM LoginHistory WHERE UserId = '{user_id}' "
                                                "ORDER BY LoginTime")["records"]]
    assert statuses == ["Failed: API security token required"] * 2
    # With the token appended both log in; the seeded administrator keeps its documented credentials.
    assert soap_login(org2, username, password + token).status_code == 200
    assert oauth(password + token).status_code == 200
    assert soap_login(org2, info["username"], info["password"] + info["security_token"]).status_code == 200
    # From inside a trusted range (Setup > Network Access; admin API setting) the password alone is enough.
    assert org2.admin("POST", "settings", json={"trusted_ip_ranges": [{"start": "127.0.0.1",
                                                                         "end": "127.0.0.1"}]}).status_code == 200
    try:
        assert soap_login(org2, username, password).status_code == 200
        assert oauth(password).status_code == 200
        assert soap_login(org2, info["username"], info["password"]).status_code == 200
        assert soap_login(org2, username, password + token).status_code == 200
    finally:
        assert org2.admin("POST", "settings", json={"trusted_ip_ranges": []}).status_code == 200
    assert soap_login(org2, username, password).status_code == 500
    bad = org2.admin("POST", "settings", json={"trusted_ip_ranges": [{"start": "10.0.0.9", "end": "10.0.0.1"}]})
    assert bad.status_code == 400
    assert org2.admin("GET", "security_token", params={"username": "nobody@example.test"}).status_code == 404
