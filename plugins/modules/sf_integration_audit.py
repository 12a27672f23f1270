#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_integration_audit
short_description: Audit API access in a Salesforce org - who logs in to the API, as whom, with which rights
version_added: 0.1.0
description:
  - Reads one org and reports findings about its API access, without changing anything. Each finding
    has an C(id), a C(check), a C(severity) (V(high), V(medium), V(low) or V(info)), the C(user) it is
    about, its C(evidence) (counts, dates, applications) and a C(remedy).
  - C(person_api_user) (medium) - a user on a full license (not C(Salesforce Integration)) without
    API Only User who logged in to the API in the window, so an external system probably runs as a
    person's user.
  - C(admin_grade_api_user) (high) - an API user (API only, on the Salesforce Integration license, or
    with API logins in the window) with API Enabled and Modify All Data, View All Data or an
    admin-grade profile (System Administrator, or Modify All Data, View All Data, Manage Users,
    Customize Application or Author Apex on the profile).
  - C(shared_user) (medium) - a user whose successful API logins in the window come from more than
    one application or client (an External Client App or connected app by name, SOAP C(login()),
    another login type).
  - C(password_login) - successful SOAP API C(login()) logins (high) or OAuth username-password
    flow logins (medium) in the window, with the dates from which they stop working.
    SOAP C(login()) is not available from API 65.0, is off by default in orgs created from
    Winter '26, needs the Use Any API Auth permission from Summer '26 and is retired for every API
    version in Summer '27. The OAuth username-password flow is blocked by default in orgs created
    from Summer '23.
  - C(inactive_integration_user) (low) - an active integration user (Salesforce Integration license
    or API Only User) whose last login, or creation when it never logged in, is older than
    O(inactive_days).
  - C(failed_logins) (medium) - failed logins of integration users in the window, by status, with
    what each status usually means.
  - C(password_age) - users that logged in with a password in the window, whose password is older
    than O(password_max_age_days) (medium) or never expires (low).
  - C(setup_changes) (low) - Setup Audit Trail entries of the window that name an integration user
    (by username or by its 15- or 18-character user id, as Salesforce may write either), a permission
    set or group it holds, or its profile, or that an integration user made while logged in as
    another user (C(DelegateUser)), made by someone not in O(exclude_users).
  - C(no_free_seats) (low) - no Salesforce Integration user license or Salesforce API Integration
    permission set license left. The seats of both are always returned in RV(seats).
  - C(drift) (medium) - with O(integrations), an integration whose user or assignments differ from
    it (missing, inactive or still active user, another profile, missing or extra permission sets and
    groups, password logins of an integration declared passwordless).
  - Bounded requests whatever the size of the org. Two composite requests carry seven queries (users,
    assignments, login history and setup audit trail of the window, the organization, the two
    licenses), and only the pages of those queries (2,000 rows each) grow with the org. Login
    history is filtered on C(LoginTime) only, as Salesforce allows filters on a few of its fields;
    no aggregate query is used.
  - Least privilege. The user the audit runs as needs API Enabled, View Setup and Configuration
    (C(ViewSetup), for the Setup Audit Trail, permission sets and assignments), and Monitor Login
    History (C(MonitorLoginHistory)) or Manage Users (C(ManageUsers)) to read every user's login
    history. Without one the audit fails and names it. Salesforce shows a user without Monitor Login
    History only its own logins, which the audit detects (users logged in during the window, by
    C(User.LastLoginDate), whose logins it cannot see).
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
options:
  window_days:
    description:
      - Days of login history and setup audit trail to read (the SOQL date literal C(LAST_N_DAYS)).
      - Salesforce keeps login history for about six months and the setup audit trail for 180 days; a
        longer window gets a warning.
    type: int
    default: 30
  inactive_days:
    description:
      - An active integration user that has not logged in for this many days is reported as inactive.
    type: int
    default: 90
  password_max_age_days:
    description:
      - A user that logs in with a password older than this many days gets a C(password_age) finding
        of severity medium.
    type: int
    default: 90
  severities:
    description:
      - Only findings of these severities are returned (and counted in RV(summary)).
    type: list
    elements: str
    default: [high, medium, low, info]
  exclude_users:
    description:
      - Usernames whose findings are left out, and whose setup changes are not reported, for example the
        administrator the rollout and this audit log in as. They are listed in RV(excluded_users).
    type: list
    elements: str
    default: []
  integrations:
    description:
      - The integrations as the role P(sfops.integration.integration_users#role) takes them
        (C(sf_integrations)). When given, each is compared with the org and differences are C(drift)
        findings. Used keys are C(name), C(state), C(user.username), C(permission_sets[].name),
        C(extra_permission_sets), C(permission_set_groups) and C(oauth); a C(user.password) is masked
        in the output, though better left out.
    type: list
    elements: dict
  integration_profile:
    description:
      - With O(integrations), the profile every present integration user must have (as the role's
        C(sf_integration_profile)); not checked when left out.
    type: str
  exclusive:
    description:
      - With O(integrations), whether permission sets and groups an integration user holds beyond its
        integration's count as drift (as the role's C(sf_integration_exclusive)).
    type: bool
    default: true
  mfa_waiver_permission_set:
    description:
      - The permission set the role gives integrations that log in with a password when the org requires
        MFA for API logins; never counted as an extra assignment of such an integration.
    type: str
    default: Integration_MFA_Waiver
