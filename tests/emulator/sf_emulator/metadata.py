"""Metadata SOAP API (reference 1.7, 5.1, 5.3): list, read, create, update, upsert, delete, as
simple-salesforce's sf.mdapi (zeep) sends them, for ProfilePasswordPolicy (here) and for the External
Client App types and ConnectedApp (rules in eca.py; this module only speaks SOAP for them)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from . import eca
from .auth import HttpResponse

MD = "http://soap.sforce.com/2006/04/metadata"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
INT_FIELDS = ["lockoutInterval", "maxLoginAttempts", "minimumPasswordLength", "passwordComplexity",
              "passwordExpiration", "passwordHistory", "passwordQuestion"]
BOOL_FIELDS = ["forgotPasswordRedirect", "minimumPasswordLifetime", "obscure"]
FIELD_ORDER = ["forgotPasswordRedirect", "lockoutInterval", "maxLoginAttempts", "minimumPasswordLength",
               "minimumPasswordLifetime", "obscure", "passwordComplexity", "passwordExpiration", "passwordHistory",
               "passwordQuestion", "profile"]
# Value lists [METAREF ProfilePasswordPolicy, reference 5.1]; passwordHistory 0..24 is UNVERIFIED.
ALLOWED = {"lockoutInterval": {0, 15, 30, 60}, "maxLoginAttempts": {0, 3, 5, 10},
           "minimumPasswordLength": set(range(5, 51)), "passwordComplexity": set(range(0, 6)),
           "passwordExpiration": {0, 30, 60, 90, 180, 365}, "passwordQuestion": {0, 1},
           "passwordHistory": set(range(0, 25))}
MAX_COMPONENTS = 10  # reference 1.7: 10 components per call


class PasswordPolicyStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.policies: dict[str, dict] = {}  # fullName -> values
        self.version = 0  # bumps on every change: the request log's write count (ECA writes included)
        # The org's External Client Apps (set by the server): one store object reaches the metadata handler,
        # and one version counts every component write.
        self.eca: Optional[eca.EcaStore] = None

    def get_policy_by_profile_name(self, profile: str) -> Optional[dict]:
        with self.lock:
            for p in self.policies.values():
                if (p.get("profile") or "").lower() == profile.lower():
                    return dict(p)
        return None

    def profile_renamed(self, old_name: str, new_name: str) -> None:
        """Policies follow their profile: a rename shows the new name; a deleted profile leaves its policy behind
        with an empty ``profile`` (reference 5.1: orphans exist in live orgs, 3P)."""
        with self.lock:
            for policy in self.policies.values():
                if (policy.get("profile") or "").lower() == old_name.lower():
                    policy["profile"] = new_name

    def put(self, full_name: str, values: dict) -> None:
        with self.lock:
            self.policies[full_name] = dict(values)
            self.version += 1


@dataclass
class MetadataContext:
    store: PasswordPolicyStore
    find_profile: Callable[[str], Optional[str]]
    can_modify_metadata: bool
    api_version: str
    now_millis: Callable[[], int]
    # Whether this org takes a policy for a standard profile (settings: standard_profile_password_policies).
    refuses_policy: Callable[[str], bool] = lambda profile: False


def soap_fault(code: str, message: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata">'
            f'<soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>'
            '</soapenv:Fault></soapenv:Body></soapenv:Envelope>').encode()


def _fault(code: str, message: str) -> HttpResponse:
    return HttpResponse(500, soap_fault(f"sf:{code}", f"{code}: {message}"), "text/xml; charset=utf-8")


def session_id_of(body: bytes) -> Optional[str]:
    try:
        el = ET.fromstring(body).find(f".//{{{MD}}}SessionHeader/{{{MD}}}sessionId")
    except ET.ParseError:
        return None
    return el.text if el is not None else None


def _envelope(op: str, inner: str) -> HttpResponse:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
           f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{MD}" xmlns:xsi="{XSI}">'
           f'<soapenv:Body><{op}Response>{inner}</{op}Response></soapenv:Body></soapenv:Envelope>')
    return HttpResponse(200, xml.encode(), "text/xml; charset=utf-8")


def _result(full_name: str, errors: list[tuple[str, str]], created: Optional[bool] = None) -> str:
    parts = [f"<created>{str(created).lower()}</created>"] if created is not None else []
    parts += [f"<errors><message>{escape(m)}</message><statusCode>{c}</statusCode></errors>" for c, m in errors]
    parts.append(f"<fullName>{escape(full_name or '')}</fullName><success>{str(not errors).lower()}</success>")
    return "<result>" + "".join(parts) + "</result>"


def _parse_policy(el: ET.Element) -> dict:
    values = {}
    for child in el:
        name = child.tag.split("}")[-1]
        values[name] = child.text
    return values


def _validate(values: dict, ctx: MetadataContext) -> list[tuple[str, str]]:
    errors = []
    missing = [f for f in INT_FIELDS + ["profile"] if values.get(f) in (None, "")]
    if missing:
        return [("REQUIRED_FIELD_MISSING", f"Required field is missing: {m}") for m in missing]
    for f in INT_FIELDS:
        try:
            values[f] = int(values[f])
        except (TypeError, ValueError):
            errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{f}: invalid value {values[f]}"))
            continue
        if values[f] not in ALLOWED[f]:
            # Codes for invalid values are UNVERIFIED: FIELD_INTEGRITY_EXCEPTION chosen.
            errors.append(("FIELD_INTEGRITY_EXCEPTION", f"{f}: invalid value {values[f]}"))
    for f in BOOL_FIELDS:
        if f in values:
            values[f] = str(values[f]).lower() == "true"
    if not errors and values["passwordHistory"] == 0 and values["passwordExpiration"] != 0:
        # [METAREF] passwordHistory 0 requires passwordExpiration 0 (never expires).
        errors.append(("FIELD_INTEGRITY_EXCEPTION", "passwordHistory 0 requires passwordExpiration 0"))
    profile = ctx.find_profile(values["profile"])
    if profile is None:
        errors.append(("FIELD_INTEGRITY_EXCEPTION", f"No such profile: {values['profile']}"))  # UNVERIFIED
    elif ctx.refuses_policy(profile):
        # Reference 3.12: whether a standard profile (e.g. Minimum Access - API Only Integrations) takes a
        # ProfilePasswordPolicy is UNVERIFIED; the admin setting makes the emulator refuse, code and text invented.
        errors.append(("INSUFFICIENT_ACCESS_OR_READONLY", f"You can't set a password policy for the standard "
                                                          f"profile {profile}."))
    # The profile reference is kept as the caller wrote it, not as Profile.Name spells it: live orgs return
    # it in another case than the profile's name (reference 5.1, 3P NCC SFPolDevChk), so readers must match
    # without case. Exactly which spelling Salesforce returns is UNVERIFIED.
    return errors


def handle_metadata(body: bytes, resolve_session: Callable[[str], Optional[MetadataContext]]) -> HttpResponse:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return HttpResponse(500, soap_fault("soapenv:Client", "Malformed request"), "text/xml; charset=utf-8")
    sid = session_id_of(body)
    ctx = resolve_session(sid) if sid else None
    if ctx is None:
        return _fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session")
    body_el = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    call = body_el[0] if body_el is not None and len(body_el) else None
    if call is None:
        return HttpResponse(500, soap_fault("soapenv:Client", "No operation"), "text/xml; charset=utf-8")
    op = call.tag.split("}")[-1]
    if not ctx.can_modify_metadata:
        # A real org's fault (3P: debug log in forcedotcom/cli#3048, also forcedotcom/code-builder-feedback#66).
        return _fault("INSUFFICIENT_ACCESS", "use of the Metadata API requires a user with the ModifyAllData or "
                                             "ModifyMetadata permissions")
    store = ctx.store
    if op == "listMetadata":
        types = [t.text for t in call.iter(f"{{{MD}}}type")]
        rows = []
        if "ProfilePasswordPolicy" in types:
            with store.lock:
                names = sorted(store.policies)
            for n in names:
                rows.append(f"<result><createdById>005000000000000AAA</createdById><createdByName>Emulator"
                            f"</createdByName><createdDate>2026-01-01T00:00:00.000Z</createdDate>"
                            f"<fileName>profilePasswordPolicies/{escape(n)}.profilePasswordPolicy</fileName>"
                            f"<fullName>{escape(n)}</fullName><id>0Ps000000000000AAA</id>"
                            f"<lastModifiedById>005000000000000AAA</lastModifiedById><lastModifiedByName>Emulator"
                            f"</lastModifiedByName><lastModifiedDate>2026-01-01T00:00:00.000Z</lastModifiedDate>"
                            f"<manageableState>unmanaged</manageableState><type>ProfilePasswordPolicy</type></result>")
        for t in types:
            if t in eca.TYPES and store.eca is not None:
                try:
                    listed = store.eca.list_rows(t)
                except eca.EcaFault as fault:
                    return _fault(fault.code, fault.message)
                rows += [_file_row(t, n, i, f) for n, i, f in listed]
        return _envelope(op, "".join(rows))
    if op in ("readMetadata", "deleteMetadata"):
        names = [n.text or "" for n in call.iter(f"{{{MD}}}fullNames")]
        if len(names) > MAX_COMPONENTS:
            return _fault("INVALID_OPERATION", f"Too many components: at most {MAX_COMPONENTS}")  # UNVERIFIED code
        type_el = call.find(f"{{{MD}}}type")
        type_ = (type_el.text or "") if type_el is not None else ""
        if type_ in eca.TYPES and store.eca is not None:
            return _eca_read_or_delete(op, type_, names, store)
        if op == "readMetadata":
            records = []
            with store.lock:
                for n in names:
                    p = store.policies.get(n)
                    if p is None:
                        records.append('<records xsi:nil="true"/>')  # reference 1.7: not found
                        continue
                    fields = "".join(f"<{f}>{escape(str(p[f]).lower() if isinstance(p[f], bool) else str(p[f]))}"
                                     f"</{f}>" for f in FIELD_ORDER if f in p)
                    records.append(f'<records xsi:type="ProfilePasswordPolicy"><fullName>{escape(n)}</fullName>'
                                   f'{fields}</records>')
            return _envelope(op, "<result>" + "".join(records) + "</result>")
        results = []
        for n in names:
            with store.lock:
                found = store.policies.pop(n, None) is not None
                if found:
                    store.version += 1
            results.append(_result(n, [] if found else [("INVALID_CROSS_REFERENCE_KEY",
                                                         f"In field: fullName - no ProfilePasswordPolicy named {n}"
                                                         " found")]))
        return _envelope(op, "".join(results))
    if op in ("createMetadata", "updateMetadata", "upsertMetadata"):
        items = list(call.iter(f"{{{MD}}}metadata"))
        if len(items) > MAX_COMPONENTS:
            return _fault("INVALID_OPERATION", f"Too many components: at most {MAX_COMPONENTS}")
        results = []
        for item in items:
            type_ = (item.get(f"{{{XSI}}}type") or "ProfilePasswordPolicy").split(":")[-1]
            if type_ in eca.TYPES and store.eca is not None:
                full_name, errors, created, writes = store.eca.save(op, type_, item)
                _count(store, writes)
                results.append(_result(full_name, errors, created if op == "upsertMetadata" else None))
                continue
            values = _parse_policy(item)
            full_name = values.pop("fullName", None) or ""
            errors = _validate(values, ctx)
            created = None
            with store.lock:
                exists = full_name in store.policies
                other = next((n for n, p in store.policies.items()
                              if n != full_name and p["profile"].lower() == str(values.get("profile")).lower()), None)
                if not errors:
                    if op == "updateMetadata" and not exists:
                        errors = [("INVALID_CROSS_REFERENCE_KEY", f"no ProfilePasswordPolicy named {full_name} found")]
                    elif op == "createMetadata" and exists:
                        errors = [("DUPLICATE_VALUE", f"There is already a ProfilePasswordPolicy named {full_name}")]
                    elif other:
                        # Reference 5.1: one policy per profile; statusCode UNVERIFIED.
                        errors = [("DUPLICATE_VALUE", "A password policy with this profile already exists.")]
                if not errors:
                    store.policies[full_name] = values
                    store.version += 1
                    created = not exists
            results.append(_result(full_name, errors, created if op == "upsertMetadata" else None))
        return _envelope(op, "".join(results))
    return _fault("INVALID_OPERATION", f"Operation {op} is not supported by the emulator")


def _file_row(type_: str, full_name: str, component_id: str, file_name: str) -> str:
    """A listMetadata FileProperties row (created/modified values are placeholders, as for policies)."""
    return (f"<result><createdById>005000000000000AAA</createdById><createdByName>Emulator</createdByName>"
            f"<createdDate>2026-01-01T00:00:00.000Z</createdDate><fileName>{escape(file_name)}</fileName>"
            f"<fullName>{escape(full_name)}</fullName><id>{component_id}</id>"
            f"<lastModifiedById>005000000000000AAA</lastModifiedById><lastModifiedByName>Emulator"
            f"</lastModifiedByName><lastModifiedDate>2026-01-01T00:00:00.000Z</lastModifiedDate>"
            f"<manageableState>unmanaged</manageableState><type>{type_}</type></result>")


def _eca_read_or_delete(op: str, type_: str, names: list[str], store: PasswordPolicyStore) -> HttpResponse:
    try:
        if op == "readMetadata":
            records = []
            for n in names:
                fields = store.eca.read(type_, n)
                records.append('<records xsi:nil="true"/>' if fields is None else  # reference 1.7: not found
                               f'<records xsi:type="{type_}"><fullName>{escape(n)}</fullName>{fields}</records>')
            return _envelope(op, "<result>" + "".join(records) + "</result>")
    except eca.EcaFault as fault:
        return _fault(fault.code, fault.message)
    results = []
    for n in names:
        errors, writes = store.eca.delete(type_, n)
        _count(store, writes)
        results.append(_result(n, errors))
    return _envelope(op, "".join(results))


def _count(store: PasswordPolicyStore, writes: int) -> None:
    """Component writes go into the request log's write count (the server logs version changes)."""
    if writes:
        with store.lock:
            store.version += writes
