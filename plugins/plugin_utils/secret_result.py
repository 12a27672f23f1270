# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""An action plugin base that runs its module and hides the result when it returns a secret.

A module cannot mark its own result no_log, and a secret it returns (an access token, a consumer
secret) is not one of its option values, so Ansible would print it with -v. The registered variable
keeps every value.
"""

from __future__ import annotations

from typing import Any, Optional

from ansible.plugins.action import ActionBase


class SecretResultAction(ActionBase):
    """Set SECRET_KEYS to the result keys that hold secrets."""

    SECRET_KEYS: tuple[str, ...] = ()
    _supports_check_mode = True

    def run(self, tmp: Optional[str] = None, task_vars: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(module_name=self._task.resolved_action, module_args=self._task.args,
                                           task_vars=task_vars))
        if any(result.get(key) for key in self.SECRET_KEYS):
            result["_ansible_no_log"] = True
        return result
