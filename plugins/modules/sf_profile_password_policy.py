#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_profile_password_policy
short_description: Manage the password policy of a Salesforce profile
version_added: 0.1.0
description:
  - Gives a profile its own password policy (the Metadata API type C(ProfilePasswordPolicy)), so
    that, for example, an integration profile's password never expires while the org-wide
    policy still applies to everyone else.
  - Salesforce names a profile's policy itself (C(<Profile>_profilePasswordPolicy<epoch-millis>)),
    so the module finds it by listing the policies and reading them, matching the policy's profile
    to O(profile) without regard to case. It creates a policy when the profile has none and
    updates the one it has otherwise; a profile can have only one.
  - Options that are not given keep their current values. See O(password_expiration) and the
    other options for the values a new policy gets when they are not given.
  - Every value is checked before anything is sent to Salesforce; a bad value fails with a message
    naming the option.
  - O(state=absent) deletes the profile's policy; the org-wide password policy then applies to the
    profile's users again.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
attributes:
  check_mode:
    description: Reads only and reports what would change; nothing is written.
    support: full
  diff_mode:
    description: Shows the policy's values before and after (readable names, as in RV(policy)).
    support: full
options:
  profile:
    description:
      - Name of the profile (C(Profile.Name)), matched without regard to case.
      - The profile must exist; the module fails naming close matches when it does not. With
        O(state=absent) a missing profile only gives a warning, since it cannot have a policy.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the profile's policy, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  password_expiration:
    description:
      - Days until a password expires and must be changed (C(passwordExpiration)).
      - One of V(never), V(30), V(60), V(90), V(180) or V(365). V(0), Salesforce's own value for
        V(never), is accepted too. V(180) is missing from older Salesforce docs but occurs in live orgs.
      - A new policy gets V(90) when this is not given.
    type: raw
  password_history:
    description:
      - How many previous passwords are remembered and cannot be used again (C(passwordHistory)).
      - V(0) to V(24), the range the Salesforce setup page offers (the Metadata API guide gives none).
      - V(0) (no passwords remembered) requires O(password_expiration=never); Salesforce refuses it
        otherwise, so the module checks it first (also against the current expiration when
        O(password_expiration) is not given).
      - A new policy gets V(3) when this is not given.
    type: int
  lockout_interval:
    description:
      - Minutes a user stays locked out after too many failed logins (C(lockoutInterval)).
      - V(0) means until an administrator unlocks the user (C(Forever) in Salesforce setup).
      - A new policy gets V(15) when this is not given.
    type: int
    choices: [0, 15, 30, 60]
  max_login_attempts:
    description:
      - Failed logins before the user is locked out (C(maxLoginAttempts)); V(0) means no limit.
      - A new policy gets V(10) when this is not given.
    type: int
    choices: [0, 3, 5, 10]
  minimum_password_length:
    description:
      - Fewest characters a password may have (C(minimumPasswordLength)), V(5) to V(50).
      - A new policy gets V(8) when this is not given.
    type: int
  password_complexity:
    description:
      - Which kinds of characters a password must contain (C(passwordComplexity)). Readable names for
        Salesforce's values V(0) to V(5).
      - V(any) (0) no restriction.
      - V(alpha_numeric) (1) at least one letter and one number.
      - V(alpha_numeric_special) (2) a letter, a number and a special character.
      - V(upper_lower_numeric) (3) a number, an uppercase and a lowercase letter.
      - V(upper_lower_numeric_special) (4) a number, an uppercase and a lowercase letter and a special character.
      - V(three_of_upper_lower_numeric_special) (5) three of the four kinds (numbers, uppercase letters,
        lowercase letters, special characters). Not in the Metadata API guide, but seen in live orgs.
      - A new policy gets V(alpha_numeric) when this is not given.
    type: str
    choices: [any, alpha_numeric, alpha_numeric_special, upper_lower_numeric, upper_lower_numeric_special,
              three_of_upper_lower_numeric_special]
  password_question:
    description:
      - Rule for the answer to the password hint question (C(passwordQuestion)).
      - V(cannot_contain_password) (1) the answer may not contain the password; V(none) (0) no rule.
      - A new policy gets V(cannot_contain_password) when this is not given.
    type: str
    choices: [none, cannot_contain_password]
  forgot_password_redirect:
    description:
      - Whether reset links in forgot-password emails stay valid until the user confirms on an
        interstitial page (C(forgotPasswordRedirect), API version 43.0 and later).
      - A new policy gets V(false) when this is not given.
    type: bool
  minimum_password_lifetime:
    description:
      - Whether a password can be changed at most once in 24 hours (C(minimumPasswordLifetime)).
      - A new policy gets V(false) when this is not given.
    type: bool
  obscure:
    description:
      - Whether answers to security questions are hidden while typed (C(obscure)).
      - A new policy gets V(false) when this is not given.
    type: bool
