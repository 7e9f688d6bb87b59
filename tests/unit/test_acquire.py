"""The data path asks once: ``Backend.acquire()`` picks a server and takes its slot
in one step; ``redispatch()`` moves a stream in one step; ``release()`` hands
the slot back (core/backend.py, rule 3). No sockets: streams are plain objects.
"""

from __future__ import annotations

import io

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core import transitions
from herdsman.core.backend import Backend, Server
from herdsman.core.clock import ManualClock
from herdsman.core.states import SrvAdmin
from herdsman.runtime import Herdsman


class Stream:
    force = False  # SF_FORCE_PRST

    def __init__(self) -> None:
        self.aborted = False
        self.granted: list[Server | None] = []

    def abort(self) -> None:
        self.aborted = True

    def dequeued(self, srv: Server | None) -> None:
        self.granted.append(srv)


def backend(balance: str = "leastconn", servers: int = 3) -> Backend:
    lines = "".join(f"    server s{i} 127.0.0.1:{9000 + i}\n" for i in range(1, servers + 1))
    text = f"defaults\n    mode tcp\nbackend b\n    balance {balance}\n{lines}"
    cfg = parse_text(text, Diagnostics(), "a.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    return hm.backend("b")


def test_acquire_picks_and_takes_the_slot_in_one_step() -> None:
    """After one call the slot is taken: the next decision already sees it."""
    be = backend("leastconn")
    streams = [Stream() for _ in range(3)]
    got = [be.acquire(st) for st in streams]
    # leastconn spreads three streams over three servers only if each take was counted
    assert sorted(s.name for s in got if isinstance(s, Server)) == ["s1", "s2", "s3"]
    assert [s.served for s in be.servers] == [1, 1, 1]
    assert be.beconn == 3
    for st, srv in zip(streams, got, strict=True):
        assert isinstance(srv, Server)
        assert st in srv.streams
    assert be.counters.cum_conn == 3
    assert [s.counters.cum_sess for s in be.servers] == [1, 1, 1]


def test_release_hands_the_slot_back() -> None:
    be = backend("leastconn")
    streams = [Stream() for _ in range(3)]
    got = [be.acquire(st) for st in streams]
    freed = got[1]
    assert isinstance(freed, Server)
    be.release(freed, streams[1])
    assert (freed.served, be.beconn, freed.streams) == (0, 2, {})
    assert be.acquire(Stream()) is freed  # the only server without a stream
    assert freed.counters.sess_max == 1
    assert freed.counters.cum_sess == 2


def test_no_usable_server_is_none_and_counts_the_attempt() -> None:
    be = backend("roundrobin", servers=1)
    transitions.set_admin_flag(be.servers[0], SrvAdmin.FMAINT)
    assert be.acquire(Stream()) is None
    assert be.beconn == 0
    assert be.counters.cum_conn == 1


def test_redispatch_moves_the_slot_in_one_step() -> None:
    be = backend("roundrobin", servers=2)
    st = Stream()
    first = be.acquire(st)
    assert isinstance(first, Server)
    second = be.redispatch(st, first)
    assert second is not first
    assert (first.served, second.served, be.beconn) == (0, 1, 1)
    assert st in second.streams
    assert st not in first.streams


def test_redispatch_without_another_server_keeps_the_slot() -> None:
    be = backend("roundrobin", servers=1)
    st = Stream()
    only = be.acquire(st)
    assert isinstance(only, Server)
    assert be.redispatch(st, only) is only
    assert (only.served, be.beconn) == (1, 1)


def test_shutdown_sessions_aborts_the_streams_holding_slots() -> None:
    text = (
        "defaults\n    mode tcp\nbackend b\n"
        "    server s1 127.0.0.1:9001 on-marked-down shutdown-sessions\n"
    )
    cfg = parse_text(text, Diagnostics(), "a.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    be = hm.backend("b")
    st = Stream()
    srv = be.acquire(st)
    assert isinstance(srv, Server)
    transitions.set_stopped(srv, "test")
    assert st.aborted
