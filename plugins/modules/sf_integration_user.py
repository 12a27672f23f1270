#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_integration_user
short_description: One dedicated Salesforce user per integration, on the Salesforce Integration license
version_added: 0.1.0
description:
  - Ensures a dedicated user for one external system (Marketo, an accounting system, ...). By default
    it gets the C(Minimum Access - API Only Integrations) profile, on the C(Salesforce Integration)
    user license.
  - Creates the user when missing. Updates only the options given whose value differs from what the
    org holds. Reactivates a deactivated user with O(state=present). Deactivates it with
    O(state=absent), as Salesforce users can never be deleted. Freezes or unfreezes it when O(frozen) is given.
  - Before writing anything, also in check mode, it validates every option. The username and email must
    be email-shaped and the alias at most 8 characters. The profile and the role must exist. Time zone,
    locale, language and email encoding must be values the org offers (read from the org's describe of
    User, so orgs with other values work too). Text must fit the org's field lengths.
  - "Before creating or reactivating a user (or moving it to a profile on another license) it checks that
    the profile's user license has a free seat, and fails with for example
    C(Salesforce Integration: 5 of 5 used) otherwise, also in check mode."
  - Refuses an admin-grade profile, one that is C(System Administrator) or grants Modify All Data,
    View All Data, Manage Users, Customize Application or Author Apex, unless
    O(allow_privileged_profile=true), which still warns.
  - Reads the user, its profile, license, role and login state and the org's profiles in one API request
    (a composite request). Writes in one more request at most, a composite request with the user, its
    password and its freeze state, rolled back together when one part fails.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.managed_user
  - sfops.integration.connection.action_group
