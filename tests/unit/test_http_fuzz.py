"""Only ``HttpError`` escapes the engine, whatever the bytes (h11's fuzzing invariant).

Inputs are built from HTTP-ish fragments (so that they get deep into the
parsers) mixed with arbitrary bytes, and fed whole and in random pieces.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.http import ChunkedBody, HttpError, Limits, Method, RequestParser, ResponseParser

FRAGMENTS = [
    b"GET",
    b"POST",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/",
    b" ",
    b"\t",
    b"\r\n",
    b"\n",
    b"\r",
    b"/",
    b"*",
    b"http://a:80/",
    b"a:443",
    b"#",
    b"\x7f",
    b"\x80",
    b"\xff",
    b"\x00",
    b"Host: a",
    b"Host",
    b":",
    b"Content-Length: ",
    b"3",
    b"0",
    b"18446744073709551616",
    b"Transfer-Encoding: ",
    b"chunked",
    b"gzip",
    b",",
    b'"',
    b"Connection: ",
    b"close",
    b"keep-alive",
    b"upgrade",
    b"Upgrade: websocket",
    b"Sec-WebSocket-Key: ",
    b"a" * 24,
    b"TE: trailers",
    b"Expect: 100-continue",
    b";ext",
    b"fffffffffffff",
]
SMALL = Limits(bufsize=512, maxrewrite=128, maxhdr=8)
# single bytes drawn as integers: hypothesis's own cache mixes bytes and ints
# otherwise, which python -bb turns into an error
_byte = st.integers(0, 255).map(lambda i: bytes((i,)))
pieces = st.lists(st.sampled_from(FRAGMENTS) | _byte, max_size=40).map(b"".join)


def _feed(parse: object, data: bytes, cuts: list[int]) -> None:
    """Call ``parse`` on growing prefixes, as the proxy would, until a head or the end."""
    assert callable(parse)
    for cut in sorted({c % (len(data) + 1) for c in cuts} | {len(data)}):
        try:
            if parse(data[:cut]) is not None:
                return
        except HttpError:
            return


@settings(max_examples=700, deadline=None)
@given(data=pieces, cuts=st.lists(st.integers(0, 10**6), max_size=5), lenient=st.booleans())
def test_request_parser(data: bytes, cuts: list[int], lenient: bool) -> None:
    for limits in (SMALL, Limits()):
        _feed(RequestParser(limits, accept_invalid=lenient).parse, data, cuts)


@settings(max_examples=700, deadline=None)
@given(data=pieces, cuts=st.lists(st.integers(0, 10**6), max_size=5), lenient=st.booleans())
def test_response_parser(data: bytes, cuts: list[int], lenient: bool) -> None:
    parser = ResponseParser(SMALL, accept_invalid=lenient)
    _feed(lambda b: parser.parse(b, Method.GET, upgrade=True), data, cuts)


@settings(max_examples=700, deadline=None)
@given(data=pieces, cuts=st.lists(st.integers(0, 10**6), max_size=5))
def test_chunked_body(data: bytes, cuts: list[int]) -> None:
    body = ChunkedBody(True, SMALL)
    pending = b""
    last = 0
    try:
        for cut in sorted({c % (len(data) + 1) for c in cuts} | {len(data)}):
            pending += data[last:cut]
            last = cut
            used = body.feed(memoryview(pending))
            assert 0 <= used <= len(pending)
            pending = pending[used:]
            if body.done:
                break
    except HttpError:
        pass
