"""``config/htxmsg.py``: HAProxy's loading of an error page, without sockets.

The complaints themselves are compared with the 2.6.12 binary on a corpus
of messages in tests/integration/test_errorfiles_vs_haproxy.py; here the
parsed head, the HTX arithmetic and the parser's invariants.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.config.errpages import DEFAULT_PAGES
from herdsman.config.htxmsg import HeadError, convert, parse_head

MAXHDR = 101
BUFSIZE = 16384


def test_head_fields() -> None:
    """Trimmed values, obs-fold joined by spaces, Content-Length cleaned, a repeated
    identical Content-Length and an empty Connection dropped."""
    raw = (
        b"\r\nHTTP/1.1  503  Service  Unavailable\r\nA:  x \r\n\t y\r\n"
        b"Content-Length:  3 , 3\r\nContent-Length: 3\r\nConnection:\r\n\r\nabc"
    )
    head = parse_head(raw, MAXHDR)
    assert (head.version, head.code, head.reason, head.status) == (
        b"HTTP/1.1",
        b"503",
        b"Service  Unavailable",
        503,
    )
    assert head.headers == [(b"A", b"x   \t y"), (b"Content-Length", b"3")]
    assert head.content_length == 3
    assert head.length == len(raw) - 3


def test_transfer_encoding_drops_content_length() -> None:
    head = parse_head(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        MAXHDR,
    )
    assert head.content_length is None
    assert head.chunked
    assert [name for name, _ in head.headers] == [b"Transfer-Encoding"]


@pytest.mark.parametrize(
    ("raw", "pos"),
    [
        (b"HTTP/1.1 503 X\r\n", -2),  # out of data
        (b"HTTP/1.1 503 X\r\nA: b\r\n\r", -2),
        (b"HTTP/1.1 503 X\r\r\n\r\n", 15),  # CR not followed by LF
        (b"HTTP/1.1\r\n\r\n", 8),  # no status
        (b"HTTP/1.1 5x3\r\n\r\n", 10),
        (b"HTTP/1.1 503 X\r\nA\x80: b\r\n\r\n", 17),
        (b"HTTP/1.1 503 X\r\nContent-Length: 1, 2\r\n\r\n", 32),
        (b"HTTP/1.1 503 X\r\nContent-Length: 1 2\r\n\r\n", 32),
    ],
)
def test_parse_errors(raw: bytes, pos: int) -> None:
    with pytest.raises(HeadError) as err:
        parse_head(raw, MAXHDR)
    assert err.value.pos == pos


def test_too_many_headers_stop_after_the_line() -> None:
    """The header array has ``maxhdr`` entries, the closing empty one included."""
    raw = b"HTTP/1.1 503 X\r\nA: 1\r\nB: 2\r\n\r\n"
    assert convert(raw, BUFSIZE, 3) is None
    assert convert(raw, BUFSIZE, 2) == "unable to parse headers (error offset: 30)"
    assert convert(raw, BUFSIZE, 1) == "unable to parse headers (error offset: 28)"


def test_htx_room() -> None:
    """48 bytes of HTX header, 8 per block: status line (20 + words), each header,
    end of headers (1), then the whole body."""
    head = b"HTTP/1.1 503 X\r\n\r\n"
    fixed = 48 + (8 + 20 + 8 + 3 + 1) + (8 + 1) + 8
    assert convert(head + b"x" * (1024 - fixed), 1024, MAXHDR) is None
    assert convert(head + b"x" * (1024 - fixed + 1), 1024, MAXHDR) == (
        "unable to add payload into the HTX message"
    )
    assert convert(b"HTTP/1.1 503 X\r\nA: " + b"v" * 1000 + b"\r\n\r\n", 1024, MAXHDR) == (
        "unable to add headers into the HTX message"
    )


def test_default_pages_load() -> None:
    for page in DEFAULT_PAGES.values():
        assert convert(page, BUFSIZE, MAXHDR) is None


@given(st.binary(max_size=200))
def test_any_bytes_give_an_answer(raw: bytes) -> None:
    """Whatever the file holds, the conversion answers; it never raises."""
    result = convert(raw, BUFSIZE, MAXHDR)
    assert result is None or isinstance(result, str)


@given(st.sampled_from(list(DEFAULT_PAGES.values())), st.data())
def test_a_cut_head_is_out_of_data(page: bytes, data: st.DataObject) -> None:
    """Cut anywhere before its blank line, a valid head is incomplete, never invalid."""
    end = page.index(b"\r\n\r\n") + 3
    cut = data.draw(st.integers(1, end))
    with pytest.raises(HeadError) as err:
        parse_head(page[:cut], MAXHDR)
    assert err.value.pos == -2
