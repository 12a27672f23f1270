#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sf_org_probe
short_description: Ask a sandbox the questions a rollout of integration users depends on
version_added: 0.1.0
description:
  - Before a first rollout, asks one org (a sandbox or a Developer Edition org) how it answers the requests
    the collection relies on where the Salesforce documentation is silent. Can a permission set on the
    Salesforce API Integration permission set license hold the MFA waiver? May the standard integration
    profile get a password policy? Do External Client App policies take permission set ids for
    pre-authorisation? The questions are listed in C(plugins/module_utils/probe_catalogue.py); each names
    its row of C(docs/emulator.md), whose unverified rows say which question asks them or why none does.
  - For each question it records what was sent, what the org answered (status, error code, message, the
    fields that matter) and whether the collection's assumption holds. Playbook C(playbooks/verify_org.yml)
    writes the records as C(reports/org-probe.json) and C(.md).
  - Everything it makes has a name that starts with O(prefix) and the run id, and is removed at the end.
    Permission sets, the permission set group, assignments, the password policy and the apps are deleted;
    the one integration user is deactivated, as Salesforce cannot delete users. It takes at most one Salesforce Integration license seat and no
    permission set license seat. Without a free seat the questions that need a user are skipped.
  - Refuses a production org (C(Organization.IsSandbox) false, other than a Developer Edition org) unless
    O(allow_production=true).
  - It never exhausts seats, logs in through the apps it makes or changes a standard profile.
extends_documentation_fragment:
  - sfops.integration.connection
  - sfops.integration.connection.login
  - sfops.integration.connection.action_group
options:
  prefix:
    description:
      - Start of the name of everything the probe makes; the run id follows it (C(SFOPS_PROBE_<run id>_Set)).
      - Letters, digits and single underscores, starting with a letter; at most 20 characters.
    type: str
    default: SFOPS_PROBE
  run_id:
    description:
      - Makes this run's names unique. Letters and digits, at most 12. A random one by default.
    type: str
  probes:
    description:
      - The questions to ask, by name; all of them by default. Questions that need another's answer
        (the second password policy needs the first) are skipped without it.
    type: list
    elements: str
    choices:
      - permission_set_duplicate_name
      - permission_set_name_rule
      - psl_set_api_enabled_stays_on
      - psl_set_waive_mfa
      - object_permissions_all_false
      - assigned_set_delete_refused
      - assignment_other_user_license
      - group_assignment_duplicate
      - password_policy_standard_profile
      - password_policy_one_per_profile
      - eca_preauthorise_by_ids
      - eca_unknown_permission_set_id
      - eca_app_name_rule
      - eca_run_as_user_api_only
  email:
    description:
      - E-mail address of the probe user and contact of the probe app; its domain is also the domain of the
        probe user's username. Salesforce sends no mail for a user created through the API.
    type: str
    default: sfops-probe@example.com
  allow_production:
    description:
      - Run against a production org too. The probe only makes and removes records of its own, but it
        does make them, for a few seconds, where real users work.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reads the org (the production check, seats, the ids the questions need) and returns the
      plan, what each question would send; writes nothing.
    support: full
  diff_mode:
    description: There is no state to compare; no diff.
    support: none
notes:
  - Log in with credentials rather than an existing session (O(access_token)), so that the probe knows the
    calling user; without it the run-as question is skipped.
  - The records are written in the format tests/emulator/tests/recorded/ replays against the emulator; see
    docs/emulator.md, "Answers recorded from real orgs".
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_org_info
"""

EXAMPLES = r"""
- name: Probe the development sandbox
  sfops.integration.sf_org_probe:
    login_url: https://acme--dev.sandbox.my.salesforce.com
    client_id: "{{ vault_client_id }}"
    username: admin@acme.com.dev
    private_key_file: ~/.salesforce/keys/acme_dev.pem
  register: probe

- name: Show the questions whose answer differs from the collection's assumption
  ansible.builtin.debug:
    msg: "{{ probe.probes | selectattr('outcome', 'equalto', 'differs') | map(attribute='name') | list }}"
"""

RETURN = r"""
org:
  description: The org asked.
  returned: success
  type: dict
  contains:
    edition:
      description: C(Organization.OrganizationType).
      type: str
      sample: Developer Edition
    is_sandbox:
      description: C(Organization.IsSandbox).
      type: bool
run_id:
  description: The run id the names carry.
  returned: always
  type: str
  sample: 3f9c1a2b