notes:
  - Check mode runs the same reads; nothing is ever written.
  - A read-only auditor permission set the collection can create is shown in the README (Audit).
  - Failed user-interface logins are in the login history too, and count as failed logins of integration
    users (an API only user refused at the login page).
  - Permission set groups count through their aggregate permission set, which Salesforce names in
    C(PermissionSetAssignment.PermissionSetId).
attributes:
  check_mode:
    description: Reads only, so it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing is changed, so there is no diff.
    support: none
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_org_info
  - module: sfops.integration.sf_session
"""

EXAMPLES = r"""
- name: Log in once
  sfops.integration.sf_session:
    login_url: "{{ sf_login_url }}"
    client_id: "{{ sf_client_id }}"
    username: "{{ sf_username }}"
    private_key_file: "{{ sf_private_key_file }}"
  register: sf

- name: Audit the last 30 days of API access, leaving out the rollout's own user
  sfops.integration.sf_integration_audit:
    instance_url: "{{ sf.instance_url }}"
    access_token: "{{ sf.access_token }}"
    window_days: 30
    exclude_users: ["{{ sf_username }}"]
    integrations: "{{ sf_integrations }}"
  register: audit

- name: Stop when something high was found
  ansible.builtin.assert:
    that: audit.summary.high == 0
    fail_msg: "{{ audit.findings | selectattr('severity', 'equalto', 'high') | map(attribute='title') | list }}"
"""

RETURN = r"""
findings:
  description: What the audit found, most severe first.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Stable identifier, C(<check>:<user or subject>), the same in every run.
      type: str
      sample: "password_login:marketo@acme.com"
    check:
      description: Which check found it (see the description).
      type: str
      sample: password_login
    severity:
      description: V(high), V(medium), V(low) or V(info).
      type: str
    user:
      description: Username it is about (null for org-wide findings such as seats).
      type: str
    user_id:
      description: Id of that user.
      type: str
    integration:
      description: For C(drift), the integration's name.
      type: str
    title:
      description: One line saying what was found.
      type: str
    evidence:
      description: Counts, dates and applications behind the finding.
      type: dict
    remedy:
      description: What to do about it.
      type: str
summary:
  description: Number of returned findings per severity, and in total.
  returned: success
  type: dict
  sample: {"high": 1, "medium": 2, "low": 0, "info": 0, "total": 3}
seats:
  description: Seats of the Salesforce Integration user license and the Salesforce API Integration permission set license.
  returned: success
  type: list
  elements: dict
  sample: [{"license": "Salesforce Integration", "kind": "user_license", "total": 5, "used": 2, "available": 3}]
window:
  description: The window read (C(days), C(since) as a UTC timestamp).
  returned: success
  type: dict
counts:
  description: Users, API users, integration users, login history rows and setup changes read.
  returned: success
  type: dict
org:
  description: The organization (C(id), C(name), C(is_sandbox), C(edition)).
  returned: success
  type: dict
excluded_users:
  description: The O(exclude_users) found in the org.
  returned: success
  type: list
  elements: str
warnings_found:
  description: What limits the audit (a window longer than Salesforce keeps history, login history seen only in part).
  returned: success
  type: list
  elements: str
