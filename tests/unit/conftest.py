from __future__ import annotations

import builtins
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from collection_path import ensure_collection_path  # noqa: E402

ensure_collection_path()


@pytest.fixture
def uninstalled(monkeypatch):
    """``uninstalled("zeep")``: importing that module raises ImportError for the rest of the test."""
    real_import = builtins.__import__
    hidden = set()

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] in hidden:
            raise ImportError("No module named %r" % name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    return hidden.add
