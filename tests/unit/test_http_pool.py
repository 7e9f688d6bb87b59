"""The idle pool's arithmetic without sockets (spec §3.5, §3.6; ``srv_add_to_idle_list()``,
``srv_cleanup_idle_conns()`` and ``srv_use_conn()`` of HAProxy 2.6 with one thread).

The pool's purge timer runs on a loop that only moves when the test says so;
connections are ``ServerConn`` objects over a transport that only records
that it was closed.
"""

from __future__ import annotations

import asyncio
import heapq
import io
from collections.abc import Callable

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.model import HttpReuse
from herdsman.config.parser import parse_text
from herdsman.core.backend import Server
from herdsman.core.clock import ManualClock
from herdsman.proxy.http_server import Pool, ServerConn
from herdsman.runtime import Herdsman


class Timer(asyncio.TimerHandle):  # the types the pool declares (compiled, it checks them)
    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.at, self.fn, self.is_cancelled = when, fn, False

    def __lt__(self, other: Timer) -> bool:  # type: ignore[override]
        return self.at < other.at

    def cancel(self) -> None:
        self.is_cancelled = True


class VirtualLoop(asyncio.AbstractEventLoop):
    """``call_later`` on a virtual clock: ``advance()`` runs what falls due."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:  # type: ignore[override]
        t = Timer(self.now + delay, fn)
        heapq.heappush(self.timers, t)
        return t

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self.timers and self.timers[0].at <= end:
            t = heapq.heappop(self.timers)
            self.now = t.at
            if not t.is_cancelled:
                t.fn()
        self.now = end


class Transport(asyncio.Transport):
    closed = False

    def close(self) -> None:
        self.closed = True


def pool(
    max_conn: int = -1, purge_ms: int = 1000, low: int = 0
) -> tuple[Pool, VirtualLoop, Server]:
    loop = VirtualLoop()
    text = (
        "defaults\n    mode http\nbackend b\n    server s 127.0.0.1:9000"
        f" pool-max-conn {max_conn} pool-purge-delay {purge_ms} pool-low-conn {low}\n"
    )
    cfg = parse_text(text, Diagnostics(), "a.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    srv = hm.backend("b").servers[0]
    assert (srv.cfg.pool_max_conn, srv.cfg.pool_purge_delay) == (max_conn, purge_ms)
    return Pool(loop, srv), loop, srv


def use(p: Pool, srv: Server, requests: int = 1) -> ServerConn:
    conn = ServerConn(srv, "k")
    conn.transport = Transport()  # type: ignore[assignment]
    conn.requests = requests
    p.using()
    return conn


def release(p: Pool, conn: ServerConn) -> bool:
    """The end of a transaction as the upstream does it: admission, then not in use."""
    kept = p.put(conn)
    p.done_using()
    return kept


def test_four_used_at_once_are_purged_two_by_two() -> None:
    """The case the side-by-side test runs on haproxy: 4 in use, then idle. The
    estimate is 4 at first; each purge halves it toward what was used (0); once
    the excess is positive, ceil(excess / 2) + 1 connections are closed."""
    p, loop, srv = pool()
    conns = [use(p, srv) for _ in range(4)]
    assert (p.max_used, p.est_needed) == (4, 4)
    assert all(release(p, c) for c in conns)
    assert (len(p.idle), len(p.safe), p.used) == (4, 0, 0)
    sizes = []
    for _ in range(5):
        loop.advance(1.0)
        sizes.append(sum(c.transport.closed for c in conns) - sum(sizes))
    # excess 0 (est 4), 0 (est 4 -> 2), 2 -> kill 2 (est 1), 1 -> kill 2
    assert sizes == [0, 0, 2, 2, 0]
    assert p._timer is None  # nothing idle: no purge until the next put()


def test_admission_counts_the_released_connection_as_used() -> None:
    """One connection used, kept idle; a second one opened and released while the
    first is idle: 1 used + 1 idle > max(1 used, estimate 1), refused (what a
    second client's first request in ``safe`` mode leaves behind)."""
    p, _, srv = pool()
    a = use(p, srv)
    assert release(p, a)  # no safe and no idle connection yet
    b = use(p, srv)
    assert not release(p, b)
    assert list(p.idle) == [a]
    assert not a.transport.closed


def test_admission_takes_the_first_safe_connection() -> None:
    """A connection that served two requests is admitted while the pool holds no
    safe connection, whatever the estimate."""
    p, _, srv = pool()
    a = use(p, srv)
    assert release(p, a)
    b = use(p, srv, requests=2)
    assert release(p, b)
    assert (list(p.idle), list(p.safe)) == ([a], [b])
    c = use(p, srv, requests=3)
    assert not release(p, c)


def test_admission_within_the_estimate_and_pool_low_conn() -> None:
    """``used + idle <= max(used, est_needed) + pool-low-conn``."""
    p, _, srv = pool(low=1)
    conns = [use(p, srv) for _ in range(2)]  # estimate 2
    assert release(p, conns[0])
    assert release(p, conns[1])  # 1 used + 1 idle <= 2 + 1
    c = use(p, srv)
    assert release(p, c)  # 1 + 2 <= max(1, 2) + 1
    d = use(p, srv)
    assert not release(p, d)  # 1 + 3 > 3


@pytest.mark.parametrize(("max_conn", "purge_ms"), [(0, 1000), (-1, 0), (1, 1000)])
def test_pool_max_conn_and_purge_delay_bound_admission(max_conn: int, purge_ms: int) -> None:
    """``pool-max-conn 0`` or ``pool-purge-delay 0`` keep nothing; ``pool-max-conn 1``
    keeps one."""
    p, _, srv = pool(max_conn=max_conn, purge_ms=purge_ms)
    conns = [use(p, srv) for _ in range(2)]
    kept = [release(p, c) for c in conns]
    assert sum(kept) == max(max_conn, 0) if purge_ms else sum(kept) == 0
    assert p.used == 0


@pytest.mark.parametrize(
    ("reuse", "first", "want"),
    [
        (HttpReuse.NEVER, False, None),
        (HttpReuse.SAFE, True, None),
        (HttpReuse.SAFE, False, "idle"),
        (HttpReuse.AGGRESSIVE, True, "safe"),
        (HttpReuse.AGGRESSIVE, False, "idle"),
        (HttpReuse.ALWAYS, True, "safe"),
        (HttpReuse.ALWAYS, False, "idle"),
    ],
)
def test_which_idle_connection_a_request_takes(
    reuse: HttpReuse, first: bool, want: str | None
) -> None:
    """The table of spec §3.5 with one idle and one safe connection."""
    p, _, srv = pool()
    idle = use(p, srv)
    safe = use(p, srv, requests=2)
    assert release(p, idle)
    assert release(p, safe)
    got = p.take("k", reuse, first)
    assert got is {"idle": idle, "safe": safe, None: None}[want]


def test_always_takes_an_idle_connection_for_a_first_request() -> None:
    p, _, srv = pool()
    idle = use(p, srv)
    assert release(p, idle)
    assert p.take("k", HttpReuse.AGGRESSIVE, True) is None
    assert p.take("k", HttpReuse.ALWAYS, True) is idle


def test_a_connection_of_another_key_is_not_taken() -> None:
    p, _, srv = pool()
    conn = use(p, srv)
    assert release(p, conn)
    assert p.take("other", HttpReuse.ALWAYS, False) is None
    assert p.take("k", HttpReuse.ALWAYS, False) is conn


def test_a_taken_connection_counts_in_the_estimate() -> None:
    """Reusing an idle connection is ``srv_use_conn()`` too: the estimate follows."""
    p, loop, srv = pool()
    conn = use(p, srv)
    assert release(p, conn)
    loop.advance(1.0)  # excess 0: estimate stays 1, max_used 0
    assert (p.est_needed, p.max_used) == (1, 0)
    got = p.take("k", HttpReuse.SAFE, False)
    assert got is conn
    p.using()
    assert (p.est_needed, p.max_used, p.used) == (1, 1, 1)
