"""REST API under /services/data/vXX.X/ [RESTREF], for one authenticated org and user.

Routes: query, queryAll (with nextRecordsUrl pagination), sobjects (describe, create, get, update,
delete), User password, composite, composite/sobjects (sObject Collections), limits.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from . import eca, history, soql
from .model import FieldDef, ObjectDef, SalesforceError
from .store import Org, entity_is_deleted

MIN_VERSION, MAX_VERSION = 52, 66
COMPOSITE_LIMIT = 25  # [RESTREF Composite] at most 25 subrequests
COMPOSITE_QUERY_LIMIT = 5  # ... of which at most 5 query or collections
COLLECTION_LIMIT = 200  # [RESTREF sObject Collections]
VERSION_RE = re.compile(r"^/services/data/v(\d+)\.0(/.*)?$")
REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
HALTED = SalesforceError(400, "PROCESSING_HALTED",
                         "The transaction was rolled back since another operation in the same transaction failed.")
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the request was using "
                          "AllOrNone header", "fields": []}


@dataclass
class Response:
    status: int
    body: object = None  # JSON-able; None → empty body
    headers: dict = field(default_factory=dict)


def versions(base_url: str) -> list[dict]:
    return [{"label": f"v{v}.0", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(MIN_VERSION, MAX_VERSION + 1)]


def not_found() -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")


class RestApi:
    """Dispatches one REST request. The caller holds org.lock."""

    def __init__(self, org: Org, user_id: str, cursors: dict, batch_size: int = 2000,
                 password_policy=None, base_url: str = "") -> None:
        self.org = org
        self.user_id = user_id
        self.cursors = cursors  # query locator -> remaining records (per org)
        self.batch_size = batch_size
        self.password_policy = password_policy  # callable(profile name) -> policy dict or None
        self.base_url = base_url  # the instance URL, for describe's UI templates

    # -- entry point -------------------------------------------------------------------------------
    def handle(self, method: str, url: str, body: Optional[bytes]) -> Response:
        split = urlsplit(url)
        m = VERSION_RE.match(split.path)
        if not m or not MIN_VERSION <= int(m.group(1)) <= MAX_VERSION:
            raise not_found()
        self.version = f"{m.group(1)}.0"
        self.org.api_version = self.version
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parts = [p for p in (m.group(2) or "/").split("/") if p]
        payload = self._json(body) if body else None
        return self.route(method, parts, params, payload)

    def route(self, method: str, parts: list[str], params: dict, payload) -> Response:
        if not parts:
            return Response(200, {r: f"/services/data/v{self.version}/{r}" for r in
                                  ("sobjects", "query", "queryAll", "composite", "limits")})
        head, rest = parts[0], parts[1:]
        if head in ("query", "queryAll") and method == "GET":
            return self.query(params, rest, query_all=head == "queryAll")
        if head == "sobjects":
            return self.sobjects(method, rest, params, payload)
        if head == "composite" and not rest and method == "POST":
            return self.composite(payload)
        if head == "composite" and rest[:1] == ["sobjects"]:
            return self.collections(method, rest[1:], params, payload)
        if head == "limits" and method == "GET" and not rest:
            return Response(200, self.org.limits_body())
        if head == "apps":  # Connect REST OAuth credentials of External Client Apps, v60+ (eca.py)
            status, body = eca.connect_oauth(self.org, self.version, method, rest, params)
            return Response(status, body)
        raise not_found()

    @staticmethod
    def _json(body: bytes):
        try:
            return json.loads(body)
        except ValueError as exc:
            raise SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None

    # -- query -------------------------------------------------------------------------------------
    def query(self, params: dict, rest: list[str], query_all: bool) -> Response:
        if rest:  # continuation: /query/<locator>-<offset>
            locator = rest[0]
            if locator not in self.cursors:
                raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            remaining, total = self.cursors.pop(locator)
            return Response(200, self._page(remaining, total))
        q = params.get("q")
        if not q:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        result = soql.execute(q, self.org, query_all=query_all)
        return Response(200, self._page(result.records, result.total_size))

    def _page(self, records: list, total: int) -> dict:
        body = {"totalSize": total, "done": True, "records": records[:self.batch_size]}
        if len(records) > self.batch_size:
            locator = "01g" + secrets.token_hex(6).upper() + f"-{self.batch_size}"
            self.cursors[locator] = (records[self.batch_size:], total)
            body["done"] = False
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}"
        return body

    # -- sobjects ----------------------------------------------------------------------------------
    def sobjects(self, method: str, rest: list[str], params: dict, payload) -> Response:
        if not rest:
            if method != "GET":
                raise not_found()
            return Response(200, {"encoding": "UTF-8", "maxBatchSize": 200,
                                  "sobjects": [self._object_summary(o) for o in self.org.schema.values()]})
        obj = self.org.object_or_error(rest[0])
        if len(rest) == 1:
            if method == "GET":
                return Response(200, {"objectDescribe": self._object_summary(obj), "recentItems": []})
            if method == "POST":
                created = self.create(obj, payload)
                # 201 with a Location header naming the new record (3P: a real org's raw answer in
                # alpha-bytes/zs50-content lectures/week5.md; [RESTREF Composite] subresponses carry the same).
                return Response(201, created, {"Location": self._attributes(obj, created["id"])["url"]})
            raise SalesforceError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are "
                                                             "GET,HEAD,POST")
        if rest[1] == "describe" and len(rest) == 2 and method == "GET":
            return Response(200, self.describe(obj))
        record_id = rest[1]
        if len(rest) == 3 and rest[2] == "password" and obj.name == "User":
            return self.password(method, record_id, payload)
        if len(rest) != 2:
            raise not_found()
        if method == "GET":
            return Response(200, self.get(obj, record_id, params.get("fields")))
        if method == "PATCH":
            self.org.update(obj.name, record_id, self._record_body(payload))
            return Response(204)
        if method == "DELETE":
            self.org.delete(obj.name, record_id)
            return Response(204)
        raise SalesforceError(405, "METHOD_NOT_ALLOWED",
                              f"HTTP Method '{method}' not allowed. Allowed are HEAD,GET,PATCH,DELETE")

    @staticmethod
    def _record_body(payload) -> dict:
        if not isinstance(payload, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        return payload

    def create(self, obj: ObjectDef, payload) -> dict:
        values = self._record_body(payload)
        if "id" in {k.lower() for k in values}:
            # A real org's answer (3P salesforce.stackexchange.com/questions/117370): INVALID_FIELD, no fields key.
            raise SalesforceError(400, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
        new_id = self.org.insert(obj.name, values)
        return {"id": new_id, "success": True, "errors": []}

    def get(self, obj: ObjectDef, record_id: str, fields: Optional[str]) -> dict:
        row = self.org.record(obj.name, record_id)
        if row is None:
            raise not_found()
        if row.get("IsDeleted"):
            raise entity_is_deleted()  # in the recycle bin (reference 2.3)
        names = [f.strip() for f in fields.split(",")] if fields else [f.name for f in obj.fields.values()]
        out = {"attributes": self._attributes(obj, row["Id"])}
        for name in names:
            f = obj.field(name)
            if f is None:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. If you "
                                      "are attempting to use a custom field, be sure to append the '__c' after the "
                                      "custom field name. Please reference your WSDL or the describe call for the "
                                      "appropriate names.")
            out[f.name] = row.get(f.name)
        return out

    def _attributes(self, obj: ObjectDef, record_id: str) -> dict:
        return {"type": obj.name, "url": f"/services/data/v{self.version}/sobjects/{obj.name}/{record_id}"}

    def _urls(self, obj: ObjectDef, full: bool) -> dict:
        """The urls of a describe: what every object has, the layout ones of layoutable objects, list views of the
        searchable layoutable ones, User's password resource; a full describe adds the UI templates (the recorded
        describes, schema.DESCRIBE_SOURCE)."""
        base = f"/services/data/v{self.version}/sobjects/{obj.name}"
        urls = {"rowTemplate": base + "/{ID}", "describe": base + "/describe", "sobject": base}
        if obj.layoutable:
            urls.update(compactLayouts=base + "/describe/compactLayouts", layouts=base + "/describe/layouts",
                        quickActions=base + "/quickActions")
            if obj.name == "User":
                urls.update(namedLayouts=base + "/describe/namedLayouts/{LayoutName}",
                            passwordUtilities=base + "/{ID}/password")
            elif obj.searchable:
                urls.update(approvalLayouts=base + "/describe/approvalLayouts", listviews=base + "/listviews")
            if full and self.base_url:
                urls.update(uiDetailTemplate=self.base_url + "/{ID}", uiEditTemplate=self.base_url + "/{ID}/e",
                            uiNewRecord=f"{self.base_url}/{obj.key_prefix}/e")
        return urls

    def _object_summary(self, obj: ObjectDef) -> dict:
        """A global describe entry (and objectDescribe of GET /sobjects/X): the 28 keys of the recorded ones."""
        return {"activateable": False, "associateEntityType": None, "associateParentEntity": None,
                "createable": obj.createable, "custom": obj.custom, "customSetting": False, "deepCloneable": False,
                "deletable": obj.deletable, "deprecatedAndHidden": False, "feedEnabled": obj.feed_enabled,
                "hasSubtypes": False, "isInterface": False, "isSubtype": False, "keyPrefix": obj.key_prefix,
                "label": obj.label, "labelPlural": obj.plural, "layoutable": obj.layoutable,
                "mergeable": obj.mergeable, "mruEnabled": obj.mru_enabled, "name": obj.name,
                "queryable": obj.queryable, "replicateable": obj.replicateable, "retrieveable": True,
                "searchable": obj.searchable, "triggerable": obj.triggerable, "undeletable": obj.undeletable,
                "updateable": obj.updateable, "urls": self._urls(obj, full=False)}

    def describe(self, obj: ObjectDef) -> dict:
        """GET /sobjects/X/describe with the 45 keys of the recorded describes (schema.DESCRIBE_SOURCE)."""
        body = self._object_summary(obj)
        body.update(
            actionOverrides=[], compactLayoutable=obj.layoutable, defaultImplementation=None, extendedBy=None,
            extendsInterfaces=None, fields=[describe_field(f) for f in obj.fields.values()], implementedBy=None,
            implementsInterfaces=None, listviewable=None, lookupLayoutable=None, namedLayoutInfos=[],
            networkScopeFieldName=None, searchLayoutable=obj.layoutable, sobjectDescribeOption="FULL",
            urls=self._urls(obj, full=True),
            childRelationships=[{"cascadeDelete": c.cascade_delete, "childSObject": c.child_object,
                                 "deprecatedAndHidden": False, "field": c.field, "junctionIdListNames": [],
                                 "junctionReferenceTo": [], "relationshipName": c.name,
                                 "restrictedDelete": c.restricted_delete}
                                for c in obj.child_relationships.values()],
            recordTypeInfos=[self._master_record_type(obj)] if obj.record_types else [],
            # The recorded data objects list "everything" and "mine" among their scopes (owned records only).
            supportedScopes=[{"label": f"All {obj.plural.lower()}", "name": "everything"},
                             {"label": f"My {obj.plural.lower()}", "name": "mine"}]
            if obj.field("OwnerId") is not None else [])
        return dict(sorted(body.items()))

    def _master_record_type(self, obj: ObjectDef) -> dict:
        master = "012000000000000AAA"  # the Master record type's id in every recorded describe
        return {"active": True, "available": True, "defaultRecordTypeMapping": True, "developerName": "Master",
                "master": True, "name": "Master", "recordTypeId": master,
                "urls": {"layout": f"/services/data/v{self.version}/sobjects/{obj.name}/describe/layouts/{master}"}}

    # -- User password [RESTREF sObject User Password; reference 2.9] --------------------------------------
    def password(self, method: str, user_id: str, payload) -> Response:
        user = self.org.record("User", user_id)
        if user is None:
            raise not_found()
        if method == "GET":
            return Response(200, {"isExpired": False})
        if method == "POST":
            new = self._record_body(payload).get("NewPassword")
            if not isinstance(new, str):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "NewPassword is required")
            self._check_password(user, new)
            self.org.hidden["passwords"][user["Id"]] = new
            history.password_changed(self.org, user)  # LastPasswordChangeDate, SetupAuditTrail
            self.org.writes += 1
            return Response(204)
        if method == "DELETE":
            temp = secrets.token_urlsafe(7)[:9]
            self.org.hidden["passwords"][user["Id"]] = temp
            history.password_changed(self.org, user, reset=True)
            self.org.writes += 1
            return Response(200, {"NewPassword": temp})
        raise SalesforceError(405, "METHOD_NOT_ALLOWED",
                              f"HTTP Method '{method}' not allowed. Allowed are HEAD,GET,POST,DELETE")

    def _check_password(self, user: dict, new: str) -> None:
        """The org's policy, or the profile's ProfilePasswordPolicy when it has one [RESTREF]: 400
        INVALID_NEW_PASSWORD. Org default: 8 characters, letters and numbers (Help "Password Policy Fields":
        the defaults). The length and letters-and-numbers texts are real orgs' (3P, [RESTREF]); the others are
        the emulator's own words (docs/emulator.md)."""
        profile = self.org.record("Profile", user["ProfileId"])
        policy = self.password_policy(profile["Name"]) if self.password_policy else None
        length = int(policy["minimumPasswordLength"]) if policy else 8
        complexity = int(policy["passwordComplexity"]) if policy else 1
        if len(new) < length:
            raise SalesforceError(400, "INVALID_NEW_PASSWORD", f"Your password must be at least {length} characters "
                                                               "long.")
        has = {"letter": any(c.isalpha() for c in new), "digit": any(c.isdigit() for c in new),
               "upper": any(c.isupper() for c in new), "lower": any(c.islower() for c in new),
               "special": any(not c.isalnum() for c in new)}
        needs = {0: [], 1: ["letter", "digit"], 2: ["letter", "digit", "special"], 3: ["digit", "upper", "lower"],
                 4: ["digit", "upper", "lower", "special"], 5: ["digit", "upper", "lower", "special"]}[complexity]
        # 5: any three of the four (the org setting Any3UpperLowerCaseNumericSpecialCharacters; reference 5.1, 3P).
        wanted = 3 if complexity == 5 else len(needs)
        if sum(has[n] for n in needs) < wanted:
            raise SalesforceError(400, "INVALID_NEW_PASSWORD",
                                  "Your password must have a mix of letters and numbers." if complexity == 1 else
                                  f"Your password must include {'three of' if complexity == 5 else 'all of'}: "
                                  f"{', '.join(needs)}.")

    # -- composite [RESTREF Composite; reference 2.6] ------------------------------------------------------
    def composite(self, payload) -> Response:
        if not isinstance(payload, dict) or not isinstance(payload.get("compositeRequest"), list):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        subs = payload["compositeRequest"]
        if len(subs) > COMPOSITE_LIMIT:
            raise SalesforceError(400, "LIMIT_EXCEEDED", f"Limit Exceeded: composite subrequests, max {COMPOSITE_LIMIT}")
        heavy = sum(1 for s in subs if re.search(r"/(query|queryAll|composite/sobjects)\b", str(s.get("url", ""))))
        if heavy > COMPOSITE_QUERY_LIMIT:
            raise SalesforceError(400, "LIMIT_EXCEEDED", "Limit Exceeded: at most 5 query or sObject Collections "
                                                         "subrequests")
        seen = set()
        for s in subs:
            ref = s.get("referenceId")
            if not isinstance(ref, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_]*$", ref) or ref in seen:
                # v52+: a bad or duplicate referenceId fails the whole request [RESTREF Composite].
                raise SalesforceError(400, "INVALID_REFERENCE_ID" if ref else "JSON_PARSER_ERROR",
                                      f"Invalid reference specified: {ref}")
            seen.add(ref)
            bad = {h.lower() for h in (s.get("httpHeaders") or {})} & {"authorization", "accept", "content-type"}
            if bad:
                raise SalesforceError(400, "INVALID_HEADER", f"Header not allowed in a subrequest: {sorted(bad)[0]}")
            if s.get("method") not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                raise SalesforceError(400, "METHOD_NOT_ALLOWED", f"Invalid method: {s.get('method')}")
        all_or_none = bool(payload.get("allOrNone"))
        results: dict[str, dict] = {}
        out: list[dict] = []
        failed: set[str] = set()
        try:
            with self.org.transaction():
                for s in subs:
                    ref = s["referenceId"]
                    used = set(REF_RE.findall(json.dumps(s)))
                    if any(u[0] in failed for u in used):
                        out.append(self._sub(ref, HALTED.status, HALTED.rest_body()))
                        failed.add(ref)
                        continue
                    try:
                        url = self._substitute(s.get("url", ""), results)
                        body = self._substitute(s.get("body"), results)
                        res = self._sub_request(s["method"], url, body, all_or_none)
                    except SalesforceError as err:
                        out.append(self._sub(ref, err.status, err.rest_body()))
                        failed.add(ref)
                        if all_or_none:
                            raise _Rollback() from None
                        continue
                    if all_or_none and _collection_failed(res.body):
                        # [RESTREF "allOrNone Parameters in Composite and Collections Requests"]: with the
                        # outer allOrNone true, a failed record of a collections subrequest rolls back the
                        # whole composite request, not only that subrequest's records.
                        out.append(self._sub(ref, res.status, res.body))
                        failed.add(ref)
                        raise _Rollback()
                    results[ref] = res.body if isinstance(res.body, (dict, list)) else {}
                    out.append(self._sub(ref, res.status, res.body, res.headers))
        except _Rollback:
            # allOrNone: everything is rolled back; the others report PROCESSING_HALTED (reference 2.6).
            done = {o["referenceId"] for o in out}
            out = [o if o["referenceId"] in failed else self._sub(o["referenceId"], HALTED.status,
                                                                   HALTED.rest_body()) for o in out]
            out += [self._sub(s["referenceId"], HALTED.status, HALTED.rest_body()) for s in subs
                    if s["referenceId"] not in done]
        return Response(200, {"compositeResponse": out})

    @staticmethod
    def _sub(ref: str, status: int, body, headers: Optional[dict] = None) -> dict:
        return {"body": body, "httpHeaders": headers or {}, "httpStatusCode": status, "referenceId": ref}

    def _sub_request(self, method: str, url: str, body, outer_all_or_none: bool) -> Response:
        split = urlsplit(url)
        m = VERSION_RE.match(split.path)
        if not m:
            raise not_found()
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parts = [p for p in (m.group(2) or "/").split("/") if p]
        if parts and parts[0] == "composite" and not parts[1:]:
            raise SalesforceError(400, "INVALID_API_INPUT", "composite cannot be nested")
        if outer_all_or_none and parts[:2] == ["composite", "sobjects"] and isinstance(body, dict):
            body = dict(body, allOrNone=True)  # the outer allOrNone overrides the inner one [RESTREF]
        with self.org.transaction():  # each subrequest is atomic on its own
            return self.route(method, parts, params, body)

    @staticmethod
    def _substitute(value, results: dict):
        """Replace @{ref.path} with values from earlier responses (case-sensitive) [RESTREF Composite]."""
        if value is None:
            return None
        text = json.dumps(value)

        def lookup(m: re.Match) -> str:
            ref, path = m.group(1), m.group(2)
            if ref not in results:
                raise SalesforceError(400, "INVALID_REFERENCE", f"Invalid reference specified. No value for {ref}"
                                                                f"{path} found in {ref}.")
            cur = results[ref]
            for token in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
                try:
                    cur = cur[token[0]] if token[0] else cur[int(token[1])]
                except (KeyError, IndexError, TypeError):
                    raise SalesforceError(400, "INVALID_REFERENCE", f"Invalid reference specified. No value for "
                                                                    f"{ref}{path} found in {ref}.") from None
            return str(cur)

        return json.loads(REF_RE.sub(lambda m: lookup(m).replace('"', '\\"'), text))

    # -- sObject Collections [RESTREF sObject Collections; reference 2.7] ----------------------------------
    def collections(self, method: str, rest: list[str], params: dict, payload) -> Response:
        if method == "DELETE" and not rest:
            ids = [i for i in params.get("ids", "").split(",") if i]
            if not ids:
                # 3P restforce spec/fixtures/sobject/composite_sobjects_destroy_bad_request_response.json.
                raise SalesforceError(400, "REQUIRED_FIELD_MISSING", "At least 1 Id is required.")
            return Response(200, self._each(ids, params.get("allOrNone", "false").lower() == "true",
                                            lambda i: self._delete_any(i) or i))
        if method == "GET" and len(rest) == 1:
            obj = self.org.object_or_error(rest[0])
            ids = [i for i in params.get("ids", "").split(",") if i]
            fields = params.get("fields")
            return Response(200, [self._get_or_none(obj, i, fields) for i in ids])
        if method not in ("POST", "PATCH") or rest:
            raise not_found()
        body = self._record_body(payload)
        records = body.get("records")
        if not isinstance(records, list):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "records is required")
        if not records:
            # A request error, no fields key (3P amp-labs/connectors batch/create/contacts/err-bad-request.json).
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING", "At least 1 record is required")
        types = [((r.get("attributes") or {}).get("type") or "") for r in records]
        if any(not t for t in types):
            raise SalesforceError(400, "INVALID_TYPE", "Each record needs attributes.type")
        objs = [self.org.object_or_error(t) for t in types]
        if len({o.name for o in objs}) > 1 and any(o.setup for o in objs):
            # [RESTREF sObject Collections] types cannot be mixed when one is a setup object; code UNVERIFIED.
            raise SalesforceError(400, "INVALID_BATCH_REQUEST",
                                  "You can't mix object types when one of them is a setup object.")
        all_or_none = bool(body.get("allOrNone"))

        def save(pair):
            obj, rec = pair
            values = {k: v for k, v in rec.items() if k != "attributes"}
            if method == "POST":
                if "id" in {k.lower() for k in values}:
                    raise SalesforceError(400, "INVALID_FIELD", "Can't specify an id for a create", ["Id"])
                return self.org.insert(obj.name, values)
            rid = values.pop("id", None) or values.pop("Id", None)
            if not rid:
                # fields [] (3P amp-labs/connectors batch/update/contacts/partial-no-ids.json).
                raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
            self.org.update(obj.name, rid, values)
            return rid

        return Response(200, self._each(list(zip(objs, records)), all_or_none, save))

    def _each(self, items: list, all_or_none: bool, action) -> list[dict]:
        if len(items) > COLLECTION_LIMIT:
            raise SalesforceError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                                                            f"{COLLECTION_LIMIT} records into this call")
        results: list[dict] = []
        failed = False
        try:
            with self.org.transaction():
                for item in items:
                    try:
                        with self.org.transaction():
                            rid = action(item)
                        results.append({"id": rid, "success": True, "errors": []})
                    except SalesforceError as err:
                        # A failed item has no id key (3P amp-labs/connectors batch/*/partial-*.json).
                        results.append({"success": False, "errors": err.save_errors()})
                        failed = True
                if failed and all_or_none:
                    raise _Rollback()
        except _Rollback:
            # Reference 2.7: the good records report ALL_OR_NONE_OPERATION_ROLLED_BACK.
            results = [r if not r["success"] else {"success": False, "errors": [ROLLED_BACK]} for r in results]
        return results

    def _delete_any(self, record_id: str) -> None:
        name = self.org.object_of_id(record_id)
        if name is None:
            raise SalesforceError(400, "ENTITY_IS_DELETED" if len(record_id) in (15, 18) else "MALFORMED_ID",
                                  "entity is deleted" if len(record_id) in (15, 18) else
                                  f"malformed id {record_id}")
        self.org.delete(name, record_id)

    def _get_or_none(self, obj: ObjectDef, record_id: str, fields: Optional[str]):
        try:
            return self.get(obj, record_id, fields)
        except SalesforceError as err:
            if err.status == 404:
                return None  # missing ids come back as null entries [RESTREF sObject Collections]
            raise


SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
              "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
              "datetime": "xsd:dateTime"}  # every other type is xsd:string
TEXT_TYPES = {"string", "email", "phone", "picklist", "multipicklist", "combobox", "url", "textarea"}
UNGROUPABLE = {"datetime", "double", "currency", "percent", "combobox"}
# precision, scale, digits when the field gives none: currency 18/2, double 18/0, percent 3/0, int 9 digits.
NUMBER_DEFAULTS = {"currency": (18, 2, 0), "double": (18, 0, 0), "percent": (3, 0, 0), "int": (0, 0, 9)}


def describe_field(f: FieldDef) -> dict:
    """One field of a describe with the 57 keys of the recorded describes (schema.DESCRIBE_SOURCE). Per type, as
    recorded: byteLength three bytes per character of text types, 18 for ids; long text areas (over 255) neither
    filter, sort, group nor aggregate; booleans don't aggregate; dates-times and numbers with decimals don't group.
    What the emulator has no notion of (formulas' text, masks, encryption, dependent picklists) is null/false."""
    long_text = f.type == "textarea" and f.length > 255
    precision, scale, digits = NUMBER_DEFAULTS.get(f.type, (0, 0, 0))
    polymorphic = len(f.reference_to) > 1
    default = bool(f.default) if f.type == "boolean" else f.default if f.default in f.picklist_values else None
    return {
        "aggregatable": f.type != "boolean" and not long_text, "aiPredictionField": False,
        "autoNumber": f.auto_number,
        "byteLength": f.length * 3 if f.type in TEXT_TYPES else 18 if f.type in ("id", "reference") else 0,
        "calculated": f.calculated, "calculatedFormula": None, "cascadeDelete": False, "caseSensitive": False,
        "compoundFieldName": f.compound_field_name, "controllerName": None, "createable": f.createable,
        "custom": f.name.endswith("__c"), "defaultValue": default, "defaultValueFormula": None,
        "defaultedOnCreate": f.defaulted_on_create, "dependentPicklist": False, "deprecatedAndHidden": False,
        "digits": f.digits if f.digits is not None else digits, "displayLocationInDecimal": False,
        "encrypted": False, "externalId": f.external_id,
        "extraTypeInfo": f.extra_type_info or ("plaintextarea" if f.type == "textarea" else None),
        "filterable": f.filterable and not long_text, "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False, "groupable": f.type not in UNGROUPABLE and not long_text,
        "highScaleNumber": False, "htmlFormatted": False, "idLookup": f.id_lookup, "inlineHelpText": None,
        "label": f.label, "length": f.length, "mask": None, "maskType": None, "name": f.name,
        "nameField": f.name_field, "namePointing": polymorphic, "nillable": f.nillable,
        "permissionable": f.permissionable,
        "picklistValues": [{"active": True, "defaultValue": v == f.default, "label": v, "validFor": None, "value": v}
                           for v in f.picklist_values],
        "polymorphicForeignKey": polymorphic, "precision": f.precision if f.precision is not None else precision,
        "queryByDistance": False, "referenceTargetField": None, "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": f.restricted_picklist, "scale": f.scale if f.scale is not None else scale,
        "searchPrefilterable": False, "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": not long_text, "type": f.type, "unique": f.unique, "updateable": f.updateable,
        "writeRequiresMasterRead": False,
    }


class _Rollback(Exception):
    pass


def _collection_failed(body) -> bool:
    """An sObject Collections result list with a failed record."""
    return isinstance(body, list) and any(isinstance(r, dict) and r.get("success") is False for r in body)
