# Copyright (c) sfops.integration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Records the shape of a playbook run for the benchmark's floor playbook (tests/bench/floor.py).

Per play: hosts pattern, serial, gather_facts, strategy; per task, in order of first start: its
action, run_once, whether it loops, per host how it ended and how many times its action ran
(loop items and retries), and the seconds from its start to its last result (across serial
batches, so only a rough profile). Written as JSON to $SFOPS_BENCH_TRACE at the end of the run.
"""
from __future__ import annotations

DOCUMENTATION = r"""
name: sfops_bench_trace
type: aggregate
short_description: Records plays, tasks and per-host executions for the benchmark
description:
  - Writes the run's shape to the file named by the environment variable SFOPS_BENCH_TRACE.
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED and found through ANSIBLE_CALLBACK_PLUGINS
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


def _attr(result, name):
    """result.host / result.task (ansible-core 2.19+) or the older private attributes."""
    value = getattr(result, name, None)
    return value if value is not None else getattr(result, "_" + name)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "sfops_bench_trace"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plays = []
        self.tasks = {}

    def v2_playbook_on_play_start(self, play):
        hosts = play.hosts
        self.plays.append(dict(
            name=play.get_name(), hosts=hosts if isinstance(hosts, str) else ",".join(hosts),
            serial=play.serial, gather_facts=play.gather_facts, strategy=play.strategy, tasks=[]))

    def _start(self, task, handler=False):
        uuid = task._uuid
        if uuid in self.tasks:  # the next serial batch starts the same task again
            return
        now = time.monotonic()
        entry = dict(name=task.get_name(), action=getattr(task, "resolved_action", None) or task.action,
                     run_once=bool(task.run_once), loop=task.loop is not None or bool(task.loop_with),
                     handler=handler, hosts={}, started=now, ended=now)
        self.tasks[uuid] = entry
        self.plays[-1]["tasks"].append(entry)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, handler=True)

    def _host_entry(self, result):
        """The result's per-host record of its task; the task's last result is now."""
        task = _attr(result, "task")
        if task._uuid not in self.tasks:  # e.g. a fact-gathering task started before any callback saw it
            self._start(task)
        entry = self.tasks[task._uuid]
        entry["ended"] = time.monotonic()
        return entry["hosts"].setdefault(_attr(result, "host").get_name(), dict(status=None, runs=0))

    def _item(self, result):
        self._host_entry(result)["runs"] += 1

    def _end(self, result, status):
        host = self._host_entry(result)
        host["status"] = status
        if status != "skipped" and host["runs"] == 0:
            host["runs"] = 1

    v2_runner_item_on_ok = _item
    v2_runner_item_on_failed = _item
    v2_runner_retry = _item

    def v2_runner_on_ok(self, result):
        self._end(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("SFOPS_BENCH_TRACE")
        if path:
            for entry in self.tasks.values():
                entry["seconds"] = round(entry.pop("ended") - entry.pop("started"), 3)
            with open(path, "w") as handle:
                json.dump(dict(plays=self.plays), handle, indent=1)
