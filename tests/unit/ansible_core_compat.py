"""What the unit tests need from ansible-core, on every version the collection claims (2.17 and newer).

``ansible.module_utils.testing.patch_module_args`` appeared in ansible-core 2.19. On older
versions the same thing is done the way their own unit tests did it: the JSON document a module
reads from stdin is put where ``AnsibleModule`` looks first, ``basic._ANSIBLE_ARGS``.
"""
from __future__ import annotations

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to the ``AnsibleModule`` instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError("The `args` arg must be a dict or None.")
        payload = json.dumps(dict(ANSIBLE_MODULE_ARGS=args or {})).encode()
        with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
            yield

__all__ = ["patch_module_args"]