probes:
  description: One entry per question, in the catalogue's order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The question's name.
      type: str
    section:
      description: Section of docs/emulator.md holding the rule.
      type: str
    rule:
      description: Start of the rule's row in docs/emulator.md.
      type: str
    question:
      description: What is asked.
      type: str
    relied_on:
      description: What of the collection rests on the answer.
      type: str
    outcome:
      description:
        - V(holds) (the org answered as assumed), V(differs), V(inconclusive) (a step before the question
          failed), V(skipped), or in check mode V(planned).
      type: str
    reason:
      description: Why it differs, was inconclusive or skipped.
      type: str
    steps:
      description: What was (in check mode would be) sent, each with the org's answer.
      type: list
      elements: dict
report:
  description:
    - The whole record (format C(sfops-org-probe/1)), with every exchange in order, lookups and cleanup
      included, the run's own names and ids written as placeholders. Not returned in check mode.
  returned: success
  type: dict
cleanup:
  description: What was removed at the end, and what could not be (each with the answer).
  returned: success
  type: dict
  contains:
    done:
      description: Requests that removed or deactivated what the probe made (or found it gone).
      type: list
      elements: str
    failed:
      description: What is left behind, with the answer; remove it by hand.
      type: list
      elements: str
change:
  description: The change record (kind C(org probe)).
  returned: success
  type: dict
api_requests:
  description: HTTP requests sent to Salesforce, logins included.
  returned: always
  type: int
