"""TCP-mode timeouts and closes, peer by peer, as haproxy 2.6.12 does them.

Each scenario is a frontend/backend pair, a script of what the client and
the server do (send, half-close, reset, stop reading) and what each of them
must observe: data (``data``, the first of a run), a FIN (``fin``), a reset
(``rst``, also after a FIN) or either (``end``, where unread data may turn
the close into a reset, racing HAProxy's ``sock_drain()``), at which time.
The scenarios of a group run at once in one process; haproxy and herdsman
(``PROGRAMS``) run the same groups against the same expectations. Times are tolerant to scheduling: an event
may come ``EARLY`` before and ``LATE`` after its time, and every scenario
is built so that the other plausible behaviours fall outside that window
(an earlier event, or one at least ``LATE`` + 0.1 s later). A run during
which the test itself was starved (it saw or acted late) and that found a
mismatch is run again, twice at most.

The rules (proxy/sides.py): each direction has its own read timer
(``timeout client`` on the request channel, ``timeout server`` on the
response channel), refreshed by reads and, without ``option
independent-streams``, by writes to that side; a read timeout sends a FIN
the other way; ``-fin`` timeouts apply once HAProxy sent its FIN to that
side; ``timeout tunnel`` replaces both from the connection on.
"""

from __future__ import annotations

import contextlib
import random
import select
import signal
import socket
import time
from dataclasses import dataclass, field

import proc_helpers
import pytest
from proc_helpers import (
    PROGRAMS,
    TCP_CLOSE,
    TCP_CLOSE_WAIT,
    TCP_LISTEN,
    TCP_SYN_SENT,
    Proc,
    Runner,
    tcp4_sockets,
    wait_until,
)

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner

EARLY = 0.03
LATE = 0.3
STALL = 0.1  # a watch loop away longer than this cannot judge times: run again

Expect = dict[str, list[tuple[str, float]]]


@dataclass
class Scenario:
    """``fe``/``be``: lines of the frontend and the backend ("|" separates lines);
    ``script``: (time, "c" or "s", action); ``expect``: events per peer."""

    name: str
    fe: str
    be: str
    script: list[tuple[float, str, str]]
    expect: Expect
    server: str = "plain"  # or "blackhole" (SYNs dropped) or "late" (accepted at ~1 s)
    sends: dict[str, int] = field(default_factory=dict)  # peer -> bytes, one per 100 ms from 0.1 s
    late: float = LATE


def idle(c: int, s: int, extra_be: str = "") -> tuple[str, str]:
    return f"timeout client {c}ms", f"timeout server {s}ms|{extra_be}"


