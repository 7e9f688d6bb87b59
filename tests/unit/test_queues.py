"""Connection limits and queues in core, without sockets (spec §2.3-§2.5, §2.9).

Streams are plain objects: what ``acquire()`` answers, and what ``dequeued()``
tells them later, is the whole contract between core and the data path.
"""

from __future__ import annotations

import io

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.limits import fullconns
from herdsman.config.parser import parse_text
from herdsman.core import queue, transitions
from herdsman.core.backend import QUEUE_FULL, Backend, Server
from herdsman.core.clock import ManualClock
from herdsman.core.queue import Pending, Queue
from herdsman.core.states import SrvAdmin
from herdsman.runtime import Herdsman


class Stream:
    force = False  # SF_FORCE_PRST

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.granted: list[Server | None] = []

    def abort(self) -> None:
        pass

    def dequeued(self, srv: Server | None) -> None:
        self.granted.append(srv)

    def __repr__(self) -> str:
        return f"<{self.name}>"


def build(text: str, maxconn: int = 1000) -> Herdsman:
    cfg = parse_text(text, Diagnostics(), "q.cfg")
    assert cfg is not None
    hm = Herdsman(
        cfg,
        clock=ManualClock(),
        stderr=io.StringIO(),
        maxconn=maxconn,
        check_starter=lambda c, d: None,
    )
    hm.hooks.starting = False
    return hm


def backend(servers: str, extra: str = "", balance: str = "roundrobin") -> Backend:
    text = f"defaults\n    mode tcp\nbackend b\n    balance {balance}\n{extra}" + "".join(
        f"    server {line}\n" for line in servers.split(";")
    )
    return build(text).backend("b")


# -- the dynamic limit (§2.4) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("beconn", "expected"),
    [(0, 2), (1, 2), (4, 2), (5, 2), (6, 3), (10, 5), (15, 7), (19, 9), (20, 10), (50, 10)],
)
def test_dynamic_limit_follows_the_backend_load(beconn: int, expected: int) -> None:
    """minconn 2 / maxconn 10 / fullconn 20: max(minconn, beconn * maxconn / fullconn)."""
    be = backend("s 127.0.0.1:1 minconn 2 maxconn 10", "    fullconn 20\n")
    be.beconn = beconn
    assert be.limit(be.servers[0]) == expected


def test_the_spec_example() -> None:
    be = backend("s 127.0.0.1:1 minconn 100 maxconn 1000", "    fullconn 10000\n")
    be.beconn = 5000
    assert be.limit(be.servers[0]) == 500


@pytest.mark.parametrize(
    ("line", "minconn", "maxconn"),
    [
        ("minconn 5", 5, 5),  # only minconn: the limit is static
        ("maxconn 7", 7, 7),
        ("minconn 9 maxconn 4", 9, 9),
        ("minconn 2 maxconn 10", 2, 10),
        ("maxconn -1", 4294967295, 4294967295),  # atol() into an unsigned
    ],
)
def test_minconn_maxconn_normalised(line: str, minconn: int, maxconn: int) -> None:
    srv = backend(f"s 127.0.0.1:1 {line}").servers[0]
    assert (srv.minconn, srv.maxconn) == (minconn, maxconn)


def test_fullconn_default_counts_the_frontends_that_reach_the_backend() -> None:
    """§2.3: default_backend, a listen itself, distinct static use_backend targets."""
    text = """\
defaults
    mode tcp
frontend f1
    maxconn 1024
    bind :1
    default_backend b1
frontend f2
    bind :2
    use_backend b1
    use_backend b2
    use_backend b2
listen l
    maxconn 30
    bind :3
    server s 127.0.0.1:1
backend b1
    server s 127.0.0.1:1
backend b2
    fullconn 7
    server s 127.0.0.1:1
backend alone
    server s 127.0.0.1:1
"""
    cfg = parse_text(text, Diagnostics(), "f.cfg")
    assert cfg is not None
    got = fullconns(cfg, 2000)
    assert got["b1"].contributions == [("f1", 1024, "default_backend"), ("f2", 2000, "use_backend")]
    assert got["b1"].value == (1024 + 2000 + 9) // 10
    assert (got["b2"].value, got["b2"].configured) == (7, True)
    assert got["l"].value == 3
    assert got["alone"].value == 1  # no frontend: at least 1


