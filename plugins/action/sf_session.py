# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs the sf_session module and hides its successful result from the output.

A module cannot mark its own result no_log, and the access token it returns is not one of its
option values, so Ansible would print it with -v. The registered variable keeps every value.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        result.update(self._execute_module(
            module_name=self._task.resolved_action or "sfops.integration.sf_session",
            module_args=self._task.args,
            task_vars=task_vars,
        ))
        if result.get("access_token"):
            result["_ansible_no_log"] = True
        return result
