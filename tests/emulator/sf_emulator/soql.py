"""The SOQL the modules use: a tokenizer, a recursive-descent parser and an evaluator.

Supported: field lists with parent paths (Profile.Name) and child subqueries, COUNT(), WHERE with
= != <> < > <= >= IN, NOT IN (values or a semi-join subselect), LIKE, AND, OR, NOT, parentheses,
string/number/boolean/null/date literals, ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET;
polymorphic relationships (a lookup to several objects) through the Name object's fields and TYPEOF.
Error codes per reference 2.3 (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE); message wording beyond
the quoted parts is UNVERIFIED.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from . import access, dates
from .model import FieldDef, ObjectDef, SalesforceError

TOKEN_RE = re.compile(r"""\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<dt>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))?)
                          |(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])
                          |(?P<dl>""" + dates.LITERAL_PATTERN + r""")  # date literals (dates.py)
                          |(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""", re.X)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


def malformed(msg: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", msg)


def no_such_column(name: str, obj: str) -> SalesforceError:
    return SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj}'. If you are attempting "
                           "to use a custom field, be sure to append the '__c' after the custom field name. Please "
                           "reference your WSDL or the describe call for the appropriate names.")


@dataclass
class Query:
    obj: str
    fields: list  # str paths or Query (subquery) or "COUNT()"
    where: object = None
    order: list = field(default_factory=list)
    limit: Optional[int] = None
    offset: int = 0


@dataclass
class TypeOf:
    """TYPEOF rel WHEN Type THEN fields ... [ELSE fields] END [SOQL reference "TYPEOF"]."""
    rel: str
    whens: list  # [(object name, [field paths])]
    otherwise: list  # ELSE field paths (fields of the Name object)


# The Name object: what a path through a polymorphic relationship (a lookup to several objects, e.g.
# PermissionSet.License, Task.What, Case.Owner) can read, whatever the parent's type [OBJREF Name: its fields, with
# ProfileId and UserRoleId relationship fields to Profile and UserRole; Field Reference "Name" adds Id, NameOrAlias
# and RecordTypeId]. Another field fails like on a real org: "No such column 'X' on entity 'Name'" (3P reports
# quoted in docs/emulator.md).
NAME_OBJECT = ObjectDef("Name", "Name", "")
for _name, _type in (("Alias", "string"), ("Email", "email"), ("FirstName", "string"), ("Id", "id"),
                     ("IsActive", "boolean"), ("LastName", "string"), ("LastReferencedDate", "datetime"),
                     ("LastViewedDate", "datetime"), ("MiddleName", "string"), ("Name", "string"),
                     ("NameOrAlias", "string"), ("Phone", "phone"), ("RecordTypeId", "reference"), ("Suffix", "string"),
                     ("Title", "string"), ("Type", "picklist"), ("Username", "string")):
    NAME_OBJECT.add(FieldDef(_name, _type, _name))
NAME_OBJECT.add(FieldDef("ProfileId", "reference", "ProfileId", reference_to=["Profile"], relationship_name="Profile"))
NAME_OBJECT.add(FieldDef("UserRoleId", "reference", "UserRoleId", reference_to=["UserRole"],
                         relationship_name="UserRole"))


def polymorphic(f: FieldDef) -> bool:
    return len(f.reference_to) > 1


def name_view(obj: ObjectDef, row: dict) -> dict:
    """The Name object's values for one parent record: Id, Type (the parent's object), Name (its name field) and the
    Name fields the parent has itself (a user's Username, Email, ...); the rest null."""
    name_field = obj.name_field or obj.field("Name")
    out = {f.name: row.get(f.name) if obj.field(f.name) else None for f in NAME_OBJECT.fields.values()}
    out.update(Id=row["Id"], Type=obj.name, Name=row.get(name_field.name) if name_field else None)
    out["NameOrAlias"] = out["Name"]
    return out


@dataclass
class QueryResult:
    records: list
    total_size: int


class Parser:
    def __init__(self, text: str):
        self.toks: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise malformed(f"unexpected token: '{text[pos:pos + 10].strip()}'")
            kind = m.lastgroup
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def kw(self, *words: str) -> bool:
        kind, val = self.peek()
        if kind == "word" and val.upper() in words:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            raise malformed(f"unexpected token: '{self.peek()[1] or 'EOF'}', expecting {word}")

    def expect(self, value: str) -> None:
        if self.peek()[1] != value:
            raise malformed(f"unexpected token: '{self.peek()[1] or 'EOF'}'")
        self.i += 1

    def query(self) -> Query:
        self.expect_kw("SELECT")
        fields = []
        while True:
            kind, val = self.peek()
            if val == "(":
                self.i += 1
                fields.append(self.query())
                self.expect(")")
            elif kind == "word" and val.upper() == "TYPEOF" and self.peek(1)[0] == "word":
                self.i += 1
                fields.append(self.typeof())
            elif kind == "word" and val.upper() == "COUNT" and self.peek(1)[1] == "(":
                self.i += 2
                self.expect(")")
                fields.append("COUNT()")
            elif kind == "word" and val.upper() != "FROM":
                self.i += 1
                fields.append(val)
            else:
                raise malformed(f"unexpected token: '{val or 'EOF'}'")
            if self.peek()[1] != ",":
                break
            self.i += 1
        self.expect_kw("FROM")
        kind, obj = self.peek()
        if kind != "word":
            raise malformed(f"unexpected token: '{obj or 'EOF'}'")
        self.i += 1
        q = Query(obj, fields)
        if self.kw("WHERE"):
            q.where = self.or_expr()
        if self.kw("ORDER"):
            self.expect_kw("BY")
            while True:
                path = self.peek()[1]
                self.i += 1
                desc = self.kw("DESC")
                if not desc:
                    self.kw("ASC")
                nulls_last = desc
                if self.kw("NULLS"):
                    nulls_last = self.kw("LAST")
                    if not nulls_last:
                        self.expect_kw("FIRST")
                q.order.append((path, desc, nulls_last))
                if self.peek()[1] != ",":
                    break
                self.i += 1
        if self.kw("LIMIT"):
            q.limit = self.integer()
        if self.kw("OFFSET"):
            q.offset = self.integer()
        return q

    def typeof(self) -> TypeOf:
        rel = self.peek()[1]
        self.i += 1
        whens = []
        while self.kw("WHEN"):
            kind, type_name = self.peek()
            if kind != "word":
                raise malformed(f"unexpected token: '{type_name or 'EOF'}'")
            self.i += 1
            self.expect_kw("THEN")
            whens.append((type_name, self.field_names()))
        if not whens:
            raise malformed(f"unexpected token: '{self.peek()[1] or 'EOF'}', expecting WHEN")
        otherwise = self.field_names() if self.kw("ELSE") else []
        self.expect_kw("END")
        return TypeOf(rel, whens, otherwise)

    def field_names(self) -> list[str]:
        names = []
        while True:
            kind, val = self.peek()
            if kind != "word" or val.upper() in ("WHEN", "ELSE", "END", "FROM"):
                raise malformed(f"unexpected token: '{val or 'EOF'}'")
            self.i += 1
            names.append(val)
            if self.peek()[1] != ",":
                return names
            self.i += 1

    def integer(self) -> int:
        kind, val = self.peek()
        if kind != "num":
            raise malformed(f"unexpected token: '{val or 'EOF'}'")
        self.i += 1
        return int(val)

    def or_expr(self):
        left = self.and_expr()
        while self.kw("OR"):
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self):
        left = self.not_expr()
        while self.kw("AND"):
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self):
        if self.kw("NOT"):
            return ("not", self.not_expr())
        if self.peek()[1] == "(":
            self.i += 1
            inner = self.or_expr()
            self.expect(")")
            return inner
        kind, path = self.peek()
        if kind != "word":
            raise malformed(f"unexpected token: '{path or 'EOF'}'")
        self.i += 1
        negate = self.kw("NOT")
        if self.kw("IN"):
            self.expect("(")
            if self.peek()[1].upper() == "SELECT":
                values = self.query()
            else:
                values = [self.value()]
                while self.peek()[1] == ",":
                    self.i += 1
                    values.append(self.value())
            self.expect(")")
            return ("in", path, values, negate)
        if negate:
            raise malformed("unexpected token: 'NOT'")
        if self.kw("LIKE"):
            return ("like", path, self.value())
        kind, op = self.peek()
        if kind != "op":
            raise malformed(f"unexpected token: '{op or 'EOF'}'")
        self.i += 1
        return ("cmp", path, op, self.value())

    def value(self):
        kind, val = self.peek()
        self.i += 1
        if kind == "str":
            return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), val[1:-1])
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "dl":
            return dates.literal(val)
        if kind == "dt":
            return val
        if kind == "word" and val.lower() in ("true", "false"):
            return val.lower() == "true"
        if kind == "word" and val.lower() == "null":
            return None
        raise malformed(f"unexpected token: '{val or 'EOF'}'")