"""

import json
import re
import uuid

from ansible_collections.sfops.integration.plugins.module_utils import metadata
from ansible_collections.sfops.integration.plugins.module_utils import probe_catalogue as catalogue
from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE, change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import ApiError, SalesforceError
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule

ARGUMENT_SPEC = dict(
    prefix=dict(type="str", default=catalogue.DEFAULT_PREFIX),
    run_id=dict(type="str"),
    probes=dict(type="list", elements="str", choices=catalogue.PROBE_NAMES),
    email=dict(type="str", default="sfops-probe@example.com"),
    allow_production=dict(type="bool", default=False),
)

PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")
RUN_ID = re.compile(r"^[A-Za-z0-9]{1,12}$")
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DEVELOPER_EDITION = "Developer Edition"
# Answers to a cleanup request that mean "already gone".
GONE = frozenset(["NOT_FOUND", "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"])
HOLDS = "holds"
DIFFERS = "differs"
INCONCLUSIVE = "inconclusive"
SKIPPED = "skipped"
PLANNED = "planned"


def option_problems(params):
    problems = []
    if not PREFIX.match(params["prefix"] or "") or len(params["prefix"]) > 20:
        problems.append("prefix %r must be letters, digits and single underscores, start with a letter and have at "
                        "most 20 characters" % params["prefix"])
    if params["run_id"] is not None and not RUN_ID.match(params["run_id"]):
        problems.append("run_id %r must be 1 to 12 letters and digits" % params["run_id"])
    if not EMAIL.match(params["email"] or ""):
        problems.append("email %r is not an e-mail address" % params["email"])
    return problems


# ---- one exchange --------------------------------------------------------------------------------------


def failed_answer(status, code, message, fields=None):
    return dict(ok=False, status=status, errorCode=code, message=message, fields=fields)


def rest_answer(client, request):
    status, body = client.exchange(request["method"], request["path"], request.get("params"), request.get("body"))
    if status < 300:
        return dict(ok=True, status=status, errorCode=None, message=None, fields=None), body
    errors = body if isinstance(body, list) else [body]
    first = errors[0] if errors and isinstance(errors[0], dict) else dict(message=str(body)[:500])
    return failed_answer(status, first.get("errorCode"), first.get("message"), first.get("fields")), body


def metadata_answer(client, request, prefix):
    operation, md_type = request["operation"], request["type"]
    if operation == "read":
        return dict(ok=True, status=None), dict(records=metadata.read(client, md_type, request["names"]))
    if operation == "list":
        names = [name for name in metadata.list_names(client, md_type) if name.lower().startswith(prefix.lower())]
        return dict(ok=True, status=None), dict(fullNames=sorted(names))
    if operation == "delete":
        errors = metadata.try_delete(client, md_type, request["names"])
    else:
        errors = metadata.try_save(client, md_type, operation, request["record"])
    if errors:
        return failed_answer(None, errors[0].get("statusCode"), errors[0].get("message")), dict(success=False)
    return dict(ok=True, status=None, errorCode=None, message=None), dict(success=True)


def send(client, request, prefix):
    """(answer, body) of one request; what Salesforce refused, and errors after retries, are answers too."""
    try:
        if request["api"] == "metadata":
            answer, body = metadata_answer(client, request, prefix)
        else:
            answer, body = rest_answer(client, request)
    except ApiError as error:
        answer, body = failed_answer(error.status, error.error_code, error.message, error.fields or None), None
    except SalesforceError as error:  # no answer at all (a dropped connection): recorded, the run goes on
        answer, body = failed_answer(None, None, error.message), None
    answer.setdefault("errorCode", None)
    answer.setdefault("message", None)
    return answer, body


def cleanup_for(request, body, answer):
    """The request that removes what ``request`` made, or None."""
    if not answer["ok"]:
        return None
    if request["api"] == "rest" and request["method"] == "POST" and isinstance(body, dict) and body.get("id"):
        sobject = request["path"].split("/")[1]
        if sobject == "User":  # users cannot be deleted (405): deactivated, which frees the seat
            return catalogue.rest("PATCH", "sobjects/User/%s" % body["id"], dict(IsActive=False))
        return catalogue.rest("DELETE", "sobjects/%s/%s" % (sobject, body["id"]))
    if request["api"] == "metadata" and request["operation"] in ("create", "upsert"):
        return catalogue.metadata("delete", request["type"], names=[request["record"]["fullName"]])
    return None


def removes(request, pending):
    """Whether a successful ``request`` already removed the pending cleanup request."""
    if request["api"] != pending["api"]:
        return False
    if request["api"] == "rest":
        return request["method"] == "DELETE" and request["path"] == pending["path"]
    return request["operation"] == "delete" and request["type"] == pending["type"] and request["names"] == pending["names"]


# ---- the run -------------------------------------------------------------------------------------------


class Probe:
    """One run against one org: the values known so far, every exchange, what to clean up."""

    def __init__(self, client, values):
        self.client = client
        self.values = values  # given and saved; PRIVATE ones never reach the report
        self.exchanges = []
        self.pending = []  # cleanup requests (concrete), oldest first
        self.created = 0

    def public_values(self):
        return dict((k, v) for k, v in self.values.items() if k not in catalogue.PRIVATE and v is not None)

    def templated(self, item):
        return catalogue.templated(item, self.values)

    def run_step(self, owner, step):
        """Send one step; returns its record (with ``differences`` when it has an ``expect``)."""
        absent = catalogue.missing(step["request"], self.values)
        if absent:
            return dict(step=step["step"], request=step["request"], missing=sorted(set(absent)))
        request = catalogue.substitute(step["request"], self.values)
        answer, body = send(self.client, request, self.values["prefix"])
        expect = catalogue.substitute(step.get("expect") or {}, self.values)
        answer["values"] = dict((path, catalogue.extract(body, path)) for path in sorted((expect.get("values") or {})))
        save = dict(step.get("save") or {})
        for name, path in save.items():  # only what the org made or found: a refusal saves nothing
            self.values[name] = catalogue.extract(body, path) if answer["ok"] else None
        undo = cleanup_for(request, body, answer)
        if undo is not None and request["api"] == "rest":
            # Name the new id, so that the recorded cleanup request can be replayed.
            name = next((n for n, p in save.items() if p == "id"), None)
            if name is None:
                self.created += 1
                name = "created_%d" % self.created
                save[name] = "id"
                self.values[name] = body["id"]
        if answer["ok"]:
            self.pending = [p for p in self.pending if not removes(request, p)]
        if undo is not None and undo not in self.pending:
            self.pending.append(undo)
        entry = dict(owner=owner, step=step["step"], request=step["request"], answer=answer)
        for key in ("expect", "significant"):
            if step.get(key):
                entry[key] = step[key]
        if save:
            entry["save"] = save
        if step.get("expect"):
            entry["differences"] = catalogue.differences(expect, answer)
        self.exchanges.append(entry)
        return entry

    def clean_up(self):
        done, failed = [], []
        for request in reversed(self.pending):
            answer, _body = send(self.client, request, self.values["prefix"])
            self.exchanges.append(dict(owner="cleanup", step=self.templated(describe(request)),
                                       request=self.templated(request), answer=answer))
            if answer["ok"] or answer["errorCode"] in GONE:
                done.append(describe(request))
            else:
                failed.append("%s: %s %s" % (describe(request), answer["errorCode"], answer["message"]))
        self.pending = []
        return dict(done=done, failed=failed)


def describe(request):
    """``POST sobjects/PermissionSet`` or ``create ExternalClientApplication SFOPS_PROBE_x_App``."""
    if request["api"] == "rest":
        name = (request.get("body") or {}).get("Name") or (request.get("body") or {}).get("Username")
        return "%s %s%s" % (request["method"], request["path"], " %s" % name if name else "")
    names = request.get("names") or ([request["record"]["fullName"]] if request.get("record") else [])
    return " ".join([request["operation"], request["type"]] + names)


# ---- planning --------------------------------------------------------------------------------------------


def produced_by(probe):
    return set(name for step in probe["steps"] for name in (step.get("save") or {}))


def skip_reason(probe, values, facts, runnable):
    """Why ``probe`` cannot run in this org, or None. ``runnable``: names earlier runnable probes save."""
    for fixture in probe.get("needs") or []:
        spec = catalogue.FIXTURES[fixture]
        lacking = [name for name in spec.get("requires") or [] if values.get(name) is None]
        if lacking:
            return "the org has no %s (needed for %s)" % (", ".join(lacking), spec["about"])
        if spec.get("seat") and facts["free_seats"] < 1:
            return "no free Salesforce Integration license seat for %s" % spec["about"]
    for name in probe.get("requires") or []:
        if values.get(name) is None and name not in runnable:
            return "needs %s, which the org or an earlier question did not give" % name
    for name, wanted in (probe.get("when") or {}).items():
        if values.get(name) != wanted:
            return "%s is %r (the question needs %r)" % (name, values.get(name), wanted)
    if probe.get("policy_free") and facts["existing_policy"]:
        return ("the profile already has a password policy (%s), which answers the question (yes); the probe does "
                "not add another" % facts["existing_policy"])
    return None


def plan(selected, values, facts):
    """[(probe, skip reason or None)] in the catalogue's order."""
    planned, runnable = [], set()
    for probe in catalogue.PROBES:
        if probe["name"] not in selected:
            continue
        reason = skip_reason(probe, values, facts, runnable)
        if reason is None:
            runnable |= produced_by(probe)
        planned.append((probe, reason))
    return planned


