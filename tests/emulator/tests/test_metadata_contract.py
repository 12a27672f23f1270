"""Metadata SOAP for ProfilePasswordPolicy over raw HTTP, shaped as zeep sends it (reference 1.7, 5.1, 5.3).

simple-salesforce's own path is covered in test_simple_salesforce.py; these tests pin the wire format.
"""
from __future__ import annotations

import uuid
from xml.etree import ElementTree as ET

import pytest

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def envelope(session_id: str, body: str) -> str:
    return (f'<soap-env:Envelope xmlns:soap-env="{SOAP}"><soap-env:Header><ns0:SessionHeader xmlns:ns0="{MD}">'
            f'<ns0:sessionId>{session_id}</ns0:sessionId></ns0:SessionHeader></soap-env:Header>'
            f'<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>')


def policy(full_name: str, profile: str, **values) -> str:
    fields = dict(lockoutInterval=30, maxLoginAttempts=10, minimumPasswordLength=16, passwordComplexity=4,
                  passwordExpiration=0, passwordHistory=0, passwordQuestion=1)
    fields.update(values)
    inner = "".join(f"<ns0:{k}>{v}</ns0:{k}>" for k, v in fields.items() if v is not None)
    return (f'<ns0:metadata xmlns:xsi="{XSI}" xsi:type="ns0:ProfilePasswordPolicy"><ns0:fullName>{full_name}'
            f'</ns0:fullName>{inner}<ns0:profile>{profile}</ns0:profile></ns0:metadata>')


class Metadata:
    def __init__(self, org):
        self.org = org
        self.url = f"{org.url}/services/Soap/m/62.0/"

    def call(self, op: str, inner: str, session_id=None):
        body = envelope(session_id or self.org.token, f'<ns0:{op} xmlns:ns0="{MD}">{inner}</ns0:{op}>')
        r = self.org.http.post(self.url, data=body.encode(), headers={"SOAPAction": '""',
                                                                      "Content-Type": "text/xml; charset=utf-8"})
        return r.status_code, ET.fromstring(r.content)

    def ok(self, op: str, inner: str) -> list[ET.Element]:
        status, root = self.call(op, inner)
        assert status == 200, ET.tostring(root)
        response = root.find(f"{{{SOAP}}}Body/{{{MD}}}{op}Response")
        assert response is not None, ET.tostring(root)
        return response.findall(f"{{{MD}}}result")

    def read(self, *names: str) -> list[ET.Element]:
        results = self.ok("readMetadata", "<ns0:type>ProfilePasswordPolicy</ns0:type>"
                          + "".join(f"<ns0:fullNames>{n}</ns0:fullNames>" for n in names))
        assert len(results) == 1  # one result holding one records element per name
        return results[0].findall(f"{{{MD}}}records")


def text(el: ET.Element, name: str):
    found = el.find(f"{{{MD}}}{name}")
    return None if found is None else found.text


@pytest.fixture(scope="module")
def md(org1):
    return Metadata(org1)


@pytest.fixture()
def profile(org1):
    """A fresh custom profile (one policy per profile, so each test gets its own)."""
    license = org1.one("SELECT Id FROM UserLicense WHERE Name = 'Salesforce Integration'")["Id"]
    name = "Policy Test " + uuid.uuid4().hex[:8]
    r = org1.create("Profile", {"Name": name, "UserLicenseId": license})
    assert r.status_code == 201, r.text
    return name


