"""Make ``ansible_collections.sfops.integration`` importable from a plain checkout.

The Makefile links the repository into build/collections/ansible_collections/sfops/integration;
this does the same when pytest is run by hand.
"""
from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")


def ensure_collection_path():
    link = os.path.join(COLLECTIONS, "ansible_collections", "sfops", "integration")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    return COLLECTIONS
