"""A fake backend and servers implementing the ``lb.base`` Protocols.

``Harness`` does what core will do around an algorithm: configure, compute
every eweight (``server_recalc_eweight()``), recount the backend exactly as
``backend.c recount_servers()`` + ``update_backend_weight()`` do, init; and
for runtime changes: update the server, recount, then the right callback.

The ``Scenario`` answers in ``test_lb_ref_*`` come from HAProxy 2.6.12
(Debian 12) on loopback, with this config::

    global
        stats socket <sock> level admin
    defaults
        mode tcp
        timeout connect 1s
        timeout client 5s
        timeout server 5s
    listen L
        bind 127.0.0.1:18000
        balance <balance>
        <extra lines>
        server <name> 127.0.0.1:<port> <server line tail>

and one small TCP server per server line that writes its name and waits for
the client to close. ``cli`` ops went to the stats socket. ``replay`` plays
a scenario on herdsman's algorithm.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from herdsman.config.model import Balance, HashMethod
from herdsman.lb.base import Algorithm, LbServer
from herdsman.lb.hashing import source_key
from herdsman.lb.select import make_algorithm


@dataclass(eq=False)
class FakeServer:
    name: str
    puid: int = 0
    backup: bool = False
    uweight: int = 1
    iweight: int = 1
    eweight: int = 0
    served: int = 0
    nbpend: int = 0
    maxconn: int = 0
    cumulative_weight: int = 0
    lb: Any = None
    # what core knows and the Protocol does not expose
    running: bool = True  # STARTING/RUNNING, not MAINT/DRAIN
    maxqueue: int = 0
    dyn_maxconn: int | None = None  # srv_dynamic_maxconn() when it differs from maxconn

    def __repr__(self) -> str:
        return f"<{self.name}>"


@dataclass(eq=False)
class FakeBackend:
    name: str = "L"
    servers: Sequence[LbServer] = ()
    allbackups: bool = False
    srv_act: int = 0
    srv_bck: int = 0
    tot_wact: int = 0
    tot_wbck: int = 0
    tot_weight: int = 0
    tot_used: int = 0
    fbck: LbServer | None = None
    wmult: int = 1
    wdiv: int = 1
    hash_balance_factor: int = 0
    random_draws: int = 2
    beconn: int = 0

    def dynamic_maxconn(self, srv: LbServer) -> int:
        assert isinstance(srv, FakeServer)
        return srv.maxconn if srv.dyn_maxconn is None else srv.dyn_maxconn

    def server_is_full(self, srv: LbServer) -> bool:
        return bool(srv.maxconn) and (srv.nbpend > 0 or srv.served >= self.dynamic_maxconn(srv))

    def server_usable(self, srv: LbServer) -> bool:
        assert isinstance(srv, FakeServer)
        return srv.eweight > 0 and srv.running

    def recount(self) -> None:
        """``recount_servers()`` then ``update_backend_weight()`` (backend.c)."""
        self.srv_act = self.srv_bck = self.tot_wact = self.tot_wbck = 0
        self.fbck = None
        for srv in self.servers:
            if not self.server_usable(srv):
                continue
            if srv.backup:
                if not self.srv_bck and not self.allbackups:
                    self.fbck = srv
                self.srv_bck += 1
                srv.cumulative_weight = self.tot_wbck
                self.tot_wbck += srv.eweight
            else:
                self.srv_act += 1
                srv.cumulative_weight = self.tot_wact
                self.tot_wact += srv.eweight
        if self.srv_act:
            self.tot_weight, self.tot_used = self.tot_wact, self.srv_act
        elif self.fbck is not None:
            self.tot_weight, self.tot_used = self.fbck.eweight, 1
        else:
            self.tot_weight, self.tot_used = self.tot_wbck, self.srv_bck


def servers(weights: Iterable[int], *, backups: Iterable[int] = ()) -> list[FakeServer]:
    """Servers a, b, c... with these weights, then backups with theirs."""
    ws = list(weights)
    out = [FakeServer(name=chr(ord("a") + i), uweight=w, iweight=w) for i, w in enumerate(ws)]
    for j, w in enumerate(backups):
        name = chr(ord("a") + len(ws) + j)
        out.append(FakeServer(name=name, uweight=w, iweight=w, backup=True))
    return out


@dataclass(eq=False)
class Harness:
    """An algorithm bound to a fake backend, driven the way core drives it."""

    algo: Algorithm
    be: FakeBackend = field(default_factory=FakeBackend)

    @classmethod
    def start(
        cls,
        algo: Algorithm,
        srvs: Sequence[FakeServer],
        backend_cls: type[FakeBackend] = FakeBackend,
        **backend: Any,
    ) -> Harness:
        next_id = 1
        used = {s.puid for s in srvs if s.puid}
        for s in srvs:  # automatic ids: the next free one, in declaration order
            if not s.puid:
                while next_id in used:
                    next_id += 1
                s.puid = next_id
                used.add(next_id)
        h = cls(algo=algo, be=backend_cls(servers=srvs, **backend))
        algo.configure(h.be)
        for s in srvs:
            h._recalc(s)
        h.be.recount()
        algo.init(h.be)
        return h

    def __getitem__(self, name: str) -> FakeServer:
        for s in self.be.servers:
            if s.name == name:
                assert isinstance(s, FakeServer)
                return s
        raise KeyError(name)

    def _recalc(self, s: FakeServer) -> None:
        s.eweight = (s.uweight * self.be.wdiv + self.be.wmult - 1) // self.be.wmult

    # -- runtime changes, as core sequences them --------------------------------

    def down(self, name: str) -> None:
        self[name].running = False
        self.be.recount()
        self.algo.set_server_down(self[name])

    def up(self, name: str) -> None:
        self[name].running = True
        self.be.recount()
        self.algo.set_server_up(self[name])

    def weight(self, name: str, uweight: int) -> None:
        s = self[name]
        s.uweight = uweight
        self._recalc(s)
        self.be.recount()
        self.algo.update_server_eweight(s)

    def take(self, s: FakeServer) -> None:
        s.served += 1
        self.be.beconn += 1
        self.algo.take_conn(s)

    def release(self, s: FakeServer) -> None:
        s.served -= 1
        self.be.beconn -= 1
        self.algo.drop_conn(s)

    # -- picking ------------------------------------------------------------------

    def pick(self, avoid: str | None = None, key: int | None = None) -> FakeServer | None:
        got = self.algo.pick(None if avoid is None else self[avoid], key)
        assert got is None or isinstance(got, FakeServer)
        return got

    def seq(self, n: int, *, hold: bool = False, key: int | None = None) -> str:
        """Names of ``n`` successive picks, space-separated ("-" for None).

        Each picked server takes the connection; unless ``hold``, it is
        released before the next pick (sequential, non-overlapping clients).
        """
        names = []
        for _ in range(n):
            s = self.pick(key=key)
            names.append("-" if s is None else s.name)
            if s is not None:
                self.take(s)
                if not hold:
                    self.release(s)
        return " ".join(names)


# -- reference scenarios replayed against the real binary -------------------------

SourceIps = Sequence[str]


@dataclass(frozen=True)
class Scenario:
    """A run recorded on HAProxy 2.6.12 and replayed here.

    ``servers`` are server-line tails as in the haproxy config ("a weight 2
    backup"); a leading "!" marks a server with no listener, whose connects
    fail (with ``option redispatch`` and ``retries 3``). ``ops`` are:

    * ``("seq", "a b a")``: sequential connections, each closed before the
      next; the string is what the binary answered.
    * ``("hold", "a b")``: connections kept open.
    * ``("release", [0, 3])``: close held connections, by their hold order,
      one at a time.
    * ``("cli", "set weight L/a 3")`` / ``disable server`` / ``enable server``.
    * ``("src", ips, "c a b")`` / ``("hold_src", ips, ...)``: one connection
      from each source address (``balance source``); ``ips`` is a list or a
      space-separated string.
    """

    balance: str
    servers: Sequence[str]
    ops: Sequence[tuple[Any, ...]]
    extra: Sequence[str] = ()


def _balance(sc: Scenario) -> Balance:
    bal = Balance(algo=sc.balance.split()[0])
    for line in sc.extra:
        w = line.split()
        if w[0] == "hash-type":
            # as cfgparse-listen.c: consistent without a function means +avalanche
            bal.hash_method = HashMethod(w[1])
            bal.hash_function = w[2] if len(w) > 2 else "sdbm"
            bal.avalanche = (len(w) == 2 and w[1] == "consistent") or w[3:] == ["avalanche"]
        elif w[0] == "hash-balance-factor":
            bal.hash_balance_factor = int(w[1])
    return bal


def _server(line: str) -> FakeServer:
    words = line.split()
    s = FakeServer(name=words[0].lstrip("!"))
    it = iter(words[1:])
    for kw in it:
        if kw == "backup":
            s.backup = True
        elif kw == "weight":
            s.uweight = s.iweight = int(next(it))
        elif kw == "maxconn":
            s.maxconn = int(next(it))
        elif kw == "id":
            s.puid = int(next(it))
        else:
            raise ValueError(kw)
    return s


def replay(sc: Scenario) -> list[str]:
    """Replay ``sc`` and return the answers of its picking ops, in order."""
    bal = _balance(sc)
    dead = {line.split()[0][1:] for line in sc.servers if line.startswith("!")}
    h = Harness.start(
        make_algorithm(bal),
        [_server(line) for line in sc.servers],
        allbackups="option allbackups" in sc.extra,
        hash_balance_factor=bal.hash_balance_factor,
    )
    held: list[FakeServer | None] = []

    def connect(key: int | None, hold: bool) -> str:
        s = h.pick(key=key)
        # retries 3 in 2.6.12 means 3 retries; a round robin with more than
        # one usable active server redispatches on each, else only the last
        for k in (1, 2, 3):
            if s is None or s.name not in dead:
                break
            if h.be.srv_act > 1 or k == 3:
                s = h.pick(avoid=s.name, key=key)
        if s is None or s.name in dead:
            return "-"
        if h.be.server_is_full(s):
            # queued on that server; nothing is released while the op runs,
            # so the binary's "timeout queue" closed it without an answer
            return "-"
        h.take(s)
        if hold:
            held.append(s)
        else:
            h.release(s)
        return s.name

    out = []
    for op in sc.ops:
        kind = op[0]
        if kind in ("seq", "hold"):
            out.append(" ".join(connect(None, kind == "hold") for _ in op[1].split()))
        elif kind in ("src", "hold_src"):
            ips = op[1].split() if isinstance(op[1], str) else op[1]
            keys = [source_key(ipaddress.ip_address(ip), bal) for ip in ips]
            out.append(" ".join(connect(k, kind == "hold_src") for k in keys))
        elif kind == "release":
            for i in op[1]:
                s = held[i]
                assert s is not None
                h.release(s)
                held[i] = None
        elif kind == "cli":
            words = op[1].split()
            name = words[2].split("/")[1]
            if words[0] == "disable":
                h.down(name)
            elif words[0] == "enable":
                h.up(name)
            else:
                w = words[3]
                h.weight(name, h[name].iweight if w == "100%" else int(w))
        else:
            raise ValueError(kind)
    return out


def expected(sc: Scenario) -> list[str]:
    return [op[-1] for op in sc.ops if op[0] in ("seq", "hold", "src", "hold_src")]


# The 24 source addresses of observed-2.6.12-server-lb.md §3.
OBSERVED_IPS = [f"127.0.0.{i}" for i in range(1, 21)] + [
    "127.1.2.3",
    "127.200.100.50",
    "127.255.255.254",
    "127.10.20.30",
]
