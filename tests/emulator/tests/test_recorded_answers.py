"""Answers recorded from orgs, replayed against the emulator (docs/emulator.md, "Answers recorded from real orgs").

Each file of recorded/ is a report of the org probe (playbooks/verify_org.yml, format sfops-org-probe/1). Its
exchanges are sent again, in order, to a fresh emulated org, with this run's names and ids in place of the
placeholders, as raw REST and Metadata SOAP requests; the test fails where the emulator answers differently:
ok, HTTP status and error code always, the values a question checks, the message where the exchange marks it
significant. Cleanup exchanges are sent but not compared. A failure names the file, the question and the step.
"""
from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from contract import OrgClient, start_emulator, stop_emulator
from test_eca_contract import MD, SOAP, XSI, Metadata, _xml, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from collection_path import ensure_collection_path  # noqa: E402

ensure_collection_path()
from ansible_collections.sfops.integration.plugins.module_utils import probe_catalogue as catalogue  # noqa: E402

RECORDED = Path(__file__).resolve().parent / "recorded"
FILES = sorted(RECORDED.glob("*.json"))
COMPARED = ("ok", "status", "errorCode")


@pytest.fixture(scope="module")
def orgs(tmp_path_factory):
    """One emulated org per recorded file, with room for the probe's user."""
    proc, info = start_emulator(tmp_path_factory.mktemp("recorded"), orgs=max(1, len(FILES)))
    clients = []
    for org in info["orgs"]:
        client = OrgClient(info, org)
        r = client.admin("POST", "settings", json={"license_seats": {"Salesforce Integration": 50}})
        assert r.status_code == 200, r.text
        clients.append(client)
    yield clients
    stop_emulator(proc)


# ---- sending one exchange as raw HTTP -------------------------------------------------------------------


def rest_answer(org, request):
    r = org.rest(request["method"], request["path"], params=request.get("params"), json=request.get("body"))
    body = r.json() if r.content else None
    if r.status_code < 300:
        return dict(ok=True, status=r.status_code, errorCode=None, message=None), body
    first = body[0] if isinstance(body, list) and body else {}
    return dict(ok=False, status=r.status_code, errorCode=first.get("errorCode"), message=first.get("message")), body


def _value(element):
    if len(element):
        return dict((child.tag.split("}")[-1], _value(child)) for child in element)
    value = element.text
    return {"true": True, "false": False}.get(value, int(value) if value and value.isdigit() else value)


def metadata_answer(md, request, prefix):
    operation, md_type = request["operation"], request["type"]
    if operation == "list":
        inner = f"<ns0:queries><ns0:type>{md_type}</ns0:type></ns0:queries><ns0:asOfVersion>62.0</ns0:asOfVersion>"
    elif operation in ("read", "delete"):
        names = "".join(f"<ns0:fullNames>{_xml(name)}</ns0:fullNames>" for name in request["names"])
        inner = f"<ns0:type>{md_type}</ns0:type>{names}"
    else:
        inner = (f'<ns0:metadata xmlns:xsi="{XSI}" xsi:type="ns0:{md_type}">'
                 + "".join(f"<ns0:{k}>{_xml(v)}</ns0:{k}>" for k, v in request["record"].items()) + "</ns0:metadata>")
    status, root = md.call(f"{operation}Metadata", inner)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    if fault is not None:
        code = (fault.findtext("faultcode") or "").split(":")[-1]
        return dict(ok=False, status=status, errorCode=code, message=fault.findtext("faultstring")), None
    results = root.find(f"{{{SOAP}}}Body/{{{MD}}}{operation}MetadataResponse").findall(f"{{{MD}}}result")
    if operation == "list":
        names = sorted(n for n in (text(r, "fullName") for r in results) if n.lower().startswith(prefix.lower()))
        return dict(ok=True, status=None), dict(fullNames=names)
    if operation == "read":
        records = [_value(r) for r in results[0].findall(f"{{{MD}}}records") if r.get(f"{{{XSI}}}nil") != "true"]
        return dict(ok=True, status=None), dict(records=records)
    if text(results[0], "success") == "true":
        return dict(ok=True, status=None, errorCode=None, message=None), dict(success=True)
    error = results[0].find(f"{{{MD}}}errors")
    return dict(ok=False, status=None, errorCode=text(error, "statusCode"), message=text(error, "message")), None


# ---- replaying a report ------------------------------------------------------------------------------------


def replay(org, report):
    """[difference] between the recorded answers and the emulator's, each naming the question and the step."""
    md = Metadata(org)
    values = catalogue.prefix_values(catalogue.DEFAULT_PREFIX, uuid.uuid4().hex[:8],
                                     (report.get("values") or {}).get("email") or "sfops-probe@example.com")
    values["caller_id"] = org.org["user_id"]
    found = []
    for exchange in report["exchanges"]:
        where = "%s / %s" % (exchange["owner"], exchange["step"])
        absent = catalogue.missing(exchange["request"], values)
        if absent:
            if exchange["owner"] != "cleanup":
                found.append("%s: not sent, the emulator's earlier answers gave no %s" % (where, ", ".join(absent)))
            continue
        request = catalogue.substitute(exchange["request"], values)
        if request["api"] == "metadata":
            answer, body = metadata_answer(md, request, values["prefix"])
        else:
            answer, body = rest_answer(org, request)
        for name, path in (exchange.get("save") or {}).items():  # as the probe does: a refusal saves nothing
            values[name] = catalogue.extract(body, path) if answer["ok"] else None
        if exchange["owner"] == "cleanup":
            continue
        recorded = exchange["answer"]
        answer["values"] = dict((path, catalogue.extract(body, path)) for path in recorded.get("values") or {})
        answer = catalogue.templated(answer, values)
        keys = COMPARED + tuple(k for k in exchange.get("significant") or [] if k not in COMPARED)
        found += ["%s: %s is %r, recorded %r" % (where, key, answer.get(key), recorded.get(key))
                  for key in keys if answer.get(key) != recorded.get(key)]
        found += ["%s: %s is %r, recorded %r" % (where, path, answer["values"].get(path), value)
                  for path, value in sorted((recorded.get("values") or {}).items()) if answer["values"].get(path) != value]
    return found