TIMEOUTS = [
    # idle both ways, every ordering: each direction times out on its own
    Scenario(
        "client<server",
        *idle(100, 400),
        [],
        {"s": [("fin", 0.1), ("rst", 0.4)], "c": [("fin", 0.4)]},
    ),
    Scenario(
        "client>server",
        *idle(400, 100),
        [],
        {"c": [("fin", 0.1)], "s": [("fin", 0.4), ("rst", 0.4)]},
    ),
    Scenario(
        "client=server",
        *idle(200, 200),
        [],
        {"c": [("fin", 0.2)], "s": [("fin", 0.2), ("rst", 0.2)]},
    ),
    # the client sends until 0.5: its writes to the server refresh the server's timer
    Scenario(
        "client sends",
        *idle(200, 400),
        [],
        {"s": [("data", 0.1), ("fin", 0.7), ("rst", 0.9)], "c": [("fin", 0.9)]},
        sends={"c": 5},
    ),
    Scenario(
        "client sends, backend independent-streams",
        *idle(200, 400, "option independent-streams"),
        [],
        {"c": [("fin", 0.4)], "s": [("data", 0.1), ("fin", 0.7), ("rst", 0.7)]},
        sends={"c": 5},
    ),
    # the server sends until 0.5: its writes to the client refresh the client's timer
    Scenario(
        "server sends",
        *idle(400, 200),
        [],
        {"c": [("data", 0.1), ("fin", 0.7)], "s": [("fin", 0.9), ("rst", 0.9)]},
        sends={"s": 5},
    ),
    Scenario(
        "server sends, frontend independent-streams",
        "timeout client 400ms|option independent-streams",
        "timeout server 200ms",
        [],
        {"s": [("fin", 0.4), ("rst", 0.7)], "c": [("data", 0.1), ("fin", 0.7)]},
        sends={"s": 5},
    ),
    # timeout tunnel replaces both from the connection on, write timers included
    Scenario(
        "tunnel idle",
        *idle(100, 100, "timeout tunnel 400ms"),
        [],
        {"c": [("fin", 0.4)], "s": [("rst", 0.4)]},
    ),
    Scenario(
        "tunnel, one byte",
        *idle(100, 100, "timeout tunnel 400ms"),
        [(0.1, "c", "send")],
        {"c": [("fin", 0.5)], "s": [("data", 0.1), ("fin", 0.5), ("rst", 0.5)]},
    ),
    Scenario(
        "tunnel, client FIN",
        *idle(100, 100, "timeout tunnel 500ms"),
        [(0.4, "c", "shut")],
        {"s": [("fin", 0.4), ("rst", 0.5)], "c": [("fin", 0.5)]},
    ),
    Scenario(
        "tunnel, server FIN, client-fin",
        "timeout client 100ms|timeout client-fin 200ms",
        "timeout server 100ms|timeout tunnel 700ms",
        [(0.1, "s", "shut")],
        {"c": [("fin", 0.1)], "s": [("fin", 0.3)]},
    ),
    Scenario(
        "tunnel, client sends, backend independent-streams",
        *idle(100, 100, "timeout tunnel 400ms|option independent-streams"),
        [],
        {"c": [("fin", 0.4)], "s": [("data", 0.1), ("fin", 0.9), ("rst", 0.9)]},
        sends={"c": 5},
    ),
]

HALF_CLOSES = [
    # client-fin does not apply to a client that half-closed: the server timeout ends it
    Scenario(
        "client FIN, client-fin shorter",
        "timeout client 1s|timeout client-fin 100ms",
        "timeout server 400ms",
        [(0.1, "c", "shut")],
        {"s": [("fin", 0.1), ("rst", 0.4)], "c": [("fin", 0.4)]},
    ),
    Scenario(
        "client FIN, client-fin longer",
        "timeout client 1s|timeout client-fin 900ms",
        "timeout server 400ms",
        [(0.1, "c", "shut")],
        {"s": [("fin", 0.1), ("rst", 0.4)], "c": [("fin", 0.4)]},
    ),
    # client-fin replaces the client timeout once the server's FIN was forwarded
    Scenario(
        "server FIN, client-fin shorter",
        "timeout client 1s|timeout client-fin 200ms",
        "timeout server 1s",
        [(0.1, "s", "shut")],
        {"c": [("fin", 0.1)], "s": [("fin", 0.3)]},
    ),
    Scenario(
        "server FIN, client-fin longer",
        "timeout client 200ms|timeout client-fin 500ms",
        "timeout server 1s",
        [(0.1, "s", "shut")],
        {"c": [("fin", 0.1)], "s": [("fin", 0.6)]},
    ),
    # server-fin: the same for the server, once the client's FIN was forwarded
    Scenario(
        "client FIN, server-fin",
        "timeout client 1s",
        "timeout server 1s|timeout server-fin 200ms",
        [(0.1, "c", "shut")],
        {"s": [("fin", 0.1), ("rst", 0.3)], "c": [("fin", 0.3)]},
    ),
    Scenario(
        "server FIN, server-fin",
        "timeout client 400ms",
        "timeout server 1s|timeout server-fin 100ms",
        [(0.1, "s", "shut")],
        {"c": [("fin", 0.1)], "s": [("fin", 0.4)]},
    ),
    # the direction still open keeps flowing, refreshed by its reads
    Scenario(
        "client FIN, server sends",
        "timeout client 1s",
        "timeout server 1s|timeout server-fin 200ms",
        [(0.1, "c", "shut")],
        {"s": [("fin", 0.1), ("rst", 0.7)], "c": [("data", 0.1), ("fin", 0.7)]},
        sends={"s": 5},
    ),
]