options:
  username:
    description:
      - The user's Salesforce username, the key that identifies it. Email-shaped, at most 80 characters,
        and unique across all Salesforce orgs (not only this one), so a sandbox copy of a production user
        has a suffix such as V(.uat).
      - Compared without case; Salesforce stores it in lower case.
      - The login username of the module is O(login_username).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the user and reactivates it when it is inactive.
      - V(absent) deactivates the user (C(IsActive=false)); users cannot be deleted in Salesforce.
        The other options are then ignored. A missing user is left missing.
    type: str
    choices: [present, absent]
    default: present
  email:
    description:
      - Email address for the user's notifications, typically a team mailbox. Required to create the user.
    type: str
  first_name:
    description:
      - First name, at most 40 characters.
    type: str
  last_name:
    description:
      - Last name, at most 80 characters. Required to create the user.
    type: str
  alias:
    description:
      - Short name shown in lists, at most 8 characters.
      - When not given, a new user gets the first 8 letters and digits of the part of O(username) before
        the C(@), in lower case (V(marketo.integration@acme.com.prod) gives V(marketoi)); an existing
        user keeps its alias.
    type: str
  nickname:
    description:
      - The user's nickname (C(CommunityNickname)), unique in the org, at most 40 characters.
      - When not given, a new user gets the part of O(username) before the C(@), cut to 40 characters
        (V(marketo.integration@acme.com.prod) gives V(marketo.integration)); an existing user keeps its
        nickname. If another user of the org already has that nickname, set this option.
    type: str
  profile:
    description:
      - Name of the user's profile.
      - When not given, a new user gets V(Minimum Access - API Only Integrations) and an existing user
        keeps its profile.
      - If the profile does not exist, the error lists the profiles available for integration users
        (those on the Salesforce Integration license or with API Only User, and not admin-grade).
    type: str
  role:
    description:
      - The user's role, by its name (C(Name)) or its API name (C(DeveloperName)).
      - An empty string removes the role. Not given, the role is left as it is.
    type: str
  marketing_user:
    description:
      - The Marketing User checkbox (C(UserPermissionsMarketingUser)). A new user gets V(false) when not given.
    type: bool
  about_me:
    description:
      - Free text about the user, at most 1000 characters. A good place for the integration's owner and
        a warning not to log in with it.
    type: str
  title:
    description:
      - Job title, at most 80 characters.
    type: str
  department:
    description:
      - Department, at most 80 characters. Often the team that owns the integration.
    type: str
  company_name:
    description:
      - Company name, at most 80 characters.
    type: str
  time_zone:
    description:
      - Time zone (C(TimeZoneSidKey)), for example V(GMT) or V(Europe/Amsterdam). Must be one the org
        offers; compared without case and stored in the org's spelling.
      - A new user gets V(GMT) when not given.
    type: str
  locale:
    description:
      - Locale (C(LocaleSidKey)), for example V(en_US) or V(nl_NL). Must be one the org offers.
      - A new user gets V(en_US) when not given.
    type: str
  language:
    description:
      - Language (C(LanguageLocaleKey)), for example V(en_US) or V(de). Must be one the org offers.
      - A new user gets V(en_US) when not given.
    type: str
  email_encoding:
    description:
      - Email encoding (C(EmailEncodingKey)), for example V(UTF-8) or V(ISO-8859-1). Must be one the
        org offers.
      - A new user gets V(UTF-8) when not given.
    type: str
  password:
    description:
      - The user's password, set through the user password resource
        (C(POST /sobjects/User/<id>/password)). It must meet the org's (or the profile's) password policy.
      - Never returned and never logged. Salesforce cannot read a password back, so whether it differs
        cannot be known; see O(update_password).
      - The security token of the user cannot be reset through the API. An integration that logs in with
        username, password and token needs its token reset in Setup by someone who can log in as the
        user, or should use the OAuth JWT bearer or client credentials flow instead.
    type: str
  update_password:
    description:
      - V(on_create) sets O(password) only when this run creates the user.
      - V(always) sets O(password) on every run and then always reports a change, so the task is not
        idempotent. Use it to rotate a password, not in every run.
    type: str
    choices: [on_create, always]
    default: on_create
  frozen:
    description:
      - V(true) freezes the user (C(UserLogin.IsFrozen)), so it cannot log in, but stays active and keeps its
        license seat. V(false) unfreezes it. Not given, the freeze state is left as it is.
    type: bool
  security_token:
    description:
      - The security token of O(login_username), appended to O(login_password). Not needed from trusted
        IP ranges. (The managed user's own token cannot be set or reset through the API.)
      - Falls back to E(SF_SECURITY_TOKEN).
    type: str
  allow_privileged_profile:
    description:
      - Allow a profile that is admin-grade (System Administrator, or Modify All Data, View All Data,
        Manage Users, Customize Application or Author Apex). The module still warns.
      - This applies to the profile the user has after the run, so an existing user whose profile is
        admin-grade is refused with O(state=present) even when O(profile) is not given.
      - Integration users should never have such a profile; grant what the integration needs through a
        permission set instead.
    type: bool
    default: false
attributes:
  check_mode:
    description:
      - Reads and validates exactly as in a real run (seat check included) and reports what would change;
        writes nothing.
      - A username taken in another org is only found when writing, so check mode cannot report it.
    support: full
  diff_mode:
    description: Shows every managed field of the user before and after.
    support: full
notes:
  - Users are never deleted, only deactivated. Deactivating frees the license seat; the username stays
    taken.
  - Assign permission sets and permission set licenses with the modules made for them; this one manages
    the user record, its password and its freeze state.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_session
  - module: sfops.integration.sf_org_info
"""

EXAMPLES = r"""
- name: Log in once per org
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
  register: sf

- name: Integration users, with the session passed once
  module_defaults:
    group/sfops.integration.salesforce:
      instance_url: "{{ sf.instance_url }}"
      access_token: "{{ sf.access_token }}"
  block:
    - name: Marketo integration user
      sfops.integration.sf_integration_user:
        username: marketo.integration@acme.com.prod
        email: sf-integrations@acme.com
        first_name: Marketo
        last_name: Integration
        alias: mktoint
        nickname: marketo-integration
        profile: Minimum Access - API Only Integrations
        role: Integration
        marketing_user: true
        about_me: Integration user for Marketo. Owner marketing-ops. Do not log in.
        department: Marketing Operations
        time_zone: Europe/Amsterdam
        locale: nl_NL
        language: en_US
        email_encoding: UTF-8
        password: "{{ vault_marketo_password }}"
        update_password: on_create
      register: marketo

    - name: Accounting system user, everything else defaulted
      sfops.integration.sf_integration_user:
        username: accounting.integration@acme.com.prod
        email: finance-systems@acme.com
        last_name: Accounting Integration
        title: Integration user
        department: Finance
        company_name: Acme

    - name: Rotate the accounting user's password (reports a change on every run)
      sfops.integration.sf_integration_user:
        username: accounting.integration@acme.com.prod
        password: "{{ vault_accounting_password_2026 }}"
        update_password: always

    - name: Freeze the Marketo user while its credentials are investigated
      sfops.integration.sf_integration_user:
        username: marketo.integration@acme.com.prod
        frozen: true

    - name: Retire the old ERP integration (deactivated, never deleted)
      sfops.integration.sf_integration_user:
        username: erp.integration@acme.com.prod
        state: absent

- name: Log in as the administrator directly (login_username, since username is the managed user)
  sfops.integration.sf_integration_user:
    login_url: https://acme.my.salesforce.com
    login_username: admin@acme.com.prod
    login_password: "{{ vault_admin_password }}"
    security_token: "{{ vault_admin_token }}"
    username: marketo.integration@acme.com.prod
    email: sf-integrations@acme.com
    last_name: Integration
"""

RETURN = r"""
user:
  description:
    - The user after the run (in check mode, what it would be). Empty when O(state=absent) and the user
      does not exist.
  returned: success
  type: dict
  contains:
    id:
      description: User id; null when check mode would create the user.
      type: str
      sample: 0055g00000AbCdEAAV
    username:
      description: Username (lower case).
      type: str
      sample: marketo.integration@acme.com.prod
    profile:
      description: Profile name.
      type: str
      sample: Minimum Access - API Only Integrations
    license:
      description: Name of the profile's user license.
      type: str
      sample: Salesforce Integration
    role:
      description: Role name, or null.
      type: str
      sample: Integration
    active:
      description: Whether the user is active.
      type: bool
      sample: true
    frozen:
      description: Whether the user is frozen.
      type: bool
      sample: false
created:
  description: Whether the user was (or in check mode would be) created.
  returned: success
  type: bool
password_set:
  description: Whether the password was (or in check mode would be) set. The password itself is never returned.
  returned: success
  type: bool
diff:
  description:
    - With C(--diff), every managed field before and after (username, email, names, alias, nickname,
      profile, license, role, marketing_user, about_me, title, department, company_name, time_zone,
      locale, language, email_encoding, active, frozen), and C(password) in C(after) when it is set.
  returned: success, with --diff
  type: dict
  sample:
    before: {"active": false, "frozen": false, "profile": "Minimum Access - API Only Integrations"}
    after: {"active": true, "frozen": false, "profile": "Minimum Access - API Only Integrations"}
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 2
"""

import re

from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import (
    ApiError,
    InputError,
    LicenseLimitError,
    refuse,
)
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    admin_grade_reasons,
    describe_field,
    did_you_mean,
    is_integration_profile,
    out_of_seats,
    picklist_values,
    seats_text,
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import ADMIN_PROFILE_PERMISSIONS, PERMISSION_PREFIX
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql
from ansible_collections.sfops.integration.plugins.module_utils.state import field_changes, subquery_records

# ---- what the module manages ----------------------------------------------------------------------

# Options stored as plain User fields, in the order the diff shows them [OBJREF User].
USER_FIELDS = dict(
    username="Username", email="Email", first_name="FirstName", last_name="LastName", alias="Alias",
    nickname="CommunityNickname", marketing_user="UserPermissionsMarketingUser", about_me="AboutMe",
    title="Title", department="Department", company_name="CompanyName", time_zone="TimeZoneSidKey",
    locale="LocaleSidKey", language="LanguageLocaleKey", email_encoding="EmailEncodingKey",
)
# Every User field the module writes, by the option that sets it (for error messages).
OPTION_OF_FIELD = dict((field, option) for option, field in USER_FIELDS.items())
OPTION_OF_FIELD.update(ProfileId="profile", UserRoleId="role", IsActive="state", NewPassword="password")

PICKLIST_OPTIONS = ("time_zone", "locale", "language", "email_encoding")
CREATE_DEFAULTS = dict(time_zone="GMT", locale="en_US", language="en_US", email_encoding="UTF-8",
                       marketing_user=False)
REQUIRED_ON_CREATE = ("email", "last_name")
DEFAULT_PROFILE = "Minimum Access - API Only Integrations"

USERNAME_MAX = 80  # [OBJREF User] string(80)
ALIAS_MAX = 8
NICKNAME_MAX = 40
# Email-shaped: local part, @, dotted domain (what Salesforce asks of Username and Email).
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")

PASSWORD_MARK = "(new password set)"

USER_QUERY = (
    "SELECT Id, Username, Email, FirstName, LastName, Alias, CommunityNickname, IsActive, "
    "UserPermissionsMarketingUser, AboutMe, Title, Department, CompanyName, TimeZoneSidKey, LocaleSidKey, "
    "LanguageLocaleKey, EmailEncodingKey, ProfileId, Profile.Name, Profile.UserLicense.Name, "
    "UserRoleId, UserRole.Name, UserRole.DeveloperName, (SELECT Id, IsFrozen FROM UserLogins) "
    "FROM User WHERE Username = {}")
PROFILE_QUERY = (
    "SELECT Id, Name, UserLicenseId, UserLicense.Name, UserLicense.TotalLicenses, UserLicense.UsedLicenses, "
    "PermissionsApiUserOnly, %s FROM Profile ORDER BY Name"
    % ", ".join(PERMISSION_PREFIX + name for name in ADMIN_PROFILE_PERMISSIONS))
ROLE_QUERY = "SELECT Id, Name, DeveloperName FROM UserRole WHERE Name = {} OR DeveloperName = {}"

ARGUMENT_SPEC = dict(
    username=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    email=dict(type="str"),
    first_name=dict(type="str"),
    last_name=dict(type="str"),
    alias=dict(type="str"),
    nickname=dict(type="str"),
    profile=dict(type="str"),
    role=dict(type="str"),
    marketing_user=dict(type="bool"),
    about_me=dict(type="str"),
    title=dict(type="str"),
    department=dict(type="str"),
    company_name=dict(type="str"),
    time_zone=dict(type="str"),
    locale=dict(type="str"),
    language=dict(type="str"),
    email_encoding=dict(type="str"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
    frozen=dict(type="bool"),
    allow_privileged_profile=dict(type="bool", default=False),
)


class CreateInterrupted(Exception):
    """The create's answer is not the outcome (connection dropped, or the username already taken by the same
    user made meanwhile by another run); the user exists now."""


# ---- pure rules: defaults and validation ----------------------------------------------------------------


def local_part(username):
    return (username or "").split("@", 1)[0]


def derive_alias(username):
    """First 8 letters and digits of the username's local part, lower case (``marketoi``)."""
    alias = "".join(c for c in local_part(username) if c.isalnum()).lower()[:ALIAS_MAX]
    return alias or "intuser"