change:
  description: The change record; always action V(none).
  returned: success
  type: dict
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 3
"""

import datetime
import re

from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import PermissionDeniedError, ReadDeniedError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import (
    INTEGRATION_USER_LICENSE,
    admin_grade_reasons,
    id15,
    is_integration_user,
    seats as org_seats,  # Audit.seats is the audit's check
)
from ansible_collections.sfops.integration.plugins.module_utils.permissions import ADMIN_PROFILE_PERMISSIONS
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql

SEVERITIES = ("high", "medium", "low", "info")
API_INTEGRATION_PSL = "SalesforceAPIIntegrationPsl"  # reference 3.4
# A record id in audit text: 15 characters (case-sensitive) or 18 (case-insensitive), e.g. "(UserID: [005...])".
RECORD_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?(?![A-Za-z0-9])")
# Permissions read for every user (profile and permission sets): those the checks use and the admin-grade ones
# (an admin-grade profile is one that sf_integration_user refuses for integration users, module_utils/org.py).
PERMISSIONS = ("ApiEnabled", "ApiUserOnly", "PasswordNeverExpires") + tuple(ADMIN_PROFILE_PERMISSIONS)
ADMIN_RIGHTS = ("ModifyAllData", "ViewAllData")  # admin-grade rights whatever grants them (issue 19)
# LoginHistory.LoginType labels of API logins (oauth reference B.1); the others are user-interface and SSO logins.
API_LOGIN_TYPES = frozenset(["Remote Access 2.0", "Remote Access Client", "Partner Product", "Other Apex API"])
SOAP_LOGIN_TYPE = "Partner Product"  # SOAP partner login() (B.1, 3P)
OAUTH_LOGIN_TYPES = frozenset(["Remote Access 2.0", "Remote Access Client"])
SUCCESS = "Success"
HISTORY_DAYS = 180  # Setup Audit Trail "at least the last 180 days" (B.2); login history about 6 months (B.1)
MAX_CHANGES_SHOWN = 20

# When password logins stop working (oauth reference §0 [H-SOAPLOGIN], A.5 [H-BLOCK]).
RETIREMENT = dict(
    soap_login=[
        "Winter '26: off by default in orgs created Winter '26 and later (Setup, User Interface, Enable SOAP API login())",
        "API 65.0: not available in API version 65.0 and later",
        "Summer '26: needs the Use Any API Auth user permission (enforced by default in new orgs)",
        "Summer '27: retired for every API version",
    ],
    oauth_password=[
        "Summer '23: blocked by default in orgs created Summer '23 and later (Setup, OAuth and OpenID Connect "
        "Settings, Allow OAuth Username-Password Flows)",
    ],
)

# What a failed login's status usually means (LoginHistory.Status texts of oauth reference B.1, A.5).
STATUS_HINTS = {
    "invalid password": "the system logs in with a wrong or old password",
    "failed: api security token required": "the password is sent without the security token from outside the "
                                           "trusted IP ranges",
    "password lockout": "too many wrong passwords locked the user",
    "user is inactive": "a system still logs in as a deactivated user: remove its credentials there",
    "user is frozen": "a system still logs in as a frozen user",
    "failed: api-only user": "someone tried the user-interface login page with an API only user",
    "login rate exceeded": "more than 3,600 logins an hour: the system should reuse its session",
    "username-password flow disabled": "the OAuth username-password flow is blocked in this org: move to JWT bearer "
                                       "or client credentials",
    "failed: oauth api access disabled": "the user has no API access",
    "restricted ip": "the login came from outside the profile's login IP ranges",
    "restricted time": "the login came outside the profile's login hours",
}

# What each query reads, and which permission reading it needs (for the message when it is refused).
NEEDS = dict(
    users="User (users, their profiles and licenses)",
    assignments="PermissionSetAssignment (assigned permission sets): View Setup and Configuration (ViewSetup)",
    logins="LoginHistory (logins of every user): Monitor Login History (MonitorLoginHistory) or Manage Users "
           "(ManageUsers)",
    setup_changes="SetupAuditTrail (setup changes): View Setup and Configuration (ViewSetup)",
    organization="Organization",
    user_licenses="UserLicense (seats)",
    permission_set_licenses="PermissionSetLicense (seats)",
)
LOGIN_HISTORY_PERMISSION = "Monitor Login History (MonitorLoginHistory) or Manage Users (ManageUsers)"

ARGUMENT_SPEC = dict(
    window_days=dict(type="int", default=30),
    inactive_days=dict(type="int", default=90),
    password_max_age_days=dict(type="int", default=90, no_log=False),
    severities=dict(type="list", elements="str", default=list(SEVERITIES)),
    exclude_users=dict(type="list", elements="str", default=[]),
    integrations=dict(type="list", elements="dict"),
    integration_profile=dict(type="str"),
    exclusive=dict(type="bool", default=True),
    mfa_waiver_permission_set=dict(type="str", default="Integration_MFA_Waiver"),
)


# ---- input -------------------------------------------------------------------------------------------


def option_problems(params):
    """Every problem of the options, each naming the option and the value; [] when they are fine."""
    problems = []
    for name in ("window_days", "inactive_days", "password_max_age_days"):
        if params.get(name) is not None and params[name] <= 0:
            problems.append("%s must be a number of days greater than 0, not %s" % (name, params[name]))
    for index, severity in enumerate(params.get("severities") or []):
        if str(severity).lower() not in SEVERITIES:
            problems.append("severities[%d]: unknown severity '%s' (one of %s)" % (index, severity, ", ".join(SEVERITIES)))
    if params.get("severities") is not None and not params["severities"]:
        problems.append("severities must name at least one of %s" % ", ".join(SEVERITIES))
    for index, integration in enumerate(params.get("integrations") or []):
        where = "integrations[%d]" % index
        if not isinstance(integration, dict) or not integration.get("name"):
            problems.append("%s needs a name" % where)
            continue
        where = "%s (%s)" % (where, integration["name"])
        user = integration.get("user")
        if not isinstance(user, dict) or not user.get("username"):
            problems.append("%s needs user.username" % where)
        if integration.get("state", "present") not in ("present", "absent"):
            problems.append("%s.state must be present or absent, not %s" % (where, integration.get("state")))
        for key in ("permission_sets", "extra_permission_sets", "permission_set_groups"):
            if not isinstance(integration.get(key) or [], list):
                problems.append("%s.%s must be a list" % (where, key))
        for set_index, permission_set in enumerate(integration.get("permission_sets") or []):
            if not isinstance(permission_set, dict) or not permission_set.get("name"):
                problems.append("%s.permission_sets[%d] needs a name" % (where, set_index))
    return problems


# ---- reading -----------------------------------------------------------------------------------------


def _fields(prefix):
    return ", ".join("%sPermissions%s" % (prefix, name) for name in PERMISSIONS)


def queries(window_days):
    """The seven queries of the audit, by reference id (the client sends them in two composite requests: at most five
    queries go in one)."""
    return dict(
        users="SELECT Id, Username, Name, IsActive, CreatedDate, LastLoginDate, LastPasswordChangeDate, ProfileId, "
              "Profile.Name, Profile.UserLicense.Name, %s FROM User WHERE UserType = 'Standard'" % _fields("Profile."),
        # Every real permission set and group assignment (profile-owned sets come through the users' profiles).
        assignments="SELECT AssigneeId, PermissionSetId, PermissionSetGroupId, PermissionSet.Name, "
                    "PermissionSet.Label, PermissionSetGroup.DeveloperName, %s FROM PermissionSetAssignment "
                    "WHERE (PermissionSetId = null OR PermissionSet.IsOwnedByProfile = false) "
                    "AND (ExpirationDate = null OR ExpirationDate > TODAY)" % _fields("PermissionSet."),
        # LoginTime is one of the few filterable LoginHistory fields (oauth reference B.1).
        logins=soql("SELECT UserId, LoginTime, LoginType, LoginSubType, Status, Application, ApiType, ApiVersion, "
                    "SourceIp FROM LoginHistory WHERE LoginTime >= LAST_N_DAYS:{:literal}", int(window_days)),
        setup_changes=soql("SELECT Action, Section, Display, CreatedDate, CreatedById, CreatedBy.Username, "
                           "DelegateUser FROM SetupAuditTrail WHERE CreatedDate >= LAST_N_DAYS:{:literal} "
                           "ORDER BY CreatedDate DESC", int(window_days)),
        organization="SELECT Id, Name, IsSandbox, OrganizationType FROM Organization",
        user_licenses=soql("SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = {}",
                           INTEGRATION_USER_LICENSE),
        permission_set_licenses=soql("SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses "
                                     "FROM PermissionSetLicense WHERE DeveloperName = {}", API_INTEGRATION_PSL),
    )


def read_org(client, window_days):
    """Every row the audit needs: {reference id: records}, in two composite requests plus the queries' later pages.

    A query the user may not run fails the audit naming the permission it needs (every such query at once).
    """
    try:
        return client.read_records(queries(window_days))
    except ReadDeniedError as error:
        raise PermissionDeniedError(
            "The user this audit runs as may not read everything the audit needs; nothing was changed. Missing: %s. "
            "Give it these read-only permissions (see the README, Audit, for a permission set the collection can "
            "create)." % "; ".join(NEEDS[ref] for ref in error.denied), status=403, error_code="INSUFFICIENT_ACCESS")


# ---- the readable state: users with their effective rights -------------------------------------------------


def parse_time(value):
    """A Salesforce datetime (``2024-01-31T10:00:00.000+0000``) or date as an aware UTC datetime; None if empty."""
    if not value:
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$",
                     str(value).strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                               tzinfo=datetime.timezone.utc)
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment - offset if zone[0] == "+" else moment + offset
    return moment


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _enabled(record):
    """The PERMISSIONS a Profile or PermissionSet record has switched on."""
    return set(name for name in PERMISSIONS if (record or {}).get("Permissions%s" % name) is True)


def build_users(rows):
    """{user id: view} of every user, with effective permissions over profile and permission sets."""
    users = {}
    for row in rows.get("users") or []:
        profile = row.get("Profile") or {}
        users[row["Id"]] = dict(
            id=row["Id"], username=(row.get("Username") or "").lower(), name=row.get("Name"),
            active=bool(row.get("IsActive")), license=(profile.get("UserLicense") or {}).get("Name"),
            profile=profile.get("Name"), created=parse_time(row.get("CreatedDate")),
            last_login=parse_time(row.get("LastLoginDate")),
            last_password_change=parse_time(row.get("LastPasswordChangeDate")),
            permissions=_enabled(profile), admin_profile=sorted(admin_grade_reasons(profile)) if profile else [],
            permission_sets={}, groups=[])
    for row in rows.get("assignments") or []:
        user = users.get(row.get("AssigneeId"))
        if user is None:
            continue
        permission_set = row.get("PermissionSet") or {}
        group = (row.get("PermissionSetGroup") or {}).get("DeveloperName")
        if group:
            user["groups"].append(group)
        elif permission_set.get("Name"):
            user["permission_sets"][permission_set["Name"]] = permission_set.get("Label") or permission_set["Name"]
        user["permissions"] |= _enabled(permission_set)
    for user in users.values():
        user["api_only"] = "ApiUserOnly" in user["permissions"]
        user["integration"] = is_integration_user(user["license"], user["api_only"])
        user["logins"] = []
    return users


# ---- login history -------------------------------------------------------------------------------------


def _norm(text):
    return re.sub(r"[^a-z0-9]", "", (text or "").lower())


def is_api_login(row):
    return row.get("LoginType") in API_LOGIN_TYPES


def is_soap_login(row):
    """SOAP API login(): the partner login type (B.1, 3P), or an ApiType naming SOAP (e.g. "Soap Enterprise")."""
    return row.get("LoginType") == SOAP_LOGIN_TYPE or _norm(row.get("ApiType")).startswith("soap")


def is_oauth_password_login(row):
    """OAuth username-password flow: LoginSubType OauthUsernamePassword (B.1; code or label, UNVERIFIED)."""
    return row.get("LoginType") in OAUTH_LOGIN_TYPES and "usernamepassword" in _norm(row.get("LoginSubType"))


def client_of(row):
    """The application or client a login came through."""
    application = row.get("Application")
    if application and application not in ("N/A", "n/a"):
        return application
    if is_soap_login(row):
        return "SOAP API login()"
    return row.get("LoginType") or "unknown"


# ---- the checks ----------------------------------------------------------------------------------------


class Audit:
    """The findings of one org from its rows (nothing here talks to Salesforce)."""

    def __init__(self, rows, params, now=None):
        self.params = params
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        midnight = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.since = midnight - datetime.timedelta(days=params["window_days"])  # as LAST_N_DAYS:n starts
        self.users = build_users(rows)
        self.by_name = dict((user["username"], user) for user in self.users.values())
        self.excluded = set((name or "").lower() for name in params.get("exclude_users") or [])
        self.rows = rows
        self.logins = rows.get("logins") or []
        for row in self.logins:
            user = self.users.get(row.get("UserId"))
            if user is not None:
                user["logins"].append(row)
        self.findings = []
        self.warnings = []

    # -- helpers

    def add(self, check, severity, user, title, evidence, remedy, subject=None, integration=None):
        self.findings.append(dict(
            id="%s:%s" % (check, subject or (user or {}).get("username") or "org"), check=check, severity=severity,
            user=(user or {}).get("username"), user_id=(user or {}).get("id"), integration=integration, title=title,
            evidence=evidence, remedy=remedy))

    def days_since(self, moment):
        return (self.now - moment).days if moment else None

    @staticmethod
    def successful_api_logins(user):
        return [row for row in user["logins"] if is_api_login(row) and row.get("Status") == SUCCESS]

    @staticmethod
    def last_time(rows, key="LoginTime"):
        times = [parse_time(row.get(key)) for row in rows]
        times = [t for t in times if t]
        return stamp(max(times)) if times else None

    # -- completeness of the login history

    def check_login_history_visible(self):
        """Users who logged in during the window (User.LastLoginDate) must have login history rows; Salesforce shows
        a user without Monitor Login History only its own (oauth reference B.1), which leaves the others out."""
        margin = self.since + datetime.timedelta(days=1)  # LAST_N_DAYS may count days in the user's time zone
        seen = set(row.get("UserId") for row in self.logins)
        unseen = [u for u in self.users.values() if u["last_login"] and u["last_login"] >= margin and u["id"] not in seen]
        if not unseen:
            return
        if len(seen) <= 1:
            raise PermissionDeniedError(
                "The user this audit runs as sees only its own login history: %d other user(s) logged in during the "
                "window (%s) but their logins are not visible. Reading every user's login history needs %s; "
                "nothing was changed." % (len(unseen), ", ".join(sorted(u["username"] for u in unseen)[:5]),
                                          LOGIN_HISTORY_PERMISSION), status=403, error_code="INSUFFICIENT_ACCESS")
        self.warnings.append("%d user(s) logged in during the window without login history rows (%s): the login history "
                             "read is incomplete." % (len(unseen), ", ".join(sorted(u["username"] for u in unseen)[:5])))

    # -- checks

    def person_api_users(self):
        for user in self.users.values():
            logins = self.successful_api_logins(user)
            if not user["active"] or user["integration"] or not logins:
                continue
            self.add("person_api_user", "medium", user, "User %s (%s license, not API only) is used for API logins"
                     % (user["username"], user["license"]),
                     dict(license=user["license"], profile=user["profile"], api_logins=len(logins),
                          applications=sorted(set(client_of(row) for row in logins)), last_api_login=self.last_time(logins)),
                     "Give the external system its own integration user (Salesforce Integration license, an API only "
                     "profile, a permission set with only what it needs; sf_integrations) and move it there, then "
                     "remove API access from this user.")

    def admin_grade_api_users(self):
        for user in self.users.values():
            logins = self.successful_api_logins(user)
            if not user["active"] or "ApiEnabled" not in user["permissions"] or not (user["integration"] or logins):
                continue
            rights = sorted(ADMIN_PROFILE_PERMISSIONS[name] for name in ADMIN_RIGHTS if name in user["permissions"])
            profile = user["admin_profile"]
            if not rights and not profile:
                continue
            evidence = dict(rights=rights, profile=user["profile"], api_logins=len(logins))
            if profile:
                evidence["admin_grade_profile"] = profile
            self.add("admin_grade_api_user", "high", user, "API user %s has admin-grade rights (%s)"
                     % (user["username"], ", ".join(rights + (["profile %s" % user["profile"]] if profile else []))),
                     evidence,
                     "Take Modify All Data, View All Data and the admin-grade profile away: give the user an API only "
                     "profile and a least-privilege permission set with exactly the objects and fields it needs "
                     "(sf_permission_set).")

    def shared_users(self):
        for user in self.users.values():
            logins = self.successful_api_logins(user)
            clients = {}
            for row in logins:
                clients[client_of(row)] = clients.get(client_of(row), 0) + 1
            if len(clients) < 2:
                continue
            self.add("shared_user", "medium", user, "User %s logs in to the API from %d applications or clients"
                     % (user["username"], len(clients)),
                     dict(clients=clients, api_logins=len(logins),
                          source_ips=len(set(row.get("SourceIp") for row in logins if row.get("SourceIp")))),
                     "One user per external system: give each application its own integration user, so that each "
                     "can be audited, limited and switched off on its own.")

    def password_logins(self):
        for user in self.users.values():
            logins = [row for row in user["logins"] if row.get("Status") == SUCCESS]
            soap = [row for row in logins if is_soap_login(row)]
            oauth = [row for row in logins if not is_soap_login(row) and is_oauth_password_login(row)]
            if not soap and not oauth:
                continue
            evidence = dict(soap_logins=len(soap), oauth_password_logins=len(oauth),
                            last_password_login=self.last_time(soap + oauth),
                            applications=sorted(set(client_of(row) for row in soap + oauth)))
            stops = []
            if soap:
                evidence["soap_api_versions"] = sorted(set(str(row.get("ApiVersion")) for row in soap if row.get("ApiVersion")))
                stops += ["SOAP API login(): %s" % "; ".join(RETIREMENT["soap_login"])]
            if oauth:
                stops += ["OAuth username-password flow: %s" % "; ".join(RETIREMENT["oauth_password"])]
            evidence["stops_working"] = stops
            kinds = " and ".join(k for k, rows_ in (("SOAP API login()", soap), ("the OAuth username-password flow", oauth))
                                 if rows_)
            self.add("password_login", "high" if soap else "medium", user,
                     "User %s logs in with a password (%s), which Salesforce is retiring" % (user["username"], kinds),
                     evidence,
                     "Move the system to a login without a password before the dates in stops_working: an External "
                     "Client App with the JWT bearer or the client credentials flow (sf_integrations[].oauth, "
                     "sf_external_client_app).%s" % (" SOAP API login() is retired for every API version in Summer '27."
                                                     if soap else ""))

    def inactive_integration_users(self):
        limit = self.params["inactive_days"]
        for user in self.users.values():
            if not user["active"] or not user["integration"]:
                continue
            since = user["last_login"] or user["created"]
            days = self.days_since(since)
            if days is None or days < limit:
                continue
            self.add("inactive_integration_user", "low", user,
                     "Integration user %s has not logged in for %s" % (
                         user["username"], "%d days" % days if user["last_login"] else "the %d days since it was created" % days),
                     dict(last_login=stamp(user["last_login"]), created=stamp(user["created"]), days=days,
                          threshold_days=limit),
                     "If its external system is gone, deactivate the user (state: absent) so the access stops; "
                     "otherwise find out why it stopped logging in.")

    def failed_logins(self):
        for user in self.users.values():
            if not user["integration"]:
                continue
            failed = [row for row in user["logins"] if row.get("Status") != SUCCESS]
            if not failed:
                continue
            by_status = {}
            for row in failed:
                status = row.get("Status") or "unknown"
                by_status[status] = by_status.get(status, 0) + 1
            hints = ["%s: %s" % (status, STATUS_HINTS[status.lower()]) for status in sorted(by_status)
                     if status.lower() in STATUS_HINTS]
            self.add("failed_logins", "medium", user, "Integration user %s had %d failed login(s)" % (user["username"], len(failed)),
                     dict(by_status=by_status, last_failure=self.last_time(failed),
                          applications=sorted(set(client_of(row) for row in failed))),
                     "Find the system behind these logins and fix its credentials or login method. " + " ".join(
                         "%s." % hint for hint in hints))

    def password_ages(self):
        limit = self.params["password_max_age_days"]
        for user in self.users.values():
            password = [row for row in user["logins"] if row.get("Status") == SUCCESS
                        and (is_soap_login(row) or is_oauth_password_login(row))]
            if not password:
                continue
            changed = user["last_password_change"] or user["created"]
            age = self.days_since(changed)
            never_expires = "PasswordNeverExpires" in user["permissions"]
            stale = age is not None and age > limit
            if not stale and not never_expires:
                continue
            self.add("password_age", "medium" if stale else "low", user,
                     "User %s logs in with a password %s%s" % (
                         user["username"], "last changed %d days ago" % age if age is not None else "of unknown age",
                         " that never expires" if never_expires else ""),
                     dict(last_password_change=stamp(user["last_password_change"]), age_days=age,
                          max_age_days=limit, never_expires=never_expires),
                     "Best, move to a login without a password (see password_login); until then rotate the password "
                     "with the external system, on a schedule.")

    def _change_tokens(self):
        """{lower-case text: set of user ids} naming integration users: usernames, their sets and groups, profiles."""
        tokens = {}
        for user in self.users.values():
            if not user["integration"]:
                continue
            names = [user["username"]] + list(user["permission_sets"]) + list(user["permission_sets"].values()) + user["groups"]
            if user["profile"]:
                names.append(user["profile"])
            for name in names:
                if name:
                    tokens.setdefault(name.lower(), set()).add(user["id"])
        return tokens

    def _changed_users(self, change, pattern, tokens, ids):
        """Ids of the integration users an audit row touches: named in Display by username, set, group or profile,
        or by user id (15 characters exact, 18 in any case), or the Login-As user who made it (DelegateUser)."""
        display = change.get("Display") or ""
        touched = set()
        for match in pattern.finditer(display):
            touched |= tokens.get(match.group(0).lower(), set())
        for word in RECORD_ID.findall(display):
            user_id = ids.get(word if len(word) == 15 else word.lower())
            if user_id:
                touched.add(user_id)
        delegate = self.by_name.get((change.get("DelegateUser") or "").lower())
        if delegate and delegate["integration"]:
            touched.add(delegate["id"])
        return touched

    def setup_changes(self):
        tokens = self._change_tokens()
        if not tokens:
            return
        ids = {}
        for user in self.users.values():
            if user["integration"]:
                ids.update({id15(user["id"]): user["id"], user["id"].lower(): user["id"]})
        pattern = re.compile("|".join("(?<![A-Za-z0-9_.@])%s(?![A-Za-z0-9_])" % re.escape(t)
                                      for t in sorted(tokens, key=len, reverse=True)), re.I)
        per_user = {}
        for change in self.rows.get("setup_changes") or []:
            by = ((change.get("CreatedBy") or {}).get("Username") or "").lower()
            if by in self.excluded:
                continue
            for user_id in self._changed_users(change, pattern, tokens, ids):
                per_user.setdefault(user_id, []).append(dict(
                    time=stamp(parse_time(change.get("CreatedDate"))), action=change.get("Action"),
                    section=change.get("Section"), display=change.get("Display"), by=by or change.get("CreatedById"),
                    delegate_user=change.get("DelegateUser")))
        for user_id, changes in per_user.items():
            user = self.users[user_id]
            self.add("setup_changes", "low", user, "%d setup change(s) touched integration user %s"
                     % (len(changes), user["username"]),
                     dict(count=len(changes), changes=changes[:MAX_CHANGES_SHOWN],
                          by=sorted(set(c["by"] for c in changes if c["by"]))),
                     "Check that each change was intended. Manage integration users with the collection "
                     "(sf_integrations) so that their setup is reviewed and drift shows in this audit.")

    def seats(self):
        out = []
        for row in self.rows.get("user_licenses") or []:
            out.append(dict(license=row.get("Name"), kind="user_license", **org_seats(row)))
        for row in self.rows.get("permission_set_licenses") or []:
            out.append(dict(license=row.get("MasterLabel") or row.get("DeveloperName"), kind="permission_set_license",
                            **org_seats(row)))
        for seat in out:
            if seat["total"] and not seat["available"]:
                self.add("no_free_seats", "low", None, "No %s left (%d of %d used)" % (
                    seat["license"], seat["used"], seat["total"]), dict(seat),
                    "Free seats (deactivate integration users that are no longer needed) or buy more before the next "
                    "integration is rolled out.", subject=seat["license"])
        return out

    def drift(self):
        integrations = self.params.get("integrations")
        if not integrations:
            return
        for integration in integrations:
            self._drift_of(integration)

    def _drift_of(self, integration):
        name = integration["name"]
        username = (integration["user"]["username"] or "").lower()
        user = self.by_name.get(username)
        present = integration.get("state", "present") == "present"
        differences = {}
        if user is None:
            if present:
                differences["user"] = "missing"
        elif present:
            if not user["active"]:
                differences["active"] = False
            profile = self.params.get("integration_profile")
            if profile and (user["profile"] or "").lower() != profile.lower():
                differences["profile"] = dict(expected=profile, actual=user["profile"])
            wanted_sets = set(s["name"].lower() for s in integration.get("permission_sets") or [])
            wanted_sets |= set(str(s).lower() for s in integration.get("extra_permission_sets") or [])
            wanted_groups = set(str(g).lower() for g in integration.get("permission_set_groups") or [])
            held_sets = dict((s.lower(), s) for s in user["permission_sets"])
            held_groups = dict((g.lower(), g) for g in user["groups"])
            missing = sorted(s for s in wanted_sets if s not in held_sets)
            missing_groups = sorted(g for g in wanted_groups if g not in held_groups)
            if missing:
                differences["missing_permission_sets"] = missing
            if missing_groups:
                differences["missing_permission_set_groups"] = missing_groups
            if self.params.get("exclusive", True):
                allowed = set(wanted_sets)
                if not integration.get("oauth") and self.params.get("mfa_waiver_permission_set"):
                    allowed.add(self.params["mfa_waiver_permission_set"].lower())
                extra = sorted(held_sets[s] for s in held_sets if s not in allowed)
                extra_groups = sorted(held_groups[g] for g in held_groups if g not in wanted_groups)
                if extra:
                    differences["extra_permission_sets"] = extra
                if extra_groups:
                    differences["extra_permission_set_groups"] = extra_groups
            if integration.get("oauth"):
                password = [row for row in user["logins"] if row.get("Status") == SUCCESS
                            and (is_soap_login(row) or is_oauth_password_login(row))]
                if password:
                    differences["password_logins"] = len(password)
        else:
            if user["active"]:
                differences["active"] = True
            held = sorted(user["permission_sets"]) + sorted(user["groups"])
            if held:
                differences["assignments_left"] = held
        if not differences:
            return
        self.add("drift", "medium", user, "Integration %s differs from its definition (%s)"
                 % (name, ", ".join(sorted(differences))),
                 dict(differences, username=username, state="present" if present else "absent"),
                 "Run the rollout (playbooks/integration_users.yml) for this org to bring it back, or update "
                 "sf_integrations if the change was intended.", subject=name, integration=name)

    # -- all of it

    def run(self):
        if self.params["window_days"] > HISTORY_DAYS:
            self.warnings.append("The window (%d days) reaches further back than Salesforce keeps setup audit trail "
                                 "(180 days) and login history (about 6 months)." % self.params["window_days"])
        self.check_login_history_visible()
        self.person_api_users()
        self.admin_grade_api_users()
        self.shared_users()
        self.password_logins()
        self.inactive_integration_users()
        self.failed_logins()
        self.password_ages()
        self.setup_changes()
        seats = self.seats()
        self.drift()
        wanted = set(s.lower() for s in self.params.get("severities") or SEVERITIES)
        findings = [f for f in self.findings if f["severity"] in wanted
                    and (f["user"] is None or f["user"] not in self.excluded)]
        rank = dict((s, i) for i, s in enumerate(SEVERITIES))
        findings.sort(key=lambda f: (rank[f["severity"]], f["check"], f["id"]))
        summary = dict((s, sum(1 for f in findings if f["severity"] == s)) for s in SEVERITIES)
        summary["total"] = len(findings)
        api_users = [u for u in self.users.values() if self.successful_api_logins(u)]
        return dict(
            findings=findings, summary=summary, seats=seats, warnings_found=self.warnings,
            window=dict(days=self.params["window_days"], since=stamp(self.since)),
            counts=dict(users=len(self.users), active_users=sum(1 for u in self.users.values() if u["active"]),
                        integration_users=sum(1 for u in self.users.values() if u["integration"] and u["active"]),
                        api_users=len(api_users), login_history_rows=len(self.logins),
                        setup_changes=len(self.rows.get("setup_changes") or [])),
            excluded_users=sorted(name for name in self.excluded if name in self.by_name),
        )


def org_view(rows):
    org = (rows.get("organization") or [{}])[0]
    return dict(id=org.get("Id"), name=org.get("Name"), is_sandbox=org.get("IsSandbox"), edition=org.get("OrganizationType"))


# ---- the module ----------------------------------------------------------------------------------------


def hide_passwords(module, integrations):
    """The option is not secret, but sf_integrations may carry user passwords: masked in every output."""
    ansible_module = getattr(module, "ansible", None)
    for integration in integrations or []:
        user = integration.get("user") if isinstance(integration, dict) else None
        if ansible_module is not None and isinstance(user, dict) and user.get("password"):
            ansible_module.no_log_values.add(str(user["password"]))


def run(module):
    params = dict(module.params)
    hide_passwords(module, params.get("integrations"))
    module.refuse(option_problems(params))
    params["severities"] = [s.lower() for s in params["severities"]]
    rows = read_org(module.client, params["window_days"])
    result = Audit(rows, params).run()
    result["org"] = org_view(rows)
    for warning in result["warnings_found"]:
        module.warn(warning)
    return module.finish(change_record("integration_audit", result["org"]["name"], NO_CHANGE), {}, {}, **result)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