CONNECT = [
    Scenario(
        "connect timeout",
        "timeout client 1s",
        "timeout connect 200ms|retries 0",
        [],
        {"c": [("fin", 0.2)]},
        server="blackhole",
    ),
    # no turn-around delay after a connect timeout (only after an error)
    Scenario(
        "connect timeout, 2 retries",
        "timeout client 1s",
        "timeout connect 200ms|retries 2",
        [],
        {"c": [("fin", 0.6)]},
        server="blackhole",
    ),
    # the client timeout does not end a stream that is connecting
    Scenario(
        "client timeout while connecting",
        "timeout client 100ms",
        "timeout connect 400ms|retries 0",
        [],
        {"c": [("fin", 0.4)]},
        server="blackhole",
    ),
    # a client FIN with nothing to send aborts the attempt; with data, it goes on
    Scenario(
        "client FIN while connecting",
        "timeout client 1s",
        "timeout connect 700ms|retries 0",
        [(0.1, "c", "shut")],
        {"c": [("fin", 0.1)]},
        server="blackhole",
    ),
    Scenario(
        "client data and FIN while connecting",
        "timeout client 1s",
        "timeout connect 400ms|retries 0",
        [(0.05, "c", "send"), (0.1, "c", "shut")],
        {"c": [("fin", 0.4)]},
        server="blackhole",
    ),
    # timed out while connecting: the server gets its FIN once connected
    Scenario(
        "client timeout, late server",
        "timeout client 100ms",
        "timeout connect 3s|timeout server 3s",
        [],
        {"s": [("fin", 1.0)]},
        server="late",
    ),
    # client data waiting for the server: no client timer until it is sent
    Scenario(
        "client data, late server",
        "timeout client 400ms",
        "timeout connect 3s|timeout server 3s",
        [(0.05, "c", "send")],
        {"s": [("data", 1.0), ("fin", 1.4)]},
        server="late",
    ),
]

CLOSES = [
    # the backend's nolinger aborts the server at its first shutdown
    Scenario(
        "client FIN, backend nolinger", "timeout client 1s", "timeout server 1s|option nolinger",
        [(0.1, "c", "shut")], {"s": [("rst", 0.1)], "c": [("fin", 0.1)]},
    ),
    # a client reset aborts the server; a server reset closes the client
    Scenario("client reset", "timeout client 1s", "timeout server 1s", [(0.1, "c", "rst")], {"s": [("rst", 0.1)]}),
    Scenario("server reset", "timeout client 1s", "timeout server 1s", [(0.1, "s", "rst")], {"c": [("fin", 0.1)]}),
    # write timeouts: a peer that stops reading is aborted (no FIN). The timer
    # runs from the last time the kernel took some of the stuck output, which
    # depends on the buffers (haproxy moves 16 KiB at a time, herdsman up to
    # 256 KiB), hence the later bound.
    Scenario(
        "server stops reading", "timeout client 1s", "timeout server 300ms",
        [(0.0, "s", "mute"), (0.1, "c", "fill")], {"s": [("rst", 0.4)], "c": [("end", 0.4)]},
        late=0.45,
    ),
    Scenario(
        "client stops reading", "timeout client 300ms", "timeout server 1s",
        [(0.0, "c", "mute"), (0.1, "s", "fill")], {"s": [("fin", 0.4), ("rst", 0.4)]},
        late=0.45,
    ),
]  # fmt: skip

# the fill scenarios: buffers of a fixed size (no autotuning), so output stops at once
GLOBAL = "global\n    tune.sndbuf.client 65536\n    tune.sndbuf.server 65536\n"


