"""A module's run() without Ansible's process and without an org: the real SalesforceModule and SalesforceClient.

salesforce_module() is the real SalesforceModule with the module's own argument spec and the test's options:
its ``refuse`` and ``finish`` (the change record, ``changed`` and the diff) are the real ones, what it warns is
kept in ``module.warnings``. Only what the client talks to is the test's (recording_client()): the client's own
request shapes, batching, check mode and error mapping run as they do against an org, so that a plan is tested
as the module runs it, in check mode and not. Nothing is sent anywhere.
"""
from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from ansible_core_compat import patch_module_args

from ansible_collections.sfops.integration.plugins.module_utils.client import SalesforceClient
from ansible_collections.sfops.integration.plugins.module_utils.connection import CONNECTION_ARGUMENT_SPEC
from ansible_collections.sfops.integration.plugins.module_utils.module import SalesforceModule

INSTANCE = "https://acme.my.salesforce.com"
SESSION = dict(access_token="TOKEN", instance_url=INSTANCE)


def salesforce_module(argument_spec, client, check_mode=False, connection=True, **options):
    """A SalesforceModule with ``options`` (defaults from ``argument_spec``) whose client is ``client``.

    ``connection=False`` is a module that talks to no org (no connection options, no client).
    ``module.warnings`` lists what the module warned (SalesforceModule.warn), in order: kept there rather
    than in Ansible's process-wide list, so that one test never sees another's warnings.
    """
    with patch_module_args(dict(SESSION if connection else {}, _ansible_check_mode=check_mode, **options)):
        module = SalesforceModule(argument_spec=argument_spec, supports_check_mode=True, connection=connection)
    module._client = client
    module.warnings = []
    module.ansible.warn = module.warnings.append
    return module


def page(records):
    """A query result holding ``records``, all of them in this one page."""
    records = list(records)
    return dict(totalSize=len(records), done=True, records=records)


def soql_of(sub):
    """The SOQL text of a query subrequest; None for another subrequest."""
    parts = urlsplit(sub["url"])
    return (parse_qs(parts.query).get("q") or [None])[0] if parts.path.rstrip("/").endswith("/query") else None


def same_record(run, *args):
    """The change records ``run(check_mode, *args)`` gives in check mode and for real; asserts they are equal."""
    planned, applied = run(True, *args), run(False, *args)
    assert planned["change"] == applied["change"], (planned["change"], applied["change"])
    return applied


class SalesforceAnswers:
    """The REST API behind recording_client: every write succeeds; nothing is sent anywhere.

    A new record gets the id ``new-<referenceId>``; a GET subrequest answers ``bodies[referenceId]``, a query
    outside composite ``bodies[its SOQL]``, a later page of a query ``bodies[its nextRecordsUrl]``. With
    ``answer``, ``answer(subrequest)`` gives the (status, body) of every composite subrequest instead. Each
    REST request counts in ``counter`` as the real session counts it (client.api_requests).
    """

    def __init__(self, bodies, counter, answer=None):
        self.bodies = bodies
        self.counter = counter
        self.given = answer
        self.sent = []

    def restful(self, path, params=None, method="GET", json=None):
        self.counter.count += 1
        if path == "composite":
            self.sent.append(json["compositeRequest"])
            return dict(compositeResponse=[self.answer(sub) for sub in json["compositeRequest"]])
        assert method != "GET", "reads are the test's: %s" % path
        if path == "composite/sobjects":  # client.create_records / update_records / delete_records
            ids = params["ids"].split(",") if method == "DELETE" else None
            self.sent.append([dict(method=method, url=path, body=json, ids=ids)])
            return results(method, ids or json["records"], "record")
        self.sent.append([dict(method=method, url=path, body=json)])  # client.create / update / delete
        return dict(id="new-record", success=True, errors=[]) if method == "POST" else None

    def query(self, soql_text, include_deleted=False):
        """client.query: the page ``bodies[soql_text]``, else no rows."""
        self.counter.count += 1
        return self.bodies.get(soql_text) or page([])

    def query_more(self, next_records_url):
        """client.more_records: the page ``bodies[next_records_url]``, else no rows."""
        self.counter.count += 1
        return self.bodies.get(next_records_url) or page([])

    def answer(self, sub):
        ref, method = sub["referenceId"], sub["method"]
        if self.given is not None:
            status, body = self.given(sub)
            return dict(referenceId=ref, httpStatusCode=status, body=body)
        if "composite/sobjects" in sub["url"]:
            items = unquote(sub["url"].split("ids=")[1].split("&")[0]).split(",") if method == "DELETE" \
                else sub["body"]["records"]
            return dict(referenceId=ref, httpStatusCode=200, body=results(method, items, ref))
        if method == "POST":
            return dict(referenceId=ref, httpStatusCode=201, body=dict(id="new-" + ref, success=True, errors=[]))
        if method == "GET":
            return dict(referenceId=ref, httpStatusCode=200, body=self.bodies.get(ref, {}))
        return dict(referenceId=ref, httpStatusCode=204, body=None)


