# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs the sf_session module; its result is hidden from the output when it holds the access_token."""

from __future__ import annotations

from ansible_collections.sfops.integration.plugins.plugin_utils.secret_result import SecretResultAction


class ActionModule(SecretResultAction):

    SECRET_KEYS = ("access_token",)