def _config(
    scenarios: list[Scenario], fronts: list[tuple[str, int]], servers: list[tuple[str, int]]
) -> str:
    out = [GLOBAL, "defaults\n    mode tcp\n    timeout connect 5s\n"]
    for i, (sc, (host, port), (shost, sport)) in enumerate(
        zip(scenarios, fronts, servers, strict=True)
    ):
        fe = "".join(f"    {line.strip()}\n" for line in sc.fe.split("|") if line.strip())
        be = "".join(f"    {line.strip()}\n" for line in sc.be.split("|") if line.strip())
        out.append(f"frontend f{i}\n    bind {host}:{port}\n{fe}    default_backend b{i}\n")
        out.append(f"backend b{i}\n{be}    server s1 {shost}:{sport}\n")
    return "".join(out)


def _tcp_state(sock: socket.socket) -> int:
    return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0])


class Peer:
    """One end the test plays (the client, or the server), and what it saw."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock
        self.events: list[tuple[str, float]] = []
        self.state = "open"  # open, muted, fin, done
        self.shut = False  # we sent our FIN: a later TCP_CLOSE is TIME_WAIT, not a reset

    def observe(self, now: float, readable: bool) -> None:
        sock = self.sock
        if sock is None or self.state == "done":
            return
        if self.state == "muted":
            # not reading: only the TCP state tells (CLOSE_WAIT: a FIN, CLOSE: a reset)
            st = _tcp_state(sock)
            if st in (TCP_CLOSE, TCP_CLOSE_WAIT):
                self.events.append(("rst" if st == TCP_CLOSE else "fin", now))
                self.state = "done" if st == TCP_CLOSE else "fin"
            return
        if self.state == "fin":
            if not self.shut and _tcp_state(sock) == TCP_CLOSE:
                self.events.append(("rst", now))
                self.state = "done"
            return
        if not readable:
            return
        try:
            data = sock.recv(1 << 20)
        except ConnectionResetError:
            self.events.append(("rst", now))
            self.state = "done"
            return
        except BlockingIOError:
            return
        if not data:
            self.events.append(("fin", now))
            self.state = "fin"
            self.observe(now, False)
        elif not self.events or self.events[-1][0] != "data":
            self.events.append(("data", now))  # the first of a run of data

    def act(self, what: str) -> None:
        sock = self.sock
        assert sock is not None
        if what == "send":
            sock.send(b"x")
        elif what == "shut":
            sock.shutdown(socket.SHUT_WR)
            self.shut = True
        elif what == "rst":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            sock.close()
            self.state = "done"
        elif what == "mute":
            self.state = "muted"
        elif what == "fill":  # until the proxy stops taking it
            with contextlib.suppress(BlockingIOError):
                while True:
                    sock.send(b"y" * 65536)
        else:
            raise AssertionError(what)


def _blackhole(host: str) -> tuple[socket.socket, socket.socket]:
    """A listener whose accept queue is full: the proxy's SYNs are dropped."""
    lst = socket.socket()
    lst.bind((host, 0))
    lst.listen(0)
    filler = socket.create_connection(lst.getsockname(), timeout=5)
    return lst, filler


def _syn_sent(addr: tuple[str, int]) -> bool:
    """Some socket is connecting to ``addr``: the proxy's SYN, dropped."""
    return any(dst == addr for _, dst, _ in tcp4_sockets(TCP_SYN_SENT))


def _listener(host: str) -> socket.socket:
    lst = socket.socket()
    # a small receive buffer, inherited by the accepted sockets: a server that
    # stops reading stops the proxy's output at once
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    lst.bind((host, 0))
    lst.listen(4)
    return lst


def _start(
    runner: Runner,
    program: list[str] | None,
    scenarios: list[Scenario],
    host: str,
    servers: list[tuple[str, int]],
) -> tuple[Proc, list[tuple[str, int]]]:
    """Start the program; the addresses its frontends listen on."""
    fronts = []
    for _ in scenarios:
        with socket.socket() as probe:
            probe.bind((host, 0))
            fronts.append((host, probe.getsockname()[1]))
    runner.write("h.cfg", _config(scenarios, fronts, servers))
    proc = runner.start(["-db", "-f", "h.cfg"], program)
    wait_until(
        lambda: (
            set(fronts) <= {a for a, _, _ in tcp4_sockets(TCP_LISTEN)}
            or proc.popen.poll() is not None
        ),
        "listeners",
    )
    assert proc.popen.poll() is None, proc.stderr()
    return proc, fronts