def test_create_list_read_update_upsert_delete(md, profile):
    full_name = profile.replace(" ", "_") + "_profilePasswordPolicy1700000000000"
    [created] = md.ok("createMetadata", policy(full_name, profile))
    assert text(created, "success") == "true" and text(created, "fullName") == full_name
    listed = md.ok("listMetadata", "<ns0:queries><ns0:type>ProfilePasswordPolicy</ns0:type></ns0:queries>"
                                   "<ns0:asOfVersion>62.0</ns0:asOfVersion>")
    row = next(r for r in listed if text(r, "fullName") == full_name)
    assert text(row, "type") == "ProfilePasswordPolicy"
    assert text(row, "fileName") == f"profilePasswordPolicies/{full_name}.profilePasswordPolicy"
    [record] = md.read(full_name)
    assert record.get(f"{{{XSI}}}type") == "ProfilePasswordPolicy"  # zeep needs the type (reference 1.7)
    assert text(record, "passwordExpiration") == "0" and text(record, "profile") == profile
    [updated] = md.ok("updateMetadata", policy(full_name, profile, minimumPasswordLength=20))
    assert text(updated, "success") == "true" and text(updated, "created") is None
    assert text(md.read(full_name)[0], "minimumPasswordLength") == "20"
    [upserted] = md.ok("upsertMetadata", policy(full_name, profile, lockoutInterval=60))
    assert text(upserted, "created") == "false" and text(upserted, "success") == "true"
    [deleted] = md.ok("deleteMetadata", f"<ns0:type>ProfilePasswordPolicy</ns0:type>"
                                        f"<ns0:fullNames>{full_name}</ns0:fullNames>")
    assert text(deleted, "success") == "true"
    [gone] = md.read(full_name)
    assert gone.get(f"{{{XSI}}}nil") == "true"  # not found: <records xsi:nil="true"/>, never an empty result


def test_upsert_creates_and_second_policy_for_a_profile_is_refused(md, profile):
    [first] = md.ok("upsertMetadata", policy("First_" + uuid.uuid4().hex[:6], profile))
    assert text(first, "created") == "true" and text(first, "success") == "true"
    [second] = md.ok("createMetadata", policy("Second_" + uuid.uuid4().hex[:6], profile.upper()))
    assert text(second, "success") == "false"
    error = second.find(f"{{{MD}}}errors")
    assert text(error, "message") == "A password policy with this profile already exists."


@pytest.mark.parametrize("values, field", [
    (dict(lockoutInterval=45), "lockoutInterval"),
    (dict(maxLoginAttempts=4), "maxLoginAttempts"),
    (dict(minimumPasswordLength=4), "minimumPasswordLength"),
    (dict(minimumPasswordLength=51), "minimumPasswordLength"),
    (dict(passwordComplexity=6), "passwordComplexity"),
    (dict(passwordExpiration=7), "passwordExpiration"),
    (dict(passwordQuestion=2), "passwordQuestion"),
    (dict(passwordHistory=0, passwordExpiration=90), "passwordHistory"),
    (dict(lockoutInterval=None), "lockoutInterval"),
])
def test_value_lists_are_enforced(md, profile, values, field):
    [result] = md.ok("createMetadata", policy("Bad_" + uuid.uuid4().hex[:6], profile, **values))
    assert text(result, "success") == "false"
    error = result.find(f"{{{MD}}}errors")
    assert field in text(error, "message") and text(error, "statusCode")


def test_unknown_profile_and_update_of_a_missing_policy(md):
    [result] = md.ok("createMetadata", policy("Nobody_" + uuid.uuid4().hex[:6], "No Such Profile"))
    assert text(result, "success") == "false"
    [result] = md.ok("updateMetadata", policy("Missing_" + uuid.uuid4().hex[:6], "Standard User"))
    assert text(result, "success") == "false"


def test_more_than_ten_components_is_a_fault(md):
    status, root = md.call("readMetadata", "<ns0:type>ProfilePasswordPolicy</ns0:type>"
                           + "".join(f"<ns0:fullNames>n{i}</ns0:fullNames>" for i in range(11)))
    assert status == 500 and root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault") is not None


def test_invalid_session_is_a_soap_fault(md):
    status, root = md.call("listMetadata", "<ns0:queries><ns0:type>ProfilePasswordPolicy</ns0:type></ns0:queries>",
                           session_id="00Dbogus!session")
    assert status == 500
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault.findtext("faultcode") == "sf:INVALID_SESSION_ID"
    assert fault.findtext("faultstring").startswith("INVALID_SESSION_ID: Invalid Session ID found in SessionHeader")