notes:
  - The values a new policy gets for options that are not given are the defaults Salesforce Help
    documents for the org-wide password policies of a new org (90 days, 3 passwords remembered,
    8 characters, letters and numbers, hint answer cannot contain the password, 10 attempts,
    15 minutes, the rest off). What Salesforce itself fills in for a policy created without them is
    not documented, and the module does not read the org's current org-wide policy, so an org that
    changed it should give every option.
  - Finding the policy costs one listMetadata request and, usually, one readMetadata request (the
    policies named after the profile are read first). When none of those belongs to the profile,
    as on the first run, the remaining policies are read too, ten per request, because a policy may
    carry another name (a renamed profile, a deployed policy). The profile itself is looked up (one
    query) only when no policy was found among the first ones; a found policy proves it exists.
  - A new policy is named C(<Profile>_profilePasswordPolicy<epoch-millis>) like the ones Salesforce
    names itself, with every run of characters other than ASCII letters and digits in the profile
    name replaced by C(_).
  - Policies are matched on the profile's C(Name). A standard profile whose metadata name differs
    from its C(Name) (C(Admin) for System Administrator) may not be matched.
  - Needs the C(Modify Metadata Through Metadata API Functions) or C(Modify All Data) permission.
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_profile
  - name: ProfilePasswordPolicy (Metadata API Developer Guide)
    description: The fields and values of a profile's password policy.
    link: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_profilepasswordpolicy.htm
"""

EXAMPLES = r"""
- name: Passwords of the integration profile never expire (a rotation is a planned change)
  sfops.integration.sf_profile_password_policy:
    profile: Integration Only
    password_expiration: never
    password_history: 0
    lockout_interval: 30
    max_login_attempts: 10
    minimum_password_length: 16
    password_complexity: upper_lower_numeric_special
    password_question: cannot_contain_password

- name: Only make sure the password never expires, keeping the policy's other values
  sfops.integration.sf_profile_password_policy:
    profile: Integration Only
    password_expiration: never
  register: policy

- name: Show the policy
  ansible.builtin.debug:
    var: policy.policy

- name: Remove the profile's own policy (the org-wide password policy applies again)
  sfops.integration.sf_profile_password_policy:
    profile: Integration Only
    state: absent
"""

RETURN = r"""
policy:
  description:
    - The profile's password policy after the run (in check mode, what it would be), with the
      same readable values as the options.
    - Empty with O(state=absent).
  returned: success
  type: dict
  contains:
    profile:
      description: Name of the profile.
      type: str
      sample: Integration Only
    full_name:
      description: The policy's Metadata API name; null in check mode when the policy would be created.
      type: str
      sample: Integration_Only_profilePasswordPolicy1767225600000
    password_expiration:
      description: V(never) or the number of days.
      type: raw
      sample: never
    password_history:
      description: Passwords remembered.
      type: int
      sample: 0
    lockout_interval:
      description: Lockout minutes (V(0) until unlocked by an administrator).
      type: int
      sample: 30
    max_login_attempts:
      description: Failed logins before lockout (V(0) no limit).
      type: int
      sample: 10
    minimum_password_length:
      description: Fewest characters.
      type: int
      sample: 16
    password_complexity:
      description: Readable name of the complexity rule (see O(password_complexity)).
      type: str
      sample: upper_lower_numeric_special
    password_question:
      description: V(cannot_contain_password) or V(none).
      type: str
      sample: cannot_contain_password
    forgot_password_redirect:
      description: See O(forgot_password_redirect).
      type: bool
      sample: false
    minimum_password_lifetime:
      description: See O(minimum_password_lifetime).
      type: bool
      sample: false
    obscure:
      description: See O(obscure).
      type: bool
      sample: false
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
  sample: 5
