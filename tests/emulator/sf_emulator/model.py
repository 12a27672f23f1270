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
    name_field: bool = False  # describe nameField: the record's name (what a polymorphic Name traversal shows)
    id_lookup: bool = False  # describe idLookup ("idLookup" property in [OBJREF]); always true for Id
    external_id: bool = False  # describe externalId
    unique: bool = False  # describe unique
    auto_number: bool = False  # describe autoNumber (generated on create, read-only)
    precision: Optional[int] = None  # describe precision/scale/digits; None = the type's usual value (rest.py)
    scale: Optional[int] = None
    digits: Optional[int] = None
    extra_type_info: Optional[str] = None  # describe extraTypeInfo, e.g. "personname"
    compound_field_name: Optional[str] = None  # describe compoundFieldName, e.g. "Name" for LastName

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
    cascade_delete: bool = False  # describe cascadeDelete: deleting the parent deletes the children
    restricted_delete: bool = False  # describe restrictedDelete: children block the parent's delete


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
    label_plural: str = ""  # describe labelPlural; label + "s" when left empty
    # Describe flags (docs/emulator.md "describe"); the defaults are those of the recorded setup objects.
    feed_enabled: bool = False
    layoutable: bool = False
    mergeable: bool = False
    mru_enabled: bool = False
    searchable: bool = False
    triggerable: bool = False
    replicateable: bool = True
    undeletable: bool = False  # deleted records go to the recycle bin (queryAll sees them; store.py)
    record_types: bool = False  # recordTypeInfos lists the Master record type

    @property
    def plural(self) -> str:
        return self.label_plural or self.label + "s"

    @property
    def name_field(self) -> Optional["FieldDef"]:
        """The field describe marks nameField (None for objects without a name, e.g. ObjectPermissions)."""
        return next((f for f in self.fields.values() if f.name_field), None)

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

    REST error bodies are JSON arrays (reference 2.2). Real orgs send ``fields`` only with DML errors
    (e.g. INVALID_FIELD_FOR_INSERT_UPDATE, DUPLICATE_VALUE, ENTITY_IS_DELETED); query errors, NOT_FOUND and
    body-parse errors have no ``fields`` key (3P recordings: amp-labs/connectors
    providers/salesforce/test/unknown-field.json, unknown-object.json, crm/delete/not-found.json;
    restforce spec/fixtures/sobject/query_error_response.json). ``fields=None`` is that "no key" case.
    SaveResults inside collections always carry ``fields`` and use statusCode for the code.
    ``also``: further errors of the same record, reported after this one (a real org lists every failed
    check of a save, e.g. a permission set whose label and API name are both taken: 3P
    SFDO-Tooling/CumulusCI#3045).
    """

    def __init__(self, status: int, error_code: str, message: str, fields: Optional[list[str]] = None,
                 also: Optional[list["SalesforceError"]] = None):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields) if fields is not None else None
        self.also = list(also or [])

    def rest_body(self) -> list[dict]:
        body = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = self.fields
        return [body] + [b for err in self.also for b in err.rest_body()]

    def save_error(self) -> dict:
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}

    def save_errors(self) -> list[dict]:
        return [self.save_error()] + [e for err in self.also for e in err.save_errors()]
