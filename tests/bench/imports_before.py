"""Import times of the modules before issue 14 ("modules import only what they use"), measured ONCE, not by make bench.

Measured on 2026-12-01 with ``tests/bench/importtime.py --collections`` on a copy of commit aa88c47 (41a71c9^, the
last commit before issue 14's first slice, when every module imported simple_salesforce, zeep and PyJWT), on the
same shared 2-core machine that runs ``make bench``, while other work ran on it: the fastest of 22 imports per module
(four runs, interleaved with runs of the code of commit 3ef14b1), in milliseconds added on top of
``ansible.module_utils.basic``. The fastest import is the one least disturbed by the other work; the medians of those
runs varied by a factor of three. Modules that did not exist then have no entry.
"""
from __future__ import annotations

COMMIT = "aa88c47 (41a71c9^)"
MEASURED = "2026-12-01"
IMPORTS = 22  # imports per module; the fastest is kept

# {module: fastest added import time in ms} at COMMIT.
BEFORE_MIN_MS = {
    "sf_integration_user": 162.5,
    "sf_org_info": 155.5,
    "sf_permission_set": 181.5,
    "sf_permset_assignment": 165.0,
    "sf_profile": 160.2,
    "sf_profile_password_policy": 162.5,
    "sf_session": 152.6,
}

# The same measure of the code of commit 3ef14b1, taken in the same runs: what "after" was under the same load.
ALONGSIDE_MIN_MS = {
    "sf_integration_user": 92.5,
    "sf_org_info": 90.8,
    "sf_permission_set": 97.4,
    "sf_permset_assignment": 94.0,
    "sf_profile": 92.4,
    "sf_profile_password_policy": 89.7,
    "sf_session": 79.9,
}
