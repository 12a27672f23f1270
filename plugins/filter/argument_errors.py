# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: argument_errors
short_description: Check variables against a role argument spec, naming each bad value by its full path
version_added: 0.1.0
description:
  - Checks a dictionary of variables against the C(options) of a role argument specification
    (C(meta/argument_specs.yml)) and returns one message per problem, each naming the path of the
    bad value with list indexes, for example C(sf_integrations[1].permission_sets[0].object_permissions[2].access).
  - Ansible's own role argument validation stops at the first level of lists and names paths
    without indexes (C(sf_integrations -> permission_sets)); this finds the exact entry.
  - Checks types (str, path, bool, int, float, list, dict, raw), C(choices), C(required),
    C(elements) and nested C(options), and reports options the specification does not know,
    suggesting the closest known names.
  - Only the keys present in O(_input) are checked at the top level.
positional: spec
options:
  _input:
    description: The variables, by name.
    type: dict
    required: true
  spec:
    description: The C(options) of one entry point of a role argument specification.
    type: dict
    required: true
author:
  - sfops maintainers (@sfops)
"""

EXAMPLES = r"""
- name: Check the integrations before logging in anywhere
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    spec: "{{ lookup('ansible.builtin.file', role_path ~ '/meta/argument_specs.yml') | from_yaml }}"
    problems: "{{ {'sf_integrations': sf_integrations} | sfops.integration.argument_errors(spec.argument_specs.main.options) }}"
"""

RETURN = r"""
_value:
  description: "One message per problem, C(<path>: <what is wrong>); empty when the input is valid."
  type: list
  elements: str
  sample:
    - "sf_integrations[1].permission_sets[0].object_permissions[2].access: 'reed' is not one of: read, create, edit"
    - "sf_integrations[0].user.usernme: unknown option (did you mean username?)"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import BOOLEANS

from ansible_collections.sfops.integration.plugins.module_utils.org import did_you_mean

TYPE_NAMES = dict(str="a string", path="a path (string)", bool="a boolean", int="an integer", float="a number",
                  list="a list", dict="a dictionary")


def _describe(value, secret=False):
    if secret:
        return "a hidden value"
    if isinstance(value, Mapping):
        return "a dictionary"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return "the boolean %s" % value
    return "%r" % (value,)


def _type_ok(value, kind):
    """Whether Ansible's argument validation would accept (and convert) ``value`` as ``kind``."""
    if kind in ("str", "path"):
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool) or (isinstance(value, (str, int)) and to_text(value).lower() in BOOLEANS)
    if kind == "int":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
    if kind == "float":
        if isinstance(value, bool):
            return False
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "dict":
        return isinstance(value, Mapping)
    return True  # raw, or a type this check does not know


def _choice_key(value, kind):
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return to_text(value) if kind in ("str", "path") else value


def _check_choices(value, option, kind, path, errors):
    choices = option.get("choices")
    if not choices:
        return
    allowed = [_choice_key(choice, kind) for choice in choices]
    if _choice_key(value, kind) not in allowed:
        errors.append("%s: %s is not one of: %s" % (path, _describe(value, option.get("no_log")),
                                                    ", ".join(to_text(c) for c in choices)))


def _check_value(value, option, path, errors):
    """Check one value (not None) against one option of the spec."""
    kind = option.get("type", "str")
    if not _type_ok(value, kind):
        errors.append("%s: expected %s, got %s" % (path, TYPE_NAMES.get(kind, kind), _describe(value, option.get("no_log"))))
        return
    if kind == "list":
        element = dict(type=option.get("elements", "raw"), options=option.get("options"))
        for index, item in enumerate(value):
            item_path = "%s[%d]" % (path, index)
            if item is None:
                errors.append("%s: empty entry" % item_path)
            elif _type_ok(item, element["type"]):
                # Choices of a list name the list: access: 'reed' is not one of ...
                _check_value(item, element, item_path, errors)
                _check_choices(item, option, element["type"], path, errors)
            else:
                _check_value(item, element, item_path, errors)
    elif kind == "dict":
        if option.get("options"):
            _check_options(value, option["options"], path, errors, strict=True)
    else:
        _check_choices(value, option, kind, path, errors)


def _check_options(values, options, prefix, errors, strict):
    for name, option in options.items():
        option = option or {}
        path = "%s.%s" % (prefix, name) if prefix else name
        value = values.get(name)
        if value is None:
            if option.get("required") and (strict or name in values):
                errors.append("%s: required" % path)
            continue
        _check_value(value, option, path, errors)
    if strict:
        for name in values:
            if name not in options:
                path = "%s.%s" % (prefix, name) if prefix else name
                errors.append("%s: unknown option%s; known: %s"
                              % (path, did_you_mean(to_text(name), options), ", ".join(sorted(options))))


def argument_errors(values, spec):
    """Messages for every value in ``values`` that ``spec`` (argument spec options) refuses."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("argument_errors expects a dictionary of variables, got %s" % type(values).__name__)
    if not isinstance(spec, Mapping):
        raise AnsibleFilterError("argument_errors expects the options of an argument spec, got %s" % type(spec).__name__)
    errors = []
    present = dict((name, spec[name]) for name in values if name in spec)
    _check_options(values, present, "", errors, strict=False)
    return errors


class FilterModule:

    def filters(self):
        return {"argument_errors": argument_errors}
