"""Import time of each module of the collection, on top of what every Ansible module imports.

Every task starts a fresh Python process that imports its module and the module_utils it uses,
so that cost is paid per task and per host. For each plugins/modules/*.py this runs
``python -X importtime -c "import ansible.module_utils.basic; import <module>"`` several times
and takes the median of what the second import adds (the cumulative time of the top-level imports
after ``ansible.module_utils.basic``), with the heaviest packages it pulls in (each package's time
includes the packages it imports itself, so they overlap). The cost of
``ansible.module_utils.basic`` itself, which any module (the floor's ping too) pays, is reported
as the baseline.

Run on its own it prints the timings as JSON; ``--collections DIR`` times another copy of the
collection (for example one exported from an earlier commit, to compare before and after).
"""
from __future__ import annotations

import glob
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import COLLECTIONS, REPO  # noqa: E402

BASIC = "ansible.module_utils.basic"
PACKAGE = "ansible_collections.sfops.integration.plugins.modules."


def parse_importtime(stderr):
    """[(depth, name, cumulative_us)] from ``-X importtime`` output, in order."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = line[len("import time:"):].split("|", 2)
        stripped = name.lstrip(" ")
        depth = (len(name) - len(stripped) - 1) // 2
        rows.append((depth, stripped.strip(), int(cumulative)))
    return rows


def added_after(rows, marker):
    """(microseconds, {top-level package: microseconds}) that the imports after ``marker`` add.

    A package's time is the cumulative time of the imports that enter it from another package
    (importtime prints a module after the modules it imports, one level deeper).
    """
    start = next((i + 1 for i, row in enumerate(rows) if row[0] == 0 and row[1] == marker), len(rows))
    rows = rows[start:]
    total = sum(cumulative for depth, _name, cumulative in rows if depth == 0)
    packages = {}
    for index, (depth, name, cumulative) in enumerate(rows):
        top = name.split(".")[0]
        parent = next((r[1] for r in rows[index + 1:] if r[0] == depth - 1), None) if depth else None
        if parent is None or parent.split(".")[0] != top:
            packages[top] = packages.get(top, 0) + cumulative
    return total, packages


def baseline_us(rows, marker):
    """Microseconds of the top-level ``ansible`` imports up to and including ``marker``."""
    total = 0
    for depth, name, cumulative in rows:
        if depth == 0 and name.split(".")[0] == "ansible":
            total += cumulative
        if depth == 0 and name == marker:
            break
    return total


def time_import(module, repeats, collections=COLLECTIONS):
    env = dict(os.environ, PYTHONPATH=collections + os.pathsep + os.environ.get("PYTHONPATH", ""))
    added, base, packages = [], [], []
    for _repeat in range(repeats):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import %s; import %s" % (BASIC, module)],
                              cwd=REPO, env=env, capture_output=True, text=True, check=False)
        if proc.returncode:
            return dict(error=proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "exit %d"
                        % proc.returncode)
        rows = parse_importtime(proc.stderr)
        total, heavy = added_after(rows, BASIC)
        added.append(total)
        base.append(baseline_us(rows, BASIC))
        packages.append(heavy)

    def median_ms(name):
        return round(statistics.median(p.get(name, 0) for p in packages) / 1000.0, 1)

    heaviest = sorted((name for name in packages[0] if name != "ansible_collections"), key=median_ms, reverse=True)[:4]
    return dict(median_ms=round(statistics.median(added) / 1000.0, 1),
                min_ms=round(min(added) / 1000.0, 1),
                baseline_ms=round(statistics.median(base) / 1000.0, 1),
                heaviest=[dict(package=name, median_ms=median_ms(name)) for name in heaviest])


def measure(repeats=5, collections=COLLECTIONS):
    """{module name: timing} for every module file of the collection in ``collections``."""
    results = {}
    modules = os.path.join(collections, "ansible_collections", "sfops", "integration", "plugins", "modules")
    for path in sorted(glob.glob(os.path.join(modules, "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name.startswith("_"):
            continue
        results[name] = time_import(PACKAGE + name, repeats, collections)
    return results


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeats", type=int, default=5, help="imports per module; the median is reported (5)")
    parser.add_argument("--collections", default=COLLECTIONS,
                        help="the directory holding ansible_collections/sfops/integration (build/collections)")
    args = parser.parse_args()
    print(json.dumps(measure(args.repeats, os.path.abspath(args.collections)), indent=1))