def derive_nickname(username):
    """The username's local part, cut to the 40 characters CommunityNickname holds."""
    return local_part(username)[:NICKNAME_MAX] or "integration-user"


def is_email_shaped(value):
    return bool(EMAIL_RE.match(value or ""))


def option_problems(params):
    """Messages for option values that are wrong whatever the org holds (checked before any request)."""
    problems = []
    username = params["username"]
    if not is_email_shaped(username):
        problems.append("username '%s' must be in the form of an email address (for example "
                        "integration.marketo@acme.com)" % username)
    elif len(username) > USERNAME_MAX:
        problems.append("username '%s' is %d characters long; Salesforce allows at most %d"
                        % (username, len(username), USERNAME_MAX))
    if params["state"] == "absent":
        return problems
    if params.get("email") is not None and not is_email_shaped(params["email"]):
        problems.append("email '%s' is not a valid email address" % params["email"])
    if params.get("alias") is not None and not 0 < len(params["alias"]) <= ALIAS_MAX:
        problems.append("alias '%s' must be 1 to %d characters long" % (params["alias"], ALIAS_MAX))
    if params.get("nickname") is not None and not 0 < len(params["nickname"]) <= NICKNAME_MAX:
        problems.append("nickname '%s' must be 1 to %d characters long" % (params["nickname"], NICKNAME_MAX))
    return problems