def existing_policy(client, values):
    """fullName of the integration profile's password policy, or None (a list and reads of 10 at a time)."""
    if values.get("integration_profile_id") is None:
        return None
    names = metadata.list_names(client, catalogue.POLICY_TYPE)
    for found in metadata.read(client, catalogue.POLICY_TYPE, names):
        if (found.get("profile") or "").strip().lower() == catalogue.INTEGRATION_PROFILE.lower():
            return found.get("fullName")
    return None


def production_problem(values, allow):
    if values.get("is_sandbox") is None:
        return "could not read Organization.IsSandbox, so cannot tell whether this is a production org; nothing was written"
    if values["is_sandbox"] or values.get("edition") == DEVELOPER_EDITION or allow:
        return None
    return ("this is a production org (Organization.IsSandbox false, OrganizationType %r): the probe makes and removes "
            "records of its own there. Probe a sandbox or a Developer Edition org, or set allow_production=true "
            "(playbooks/verify_org.yml: -e sf_probe_allow_production=true); nothing was written" % values.get("edition"))


# ---- running ---------------------------------------------------------------------------------------------


def planned_steps(probe, values):
    """What a probe would send: its fixtures' steps and its own, names filled in (ids still placeholders)."""
    shown = dict((k, v) for k, v in values.items() if k in catalogue.GIVEN)
    steps = []
    for fixture in probe.get("needs") or []:
        steps += ["%s (%s, if not made yet)" % (describe(catalogue.substitute(s["request"], shown)), fixture)
                  for s in catalogue.FIXTURES[fixture]["steps"]]
    return steps + [describe(catalogue.substitute(s["request"], shown)) for s in probe["steps"]]


def ask(run, probe, fixtures):
    """Run one probe (its fixtures first, once); returns (outcome, reason, step records)."""
    for name in probe.get("needs") or []:
        if name not in fixtures:
            fixtures[name] = [run.run_step("fixture:" + name, s) for s in catalogue.FIXTURES[name]["steps"]]
        broken = [s for s in fixtures[name] if s.get("missing") or s.get("differences")]
        if broken:
            return INCONCLUSIVE, "could not make %s: %s" % (catalogue.FIXTURES[name]["about"], why(broken[0])), []
    records, differing = [], []
    for step in probe["steps"]:
        entry = run.run_step(probe["name"], step)
        records.append(entry)
        if entry.get("missing"):
            return (DIFFERS if differing else INCONCLUSIVE), "; ".join(differing + [why(entry)]), records
        if entry.get("differences"):
            differing.append(why(entry))
    return (DIFFERS if differing else HOLDS), "; ".join(differing) or None, records