def _run(
    runner: Runner, program: list[str] | None, scenarios: list[Scenario]
) -> tuple[dict[str, Expect], float, str]:
    """Run the scenarios at once in one process: their peers' events, by
    scenario, how long the test's watch loop was starved at worst, and what
    the program wrote.

    Every socket of the run is on a loopback address of its own: other
    tests running meanwhile take free ports on 127.0.0.1, and a port two
    of them took would share their connections (both programs listen with
    SO_REUSEPORT), or send some to our servers.
    """
    host = f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    hole = _blackhole(host)
    # per scenario: a listener, or a full one (blackhole, or late: freed when it starts)
    listeners = [
        _blackhole(host)
        if sc.server == "late"
        else (hole if sc.server == "blackhole" else (_listener(host), None))
        for sc in scenarios
    ]
    servers = [lst.getsockname() for lst, _ in listeners]
    proc, fronts = _start(runner, program, scenarios, host, servers)
    try:
        seen, stalled = _play(scenarios, fronts, listeners)
        return seen, stalled, proc.stderr()
    finally:
        proc.signal(signal.SIGKILL)
        proc.wait()
        for pair in [hole, *listeners]:
            for s in pair:
                if s is not None:
                    s.close()


def _play(
    scenarios: list[Scenario],
    fronts: list[tuple[str, int]],
    listeners: list[tuple[socket.socket, socket.socket | None]],
) -> tuple[dict[str, Expect], float]:
    play = _Play(scenarios, listeners)
    try:
        play.connect(fronts)
        play.run()
    finally:
        for peer in play.clients + play.servers:
            if peer.sock is not None:
                peer.sock.close()
    seen = {
        sc.name: {"c": play.clients[i].events, "s": play.servers[i].events}
        for i, sc in enumerate(scenarios)
    }
    return seen, play.stalled