def canonical_picklist(option, value, describe):
    """The org's spelling of ``value`` for a picklist option; raises InputError when the org lacks it."""
    field = USER_FIELDS[option]
    values = picklist_values(describe, field)
    if values is None:
        return value  # the describe does not list the field: leave the check to Salesforce
    by_lower = dict((v.lower(), v) for v in values)
    if value.lower() in by_lower:
        return by_lower[value.lower()]
    raise InputError("%s '%s' is not a valid %s in this org%s"
                     % (option, value, describe_field(describe, field).get("label"), did_you_mean(value, values)))


def length_problems(fields, describe):
    """Messages for text values longer than the org's User field lengths."""
    lengths = dict((f.get("name"), f.get("length")) for f in (describe or {}).get("fields") or []
                   if f.get("type") in ("string", "textarea", "email") and f.get("length"))
    problems = []
    for field, value in fields.items():
        limit = lengths.get(field)
        if isinstance(value, str) and limit and len(value) > limit:
            problems.append("%s is %d characters long; the org allows at most %d"
                            % (OPTION_OF_FIELD.get(field, field), len(value), limit))
    return problems


# ---- profiles, roles and licenses ------------------------------------------------------------------------


def license_of(profile):
    return (profile or {}).get("UserLicense") or {}


def integration_profiles(profiles):
    """Names of the profiles fit for integration users (org.is_integration_profile)."""
    return [p["Name"] for p in profiles if is_integration_profile(p, license_of(p).get("Name"))]