@pytest.mark.parametrize("index", range(len(FILES)), ids=[path.name for path in FILES])
def test_the_emulator_answers_as_the_org_did(orgs, index):
    report = json.loads(FILES[index].read_text())
    assert report.get("format") == catalogue.FORMAT, "%s: format %r" % (FILES[index].name, report.get("format"))
    assert report["exchanges"], "%s has no exchanges" % FILES[index].name
    differences = replay(orgs[index], report)
    assert not differences, "%s (%s):\n%s" % (FILES[index].name, report.get("org"), "\n".join(differences))


def test_a_different_answer_is_caught(orgs):
    """A recorded answer the emulator does not give fails the replay, naming the step (the test can fail)."""
    report = json.loads(FILES[0].read_text())
    for exchange in report["exchanges"]:
        if exchange["owner"] == "permission_set_duplicate_name":
            exchange["answer"] = dict(exchange["answer"], ok=True, status=201, errorCode=None)
    differences = replay(orgs[0], report)
    assert differences and all(d.startswith("permission_set_duplicate_name / ") for d in differences), differences
    assert any("errorCode is 'DUPLICATE_DEVELOPER_NAME', recorded None" in d for d in differences), differences


DOC = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"
# How an unverified row of docs/emulator.md says whether the collection relies on it (the row's last words).
MARKS = re.compile(r" — (probe: (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*)|not relied on: \S|relied on, not probed: \S)")


def unverified_lines():
    """(line number, section heading, line) of every line of docs/emulator.md after its introduction that says
    UNVERIFIED: the fidelity rows, the license choices and the fresh org's list."""
    lines = DOC.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("## "))
    section, found = None, []
    for number, line in enumerate(lines, 1):
        if line.startswith("## ") or line.startswith("### "):
            section = line.lstrip("#").strip()
        if number > first and "UNVERIFIED" in line:
            found.append((number, section, line))
    return found


def the_row(section, rule):
    """The one line of docs/emulator.md that is the row ``rule`` of the section starting ``section``."""
    lines = DOC.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("### " + section)), None)
    assert start is not None, "no section %r" % section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("### ")), len(lines))
    rows = [i + 1 for i in range(start, end) if lines[i].startswith("| " + rule)]
    assert len(rows) == 1, "%d rows of %r start with %r" % (len(rows), section, rule)
    return rows[0], lines[rows[0] - 1]


def test_every_question_names_an_unverified_or_recorded_row_of_docs_emulator_md():
    """Each question of the catalogue points at rows of docs/emulator.md marked UNVERIFIED or citing a recording,
    and each of those rows names the question back."""
    for probe in catalogue.PROBES:
        for section, rule in catalogue.rows(probe):
            _number, row = the_row(section, rule)
            assert "UNVERIFIED" in row or "recorded/" in row, "%s: %r is neither UNVERIFIED nor recorded" % (
                probe["name"], rule)
            if "UNVERIFIED" in row:
                assert "`%s`" % probe["name"] in "".join(m.group(2) or "" for m in MARKS.finditer(row)), \
                    "%s: the row %r does not name it after 'probe:'" % (probe["name"], rule)


def test_every_unverified_row_says_whether_the_collection_relies_on_it():
    """Every UNVERIFIED line carries one mark: ``probe: `question` `` (a question pointing back at that row),
    ``not relied on: <why>`` or ``relied on, not probed: <why>``."""
    lines = unverified_lines()
    assert len(lines) > 70  # the rows of the fidelity table and the license choices
    asked = dict((name, []) for name in catalogue.PROBE_NAMES)
    for probe in catalogue.PROBES:
        for section, rule in catalogue.rows(probe):
            asked[probe["name"]].append(the_row(section, rule)[0])
    unmarked, wrong = [], []
    for number, section, line in lines:
        marks = list(MARKS.finditer(line))
        if not marks:
            unmarked.append("line %d (%s): %s" % (number, section, line[:80]))
        for mark in marks:
            for name in re.findall(r"`([a-z0-9_]+)`", mark.group(2) or ""):
                if number not in asked.get(name, []):
                    wrong.append("line %d (%s): question %r %s" % (
                        number, section, name, "does not point back at this row" if name in asked else "does not exist"))
    assert not unmarked, "UNVERIFIED lines without a mark:\n" + "\n".join(unmarked)
    assert not wrong, "\n".join(wrong)


def test_the_example_is_the_emulator_s_own():
    """The shipped example was made by the probe against the emulator: every question held."""
    example = json.loads((RECORDED / "emulator-example.json").read_text())
    assert example["summary"] == {"holds": len(catalogue.PROBES)}, example["summary"]
    assert set(p["name"] for p in example["probes"]) == set(catalogue.PROBE_NAMES)