# -- queues (§2.5) ------------------------------------------------------------------------


def test_queue_is_fifo_and_unlinks_in_constant_time() -> None:
    q = Queue()
    entries = [Pending(Stream(str(i)), None, 0) for i in range(5)]
    for i, p in enumerate(entries):
        q.push(p, now_ms=100 + (i // 2))  # equal times keep arrival order
    assert q.unlink(entries[1])
    assert not q.unlink(entries[1])
    assert [q.take_first() for _ in range(4)] == [entries[0], entries[2], entries[3], entries[4]]
    assert q.length == 0
    assert q.take_first() is None


def test_priority_class_comes_before_time() -> None:
    q = Queue()
    late_urgent, early = Pending(Stream(), None, 0), Pending(Stream(), None, 0)
    q.push(early, now_ms=1)
    q.push(late_urgent, now_ms=5, prio_class=-1)
    assert q.take_first() is late_urgent


def test_full_servers_send_streams_to_the_backend_queue_in_order() -> None:
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2 maxconn 1")
    s1, s2, s3, s4 = (Stream(n) for n in ("s1", "s2", "s3", "s4"))
    a, b = be.acquire(s1), be.acquire(s2)
    assert {getattr(a, "name", None), getattr(b, "name", None)} == {"a", "b"}
    p3, p4 = be.acquire(s3), be.acquire(s4)
    assert isinstance(p3, Pending)
    assert isinstance(p4, Pending)
    assert p3.server is None  # the backend's queue
    assert (be.beconn, be.queue.length) == (4, 2)
    assert isinstance(b, Server)
    be.release(b, s2)  # b's slot goes at once to the first waiter
    assert s3.granted == [b]
    assert (b.served, be.queue.length, be.beconn) == (1, 1, 3)
    assert be.counters.nbpend_max == 2


def test_nobody_overtakes_the_roundrobin_backend_queue() -> None:
    """roundrobin/static-rr/first: a newcomer queues while others wait (queue != beconn)."""
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2 maxconn 1")
    streams = [Stream(str(i)) for i in range(3)]
    for st in streams:
        be.acquire(st)
    be.servers[1].maxconn = be.servers[1].minconn = 2  # room appears without a dequeue
    assert isinstance(be.acquire(Stream("late")), Pending)


def test_leastconn_takes_the_free_slot_whatever_the_queue() -> None:
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2 maxconn 1", balance="leastconn")
    for st in (Stream(), Stream(), Stream()):
        be.acquire(st)
    b = be.servers[1]
    b.maxconn = b.minconn = 2
    assert be.acquire(Stream()) is b


def test_hash_queues_on_the_server_up_to_maxqueue() -> None:
    """A hash binds the stream to its server: server queue, then 503 at maxqueue."""
    be = backend("a 127.0.0.1:1 maxconn 1 maxqueue 2;b 127.0.0.1:2", balance="source")
    key = 0  # the same key for all: the same server
    first = be.acquire(Stream(), key)
    assert isinstance(first, Server)
    waiting = [be.acquire(Stream(), key) for _ in range(2)]
    assert all(isinstance(p, Pending) and p.server is first for p in waiting)
    assert first.nbpend == 2
    assert be.acquire(Stream(), key) is QUEUE_FULL
    assert (first.counters.failed_conns, be.counters.failed_conns) == (1, 1)
    assert be.beconn == 3


def test_the_server_queue_wins_ties_with_the_backend_queue() -> None:
    """process_srv_queue(): the older entry first, the server's own on equal keys."""
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2 maxconn 1", balance="leastconn")
    a, b = be.servers
    holders = [Stream("ha"), Stream("hb")]
    assert be.acquire(holders[0]) is a
    assert be.acquire(holders[1]) is b
    in_backend = Stream("backend")
    assert isinstance(be.acquire(in_backend), Pending)  # same millisecond
    own = Stream("own")
    p = queue.add(be, own, a)  # a stream bound to a (persistence)
    assert p.server is a
    be.release(a, holders[0])
    assert own.granted == [a]
    assert in_backend.granted == []


def test_abandon_leaves_the_queue_and_the_backend() -> None:
    be = backend("a 127.0.0.1:1 maxconn 1")
    holder, waiter = Stream(), Stream()
    a = be.acquire(holder)
    p = be.acquire(waiter)
    assert isinstance(a, Server)
    assert isinstance(p, Pending)
    assert be.abandon(p)
    assert not be.abandon(p)
    assert (be.queue.length, be.beconn) == (0, 1)
    be.release(a, holder)
    assert waiter.granted == []
    assert (a.served, be.beconn) == (0, 0)


def test_a_server_going_down_redistributes_its_queue_with_option_redispatch() -> None:
    hm = build(
        "defaults\n    mode tcp\nbackend b\n    balance source\n    option redispatch\n"
        "    log 127.0.0.1:9 local0\n"
        "    server a 127.0.0.1:1 maxconn 1\n    server b 127.0.0.1:2\n"
    )
    logs: list[str] = []

    class Logger:
        def send(self, level: int, message: str) -> None:
            logs.append(message)

    hm.hooks.loggers["b"] = Logger()  # type: ignore[assignment]
    be = hm.backend("b")
    a = be.servers[0]
    be.acquire(Stream(), 0)
    queued = [Stream("q1"), Stream("q2")]
    for st in queued:
        assert isinstance(be.acquire(st, 0), Pending)
    transitions.set_stopped(a, "test")
    assert [st.granted for st in queued] == [[None], [None]]  # back to the balancer
    assert a.nbpend == 0
    assert logs[-1].endswith(
        "1 active and 0 backup servers left. 1 sessions active, 2 requeued, 0 remaining in queue."
    )


def test_a_force_persist_entry_stays_on_its_server_when_it_goes_down() -> None:
    """``pendconn_redistribute()`` skips streams with ``SF_FORCE_PRST``."""
    be = backend(
        "a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2", "    option redispatch\n", balance="source"
    )
    a = be.servers[0]
    be.acquire(Stream(), 0)
    forced, free = Stream("forced"), Stream("free")
    forced.force = True
    for st in (forced, free):
        assert isinstance(be.acquire(st, 0), Pending)
    transitions.set_stopped(a, "test")
    assert (forced.granted, free.granted) == ([], [None])
    assert a.nbpend == 1


def test_without_redispatch_the_queue_stays_on_the_dead_server() -> None:
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2", balance="source")
    a = be.servers[0]
    be.acquire(Stream(), 0)
    st = Stream()
    assert isinstance(be.acquire(st, 0), Pending)
    transitions.set_stopped(a, "test")
    assert st.granted == []
    assert a.nbpend == 1


def test_a_server_coming_up_takes_the_backend_queue() -> None:
    be = backend("a 127.0.0.1:1 maxconn 1;b 127.0.0.1:2 maxconn 2")
    _, b = be.servers
    transitions.set_admin_flag(b, SrvAdmin.FMAINT)
    be.acquire(Stream())
    queued = [Stream(str(i)) for i in range(3)]
    for st in queued:
        assert isinstance(be.acquire(st), Pending)
    transitions.clr_admin_flag(b, SrvAdmin.FMAINT)  # leaves maintenance: UP, grabs 2
    assert [st.granted for st in queued] == [[b], [b], []]
    assert (b.served, be.queue.length) == (2, 1)


def test_slowstart_ramps_the_limit_from_one() -> None:
    """§2.9: while STARTING, the limit is scaled by the elapsed whole-second percentage."""
    from herdsman.core.states import SrvState

    text = "defaults\n    mode tcp\nbackend b\n    server a 127.0.0.1:1 maxconn 100\n"
    hm = build(text)
    be = hm.backend("b")
    srv = be.servers[0]
    srv.slowstart_s = 10
    srv.cur_state = SrvState.STARTING
    clock = be.clock
    assert isinstance(clock, ManualClock)
    srv.last_change = clock.now_s()
    assert be.limit(srv) == 1
    clock.advance(3000)
    assert be.limit(srv) == 30
    clock.advance(7000)
    assert be.limit(srv) == 100  # the ramp is over