def resolve_profile(name, profiles):
    """The profile called ``name`` (exact, else case-insensitive); InputError listing the choices."""
    for match in (lambda p: p.get("Name") == name, lambda p: (p.get("Name") or "").lower() == name.lower()):
        found = [p for p in profiles if match(p)]
        if found:
            return found[0]
    raise InputError("profile '%s' does not exist in this org%s. Profiles available for integration users: %s"
                     % (name, did_you_mean(name, [p["Name"] for p in profiles]),
                        ", ".join(integration_profiles(profiles)) or "none"))


def resolve_role(name, roles):
    """The role whose DeveloperName (preferred, it is unique) or Name is ``name``."""
    for key in ("DeveloperName", "Name"):
        found = [r for r in roles if (r.get(key) or "").lower() == name.lower()]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError("role '%s' matches %d roles by %s; give the role's API name (DeveloperName): %s"
                             % (name, len(found), key, ", ".join(r.get("DeveloperName") or r["Id"] for r in found)))
    raise InputError("role '%s' does not exist in this org (give its Name or DeveloperName)" % name)


def seat_problem(profile):
    """``Salesforce Integration: 5 of 5 used`` when the profile's user license has no free seat."""
    user_license = license_of(profile)
    if not out_of_seats(user_license):
        return None
    return "%s: %s" % (user_license.get("Name"), seats_text(user_license))


# ---- reading -------------------------------------------------------------------------------------------


class OrgFacts:
    """Everything one run needs, read in one composite request."""

    def __init__(self, user, profiles, roles, describe):
        self.user = user
        self.profiles = profiles
        self.roles = roles
        self.describe = describe
        self.profiles_by_id = dict((p["Id"], p) for p in profiles)

    @property
    def login(self):
        logins = subquery_records(self.user, "UserLogins")
        return logins[0] if logins else None

    def profile_of(self, record):
        """The profile row of a user record (from the profile list, else from the record itself)."""
        return self.profiles_by_id.get(record.get("ProfileId")) or record.get("Profile") or {}


def read_facts(client, params):
    present = params["state"] == "present"
    subrequests = [client.composite_query("user", soql(USER_QUERY, params["username"]))]
    if present:
        subrequests.append(client.composite_query("profiles", PROFILE_QUERY))
        subrequests.append(client.composite_describe("describe", "User"))
        if params.get("role"):
            subrequests.append(client.composite_query("roles", soql(ROLE_QUERY, params["role"], params["role"])))
    responses = client.read(subrequests)

    def body(ref):
        return client.composite_body(responses, ref, action="read", resource=ref)

    def rows(ref):
        return client.more_records(body(ref)) if ref in responses else []

    users = rows("user")
    return OrgFacts(users[0] if users else None, rows("profiles"), rows("roles"),
                    body("describe") if present else None)


