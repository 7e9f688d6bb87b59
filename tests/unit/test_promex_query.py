"""The exporter's query string (``promex_parse_uri()``) and value formatting; the
output as a whole is compared with haproxy 2.6.12 in tests/integration/test_prometheus.py."""

from __future__ import annotations

import pytest

from herdsman.admin.prometheus import ALL_SCOPES, BadQuery, _number, chunked, parse_query


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


def test_chunks() -> None:
    """A sample goes into the current chunk while 512 bytes of its buffer stay free
    (the first buffer is smaller: it holds the head); the sizes are upper-case hex."""
    assert chunked([]) == b"0\r\n\r\n"
    assert chunked(["a 1\n", "b 2\n"]) == b"8\r\na 1\nb 2\n\r\n0\r\n\r\n"
    line = "x" * 99 + "\n"  # 100 bytes
    body = chunked([line] * 400)
    sizes = []
    while True:
        size_line, body = body.split(b"\r\n", 1)
        size = int(size_line, 16)
        assert size_line == b"%X" % size
        if not size:
            break
        sizes.append(size)
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]
    assert body == b"\r\n"  # after the last chunk
    # 146 lines: 14600 + 512 <= 15140 < 14700 + 512; then 159: 15900 + 512 <= 16326
    assert sizes == [14700, 15900, 9400]
