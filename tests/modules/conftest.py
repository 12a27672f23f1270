"""Fixtures for module tests against the emulator (see harness.py)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import own_emulator  # noqa: E402


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator with three orgs for the whole test session (per xdist worker)."""
    yield from own_emulator(tmp_path_factory, "emulator", orgs=3)
