"""The SOQL the modules use: a tokenizer, a recursive-descent parser and an evaluator.

Supported: field lists with parent paths (Profile.Name) and child subqueries, COUNT(), WHERE with
= != <> < > <= >= IN, NOT IN (values or a semi-join subselect), LIKE, AND, OR, NOT, parentheses,
string/number/boolean/null/date literals, ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET.
Error codes per reference 2.3 (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE); message wording beyond
the quoted parts is UNVERIFIED.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .model import ObjectDef, SalesforceError

TOKEN_RE = re.compile(r"""\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<dt>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))?)
                          |(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])
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

    def check_path(self, obj: ObjectDef, path: str) -> None:
        parts = path.split(".")
        cur = obj
        for rel in parts[:-1]:
            f = cur.relationship(rel)
            if f is None:
                raise no_such_column(path, obj.name)
            cur = self.obj(f.reference_to[0])
        if cur.field(parts[-1]) is None:
            raise no_such_column(parts[-1], cur.name)

    def resolve(self, obj: ObjectDef, row: dict, path: str):
        parts = path.split(".")
        cur_obj, cur_row = obj, row
        for rel in parts[:-1]:
            f = cur_obj.relationship(rel)
            ref = cur_row.get(f.name) if cur_row else None
            found = self.source.get(f.reference_to, ref) if ref else None
            if not found:
                return None
            cur_obj, cur_row = self.obj(found[0]), found[1]
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
        self._check_where(obj, q.where)
        rows = [r for r in self.source.rows(obj.name)
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

    def leaf(self, obj: ObjectDef, path: str):
        """The field a checked path ends on (Profile.Name -> Profile's Name)."""
        for rel in path.split(".")[:-1]:
            obj = self.obj(obj.relationship(rel).reference_to[0])
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
        f = obj.relationship(parts[0])
        ref = row.get(f.name) if row else None
        found = self.source.get(f.reference_to, ref) if ref else None
        if not found:
            out.setdefault(f.relationship_name, None)
            return
        pobj = self.obj(found[0])
        nested = out.get(f.relationship_name) or {"attributes": self.attributes(pobj, found[1])}
        out[f.relationship_name] = nested
        self._place(nested, pobj, found[1], parts[1:])


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
