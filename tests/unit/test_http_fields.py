"""The header values HAProxy interprets (src/h1.c), as the 2.6.12 binary reads them."""

from __future__ import annotations

import pytest

from herdsman.http import fields


@pytest.mark.parametrize(
    ("value", "known", "result"),
    [
        (b"3", -1, (3, b"3")),
        (b"03", -1, (3, b"03")),
        (b"3, 3", -1, (3, b"3")),
        (b"3 ,3 , 3", -1, (3, b"3")),
        (b"3", 3, (3, b"3")),
        (b"18446744073709551615", -1, (2**64 - 1, b"18446744073709551615")),
        (b"18446744073709551616", -1, (0, b"18446744073709551616")),  # wraps, as in HAProxy
    ],
)
def test_content_length(value: bytes, known: int, result: tuple[int, bytes]) -> None:
    assert fields.content_length(value, known) == result


@pytest.mark.parametrize(
    ("value", "known"),
    [
        (b"", -1),
        (b"  ", -1),
        (b"3,", -1),
        (b",3", -1),
        (b"3,,3", -1),
        (b"+3", -1),
        (b"3a", -1),
        (b"3 3", -1),
        (b"0x3", -1),
        (b"3, 4", -1),
        (b"3", 4),
        (b"184467440737095516150", -1),
    ],
)
def test_content_length_refused(value: bytes, known: int) -> None:
    with pytest.raises(ValueError):
        fields.content_length(value, known)


@pytest.mark.parametrize(
    ("value", "is_request", "state", "result"),
    [
        (b"chunked", True, (False, False), (True, True, False)),
        (b"Chunked", True, (False, False), (True, True, False)),
        (b"chunked,", True, (False, False), (True, True, False)),
        (b"gzip, chunked", True, (False, False), (True, True, True)),
        (b",chunked", True, (False, False), (True, True, True)),  # an empty word is a coding
        (b'"chunked"', True, (False, False), (False, False, True)),
        (b"gzip", True, (False, False), (False, False, True)),
        (b"", True, (True, True), (True, True, False)),  # no word: nothing changes
        (b"chunked, gzip", False, (False, False), (False, True, True)),  # allowed in a response
    ],
)
def test_transfer_encoding(
    value: bytes, is_request: bool, state: tuple[bool, bool], result: tuple[bool, bool, bool]
) -> None:
    assert fields.transfer_encoding(value, is_request, *state) == result


@pytest.mark.parametrize(
    ("value", "is_request", "state"),
    [
        (b"chunked, chunked", True, (False, False)),
        (b"chunked", True, (True, True)),
        (b"chunked, gzip", True, (False, False)),
        (b"gzip", True, (True, True)),
    ],
)
def test_transfer_encoding_refused(
    value: bytes, is_request: bool, state: tuple[bool, bool]
) -> None:
    with pytest.raises(ValueError):
        fields.transfer_encoding(value, is_request, *state)


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (b"keep-alive", (b"", False, True, False)),
        (b"Keep-Alive", (b"", False, True, False)),
        (b"close", (b"", True, False, False)),
        (b"foo, close", (b"foo", True, False, False)),
        (b"close, foo", (b"foo", True, False, False)),
        (b"foo,close,bar", (b"foo,bar", True, False, False)),
        (b"foo ,  bar", (b"foo ,  bar", False, False, False)),
        (b"Upgrade, close", (b"Upgrade", True, False, True)),
        (b'"close", x', (b'"close", x', False, False, False)),
        (b"a, keep-alive, b", (b"a,b", False, True, False)),
        (b",", (b"", False, False, False)),
    ],
)
def test_connection(value: bytes, result: tuple[bytes, bool, bool, bool]) -> None:
    assert fields.connection(value) == result


def test_value_end_skips_quoted_commas() -> None:
    assert fields.value_end(b'a="x,y", b', 0) == 7
    assert fields.value_end(b'a="x\\",y", b', 0) == 9
    assert fields.value_end(b"abc", 0) == 3


@pytest.mark.parametrize(
    ("value", "websocket"),
    [(b"websocket", True), (b"WebSocket", True), (b"h2c, websocket", True), (b"h2c", False)],
)
def test_upgrade(value: bytes, websocket: bool) -> None:
    assert fields.upgrade_websocket(value) is websocket


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (b"trailers", True),
        (b"gzip, trailers", True),
        (b"trailers, gzip", True),
        (b"xtrailers", True),  # found anywhere, as istist() does
        (b"trailersx", False),
        (b"Trailers", False),  # case-sensitive
        (b"gzip", False),
    ],
)
def test_te(value: bytes, kept: bool) -> None:
    assert fields.te_trailers(value) is kept