# ---- what to change -------------------------------------------------------------------------------------


class Plan:
    """The writes one run makes (or would make in check mode)."""

    def __init__(self, user_id=None, login_id=None):
        self.user_id = user_id
        self.login_id = login_id
        self.create = None  # the new User record's fields
        self.update = {}  # User fields to PATCH
        self.password = None
        self.frozen = None  # the IsFrozen value to write
        self.warnings = []

    @property
    def changed(self):
        return bool(self.create or self.update or self.password is not None or self.frozen is not None)


def desired_fields(params, creating):
    """User fields from the options given; a new user also gets the documented defaults."""
    username = params["username"].lower()  # as Salesforce stores it
    defaults = dict(CREATE_DEFAULTS, alias=derive_alias(username), nickname=derive_nickname(username)) \
        if creating else {}
    fields = {}
    for option, field in USER_FIELDS.items():
        value = params.get(option)
        if value is None:
            value = defaults.get(option)
        if value is not None:
            fields[field] = value
    return fields


def admin_grade(profile):
    """"profile 'X' is admin-grade (reasons)", or None for a profile fit for an integration user."""
    reasons = admin_grade_reasons(profile)
    return "profile '%s' is admin-grade (%s)" % (profile["Name"], ", ".join(reasons)) if reasons else None


def privilege_problem(params, profile):
    """The refusal of an admin-grade profile unless allow_privileged_profile; None otherwise."""
    text = admin_grade(profile)
    if not text or params["allow_privileged_profile"]:
        return None
    return ("%s: integration users must not have it. Give a profile such as '%s' and grant what the integration "
            "needs through a permission set, or set allow_privileged_profile: true" % (text, DEFAULT_PROFILE))


def check_privilege(params, profile, plan):
    """The warning for an admin-grade profile the task allowed (privilege_problem refused it otherwise)."""
    text = admin_grade(profile)
    if text:
        plan.warnings.append("User %s gets %s; integration users should not have admin-grade permissions"
                             % (params["username"], text))


def needs_seat(record, profile, facts):
    """Creating, reactivating or moving an active user to another license takes a seat."""
    if record is None or not record.get("IsActive"):
        return True
    return facts.profile_of(record).get("UserLicenseId") != profile.get("UserLicenseId")


def collect(problems, func, *args):
    """``func(*args)``, or None with its InputError message added to ``problems``."""
    try:
        return func(*args)
    except InputError as error:
        problems.append(error.message)
        return None


def check_against_org(params, facts, fields, creating):
    """Check the user fields against the org (spelling picklists its way); return the profile and role.

    Every problem found is named in one InputError.
    """
    problems = ["%s is required to create user %s" % (option, fields["Username"])
                for option in REQUIRED_ON_CREATE if creating and params.get(option) is None]
    for option in PICKLIST_OPTIONS:
        field = USER_FIELDS[option]
        if field in fields:
            fields[field] = collect(problems, canonical_picklist, option, fields[field], facts.describe)
    problems.extend(length_problems(fields, facts.describe))
    profile_name = params.get("profile") or (DEFAULT_PROFILE if creating else None)
    if profile_name is None:
        profile = facts.profile_of(facts.user)
    else:
        profile = collect(problems, resolve_profile, profile_name, facts.profiles)
    role = collect(problems, resolve_role, params["role"], facts.roles) if params.get("role") else None
    if profile is not None:
        problems.append(privilege_problem(params, profile))
    if not creating and freezes(params, facts) and not (facts.login or {}).get("Id"):
        problems.append("frozen: user %s has no UserLogin row to freeze or unfreeze" % fields["Username"])
    refuse(problems)
    return profile, role


def freezes(params, facts):
    """True when the task freezes or unfreezes the user."""
    return params.get("frozen") is not None and params["frozen"] != bool((facts.login or {}).get("IsFrozen"))


def check_seat(record, profile, facts, username):
    if not needs_seat(record, profile, facts):
        return
    problem = seat_problem(profile)
    if problem:
        raise LicenseLimitError("No free seat on the user license of profile '%s' for user %s: %s. Deactivate a "
                                "user that is no longer needed or buy more licenses."
                                % (profile["Name"], username, problem), error_code="LICENSE_LIMIT_EXCEEDED")


