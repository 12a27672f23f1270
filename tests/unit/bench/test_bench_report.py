"""The benchmark's pure parts with made-up numbers: targets, the Markdown page, request accounting,
the floor playbook and import-time parsing (tests/bench)."""
from __future__ import annotations

import copy
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench")
sys.path.insert(0, BENCH)

import benchlib  # noqa: E402
import floor  # noqa: E402
import importtime  # noqa: E402
import report  # noqa: E402


def counts(total, logins=1, writes=0, records=0, seconds=None):
    result = dict(total=total, logins=logins, reads=total - logins - writes, writes=writes, records_written=records)
    if seconds is not None:
        result["seconds"] = seconds
    return result


GOOD = dict(
    meta=dict(date="2026-01-02 03:04 UTC", cpu_count=2, python="3.13.0", ansible_core="2.21.5", latency_ms=150,
              mode="full"),
    requests=dict(apply=counts(20, writes=9, records=120, seconds=30.5), rerun=counts(10, seconds=20.0),
                  check=counts(9, seconds=19.0), record_by_record=counts(115, writes=105, records=109)),
    ratio_vs_record_by_record=0.174,
    max_logins_per_org_run=1,
    rollout=dict(orgs=20, forks=10, seconds=60.0, floor_seconds=50.0, floor_runs=[49.0, 50.0, 52.0], ratio=1.2,
                 per_org=dict(("org%d" % i, counts(20 + i % 2)) for i in range(4, 24)),
                 shape=[dict(play="Roll out", tasks=12, module_runs=180, controller_runs=40)],
                 slowest_tasks=[dict(name="Ensure the users", action="sfops.integration.sf_integration_user", runs=40,
                                     seconds=9.5, floor_seconds=2.25)]),
    imports=dict(sf_session=dict(median_ms=130.2, min_ms=120.0, baseline_ms=57.0,
                                 heaviest=[dict(package="simple_salesforce", median_ms=44.0)])),
    audit=dict(big=dict(counts(27, seconds=12.5), findings=dict(high=30, medium=70, low=12, info=0)),
               small=dict(counts(3, seconds=4.0), findings=dict(high=0, medium=0, low=0, info=0)),
               seeded=dict(users=2001, login_rows=50000, setup_changes=1000, seconds=15.2)),
)


def by_id(rows):
    return dict((row["id"], row) for row in rows)


def test_every_target_passes_with_good_numbers():
    rows = report.evaluate(GOOD)
    assert [row["status"] for row in rows] == ["pass"] * len(report.TARGETS)
    assert by_id(rows)["vs_record_by_record"]["now"] == "0.17"
    assert by_id(rows)["noop_rerun_writes"]["now"] == "0 / 0"


@pytest.mark.parametrize("change, target", [
    (lambda r: r["requests"]["apply"].update(total=26), "fresh_apply_requests"),
    (lambda r: r["requests"]["rerun"].update(total=13), "noop_rerun_requests"),
    (lambda r: r["requests"]["rerun"].update(records_written=1), "noop_rerun_writes"),
    (lambda r: r["requests"]["check"].update(writes=1), "check_mode_writes"),
    (lambda r: r.update(ratio_vs_record_by_record=0.21), "vs_record_by_record"),
    (lambda r: r.update(max_logins_per_org_run=2), "one_login_per_org"),
    (lambda r: r["rollout"].update(ratio=1.51), "rollout_vs_floor"),
    (lambda r: r["audit"]["small"].update(total=11), "audit_small_requests"),
    (lambda r: r["audit"]["big"].update(total=41), "audit_big_requests"),
])
def test_each_target_misses_alone(change, target):
    results = copy.deepcopy(GOOD)
    change(results)
    rows = by_id(report.evaluate(results))
    assert rows[target]["status"] == "MISS"
    assert [row_id for row_id, row in rows.items() if row["status"] != "pass"] == [target]