"""

import re
import time
from urllib.parse import unquote

from ansible_collections.sfops.integration.plugins.module_utils import metadata
from ansible_collections.sfops.integration.plugins.module_utils.change import CREATE, DELETE, NO_CHANGE, UPDATE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import InputError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule
from ansible_collections.sfops.integration.plugins.module_utils.org import did_you_mean
from ansible_collections.sfops.integration.plugins.module_utils.soql import soql
from ansible_collections.sfops.integration.plugins.module_utils.state import field_changes

METADATA_TYPE = "ProfilePasswordPolicy"

NEVER = "never"
EXPIRATION_DAYS = (30, 60, 90, 180, 365)
HISTORY_RANGE = (0, 24)
LENGTH_RANGE = (5, 50)
# Readable names; the position is Salesforce's value (reference 5.1).
COMPLEXITY = ("any", "alpha_numeric", "alpha_numeric_special", "upper_lower_numeric",
              "upper_lower_numeric_special", "three_of_upper_lower_numeric_special")
QUESTION = ("none", "cannot_contain_password")
NAMED_VALUES = dict(password_complexity=COMPLEXITY, password_question=QUESTION)

# Option -> ProfilePasswordPolicy field.
FIELDS = dict(
    forgot_password_redirect="forgotPasswordRedirect",
    lockout_interval="lockoutInterval",
    max_login_attempts="maxLoginAttempts",
    minimum_password_length="minimumPasswordLength",
    minimum_password_lifetime="minimumPasswordLifetime",
    obscure="obscure",
    password_complexity="passwordComplexity",
    password_expiration="passwordExpiration",
    password_history="passwordHistory",
    password_question="passwordQuestion",
)
BOOLEAN_OPTIONS = ("forgot_password_redirect", "minimum_password_lifetime", "obscure")

# Salesforce Help's defaults for a new org's org-wide password policy (see the notes in DOCUMENTATION).
CREATE_DEFAULTS = dict(
    password_expiration=90, password_history=3, lockout_interval=15, max_login_attempts=10,
    minimum_password_length=8, password_complexity="alpha_numeric", password_question="cannot_contain_password",
    forgot_password_redirect=False, minimum_password_lifetime=False, obscure=False,
)

ARGUMENT_SPEC = dict(
    profile=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    password_expiration=dict(type="raw", no_log=False),
    password_history=dict(type="int", no_log=False),
    lockout_interval=dict(type="int", choices=[0, 15, 30, 60]),
    max_login_attempts=dict(type="int", choices=[0, 3, 5, 10]),
    minimum_password_length=dict(type="int", no_log=False),
    password_complexity=dict(type="str", choices=list(COMPLEXITY), no_log=False),
    password_question=dict(type="str", choices=list(QUESTION), no_log=False),
    forgot_password_redirect=dict(type="bool", no_log=False),
    minimum_password_lifetime=dict(type="bool", no_log=False),
    obscure=dict(type="bool"),
)

# A policy name as Salesforce generates it: <Profile>_profilePasswordPolicy<epoch-millis>.
GENERATED_NAME = re.compile(r"^(?P<profile>.*)_profilePasswordPolicy\d+$", re.I)


# ---- values: readable names <-> Salesforce's ints ------------------------------------------------

def parse_expiration(value):
    """'never' or the number of days from an option value; ValueError when it is not allowed."""
    text = str(value).strip().lower()
    if isinstance(value, bool) or not text:
        raise ValueError(value)
    if text in (NEVER, "0"):
        return NEVER
    if text.isdigit() and int(text) in EXPIRATION_DAYS:
        return int(text)
    raise ValueError(value)


def _range_error(option, value, bounds):
    if value is not None and not bounds[0] <= value <= bounds[1]:
        return "%s must be between %d and %d; got %d" % (option, bounds[0], bounds[1], value)
    return None


def history_rule_error(policy, given, current="the policy"):
    """The message when passwordHistory 0 meets expiring passwords (reference 5.1), else None.

    ``policy`` holds the values to be written, ``given`` the options the task set and ``current``
    says where the other values come from.
    """
    if policy.get("password_history") != 0 or policy.get("password_expiration") in (None, NEVER):
        return None
    days = policy["password_expiration"]
    if given.get("password_history") is None:
        return ("password_expiration %s needs password_history above 0: %s of profile '%s' remembers no "
                "passwords, which Salesforce allows only with password_expiration: never; set password_history too"
                % (days, current, policy.get("profile")))
    if given.get("password_expiration") is None:
        return ("password_history 0 (no passwords remembered) requires password_expiration: never, but %s "
                "of profile '%s' expires passwords after %s days; set password_expiration: never too"
                % (current, policy.get("profile"), days))
    return ("password_history 0 (no passwords remembered) requires password_expiration: never; got "
            "password_expiration: %s" % days)


def desired_policy(params):
    """(readable values of the options given, [error messages]); nothing has been sent yet."""
    desired = dict((option, params.get(option)) for option in FIELDS)
    errors = []
    if desired["password_expiration"] is not None:
        try:
            desired["password_expiration"] = parse_expiration(desired["password_expiration"])
        except ValueError:
            errors.append("password_expiration must be never or one of %s (days); got %r"
                          % (", ".join(str(days) for days in EXPIRATION_DAYS), params["password_expiration"]))
    for option, bounds in (("password_history", HISTORY_RANGE), ("minimum_password_length", LENGTH_RANGE)):
        error = _range_error(option, desired[option], bounds)
        if error:
            errors.append(error)
    if not errors:
        errors.extend(filter(None, [history_rule_error(desired, desired)]))
    return desired, errors


def _readable(option, value):
    if value is None:
        return False if option in BOOLEAN_OPTIONS else None
    if option == "password_expiration":
        return NEVER if int(value) == 0 else int(value)
    names = NAMED_VALUES.get(option)
    if names is not None:
        return names[int(value)] if 0 <= int(value) < len(names) else int(value)  # unknown value: kept as is
    return value if option in BOOLEAN_OPTIONS else int(value)


def _api_value(option, value):
    if option == "password_expiration":
        return 0 if value == NEVER else value
    names = NAMED_VALUES.get(option)
    if names is not None and value in names:
        return names.index(value)
    return value


def from_record(record, profile):
    """Readable policy from a read ProfilePasswordPolicy record.

    The profile keeps the spelling the org returned (it may differ in case from Profile.Name), so a
    write sends back exactly what the org knows.
    """
    policy = dict((option, _readable(option, record.get(field))) for option, field in FIELDS.items())
    policy.update(profile=record.get("profile") or profile, full_name=record.get("fullName"))
    return policy


def to_record(policy):
    """ProfilePasswordPolicy fields (every required one, as zeep insists: reference 1.7)."""
    record = dict((field, _api_value(option, policy[option])) for option, field in FIELDS.items())
    record.update(fullName=policy["full_name"], profile=policy["profile"])
    return record


def diff_view(policy):
    """The values --diff shows: the policy without its generated name."""
    return dict((key, value) for key, value in (policy or {}).items() if key != "full_name")


# ---- finding the profile and its policy ------------------------------------------------------------

def _name_key(name):
    """Profile names as policy names carry them: decoded, letters and digits only, lower case."""
    return re.sub(r"[^0-9a-z]", "", unquote(name or "").lower())


def new_full_name(profile, millis=None):
    """A policy name in Salesforce's own pattern, from the profile name."""
    stem = re.sub(r"[^0-9A-Za-z]+", "_", profile).strip("_") or "Profile"
    if not stem[0].isalpha():
        stem = "Profile_" + stem
    return "%s_profilePasswordPolicy%d" % (stem, int(time.time() * 1000) if millis is None else millis)


