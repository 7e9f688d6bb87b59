"""HTTP mode's Python cost per transaction, without sockets.

    .venv/bin/python bench/http_path.py [--seconds 0.5] [--profile out.prof]

One ``HttpSession`` of a real configuration (``listen`` in ``mode http``, one
server, HAProxy's defaults) on a uvloop loop, its client and server
connections replaced by in-memory transports that record what is written.
Each round feeds a request to the session (``data_received``) and, once the
session wrote it to the server connection, a response to that connection, as
the loop would: the session's own work per transaction and nothing of the
kernel's or the loop's. Cases: ``keepalive`` (wrk's request and nginx's
answer on a server connection from the idle pool), ``close`` (a new client
connection per request, ``Connection: close``, the server connection opened
by ``Upstream.open()`` replaced by a pooled one: what remains is the
session's set-up and tear-down), ``big`` (a 100 KiB response in 64 KiB
reads), ``heads`` (``keepalive``'s two heads parsed alone: the parsers' share of
it). Microseconds per transaction, best of 5 windows; pin it (``taskset
-c 1``). On a shared machine these numbers move far less than wrk's: they
guide changes to the data path, bench/http_mode.py measures them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse
from herdsman.http import Method
from herdsman.proxy.http import HttpSession
from herdsman.proxy.http_server import ServerConn
from herdsman.runtime import Herdsman
from herdsman.testing import free_port

CONFIG = """global
    maxconn 1000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen http
    bind 127.0.0.1:{port}
    server s1 127.0.0.1:9
"""
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
CLOSE_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"
HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n"
)
SMALL = HEAD % 6 + b"hello\n"
BIG_BODY = b"x" * (100 * 1024)
BIG = HEAD % len(BIG_BODY) + BIG_BODY


class Transport(asyncio.Transport):
    """What a session and a server connection use of a transport; keeps nothing."""

    def __init__(self, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self.written = 0
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += len(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.written += len(data)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


_PEER = {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8080), "socket": None}


def _pooled_conn(session: HttpSession) -> ServerConn:
    """An idle server connection in s1's pool, as after a few transactions."""
    srv = session.backend.servers[0]  # type: ignore[union-attr]
    conn = ServerConn(srv, session.up.key(srv))
    conn.connection_made(Transport({}))
    conn.requests = 2  # "safe": reusable by any request
    session.ctx.pools.of(srv).safe.append(conn)
    conn.pool = session.ctx.pools.of(srv)
    conn.idle = True
    return conn


def _new_session(hm: Herdsman) -> HttpSession:
    fe = hm.frontends[0]
    lst = fe.listeners[0]
    session = lst._accept()
    assert isinstance(session, HttpSession)
    session.connection_made(Transport(dict(_PEER)))
    return session


def _served(hm: Herdsman, before: int, n: int) -> None:
    """Every round was a whole transaction (a response no session waited for is dropped)."""
    done = hm.frontends[0].counters.http_rsp[1] - before
    if done != n:
        raise RuntimeError(f"{done} responses of {n}")


def keepalive(hm: Herdsman, n: int) -> float:
    session = _new_session(hm)
    session.first = False
    _pooled_conn(session)
    before = hm.frontends[0].counters.http_rsp[1]
    t0 = time.process_time()
    for _ in range(n):
        session.data_received(REQUEST)
        session.up.conn.data_received(SMALL)  # type: ignore[union-attr]
    elapsed = time.process_time() - t0
    _served(hm, before, n)
    session.close()
    return elapsed


def close(hm: Herdsman, n: int) -> float:
    before = hm.frontends[0].counters.http_rsp[1]
    t0 = time.process_time()
    for _ in range(n):
        session = _new_session(hm)
        session.first = False  # a pooled connection instead of Upstream.open()
        if not session.ctx.pools.of(session.backend.servers[0]):  # type: ignore[union-attr]
            _pooled_conn(session)
        session.data_received(CLOSE_REQUEST)
        session.up.conn.data_received(SMALL)  # type: ignore[union-attr]
        session.connection_lost(None)  # the close() above, as the loop reports it
    elapsed = time.process_time() - t0
    _served(hm, before, n)
    return elapsed


def big(hm: Herdsman, n: int) -> float:
    session = _new_session(hm)
    session.first = False
    _pooled_conn(session)
    reads = [BIG[i : i + 65536] for i in range(0, len(BIG), 65536)]
    before = hm.frontends[0].counters.http_rsp[1]
    t0 = time.process_time()
    for _ in range(n):
        session.data_received(REQUEST)
        conn = session.up.conn
        assert conn is not None
        for data in reads:
            conn.data_received(data)
    elapsed = time.process_time() - t0
    _served(hm, before, n)
    session.close()
    return elapsed


def heads(hm: Herdsman, n: int) -> float:
    """The parsers' part of ``keepalive``: its two heads parsed, nothing else
    (``keepalive`` minus this is the rest of the transaction's Python)."""
    session = _new_session(hm)
    parser, rparser = session.parser, session.up.rparser
    meth = Method.GET
    t0 = time.process_time()
    for _ in range(n):
        parser.parse(REQUEST)
        rparser.parse(SMALL, meth)
    elapsed = time.process_time() - t0
    session.close()
    return elapsed


CASES = {"keepalive": keepalive, "close": close, "big": big, "heads": heads}


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "http.cfg"
        cfg.write_text(CONFIG.format(port=free_port()))
        diag = Diagnostics()
        config = parse([str(cfg)], diag)
        assert config is not None, diag.messages
        hm = Herdsman(config)
        hm.bind(asyncio.get_running_loop())
        await hm.frontends[0].start()  # accepting, as in production
        other = _new_session(hm)  # another client: the frontend is never idle
        profiler = cProfile.Profile() if args.profile else None
        for name in args.cases.split(","):
            fn = CASES[name]
            fn(hm, 2000)  # warm-up
            n = 2000
            while fn(hm, n) < args.seconds / 5:
                n *= 2
            if profiler is not None:
                profiler.enable()
            best = min(fn(hm, n) for _ in range(5))
            if profiler is not None:
                profiler.disable()
            print(f"{name:10} {best / n * 1e6:7.2f} µs per transaction ({n} per window)")
        if profiler is not None:
            profiler.dump_stats(args.profile)
        other.close()
        hm.unbind()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=0.5, help="length of the 5 windows together")
    ap.add_argument("--cases", default=",".join(CASES), help="comma list of " + ", ".join(CASES))
    ap.add_argument("--profile", help="write a cProfile of the measured windows to this file")
    args = ap.parse_args(argv)
    uvloop.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