def plan_present(params, facts, just_created=False):
    """Validate against the org and work out the writes; raises before anything is written.

    ``just_created``: this run created the user but lost the answer; its password is still to set.
    """
    record = facts.user
    creating = record is None
    username = params["username"].lower()
    fields = dict(desired_fields(params, creating), Username=username)
    profile, role = check_against_org(params, facts, fields, creating)
    plan = Plan(user_id=record and record["Id"], login_id=(facts.login or {}).get("Id"))
    check_privilege(params, profile, plan)
    check_seat(record, profile, facts, username)
    if params.get("profile") or creating:
        fields["ProfileId"] = profile["Id"]
    if params.get("role") is not None:
        fields["UserRoleId"] = role["Id"] if role else ""  # "" removes the role
    fields["IsActive"] = True
    if creating:
        plan.create = dict((k, v) for k, v in fields.items() if v not in (None, ""))
    else:
        plan.update = field_changes(fields, record, case_insensitive=("Username", "Email"))
    if params.get("password") is not None and (creating or just_created or params["update_password"] == "always"):
        plan.password = params["password"]
    if freezes(params, facts):
        plan.frozen = params["frozen"]
    return plan, profile, role


def plan_absent(facts):
    record = facts.user
    plan = Plan(user_id=record and record["Id"])
    if record is not None and record.get("IsActive"):
        plan.update = dict(IsActive=False)
    return plan


# ---- the readable state (diff and result) -----------------------------------------------------------------


def user_view(record, profile, role_name, frozen):
    """The managed fields in option names, as the diff shows them."""
    view = dict((option, record.get(field)) for option, field in USER_FIELDS.items())
    view.update(profile=profile.get("Name"), license=license_of(profile).get("Name"), role=role_name,
                active=bool(record.get("IsActive")), frozen=bool(frozen))
    return view


def before_view(facts):
    record = facts.user
    if record is None:
        return {}
    return user_view(record, facts.profile_of(record), (record.get("UserRole") or {}).get("Name"),
                     (facts.login or {}).get("IsFrozen"))


def after_view(facts, plan, profile, role):
    written = plan.create or plan.update
    record = dict(facts.user or {}, **written)
    if "ProfileId" not in written:
        profile = facts.profile_of(record)
    role_name = (record.get("UserRole") or {}).get("Name")
    if "UserRoleId" in written:
        role_name = role["Name"] if role else None
    frozen = plan.frozen if plan.frozen is not None else (facts.login or {}).get("IsFrozen")
    view = user_view(record, profile, role_name, frozen)
    if plan.password is not None:
        view["password"] = PASSWORD_MARK
    return view


def user_action(plan, before, after):
    """The change record's action: create, deactivate, reactivate, update, or none."""
    if not plan.changed:
        return NO_CHANGE
    if not before:
        return CREATE
    was, now = before.get("active"), (after or {}).get("active")
    if was is not False and now is False:
        return "deactivate"
    if was is False and now is True:
        return "reactivate"
    return UPDATE


def user_result(user_id, view):
    if not view:
        return {}
    return dict(id=user_id, username=view["username"], profile=view["profile"], license=view["license"],
                active=view["active"], frozen=view["frozen"], role=view["role"])


# ---- writing ---------------------------------------------------------------------------------------------


def write_subrequests(client, plan):
    """The composite subrequests of a plan: user, password, freeze, in that order."""
    subs = []
    user_ref = "@{user.id}" if plan.create else plan.user_id
    if plan.create:
        subs.append(client.sobject_subrequest("user", "POST", "User", body=plan.create))
    elif plan.update:
        body = dict((k, None if v == "" else v) for k, v in plan.update.items())
        subs.append(client.sobject_subrequest("user", "PATCH", "User", plan.user_id, body))
    if plan.password is not None:
        subs.append(client.rest_subrequest("password", "POST", "sobjects/User/%s/password" % user_ref,
                                           dict(NewPassword=plan.password)))
    if plan.frozen is not None:
        login_ref = plan.login_id
        if plan.create:
            # The new user's UserLogin row, found by a query inside the same composite request.
            query = soql("SELECT Id FROM UserLogin WHERE UserId = '{:literal}'", user_ref)
            subs.append(client.composite_query("login", query, references=True))
            login_ref = "@{login.records[0].Id}"
        subs.append(client.sobject_subrequest("freeze", "PATCH", "UserLogin", login_ref, dict(IsFrozen=plan.frozen)))
    return subs


