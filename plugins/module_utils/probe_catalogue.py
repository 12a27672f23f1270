# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The org probe's questions, in one list, and the format of its exchanges.

Every behaviour the collection relies on that the org emulator could only guess (docs/emulator.md marks
it **UNVERIFIED**) and that can be asked safely of a sandbox is one entry of PROBES, naming its row of
docs/emulator.md (``section``, the start of the ``rule`` cell). sf_org_probe sends the exchanges to an
org and records the answers; tests/emulator/tests/test_recorded_answers.py replays recorded reports
against the emulator. Nothing here talks to Salesforce.

An exchange is one request, as data:

- REST: ``{"api": "rest", "method": "POST", "path": "sobjects/PermissionSet", "body": {...}}``
  (``"params": {"q": "SELECT ..."}`` for a query);
- Metadata API: ``{"api": "metadata", "operation": "create", "type": "ProfilePasswordPolicy",
  "record": {...}}``; ``upsert`` likewise; ``delete`` and ``read`` with ``"names": [...]``; ``list``
  with the type only (its answer lists the names that start with the run's prefix).

Strings may hold ``${name}`` placeholders: the run's given values (PREFIX_VALUES, ``caller_id``) and
what earlier answers saved. A step may also have ``save`` ({name: path in the answer body}),
``expect`` (``ok``, ``status``, ``errorCode``, ``values``: {path: value}) and ``significant``
(answer keys a replay compares besides ok, status and errorCode, e.g. ``message``).

An answer is ``{"ok", "status" (HTTP status; None for the Metadata API), "errorCode", "message",
"fields", "values"}``; recorded values and messages have the run's own values put back as
placeholders, so that answers of different orgs and runs compare.

What is not probed, on purpose: seat exhaustion of a license or permission set license (it would
take every free seat of the org), logins through a new External Client App (apps take minutes to
reach the login servers), logins as another user, changes to org settings, and changes to standard
profiles (if Salesforce allowed them, the probe would have changed a profile every user of the org may
hold). docs/emulator.md marks each unverified row it relies on but cannot probe "relied on, not probed".
"""

from __future__ import annotations

import re
from typing import Any, Optional

FORMAT = "sfops-org-probe/1"
DEFAULT_PREFIX = "SFOPS_PROBE"
INTEGRATION_PROFILE = "Minimum Access - API Only Integrations"
INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"
POLICY_TYPE = "ProfilePasswordPolicy"
APP_TYPE = "ExternalClientApplication"
POLICIES_TYPE = "ExtlClntAppOauthConfigurablePolicies"
# A permission set id no org has (15 characters, key prefix 0PS).
UNKNOWN_SET_ID = "0PS000000000001"
NOTE = "Org probe of sfops.integration; safe to delete"

# Saved values that are never written to a report (the report may be shared).
PRIVATE = frozenset(["caller_username", "caller_id"])

# The values every run is given (prefix_values()); ``caller_id`` (the calling user's id) comes with the login.
GIVEN = ("prefix", "prefix_lower", "run_id", "email", "username")

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def rest(method: str, path: str, body: Optional[dict] = None, params: Optional[dict] = None) -> dict:
    request = dict(api="rest", method=method, path=path)
    if body is not None:
        request["body"] = body
    if params is not None:
        request["params"] = params
    return request


def query(soql_text: str) -> dict:
    return rest("GET", "query", params=dict(q=soql_text))


def metadata(operation: str, md_type: str, record: Optional[dict] = None, names: Optional[list] = None) -> dict:
    request = dict(api="metadata", operation=operation, type=md_type)
    if record is not None:
        request["record"] = record
    if names is not None:
        request["names"] = names
    return request


def step(name: str, request: dict, expect: Optional[dict] = None, save: Optional[dict] = None,
         significant: Optional[list] = None) -> dict:
    found = dict(step=name, request=request)
    for key, value in (("expect", expect), ("save", save), ("significant", significant)):
        if value:
            found[key] = value
    return found


CREATED = dict(ok=True, status=201)


def refused(code: str, status: Optional[int] = 400) -> dict:
    expected = dict(ok=False, errorCode=code)
    if status is not None:
        expected["status"] = status
    return expected


def permission_set(name: str, **fields: Any) -> dict:
    label = re.sub(r"_+(?![^{]*\})", " ", name)  # underscores outside placeholders
    return rest("POST", "sobjects/PermissionSet", dict(dict(Name=name, Label=label, Description=NOTE), **fields))


def set_field(set_ref: str, field: str) -> dict:
    return query("SELECT %s FROM PermissionSet WHERE Id = '${%s}'" % (field, set_ref))


def policies(**fields: Any) -> dict:
    """The app's OAuth policies, upserted as sf_external_client_app writes them (the org may have made them)."""
    record = dict(fullName="${prefix}_App_oauthPlcy", label="${prefix} app", externalClientApplication="${prefix}_App")
    record.update(fields)
    return metadata("upsert", POLICIES_TYPE, record)


def password_policy(full_name: str) -> dict:
    """A policy with sf_profile_password_policy's defaults for a new policy (every field zeep requires)."""
    return metadata("create", POLICY_TYPE, dict(
        fullName=full_name, profile=INTEGRATION_PROFILE, forgotPasswordRedirect=False, lockoutInterval=15,
        maxLoginAttempts=10, minimumPasswordLength=8, minimumPasswordLifetime=False, obscure=False,
        passwordComplexity=1, passwordExpiration=90, passwordHistory=3, passwordQuestion=1))


# What every run reads first; ``save`` names what probes and fixtures use.
LOOKUPS = [
    step("organization", query("SELECT Id, IsSandbox, OrganizationType FROM Organization"),
         save=dict(is_sandbox="records[0].IsSandbox", edition="records[0].OrganizationType")),
    step("integration user license",
         query("SELECT Id, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'"),
         save=dict(integration_seats="records[0].TotalLicenses", integration_seats_used="records[0].UsedLicenses")),
    step("Salesforce user license", query("SELECT Id FROM UserLicense WHERE Name = 'Salesforce'"),
         save=dict(salesforce_license_id="records[0].Id")),
    step("API integration permission set license",
         query("SELECT Id FROM PermissionSetLicense WHERE DeveloperName = '%s'" % INTEGRATION_PSL),
         save=dict(psl_id="records[0].Id")),
    step("integration profile", query("SELECT Id FROM Profile WHERE Name = '%s'" % INTEGRATION_PROFILE),
         save=dict(integration_profile_id="records[0].Id")),
    step("calling user", query("SELECT Username, Profile.PermissionsApiUserOnly FROM User WHERE Id = '${caller_id}'"),
         save=dict(caller_username="records[0].Username", caller_api_only="records[0].Profile.PermissionsApiUserOnly")),
]

# Records several probes share, made once before the first probe that needs them (``requires``: the
# saved values they need). ``seat``: takes one Salesforce Integration license seat.
FIXTURES = dict(
    probe_set=dict(
        about="a permission set with no license",
        steps=[step("create", permission_set("${prefix}_Set"), expect=CREATED, save=dict(set_id="id"))]),
    user=dict(
        about="one integration user (Salesforce Integration license, %s); deactivated afterwards" % INTEGRATION_PROFILE,
        requires=["integration_profile_id"], seat=True,
        steps=[step("create", rest("POST", "sobjects/User", dict(
            Username="${username}", LastName="Org probe", FirstName="sfops", Email="${email}", Alias="sfprobe",
            TimeZoneSidKey="GMT", LocaleSidKey="en_US", EmailEncodingKey="UTF-8", LanguageLocaleKey="en_US",
            ProfileId="${integration_profile_id}")), expect=CREATED, save=dict(user_id="id"))]),
    app=dict(
        about="an External Client App without OAuth settings",
        steps=[step("create", metadata("create", APP_TYPE, dict(
            fullName="${prefix}_App", label="${prefix} app", contactEmail="${email}", description=NOTE,
            distributionState="Local")), expect=dict(ok=True))]),
)

# The questions. ``section`` and ``rule``: the row of docs/emulator.md; ``also``: further rows the answer
# settles (each dict(section=..., rule=...)); ``question``: what is asked; ``relied_on``: what of the
# collection rests on the answer; ``needs``: fixtures; ``requires``: saved values; ``when``: saved values
# that must be equal (else the probe is skipped). Each row names its questions back ("probe: `name`").
PROBES = [
    dict(
        name="permission_set_duplicate_name",
        section="Objects and platform rules", rule="PermissionSet Name: letters, digits, underscores",
        question="Is a second permission set whose Name differs only in case (under another label) refused with "
                 "DUPLICATE_DEVELOPER_NAME?",
        relied_on="sf_permission_set classifies a duplicate name by its code as 'already exists'; names are compared "
                  "without case.",
        needs=["probe_set"],
        steps=[step("create the same name in lower case", permission_set("${prefix_lower}_set",
                                                                         Label="${prefix} another label"),
                    expect=refused("DUPLICATE_DEVELOPER_NAME"))]),
    dict(
        name="permission_set_name_rule",
        section="Objects and platform rules", rule="PermissionSet Name: letters, digits, underscores",
        question="Is a permission set Name with two consecutive underscores refused with FIELD_INTEGRITY_EXCEPTION?",
        relied_on="sf_permission_set checks names before sending; the code says how a bad name that slipped "
                  "through is reported.",
        steps=[step("create a Name with __", permission_set("${prefix}__Bad"),
                    expect=refused("FIELD_INTEGRITY_EXCEPTION"))]),
    dict(
        name="psl_set_api_enabled_stays_on",
        section="Objects and platform rules",
        rule="A set licensed by the Salesforce API Integration PSL has API Enabled switched on",
        question="Does a set licensed by the Salesforce API Integration permission set license get API Enabled by "
                 "itself, and is an update switching it off accepted and ignored?",
        relied_on="sf_permission_set leaves API Enabled out of the drift of such a set.",
        requires=["psl_id"],
        steps=[
            step("create without API Enabled", permission_set("${prefix}_Psl_Api", LicenseId="${psl_id}"),
                 expect=CREATED, save=dict(psl_api_set_id="id")),
            step("read API Enabled", set_field("psl_api_set_id", "PermissionsApiEnabled"),
                 expect=dict(ok=True, values={"records[0].PermissionsApiEnabled": True})),
            step("switch API Enabled off", rest("PATCH", "sobjects/PermissionSet/${psl_api_set_id}",
                                                dict(PermissionsApiEnabled=False)), expect=dict(ok=True, status=204)),
            step("read API Enabled again", set_field("psl_api_set_id", "PermissionsApiEnabled"),
                 expect=dict(ok=True, values={"records[0].PermissionsApiEnabled": True})),
        ]),
    dict(
        name="psl_set_waive_mfa",
        section="What each license allows", rule="Salesforce API Integration (PSL)",
        question="May a set licensed by the Salesforce API Integration permission set license hold 'Waive "
                 "Multi-Factor Authentication for Exempt Users' (BypassMFAForUiLogins)?",
        relied_on="The integration_users role puts the MFA waiver on such a set (Integration_MFA_Waiver) where the "
                  "org requires MFA for API logins.",
        requires=["psl_id"],
        steps=[
            step("create with the waiver", permission_set("${prefix}_Psl_Mfa", LicenseId="${psl_id}",
                                                          PermissionsBypassMFAForUiLogins=True),
                 expect=CREATED, save=dict(psl_mfa_set_id="id")),
            step("read the waiver", set_field("psl_mfa_set_id", "PermissionsBypassMFAForUiLogins"),
                 expect=dict(ok=True, values={"records[0].PermissionsBypassMFAForUiLogins": True})),
        ]),
    dict(
        name="object_permissions_all_false",
        section="Objects and platform rules", rule="An all-false ObjectPermissions row is deleted by the platform",
        question="Is an ObjectPermissions row whose flags are all false removed by the platform, whether inserted "
                 "that way or updated to it?",
        relied_on="sf_permission_set removes object access by updating every flag to false.",
        needs=["probe_set"],
        steps=[
            step("insert an all-false row", rest("POST", "sobjects/ObjectPermissions", dict(
                ParentId="${set_id}", SobjectType="Account", PermissionsRead=False)), expect=dict(ok=True)),
            step("count the rows", query("SELECT Id FROM ObjectPermissions WHERE ParentId = '${set_id}'"),
                 expect=dict(ok=True, values={"totalSize": 0})),
            step("insert a row with Read", rest("POST", "sobjects/ObjectPermissions", dict(
                ParentId="${set_id}", SobjectType="Account", PermissionsRead=True)), expect=CREATED,
                save=dict(object_row_id="id")),
            step("update it to all false", rest("PATCH", "sobjects/ObjectPermissions/${object_row_id}",
                                                dict(PermissionsRead=False)), expect=dict(ok=True, status=204)),
            step("count the rows again", query("SELECT Id FROM ObjectPermissions WHERE ParentId = '${set_id}'"),
                 expect=dict(ok=True, values={"totalSize": 0})),
        ]),
    dict(
        name="assigned_set_delete_refused",
        section="Objects and platform rules", rule="A permission set with assignments cannot be deleted",
        question="Is deleting a permission set that is assigned to a user refused with DELETE_FAILED?",
        relied_on="sf_permission_set removes the assignments before it deletes a set (state=absent).",
        needs=["user"],
        steps=[
            step("create a set", permission_set("${prefix}_Assigned"), expect=CREATED, save=dict(assigned_set_id="id")),
            step("assign it", rest("POST", "sobjects/PermissionSetAssignment", dict(
                AssigneeId="${user_id}", PermissionSetId="${assigned_set_id}")), expect=CREATED),
            step("delete the set", rest("DELETE", "sobjects/PermissionSet/${assigned_set_id}"),
                 expect=refused("DELETE_FAILED")),
        ]),
    dict(
        name="assignment_other_user_license",
        section="Objects and platform rules", rule="A set licensed by a user license other than the assignee's",
        question="Is assigning a set licensed by the Salesforce user license to a Salesforce Integration user "
                 "refused with FIELD_INTEGRITY_EXCEPTION?",
        relied_on="sf_permset_assignment and the rollout name the license mismatch from this answer.",
        needs=["user"], requires=["salesforce_license_id"],
        steps=[
            step("create a set on the Salesforce license",
                 permission_set("${prefix}_Sf_License", LicenseId="${salesforce_license_id}"),
                 expect=CREATED, save=dict(salesforce_set_id="id")),
            step("assign it", rest("POST", "sobjects/PermissionSetAssignment", dict(
                AssigneeId="${user_id}", PermissionSetId="${salesforce_set_id}")),
                expect=refused("FIELD_INTEGRITY_EXCEPTION")),
        ]),
    dict(
        name="group_assignment_duplicate",
        section="Objects and platform rules", rule="A group is assigned only with Status Updated",
        question="Is assigning a permission set group to a user who already holds it refused with DUPLICATE_VALUE?",
        relied_on="sf_permset_assignment takes a duplicate answer (by its code) as the group already assigned, by "
                  "another run between its read and its write.",
        needs=["user"],
        steps=[
            step("create an empty group", rest("POST", "sobjects/PermissionSetGroup", dict(
                DeveloperName="${prefix}_Group", MasterLabel="${prefix} group", Description=NOTE)),
                expect=CREATED, save=dict(group_id="id")),
            step("assign it", rest("POST", "sobjects/PermissionSetAssignment", dict(
                AssigneeId="${user_id}", PermissionSetGroupId="${group_id}")), expect=CREATED),
            step("assign it again", rest("POST", "sobjects/PermissionSetAssignment", dict(
                AssigneeId="${user_id}", PermissionSetGroupId="${group_id}")), expect=refused("DUPLICATE_VALUE")),
        ]),
    dict(
        name="password_policy_standard_profile",
        section="Metadata SOAP", rule="A policy for a standard profile",
        question="May a ProfilePasswordPolicy be created for the standard profile %s?" % INTEGRATION_PROFILE,
        relied_on="sf_profile_password_policy and the integration_users role's password policy for integration "
                  "users that still log in with a password.",
        requires=["integration_profile_id"], policy_free=True,
        steps=[step("create a policy", password_policy("${prefix}_Policy"), expect=dict(ok=True),
                    save=dict(policy_created="success"))]),
    dict(
        name="password_policy_one_per_profile",
        section="Metadata SOAP", rule="One policy per profile",
        question="Is a second password policy for the same profile refused with DUPLICATE_VALUE?",
        relied_on="sf_profile_password_policy updates the profile's policy instead of creating a second one.",
        requires=["policy_created"],
        steps=[step("create a second policy", password_policy("${prefix}_Policy2"),
                    expect=refused("DUPLICATE_VALUE", status=None), significant=["message"])]),
    dict(
        name="eca_preauthorise_by_ids",
        section="External Client Apps", rule="`commaSeparatedPermissionSet`: ids",
        question="Do an app's policies take permission set and profile ids for pre-authorisation, and read them back "
                 "as sent?",
        relied_on="sf_external_client_app pre-authorises by id (the documented form) unless the app's policies "
                  "already hold names, switches to names once when ids are refused, and compares what it reads back.",
        also=[dict(section="External Client Apps", rule="`commaSeparatedProfile`: ids")],
        needs=["app", "probe_set"], requires=["integration_profile_id"],
        steps=[
            step("pre-authorise a set and a profile", policies(
                permittedUsersPolicyType="AdminApprovedPreAuthorized", commaSeparatedPermissionSet="${set_id}",
                commaSeparatedProfile="${integration_profile_id}"), expect=dict(ok=True)),
            step("read the policies", metadata("read", POLICIES_TYPE, names=["${prefix}_App_oauthPlcy"]),
                 expect=dict(ok=True, values={"records[0].commaSeparatedPermissionSet": "${set_id}",
                                              "records[0].commaSeparatedProfile": "${integration_profile_id}"})),
        ]),
    dict(
        name="eca_unknown_permission_set_id",
        section="External Client Apps", rule="`commaSeparatedPermissionSet`: ids",
        question="Is pre-authorising a permission set id that does not exist refused with "
                 "INVALID_CROSS_REFERENCE_KEY?",
        relied_on="An app is never left pre-authorised for a set that is gone without an error.",
        needs=["app"],
        steps=[step("pre-authorise an unknown set", policies(
            permittedUsersPolicyType="AdminApprovedPreAuthorized", commaSeparatedPermissionSet=UNKNOWN_SET_ID),
            expect=refused("INVALID_CROSS_REFERENCE_KEY", status=None))]),
    dict(
        name="eca_app_name_rule",
        section="External Client Apps", rule="App fullName: letters, digits and single underscores",
        question="Is an External Client App whose fullName has two consecutive underscores refused with "
                 "FIELD_INTEGRITY_EXCEPTION?",
        relied_on="sf_external_client_app refuses such names before sending, as it refuses them for permission sets.",
        steps=[step("create an app named with __", metadata("create", APP_TYPE, dict(
            fullName="${prefix}__Bad", label="${prefix} bad", contactEmail="${email}", description=NOTE,
            distributionState="Local")), expect=refused("FIELD_INTEGRITY_EXCEPTION", status=None))]),
    dict(
        name="eca_run_as_user_api_only",
        section="External Client Apps", rule="`clientCredentialsFlowUser`: the username",
        question="Is a client credentials run-as user without API Only User refused with FIELD_INTEGRITY_EXCEPTION?",
        relied_on="The integration_users role makes each integration user API only before naming it as run-as user.",
        needs=["app"], requires=["caller_username"], when=dict(caller_api_only=False),
        steps=[step("name the calling user as run-as user", policies(
            permittedUsersPolicyType="AdminApprovedPreAuthorized", isClientCredentialsFlowEnabled=True,
            clientCredentialsFlowUser="${caller_username}"), expect=refused("FIELD_INTEGRITY_EXCEPTION", status=None))]),
]

PROBE_NAMES = [probe["name"] for probe in PROBES]


def rows(probe: dict) -> list[tuple[str, str]]:
    """(section, rule) of every row of docs/emulator.md the probe's answer settles, its own first."""
    return [(probe["section"], probe["rule"])] + [(row["section"], row["rule"]) for row in probe.get("also") or []]


# ---- the format ------------------------------------------------------------------------------------------


def missing(item: Any, values: dict) -> list[str]:
    """Placeholders of ``item`` that ``values`` has no value for."""
    if isinstance(item, dict):
        return [name for value in item.values() for name in missing(value, values)]
    if isinstance(item, list):
        return [name for value in item for name in missing(value, values)]
    if isinstance(item, str):
        return [name for name in PLACEHOLDER.findall(item) if values.get(name) is None]
    return []


def substitute(item: Any, values: dict) -> Any:
    """``item`` with every ``${name}`` replaced by ``values[name]``; placeholders without a value stay."""
    if isinstance(item, dict):
        return dict((key, substitute(value, values)) for key, value in item.items())
    if isinstance(item, list):
        return [substitute(value, values) for value in item]
    if isinstance(item, str):
        return PLACEHOLDER.sub(lambda m: m.group(0) if values.get(m.group(1)) is None else str(values[m.group(1)]), item)
    return item


def extract(body: Any, path: str) -> Any:
    """The value at ``records[0].Profile.Name`` of an answer body, None when it is not there."""
    value = body
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return value


def templated(item: Any, values: dict) -> Any:
    """``item`` with the run's own names and ids put back as placeholders (see is_own()).

    Longest first, so that the prefix is replaced before the run id inside it; ids of 18 characters are
    also found in their 15-character form.
    """
    pairs = []
    for name, value in values.items():
        if is_own(name) and isinstance(value, str) and len(value) >= 5:
            pairs.append((value, "${%s}" % name))
            if re.match(r"^[A-Za-z0-9]{18}$", value) and name.endswith("_id"):
                pairs.append((value[:15], "${%s}" % name))
    pairs.sort(key=lambda pair: -len(pair[0]))
    return _templated(item, pairs)


def _templated(item: Any, pairs: list) -> Any:
    if isinstance(item, dict):
        return dict((key, _templated(value, pairs)) for key, value in item.items())
    if isinstance(item, list):
        return [_templated(value, pairs) for value in item]
    if isinstance(item, str):
        for value, placeholder in pairs:
            item = item.replace(value, placeholder)
    return item


def is_own(name: str) -> bool:
    """Whether a value is the run's or org's own (names, ids, the calling user), not an answer to compare."""
    return name in GIVEN or name in PRIVATE or name.endswith("_id") or name.startswith("created_")


def differences(expected: dict, answer: dict) -> list[str]:
    """How ``answer`` differs from what ``expected`` says (``ok``, ``status``, ``errorCode``, ``values``, ...)."""
    found = []
    for key, wanted in sorted(expected.items()):
        if key == "values":
            got = answer.get("values") or {}
            found += ["%s is %r, expected %r" % (path, got.get(path), value)
                      for path, value in sorted(wanted.items()) if got.get(path) != value]
        elif answer.get(key) != wanted:
            found.append("%s is %r, expected %r" % (key, answer.get(key), wanted))
    return found


def prefix_values(prefix: str, run_id: str, email: str) -> dict:
    """The names a run makes its records under: every one starts with the prefix, or is the probe user."""
    full = "%s_%s" % (prefix, run_id)
    domain = email.rsplit("@", 1)[-1]
    return dict(prefix=full, prefix_lower=full.lower(), run_id=run_id, email=email,
                username="%s@%s" % (full.lower().replace("_", "."), domain))
