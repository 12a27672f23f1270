# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shared base of every sfops.integration module.

A module declares its own options and a ``run(module)`` function that reads, compares and
writes through ``module.client``, and returns ``module.finish(...)``: the change record, the diff
and the rest of its result (docs/module_template.md). This class merges the connection options,
checks the Python libraries every module needs (the others are checked where they are used, and
reported the same way), builds the client (read-only in check mode), turns every SalesforceError
(InputError for bad input included) into the one ``fail_json`` and adds ``api_requests`` to every
result, failed or not.

A module that talks to no org (sf_jwt_keypair, which keeps files on the controller) passes
``connection=False``: it gets no connection options and no client, and still refuses input,
finishes with its change record and fails through the same ``run``; ``api_requests`` is 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.sfops.integration.plugins.module_utils.change import NO_CHANGE
from ansible_collections.sfops.integration.plugins.module_utils.errors import SalesforceError, refuse
from ansible_collections.sfops.integration.plugins.module_utils.state import diff

if TYPE_CHECKING:  # imported where used: a module with connection=False never loads the REST client stack
    from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient


LOGIN_PREFIX = "login_"
LOGIN_OPTIONS = ("username", "password")  # renamed together, so a module never mixes login and managed names


class SalesforceModule:
    """AnsibleModule with the connection options and one lazily built SalesforceClient."""

    def __init__(self, argument_spec: Optional[dict] = None, supports_check_mode: bool = True, connection: bool = True,
                 **kwargs: Any) -> None:
        argument_spec = argument_spec or {}
        self.connection = connection
        # A module that manages a user owns ``username`` (and maybe ``password``): the managed user's. Its
        # login options are then called ``login_username``/``login_password`` (same SF_* fallbacks).
        renamed = LOGIN_OPTIONS if any(name in argument_spec for name in LOGIN_OPTIONS) else ()
        spec, self.connection_options = {}, {}
        if connection:
            # connection.py imports requests: only modules that talk to an org pay for it.
            from ansible_collections.sfops.integration.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC
            self.connection_options = dict(
                (name, LOGIN_PREFIX + name if name in renamed else name) for name in CONNECTION_ARGUMENT_SPEC)
            spec = dict((option_name, CONNECTION_ARGUMENT_SPEC[name]) for name, option_name in self.connection_options.items())
        spec.update(argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self._client: Optional[SalesforceClient] = None

    @property
    def params(self) -> dict:
        return self.ansible.params

    @property
    def check_mode(self) -> bool:
        return self.ansible.check_mode

    @property
    def diff_mode(self) -> bool:
        return self.ansible._diff

    def warn(self, message: str) -> None:
        self.ansible.warn(message)

    def refuse(self, problems: Optional[Iterable[Optional[str]]], prefix: Optional[str] = None) -> None:
        """Refuse the input when ``problems`` lists any (all of them in one message); nothing was written."""
        refuse(problems, prefix)

    @property
    def client(self) -> SalesforceClient:
        """The Salesforce client; built (and options checked) on first use. Logs in on first call.

        In check mode it refuses every write: modules plan in check mode and write nothing.
        """
        if not self.connection:
            raise SalesforceError("This module talks to no Salesforce org and has no client: please report this.")
        if self._client is None:
            from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient
            connection_params = dict((name, self.params.get(option)) for name, option in self.connection_options.items())
            self._client = SalesforceClient(connection_params, read_only=self.check_mode)
        return self._client

    def _api_requests(self) -> int:
        return self._client.api_requests if self._client is not None else 0

    def finish(self, change: dict, before: Any, after: Any, **result: Any) -> dict:
        """Result of a managed resource: the ``change`` record, ``changed``, the ``diff`` and the rest.

        ``change`` is the record of the module's plan (module_utils/change.py); ``changed`` follows
        from its action. ``before``/``after`` are the managed state in readable form; in check mode
        ``after`` is what the run would make. The diff is always returned (Ansible shows it only
        with --diff) so that a registered result shows what changed. When a create found its record
        already made by another writer (client.done_elsewhere), the record says ``concurrent: true``.
        """
        if self._client is not None and self._client.done_elsewhere:
            # Another writer (a second run of the same rollout) made part of it between our read and our write.
            change = dict(change, concurrent=True)
        result["change"] = change
        result["changed"] = change["action"] != NO_CHANGE
        result["diff"] = diff(before, after)
        return result

    def exit_json(self, **result: Any) -> None:
        result.setdefault("changed", False)
        result["api_requests"] = self._api_requests()
        self.ansible.exit_json(**result)

    def fail_json(self, **result: Any) -> None:
        result["api_requests"] = self._api_requests()
        self.ansible.fail_json(**result)

    def run(self, func: Callable[["SalesforceModule"], Optional[dict]]) -> None:
        """Call ``func(self)`` and exit with its result, or fail with the mapped error."""
        if self.connection:
            from ansible_collections.sfops.integration.plugins.module_utils.client import missing_libraries
            for name, import_traceback in missing_libraries():
                self.ansible.fail_json(msg=missing_required_lib(name), exception=import_traceback)
        try:
            result = func(self) or {}
        except SalesforceError as error:
            self.fail_json(**error.fail_kwargs())
        self.exit_json(**result)