def labels(plan, username):
    """What each subrequest does, for Salesforce's refusals: ``create User 'x'``, ``set the password of User 'x'``."""
    user = "User '%s'" % username
    return dict(user="%s %s" % ("create" if plan.create else "update", user), password="set the password of " + user,
                login="read UserLogin", freeze="update UserLogin")


def explain(error, params):
    """Salesforce's own refusals as one message naming the option (duplicate username or nickname)."""
    fields = set(getattr(error, "fields", []) or [])
    duplicate = error.error_code == "DUPLICATE_VALUE"  # the generic code: the field says which value
    if error.error_code == "DUPLICATE_USERNAME" or (duplicate and "Username" in fields):
        return ("username '%s' is already taken by a user in this or another Salesforce org (usernames are unique "
                "across all of Salesforce); choose another username" % params["username"].lower())
    if error.error_code == "DUPLICATE_COMM_NICKNAME" or (duplicate and "CommunityNickname" in fields):
        return ("nickname '%s' is already used by another user of this org; set the nickname option to a unique "
                "value" % (params.get("nickname") or derive_nickname(params["username"].lower())))
    options = sorted(set(OPTION_OF_FIELD[f] for f in fields if f in OPTION_OF_FIELD))
    if error.error_code == "INVALID_NEW_PASSWORD":
        options = ["password"]  # the password resource names no field
    if options:
        return "%s: %s" % (", ".join(options), error.message)
    return None


def apply(client, plan, params):
    """Send the plan in one composite request (all or none); returns the new user's id when created."""
    subrequests = write_subrequests(client, plan)
    if not subrequests:
        return plan.user_id

    def find_created_user():
        # A dropped create or a duplicate username: look for the user (client.call); a repeated update is harmless.
        return client.query_one(soql("SELECT Id FROM User WHERE Username = {}", params["username"])) \
            if plan.create else None

    try:
        responses = client.write(subrequests, "save user %s" % params["username"].lower(),
                                 labels=labels(plan, params["username"].lower()), find_existing=find_created_user)
    except ApiError as error:
        message = explain(error, params)
        if message:
            raise type(error)(message, status=error.status, error_code=error.error_code, fields=error.fields)
        raise
    if plan.create and "user" not in responses:
        raise CreateInterrupted()
    return responses["user"]["body"]["id"] if plan.create else plan.user_id


# ---- the module -----------------------------------------------------------------------------------------


def run(module):
    params = module.params
    refuse(option_problems(params))
    client = module.client
    facts = read_facts(client, params)
    if params["state"] == "absent":
        plan, profile, role = plan_absent(facts), None, None
    else:
        plan, profile, role = plan_present(params, facts)
    for warning in plan.warnings:
        module.warn(warning)
    before = before_view(facts)
    after = after_view(facts, plan, profile, role) if facts.user or plan.create else {}
    user_id = plan.user_id
    if plan.changed and not module.check_mode:
        try:
            user_id = apply(client, plan, params)
        except CreateInterrupted:
            # The re-read found the user (client.call): after a dropped create it is this run's, its password
            # still to set; after a duplicate answer another writer (a second run of the same rollout) made it,
            # so the plan is made again against the user as it is and the result says what this run changed.
            concurrent = bool(client.done_elsewhere)
            facts = read_facts(client, params)
            plan_rest, profile_rest, role_rest = plan_present(params, facts, just_created=not concurrent)
            user_id = apply(client, plan_rest, params)
            if concurrent:
                plan, before = plan_rest, before_view(facts)
                after = after_view(facts, plan, profile_rest, role_rest)
    record = change_record("user", params["username"], user_action(plan, before, after), before, after)
    return module.finish(record, before, after, user=user_result(user_id, after),
                         created=bool(plan.create), password_set=plan.password is not None)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