class Evaluator:
    def __init__(self, source, query_all: bool):
        self.source = source
        self.query_all = query_all

    def obj(self, name: str) -> ObjectDef:
        obj = self.source.describe(name)
        if obj is None:
            raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported. If you are "
                                  "attempting to use a custom object, be sure to append the '__c' after the entity "
                                  "name. Please reference your WSDL or the describe call for the appropriate names.")
        return obj

    def parent(self, obj: ObjectDef, rel: str) -> Optional[tuple[FieldDef, ObjectDef]]:
        """The lookup named by relationship `rel` and what a path through it reads: the parent object, or the
        Name object for a polymorphic lookup (None: no such relationship)."""
        f = obj.relationship(rel)
        if f is None:
            return None
        return f, NAME_OBJECT if polymorphic(f) else self.obj(f.reference_to[0])

    def check_path(self, obj: ObjectDef, path: str) -> None:
        parts = path.split(".")
        cur = obj
        for rel in parts[:-1]:
            step = self.parent(cur, rel)
            if step is None:
                raise no_such_column(path, obj.name)
            cur = step[1]
        if cur.field(parts[-1]) is None:
            raise no_such_column(parts[-1], cur.name)

    def follow(self, f: FieldDef, target: ObjectDef, row: Optional[dict]) -> Optional[tuple[ObjectDef, dict, dict]]:
        """The parent record a lookup points at: (its object, its row, the row a path reads: the Name view for a
        polymorphic lookup); None when the lookup is empty."""
        ref = row.get(f.name) if row else None
        found = self.source.get(f.reference_to, ref) if ref else None
        if not found:
            return None
        pobj, prow = self.obj(found[0]), found[1]
        return pobj, prow, name_view(pobj, prow) if target is NAME_OBJECT else prow

    def resolve(self, obj: ObjectDef, row: dict, path: str):
        parts = path.split(".")
        cur_obj, cur_row = obj, row
        for rel in parts[:-1]:
            f, target = self.parent(cur_obj, rel)
            step = self.follow(f, target, cur_row)
            if step is None:
                return None
            cur_obj, cur_row = target, step[2]
        return cur_row.get(cur_obj.field(parts[-1]).name)

    def matches(self, obj: ObjectDef, row: dict, cond) -> bool:
        if cond is None:
            return True
        op = cond[0]
        if op == "and":
            return self.matches(obj, row, cond[1]) and self.matches(obj, row, cond[2])
        if op == "or":
            return self.matches(obj, row, cond[1]) or self.matches(obj, row, cond[2])
        if op == "not":
            return not self.matches(obj, row, cond[1])
        value = self.resolve(obj, row, cond[1])
        if op == "in":
            wanted = cond[2]
            if isinstance(wanted, Query):
                wanted = [r[wanted.fields[0]] if wanted.fields[0] in r else None
                          for r in self.rows(wanted, canonical_values=True)]
            hit = any(_eq(value, w) for w in wanted)
            return hit != cond[3]
        if op == "like":
            pattern = "^" + re.escape(str(cond[2])).replace("%", ".*").replace("_", ".") + "$"
            return value is not None and re.match(pattern, str(value), re.I | re.S) is not None
        _, _, comparator, literal = cond
        dated = dates.compare(value, comparator, literal, self.leaf(obj, cond[1]).type)
        if dated is not None:  # date literals, and date/datetime fields compared as instants (dates.py)
            return dated
        if comparator == "=":
            return _eq(value, literal)
        if comparator in ("!=", "<>"):
            return not _eq(value, literal)
        if value is None or literal is None:
            return False
        a, b = (value.lower(), literal.lower()) if isinstance(value, str) and isinstance(literal, str) else (value,
                                                                                                           literal)
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[comparator]

    def rows(self, q: Query, parent_filter=None, canonical_values: bool = False) -> list[dict]:
        obj = self.obj(q.obj)
        for f in q.fields:
            if isinstance(f, str) and f != "COUNT()":
                self.check_path(obj, f)
            elif isinstance(f, TypeOf):
                self._check_typeof(obj, f)
        self._check_where(obj, q.where)
        rows = [r for r in access.readable_rows(self.source, obj.name)  # the caller's read access (access.py)
                if (self.query_all or not r.get("IsDeleted")) and (parent_filter is None or parent_filter(r))
                and self.matches(obj, r, q.where)]
        for path, desc, nulls_last in reversed(q.order):
            self.check_path(obj, path)
            present = [r for r in rows if self.resolve(obj, r, path) is not None]
            absent = [r for r in rows if self.resolve(obj, r, path) is None]
            present.sort(key=lambda r: _key(self.resolve(obj, r, path)), reverse=desc)
            rows = present + absent if nulls_last else absent + present
        if canonical_values:
            return [{f: self.resolve(obj, r, f) for f in q.fields if isinstance(f, str)} for r in rows]
        return rows

    def _check_where(self, obj: ObjectDef, cond) -> None:
        if cond is None:
            return
        if cond[0] in ("and", "or"):
            self._check_where(obj, cond[1])
            self._check_where(obj, cond[2])
        elif cond[0] == "not":
            self._check_where(obj, cond[1])
        else:
            self.check_path(obj, cond[1])
            leaf = self.leaf(obj, cond[1])
            if not leaf.filterable:
                # INVALID_FIELD "field 'X' can not be filtered in a query call" (3P: texts quoted in
                # trailheadapps/lwc-recipes#926 and forcedotcom/SFDX-Data-Move-Utility#230).
                raise SalesforceError(400, "INVALID_FIELD", f"field '{leaf.name}' can not be filtered in a query call")

    def _check_typeof(self, obj: ObjectDef, t: TypeOf) -> None:
        """TYPEOF needs a polymorphic relationship and WHEN types it can point at; ELSE reads the Name object [SOQL
        reference "TYPEOF"]. The error texts are the emulator's."""
        step = self.parent(obj, t.rel)
        if step is None:
            raise no_such_column(t.rel, obj.name)
        f = step[0]
        if not polymorphic(f):
            raise malformed(f"TYPEOF needs a polymorphic relationship: '{t.rel}' is not one")
        for type_name, names in t.whens:
            if type_name.lower() not in {r.lower() for r in f.reference_to}:
                raise malformed(f"'{type_name}' is not a type that {obj.name}.{t.rel} can point at")
            for name in names:
                self.check_path(self.obj(type_name), name)
        for name in t.otherwise:
            self.check_path(NAME_OBJECT, name)

    def leaf(self, obj: ObjectDef, path: str):
        """The field a checked path ends on (Profile.Name -> Profile's Name)."""
        for rel in path.split(".")[:-1]:
            obj = self.parent(obj, rel)[1]
        return obj.field(path.split(".")[-1])

    def run(self, q: Query, parent_filter=None) -> QueryResult:
        obj = self.obj(q.obj)
        seen = set()
        for f in q.fields:
            key = f.lower() if isinstance(f, str) else id(f)
            if key in seen:
                raise malformed(f"duplicate field selected: {f}")
            seen.add(key)
        rows = self.rows(q, parent_filter)
        if q.fields == ["COUNT()"]:
            return QueryResult([], len(rows))
        total = len(rows)
        rows = rows[q.offset:]
        if q.limit is not None:
            rows = rows[:q.limit]
        return QueryResult([self.shape(obj, r, q.fields) for r in rows], total)

    def attributes(self, obj: ObjectDef, row: dict) -> dict:
        return {"type": obj.name, "url": f"/services/data/v{self.source.api_version}/sobjects/{obj.name}/{row['Id']}"}

    def shape(self, obj: ObjectDef, row: dict, fields: list) -> dict:
        out = {"attributes": self.attributes(obj, row)}
        for f in fields:
            if isinstance(f, TypeOf):
                self._place_typeof(out, obj, row, f)
                continue
            if isinstance(f, Query):
                rel = obj.child(f.obj)
                if rel is None:
                    raise SalesforceError(400, "INVALID_TYPE", f"Didn't understand relationship '{f.obj}' in FROM "
                                          "part of query call. If you are attempting to use a custom relationship, be "
                                          "sure to append the '__r' after the custom relationship name. Please "
                                          "reference your WSDL or the describe call for the appropriate names.")
                child = Query(rel.child_object, f.fields, f.where, f.order, f.limit, f.offset)
                res = self.run(child, lambda r, pid=row["Id"], fld=rel.field: r.get(fld) == pid)
                # Reference 2.4: an empty child subquery is null.
                out[rel.name] = {"totalSize": res.total_size, "done": True, "records": res.records} \
                    if res.records else None
                continue
            self._place(out, obj, row, f.split("."))
        return out

    def _place(self, out: dict, obj: ObjectDef, row: Optional[dict], parts: list[str]) -> None:
        if len(parts) == 1:
            fdef = obj.field(parts[0])
            out[fdef.name] = row.get(fdef.name) if row else None
            return
        f, target = self.parent(obj, parts[0])
        step = self.follow(f, target, row)
        if step is None:
            out.setdefault(f.relationship_name, None)
            return
        pobj, prow, view = step
        nested = out.get(f.relationship_name) or {"attributes": self.attributes(pobj, prow)}
        if target is NAME_OBJECT:
            nested["attributes"]["type"] = "Name"  # the parent's own URL, typed as the Name object
        out[f.relationship_name] = nested
        self._place(nested, target, view, parts[1:])

    def _place_typeof(self, out: dict, obj: ObjectDef, row: dict, t: TypeOf) -> None:
        """The WHEN branch of the parent's type (typed as that object), else ELSE's Name fields, else null."""
        f, _ = self.parent(obj, t.rel)
        step = self.follow(f, NAME_OBJECT, row)
        if step is None:
            out[f.relationship_name] = None
            return
        pobj, prow, view = step
        for type_name, names in t.whens:
            if type_name.lower() == pobj.name.lower():
                out[f.relationship_name] = self.shape(pobj, prow, names)
                return
        if not t.otherwise:
            out[f.relationship_name] = None
            return
        nested = {"attributes": dict(self.attributes(pobj, prow), type="Name")}
        for name in t.otherwise:
            self._place(nested, NAME_OBJECT, view, [name])
        out[f.relationship_name] = nested