class _Play:
    """Plays the scripts and watches every peer until each scenario's last
    expected event is late. A scenario's clock starts at its client's
    connect, where the proxy's timers start."""

    def __init__(
        self, scenarios: list[Scenario], listeners: list[tuple[socket.socket, socket.socket | None]]
    ) -> None:
        self.scenarios = scenarios
        self.listeners = listeners
        self.clients: list[Peer] = []
        self.servers = [Peer(None) for _ in scenarios]
        self.starts: list[float] = []
        # a "late" listener is freed once the proxy's SYN was dropped
        self.freed = [sc.server != "late" for sc in scenarios]
        self.script = sorted(
            (t, i, who, what) for i, sc in enumerate(scenarios) for t, who, what in sc.script
        )
        self.sent = {(i, who): 0 for i, sc in enumerate(scenarios) for who in sc.sends}
        self.stalled = 0.0  # the longest the watch loop was away (starved by other work)

    def connect(self, fronts: list[tuple[str, int]]) -> None:
        for sc, front, (lst, _) in zip(self.scenarios, fronts, self.listeners, strict=True):
            now = time.monotonic()
            if self.starts:
                self.stalled = max(self.stalled, now - self.starts[-1])
            self.starts.append(now)
            cli = socket.create_connection(front, timeout=5)
            cli.setblocking(False)
            self.clients.append(Peer(cli))
            if sc.server != "blackhole":
                lst.setblocking(False)

    def run(self) -> None:
        ends = [
            max(t for evs in sc.expect.values() for _, t in evs) + sc.late + 0.1
            for sc in self.scenarios
        ]
        peers = list(enumerate(self.clients)) + list(enumerate(self.servers))
        last = self.starts[-1]
        while any(time.monotonic() - st < end for st, end in zip(self.starts, ends, strict=True)):
            self._accept()
            self._act()
            socks = [p.sock for _, p in peers if p.sock is not None and p.state == "open"]
            readable = set(select.select(socks, [], [], 0.005)[0])
            mono = time.monotonic()
            self.stalled = max(self.stalled, mono - last)
            last = mono
            peers = list(enumerate(self.clients)) + list(enumerate(self.servers))
            for i, peer in peers:
                peer.observe(mono - self.starts[i], peer.sock in readable)

    def _accept(self) -> None:
        """The proxy's connection to each server, once it came."""
        for i, sc in enumerate(self.scenarios):
            if sc.server == "blackhole" or self.servers[i].sock is not None:
                continue
            lst, filler = self.listeners[i]
            if not self.freed[i]:
                if not _syn_sent(lst.getsockname()):
                    continue
                # free the queue: the SYN, retransmitted at ~1 s, gets through
                lst.setblocking(True)
                lst.accept()[0].close()
                lst.setblocking(False)
                assert filler is not None
                filler.close()
                self.freed[i] = True
            with contextlib.suppress(BlockingIOError):
                srv = lst.accept()[0]
                srv.setblocking(False)
                self.servers[i] = Peer(srv)

    def _act(self) -> None:
        mono = time.monotonic()
        for step in list(self.script):
            t, i, who, what = step
            peer = (self.clients if who == "c" else self.servers)[i]
            if peer.sock is None or mono - self.starts[i] < t:
                continue
            self.script.remove(step)
            try:
                peer.act(what)
            except OSError as exc:  # the proxy closed it first: shown as a mismatch
                peer.events.append((f"{what}: {exc.strerror}", mono - self.starts[i]))
        for (i, who), n in self.sent.items():
            peer = (self.clients if who == "c" else self.servers)[i]
            due = n < self.scenarios[i].sends[who] and mono - self.starts[i] >= (n + 1) / 10
            if peer.sock is not None and due:
                with contextlib.suppress(OSError):
                    peer.act("send")
                self.sent[(i, who)] = n + 1


def _mismatches(scenarios: list[Scenario], seen: dict[str, Expect]) -> list[str]:
    out = []
    for sc in scenarios:
        for who in ("c", "s"):
            want = sc.expect.get(who, [])
            got = seen[sc.name][who]
            if want and want[0][0] == "end":  # a FIN or a reset, whatever follows
                ok = (
                    bool(got)
                    and got[0][0] in ("fin", "rst")
                    and _on_time(got[0][1], want[0][1], sc.late)
                )
            else:
                ok = len(got) == len(want) and all(
                    g[0] == w[0] and _on_time(g[1], w[1], sc.late)
                    for g, w in zip(got, want, strict=True)
                )
            if not ok:
                shown = [(kind, round(t, 3)) for kind, t in got]
                out.append(
                    f"{sc.name!r} {'client' if who == 'c' else 'server'}: {shown}, want {want}"
                )
    return out


def _on_time(got: float, want: float, late: float) -> bool:
    return want - EARLY <= got <= want + late


# one process per group and program; the connect group lasts longest (a SYN
# retransmitted after 1 s)
GROUPS = {"established": TIMEOUTS + HALF_CLOSES + CLOSES, "connect": CONNECT}


@pytest.mark.haproxy
@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("group", GROUPS)
def test_peers_observe_what_haproxy_does(
    proc_runner: Runner, program: list[str] | None, group: str
) -> None:
    scenarios = GROUPS[group]
    for _ in range(3):
        seen, stalled, stderr = _run(proc_runner, program, scenarios)
        wrong = _mismatches(scenarios, seen)
        if not wrong or stalled < STALL:
            break
        # the test itself was starved: it saw events late, or acted late
    assert not wrong, "\n".join([*wrong, f"stalled {stalled:.3f} s; stderr:", stderr[-3000:]])


def test_scenarios_are_unique() -> None:
    names = [sc.name for group in GROUPS.values() for sc in group]
    assert len(names) == len(set(names))
