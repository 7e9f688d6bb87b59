"""The checks' fast path decides only what the interpreter decides (``checks/fastpath.py``).

``plan()`` takes only the connect-only check and a plain ``httpchk`` with
``expect status``; ``Plan.judge()`` accepts only responses the interpreter
also accepts, with the same status, code and info, whatever the bytes
(Hypothesis). The runs themselves, fast and general side by side over real
sockets, are in tests/integration/test_check_runner.py and test_fastpath_runs.py.
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tcpcheck import TARGET, ruleset

from herdsman.checks.fastpath import plan
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import Connect, Done, TcpCheck
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import Status

HTTP = ("option httpchk GET /",)


@pytest.mark.parametrize(
    "lines",
    [
        (),
        HTTP,
        ("option httpchk",),
        ("option httpchk GET /health HTTP/1.1", "http-check send hdr Host example.com"),
        (*HTTP, "http-check expect status 200"),
        (*HTTP, "http-check expect status 200-299,301"),
    ],
)
def test_planned(lines: tuple[str, ...]) -> None:
    assert plan(ruleset(*lines), TARGET) is not None


@pytest.mark.parametrize(
    "lines",
    [
        ("option tcp-check",),
        ("option redis-check",),
        (*HTTP, "http-check expect rstatus ^2"),
        (*HTTP, "http-check expect ! status 200"),
        (*HTTP, "http-check expect status 200 comment x"),
        (*HTTP, "http-check expect status 200 error-status L7RSP"),
        (*HTTP, "http-check expect status 200 on-success ok"),
        (*HTTP, "http-check expect string ok"),
        (*HTTP, "http-check disable-on-404"),
        (*HTTP, "http-check send-state"),
        (*HTTP, "http-check send hdr X %[srv_name]"),
        (*HTTP, "http-check expect status 200", "http-check expect status 200"),
        (
            "option httpchk",
            "http-check connect port 81",
            "http-check send meth GET",
            "http-check expect status 200",
        ),
    ],
)
def test_not_planned(lines: tuple[str, ...]) -> None:
    assert plan(ruleset(*lines), TARGET) is None


def test_not_planned_with_a_proxy_header() -> None:
    from dataclasses import replace

    assert plan(Ruleset(), replace(TARGET, send_proxy=True)) is None


def test_not_planned_over_tls() -> None:
    """A TLS check (check-ssl, or the server's ssl) handshakes first: the general runner."""
    from dataclasses import replace

    assert plan(Ruleset(), replace(TARGET, tls=True)) is None
    assert plan(ruleset("option httpchk GET /"), replace(TARGET, tls=True)) is None


def test_the_plan_is_what_the_interpreter_would_do() -> None:
    from dataclasses import replace

    target = replace(TARGET, timeout_check=300, timeout_connect=500, inter=2000)
    rs = ruleset(*HTTP)
    p = plan(rs, target)
    assert p is not None
    first = TcpCheck(rs, target).start()
    assert first[0] == p.connect
    assert first[1].timeout_ms == p.deadline_ms == 500  # type: ignore[union-attr]
    assert p.timeout_check == 300
    assert p.request == b"GET / HTTP/1.0\r\n\r\n"
    assert plan(Ruleset(), TARGET) is not None


def interpreted(rs: Ruleset, data: bytes, target: CheckTarget = TARGET) -> CheckResult | None:
    """The interpreter's verdict on ``data`` received at once (None: it waits)."""
    check = TcpCheck(rs, target)
    check.start()
    actions = check.connected() + check.received(data)
    done = [a for a in actions if isinstance(a, Done)]
    return done[0].result if done else None


RS = ruleset(*HTTP)
RS_200 = ruleset(*HTTP, "http-check expect status 200,204")
GOOD = [
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nServer: x\r\nX-Empty:\r\n\r\n",
    b"HTTP/1.1 200\r\n\r\n",
    b"HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok",
]
OTHERS = [
    b"HTTP/1.1 503 Service Unavailable\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1  200 OK\r\n\r\n",
    b"\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"http/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nFolded: a\r\n b\r\n\r\n",
    b"HTTP/1.1 200 OK\nX: y\n\n",
    b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"garbage\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
]


@pytest.mark.parametrize("data", GOOD + OTHERS)
@pytest.mark.parametrize("rs", [RS, RS_200], ids=["default", "200,204"])
def test_judge_agrees_with_the_interpreter(rs: Ruleset, data: bytes) -> None:
    p = plan(rs, TARGET)
    assert p is not None
    verdict = p.judge(data)
    if verdict is not None:
        assert verdict == interpreted(rs, data)


@pytest.mark.parametrize("data", GOOD)
def test_the_plain_successes_are_decided_fast(data: bytes) -> None:
    p = plan(RS, TARGET)
    assert p is not None
    status = int(data[9:12])
    assert p.judge(data) == CheckResult(Status.L7OK, status, "")


_TCHAR = st.sampled_from(list(b"abcXYZ-09!#$%&'*+.^_`|~ :\t\r\n,"))
_PIECES = st.lists(
    st.sampled_from(
        [
            b"HTTP/1.1 ",
            b"HTTP/1.0 ",
            b"200",
            b"204",
            b"404",
            b"503",
            b" OK",
            b"\r\n",
            b"\n",
            b"Content-Length:",
            b"content-length: ",
            b"Transfer-Encoding: chunked",
            b"0",
            b"1",
            b",",
            b"X-A: b",
            b" ",
            b"\t",
            b"ok",
        ]
    )
    # bytes drawn as integers: hypothesis keys its cache on the drawn choices, and
    # under -bb a key holding b"" meets one holding 0 (same hash) -> BytesWarning
    | st.builds(bytes, st.lists(st.integers(0, 255), max_size=3))
    | st.builds(bytes, st.lists(_TCHAR, max_size=4)),
    max_size=14,
)


@settings(max_examples=400)
@given(_PIECES)
def test_judge_never_contradicts_the_interpreter(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    for rs in (RS, RS_200):
        p = plan(rs, TARGET)
        assert p is not None
        verdict = p.judge(data)
        if verdict is not None:
            assert verdict == interpreted(rs, data), data


def test_connect_only_plan() -> None:
    p = plan(Ruleset(), TARGET)
    assert p is not None
    assert p.request == b""
    assert p.connect == Connect(socket.AF_INET, "127.0.0.1", 9500, delack=True)
