from __future__ import annotations

import json

import pytest
from ansible_core_compat import patch_module_args

from ansible_collections.sfops.integration.plugins.module_utils import client as client_mod
from ansible_collections.sfops.integration.plugins.module_utils import module as module_mod
from ansible_collections.sfops.integration.plugins.module_utils.change import change_record
from ansible_collections.sfops.integration.plugins.module_utils.errors import DuplicateError


def run_module(args, func, capsys, monkeypatch=None, missing=None):
    if missing is not None:
        monkeypatch.setattr(client_mod, "missing_libraries", lambda: missing)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module_mod.SalesforceModule(argument_spec=dict(name=dict(type="str"))).run(func)
    return json.loads(capsys.readouterr().out)


def test_result_carries_request_count(capsys):
    def run(module):
        module.client.counter.count = 2  # as if two requests were sent
        return dict(answer=module.params["name"])
    result = run_module(dict(username="u@x.com", password="pw", name="n"), run, capsys)
    assert result["answer"] == "n" and result["api_requests"] == 2 and result["changed"] is False


def test_salesforce_errors_become_fail_json(capsys):
    def run(module):
        module.client.counter.count = 1
        raise DuplicateError("Salesforce refused to create User 'a@b.c': DUPLICATE_USERNAME on Username",
                             error_code="DUPLICATE_USERNAME", fields=["Username"])
    result = run_module(dict(username="u@x.com", password="pw"), run, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Salesforce refused to create User 'a@b.c'")
    assert result["error_code"] == "DUPLICATE_USERNAME" and result["api_requests"] == 1


def test_a_change_another_writer_made_part_of_says_concurrent(capsys):
    def run(module, found):
        module.client.done_elsewhere.extend(found)
        return module.finish(change_record("user", "a@b.c", "none"), {}, {})
    found = run_module(dict(username="u@x.com", password="pw"), lambda m: run(m, ["User 'a@b.c'"]), capsys)
    assert found["change"]["concurrent"] is True and found["changed"] is False
    alone = run_module(dict(username="u@x.com", password="pw"), lambda m: run(m, []), capsys)
    assert "concurrent" not in alone["change"]


def test_bad_option_mix_fails_before_any_request(capsys):
    result = run_module(dict(username="u@x.com"), lambda module: module.client, capsys)
    assert result["failed"] is True and "Give one of" in result["msg"] and result["api_requests"] == 0


def test_missing_library_is_reported_not_raised(capsys, monkeypatch):
    result = run_module(dict(username="u@x.com", password="pw"), lambda module: {}, capsys, monkeypatch,
                        missing=[("simple-salesforce", "Traceback: ImportError")])
    assert result["failed"] is True
    assert "simple-salesforce" in result["msg"] and "Traceback" not in result["msg"]


def test_secrets_are_masked_in_results(capsys):
    result = run_module(dict(username="u@x.com", password="s3cret-pw", name="s3cret-pw"),
                        lambda module: dict(echo=module.params["name"]), capsys)
    assert "s3cret-pw" not in json.dumps(result)


def test_a_module_without_an_org_has_no_connection_options_and_no_client(capsys, monkeypatch):
    monkeypatch.setattr(client_mod, "missing_libraries", lambda: [("requests", "Traceback")])  # not needed without an org

    def run(module):
        assert "instance_url" not in module.params and "username" not in module.params
        return module.finish(change_record("file", "/k.crt", "none"), {}, {})
    with patch_module_args(dict(name="n")):
        with pytest.raises(SystemExit):
            module_mod.SalesforceModule(argument_spec=dict(name=dict(type="str")), connection=False).run(run)
    result = json.loads(capsys.readouterr().out)
    assert result["change"]["action"] == "none" and result["api_requests"] == 0 and "failed" not in result

    with patch_module_args(dict(name="n")):
        with pytest.raises(SystemExit):
            module_mod.SalesforceModule(argument_spec=dict(name=dict(type="str")), connection=False).run(
                lambda module: module.client)
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "talks to no Salesforce org" in result["msg"]
