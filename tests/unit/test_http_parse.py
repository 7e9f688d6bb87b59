"""Request and response heads: verdicts, framing and the bytes to forward.

Expectations are the 2.6.12 binary's (tests/http_diff runs the same inputs
through it). Every input is also fed byte by byte, and canonical heads through
both the fast path and the exact lexer, which must agree.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.http import (
    Flag,
    Framing,
    HttpError,
    Limits,
    Method,
    RequestHead,
    RequestParser,
    head_bytes,
    parse_request_head,
)
from herdsman.http.exact import ExactParser
from herdsman.http.model import split_fields


def _req(
    line: bytes = b"GET / HTTP/1.1", headers: bytes = b"Host: a\r\n", body: bytes = b""
) -> bytes:
    return line + b"\r\n" + headers + b"\r\n" + body


def parse_whole(buf: bytes, **kw: bool) -> RequestHead:
    head = parse_request_head(buf, **kw)
    assert head is not None
    return head


def parse_bytewise(buf: bytes, **kw: bool) -> RequestHead | None:
    """Feed the input one byte at a time, as a slow client would send it."""
    parser = RequestParser(**kw)
    for i in range(1, len(buf) + 1):
        head = parser.parse(buf[:i])
        if head is not None:
            return head
    return None


def status_of(buf: bytes, **kw: bool) -> int:
    with pytest.raises(HttpError) as exc:
        parse_request_head(buf, **kw)
    return exc.value.status


def forwarded(buf: bytes) -> bytes:
    return head_bytes(parse_whole(buf))


class TestValidRequests:
    """What is accepted, and what HAProxy forwards for it (before any Connection header)."""

    @pytest.mark.parametrize(
        ("raw", "out"),
        [
            (_req(), _req()),
            (_req(b"get / HTTP/1.1"), _req(b"get / HTTP/1.1")),
            (_req(b"FOO /x?y=1 HTTP/1.1"), _req(b"FOO /x?y=1 HTTP/1.1")),
            # the request line is rebuilt with single spaces
            (_req(b"GET  / HTTP/1.1"), _req()),
            (_req(b"GET\t/\tHTTP/1.1"), _req()),
            # a version above 1.1 goes out as HTTP/1.1
            (_req(b"GET / HTTP/1.2"), _req()),
            (_req(b"GET / HTTP/2.0"), _req()),
            (_req(b"GET / HTTP/0.9"), _req(b"GET / HTTP/0.9")),
            # leading empty lines are skipped, bare LF ends lines
            (b"\r\n\n" + _req(), _req()),
            (b"GET / HTTP/1.1\nHost: a\n\n", _req()),
            # obs-fold: the line end becomes spaces
            (_req(headers=b"X: a\r\n b\r\n"), _req(headers=b"X: a   b\r\n")),
            (_req(headers=b"X: a\n\tb\r\n"), _req(headers=b"X: a \tb\r\n")),
            (_req(headers=b"Host: a\r\n X: b\r\n"), _req(headers=b"Host: a   X: b\r\n")),
            # Connection: close and keep-alive tokens never cross
            (_req(headers=b"Host: a\r\nConnection: keep-alive\r\n"), _req()),
            (
                _req(headers=b"Host: a\r\nConnection: foo,close,bar\r\n"),
                _req(headers=b"Host: a\r\nConnection: foo,bar\r\n"),
            ),
            (
                _req(headers=b"Host: a\r\nConnection:  foo ,  bar  \r\n"),
                _req(headers=b"Host: a\r\nConnection:  foo ,  bar  \r\n"),
            ),
            # one Content-Length, the last word of a list of equal values
            (
                _req(headers=b"Content-Length: 3, 3\r\n", body=b"abc"),
                _req(headers=b"Content-Length: 3\r\n"),
            ),
            (
                _req(headers=b"Content-Length: 3\r\nContent-Length: 3\r\n", body=b"abc"),
                _req(headers=b"Content-Length: 3\r\n"),
            ),
            # Transfer-Encoding wins over Content-Length, which is removed
            (
                _req(headers=b"Content-Length: 9\r\nTransfer-Encoding: chunked\r\n"),
                _req(headers=b"Transfer-Encoding: chunked\r\n"),
            ),
            # a second Host equal to the first is dropped
            (_req(headers=b"Host: a\r\nHost: A\r\n"), _req()),
            # TE keeps only "trailers"
            (
                _req(headers=b"Host: a\r\nTE: gzip, trailers\r\n"),
                _req(headers=b"Host: a\r\nTE: trailers\r\n"),
            ),
            (_req(headers=b"Host: a\r\nTE: gzip\r\n"), _req()),
            # absolute-form: the default port goes, from the target and from Host
            (
                _req(b"GET http://a:80/b HTTP/1.1", b"Host: a:80\r\n"),
                _req(b"GET http://a/b HTTP/1.1"),
            ),
            (_req(b"GET https://a:443/b HTTP/1.1"), _req(b"GET https://a/b HTTP/1.1")),
            (_req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443\r\n"), _req(b"CONNECT a:443 HTTP/1.1")),
            # a request with a body loses its Upgrade header
            (
                _req(
                    headers=b"Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 1\r\n",
                    body=b"x",
                ),
                _req(headers=b"Connection: upgrade\r\nContent-Length: 1\r\n"),
            ),
            # header values may hold any byte but CR and LF
            (_req(headers=b"X: a\x00\x7f\xffb\r\n"), _req(headers=b"X: a\x00\x7f\xffb\r\n")),
        ],
    )
    def test_forwarded_bytes(self, raw: bytes, out: bytes) -> None:
        assert split_fields(forwarded(raw)) == split_fields(out)
        assert forwarded(raw).split(b"\r\n")[0] == out.split(b"\r\n")[0]
        bytewise = parse_bytewise(raw)
        assert bytewise is not None
        assert split_fields(head_bytes(bytewise)) == split_fields(out)

    def test_parser_resets_between_messages(self) -> None:
        """A parser serves a whole connection: partial heads resume, complete ones
        reset it for the next pipelined message; an empty buffer changes nothing."""
        parser = RequestParser()
        assert parser.parse(b"") is None
        assert parser._exact is None
        first = parser.parse(b"GET /a HTTP/1.1\r\nHo")
        assert first is None
        head = parser.parse(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b")
        assert head is not None
        assert head.target == b"/a"
        assert parser.parse(b"GET /b") is None
        second = parser.parse(b"GET /b HTTP/1.1\r\n\r\n")
        assert second is not None
        assert second.target == b"/b"

    def test_unchanged_head_is_not_copied(self) -> None:
        raw = _req(headers=b"Host: a\r\nUser-Agent: x\r\n")
        head = parse_whole(raw)
        assert head.edits == ()
        assert head_bytes(head) is head.raw

    @pytest.mark.parametrize(
        ("raw", "framing", "length"),
        [
            (_req(), Framing.NONE, 0),
            (_req(headers=b"Content-Length: 0\r\n"), Framing.NONE, 0),
            (_req(headers=b"Content-Length: 12\r\n"), Framing.LENGTH, 12),
            (_req(headers=b"Content-Length: 03\r\n"), Framing.LENGTH, 3),
            (_req(headers=b"Transfer-Encoding: chunked\r\n"), Framing.CHUNKED, 0),
            (_req(headers=b"Transfer-Encoding: Chunked\r\n"), Framing.CHUNKED, 0),
            (_req(headers=b"Transfer-Encoding: chunked,\r\n"), Framing.CHUNKED, 0),
            (
                _req(headers=b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
                Framing.CHUNKED,
                0,
            ),
            (
                _req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443\r\nContent-Length: 3\r\n"),
                Framing.NONE,
                0,
            ),
            # 2**64 wraps to 0, as HAProxy's accumulator does
            (_req(headers=b"Content-Length: 18446744073709551616\r\n"), Framing.NONE, 0),
            (_req(headers=b"Content-Length: 18446744073709551615\r\n"), Framing.LENGTH, 2**64 - 1),
        ],
    )
    def test_framing(self, raw: bytes, framing: Framing, length: int) -> None:
        head = parse_whole(raw)
        assert (head.framing, head.content_length) == (framing, length)

    @pytest.mark.parametrize(
        ("raw", "flags"),
        [
            (_req(), Flag.VER_11),
            (_req(b"GET / HTTP/1.0"), Flag.NONE),
            (_req(b"GET / HTTP/1.0", b"Connection: Keep-Alive\r\n"), Flag.CONN_KEEPALIVE),
            (_req(headers=b"Connection: close\r\n"), Flag.VER_11 | Flag.CONN_CLOSE),
            # TE with CL, and TE with HTTP/1.0, force close
            (
                _req(headers=b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"),
                Flag.VER_11 | Flag.XFER_ENC | Flag.CONN_CLOSE,
            ),
            (
                _req(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked\r\n"),
                Flag.XFER_ENC | Flag.CONN_CLOSE,
            ),
            (
                _req(
                    headers=b"Connection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                ),
                Flag.VER_11 | Flag.CONN_UPGRADE | Flag.UPGRADE_WEBSOCKET | Flag.UPGRADE_TOKEN,
            ),
            (
                _req(headers=b"Expect: 100-continue\r\nContent-Length: 1\r\n"),
                Flag.VER_11 | Flag.EXPECT_100,
            ),
            (
                _req(headers=b"Expect: 100-Continue, x\r\nContent-Length: 0\r\n"),
                Flag.VER_11 | Flag.EXPECT_100,
            ),
            (_req(headers=b"Expect: 100-continue\r\n"), Flag.VER_11),
        ],
    )
    def test_flags(self, raw: bytes, flags: Flag) -> None:
        assert parse_whole(raw).flags == flags

    def test_fields(self) -> None:
        head = parse_whole(
            _req(b"POST /p HTTP/1.1", b"Host: ex.com\r\nX-A:  1 \r\nContent-Length: 2\r\n")
        )
        assert (head.method, head.meth, head.target, head.version) == (
            b"POST",
            Method.POST,
            b"/p",
            b"HTTP/1.1",
        )
        assert head.host == b"ex.com"
        assert head.headers == [(b"Host", b"ex.com"), (b"X-A", b"1"), (b"Content-Length", b"2")]
        assert head.size == len(
            _req(b"POST /p HTTP/1.1", b"Host: ex.com\r\nX-A:  1 \r\nContent-Length: 2\r\n")
        )

    def test_size_excludes_the_body_and_counts_leading_lines(self) -> None:
        raw = b"\r\n" + _req(headers=b"Content-Length: 3\r\n", body=b"abcGET")
        assert parse_whole(raw).size == len(raw) - 6


class TestRefusedRequests:
    """What HAProxy answers with an error, and which error."""

    @pytest.mark.parametrize(
        "raw",
        [
            _req(b"G@T / HTTP/1.1"),
            _req(b" GET / HTTP/1.1"),
            _req(b"GET / HTTP/1.1 "),
            _req(b"GET / http/1.1"),
            _req(b"GET / HTTP/1.10"),
            _req(b"GET / HTTP/1"),
            _req(b"GET /a#b HTTP/1.1"),
            _req(b"GET /a\x01b HTTP/1.1"),
            _req(b"GET /"),  # HTTP/0.9
            b"GET /\r\n\r\n",
            b"GET / HTTP/1.1\rHost: a\r\n\r\n",
            b"\rGET / HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\x00\xa5",
            _req(headers=b"X@Y: a\r\n"),
            _req(headers=b"X Y: a\r\n"),
            _req(headers=b"Host : a\r\n"),
            _req(headers=b": a\r\n"),
            _req(headers=b"X\r\n"),
            _req(headers=b" X: a\r\nHost: a\r\n"),
            _req(headers=b"X: a\rb\r\n"),
            _req(headers=b"Host: a\r\nHost: b\r\n"),
            _req(headers=b"Content-Length: 3\r\nContent-Length: 4\r\n"),
            _req(headers=b"Content-Length: 3, 4\r\n"),
            _req(headers=b"Content-Length: +3\r\n"),
            _req(headers=b"Content-Length: 3a\r\n"),
            _req(headers=b"Content-Length:\r\n"),
            _req(headers=b"Content-Length: 3,\r\n"),
            _req(headers=b"Content-Length: 99999999999999999999999\r\n"),
            _req(headers=b"Transfer-Encoding: chunked, chunked\r\n"),
            _req(headers=b"Transfer-Encoding: chunked, gzip\r\n"),
            _req(headers=b"Transfer-Encoding: gzip\r\n"),
            _req(headers=b"Transfer-Encoding: \r\n"),
            _req(headers=b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            _req(b"GET http://b/ HTTP/1.1"),
            _req(b"GET a:443 HTTP/1.1"),
            _req(b"CONNECT a HTTP/1.1", b"Host: a\r\n"),
            _req(b"CONNECT a:443 HTTP/1.1", b"Host: b:443\r\n"),
            _req(headers=b"Connection: upgrade\r\nUpgrade: websocket\r\n"),
            _req(
                headers=b"Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n"
            ),
        ],
    )
    def test_400(self, raw: bytes) -> None:
        assert status_of(raw) == 400
        with pytest.raises(HttpError):
            parse_bytewise(raw)

    @pytest.mark.parametrize(
        ("raw", "status"),
        [
            (_req(b"GET / HTTP/1.0", b"Content-Length: 1\r\n"), 413),
            (_req(b"HEAD / HTTP/1.0", b"Content-Length: 1\r\n"), 413),
            (_req(b"DELETE / HTTP/1.0", b"Transfer-Encoding: chunked\r\n"), 413),
            (_req(headers=b"Transfer-Encoding: gzip, chunked\r\n"), 422),
            (_req(headers=b"Transfer-Encoding: ,chunked\r\n"), 422),
            (_req(headers=b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 422),
        ],
    )
    def test_other_statuses(self, raw: bytes, status: int) -> None:
        assert status_of(raw) == status

    def test_payload_on_get_allowed_by_the_global_option(self) -> None:
        head = parse_whole(
            _req(b"GET / HTTP/1.0", b"Content-Length: 1\r\n"), accept_any_payload=True
        )
        assert head.framing is Framing.LENGTH

    def test_pri_is_refused_by_the_stream(self) -> None:
        with pytest.raises(HttpError) as exc:
            parse_request_head(_req(b"PRI * HTTP/1.1"))
        assert (exc.value.status, exc.value.stream) == (400, True)

    def test_errors_found_before_the_head_is_complete(self) -> None:
        """HAProxy refuses as soon as a byte is wrong, without waiting for the end."""
        parser = RequestParser()
        assert parser.parse(b"GET /a") is None
        with pytest.raises(HttpError):
            parser.parse(b"G@T")
        with pytest.raises(HttpError):
            RequestParser().parse(b"POST / HTTP/1.1\r\nContent-Length: x\r\nHo")


class TestUriBytes:
    """The request-URI check as the 2.6.12 binary makes it (4 bytes at a time first)."""

    @pytest.mark.parametrize(
        ("uri", "ok"),
        [
            (b"/a\x7fbcdefg", True),  # 0x7f inside a 4-byte group with ordinary bytes
            (b"/\x7fabcdefg", True),
            (b"/abcdefg\x7f", False),  # in the tail checked byte by byte
            (b"/a\x80bcdefg", True),
            (b"/abcdefg\x80", False),  # 0x80-0xff with the byte test: refused
            (b"/aa\xa3bcdef", True),
            (b"/aa\xa4bcdef", False),
            (b'/a"b', True),
            (b"/a#b", False),
        ],
    )
    def test_uri(self, uri: bytes, ok: bool) -> None:
        raw = _req(b"GET " + uri + b" HTTP/1.1")
        if ok:
            assert parse_whole(raw).target == uri
        else:
            assert status_of(raw) == 400

    def test_lenient_mode_accepts_high_bytes_and_fragments(self) -> None:
        assert (
            parse_whole(_req(b"GET /a#\x80b HTTP/1.1"), accept_invalid=True).target == b"/a#\x80b"
        )


class TestLenientRequests:
    """``option accept-invalid-http-request``."""

    def test_names(self) -> None:
        head = parse_whole(_req(headers=b"X Y: a\r\nHost : b\r\n"), accept_invalid=True)
        assert head.headers == [(b"X Y", b"a"), (b"Host ", b"b")]
        assert head.host is None  # "Host " is not Host

    def test_http09_get_becomes_http10(self) -> None:
        head = parse_whole(b"GET /x\r\n", accept_invalid=True)
        assert (head.version, head_bytes(head)) == (b"HTTP/1.0", b"GET /x HTTP/1.0\r\n\r\n")

    def test_http09_other_methods_refused(self) -> None:
        assert status_of(b"POST /x\r\n", accept_invalid=True) == 400

    def test_versions_and_authority(self) -> None:
        assert (
            parse_whole(_req(b"GET http://b/ HTTP/1.1"), accept_invalid=True).target == b"http://b/"
        )
        assert parse_whole(_req(b"GET / HTTP/1.10"), accept_invalid=True).version == b"HTTP/1.10"

    def test_still_refused(self) -> None:
        for raw in (_req(headers=b": a\r\n"), _req(headers=b"X\r\n"), _req(b"GET /a\x01 HTTP/1.1")):
            assert status_of(raw, accept_invalid=True) == 400


class TestLimits:
    def test_raw_buffer(self) -> None:
        """The head must end within bufsize - 64 bytes."""
        ok = _req(headers=b"Host: a\r\nX: a" + b" " * 16287 + b"\r\n")
        assert len(ok) == 16320
        assert parse_whole(ok).size == 16320
        assert status_of(ok[:-4] + b" \r\n\r\n") == 400
        parser = RequestParser()
        with pytest.raises(HttpError):
            parser.parse(b"GET /" + b"a" * 16400)

    def test_htx_size(self) -> None:
        """The HTX form must fit in bufsize - maxrewrite - 48."""
        assert parse_whole(_req(b"GET /" + b"a" * 15250 + b" HTTP/1.1")) is not None
        assert status_of(_req(b"GET /" + b"a" * 15251 + b" HTTP/1.1")) == 400
        limits = Limits(bufsize=8192, maxrewrite=1024)
        raw = _req(headers=b"Host: a\r\nX: " + b"a" * 7049 + b"\r\n")
        assert parse_request_head(raw, limits) is not None
        with pytest.raises(HttpError):
            parse_request_head(_req(headers=b"Host: a\r\nX: " + b"a" * 7050 + b"\r\n"), limits)

    def test_header_count(self) -> None:
        hdrs = b"".join(b"X%d: 1\r\n" % i for i in range(100))
        assert len(parse_whole(_req(headers=hdrs)).headers) == 100
        assert status_of(_req(headers=hdrs + b"Y: 1\r\n")) == 400
        # a dropped duplicate does not count
        assert parse_whole(
            _req(headers=b"Host: a\r\n" + hdrs[: -len(b"X99: 1\r\n")] + b"Host: a\r\n")
        )


def _exact(buf: bytes) -> RequestHead:
    parser = RequestParser()
    ex = ExactParser(True, parser.limits, False)
    assert ex.feed(buf)
    return parser._finish_exact(ex)


def _outcome(parse: Callable[[bytes], RequestHead], raw: bytes) -> RequestHead | HttpError:
    try:
        return parse(raw)
    except HttpError as exc:
        return exc


_NAMES = st.sampled_from(
    [
        b"Host",
        b"host",
        b"Content-Length",
        b"Transfer-Encoding",
        b"Connection",
        b"Upgrade",
        b"TE",
        b"Expect",
        b"Sec-WebSocket-Key",
        b"X-A",
        b"Cookie",
    ]
)
_VALUES = st.sampled_from(
    [
        b"a",
        b"A",
        b"b",
        b"0",
        b"3",
        b"3, 3",
        b"03",
        b"x",
        b"chunked",
        b"gzip, chunked",
        b"chunked, x",
        b"close",
        b"keep-alive",
        b"upgrade",
        b"Upgrade, close",
        b"foo, keep-alive",
        b"websocket",
        b"trailers",
        b"gzip",
        b"100-continue",
        b"dGhlIHNhbXBsZSBub25jZQ==",
        b"",
        b" a ",
        b"\x00\x7f",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    method=st.sampled_from([b"GET", b"POST", b"HEAD", b"get", b"FOO", b"CONNECT", b"DELETE"]),
    target=st.sampled_from([b"/", b"/a?b", b"*", b"a:443", b"http://a/x", b"http://a:80/x"]),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]),
    fields=st.lists(st.tuples(_NAMES, _VALUES), max_size=8),
)
def test_fast_path_agrees_with_the_exact_lexer(
    method: bytes, target: bytes, version: bytes, fields: list[tuple[bytes, bytes]]
) -> None:
    raw = _req(
        method + b" " + target + b" " + version,
        b"".join(n + b": " + v + b"\r\n" for n, v in fields),
    )
    fast = _outcome(parse_whole, raw)
    exact = _outcome(_exact, raw)
    if isinstance(fast, HttpError) or isinstance(exact, HttpError):
        assert isinstance(fast, HttpError)
        assert isinstance(exact, HttpError)
        assert (fast.status, fast.stream) == (exact.status, exact.stream)
        return
    for attr in (
        "size",
        "method",
        "meth",
        "target",
        "version",
        "flags",
        "framing",
        "content_length",
        "host",
    ):
        assert getattr(fast, attr) == getattr(exact, attr), attr
    assert split_fields(head_bytes(fast)) == split_fields(head_bytes(exact))
    assert head_bytes(fast).split(b"\r\n")[0] == head_bytes(exact).split(b"\r\n")[0]
