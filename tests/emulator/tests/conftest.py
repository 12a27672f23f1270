"""Fixtures of the emulator's contract tests (one emulator process per test session); helpers in contract.py."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from contract import emulator, org1, org2, org3  # noqa: E402,F401  (fixtures)