def why(entry):
    if entry.get("missing"):
        return "%s: not sent, no value for %s" % (entry["step"], ", ".join(entry["missing"]))
    answer = entry["answer"]
    said = " (%s: %s)" % (answer["errorCode"], answer["message"]) if answer.get("errorCode") else ""
    return "%s: %s%s" % (entry["step"], "; ".join(entry["differences"]), said)


def result_entry(probe, outcome, reason, steps):
    keys = ("name", "section", "rule", "question", "relied_on")
    return dict(dict((key, probe[key]) for key in keys), outcome=outcome, reason=reason, steps=steps)


def run(module):
    params = module.params
    module.refuse(option_problems(params))
    client = module.client
    run_id = params["run_id"] or uuid.uuid4().hex[:8]
    values = catalogue.prefix_values(params["prefix"], run_id, params["email"])
    values["caller_id"] = client.connect().user_id
    probe = Probe(client, values)
    for step in catalogue.LOOKUPS:
        probe.run_step("lookup", step)
    module.refuse([production_problem(values, params["allow_production"])])
    selected = params["probes"] or catalogue.PROBE_NAMES
    facts = dict(free_seats=(values.get("integration_seats") or 0) - (values.get("integration_seats_used") or 0),
                 existing_policy=None)
    if "password_policy_standard_profile" in selected:
        facts["existing_policy"] = existing_policy(client, values)
    planned = plan(selected, values, facts)
    org = dict(edition=values.get("edition"), is_sandbox=values.get("is_sandbox"))
    to_run = [p for p, reason in planned if reason is None]
    if module.check_mode:
        probes = [result_entry(p, SKIPPED if reason else PLANNED, reason, planned_steps(p, values) if not reason else [])
                  for p, reason in planned]
        return finish(module, run_id, org, probes, to_run)

    probes, fixtures = [], {}
    try:
        for found, reason in planned:
            reason = reason or skip_reason(found, values, facts, set())  # what earlier questions did give
            if reason:
                probes.append(result_entry(found, SKIPPED, reason, []))
                continue
            outcome, why_not, steps = ask(probe, found, fixtures)
            probes.append(result_entry(found, outcome, why_not, [step_view(probe, s) for s in steps]))
    finally:
        cleanup = probe.clean_up()
    for text in cleanup["failed"]:
        module.warn("The org probe could not remove what it made: %s" % text)
    report = dict(format=catalogue.FORMAT, run_id=run_id, org=org, api_version=client.api_version,
                  summary=summary(probes), probes=[dict((k, v) for k, v in p.items() if k != "steps") for p in probes],
                  exchanges=[dict(e, answer=probe.templated(e["answer"])) for e in probe.exchanges],
                  values=probe.public_values())
    return finish(module, run_id, org, probes, to_run, report=report, cleanup=cleanup)


def step_view(probe, entry):
    """A step as the result shows it: what was sent (names filled in, private values left out) and the answer."""
    public = probe.public_values()
    view = dict(step=entry["step"], request=entry["request"], sent=sent(catalogue.substitute(entry["request"], public)))
    if "answer" in entry:
        view["answer"] = catalogue.templated(entry["answer"], dict((k, probe.values.get(k)) for k in catalogue.PRIVATE))
    for key in ("expect", "differences", "missing"):
        if entry.get(key) is not None:
            view[key] = entry[key]
    return view


def sent(request):
    """What was sent, in one line: ``POST sobjects/PermissionSet {"Name": ...}``, ``GET query: SELECT ...``."""
    if request.get("params", {}).get("q"):
        return "%s %s: %s" % (request["method"], request["path"], request["params"]["q"])
    content = request.get("body") or request.get("record")
    return describe(request) + (" " + json.dumps(content, sort_keys=True) if content else "")


def summary(probes):
    counts = {}
    for found in probes:
        counts[found["outcome"]] = counts.get(found["outcome"], 0) + 1
    return counts


def finish(module, run_id, org, probes, to_run, **result):
    """The change record: the questions asked (their outcome), or none when every question was skipped."""
    name = "%s_%s" % (module.params["prefix"], run_id)
    outcomes = dict((p["name"], p["outcome"]) for p in probes)
    change = change_record("org probe", name, "probe" if to_run else NO_CHANGE, None, outcomes)
    return module.finish(change, None, None, run_id=run_id, org=org, probes=probes, **result)


def main():
    SalesforceModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True).run(run)


if __name__ == "__main__":
    main()
