"""The org probe's catalogue and exchange format (no org): placeholders, paths, templating, comparing answers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sfops.integration.plugins.filter.org_probe_report import org_probe_report
from ansible_collections.sfops.integration.plugins.module_utils import probe_catalogue as catalogue

EXAMPLE = Path(__file__).resolve().parents[4] / "tests" / "emulator" / "tests" / "recorded" / "emulator-example.json"


def test_names_are_unique_and_every_question_says_what_it_asks_and_why():
    assert len(set(catalogue.PROBE_NAMES)) == len(catalogue.PROBES)
    for probe in catalogue.PROBES:
        assert probe["question"].endswith("?") and probe["relied_on"] and probe["steps"], probe["name"]
        assert any(step.get("expect") for step in probe["steps"]), probe["name"]
        assert set(probe.get("needs") or []) <= set(catalogue.FIXTURES), probe["name"]


def test_placeholders_missing_substituted_and_kept_when_unknown():
    request = catalogue.permission_set("${prefix}_Set", LicenseId="${psl_id}")
    assert catalogue.missing(request, dict(prefix="P_1")) == ["psl_id"]
    sent = catalogue.substitute(request, dict(prefix="P_1", psl_id="0PL"))
    assert sent["body"]["Name"] == "P_1_Set" and sent["body"]["Label"] == "P_1 Set" and sent["body"]["LicenseId"] == "0PL"
    assert catalogue.substitute("${unknown} stays", {}) == "${unknown} stays"
    assert catalogue.permission_set("${prefix_lower}_set")["body"]["Label"] == "${prefix_lower} set"


def test_extract_paths():
    body = dict(records=[dict(Profile=dict(PermissionsApiUserOnly=False), Id="005")], totalSize=1)
    assert catalogue.extract(body, "records[0].Profile.PermissionsApiUserOnly") is False
    assert catalogue.extract(body, "totalSize") == 1
    assert catalogue.extract(body, "records[1].Id") is None and catalogue.extract(None, "id") is None


def test_templated_puts_the_run_s_own_values_back_longest_first_and_15_character_ids_too():
    values = dict(catalogue.prefix_values("SFOPS_PROBE", "ab12cd34", "ops@example.com"), set_id="0PSHz000000001LOAQ",
                  edition="Enterprise Edition", caller_username="admin@acme.com")
    assert values["username"] == "sfops.probe.ab12cd34@example.com"
    answer = dict(message="duplicate of 0PSHz000000001L in SFOPS_PROBE_ab12cd34_Set for admin@acme.com, Enterprise Edition")
    assert catalogue.templated(answer, values) == dict(
        message="duplicate of ${set_id} in ${prefix}_Set for ${caller_username}, Enterprise Edition")


def test_differences():
    expected = dict(ok=False, errorCode="DUPLICATE_VALUE", values={"totalSize": 0})
    assert catalogue.differences(expected, dict(ok=False, errorCode="DUPLICATE_VALUE", values={"totalSize": 0})) == []
    found = catalogue.differences(expected, dict(ok=True, errorCode=None, values={"totalSize": 1}))
    assert found == ["errorCode is None, expected 'DUPLICATE_VALUE'", "ok is True, expected False",
                     "totalSize is 1, expected 0"]


def test_report_filter_markdown_and_lines():
    report = json.loads(EXAMPLE.read_text())
    result = dict(report=report, org=report["org"], run_id=report["run_id"], api_requests=49,
                  probes=[dict(p, steps=[dict(step="create", sent="POST sobjects/PermissionSet X",
                                              answer=dict(ok=False, status=400, errorCode="DUPLICATE_VALUE",
                                                          message="duplicate value found", values={}))])
                          for p in report["probes"]],
                  cleanup=dict(done=["DELETE sobjects/PermissionSet/0PS1"], failed=["PATCH sobjects/User/0051: x"]))
    markdown = org_probe_report(result, "markdown", "acme_dev")
    assert markdown.startswith("# Org probe: acme_dev\n\nEnterprise Edition, sandbox; run ")
    assert "| eca_preauthorise_by_ids | holds | External Client Apps: `commaSeparatedPermissionSet`: ids |" in markdown
    assert "- create: `POST sobjects/PermissionSet X` -> refused 400 DUPLICATE_VALUE: duplicate value found" in markdown
    assert "**left behind, remove by hand**: PATCH sobjects/User/0051: x" in markdown
    lines = org_probe_report(dict(probes=[dict(name="a", outcome="planned", reason=None, steps=["POST x"]),
                                          dict(name="b", outcome="skipped", reason="no seat", steps=[])]))
    assert lines == ["a: planned", "b: skipped (no seat)", "  a would send: POST x"]
    with pytest.raises(AnsibleFilterError):
        org_probe_report([], "markdown")
    with pytest.raises(AnsibleFilterError):
        org_probe_report({}, "html")
