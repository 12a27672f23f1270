# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The REST API of one org over the client's requests session.

The modules need three things of REST: a resource (``restful``), a query and the next batch of a
query. They are a few lines over requests, so the REST path does not import simple-salesforce,
whose package import always loads zeep (the Metadata API client, only two modules need it).
Errors are raised as ``HttpError`` with the decoded body; client.py maps them to errors.py.
"""

from __future__ import annotations

from typing import Any, Optional


class HttpError(Exception):
    """Salesforce answered with a status of 300 or more; ``content`` is the JSON body, or its text."""

    def __init__(self, status: int, content: Any, path: str) -> None:
        super().__init__("HTTP %s from %s" % (status, path))
        self.status = status
        self.content = content
        self.path = path


class RestApi:
    """``restful``, ``query`` and ``query_more`` against one org, with a bearer token."""

    def __init__(self, http: Any, instance_url: str, access_token: str, api_version: str) -> None:
        self.http = http
        self.instance_url = instance_url.rstrip("/")
        self.base_url = "%s/services/data/v%s/" % (self.instance_url, api_version)
        self.headers = {"Authorization": "Bearer " + access_token, "Content-Type": "application/json",
                        "Accept": "application/json"}

    def _send(self, method: str, url: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, headers=self.headers, **kwargs)
        if response.status_code >= 300:
            try:
                content = response.json()
            except ValueError:
                content = response.text
            raise HttpError(response.status_code, content, path)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def restful(self, path: str, params: Optional[dict] = None, method: str = "GET", json: Any = None) -> Any:
        """The decoded answer of a REST resource (``sobjects/User/005...``); None when it is empty."""
        kwargs = dict(params=params)
        if json is not None:
            kwargs["json"] = json
        answer = self._send(method, self.base_url + path.lstrip("/"), path, **kwargs)
        return answer if answer else None

    def query(self, soql_text: str, include_deleted: bool = False) -> dict:
        """The first batch of a query (``queryAll`` with include_deleted)."""
        resource = "queryAll/" if include_deleted else "query/"
        return self._send("GET", self.base_url + resource, "query", params={"q": soql_text})

    def query_more(self, next_records_url: str) -> dict:
        """The batch a query result's ``nextRecordsUrl`` (a server-relative URL) points at."""
        return self._send("GET", self.instance_url + next_records_url, "query")
