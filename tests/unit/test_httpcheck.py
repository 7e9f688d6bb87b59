"""HTTP checks, sans-IO: request bytes (``checks/http_request.py``), response parser
(``http_response.py``), expect (``http_expect.py``).

``REQUESTS`` holds the exact bytes haproxy 2.6.12 sent for each configuration
(observed-2.6.12-checks.md VERBATIM, plus the cases captured for this module:
Connection header variants, methods and content-length, absolute URIs).
tests/integration/test_check_runner.py sends them over real sockets and
compares with the binary.
"""

from __future__ import annotations

import pytest
from test_check_config import parse_section

from herdsman.checks.expect import Verdict, eval_http_expect
from herdsman.checks.http_request import build_request
from herdsman.checks.http_response import ResponseParser
from herdsman.defs.rules import ExpectKind, ExpectRule, HttpSendRule
from herdsman.defs.status import Status
from herdsman.sample.logformat import BUFSIZE, LogFormat

STATE = "UP 1/3; address=127.0.0.1; port=9805; name=d5/s; node=lb1; weight=1/1; scur=0/0; qcur=0"
CTX = {"srv_name": "s", "srv_id": "1", "be_name": "h16", "be_id": "18", "hostname": "host1"}

# (config lines of the backend, request bytes on the wire)
REQUESTS: list[tuple[list[str], bytes]] = [
    (["option httpchk"], b"OPTIONS / HTTP/1.0\r\n\r\n"),
    (["option httpchk /u"], b"OPTIONS /u HTTP/1.0\r\n\r\n"),
    (["option httpchk GET /t"], b"GET /t HTTP/1.0\r\n\r\n"),
    (["option httpchk GET /u HTTP/1.1"], b"GET /u HTTP/1.1\r\nconnection: close\r\n\r\n"),
    (
        ["option httpchk GET /u HTTP/1.1", "http-check send hdr Host example.com"],
        b"GET /u HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpchk",
            "http-check send meth POST uri /p ver HTTP/1.1 hdr Host h hdr X-Mixed-Case Val body abc",
        ],
        b"POST /p HTTP/1.1\r\nhost: h\r\nx-mixed-case: Val\r\ncontent-length: 3\r\n"
        b"connection: close\r\n\r\nabc",
    ),
    (
        ["option httpchk GET /b", "http-check send body xyz"],
        b"GET /b HTTP/1.0\r\ncontent-length: 3\r\n\r\nxyz",
    ),
    (
        ["option httpchk GET /k HTTP/1.1", "http-check send hdr Connection keep-alive"],
        b"GET /k HTTP/1.1\r\n\r\n",
    ),
    (["option httpchk GET /x HTTP/1.0", "http-check send ver HTTP/2"], b"GET /x HTTP/1.1\r\n\r\n"),
    (
        ["option httpchk HEAD / HTTP/1.1\\r\\nHost:\\ www"],
        b"HEAD / HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET /s", "http-check send-state"],
        b"GET /s HTTP/1.0\r\nx-haproxy-server-state: " + STATE.encode() + b"\r\n\r\n",
    ),
    # Connection header variants (h1_parse_connection_header + conn mode)
    (
        ["option httpchk GET /a HTTP/1.1", "http-check send hdr Connection close"],
        b"GET /a HTTP/1.1\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET /a HTTP/1.0", "http-check send hdr Connection keep-alive"],
        b"GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n",
    ),
    (
        ["option httpchk GET /a HTTP/1.0", "http-check send hdr Connection close"],
        b"GET /a HTTP/1.0\r\n\r\n",
    ),
    (
        ["option httpchk GET /a HTTP/1.1", "http-check send hdr Connection foo"],
        b"GET /a HTTP/1.1\r\nconnection: foo\r\n\r\n",
    ),
    # the backend's connection mode applies to checks (mux_h1.c h1_set_srv_conn_mode())
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr Connection foo",
            "option httpclose",
        ],
        b"GET /a HTTP/1.1\r\nconnection: foo\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr Connection foo",
            "option http-server-close",
        ],
        b"GET /a HTTP/1.1\r\nconnection: foo\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpclose",
            "option http-keep-alive",
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr Connection foo",
        ],
        b"GET /a HTTP/1.1\r\nconnection: foo\r\n\r\n",
    ),
    (
        ["option httpchk GET /a HTTP/1.1", 'http-check send hdr Connection "keep-alive, Upgrade"'],
        b"GET /a HTTP/1.1\r\nconnection: Upgrade\r\n\r\n",
    ),
    (["option httpchk GET /a HTTP/2.0"], b"GET /a HTTP/1.1\r\nconnection: close\r\n\r\n"),
    (["option httpchk GET /a HTTP/1.2"], b"GET /a HTTP/1.1\r\nconnection: close\r\n\r\n"),
    (["option httpchk GET /a foo"], b"GET /a foo\r\n\r\n"),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr Content-Length 5 hdr Transfer-Encoding chunked hdr X-A b",
        ],
        b"GET /a HTTP/1.1\r\nx-a: b\r\nconnection: close\r\n\r\n",
    ),
    # content-length: 0 only for methods with a payload meaning (case-sensitive)
    (["option httpchk get /a"], b"get /a HTTP/1.0\r\ncontent-length: 0\r\n\r\n"),
    (["option httpchk DELETE /a"], b"DELETE /a HTTP/1.0\r\n\r\n"),
    (
        ["option httpchk POST /a HTTP/1.1"],
        b"POST /a HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ),
    (["option httpchk CONNECT /a"], b"CONNECT /a HTTP/1.0\r\ncontent-length: 0\r\n\r\n"),
    (
        ["option httpchk GET http://example.org/p HTTP/1.1"],
        b"GET http://example.org/p HTTP/1.1\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET http://example.org/p HTTP/1.1", "http-check send hdr Host other"],
        b"GET http://other/p HTTP/1.1\r\nhost: other\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr X-E %[env(HERDSMAN_UNSET_VAR)] hdr X-F v",
        ],
        b"GET /a HTTP/1.1\r\nx-f: v\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send-state",
            "http-check send hdr X-A b body zz",
        ],
        b"GET /a HTTP/1.1\r\nx-a: b\r\nx-haproxy-server-state: "
        + STATE.encode()
        + b"\r\ncontent-length: 2\r\nconnection: close\r\n\r\nzz",
    ),
    (
        ["option httpchk GET /a", "http-check send ver HTTP/1.1 hdr host h"],
        b"GET /a HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n",
    ),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send uri-lf "
            "/%[srv_name]/%[be_name]/%[srv_id]/%[be_id]/%[str(Ab),lower]/%[str(Ab),upper]"
            "/%[str(Ab),hex]/%[str(Ab),base64]/%[int(7),hex]",
        ],
        b"GET /s/h16/1/18/ab/AB/4162/QWI=/0000000000000007 HTTP/1.1\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET /a HTTP/1.1", "http-check send uri-lf %[env(HERDSMAN_UNSET_VAR)]"],
        b"GET / HTTP/1.1\r\nconnection: close\r\n\r\n",
    ),
    # merging the option and the first send: a non-empty header list wins
    (
        ["http-check send hdr Host x", "option httpchk GET /a"],
        b"GET /a HTTP/1.0\r\nhost: x\r\n\r\n",
    ),
    (
        ["option httpchk GET / HTTP/1.1\\r\\nX-A:\\ 1", "http-check send meth POST"],
        b"POST / HTTP/1.1\r\nx-a: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET / HTTP/1.1\\r\\nX-A:\\ 1", "http-check send hdr X-B 2"],
        b"GET / HTTP/1.1\r\nx-b: 2\r\nconnection: close\r\n\r\n",
    ),
    (
        ["http-check send hdr X-B 2", "option httpchk GET / HTTP/1.1\\r\\nX-A:\\ 1"],
        b"GET / HTTP/1.1\r\nx-a: 1\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET / HTTP/1.1\\r\\n\\r\\nbody1", "http-check send meth POST"],
        b"POST / HTTP/1.1\r\ncontent-length: 5\r\nconnection: close\r\n\r\nbody1",
    ),
    (
        ["http-check send body b2", "option httpchk GET / HTTP/1.1\\r\\n\\r\\nbody1"],
        b"GET / HTTP/1.1\r\ncontent-length: 5\r\nconnection: close\r\n\r\nbody1",
    ),
    (
        ["http-check send meth PUT uri /x ver HTTP/1.1", "option httpchk GET"],
        b"PUT GET HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ),
    (
        ["http-check send hdr X-B 2", "option httpchk GET /a", "option httpchk GET /b"],
        b"GET /b HTTP/1.0\r\nx-b: 2\r\n\r\n",
    ),
    (["option httpchk OPTIONS * HTTP/1.1"], b"OPTIONS * HTTP/1.1\r\nconnection: close\r\n\r\n"),
    (
        ["option httpchk GET /a HTTP/1.1", 'http-check send hdr X-Multi "a, b" hdr x-multi c'],
        b"GET /a HTTP/1.1\r\nx-multi: a, b\r\nx-multi: c\r\nconnection: close\r\n\r\n",
    ),
    (
        ["option httpchk GET / HTTP/1.1\\r\\nHost:\\ www\\r\\nX-Y:\\ z\\r\\n\\r\\nbody"],
        b"GET / HTTP/1.1\r\nhost: www\r\nx-y: z\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbody",
    ),
    (
        ["option httpchk GET /a HTTP/1.1", "http-check send body-lf %[srv_name]"],
        b"GET /a HTTP/1.1\r\ncontent-length: 1\r\nconnection: close\r\n\r\ns",
    ),
    (
        [
            "option httpchk GET /a HTTP/1.1",
            "http-check send hdr Expect 100-continue hdr Upgrade "
            "h2c hdr Keep-Alive x hdr Proxy-Connection y hdr TE trailers",
        ],
        b"GET /a HTTP/1.1\r\nexpect: 100-continue\r\nupgrade: h2c\r\nkeep-alive: x\r\n"
        b"proxy-connection: y\r\nte: trailers\r\nconnection: close\r\n\r\n",
    ),
]


