"""The exporter's query string (``promex_parse_uri()``) and value formatting; the
output as a whole is compared with haproxy 2.6.12 in tests/integration/test_prometheus.py."""

from __future__ import annotations

import pytest

from herdsman.admin.prometheus import ALL_SCOPES, BadQuery, _number, parse_query


@pytest.mark.parametrize(
    ("target", "scopes", "no_maint"),
    [
        ("/metrics", ALL_SCOPES, False),
        ("/metrics?scope=server", {"server"}, False),
        ("/metrics?scope=server&scope=backend", {"server", "backend"}, False),
        ("/metrics?scope=&scope=global", {"global"}, False),
        ("/metrics?scope=global&scope=", set(), False),  # an empty value clears them all
        ("/metrics?scope=*&no-maint", ALL_SCOPES, True),
        ("/metrics?foo=bar", ALL_SCOPES, False),
        ("/metrics?scope=%73erver#frag", {"server"}, False),
    ],
)
def test_scopes(target: str, scopes: set[str], no_maint: bool) -> None:
    assert parse_query(target) == (frozenset(scopes), no_maint)


@pytest.mark.parametrize("target", ["/m?scope=nope", "/m?scope", "/m?scope=a=b"])
def test_bad_queries(target: str) -> None:
    with pytest.raises(BadQuery):
        parse_query(target)


def test_values() -> None:
    assert _number(None) == "NaN"
    assert _number(("MGP", "u32", 7)) == "7"
    assert _number(("KNS", "str", "x")) == "NaN"
    assert _number(("MDP", "flt", 1.5)) == "1.500000"
