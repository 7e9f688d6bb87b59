"""``option http-buffer-request``, herdsman against haproxy 2.6.12 in the same test:
the bytes each client receives until the proxy closes, whether the origin got
a connection at all, and the requests it received.

Each case is a ``listen`` section of one configuration (each proxy starts
once, the cases run concurrently). A request whose body does not come within
``timeout http-request`` shows the wait: a 408 and no connection to the
origin, where without the option the origin gets the head at once. Expect:
100-continue is answered by the proxy itself and removed. A POST for a
``balance url_param`` backend waits the same way, option or not.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass

import pytest
from httppeers import KINDS, Origin, proxy, read_until_closed, seen_summary

from herdsman.testing import free_port

pytestmark = pytest.mark.haproxy

HEAD = """\
global
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    timeout http-request 300ms
"""

BUFFER = "    option http-buffer-request\n"


def post(body: bytes, length: int | None = None, extra: bytes = b"") -> bytes:
    n = len(body) if length is None else length
    return (
        b"POST /p HTTP/1.1\r\nhost: t\r\ncontent-length: %d\r\n" % n
        + extra
        + b"connection: close\r\n\r\n"
        + body
    )


CHUNKED = (
    b"POST /c HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    b"5\r\nhello\r\n0\r\n\r\n"
)
EXPECT = b"expect: 100-continue\r\n"


@dataclass(frozen=True)
class Case:
    name: str
    lines: str
    send: bytes
    backend: bool = False  # ``lines`` in a backend behind a plain frontend
    front: str = ""  # with ``backend``: the frontend's lines


def errorfile_408(who: str) -> str:
    """An ``errorfile 408`` line whose page says which proxy's it is."""
    path = os.path.join(tempfile.mkdtemp(prefix="hm-ef-"), f"{who}408.http")
    with open(path, "wb") as f:
        f.write(
            b"HTTP/1.1 408 Request Time-out\r\nx-from: %s\r\ncontent-length: 0\r\n"
            b"connection: close\r\n\r\n" % who.encode()
        )
    return f"    errorfile 408 {path}\n"


CASES = [
    Case("whole body", BUFFER, post(b"hello")),
    Case("part of the body, timeout", BUFFER, post(b"abc", 10)),
    Case("part of the body, without the option", "", post(b"abc", 10)),
    Case("no body", BUFFER, b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"),
    Case("empty body", BUFFER, post(b"")),
    Case("chunked body", BUFFER, CHUNKED),
    Case("chunked, no last chunk", BUFFER, CHUNKED[:-5]),
    Case("expect 100-continue, body sent", BUFFER, post(b"hello", extra=EXPECT)),
    Case("expect 100-continue, no body", BUFFER, post(b"", 5, extra=EXPECT)),
    Case(
        "expect 100-continue, HTTP/1.0",
        BUFFER,
        post(b"hello", extra=EXPECT).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    ),
    Case("expect, without the option", "", post(b"hello", extra=EXPECT)),
    Case("body larger than the buffer", BUFFER, post(b"x" * 40000)),
    Case("below a full buffer, timeout", BUFFER, post(b"x" * 8000, 40000)),
    Case(
        "a rule reads the body",
        BUFFER + "    http-request set-header x-body %[req.body]\n",
        post(b"hello"),
    ),
    Case(
        "a rule denies on the body",
        BUFFER + "    http-request deny if { req.body -m sub secret }\n",
        post(b"a secret"),
    ),
    Case("a deny rule waits for the body", BUFFER + "    http-request deny\n", post(b"abc", 10)),
    Case("in the backend, whole body", BUFFER, post(b"hello", extra=EXPECT), backend=True),
    Case(
        "in the backend, part of the body",
        BUFFER + "    timeout http-request 100ms\n",
        post(b"abc", 10),
        backend=True,
    ),
    Case("url_param, a POST's body", "    balance url_param id\n", post(b"id=4", 10)),
    Case(
        "url_param, in the query",
        "    balance url_param id\n",
        post(b"a", 5).replace(b"/p ", b"/p?id=3 "),
    ),
    Case(
        "url_param, a GET", "    balance url_param id\n", post(b"abc", 10).replace(b"POST", b"GET")
    ),
    Case("url_param, expect", "    balance url_param id\n", post(b"id=1", extra=EXPECT)),
    Case(
        "url_param, use-server",
        "    balance url_param id\n    use-server s if TRUE\n",
        post(b"abc", 10),
    ),
    # before the switching rules the stream's backend is the frontend: its page
    Case(
        "the frontend waits: the frontend's 408",
        errorfile_408("be"),
        post(b"abc", 10),
        backend=True,
        front=BUFFER + errorfile_408("fe"),
    ),
    Case(
        "the backend waits: the backend's 408",
        BUFFER + errorfile_408("be"),
        post(b"abc", 10),
        backend=True,
        front=errorfile_408("fe"),
    ),
    Case("own timeout http-request", BUFFER + "    timeout http-request 100ms\n", post(b"", 5)),
    Case(
        "no timeout http-request: timeout client",
        BUFFER + "    timeout http-request 0\n    timeout client 300ms\n",
        post(b"ab", 5),
    ),
]


async def run_cases(kind: str) -> list[object]:
    origins = [await Origin().start() for _ in CASES]
    ports = [free_port() for _ in CASES]
    sections = "".join(
        f"frontend c{i}\n    bind 127.0.0.1:{port}\n{case.front}    default_backend b{i}\n"
        f"backend b{i}\n{case.lines}    server s 127.0.0.1:{origin.port}\n"
        if case.backend
        else f"listen c{i}\n    bind 127.0.0.1:{port}\n{case.lines}"
        f"    server s 127.0.0.1:{origin.port}\n"
        for i, (case, port, origin) in enumerate(zip(CASES, ports, origins, strict=True))
    )
    try:
        async with proxy(kind, HEAD + sections, ports[-1]):
            got = await asyncio.gather(
                *(
                    read_until_closed(port, case.send)
                    for case, port in zip(CASES, ports, strict=True)
                )
            )
        return [
            (case.name, answer, len(origin.conns), seen_summary(origin))
            for case, answer, origin in zip(CASES, got, origins, strict=True)
        ]
    finally:
        for o in origins:
            await o.close()


async def test_buffer_request_as_haproxy() -> None:
    got = {kind: await run_cases(kind) for kind in KINDS}
    differ = [
        (mine, theirs)
        for mine, theirs in zip(got["herdsman"], got["haproxy"], strict=True)
        if mine != theirs
    ]
    assert differ == []