def request_for(lines: list[str]) -> bytes:
    px, diag = parse_section(lines)
    assert not diag.fatal, diag.messages
    assert px.checks is not None
    send = next(r for r in px.checks.rules if isinstance(r, HttpSendRule))
    state = STATE if px.checks.send_state else None
    return build_request(
        send,
        CTX,
        state=state,
        force_close=px.checks.http_force_close,
        fake_keepalive=px.checks.http_fake_keepalive,
    )


@pytest.mark.parametrize(("lines", "expected"), REQUESTS)
def test_request_bytes(lines: list[str], expected: bytes) -> None:
    """The request is byte for byte what haproxy 2.6.12 sent for the same lines."""
    assert request_for(lines) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # option httpclose / http-server-close on the backend: the H1 mux forces close
        ({"force_close": True}, b"GET /a HTTP/1.1\r\nconnection: foo\r\nconnection: close\r\n\r\n"),
        # option http-pretend-keepalive: no close on 1.1, keep-alive on 1.0
        ({"fake_keepalive": True}, b"GET /a HTTP/1.1\r\nconnection: foo\r\n\r\n"),
    ],
)
def test_backend_http_mode_options(options: dict[str, bool], expected: bytes) -> None:
    rule = HttpSendRule(
        meth="GET", uri="/a", ver="HTTP/1.1", headers=[("Connection", LogFormat("foo"))]
    )
    assert build_request(rule, {}, **options) == expected
    plain = HttpSendRule(meth="GET", uri="/a", ver="HTTP/1.0")
    assert build_request(plain, {}, fake_keepalive=True) == (
        b"GET /a HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"
    )