def _eq(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # SOQL text comparison is case-insensitive
    return a == b


def _key(value):
    return value.lower() if isinstance(value, str) else value


def execute(soql: str, source, *, query_all: bool = False) -> QueryResult:
    try:
        parser = Parser(soql)
        q = parser.query()
        if parser.peek()[0] != "eof":
            raise malformed(f"unexpected token: '{parser.peek()[1]}'")
        return Evaluator(source, query_all).run(q)
    except SalesforceError as error:
        raise located(soql, error) from None


QUOTED_RE = re.compile(r"(?<![A-Za-z])'([^']+)'")  # not the apostrophe of "Didn't"


def located(soql: str, error: SalesforceError) -> SalesforceError:
    """Prefix a query error with the offending line, a caret and ``ERROR at Row:R:Column:C``.

    The shape is what Salesforce sends for INVALID_FIELD / MALFORMED_QUERY / INVALID_TYPE (3P: error
    texts quoted in forcedotcom/soql-tooling#86 and forcedotcom/cli#1356); Salesforce may show only a
    window of a long line, here the whole line is shown (simplified, docs/emulator.md).
    """
    quoted = QUOTED_RE.search(error.message)
    if error.message.startswith("\n") or quoted is None:
        return error
    name = quoted.group(1)
    found = re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", soql, re.I)
    if found is None:
        return error
    row = soql.count("\n", 0, found.start()) + 1
    line_start = soql.rfind("\n", 0, found.start()) + 1
    line_end = soql.find("\n", found.start())
    line = soql[line_start:line_end if line_end >= 0 else len(soql)]
    column = found.start() - line_start + 1
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{error.message}"
    return SalesforceError(error.status, error.error_code, message, error.fields)
