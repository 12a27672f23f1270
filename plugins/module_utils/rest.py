# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The REST API of one org over the client's requests session.

The modules need three things of REST: a resource (``restful``), a query and the next batch of a
query; the org probe also records error answers as they come (``exchange``). They are a few
lines over requests, so the REST path does not import simple-salesforce, whose package import
always loads zeep (the Metadata API client, only a few modules need it).
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

    def _answer(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, decoded body): the JSON body, its text when it is not JSON, None when empty."""
        response = self.http.request(method, url, headers=self.headers, **kwargs)
        if response.status_code == 204 or not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def _send(self, method: str, url: str, path: str, **kwargs: Any) -> Any:
        status, content = self._answer(method, url, **kwargs)
        if status >= 300:
            raise HttpError(status, content, path)
        return content

    def restful(self, path: str, params: Optional[dict] = None, method: str = "GET", json: Any = None) -> Any:
        """The decoded answer of a REST resource (``sobjects/User/005...``); None when it is empty."""
        status, content = self.exchange(path, params, method, json)
        if status >= 300:
            raise HttpError(status, content, path)
        return content if content else None

    def exchange(self, path: str, params: Optional[dict] = None, method: str = "GET", json: Any = None) -> tuple[int, Any]:
        """(status, decoded body) of a REST resource, error answers included, for callers that record answers."""
        kwargs = dict(params=params)
        if json is not None:
            kwargs["json"] = json
        return self._answer(method, self.base_url + path.lstrip("/"), **kwargs)

    def query(self, soql_text: str, include_deleted: bool = False) -> dict:
        """The first batch of a query (``queryAll`` with include_deleted)."""
        resource = "queryAll/" if include_deleted else "query/"
        return self._send("GET", self.base_url + resource, "query", params={"q": soql_text})

    def query_more(self, next_records_url: str) -> dict:
        """The batch a query result's ``nextRecordsUrl`` (a server-relative URL) points at."""
        return self._send("GET", self.instance_url + next_records_url, "query")
