"""Org state: records in memory, ids, DML with the generic field rules, transactions.

Object-specific platform rules live in rules.py; this module applies the rules every sObject shares
(field existence, createable/updateable, types, lengths, restricted picklists, required fields).
One lock per org serialises its requests, so state is consistent under concurrent clients.
"""
from __future__ import annotations

import copy
import datetime as _dt
import re
import threading
from contextlib import contextmanager
from typing import Iterable, Optional

from .model import FieldDef, ObjectDef, SalesforceError

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def to18(id15: str) -> str:
    """The case-safe 18-character form of a 15-character id (documented checksum suffix)."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def now_iso() -> str:
    """Salesforce datetime format, e.g. 2024-01-31T10:00:00.000+0000."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class IdFactory:
    """Ids unique within the process: key prefix + pod + counter (15 chars) + checksum."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0

    def new(self, key_prefix: str, pod: str = "Hz") -> str:
        with self._lock:
            self._counter += 1
            n = self._counter
        body = ""
        for _ in range(10):
            n, r = divmod(n, 62)
            body = _BASE62[r] + body
        return to18(key_prefix + pod + body)


ID_FACTORY = IdFactory()
PLATFORM_TABLES = ("LoginHistory",)  # written by the platform only, never by a request's DML (see transaction)


class Org:
    """One emulated org: its records plus the hidden state Salesforce keeps (passwords, sessions)."""

    def __init__(self, name: str, schema: dict[str, ObjectDef], api_version: str = "62.0") -> None:
        self.name = name
        self.schema = schema
        self.api_version = api_version
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict]] = {o.name: {} for o in schema.values()}
        self.hidden: dict[str, dict] = {"passwords": {}, "tokens": {}, "licenses": {}, "psl_users": {}}
        self.org_id = ""
        self.current_user_id: Optional[str] = None  # who runs the DML (audit fields)
        self.writes = 0  # records changed by the current request, for the request log
        self.api_max = 115000  # Enterprise: 100,000 + 1,000 per Salesforce license (reference 6, [LIMITS])
        self.api_used = 0
        self.username_registry: Optional[callable] = None  # set by the server: usernames across all orgs
        self.profile_renamed: Optional[callable] = None  # set by the server: password policies follow profiles

    def username_taken(self, username: str, except_id: str) -> bool:
        """Usernames are unique across every org of the process, as across all of Salesforce [OBJREF User]."""
        if self.username_registry is not None:
            return self.username_registry(username, except_id)
        return any(u["Username"] == username and u["Id"] != except_id for u in self.tables["User"].values())

    def limits_body(self) -> dict:
        """GET /limits [RESTREF Limits]: DailyApiRequests falls with every API request."""
        return {"DailyApiRequests": {"Max": self.api_max, "Remaining": max(self.api_max - self.api_used, 0)},
                "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
                "FileStorageMB": {"Max": 20, "Remaining": 20}}

    # -- schema ------------------------------------------------------------------------------------
    def describe(self, name: str) -> Optional[ObjectDef]:
        return self.schema.get(name.lower())

    def object_or_error(self, name: str) -> ObjectDef:
        obj = self.describe(name)
        if obj is None:
            # REST answers an unknown sObject in a URL with NOT_FOUND [RESTREF "Status codes"].
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    # -- QuerySource protocol for soql.py ---------------------------------------------------------------
    def rows(self, object_name: str) -> Iterable[dict]:
        obj = self.describe(object_name)
        return list(self.tables[obj.name].values()) if obj else []

    def get(self, object_names: list[str], record_id: str) -> Optional[tuple[str, dict]]:
        for name in object_names:
            obj = self.describe(name)
            if obj and record_id in self.tables[obj.name]:
                return obj.name, self.tables[obj.name][record_id]
        return None

    # -- lookups used by rules and routes ----------------------------------------------------------
    def find(self, object_name: str, **criteria) -> list[dict]:
        """Live rows whose fields equal the criteria (strings compared case-insensitively); rows in the recycle
        bin are left out, as every read but queryAll leaves them out."""
        out = []
        for row in self.tables[object_name].values():
            if not row.get("IsDeleted") and all(_same(row.get(k), v) for k, v in criteria.items()):
                out.append(row)
        return out

    def find_one(self, object_name: str, **criteria) -> Optional[dict]:
        rows = self.find(object_name, **criteria)
        return rows[0] if rows else None

    def record(self, object_name: str, record_id: str) -> Optional[dict]:
        return self.tables[object_name].get(_normalise_id(record_id, self.tables[object_name]))

    def object_of_id(self, record_id: str) -> Optional[str]:
        for obj in self.schema.values():
            if record_id[:3] == obj.key_prefix and _normalise_id(record_id, self.tables[obj.name]):
                return obj.name
        return None

    # -- transactions ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self):
        """All-or-none: restore every table if the block raises (composite/collections allOrNone)."""
        # Tables only the platform writes, outside any request (LoginHistory: logins, the admin API), are not
        # copied: no request can change them, and an audited org holds tens of thousands of their rows.
        kept = {name: self.tables[name] for name in PLATFORM_TABLES if name in self.tables}
        snapshot = copy.deepcopy(({n: t for n, t in self.tables.items() if n not in kept}, self.hidden))
        writes = self.writes
        try:
            yield
        except BaseException:
            tables, self.hidden = snapshot
            tables.update(kept)
            self.tables = tables
            self.writes = writes
            raise

    # -- DML ---------------------------------------------------------------------------------------
    def insert(self, object_name: str, values: dict, *, system: bool = False) -> str:
        """Create one record; returns its id. system=True skips createable checks (seeding)."""
        from . import rules

        obj = self.object_or_error(object_name)
        if not obj.createable and not system:
            raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION",
                                  f"entity type {obj.name} does not support insert", [])
        self._check_caller(obj, "create", system)
        row = self._coerce(obj, rules.normalise(self, obj, values), creating=True, system=system)
        for f in obj.fields.values():
            if f.name not in row and f.defaulted_on_create and f.default is not None:
                row[f.name] = f.default
            elif f.type == "boolean" and f.name not in row:
                row[f.name] = False
        if not system:
            missing = [f.name for f in obj.fields.values() if f.required_on_create and row.get(f.name) in (None, "")
                       and not rules.fills(obj.name, f.name)]
            if missing:
                # [RESTREF] REQUIRED_FIELD_MISSING lists every missing field.
                raise SalesforceError(400, "REQUIRED_FIELD_MISSING",
                                      f"Required fields are missing: [{', '.join(missing)}]", missing)
        row["Id"] = ID_FACTORY.new(obj.key_prefix)
        self._stamp(row, creating=True)
        rules.before_insert(self, obj, row, system=system)
        self.tables[obj.name][row["Id"]] = row
        self.writes += 1
        rules.after_insert(self, obj, row, system=system)
        return row["Id"]

    def update(self, object_name: str, record_id: str, values: dict, *, system: bool = False) -> None:
        from . import rules

        obj = self.object_or_error(object_name)
        old = self._existing(obj, record_id)
        if not obj.updateable and not system:
            raise SalesforceError(400, "INVALID_TYPE_FOR_OPERATION",
                                  f"entity type {obj.name} does not support update", [])
        self._check_caller(obj, "edit", system)
        changes = self._coerce(obj, values, creating=False, system=system)
        new = dict(old)
        new.update(changes)
        self._stamp(new, creating=False)
        keep = rules.before_update(self, obj, old, new, system=system)
        if keep is False:  # the platform deletes the row instead (all-false permission rows)
            del self.tables[obj.name][old["Id"]]
        else:
            self.tables[obj.name][old["Id"]] = new
        self.writes += 1
        rules.after_update(self, obj, old, new, system=system)

    def delete(self, object_name: str, record_id: str, *, system: bool = False) -> None:
        from . import rules

        obj = self.object_or_error(object_name)
        row = self._existing(obj, record_id)
        if not obj.deletable and not system:
            # [OBJREF User] no delete() call; REST answers 405 (reference 2.3, 3.1).
            raise SalesforceError(405, "METHOD_NOT_ALLOWED",
                                  "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH")
        self._check_caller(obj, "delete", system)
        rules.before_delete(self, obj, row, system=system)
        if obj.undeletable:
            # Undeletable objects (describe) go to the recycle bin: the row stays, queryAll still finds it, a second
            # DELETE gets ENTITY_IS_DELETED ([RESTREF] queryAll; 3P amp-labs/connectors crm/delete/not-found.json).
            # Others (setup objects, CampaignMember) are deleted for good. Undelete: not modelled.
            self._stamp(row, creating=False)
            row["IsDeleted"] = True
        else:
            del self.tables[obj.name][row["Id"]]
        self.writes += 1
        rules.after_delete(self, obj, row, system=system)

    def _check_caller(self, obj: ObjectDef, operation: str, system: bool) -> None:
        """Refuse a write the calling user lacks the permission for (access.py); the platform's own writes pass."""
        if not system:
            from . import access  # not at the top: access -> schema -> history -> store would be circular
            access.check(self, obj.name, operation)

    def _existing(self, obj: ObjectDef, record_id: str) -> dict:
        row = self.record(obj.name, record_id or "")
        if row is None:
            if not record_id:
                raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            if record_id[:3] != obj.key_prefix or len(record_id) not in (15, 18):
                # [ERRCODES] a malformed id is MALFORMED_ID ([RESTREF sObject Collections] sample wording).
                raise SalesforceError(400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}",
                                      ["Id"])
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        if row.get("IsDeleted"):
            raise entity_is_deleted()
        return row

    def is_deleted(self, object_name: str, record_id: str) -> bool:
        """In the recycle bin (deleted, still found by queryAll)."""
        row = self.record(object_name, record_id)
        return bool(row and row.get("IsDeleted"))

    def _stamp(self, row: dict, creating: bool) -> None:
        ts = now_iso()
        who = self.current_user_id or row.get("CreatedById") or row.get("Id")
        if creating:
            row["CreatedDate"] = ts
            row["CreatedById"] = who
            if "ownerid" in self.schema[self._name_of(row)].fields:
                row.setdefault("OwnerId", who)  # the creating user owns the record [OBJREF OwnerId]
        row["LastModifiedDate"] = ts
        row["LastModifiedById"] = who
        row["SystemModstamp"] = ts
        if "IsDeleted" in (f.name for f in self.schema[self._name_of(row)].fields.values()):
            row.setdefault("IsDeleted", False)

    def _name_of(self, row: dict) -> str:
        for obj in self.schema.values():
            if row["Id"][:3] == obj.key_prefix:
                return obj.name.lower()
        raise KeyError(row["Id"])

    def _coerce(self, obj: ObjectDef, values: dict, creating: bool, system: bool) -> dict:
        """Generic field rules every sObject shares; returns values keyed by canonical names."""
        out: dict = {}
        for key, value in values.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                # REST: unknown field in a create/update body [RESTREF "Working with Records"].
                # No fields key in the REST body (3P amp-labs/connectors unknown-field.json); collections
                # SaveResults carry fields [] (3P amp-labs batch/update/contacts/partial-but-allOrNone.json).
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
            if key.lower() == "id" and not creating:
                continue
            if not system and not (f.createable if creating else f.updateable):
                # Non-createable / create-only fields (e.g. PermissionSet.LicenseId) [OBJREF], message per
                # reference 2.3 INVALID_FIELD_FOR_INSERT_UPDATE.
                raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                                      f"Unable to create/update fields: {f.name}. Please check the security settings"
                                      " of this field and verify that it is read/write for your profile or "
                                      "permission set.", [f.name])
            out[f.name] = _check_value(obj, f, value)
        return out


