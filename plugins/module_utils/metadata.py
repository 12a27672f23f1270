# -*- coding: utf-8 -*-
# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Metadata API CRUD calls on top of ``SalesforceClient.metadata`` (simple-salesforce's sf.mdapi).

Only the modules that read or write metadata import this file; simple-salesforce and zeep are
imported by the client on the first call (client.import_metadata_libraries).

sf.mdapi answers with zeep objects, reads a missing name as a Metadata object whose fullName is
None, and reports a failed save as a plain ``Exception`` whose text lists
``<fullName>: (<statusCode>, <message>),`` (reference 1.7). These helpers return plain dicts and
raise the collection's ApiError subclasses instead, so retries and messages work as for REST.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Optional

from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient
from ansible_collections.sfops.integration.plugins.module_utils.errors import classify_api_error

COMPONENTS_PER_CALL = 10  # reference 1.7: 10 components per read, save or delete call

# One "<fullName>: (<statusCode>, <message>), " entry of simple-salesforce's save error text.
_SAVE_ERROR = re.compile(r"\n(?P<name>[^\n]*?): \((?P<code>[A-Za-z_]+), (?P<message>.*?)\), (?=\n|$)", re.S)


def chunks(items: Iterable, size: int = COMPONENTS_PER_CALL) -> list[list]:
    """``items`` in lists of at most ``size``."""
    items = list(items)
    return [items[start:start + size] for start in range(0, len(items), size)]


def parse_save_errors(text: Optional[str]) -> list[dict]:
    """[{statusCode, message, fullName}] from simple-salesforce's save error text ([] if unparsable)."""
    return [dict(statusCode=m.group("code"), message=m.group("message").strip(), fullName=m.group("name"))
            for m in _SAVE_ERROR.finditer(text or "")]


def _is_failed_result(exc: Exception) -> bool:
    # simple-salesforce raises exactly Exception (no subclass) for success=false results;
    # anything more specific is a transport or SOAP fault and goes to the client's mapping.
    return exc.__class__ is Exception


def _failures(call: Callable[[], Any]) -> list[dict]:
    """[] when a save or delete call succeeded, else the errors of its success=false result.

    simple-salesforce's plain Exception for a result it cannot parse, and every fault, are re-raised.
    """
    try:
        call()
    except Exception as exc:  # pylint: disable=broad-except
        errors = parse_save_errors(str(exc)) if _is_failed_result(exc) else []
        if not errors:
            raise
        return errors
    return []


def list_names(client: SalesforceClient, md_type: str) -> list[str]:
    """fullNames of every component of ``md_type`` (one listMetadata call)."""
    rows = client.metadata(lambda md: md.list_metadata(md.ListMetadataQuery(type=md_type)), action="list",
                           resource="%s metadata" % md_type)
    return [row.fullName for row in rows or [] if getattr(row, "fullName", None)]


def _read_chunk(client: SalesforceClient, md_type: str, names: list[str]) -> list[dict]:
    answer = client.metadata(lambda md: getattr(md, md_type).read(names), action="read",
                             resource="%s metadata" % md_type)
    from zeep.helpers import serialize_object  # loaded with the Metadata API client by the call above
    records = answer if isinstance(answer, list) else [answer]
    # A name that does not exist comes back as a Metadata object with fullName None (reference 1.7).
    return [serialize_object(record, dict) for record in records if getattr(record, "fullName", None)]


def read(client: SalesforceClient, md_type: str, names: Iterable[str]) -> list[dict]:
    """The components named ``names`` as dicts (fullName and fields); missing names are left out."""
    records = []
    for chunk in chunks(names):
        records.extend(_read_chunk(client, md_type, chunk))
    return records


def _save_errors(md: Any, md_type: str, operation: str, record: dict) -> list[dict]:
    typed = getattr(md, md_type)
    return _failures(lambda: getattr(typed, operation)([typed(**record)]))


def _delete_errors(md: Any, md_type: str, names: list[str]) -> list[dict]:
    return _failures(lambda: getattr(md, md_type).delete(names))


def save(client: SalesforceClient, md_type: str, operation: str, record: dict,
         find_existing: Optional[Callable[[], Any]] = None) -> Any:
    """createMetadata/updateMetadata/upsertMetadata of one component (a dict of its fields).

    A create is not blindly repeated after a dropped connection: ``find_existing`` re-reads it.
    """
    def call(md: Any) -> bool:
        errors = _save_errors(md, md_type, operation, record)
        if errors:
            raise classify_api_error(None, errors, action=operation, sobject=md_type, record=record)
        return True

    return client.metadata(call, action=operation, resource="%s metadata" % md_type,
                           safe_to_repeat=operation != "create", find_existing=find_existing, write=True)


def delete(client: SalesforceClient, md_type: str, names: Iterable[str]) -> None:
    """deleteMetadata of the components named ``names``."""
    def call(md: Any, chunk: list[str]) -> None:
        errors = _delete_errors(md, md_type, chunk)
        if errors:
            raise classify_api_error(None, errors, action="delete", sobject=md_type, record=dict(fullName=", ".join(chunk)))

    for chunk in chunks(names):
        client.metadata(lambda md, names=chunk: call(md, names), action="delete", resource="%s metadata" % md_type,
                        write=True)


# ---- answers as they come (the org probe) ------------------------------------------------------------


def try_save(client: SalesforceClient, md_type: str, operation: str, record: dict) -> list[dict]:
    """The errors Salesforce answered to one save ([] when it succeeded), not raised; faults still raise."""
    return client.metadata(lambda md: _save_errors(md, md_type, operation, record), action=operation,
                           resource="%s metadata" % md_type, safe_to_repeat=operation != "create", write=True)


def try_delete(client: SalesforceClient, md_type: str, names: list[str]) -> list[dict]:
    """The errors Salesforce answered to one delete (at most 10 names; [] when it succeeded), not raised."""
    return client.metadata(lambda md: _delete_errors(md, md_type, names), action="delete",
                           resource="%s metadata" % md_type, write=True)