def split_candidates(full_names, profile):
    """(names likely to be the profile's policy, the rest): generated names of other profiles go last."""
    likely, rest = [], []
    for name in full_names:
        match = GENERATED_NAME.match(name)
        (likely if match is None or _name_key(match.group("profile")) == _name_key(profile) else rest).append(name)
    return likely, rest


def match_policy(records, profile):
    """The record whose profile is ``profile`` (case and URL encoding aside), or None."""
    wanted = unquote(profile).strip().lower()
    for record in records:
        if unquote(record.get("profile") or "").strip().lower() == wanted:
            return record
    return None


def read_matching(client, names, profile):
    """The policy among ``names`` whose profile is ``profile``, as a readable dict, or None."""
    record = match_policy(metadata.read(client, METADATA_TYPE, names), profile)
    return from_record(record, profile) if record is not None else None


def find_policy(client, profile):
    """The profile's policy as a readable dict, or None: one list, then reads of likely names first."""
    likely, rest = split_candidates(metadata.list_names(client, METADATA_TYPE), profile)
    return read_matching(client, likely, profile) or read_matching(client, rest, profile)


def find_profile(client, name):
    """The profile's Name as the org spells it, or None."""
    row = client.query_one(soql("SELECT Id, Name FROM Profile WHERE Name = {}", name))
    return row["Name"] if row else None