def test_metadata_calls_need_modify_metadata(org1, md):
    """A Standard User (no Modify Metadata / Modify All Data) is refused (reference 5.1)."""
    user_id = org1.new_user("Standard User")
    password = "Str0ng-" + uuid.uuid4().hex
    r = org1.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": password})
    assert r.status_code == 204, r.text
    username = org1.one(f"SELECT Username FROM User WHERE Id = '{user_id}'")["Username"]
    from contract import soap_login_envelope
    login = org1.http.post(f"{org1.url}/services/Soap/u/62.0", headers={"SOAPAction": "login",
                                                                         "Content-Type": "text/xml"},
                           data=soap_login_envelope(username, password + org1.security_token(username)))
    assert login.status_code == 200, login.text
    session = login.text.split("<sessionId>")[1].split("</sessionId>")[0]
    status, root = md.call("listMetadata", "<ns0:queries><ns0:type>ProfilePasswordPolicy</ns0:type></ns0:queries>",
                           session_id=session)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert status == 500 and fault.findtext("faultcode") == "sf:INSUFFICIENT_ACCESS"
    # The wording real orgs send (3P: a debug log in forcedotcom/cli#3048).
    assert fault.findtext("faultstring") == ("INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the "
                                             "ModifyAllData or ModifyMetadata permissions")


def test_a_profile_policy_sets_the_password_rules(md, org1, profile):
    """passwordComplexity 5 asks for any three of numbers, upper case, lower case and special characters (reference
    5.1: the org setting Any3UpperLowerCaseNumericSpecialCharacters, 3P); the length text is a real org's (3P)."""
    full_name = "Rules_" + uuid.uuid4().hex[:6] + "_profilePasswordPolicy1700000000000"
    [created] = md.ok("createMetadata", policy(full_name, profile, minimumPasswordLength=10, passwordComplexity=5))
    assert text(created, "success") == "true", ET.tostring(created)
    user_id = org1.new_user(profile)

    def post(password):
        return org1.rest("POST", f"sobjects/User/{user_id}/password", json={"NewPassword": password})

    short = post("Ab1-xyz")
    assert short.status_code == 400 and short.json()[0] == {
        "message": "Your password must be at least 10 characters long.", "errorCode": "INVALID_NEW_PASSWORD"}
    assert post("onlylower1234").json()[0]["errorCode"] == "INVALID_NEW_PASSWORD"  # two of the four
    assert post("NoSpecial1234").status_code == 204  # three of the four: no special character needed


def test_policy_follows_a_renamed_profile_and_is_orphaned_by_its_deletion(md, org1, profile):
    """Reference 5.1: policies belong to the profile, not to its name; orphans with an empty profile exist."""
    full_name = "Follow_" + uuid.uuid4().hex[:6] + "_profilePasswordPolicy1700000000000"
    [created] = md.ok("createMetadata", policy(full_name, profile))
    assert text(created, "success") == "true"
    profile_id = org1.one(f"SELECT Id FROM Profile WHERE Name = '{profile}'")["Id"]
    renamed = profile + " Renamed"
    assert org1.rest("PATCH", f"sobjects/Profile/{profile_id}", json={"Name": renamed}).status_code == 204
    assert text(md.read(full_name)[0], "profile") == renamed
    assert org1.rest("DELETE", f"sobjects/Profile/{profile_id}").status_code == 204
    [orphan] = md.read(full_name)
    assert orphan.get(f"{{{XSI}}}type") == "ProfilePasswordPolicy" and not text(orphan, "profile")


def test_standard_profile_policies_can_be_refused_by_setting(md, org1):
    """Reference 3.12: whether a standard profile takes a policy is UNVERIFIED; callers are tested both ways."""
    assert org1.admin("POST", "settings", json={"standard_profile_password_policies": False}).status_code == 200
    try:
        [refused] = md.ok("createMetadata", policy("Std_" + uuid.uuid4().hex[:6], "Minimum Access - Salesforce"))
        assert text(refused, "success") == "false"
        assert "standard profile" in text(refused.find(f"{{{MD}}}errors"), "message")
    finally:
        assert org1.admin("POST", "settings", json={"standard_profile_password_policies": True}).status_code == 200
    full_name = "Std_" + uuid.uuid4().hex[:6]
    [allowed] = md.ok("createMetadata", policy(full_name, "Minimum Access - Salesforce"))
    assert text(allowed, "success") == "true"
    md.ok("deleteMetadata", f"<ns0:type>ProfilePasswordPolicy</ns0:type><ns0:fullNames>{full_name}</ns0:fullNames>")
