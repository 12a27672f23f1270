# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: certificate_problem
short_description: Why a text is not a PEM certificate, or an empty string when it is one
version_added: 0.2.0
description:
  - Parses the text as M(sfops.integration.sf_external_client_app) does with its O(sfops.integration.sf_external_client_app#module:certificate)
    option (the same code, with the Python library C(cryptography)), so that the role
    M(sfops.integration.integration_users) refuses a bad certificate file before its first login,
    not after the users and permission sets of an org were written.
options:
  _input:
    description: The text of the file, for example from C(lookup('ansible.builtin.file', path)).
    type: str
    required: true
author:
  - sfops maintainers (@sfops)
seealso:
  - module: sfops.integration.sf_external_client_app
"""

EXAMPLES = r"""
- name: Refuse a certificate file that holds no certificate
  ansible.builtin.assert:
    that: lookup('ansible.builtin.file', 'marketo.crt') | sfops.integration.certificate_problem == ''
    fail_msg: "marketo.crt: {{ lookup('ansible.builtin.file', 'marketo.crt') | sfops.integration.certificate_problem }}"
"""

RETURN = r"""
_value:
  description: Empty when the text is a PEM-encoded X.509 certificate; else what is wrong with it.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.module_utils.certificates import certificate_facts


def certificate_problem(text):
    if not isinstance(text, str):
        raise AnsibleFilterError("certificate_problem expects the text of a certificate file")
    try:
        certificate_facts(text)
    except ValueError as error:
        return str(error)
    return ""


class FilterModule:

    def filters(self):
        return {"certificate_problem": certificate_problem}
