"""Our SOQL quoting gives what simple-salesforce's documented format_soql gives, value for value."""
from __future__ import annotations

import datetime

import pytest
from simple_salesforce import format_soql

from ansible_collections.sfops.integration.plugins.module_utils.soql import FIELDS_PER_QUERY, field_chunks, quote, soql

VALUES = [
    "plain", "", "o'brien@acme.com", 'say "hi"', "back\\slash", "line\nbreak", "cr\rlf", "tab\there",
    "bell\bformfeed\f", "50% off_sale", "unicode é ü 漢字", "'; DELETE FROM User --", "\\'", "{braces}", "@{user.id}",
    0, 1, -7, 123456789012345, 2.5, -0.125, 1e-07, 1e21, True, False, None,
    ["A", "B"], ("x'y",), {"only"}, [], [1, "two", None, True], [["nested"]],
    datetime.date(2026, 1, 31), datetime.datetime(2026, 1, 31, 10, 30, 15),
    datetime.datetime(2026, 1, 31, 10, 30, 15, 123456, tzinfo=datetime.timezone.utc),
    datetime.datetime(2026, 1, 31, 10, 30, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_a_value_is_quoted_as_simple_salesforce_quotes_it(value):
    template = "SELECT Id FROM User WHERE Username = {}"
    assert soql(template, value) == format_soql(template, value)


@pytest.mark.parametrize("spec", ["literal", "like"])
@pytest.mark.parametrize("value", [v for v in VALUES if isinstance(v, str)])
def test_literal_and_like(spec, value):
    template = "SELECT Id FROM User WHERE Name LIKE '%{:" + spec + "}%'"
    assert soql(template, value) == format_soql(template, value)


def test_positional_named_and_indexed_fields():
    template = "SELECT Id FROM PermissionSet WHERE Name IN {names} AND IsCustom = {custom} AND (Label = {0} OR Label = {0})"
    assert soql(template, "A'B", names=["A", "B"], custom=True) == format_soql(template, "A'B", names=["A", "B"], custom=True)
    assert soql(template, "A'B", names=["A", "B"], custom=True) == (
        "SELECT Id FROM PermissionSet WHERE Name IN ('A','B') AND IsCustom = true AND (Label = 'A\\'B' OR Label = 'A\\'B')")


def test_other_format_specs_format_the_value_unquoted():
    assert soql("LIMIT {:d}", 5) == format_soql("LIMIT {:d}", 5) == "LIMIT 5"


def test_unquotable_values_are_refused():
    with pytest.raises(ValueError):
        quote(object())
    with pytest.raises(ValueError):
        format_soql("{}", object())


def test_field_chunks_keep_each_query_short():
    names = ["Permissions%s%03d" % ("X" * 20, i) for i in range(500)]
    chunks = field_chunks(names)
    assert [name for chunk in chunks for name in chunk] == names
    assert all(len(", ".join(chunk)) <= FIELDS_PER_QUERY for chunk in chunks)
    assert len(chunks) == 3
    assert field_chunks([]) == [["Name"]]
