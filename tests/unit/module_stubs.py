"""A module's run() without Ansible and without an org: the real client and module base, answers given by the test.

StubClient is the real SalesforceClient whose composite requests are answered by a function of each subrequest,
so its read, read_records, composite_records and error mapping run as they do against an org; nothing is sent.
fake_module() is what run() uses of SalesforceModule, with the base's own refuse and finish.
"""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from ansible_collections.sfops.integration.plugins.module_utils import connection
from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient
from ansible_collections.sfops.integration.plugins.module_utils.errors import refuse
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule

INSTANCE = "https://acme.my.salesforce.com"


def page(records):
    records = list(records)
    return dict(totalSize=len(records), done=True, records=records)


def soql_of(sub):
    """The SOQL text of a query subrequest; None for another subrequest."""
    parts = urlsplit(sub["url"])
    return (parse_qs(parts.query).get("q") or [None])[0] if parts.path.rstrip("/").endswith("/query") else None


class StubClient(SalesforceClient):
    """``answer(subrequest)`` gives (status, body) of each subrequest; ``composites`` lists the requests sent."""

    def __init__(self, answer, read_only=False):
        params = dict((name, option.get("default")) for name, option in connection.CONNECTION_ARGUMENT_SPEC.items())
        params.update(api_version="62.0", validate_certs=True, timeout=5, access_token="TOKEN", instance_url=INSTANCE)
        super().__init__(params, read_only=read_only)
        self.answer = answer
        self.composites = []

    def composite(self, subrequests, all_or_none=False, find_existing=None, check=None):
        self.composites.append(subrequests)
        responses = {}
        for sub in subrequests:
            status, body = self.answer(sub)
            responses[sub["referenceId"]] = dict(referenceId=sub["referenceId"], httpStatusCode=status, body=body)
        self.counter.count += 1
        return responses


def fake_module(params, client=None, check_mode=False):
    """params, check_mode, warn (``warnings`` collects them), client, and SalesforceModule's refuse and finish."""
    warnings = []
    module = SimpleNamespace(params=params, check_mode=check_mode, warn=warnings.append, warnings=warnings,
                             client=client, _client=client, refuse=refuse)
    module.finish = lambda *args, **result: SalesforceModule.finish(module, *args, **result)
    return module