class Component(dict):
    """A component as zeep reads it: its fields by key and by attribute (a missing name reads fullName None)."""

    __getattr__ = dict.get


class MetadataAnswers:
    """simple-salesforce's sf.mdapi behind recording_client over ``components`` ({type: {fullName: fields}}).

    Every save and delete succeeds and changes ``components``, so that a read after a write finds it.
    """

    def __init__(self, sent, components):
        self.sent = sent
        self.components = components

    def __getattr__(self, md_type):
        return MetadataType(md_type, self.sent, self.components.setdefault(md_type, {}))

    def ListMetadataQuery(self, type):  # noqa: N802 - simple-salesforce's name
        return type

    def list_metadata(self, md_type):
        return [Component(fullName=name) for name in self.components.get(md_type, {})]


class MetadataType:
    """sf.mdapi.<Type>: builds a component (a dict here), reads, and records each create, update, upsert and delete."""

    def __init__(self, md_type, sent, components):
        self.md_type = md_type
        self.sent = sent
        self.components = components

    def __call__(self, **fields):
        return fields

    def read(self, names):
        return [Component(self.components.get(name) or dict(fullName=None)) for name in names]

    def _save(self, operation, records):
        self.sent.append([dict(method=operation, type=self.md_type, items=records)])
        self.components.update((record["fullName"], dict(record)) for record in records)

    def create(self, records):
        self._save("create", records)

    def update(self, records):
        self._save("update", records)

    def upsert(self, records):
        self._save("upsert", records)

    def delete(self, names):
        self.sent.append([dict(method="delete", type=self.md_type, items=names)])
        for name in names:
            self.components.pop(name, None)


def results(method, items, name):
    """sObject Collections results: every record saved (new ones get ``new-<name>-<index>``)."""
    return [dict(id=item if method == "DELETE" else "new-%s-%d" % (name, index), success=True, errors=[])
            for index, item in enumerate(items)]


def recording_client(check_mode=False, components=None, answer=None, **bodies):
    """The real SalesforceClient (request shapes, check mode refusing writes) over SalesforceAnswers and MetadataAnswers.

    ``client.sent`` lists the subrequests of each composite request sent (a one-record write is a list of one).
    ``answer(subrequest)``, when given, gives the (status, body) of each composite subrequest, e.g. a refusal.
    """
    params = dict((name, None) for name in CONNECTION_ARGUMENT_SPEC)
    params.update(api_version="62.0", timeout=5, max_retries=0, retry_backoff=0.0, **SESSION)
    client = SalesforceClient(params, read_only=check_mode)
    client._rest = SalesforceAnswers(bodies, client.counter, answer)
    client._mdapi = MetadataAnswers(client._rest.sent, components or {})
    client.sent = client._rest.sent
    return client
