"""sf_integration_audit's request budget (issue 19) through a real ansible-playbook run: requests grow with pages only.

The audit reads with seven queries in two composite requests; only the queries' later pages (GET nextRecordsUrl,
2,000 rows each) add requests. Here the same audit runs on an org with only its administrator, then on the org of
`make bench` (2,000 users, 50,000 login-history rows in the window, 1,000 setup changes, seeded through the
emulator's admin API by tests/bench/audit_bench.py): both runs take exactly one login, two composite requests and
one request per further page of each query, and stay within the budgets (10 for a small org, 40 for the big one).
"""
from __future__ import annotations

import math
import os
import sys

import pytest

from collection_path import REPO
from harness import RawOrg, connection_args, own_emulator, run_playbook

sys.path.insert(0, os.path.join(REPO, "tests", "bench"))
import audit_bench  # noqa: E402  (the bench's org: the same population, login history and setup changes)

from ansible_collections.sfops.integration.plugins.modules.sf_integration_audit import queries  # noqa: E402

AUDIT = "sfops.integration.sf_integration_audit"
PAGE = 2000  # rows in a query page when no batchSize is asked for [RESTREF Query Options header]
ORG = "org1"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from own_emulator(tmp_path_factory, "audit-budget-emulator")


def audit(emulator, tmp_path):
    """(module result, the org's request log) of one audit, window as in the bench."""
    tmp_path.mkdir()
    emulator.clear_requests(ORG)
    run = run_playbook(tmp_path, [{"name": "audit", AUDIT: dict(connection_args(emulator, ORG),
                                                                window_days=audit_bench.WINDOW_DAYS)}])
    result = run["audit"]
    assert not result.get("failed"), result
    return result, emulator.requests(ORG)


def further_pages(emulator):
    """Requests the audit's queries need beyond their first page, from each query's row count (totalSize)."""
    raw = RawOrg(emulator, ORG)
    sizes = dict((ref, raw.call("GET", "query", params={"q": text})["totalSize"])
                 for ref, text in queries(audit_bench.WINDOW_DAYS).items())
    return sum(max(math.ceil(size / PAGE), 1) - 1 for size in sizes.values()), sizes


def check_shape(result, log, pages):
    logins = [entry for entry in log if entry["kind"] == "login"]
    composites = [entry for entry in log if entry["method"] == "POST" and entry["path"].endswith("/composite")]
    next_pages = [entry for entry in log if entry["method"] == "GET" and "/query/" in entry["path"]]
    assert (len(logins), len(composites), len(next_pages)) == (1, 2, pages), log
    assert len(log) == result["api_requests"] == 3 + pages
    assert sum(entry["writes"] for entry in log) == 0


def test_requests_grow_with_query_pages_only(emulator, tmp_path):
    small, small_log = audit(emulator, tmp_path / "small")
    pages, sizes = further_pages(emulator)
    assert pages == 0, sizes
    check_shape(small, small_log, pages)
    assert len(small_log) <= 10

    seeded = audit_bench.seed(emulator, ORG)
    assert (seeded["users"], seeded["login_rows"]) == (audit_bench.USERS + 1, audit_bench.LOGIN_ROWS)
    big, big_log = audit(emulator, tmp_path / "big")
    pages, sizes = further_pages(emulator)
    # 2,001 users (two pages), 50,000 seeded logins and the logins of this test (26 pages); the rest fit one page
    assert sizes["users"] == audit_bench.USERS + 1 and sizes["logins"] > audit_bench.LOGIN_ROWS, sizes
    assert pages == (2 - 1) + (math.ceil(sizes["logins"] / PAGE) - 1) == 26, sizes
    check_shape(big, big_log, pages)
    assert len(big_log) <= 40
    # the audit read every row: its counts are the rows of the queries, not a sample
    assert big["counts"]["users"] == sizes["users"] and big["counts"]["login_history_rows"] >= audit_bench.LOGIN_ROWS
    assert big["summary"]["total"] > small["summary"]["total"]
