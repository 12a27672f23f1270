"""Scenario S1 done record by record, the way the sf CLI and most scripts do it.

One REST call per record: look each thing up, then create it (the user, the permission set with
its system permissions, one POST per ObjectPermissions row and per FieldPermissions row, the PSL
assignment, the permission set assignment) and the password policy through the Metadata API.
Plain ``requests`` (tests/modules/harness.py's RawOrg), one SOAP login. The result must be
the same end state as the role's, so ``verify`` reads it back (outside the counted requests).

Standalone: ``python tests/bench/record_by_record.py`` starts an emulator with one org and prints
the request count; run_bench.py calls ``run()`` against an org of its own emulator.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import BenchError, BenchEmulator, classify, harness, load_scenario, render_for_org  # noqa: E402

MD_NS = "http://soap.sforce.com/2006/04/metadata"
OBJECT_ACCESS = dict(read="PermissionsRead", create="PermissionsCreate", edit="PermissionsEdit",
                     delete="PermissionsDelete", view_all_records="PermissionsViewAllRecords",
                     modify_all_records="PermissionsModifyAllRecords")
ACCESS_NEEDS = dict(create=["read"], edit=["read"], delete=["read", "edit"], view_all_records=["read"],
                    modify_all_records=["read", "edit", "delete", "view_all_records"])
API_INTEGRATION_PSL = "Salesforce API Integration"
# ProfilePasswordPolicy needs every one of these on create; these are Salesforce's org defaults
# (90-day expiry aside, which S1 overrides) and what a script would hard-code.
POLICY_DEFAULTS = dict(lockoutInterval=15, maxLoginAttempts=10, minimumPasswordLength=8, passwordComplexity=1,
                       passwordExpiration=90, passwordHistory=3, passwordQuestion=0)
POLICY_OPTIONS = dict(lockout_interval="lockoutInterval", max_login_attempts="maxLoginAttempts",
                      minimum_password_length="minimumPasswordLength", password_complexity="passwordComplexity",
                      password_expiration="passwordExpiration", password_history="passwordHistory",
                      password_question="passwordQuestion")
USER_FIELDS = dict(username="Username", email="Email", first_name="FirstName", last_name="LastName", alias="Alias",
                   time_zone="TimeZoneSidKey", locale="LocaleSidKey", language="LanguageLocaleKey",
                   email_encoding="EmailEncodingKey", marketing_user="UserPermissionsMarketingUser")
USER_DEFAULTS = dict(TimeZoneSidKey="GMT", LocaleSidKey="en_US", LanguageLocaleKey="en_US", EmailEncodingKey="UTF-8")


class Org(harness.RawOrg):
    """One logged-in org (the tests' raw REST client: SOAP login, query, create) plus Metadata calls."""

    def metadata(self, operation, inner):
        session_id = self.http.headers["Authorization"].split(" ", 1)[1]
        envelope = ('<?xml version="1.0" encoding="UTF-8"?>'
                    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:md="%s">'
                    '<soapenv:Header><md:SessionHeader><md:sessionId>%s</md:sessionId></md:SessionHeader>'
                    '</soapenv:Header><soapenv:Body><md:%s>%s</md:%s></soapenv:Body></soapenv:Envelope>'
                    % (MD_NS, escape(session_id), operation, inner, operation))
        instance_url, version = re.match(r"(.*)/services/data/v([\d.]+)/$", self.base).groups()
        response = self.http.post("%s/services/Soap/m/%s" % (instance_url, version), data=envelope.encode(),
                                  verify=self.ca_file, timeout=60,
                                  headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
        if response.status_code >= 400:
            raise BenchError("metadata %s: HTTP %s %s" % (operation, response.status_code, response.text[:500]))
        return ET.fromstring(response.content)


def soql_quote(value):
    return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")


def object_row(parent_id, entry):
    access = set(entry["access"])
    for name in list(access):
        access.update(ACCESS_NEEDS.get(name, []))
    row = dict(ParentId=parent_id, SobjectType=entry["object"])
    row.update((field, name in access) for name, field in OBJECT_ACCESS.items())
    return row


def field_row(parent_id, entry):
    return dict(ParentId=parent_id, SobjectType=entry["field"].split(".")[0], Field=entry["field"],
                PermissionsRead=True, PermissionsEdit=entry["access"] == "edit")


def user_values(spec, profile_id):
    values = dict(USER_DEFAULTS, ProfileId=profile_id)
    values.update((USER_FIELDS[k], v) for k, v in spec.items() if k in USER_FIELDS)
    values.setdefault("Alias", values["Username"].split("@")[0].replace(".", "")[:8])
    return values


def policy_values(options, profile):
    values = dict(POLICY_DEFAULTS)
    for option, value in (options or {}).items():
        if option in POLICY_OPTIONS:
            values[POLICY_OPTIONS[option]] = 0 if value == "never" else int(value)
    values["profile"] = profile
    return values


def set_up(org, scenario):
    """S1 record by record. Returns {integration name: user id}."""
    profile_name = scenario.get("sf_integration_profile", "Minimum Access - API Only Integrations")
    profile_id = org.query("SELECT Id FROM Profile WHERE Name = %s" % soql_quote(profile_name))[0]["Id"]
    psl_id = org.query("SELECT Id FROM PermissionSetLicense WHERE MasterLabel = %s"
                       % soql_quote(API_INTEGRATION_PSL))[0]["Id"]
    users = {}
    for integration in scenario["sf_integrations"]:
        spec = integration["user"]
        found = org.query("SELECT Id FROM User WHERE Username = %s" % soql_quote(spec["username"]))
        user_id = found[0]["Id"] if found else org.create("User", user_values(spec, profile_id))
        users[integration["name"]] = user_id
        set_ids = []
        for pset in integration.get("permission_sets", []):
            found = org.query("SELECT Id FROM PermissionSet WHERE Name = %s" % soql_quote(pset["name"]))
            if found:
                set_ids.append(found[0]["Id"])
                continue
            values = dict(Name=pset["name"], Label=pset.get("label", pset["name"]), LicenseId=psl_id)
            values.update(("Permissions" + p, True) for p in pset.get("system_permissions", []))
            set_id = org.create("PermissionSet", values)
            set_ids.append(set_id)
            for entry in pset.get("object_permissions", []):
                org.create("ObjectPermissions", object_row(set_id, entry))
            for entry in pset.get("field_permissions", []):
                org.create("FieldPermissions", field_row(set_id, entry))
        held = org.query("SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = %s AND "
                         "PermissionSetLicenseId = %s" % (soql_quote(user_id), soql_quote(psl_id)))
        if not held:
            org.create("PermissionSetLicenseAssign", dict(AssigneeId=user_id, PermissionSetLicenseId=psl_id))
        for set_id in set_ids:
            org.create("PermissionSetAssignment", dict(AssigneeId=user_id, PermissionSetId=set_id))
    ensure_password_policy(org, profile_name, scenario.get("sf_integration_password_policy"))
    return users


def _md(tag):
    return "{%s}%s" % (MD_NS, tag)


def read_policy(org, profile_name):
    """(fullName, values) of the profile's policy, or (None, None): list, then read the candidates."""
    listed = org.metadata("listMetadata", "<md:queries><md:type>ProfilePasswordPolicy</md:type></md:queries>")
    names = [el.text for el in listed.iter(_md("fullName"))]
    if not names:
        return None, None
    read = org.metadata("readMetadata", "<md:type>ProfilePasswordPolicy</md:type>"
                        + "".join("<md:fullNames>%s</md:fullNames>" % escape(n) for n in names[:10]))
    for record in read.iter(_md("records")):
        values = dict((child.tag.split("}")[-1], child.text) for child in record)
        if (values.get("profile") or "").lower() == profile_name.lower():
            return values.pop("fullName"), values
    return None, None


def ensure_password_policy(org, profile_name, options):
    full_name, _current = read_policy(org, profile_name)
    values = policy_values(options, profile_name)
    fields = "".join("<md:%s>%s</md:%s>" % (k, escape(str(v)), k) for k, v in sorted(values.items()))
    name = full_name or "%s_profilePasswordPolicy%d" % (profile_name.replace(" ", "_").replace("-", ""), 1)
    result = org.metadata("upsertMetadata", '<md:metadata xsi:type="md:ProfilePasswordPolicy">'
                          '<md:fullName>%s</md:fullName>%s</md:metadata>' % (escape(name), fields))
    if result.find(".//" + _md("success")).text != "true":
        raise BenchError("password policy: " + ET.tostring(result, encoding="unicode")[:500])


def verify(org, scenario, users):
    """The end state S1 describes; raises BenchError on the first difference."""
    for integration in scenario["sf_integrations"]:
        user = org.query("SELECT IsActive, Profile.Name, (SELECT PermissionSet.Name FROM PermissionSetAssignments), "
                         "(SELECT PermissionSetLicense.MasterLabel FROM PermissionSetLicenseAssignments) "
                         "FROM User WHERE Id = %s" % soql_quote(users[integration["name"]]))[0]
        assigned = set(r["PermissionSet"]["Name"] for r in user["PermissionSetAssignments"]["records"])
        licenses = set(r["PermissionSetLicense"]["MasterLabel"]
                       for r in (user["PermissionSetLicenseAssignments"] or {}).get("records", []))
        for pset in integration["permission_sets"]:
            if pset["name"] not in assigned:
                raise BenchError("%s is not assigned %s" % (integration["name"], pset["name"]))
            row = org.query("SELECT PermissionsApiEnabled, (SELECT SobjectType FROM ObjectPerms), "
                            "(SELECT Field, PermissionsEdit FROM FieldPerms) FROM PermissionSet WHERE Name = %s"
                            % soql_quote(pset["name"]))[0]
            objects = len(row["ObjectPerms"]["records"])
            fields = row["FieldPerms"]["records"]
            edits = sum(1 for f in fields if f["PermissionsEdit"])
            want = (len(pset["object_permissions"]), len(pset["field_permissions"]),
                    sum(1 for f in pset["field_permissions"] if f["access"] == "edit"))
            if (objects, len(fields), edits) != want:
                raise BenchError("%s holds %d objects, %d fields (%d edit)" % (pset["name"], objects, len(fields),
                                                                               edits))
        if not user["IsActive"] or API_INTEGRATION_PSL not in licenses:
            raise BenchError("%s: active %s, licenses %s" % (integration["name"], user["IsActive"], licenses))
    profile = scenario.get("sf_integration_profile", "Minimum Access - API Only Integrations")
    _name, policy = read_policy(org, profile)
    want = policy_values(scenario.get("sf_integration_password_policy"), profile)["passwordExpiration"]
    if policy is None or int(policy["passwordExpiration"]) != want:
        raise BenchError("password policy of %s: %s" % (profile, policy))


def run(emulator, org_name, scenario=None):
    """S1 on a fresh org; returns the request counts and seconds of the setup (verification not counted)."""
    scenario = render_for_org(scenario or load_scenario(), org_name)
    emulator.clear_requests(org_name)
    try:
        started = time.monotonic()
        org = Org(emulator, org_name)
        users = set_up(org, scenario)
        counts = dict(classify(emulator.requests(org_name)), seconds=round(time.monotonic() - started, 2))
        verify(org, scenario, users)
    except AssertionError as error:  # RawOrg's answer to an HTTP error
        raise BenchError("record by record on %s: %s" % (org_name, error)) from error
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    with BenchEmulator(orgs=1, latency_ms=args.latency_ms) as emulator:
        counts = run(emulator, emulator.org_names[0])
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
