# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs the sf_external_client_app module; its result is hidden from the output when it holds the consumer_secret."""

from __future__ import annotations

from ansible_collections.sfops.integration.plugins.plugin_utils.secret_result import SecretResultAction


class ActionModule(SecretResultAction):

    SECRET_KEYS = ("consumer_secret",)
