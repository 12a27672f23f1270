"""Shared types of the emulator: object and field definitions, and the platform error.

Everything else in sf_emulator (schema, SOQL, REST, rules, metadata) speaks these types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class FieldDef:
    """One field as describe() reports it (Object Reference property words in comments)."""

    name: str
    type: str  # id, string, boolean, reference, datetime, date, int, double, picklist, email, textarea, phone, url, currency, percent
    label: str = ""
    length: int = 0
    createable: bool = True  # "Create"
    updateable: bool = True  # "Update"
    nillable: bool = True  # "Nillable"
    defaulted_on_create: bool = False  # "Defaulted on create"
    permissionable: bool = True  # FieldPermissions can be granted on it
    calculated: bool = False  # formula field: readable only
    reference_to: list[str] = field(default_factory=list)
    relationship_name: Optional[str] = None  # e.g. "Profile" for ProfileId
    picklist_values: list[str] = field(default_factory=list)
    restricted_picklist: bool = False
    default: object = None  # value set on create when the caller gives none
    filterable: bool = True  # "Filter": usable in a SOQL WHERE (false e.g. for LoginHistory.Status)

    @property
    def required_on_create(self) -> bool:
        # Object Reference: a field that is not nillable and not defaulted must be given on create.
        return self.createable and not self.nillable and not self.defaulted_on_create and self.type != "boolean"


@dataclass
class ChildRelationship:
    """A child relationship usable as a SOQL subquery, e.g. PermissionSet.Assignments."""

    name: str  # relationship name, e.g. "Assignments"
    child_object: str  # e.g. "PermissionSetAssignment"
    field: str  # lookup field on the child pointing at the parent, e.g. "PermissionSetId"


@dataclass
class ObjectDef:
    name: str
    label: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by lower-case name
    child_relationships: dict[str, ChildRelationship] = field(default_factory=dict)  # lower-case name
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    custom: bool = False
    setup: bool = False  # setup-area object (User, PermissionSet, ...)

    def add(self, f: FieldDef) -> FieldDef:
        self.fields[f.name.lower()] = f
        return f

    def field(self, name: str) -> Optional[FieldDef]:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> Optional[FieldDef]:
        """The reference field whose relationship name is `name` (case-insensitive)."""
        wanted = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == wanted:
                return f
        return None

    def child(self, name: str) -> Optional[ChildRelationship]:
        return self.child_relationships.get(name.lower())


class SalesforceError(Exception):
    """A platform error as REST reports it: HTTP status, errorCode, message, fields.

    REST error bodies are JSON arrays of {message, errorCode, fields} (reference 2.2); SaveResults
    inside collections use statusCode for the same code.
    """

    def __init__(self, status: int, error_code: str, message: str, fields: Optional[list[str]] = None):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields or [])

    def rest_body(self) -> list[dict]:
        return [{"message": self.message, "errorCode": self.error_code, "fields": self.fields}]

    def save_error(self) -> dict:
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields}