def entity_is_deleted() -> SalesforceError:
    """A record in the recycle bin: 404 ENTITY_IS_DELETED `entity is deleted`, fields [] (3P amp-labs/connectors
    providers/salesforce/test/crm/delete/not-found.json; reference 2.3)."""
    return SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", [])


def _same(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _normalise_id(record_id: str, table: dict) -> Optional[str]:
    """15- and 18-character forms name the same record."""
    if record_id in table:
        return record_id
    if len(record_id) == 15:
        full = to18(record_id)
        return full if full in table else None
    return None


def _check_value(obj: ObjectDef, f: FieldDef, value):
    if value is None:
        if not f.nillable and f.type != "boolean":
            # Required field nulled out.
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f.name}]", [f.name])
        return None
    t = f.type
    if t == "boolean":
        if not isinstance(value, bool):
            # [RESTREF] JSON that does not fit the field type is a JSON_PARSER_ERROR.
            raise SalesforceError(400, "JSON_PARSER_ERROR",
                                  f"Cannot deserialize instance of boolean from VALUE_STRING value {value} or "
                                  f"request may be missing a required field")
        return value
    if t in ("int", "double", "currency", "percent"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SalesforceError(400, "JSON_PARSER_ERROR",
                                  f"Cannot deserialize instance of {t} from VALUE_STRING value {value}")
        return int(value) if t == "int" else value
    if not isinstance(value, str):
        raise SalesforceError(400, "JSON_PARSER_ERROR",
                              f"Cannot deserialize instance of string from {type(value).__name__} value {value}")
    if f.length and len(value) > f.length:
        # Reference 2.3 STRING_TOO_LONG format.
        raise SalesforceError(400, "STRING_TOO_LONG",
                              f"{f.label}: data value too large: {value} (max length={f.length})", [f.name])
    if t == "email" and value and not EMAIL_RE.match(value):
        # [RESTREF Composite sample] INVALID_EMAIL_ADDRESS.
        raise SalesforceError(400, "INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {value}", [f.name])
    if f.restricted_picklist and f.picklist_values and value not in f.picklist_values:
        # Reference 2.3 INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST format.
        raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{f.label}: bad value for restricted picklist field: {value}", [f.name])
    if t == "reference" and value and (len(value) not in (15, 18) or not value.isalnum()):
        raise SalesforceError(400, "MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", [f.name])
    return value
