"""Response heads: framing by status and method, what goes to the client, what is refused.

Expectations are the 2.6.12 binary's (tests/http_diff runs the same responses
through it); every input is also fed byte by byte.
"""

from __future__ import annotations

import pytest

from herdsman.http import (
    Framing,
    HttpError,
    Method,
    ResponseHead,
    ResponseParser,
    head_bytes,
    parse_response_head,
)
from herdsman.http.model import split_fields


def _resp(line: bytes = b"HTTP/1.1 200 OK", headers: bytes = b"", body: bytes = b"") -> bytes:
    return line + b"\r\n" + headers + b"\r\n" + body


def resp(buf: bytes, meth: Method = Method.GET, **kw: bool) -> ResponseHead:
    head = parse_response_head(buf, meth, **kw)
    assert head is not None
    parser = ResponseParser(**kw)
    for i in range(1, len(buf) + 1):
        step = parser.parse(buf[:i], meth)
        if step is not None:
            assert split_fields(head_bytes(step)) == split_fields(head_bytes(head))
            break
    return head


class TestResponses:
    @pytest.mark.parametrize(
        ("raw", "meth", "framing", "length"),
        [
            (_resp(headers=b"Content-Length: 3\r\n"), Method.GET, Framing.LENGTH, 3),
            (_resp(headers=b"Content-Length: 0\r\n"), Method.GET, Framing.NONE, 0),
            (_resp(), Method.GET, Framing.CLOSE, 0),
            (_resp(b"HTTP/1.0 200 OK"), Method.GET, Framing.CLOSE, 0),
            (_resp(headers=b"Transfer-Encoding: chunked\r\n"), Method.GET, Framing.CHUNKED, 0),
            (_resp(headers=b"Content-Length: 3\r\n"), Method.HEAD, Framing.NONE, 0),
            (
                _resp(b"HTTP/1.1 204 No Content", b"Content-Length: 3\r\n"),
                Method.GET,
                Framing.NONE,
                0,
            ),
            (
                _resp(b"HTTP/1.1 304 Not Modified", b"Content-Length: 3\r\n"),
                Method.GET,
                Framing.NONE,
                0,
            ),
            (_resp(b"HTTP/1.1 100 Continue"), Method.GET, Framing.NONE, 0),
            (_resp(b"HTTP/1.1 200 OK"), Method.CONNECT, Framing.TUNNEL, 0),
            (_resp(b"HTTP/1.1 20 OK", b"Content-Length: 3\r\n"), Method.GET, Framing.LENGTH, 3),
        ],
    )
    def test_framing(self, raw: bytes, meth: Method, framing: Framing, length: int) -> None:
        head = resp(raw, meth)
        assert (head.framing, head.content_length) == (framing, length)

    @pytest.mark.parametrize(
        ("raw", "out"),
        [
            (_resp(headers=b"Content-Length: 0\r\n"), _resp(headers=b"Content-Length: 0\r\n")),
            (
                _resp(b"HTTP/1.1 200", b"Content-Length: 0\r\n"),
                _resp(b"HTTP/1.1 200 ", b"Content-Length: 0\r\n"),
            ),
            (_resp(b"HTTP/1.1  200  OK"), _resp(b"HTTP/1.1 200 OK")),
            (_resp(b"HTTP/2.0 200 OK"), _resp(b"HTTP/1.1 200 OK")),
            (_resp(b"XTTP/1.1 200 OK"), _resp(b"HTTP/1.1 200 OK")),
            (
                _resp(b"HTTP/1.1 204 No Content", b"Content-Length: 3\r\nX: 1\r\n"),
                _resp(b"HTTP/1.1 204 No Content", b"X: 1\r\n"),
            ),
            (
                _resp(headers=b"Connection: close\r\nContent-Length: 0\r\n"),
                _resp(headers=b"Content-Length: 0\r\n"),
            ),
            (
                _resp(headers=b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
                _resp(headers=b"Transfer-Encoding: chunked\r\n"),
            ),
            (_resp(headers=b"TE: gzip\r\n"), _resp()),
        ],
    )
    def test_forwarded(self, raw: bytes, out: bytes) -> None:
        got = head_bytes(resp(raw))
        assert got.split(b"\r\n")[0] == out.split(b"\r\n")[0]
        assert split_fields(got) == split_fields(out)

    @pytest.mark.parametrize(
        "raw",
        [
            b"garbage\r\n\r\n",
            _resp(b"http/1.1 200 OK"),
            _resp(b"HTTP/1.10 200 OK"),
            _resp(b"HTTP/1.1 abc OK"),
            _resp(b"HTTP/1.1 2x0 OK"),
            _resp(b"HTTP/1.1"),
            _resp(headers=b"X Y: 1\r\n"),
            _resp(headers=b"Content-Length: 3\r\nContent-Length: 4\r\n"),
            _resp(headers=b"Transfer-Encoding: gzip\r\n"),
            _resp(headers=b"Transfer-Encoding: chunked, gzip\r\n"),
            _resp(headers=b"Transfer-Encoding: chunked, chunked\r\n"),
            _resp(headers=b"".join(b"X%d: 1\r\n" % i for i in range(101))),
        ],
    )
    def test_502(self, raw: bytes) -> None:
        with pytest.raises(HttpError) as exc:
            parse_response_head(raw)
        assert (exc.value.status, exc.value.stream) == (502, True)

    def test_101_needs_an_upgrade_on_both_sides(self) -> None:
        raw = _resp(b"HTTP/1.1 101 Switching Protocols", b"Connection: upgrade\r\nUpgrade: h2c\r\n")
        with pytest.raises(HttpError):
            ResponseParser().parse(raw, Method.GET)
        assert ResponseParser().parse(raw, Method.GET, upgrade=True) is not None
        with pytest.raises(HttpError):
            ResponseParser().parse(
                _resp(b"HTTP/1.1 101 Switching Protocols"), Method.GET, upgrade=True
            )

    def test_websocket_101_needs_an_accept(self) -> None:
        ws = b"Connection: upgrade\r\nUpgrade: websocket\r\n"
        with pytest.raises(HttpError):
            ResponseParser().parse(
                _resp(b"HTTP/1.1 101 Switching Protocols", ws), Method.GET, upgrade=True
            )
        ok = _resp(b"HTTP/1.1 101 Switching Protocols", ws + b"Sec-WebSocket-Accept: x\r\n")
        head = ResponseParser().parse(ok, Method.GET, upgrade=True)
        assert head is not None
        assert head.framing is Framing.TUNNEL

    def test_lenient_names(self) -> None:
        head = resp(_resp(headers=b"X Y: 1\r\n"), accept_invalid=True)
        assert head.headers == [(b"X Y", b"1")]

    def test_informational(self) -> None:
        assert resp(_resp(b"HTTP/1.1 103 Early Hints")).informational
        assert resp(_resp(b"HTTP/1.1 100 Continue")).informational
        assert not resp(_resp(b"HTTP/1.1 200 OK")).informational
        assert not resp(_resp(b"HTTP/1.1 99 Odd", b"Content-Length: 0\r\n")).informational