def test_constant_request_built_once_dynamic_one_every_time() -> None:
    """Literal requests are cached per mux option; a header with a fetch is rebuilt each run."""
    rule = HttpSendRule(meth="GET", uri="/a", ver="HTTP/1.1", headers=[("X", LogFormat("y"))])
    first = build_request(rule, {})
    assert first == b"GET /a HTTP/1.1\r\nx: y\r\nconnection: close\r\n\r\n"
    assert build_request(rule, {}) is first
    assert build_request(rule, {}, fake_keepalive=True) == b"GET /a HTTP/1.1\r\nx: y\r\n\r\n"
    dynamic = HttpSendRule(
        meth="GET", uri="/a", ver="HTTP/1.1", headers=[("X", LogFormat("%[srv_name]"))]
    )
    assert (
        build_request(dynamic, {"srv_name": "a"})
        == b"GET /a HTTP/1.1\r\nx: a\r\nconnection: close\r\n\r\n"
    )
    assert (
        build_request(dynamic, {"srv_name": "b"})
        == b"GET /a HTTP/1.1\r\nx: b\r\nconnection: close\r\n\r\n"
    )
    assert not dynamic.wire


# -- response parser -----------------------------------------------------------------------


def parse(
    data: bytes, *, one_byte: bool = False, eof: bool = False, head: bool = False
) -> ResponseParser:
    resp = ResponseParser(head_request=head)
    if one_byte:
        for i in range(len(data)):
            resp.feed(data[i : i + 1])
    else:
        resp.feed(data)
    if eof:
        resp.eof()
    return resp


