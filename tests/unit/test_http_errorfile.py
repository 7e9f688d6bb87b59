"""``http/errorfile.py``: HAProxy's loading of an error page, without sockets.

The complaints themselves are compared with the 2.6.12 binary on a corpus
of messages in tests/integration/test_errorfiles_vs_haproxy.py; here the
loaded message, the HTX arithmetic and the loader's invariants.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsman.config.errpages import DEFAULT_PAGES
from herdsman.http.errorfile import ErrorfileError, convert, load

MAXHDR = 101
BUFSIZE = 16384


def test_head_fields() -> None:
    """Trimmed values, obs-fold joined by spaces, Content-Length cleaned, a repeated
    identical Content-Length and an empty Connection dropped."""
    raw = (
        b"\r\nHTTP/1.1  503  Service  Unavailable\r\nA:  x \r\n\t y\r\n"
        b"Content-Length:  3 , 3\r\nContent-Length: 3\r\nConnection:\r\n\r\nabc"
    )
    msg = load(raw, MAXHDR)
    assert (msg.version, msg.code, msg.reason, msg.status) == (
        b"HTTP/1.1",
        b"503",
        b"Service  Unavailable",
        503,
    )
    assert msg.fields == ((b"A", b"x   \t y"), (b"Content-Length", b"3"))
    assert msg.body == b"abc"


def test_connection_keeps_its_tokens() -> None:
    """No H1_MF_CLEAN_CONN_HDR when loading: "close" stays, and counts."""
    msg = load(b"HTTP/1.1 503 X\r\nConnection: close, x\r\n\r\n", MAXHDR)
    assert msg.fields == ((b"Connection", b"close, x"),)


def test_transfer_encoding_drops_content_length() -> None:
    msg = load(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip\r\n\r\nabc",
        MAXHDR,
    )
    assert [name for name, _ in msg.fields] == [b"Transfer-Encoding"]
    assert msg.body == b"abc"


def test_content_length_wraps_as_the_binary_does() -> None:
    """2**64 is 0 and 2**64 + 1 is 1 in 2.6.12 (its addition overflow check is gone)."""
    assert (
        convert(b"HTTP/1.1 503 X\r\nContent-Length: 18446744073709551616\r\n\r\n", 16384, 3) is None
    )
    assert (
        convert(b"HTTP/1.1 503 X\r\nContent-Length: 18446744073709551617\r\n\r\nx", 16384, 3)
        is None
    )


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
        (b"HTTP/1.1 503 X\r\nContent-Length: 1, 1,\r\n\r\n", 35),  # the last valid number
        (b"HTTP/1.1 503 X\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 36),  # maxhdr 3: no room for the end
    ],
)
def test_parse_errors(raw: bytes, pos: int) -> None:
    with pytest.raises(ErrorfileError) as err:
        load(raw, 3)
    assert str(err.value) == f"unable to parse headers (error offset: {pos})"


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
    assert convert(page[:cut], BUFSIZE, MAXHDR) == "unable to parse headers (error offset: -2)"
