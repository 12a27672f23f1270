#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_external_client_app
short_description: Manage an External Client App for one integration's passwordless API login
version_added: 0.2.0
description:
  - Gives one integration its own External Client App, so that its integration user logs in to the
    API without a password, with the OAuth 2.0 JWT bearer flow (the external system signs a token
    with its private key; the app holds the certificate) or the client credentials flow (the app
    logs in as its run-as user with its consumer key and secret).
  - Salesforce is retiring password logins for the API (SOAP C(login()) is gone from API version
    65.0 and retired for every version in Summer '27; the OAuth username-password flow is blocked in
    orgs created from Summer '23), and new connected apps can no longer be created, so External
    Client Apps are how integrations log in from now on.
  - Only the users of the listed permission sets (and profiles) may use the app, as the permitted
    users setting "admin approved users are pre-authorized" says. Give the integration's own permission set, so
    the app is open to that integration user and nobody else.
  - The app is written through the Metadata API as four components that Salesforce keeps
    separately (C(ExternalClientApplication), C(ExtlClntAppGlobalOauthSettings),
    C(ExtlClntAppOauthSettings), C(ExtlClntAppOauthConfigurablePolicies)), named
    C(<name>), C(<name>_glbloauth), C(<name>_oauth) and C(<name>_oauthPlcy). An app made by hand
    whose parts carry other names is found by listing them.
  - Options that are not given keep their current values (a new app gets the defaults named below).
  - Every value is checked, and the permission sets, profiles and run-as user looked up, before
    anything is written; a bad value fails with a message naming the option and nothing changes.
  - O(state=absent) deletes the app; logins through it stop working.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
attributes:
  check_mode:
    description: Reads only and reports what would change; nothing is written.
    support: full
  diff_mode:
    description: Shows the app's settings before and after; the certificate by its fingerprint, never a secret.
    support: full
options:
  name:
    description:
      - API name of the app (its Metadata API full name). Letters, digits and underscores, starting
        with a letter, not ending with an underscore and without two underscores in a row, at most
        80 characters.
      - One app per integration, for example V(Marketo_Integration).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the app, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  label:
    description:
      - Name shown in Setup. A new app gets O(name).
    type: str
  contact_email:
    description:
      - Who to contact about the app. Required to create one.
    type: str
  description:
    description:
      - What the app is for, for example the external system that uses it.
    type: str
  flows:
    description:
      - The login flows the app allows.
      - V(jwt) (JWT bearer) needs O(certificate). V(client_credentials) needs O(run_as_user).
      - Required to create an app. A flow that is not listed is switched off.
    type: list
    elements: str
    choices: [jwt, client_credentials]
  certificate:
    description:
      - The PEM-encoded X.509 certificate whose private key signs the integration's JWT bearer
        tokens. Only the certificate goes to Salesforce; the private key stays with the integration.
      - M(sfops.integration.sf_jwt_keypair) makes a key and a self-signed certificate.
    type: str
  run_as_user:
    description:
      - Username of the user the client credentials flow logs in as. Salesforce requires this user
        to have the API Only User permission, as an integration user on the
        C(Minimum Access - API Only Integrations) profile has.
    type: str
  permission_sets:
    description:
      - Names (C(PermissionSet.Name)) of the permission sets whose users are pre-authorized to use
        the app. Users outside them are refused with C(user is not admin approved to access this app).
      - The app's list is set to exactly these. A new app gets none, which lets nobody in.
    type: list
    elements: str
  profiles:
    description:
      - Names of profiles whose users are pre-authorized as well. Prefer O(permission_sets), since a
        profile such as C(Minimum Access - API Only Integrations) opens the app to every user on it.
      - The app's list is set to exactly these. A new app gets none.
    type: list
    elements: str
  scopes:
    description:
      - OAuth scopes the app may grant, by their Metadata API names (V(Api), V(RefreshToken),
        V(OpenID), V(Web), V(Full), V(Basic), V(Chatter), V(CustomPermissions), ...) or the names
        used in token requests (V(api), V(refresh_token), V(openid), V(chatter_api)), without regard to case.
      - A new app gets V(Api) only, all an integration needs to call the REST and SOAP APIs.
    type: list
    elements: str
  callback_url:
    description:
      - The OAuth callback URL Salesforce requires of every app. Neither JWT bearer nor client
        credentials use it.
      - A new app gets V(https://login.salesforce.com/services/oauth2/success).
    type: str
  ip_relaxation:
    description:
      - Whether logins through the app must come from the IP ranges the user's profile allows.
        V(enforce) keeps the profile's ranges (recommended with a profile limited to the external
        system's addresses); V(bypass) ignores them for this app.
      - A new app gets V(enforce).
    type: str
    choices: [enforce, bypass, bypass_2factor, enforce_relax_refresh]
  session_timeout:
    description:
      - Minutes an access token issued through the app stays valid, when shorter than the org's session
        timeout. V(0) removes the app's own timeout.
    type: int
  refresh_token_policy:
    description:
      - How long refresh tokens stay valid. JWT bearer and client credentials issue none, so a new
        app gets V(zero) (refresh tokens expire immediately).
    type: str
    choices: [infinite, zero]
  return_consumer_secret:
    description:
      - Also return the consumer secret (for O(flows=client_credentials)), read through the REST API's
        OAuth credentials resource.
      - The org must allow it (Setup, External Client App Settings, C(Allow access to External Client
        App consumer secrets via REST API)); the module fails naming that setting otherwise.
      - The secret is never shown. The whole result is hidden from the output, and nothing else the
        module returns (the diff, the change record) holds it. Register the result and hand the secret
        to the integration's secret store.
    type: bool
    default: false
notes:
  - Reading the app costs four Metadata API read requests and one composite REST request for the
    permission sets, profiles and run-as user; writing costs one Metadata API request per part that
    changes. O(return_consumer_secret) adds three REST requests.
  - Needs the C(Modify Metadata Through Metadata API Functions) (or C(Modify All Data)) permission,
    C(Customize Application), and, because the global OAuth settings carry the consumer key, the org
    setting C(Allow access to OAuth consumer secrets via Metadata API) with the user permission to
    view consumer secrets in metadata.
  - The consumer key is made by Salesforce when the app is created and never changes; it is returned
    in RV(app.consumer_key). It is not a secret, but the consumer secret is.
  - Which of the two client credentials switches (in the global OAuth settings and in the
    policies) Salesforce checks is not documented; the module sets both.
  - The Metadata API guide says the policies list the pre-authorized permission sets and profiles
    by id, while its own example and other tools use their API names. The module writes them the way
    the app's policies hold them, by id when they hold none yet, and by name once when the org
    refuses the ids as unknown, so it works whichever way the org reads them.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_jwt_keypair
  - module: sfops.integration.sf_session
  - name: External Client Apps (Salesforce Help)
    description: What External Client Apps are and how their OAuth settings and policies work.
    link: https://help.salesforce.com/s/articleView?id=xcloud.external_client_apps.htm
  - name: ExtlClntAppOauthConfigurablePolicies (Metadata API Developer Guide)
    description: The policy fields, among them the permitted users and the client credentials user.
    link: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_extlclntappoauthconfigurablepolicies.htm
"""

EXAMPLES = r"""
- name: Marketo logs in with JWT bearer; only the users of its permission set may use the app
  sfops.integration.sf_external_client_app:
    name: Marketo_Integration
    contact_email: salesforce-admins@acme.example
    description: Marketo Engage sync
    flows: [jwt]
    certificate: "{{ lookup('ansible.builtin.file', 'keys/marketo.crt') }}"
    permission_sets: [Marketo_Integration]
  register: marketo_app

- name: Tell the Marketo admins the consumer key (not a secret)
  ansible.builtin.debug:
    msg: "Consumer key: {{ marketo_app.app.consumer_key }}"

- name: The accounting system uses client credentials as its own integration user
  sfops.integration.sf_external_client_app:
    name: Accounting_Integration
    contact_email: salesforce-admins@acme.example
    flows: [client_credentials]
    run_as_user: int.accounting@acme.example
    permission_sets: [Accounting_Integration]
    return_consumer_secret: true
  register: accounting_app

- name: Retire the app of an integration that is gone
  sfops.integration.sf_external_client_app:
    name: Old_Integration
    state: absent
"""

RETURN = r"""
app:
  description:
    - The app after the run (in check mode, what it would be). Empty with O(state=absent).
  returned: success
  type: dict
  contains:
    name:
      description: API name.
      type: str
      sample: Marketo_Integration
    label:
      description: Label.
      type: str
    contact_email:
      description: Contact email.
      type: str
    description:
      description: Description.
      type: str
    flows:
      description: Login flows the app allows.
      type: list
      elements: str
      sample: [jwt]
    certificate:
      description: C(subject), C(fingerprint_sha256) and C(not_after) of the JWT certificate, or null.
      type: dict
    run_as_user:
      description: The client credentials run-as user, or null.
      type: str
    permitted_users:
      description: V(admin_approved) (only pre-authorized users) or V(all_self_authorized).
      type: str
      sample: admin_approved
    permission_sets:
      description: Names of the pre-authorized permission sets.
      type: list
      elements: str
    profiles:
      description: Names of the pre-authorized profiles.
      type: list
      elements: str
    scopes:
      description: OAuth scopes, by their Metadata API names.
      type: list
      elements: str
      sample: [Api]
    callback_url:
      description: Callback URL.
      type: str
    ip_relaxation:
      description: See O(ip_relaxation).
      type: str
    session_timeout:
      description: Minutes, or null when the org's timeout applies.
      type: int
    refresh_token_policy:
      description: See O(refresh_token_policy).
      type: str
    consumer_key:
      description: The app's consumer key (the OAuth client id); null in check mode when the app would be created.
      type: str
      sample: 3MVG9A2kN3Bn17hsWsLDatrMrTRv0mW1pD7IwHcpnbfKXGH0lFGcVBlPvqyd2YeKGK5pM0zCk2HU1Ckd1nc2
consumer_secret:
  description:
    - The app's consumer secret, with O(return_consumer_secret) only. The task's output is hidden
      when it is returned.
  returned: when asked for
  type: str
change:
  description: What the run changed or would change (kind V(external_client_app), name, action, details).
  returned: success
  type: dict
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 6
"""

import re

from ansible_collections.sfops.integration.plugins.module_utils import metadata
from ansible_collections.sfops.integration.plugins.module_utils.certificates import certificate_facts
from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, DELETE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError, PermissionDeniedError, refuse
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import did_you_mean, id15
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql

APP = "ExternalClientApplication"
GLOBAL = "ExtlClntAppGlobalOauthSettings"
OAUTH = "ExtlClntAppOauthSettings"
POLICIES = "ExtlClntAppOauthConfigurablePolicies"
# The part names the module gives (and looks for first); the org may hold others for a hand-made app.
SUFFIXES = {GLOBAL: "_glbloauth", OAUTH: "_oauth", POLICIES: "_oauthPlcy"}
PARTS = (GLOBAL, OAUTH, POLICIES)

API_NAME = re.compile(r"^[A-Za-z](?!.*__)[A-Za-z0-9_]{0,79}(?<!_)$")
# A permission set (0PS) or profile (00e) id, as a policy may hold them; anything else there is a name.
PREAUTHORISED_ID = re.compile(r"^(0PS|00e)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
PREAUTHORISED_FIELDS = dict(permission_sets="commaSeparatedPermissionSet", profiles="commaSeparatedProfile")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULT_CALLBACK = "https://login.salesforce.com/services/oauth2/success"
ADMIN_APPROVED = "AdminApprovedPreAuthorized"
SELF_AUTHORIZED = "AllSelfAuthorized"
# Option value <-> policy value (Metadata API enums).
IP_RELAXATION = dict(enforce="Enforce", bypass="Bypass", bypass_2factor="Bypass_2factor",
                     enforce_relax_refresh="Enforce_RelaxRefresh")
REFRESH_TOKEN_POLICY = dict(infinite="Infinite", zero="Zero")
# Scope names of the Metadata API (ConnectedAppOauthAccessScope), and the token-request names that differ.
SCOPES = ("Basic", "Api", "Web", "Full", "Chatter", "CustomApplications", "RefreshToken", "OpenID", "Profile",
          "Email", "Address", "Phone", "OfflineAccess", "CustomPermissions", "Wave", "Eclair", "Pardot",
          "Lightning", "Content", "CDPIngest", "Chatbot")
SCOPE_ALIASES = dict(id="Basic", chatter_api="Chatter", wave_api="Wave", eclair_api="Eclair", pardot_api="Pardot",
                     cdp_ingest_api="CDPIngest", chatbot_api="Chatbot", visualforce="CustomApplications")

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    label=dict(type="str"),
    contact_email=dict(type="str"),
    description=dict(type="str"),
    flows=dict(type="list", elements="str", choices=["jwt", "client_credentials"]),
    certificate=dict(type="str"),
    run_as_user=dict(type="str"),
    permission_sets=dict(type="list", elements="str"),
    profiles=dict(type="list", elements="str"),
    scopes=dict(type="list", elements="str"),
    callback_url=dict(type="str"),
    ip_relaxation=dict(type="str", choices=list(IP_RELAXATION)),
    session_timeout=dict(type="int"),
    refresh_token_policy=dict(type="str", choices=list(REFRESH_TOKEN_POLICY), no_log=False),
    return_consumer_secret=dict(type="bool", default=False, no_log=False),
)


# ---- input that needs no org ------------------------------------------------------------------------


def scope_name(value):
    """The Metadata API name of a scope given either way, or None."""
    wanted = SCOPE_ALIASES.get(value.strip().lower(), value)
    key = wanted.replace("_", "").lower()
    for scope in SCOPES:
        if scope.lower() == key:
            return scope
    return None


def option_problems(params):
    """Every problem with the options that can be found without the org, each naming the option."""
    problems = []
    if not API_NAME.match(params["name"] or ""):
        problems.append("name '%s' is not a valid API name: use letters, digits and underscores, start with a "
                        "letter, no '__', no trailing '_', at most 80 characters" % params["name"])
    if params["state"] == "absent":
        return problems
    email = params["contact_email"]
    if email is not None and not EMAIL.match(email):
        problems.append("contact_email '%s' is not an email address" % email)
    flows = params["flows"]
    if flows is not None and not flows:
        problems.append("flows must list jwt, client_credentials or both; an app without a flow cannot log anybody in")
    if params["certificate"] is not None:
        try:
            certificate_facts(params["certificate"])
        except ValueError as error:
            problems.append("certificate is %s (it must start with -----BEGIN CERTIFICATE-----)" % error)
    if flows and "jwt" in flows and not params["certificate"]:
        problems.append("flows: jwt needs certificate (the PEM certificate of the integration's key)")
    if flows and "client_credentials" in flows and not params["run_as_user"]:
        problems.append("flows: client_credentials needs run_as_user (the integration user's username)")
    unknown = [s for s in params["scopes"] or [] if scope_name(s) is None]
    if unknown:
        problems.append("unknown scope(s) %s; scopes are %s" % (", ".join("'%s'" % s for s in unknown), ", ".join(SCOPES)))
    if params["session_timeout"] is not None and params["session_timeout"] < 0:
        problems.append("session_timeout must be 0 or more minutes; got %d" % params["session_timeout"])
    if params["return_consumer_secret"] and flows is not None and "client_credentials" not in flows:
        problems.append("return_consumer_secret is for flows: client_credentials; JWT bearer needs no secret")
    return problems


# ---- reading the app ---------------------------------------------------------------------------------


def read_part(client, md_type, name):
    """The app's component of ``md_type``: by the module's own name, else by listing (a hand-made app)."""
    found = metadata.read(client, md_type, [name + SUFFIXES[md_type]])
    if found:
        return found[0]
    others = [n for n in metadata.list_names(client, md_type) if n != name + SUFFIXES[md_type]]
    for record in metadata.read(client, md_type, others):
        if (record.get("externalClientApplication") or "").lower() == name.lower():
            return record
    return None


def read_app(client, name):
    """{type: component dict or None} of the app; parts are read only when the app exists."""
    app = metadata.read(client, APP, [name])
    parts = {APP: app[0] if app else None}
    for md_type in PARTS:
        parts[md_type] = read_part(client, md_type, name) if app else None
    return parts


class OrgNames:
    """Permission sets, profiles and the run-as user, looked up in one composite request."""

    def __init__(self, client, params, current_values):
        sets = sorted(set(params["permission_sets"] or []))
        profiles = sorted(set(params["profiles"] or []))
        # What the app's policies hold: ids, or names where the org keeps names (see held_by_name).
        ids = sorted(v for v in current_values if PREAUTHORISED_ID.match(v))
        held_names = sorted(set(current_values) - set(ids))
        held = " OR ".join(([soql("Id IN {}", ids)] if ids else []) + ([soql("Name IN {}", held_names)] if held_names else []))
        queries = []
        if sets:
            queries.append(("sets", soql("SELECT Id, Name FROM PermissionSet WHERE Name IN {}", sets)))
        if profiles:
            queries.append(("profiles", soql("SELECT Id, Name FROM Profile WHERE Name IN {}", profiles)))
        if held:
            queries.append(("current_sets", "SELECT Id, Name FROM PermissionSet WHERE " + held))
            queries.append(("current_profiles", "SELECT Id, Name FROM Profile WHERE " + held))
        if params["run_as_user"]:
            queries.append(("user", soql("SELECT Id, Username, IsActive FROM User WHERE Username = {}",
                                         params["run_as_user"])))
            queries.append(("api_only", soql(
                "SELECT Id FROM PermissionSetAssignment WHERE Assignee.Username = {} "
                "AND PermissionSet.PermissionsApiUserOnly = true", params["run_as_user"])))
        rows = {}
        if queries:
            responses = client.read([client.composite_query(ref, text) for ref, text in queries])
            rows = dict((ref, client.composite_records(responses, ref)) for ref, _text in queries)
        # The names asked for, and those the app holds already (kept when the option is not given).
        self.sets = dict((r["Name"].lower(), r) for r in rows.get("current_sets", []) + rows.get("sets", []))
        self.profiles = dict((r["Name"].lower(), r) for r in rows.get("current_profiles", []) + rows.get("profiles", []))
        self.names_by_id = dict((key, r["Name"]) for source in ("current_sets", "current_profiles")
                                for r in rows.get(source, []) for key in (id15(r["Id"]), r["Name"].lower()))
        self.user = (rows.get("user") or [None])[0]
        self.api_only = bool(rows.get("api_only"))
        self.client = client

    def names_of(self, comma_separated):
        """Names for a policy's comma-separated ids or names (one the org no longer has stays as it is)."""
        values = _split(comma_separated)
        return sorted(self.names_by_id.get(id15(v) if PREAUTHORISED_ID.match(v) else v.lower(), v) for v in values)

    def records_of(self, kind, names):
        """(records, problems) for names of permission sets or profiles."""
        found = self.sets if kind == "permission_sets" else self.profiles
        missing = [n for n in names if n.lower() not in found]
        problems = []
        if missing:
            sobject = "PermissionSet" if kind == "permission_sets" else "Profile"
            everything = [r["Name"] for r in self.client.query("SELECT Name FROM %s" % sobject)]
            for name in missing:
                problems.append("%s: '%s' does not exist in this org%s" % (kind, name, did_you_mean(name, everything)))
        return [found[n.lower()] for n in names if n.lower() in found], problems

    def run_as_problem(self, username):
        if self.user is None:
            return "run_as_user: no user '%s' in this org (create the integration user first)" % username
        if not self.user.get("IsActive"):
            return "run_as_user: user '%s' is inactive" % username
        if not self.api_only:
            return ("run_as_user: user '%s' does not have the API Only User permission, which Salesforce requires of "
                    "a client credentials run-as user; give it a profile such as Minimum Access - API Only "
                    "Integrations" % username)
        return None


# ---- the app as the module sees it -------------------------------------------------------------------


def _split(text):
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def held_by_name(policies):
    """Whether the app's policies name their permission sets and profiles (None: they name none yet).

    The Metadata API guide says the policies hold ids, its own sample and other tools write API names
    (docs/emulator.md, UNVERIFIED). The module writes what the org reads back, and ids, as documented,
    when there is nothing to read yet.
    """
    values = [v for field in PREAUTHORISED_FIELDS.values() for v in _split(policies.get(field))]
    return None if not values else not all(PREAUTHORISED_ID.match(v) for v in values)


def preauthorisation(records, by_name):
    """{policy field: comma-separated ids, or names with ``by_name``} of {option: records}."""
    key = "Name" if by_name else "Id"
    return dict((field, ",".join(r[key] for r in records[option]) or None) for option, field in PREAUTHORISED_FIELDS.items())


def option_value(options, value):
    """The option value of a Metadata API value (an unknown value is kept as it is)."""
    return dict((api, option) for option, api in options.items()).get(value, value)


def view(parts, names):
    """The readable state of an app from its components ({} when it does not exist)."""
    app, glob, oauth, policies = (parts.get(t) or {} for t in (APP, GLOBAL, OAUTH, POLICIES))
    if not parts.get(APP):
        return {}
    flows = []
    if glob.get("certificate"):
        flows.append("jwt")
    if policies.get("isClientCredentialsFlowEnabled") and glob.get("isClientCredentialsFlowEnabled"):
        flows.append("client_credentials")
    certificate = None
    if glob.get("certificate"):
        try:
            certificate = certificate_facts(glob["certificate"])
        except ValueError:
            certificate = dict(subject="(unreadable)", fingerprint_sha256=None, not_after=None)
    ip = option_value(IP_RELAXATION, policies.get("ipRelaxationPolicyType"))
    refresh = option_value(REFRESH_TOKEN_POLICY, policies.get("refreshTokenPolicyType"))
    permitted = policies.get("permittedUsersPolicyType")
    return dict(
        name=app.get("fullName"), label=app.get("label"), contact_email=app.get("contactEmail"),
        description=app.get("description"), flows=flows, certificate=certificate,
        run_as_user=policies.get("clientCredentialsFlowUser") or None,
        permitted_users="admin_approved" if permitted == ADMIN_APPROVED else ("all_self_authorized" if permitted else None),
        permission_sets=names.names_of(policies.get("commaSeparatedPermissionSet")),
        profiles=names.names_of(policies.get("commaSeparatedProfile")),
        scopes=sorted(_split(oauth.get("commaSeparatedOauthScopes"))), callback_url=glob.get("callbackUrl"),
        ip_relaxation=ip, session_timeout=policies.get("sessionTimeoutInMinutes") or None, refresh_token_policy=refresh,
        consumer_key=glob.get("consumerKey"),
    )


def desired_view(params, current, complete=True):
    """What the app should look like: the options given, the rest as it is (or a new app's defaults).

    An app that is not ``complete`` has no OAuth settings yet (another run made the app and not yet
    its parts): its parts get a new app's defaults, its own fields stay as they are. Refuses what a
    new app lacks (see planned_view).
    """
    after, problems = planned_view(params, current, complete)
    refuse(problems)
    return after


def planned_view(params, current, complete=True):
    """(desired_view's state, [what a new app lacks]): the problems are reported with the org's."""
    new = not current
    base = dict(
        name=params["name"], label=params["name"], contact_email=None, description=None, flows=[], certificate=None,
        run_as_user=None, permitted_users="admin_approved", permission_sets=[], profiles=[], scopes=["Api"],
        callback_url=DEFAULT_CALLBACK, ip_relaxation="enforce", session_timeout=None, refresh_token_policy="zero",
        consumer_key=None)
    if current and complete:
        base = current
    elif current:
        base.update((key, current[key]) for key in ("name", "label", "contact_email", "description"))
    after = dict(base, permitted_users="admin_approved")
    for option in ("label", "contact_email", "description", "callback_url", "ip_relaxation", "refresh_token_policy"):
        if params[option] is not None:
            after[option] = params[option]
    if params["flows"] is not None:
        after["flows"] = [flow for flow in ("jwt", "client_credentials") if flow in params["flows"]]
    if params["certificate"] is not None:
        after["certificate"] = certificate_facts(params["certificate"])
    if "jwt" not in after["flows"] and params["flows"] is not None:
        after["certificate"] = None
    if params["run_as_user"] is not None:
        after["run_as_user"] = params["run_as_user"].lower()
    if "client_credentials" not in after["flows"] and params["flows"] is not None:
        after["run_as_user"] = None
    for option in ("permission_sets", "profiles"):
        if params[option] is not None:
            after[option] = sorted(set(params[option]))
    if params["scopes"] is not None:
        after["scopes"] = sorted(set(scope_name(s) for s in params["scopes"]))
    if params["session_timeout"] is not None:
        after["session_timeout"] = params["session_timeout"] or None
    problems = []
    if new and not after["contact_email"]:
        problems.append("contact_email is required to create External Client App %s" % params["name"])
    if not (current and complete) and not after["flows"]:
        problems.append("flows is required to create External Client App %s (jwt, client_credentials or both)"
                        % params["name"])
    return after, problems


def compared(state):
    """The state as --diff and the change record show it: the run-as user without case, no consumer key."""
    shown = dict((k, v) for k, v in (state or {}).items() if k != "consumer_key")
    if shown.get("run_as_user"):
        shown["run_as_user"] = shown["run_as_user"].lower()
    return shown


# ---- writing -----------------------------------------------------------------------------------------


def components(params, after, parts, preauthorised, same_preauthorisation=False):
    """{type: component dict} of the parts that must be written to reach ``after``.

    ``preauthorised`` holds the two policy fields (preauthorisation()); with ``same_preauthorisation`` the
    app lets in the wanted sets and profiles already and keeps the values as the org spells them.
    """
    name = after["name"]
    current = dict((t, parts.get(t) or {}) for t in (APP,) + PARTS)
    full_names = dict((t, current[t].get("fullName") or name + SUFFIXES[t]) for t in PARTS)
    cert_changed = params["certificate"] is not None and (
        (current[GLOBAL].get("certificate") or "").strip() != params["certificate"].strip())
    wanted = {
        APP: dict(fullName=name, label=after["label"], contactEmail=after["contact_email"],
                  description=after["description"], distributionState="Local"),
        GLOBAL: dict(fullName=full_names[GLOBAL], label=after["label"], externalClientApplication=name,
                     callbackUrl=after["callback_url"],
                     certificate=(params["certificate"].strip() if cert_changed else current[GLOBAL].get("certificate"))
                     if "jwt" in after["flows"] else None,
                     isClientCredentialsFlowEnabled="client_credentials" in after["flows"],
                     consumerKey=current[GLOBAL].get("consumerKey")),
        OAUTH: dict(fullName=full_names[OAUTH], label=after["label"], externalClientApplication=name,
                    commaSeparatedOauthScopes=", ".join(after["scopes"])),
        POLICIES: dict(fullName=full_names[POLICIES], label=after["label"], externalClientApplication=name,
                       permittedUsersPolicyType=ADMIN_APPROVED,
                       isClientCredentialsFlowEnabled="client_credentials" in after["flows"],
                       clientCredentialsFlowUser=after["run_as_user"] if "client_credentials" in after["flows"] else None,
                       ipRelaxationPolicyType=IP_RELAXATION.get(after["ip_relaxation"], after["ip_relaxation"]),
                       refreshTokenPolicyType=REFRESH_TOKEN_POLICY.get(after["refresh_token_policy"],
                                                                       after["refresh_token_policy"]),
                       sessionTimeoutInMinutes=after["session_timeout"],
                       **(dict((f, current[POLICIES].get(f)) for f in PREAUTHORISED_FIELDS.values())
                          if same_preauthorisation and current[POLICIES] else preauthorised)),
    }
    writes = {}
    for md_type, record in wanted.items():
        record = dict((k, v) for k, v in record.items() if v is not None)
        existing = current[md_type]
        if not existing or any(_differs(record[k], existing.get(k)) for k in record):
            writes[md_type] = record
    return writes


def _differs(wanted, actual):
    if isinstance(wanted, str) and isinstance(actual, str):
        return wanted.strip() != actual.strip()
    return wanted != actual


def write(client, parts, writes, other_form=None):
    """Create or update the parts, the app first (its parts name it).

    False when a create found its component already made by another writer (a duplicate answer the
    re-read explained, client.call; a second run of the same rollout): the rest is not written and
    the caller plans again against the app as it is, so that the result says what this run did.
    ``other_form`` holds the policies' pre-authorisation in the other form (names for ids, or ids for names).
    """
    for md_type in (APP,) + PARTS:
        if md_type not in writes:
            continue
        # The org may have made the policies itself when the OAuth settings were created: upsert them.
        operation = "upsert" if md_type == POLICIES else ("update" if parts.get(md_type) else "create")
        elsewhere = len(client.done_elsewhere)
        try:
            metadata.save(client, md_type, operation, writes[md_type],
                          find_existing=lambda t=md_type: metadata.read(client, t, [writes[t]["fullName"]]))
        except ApiError as error:
            # Sets and profiles the module has just found are refused as unknown when the org reads the other
            # form (ids or names; the docs disagree): say it once more in that form. Another refusal is the
            # first one's.
            if md_type != POLICIES or error.error_code != "INVALID_CROSS_REFERENCE_KEY" or not other_form:
                raise
            again = dict((k, v) for k, v in dict(writes[md_type], **other_form).items() if v is not None)
            if again == writes[md_type]:
                raise
            try:
                metadata.save(client, md_type, operation, again)
            except ApiError as second:
                if second.error_code == error.error_code:
                    raise error
                raise
        if len(client.done_elsewhere) > elsewhere:
            return False
    return True


def delete(client, parts):
    """Delete the parts, then the app (whether Salesforce deletes the parts with the app is not documented)."""
    for md_type in PARTS + (APP,):
        if parts.get(md_type):
            metadata.delete(client, md_type, [parts[md_type]["fullName"]])


def consumer_secret(client, name):
    """The consumer secret, through the REST API's OAuth credentials resource (three requests)."""
    row = client.query_one(soql("SELECT Id FROM ExternalClientApplication WHERE DeveloperName = {}", name))
    if row is None:
        raise ApiError("External Client App %s is not visible to SOQL; cannot read its consumer secret" % name)
    base = "apps/oauth/credentials/%s" % row["Id"]
    try:
        consumers = client.call(lambda sf: sf.restful(base), action="read", resource="OAuth credentials of %s" % name)
        consumer = ((consumers or {}).get("consumers") or [{}])[0].get("id")
        answer = client.call(lambda sf: sf.restful("%s/%s" % (base, consumer), params=dict(part="keyandsecret")),
                             action="read", resource="OAuth credentials of %s" % name)
    except PermissionDeniedError as error:
        raise PermissionDeniedError(
            "Salesforce refused to give the consumer secret of %s (%s). Turn on 'Allow access to External Client "
            "App consumer secrets via REST API' in Setup, External Client App Settings, and give the user the "
            "permission to view consumer secrets, or copy the secret from the External Client App Manager"
            % (name, error.error_code or error.status), status=error.status, error_code=error.error_code)
    return (answer or {}).get("secret")


# ---- the module --------------------------------------------------------------------------------------


def run(module, passes=len(PARTS) + 1):
    params = module.params
    module.refuse(option_problems(params))
    client = module.client
    parts = read_app(client, params["name"])
    policies = parts.get(POLICIES) or {}
    current_values = [v for field in PREAUTHORISED_FIELDS.values() for v in _split(policies.get(field))]
    # Removing an app needs no names looked up but those the app already holds.
    lookups = params if params["state"] == "present" else dict(params, permission_sets=None, profiles=None,
                                                               run_as_user=None)
    names = OrgNames(client, lookups, current_values)
    before = view(parts, names)

    if params["state"] == "absent":
        if before and not module.check_mode:
            delete(client, parts)
        action = DELETE if before else NO_CHANGE
        record = change_record("external_client_app", params["name"], action, compared(before), {})
        return module.finish(record, compared(before), {}, app={})

    # Every problem the org shows, in one refusal: what a new app lacks and the names the org does not have.
    after, problems = planned_view(params, before, complete=bool(parts.get(GLOBAL)))
    named = []
    records = {}
    for option in PREAUTHORISED_FIELDS:
        records[option], found_problems = names.records_of(option, after[option])
        named += found_problems
    if "client_credentials" in after["flows"] and params["run_as_user"]:
        named.append(names.run_as_problem(params["run_as_user"]))
    named = [problem for problem in named if problem]
    if named:
        problems.append("External Client App %s: %s" % (params["name"], "; ".join(named)))
    module.refuse(problems)

    by_name = held_by_name(policies)
    same = bool(before) and all(before[option] == after[option] for option in PREAUTHORISED_FIELDS)
    writes = components(params, after, parts, preauthorisation(records, bool(by_name)), same)
    if writes and not module.check_mode:
        # Another writer made a component meanwhile: plan again (each pass gets at least one component further).
        if not write(client, parts, writes, other_form=preauthorisation(records, not by_name)):
            if passes <= 1:
                raise ApiError("External Client App %s: another writer kept changing it while this run wrote it; "
                               "run again" % params["name"])
            return run(module, passes - 1)
        if not parts.get(GLOBAL):
            glob = metadata.read(client, GLOBAL, [params["name"] + SUFFIXES[GLOBAL]])
            after["consumer_key"] = (glob[0] if glob else {}).get("consumerKey")
    action = NO_CHANGE if not writes else (UPDATE if before else CREATE)
    record = change_record("external_client_app", params["name"], action, compared(before), compared(after))
    result = module.finish(record, compared(before), compared(after), app=after)
    if params["return_consumer_secret"] and not (module.check_mode and not before):
        result["consumer_secret"] = consumer_secret(client, params["name"])
    return result


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