@pytest.fixture(params=[False, True], ids=["whole", "bytewise"])
def one_byte(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_status_headers_and_length_body(one_byte: bool) -> None:
    resp = parse(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 5\r\n\r\nhello extra",
        one_byte=one_byte,
    )
    assert (resp.status, resp.reason, resp.code_text) == (503, "Service Unavailable", "503")
    assert resp.headers == [("Content-Type", "text/plain"), ("Content-Length", "5")]
    assert resp.body == b"hello"
    assert resp.complete
    assert not resp.error


def test_chunked_body(one_byte: bool) -> None:
    resp = parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n3;ext=1\r\ndef\r\n0\r\nX-Trailer: y\r\n\r\n",
        one_byte=one_byte,
    )
    assert resp.body == b"abcdef"
    assert resp.complete
    assert not resp.error


def test_close_delimited_body(one_byte: bool) -> None:
    resp = parse(b"HTTP/1.0 200 OK\r\n\r\nabcdef", one_byte=one_byte)
    assert resp.body == b"abcdef"
    assert not resp.complete
    resp.eof()
    assert resp.complete


def test_bodyless_responses() -> None:
    """HEAD, 1xx, 204 and 304 have no body whatever their headers say."""
    assert parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", head=True).complete
    assert parse(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n").complete
    assert parse(b"HTTP/1.1 304 Not Modified\r\n\r\n").complete
    assert parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n").status == 100


def test_lenient_forms_haproxy_accepts() -> None:
    resp = parse(b"\r\nHTTP/1.1 200\nX-A:  b  \n  c\n\n")
    assert (resp.status, resp.reason, resp.headers) == (200, "", [("X-A", "b     c")])
    assert parse(b"HTTP/1.1 2000 Big\r\n\r\n").status == 2000
    assert parse(b"XXXX/1.1 200 OK\r\n\r\n").headers_done  # only "?/d.d" is checked


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/1.1 2xx OK\r\n\r\n",
        b"HTTP/11 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n X: folded-first\r\n\r\n",
        b"HTTP/1.1 200 OK\rX: y\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        # chunked twice across two headers (checked with the binary: L7RSP)
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1,\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ],
)
def test_invalid_responses(data: bytes, one_byte: bool) -> None:
    """The H1 parser of checks is strict: these are invalid (L7RSP, no info)."""
    assert parse(data, one_byte=one_byte).error


def test_premature_close_in_headers() -> None:
    assert parse(b"HTTP/1.1 200 OK\r\nX-A: b\r\n", eof=True).error
    assert not parse(b"\r\n", eof=True).error  # nothing but empty lines is just empty


def test_buffer_limit() -> None:
    head = b"HTTP/1.0 200 OK\r\n\r\n"
    resp = parse(head + b"x" * (2 * BUFSIZE))
    assert len(resp.body) == BUFSIZE
    assert resp.full
    assert parse(b"HTTP/1.1 200 OK\r\nX: " + b"y" * BUFSIZE).error  # headers too large


def test_content_length_wraps_as_the_binary_does() -> None:
    """2**64 is 0 in 2.6.12's h1_parse_cont_len_header(): the response is complete
    at once (checked with the binary: L7OK)."""
    resp = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n")
    assert resp.complete
    assert not resp.error


def test_te_wins_over_content_length() -> None:
    resp = parse(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\na\r\n0\r\n\r\n"
    )
    assert resp.body == b"a"
    assert resp.complete
    assert ("Content-Length", "100") not in resp.headers


# -- expect ------------------------------------------------------------------------------


def expect(line: str) -> ExpectRule:
    px, diag = parse_section(["option httpchk", f"http-check {line}"])
    assert not diag.fatal, diag.messages
    assert px.checks is not None
    rule = px.checks.rules[-1]
    assert isinstance(rule, ExpectRule)
    return rule


def judge(
    line: str, data: bytes, *, last_read: bool = False, skip_404: bool = False
) -> tuple[Verdict, Status, str]:
    out = eval_http_expect(expect(line), parse(data), last_read, CTX, skip_404=skip_404)
    return out.verdict, out.status, out.info


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json, text/html\r\nContent-Length: 6\r\n\r\nabcdef"