def test_a_miss_shows_its_explanation_or_asks_for_one(monkeypatch):
    results = copy.deepcopy(GOOD)
    results["rollout"]["ratio"] = 2.5
    monkeypatch.setitem(report.EXPLANATIONS, "rollout_vs_floor", "")
    assert by_id(report.evaluate(results))["rollout_vs_floor"]["why"] == report.NO_EXPLANATION
    monkeypatch.setitem(report.EXPLANATIONS, "rollout_vs_floor", "Each task imports zeep; import it lazily.")
    page = report.render_markdown(results)
    assert "| Rollout wall time / Ansible's floor | <= 1.50 | 2.50 | MISS | Each task imports zeep" in page
    assert "8 of 9 targets met; 1 missed." in page


def test_missing_measurements_are_not_measured_not_failed():
    rows = report.evaluate(dict(meta={}, requests=dict(apply=counts(20))))
    assert by_id(rows)["fresh_apply_requests"]["status"] == "pass"
    assert set(row["status"] for row in rows[1:]) == {"not measured"}
    page = report.render_markdown(dict(meta={}, requests={}, error="the role is missing"))
    assert "**The run stopped early:** the role is missing" in page and "not measured" in page


def test_page_has_date_cores_and_every_section():
    page = report.render_markdown(GOOD)
    assert "Measured on 2026-01-02 03:04 UTC on a machine with 2 CPU cores" in page
    assert "with 150 ms of latency" in page
    assert "| Apply on a fresh org | 1 | 10 | 9 | 120 | **20** | 30.5 s |" in page
    assert "| Rollout of S1 to 20 fresh orgs, forks 10 | 60.0 s |" in page
    assert "| API requests per org (min / max) | 20 / 21 |" in page
    # the before column comes from the table measured once (imports_before.py), the rest from the results
    assert "| `sf_session` | %.0f ms | 130 ms | 120 ms | simple_salesforce 44 ms |" % report.imports_before.BEFORE_MIN_MS[
        "sf_session"] in page
    assert "at commit %s" % report.imports_before.COMMIT in page
    assert "| Ensure the users | `sfops.integration.sf_integration_user` | 40 | 9.5 s | 2.2 s |" in page
    assert "9 of 9 targets met." in page
    assert "| 2001 users, 50000 login-history rows and 1000 setup changes in the 30-day window | 1 | 26 | 0 | **27** " \
           "| 12.5 s | 30 / 70 / 12 / 0 |" in page


def test_request_accounting():
    log = [
        dict(method="POST", path="/services/oauth2/token", status=200, kind="login", writes=0),
        dict(method="GET", path="/services/data/v60.0/query", status=200, kind="rest", writes=0),
        dict(method="POST", path="/services/data/v60.0/composite", status=200, kind="rest", writes=0),
        dict(method="POST", path="/services/data/v60.0/composite", status=200, kind="rest", writes=3),
        dict(method="POST", path="/services/data/v60.0/composite/sobjects/User", status=200, kind="rest", writes=0),
        dict(method="POST", path="/services/data/v60.0/sobjects/User", status=400, kind="rest", writes=0),
        dict(method="DELETE", path="/services/data/v60.0/composite/sobjects", status=200, kind="rest", writes=2),
        dict(method="POST", path="/services/Soap/m/60.0", status=200, kind="metadata", writes=0),
        dict(method="POST", path="/services/Soap/m/60.0", status=200, kind="metadata", writes=1),
    ]
    assert benchlib.classify(log) == dict(total=9, logins=1, reads=4, writes=4, records_written=6)
    assert benchlib.add_counts([counts(3), counts(4, writes=1, records=2)]) == dict(
        total=7, logins=2, reads=4, writes=1, records_written=2)


def test_scenario_is_s1_and_renders_per_org():
    scenario = benchlib.render_for_org(benchlib.load_scenario(), "org7")
    assert len(scenario["sf_integrations"]) == 2
    # 8 objects each, every field permission Salesforce lets a set hold on them (34 and 37), 3 system permissions.
    for integration, fields in zip(scenario["sf_integrations"], (34, 37)):
        assert integration["user"]["username"].endswith("@acme.example.org7")
        (pset,) = integration["permission_sets"]
        assert (len(pset["object_permissions"]), len(pset["field_permissions"]), len(pset["system_permissions"])) \
            == (8, fields, 3)
        objects = set(entry["object"] for entry in pset["object_permissions"])
        assert set(entry["field"].split(".")[0] for entry in pset["field_permissions"]) <= objects
    with pytest.raises(benchlib.BenchError):
        benchlib.render_for_org({"a": "{{ other }}"}, "org1")


