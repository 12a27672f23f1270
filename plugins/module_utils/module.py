# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared base of every sfops.integration module.

A module declares its own options and a ``run(module)`` function that reads, compares and
writes through ``module.client``, returning its result dict. This class merges the connection
options, checks the Python libraries, builds the client, turns SalesforceError into fail_json
and adds ``api_requests`` to every result, failed or not.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient, missing_libraries
from ansible_collections.sfops.integration.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC
from ansible_collections.sfops.integration.plugins.module_utils.errors import SalesforceError


class SalesforceModule:
    """AnsibleModule with the connection options and one lazily built SalesforceClient."""

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(argument_spec or {})
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self._client = None

    @property
    def params(self):
        return self.ansible.params

    @property
    def check_mode(self):
        return self.ansible.check_mode

    @property
    def diff_mode(self):
        return self.ansible._diff

    def warn(self, message):
        self.ansible.warn(message)

    @property
    def client(self):
        """The Salesforce client; built (and options checked) on first use. Logs in on first call."""
        if self._client is None:
            connection_params = dict((name, self.params.get(name)) for name in CONNECTION_ARGUMENT_SPEC)
            self._client = SalesforceClient(connection_params)
        return self._client

    def _api_requests(self):
        return self._client.api_requests if self._client is not None else 0

    def exit_json(self, **result):
        result.setdefault("changed", False)
        result["api_requests"] = self._api_requests()
        self.ansible.exit_json(**result)

    def fail_json(self, **result):
        result["api_requests"] = self._api_requests()
        self.ansible.fail_json(**result)

    def run(self, func):
        """Call ``func(self)`` and exit with its result, or fail with the mapped error."""
        for name, import_traceback in missing_libraries():
            self.ansible.fail_json(msg=missing_required_lib(name), exception=import_traceback)
        try:
            result = func(self) or {}
        except SalesforceError as error:
            self.fail_json(**error.fail_kwargs())
        self.exit_json(**result)