@pytest.mark.parametrize(
    ("line", "data", "verdict", "status", "info"),
    [
        ("expect status 200-399", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        (
            "expect status 200,201",
            b"HTTP/1.1 202 Accepted\r\n\r\n",
            Verdict.FAIL,
            Status.L7STS,
            "Accepted",
        ),
        ("expect ! status 200", OK, Verdict.FAIL, Status.L7STS, "OK"),
        ("expect rstatus ^2", b"HTTP/1.1 302 Found\r\n\r\n", Verdict.FAIL, Status.L7STS, "Found"),
        ("expect hdr name content-type value -m beg text", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        ("expect fhdr name content-type value -m beg text", OK, Verdict.FAIL, Status.L7STS, "OK"),
        ("expect hdr name -m sub TENT-TY", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        ("expect hdr name -m reg ^Content-Type$", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        (
            "expect hdr name content-type value -m reg ^text/",
            OK,
            Verdict.CONTINUE,
            Status.L7RSP,
            "",
        ),
        ("expect hdr name content-type value Text/html", OK, Verdict.FAIL, Status.L7STS, "OK"),
        ("expect hdr name x-nope", OK, Verdict.FAIL, Status.L7STS, "OK"),
        ("expect hdr name-lf %[str(content-type)]", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        ("expect string cde", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        ("expect string xyz", OK, Verdict.FAIL, Status.L7RSP, "HTTP content check did not match"),
        (
            "expect ! string cde",
            OK,
            Verdict.FAIL,
            Status.L7RSP,
            "HTTP check matched unwanted content",
        ),
        ("expect rstring ^a.c", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        ("expect string-lf %[str(bcd)]", OK, Verdict.CONTINUE, Status.L7RSP, ""),
        (
            "expect string-lf %[env(HERDSMAN_UNSET_VAR)]",
            OK,
            Verdict.FAIL,
            Status.L7RSP,
            "log-format string evaluated to an empty string",
        ),
        (
            "expect error-status L7OKC status 200",
            b"HTTP/1.1 500 Internal\r\n\r\n",
            Verdict.FAIL,
            Status.L7OKC,
            "Internal",
        ),
        (
            "expect status 200 on-error x",
            b"HTTP/1.1 500 Internal\r\n\r\n",
            Verdict.FAIL,
            Status.L7STS,
            "",
        ),
        (
            "expect string x",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            Verdict.FAIL,
            Status.L7RSP,
            "HTTP content check could not find a response body",
        ),
        ("expect status 200", b"garbage\r\n\r\n", Verdict.FAIL, Status.L7RSP, ""),
        ("expect status 200", b"HTTP/1.1 200 OK\r\n", Verdict.WAIT, Status.L7RSP, ""),
    ],
)
def test_expect(line: str, data: bytes, verdict: Verdict, status: Status, info: str) -> None:
    got = judge(line, data)
    assert got[0] is verdict
    if verdict is Verdict.FAIL:
        assert got[1:] == (status, info)


def test_body_rules_wait() -> None:
    """Body rules wait for the end of the message, the buffer or a close (spec §5.3)."""
    partial = b"HTTP/1.0 200 OK\r\n\r\nab"
    assert judge("expect string abc", partial)[0] is Verdict.WAIT  # shorter than the pattern
    assert judge("expect string xy", partial)[0] is Verdict.WAIT  # mismatch: more may come
    assert judge("expect string xy", partial, last_read=True)[0] is Verdict.FAIL
    assert judge("expect min-recv 1 string xy", partial)[0] is Verdict.FAIL  # min-recv: final
    assert judge("expect min-recv 5 string ab", partial)[0] is Verdict.WAIT
    assert judge("expect ! string xy", partial)[0] is Verdict.WAIT  # negated: decided at the end
    assert judge("expect ! string xy", partial, last_read=True)[0] is Verdict.CONTINUE
    assert judge("expect string x", b"HTTP/1.0 200 OK\r\n\r\n")[0] is Verdict.WAIT
    assert judge("expect status 200", b"")[0] is Verdict.WAIT
    assert judge("expect status 200", b"", last_read=True)[1:] == (Status.L7RSP, "")


def test_disable_on_404_skips_the_rule() -> None:
    resp = b"HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nabcdef"
    assert judge("expect string xyz", resp, skip_404=True)[0] is Verdict.CONTINUE
    assert judge("expect string xyz", resp)[0] is Verdict.FAIL
    assert judge("expect status 200", b"garbage\r\n\r\n", skip_404=True)[0] is Verdict.FAIL


def test_status_code_list_shapes() -> None:
    assert expect("expect status 200").pattern == ((200, 200),)
    assert expect("expect status ,").pattern == ((0, 0), (0, 0))
    assert expect("expect status 200,300-399").kind is ExpectKind.HTTP_STATUS