TRACE = dict(plays=[dict(name="Roll out", hosts="all", serial=[2], gather_facts=None, strategy="linear", tasks=[
    dict(name="Gathering Facts", action="gather_facts", run_once=False, loop=False, handler=False,
         hosts=dict(org1=dict(status="ok", runs=1))),
    dict(name="Validating arguments", action="ansible.builtin.validate_argument_spec", run_once=False, loop=False,
         handler=False, hosts=dict(org1=dict(status="ok", runs=1), org2=dict(status="ok", runs=1))),
    dict(name="Include", action="ansible.builtin.include_tasks", run_once=False, loop=False, handler=False,
         hosts=dict(org1=dict(status="ok", runs=1))),
    dict(name="Users", action="sfops.integration.sf_integration_user", run_once=False, loop=True, handler=False,
         hosts=dict(org1=dict(status="ok", runs=2), org2=dict(status="skipped", runs=0))),
    dict(name="Report", action="ansible.builtin.copy", run_once=True, loop=False, handler=False,
         hosts=dict(org1=dict(status="ok", runs=1))),
])])


def test_floor_playbook_copies_the_shape():
    (play,), (summary,) = floor.floor_playbook(TRACE)
    assert play["hosts"] == "all" and play["serial"] == [2] and play["gather_facts"] is True
    validate, users, report_task = play["tasks"]
    assert validate["ansible.builtin.debug"] and validate["vars"]["floor_runs"] == dict(org1=1, org2=1)
    assert "ansible.builtin.ping" in users and users["vars"]["floor_runs"] == dict(org1=2)
    assert users["loop"] == "{{ range(floor_runs[inventory_hostname] | default(0)) | list }}"
    assert users["when"] == "inventory_hostname in floor_runs"
    assert report_task["run_once"] is True and "loop" not in report_task
    assert summary == dict(play="Roll out", tasks=3, module_runs=3, controller_runs=2)


def test_floor_profile_pairs_tasks_with_their_stand_ins():
    trace = copy.deepcopy(TRACE)
    for seconds, task in zip([1.0, 0.5, 0.1, 6.0, 0.4], trace["plays"][0]["tasks"]):
        task["seconds"] = seconds
    (play,), _summary = floor.floor_playbook(TRACE)
    stand_ins = [dict(name=t["name"], seconds=s) for t, s in zip(play["tasks"], [0.45, 1.0, 0.2])]
    floor_trace = dict(plays=[dict(tasks=stand_ins + [dict(name="Gathering Facts", seconds=3.0)])])
    rows = floor.profile(trace, floor_trace, most=2)
    assert [(r["name"], r["seconds"], r["floor_seconds"], r["runs"]) for r in rows] == [
        ("Users", 6.0, 1.0, 2), ("Report", 0.4, 0.2, 1)]


def test_importtime_parsing():
    stderr = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       100 |        100 |   json.decoder",
        "import time:       200 |        300 | ansible.module_utils.basic",
        "import time:        50 |         50 |       urllib3.util",
        "import time:       100 |        150 |     urllib3",
        "import time:       400 |        550 |   requests",
        "import time:        20 |         20 |     requests.compat",
        "import time:        30 |         50 |   requests.sessions",
        "import time:        10 |        610 | ansible_collections.sfops.integration.plugins.modules.sf_session",
    ])
    rows = importtime.parse_importtime(stderr)
    assert rows[0] == (1, "json.decoder", 100) and rows[2] == (3, "urllib3.util", 50)
    total, packages = importtime.added_after(rows, importtime.BASIC)
    assert total == 610
    assert packages == dict(requests=600, urllib3=150, ansible_collections=610)
    assert importtime.baseline_us(rows, importtime.BASIC) == 300