def unknown_profile_message(client, name, consequence=""):
    """"Profile 'X' does not exist in this org<consequence> (did you mean ...?)" (one more query)."""
    hint = did_you_mean(name, [row["Name"] for row in client.query("SELECT Name FROM Profile ORDER BY Name")])
    return "Profile '%s' does not exist in this org%s%s" % (
        name, consequence, hint or "; create it first (sfops.integration.sf_profile)")


# ---- writing -------------------------------------------------------------------------------------------

def write(client, action, policy):
    """Create or update the policy; returns its name (a new policy gets one in Salesforce's pattern).

    A create whose outcome the re-read of the profile's policy explained (client.call) returns the
    policy found: after a dropped connection the create is repeated only if none is found, and after
    a duplicate answer another writer (a second run of the same rollout) made it.
    """
    if action == UPDATE:
        metadata.save(client, METADATA_TYPE, "update", to_record(policy))
        return policy["full_name"]
    full_name = new_full_name(policy["profile"])
    found = metadata.save(client, METADATA_TYPE, "create", to_record(dict(policy, full_name=full_name)),
                          find_existing=lambda: find_policy(client, policy["profile"]))
    return found if isinstance(found, dict) else full_name


def present(module, profile, current, desired):
    base = current or dict(CREATE_DEFAULTS, profile=profile, full_name=None)
    changes = field_changes(desired, base)
    after = dict(base, **changes)
    module.refuse([history_rule_error(after, desired, "the policy" if current else "a new policy (by default)")])
    action = CREATE if current is None else (UPDATE if changes else NO_CHANGE)
    if action != NO_CHANGE and not module.check_mode:
        written = write(module.client, action, after)
        if isinstance(written, dict) and module.client.done_elsewhere:
            return present(module, profile, written, desired)  # made meanwhile by another writer: converge to it
        after["full_name"] = written["full_name"] if isinstance(written, dict) else written
    record = change_record("password_policy", profile, action, diff_view(current), diff_view(after))
    return module.finish(record, diff_view(current), diff_view(after), policy=after)


def absent(module, current):
    if current is not None and not module.check_mode:
        metadata.delete(module.client, METADATA_TYPE, [current["full_name"]])
    action = NO_CHANGE if current is None else DELETE
    record = change_record("password_policy", module.params["profile"], action, diff_view(current), {})
    return module.finish(record, diff_view(current), {}, policy={})


def run(module):
    params = module.params
    desired, errors = desired_policy(params)
    module.refuse(errors)
    client = module.client
    # A policy found for the profile proves the profile exists: the Profile query is only needed
    # when none of the likely policy names belongs to it (first run, or an unknown profile).
    likely, rest = split_candidates(metadata.list_names(client, METADATA_TYPE), params["profile"])
    current = read_matching(client, likely, params["profile"])
    if current is not None:
        profile = current["profile"]
    else:
        profile = find_profile(client, params["profile"])
        if profile is None:
            if params["state"] == "absent":
                module.warn(unknown_profile_message(client, params["profile"], ", so it has no password policy"))
                return module.finish(change_record("password_policy", params["profile"], NO_CHANGE), {}, {}, policy={})
            raise InputError(unknown_profile_message(client, params["profile"]))
        current = read_matching(client, rest, profile)
    if params["state"] == "absent":
        return absent(module, current)
    return present(module, profile, current, desired)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
