"""Runtime backends: the servers of one proxy, their balancer and counters.

``Backend.assign()`` is the one question the data path asks: "which server,
may I connect now?". Today it answers a server or None (no usable server);
connection limits and queues will let it answer "wait" without changing the
callers' shape.

Rule: the balancer's view is refreshed only by ``commit_lb()``, which
``core/transitions.py`` calls after every state or weight change (HAProxy's
``srv_lb_commit_status()`` + ``recount_servers()`` + the ``lbprm`` callbacks).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Protocol, cast

from herdsman.config.model import ProxyConfig
from herdsman.core.clock import Clock
from herdsman.core.server import Server, SrvState
from herdsman.defs.status import HanaEvent
from herdsman.lb.base import Algorithm, LbServer


class _Sender(Protocol):
    def send(self, level: int, message: str) -> None: ...


class Reporter(Protocol):
    """Where state-change messages go: the proxy's log targets and stderr."""

    starting: bool  # HAProxy's MODE_STARTING: some messages are not emitted yet

    def log(self, backend: Backend, level: int, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def alert(self, message: str) -> None: ...


class NullReporter:
    """Collects messages in memory (tests, embedding without logs)."""

    def __init__(self) -> None:
        self.starting = False
        self.logs: list[tuple[str, int, str]] = []
        self.stderr: list[tuple[str, str]] = []

    def log(self, backend: Backend, level: int, message: str) -> None:
        self.logs.append((backend.name, level, message))

    def warning(self, message: str) -> None:
        self.stderr.append(("WARNING", message))

    def alert(self, message: str) -> None:
        self.stderr.append(("ALERT", message))


class Backend:
    """A proxy with backend capability (``backend`` or ``listen``)."""

    def __init__(
        self,
        cfg: ProxyConfig,
        algorithm: Algorithm,
        clock: Clock,
        reporter: Reporter,
        key_of: Callable[[Backend, object], int | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.kind = "proxy" if cfg.kind == "listen" else "backend"
        self.clock = clock
        self.reporter = reporter
        self.algo = algorithm
        self.allbackups = cfg.option("allbackups")
        self.hash_balance_factor = cfg.balance.hash_balance_factor
        self.random_draws = cfg.balance.draws
        self.servers: list[Server] = []
        self.by_name: dict[str, Server] = {}
        # lbprm
        self.srv_act = self.srv_bck = 0
        self.tot_wact = self.tot_wbck = self.tot_weight = self.tot_used = 0
        self.fbck: Server | None = None
        self.wmult = 1
        self.wdiv = 1
        # counters
        self.beconn = 0
        self.cum_conn = 0
        self.last_change = clock.now_s()
        self.down_time = 0
        self.down_trans = 0
        self.failed_conns = 0
        self._key_of = key_of or source_key
        self.logger: _Sender | None = None  # where this proxy's messages go (send_log)
        # data path settings
        self.srvtcpka = cfg.option("srvtcpka") or cfg.option("tcpka")
        self.passive_hook: Callable[[Server, HanaEvent], None] | None = None

    # -- set-up --------------------------------------------------------------

    def add_servers(self, servers: list[Server]) -> None:
        self.servers = servers
        self.by_name = {s.name: s for s in servers}

    def start_lb(self) -> None:
        """``configure`` → eweights → recount → ``init`` (lb/base.py, rule 2)."""
        self.algo.configure(self)
        for srv in self.servers:
            self.recalc_eweight(srv)
        self.recount()
        self.algo.init(self)
        for srv in self.servers:
            srv.lb_usable = srv.willbe_usable()
            srv.lb_eweight = srv.eweight

    def find(self, name: str) -> Server | None:
        """``findserver()``: by name or ``#<id>``."""
        if name.startswith("#") and name[1:].isdigit():
            puid = int(name[1:])
            return next((s for s in self.servers if s.puid == puid), None)
        return self.by_name.get(name)

    # -- balancer bookkeeping (backend.c) -------------------------------------

    def recount(self) -> None:
        """``recount_servers()`` + ``update_backend_weight()``."""
        act = bck = wact = wbck = 0
        fbck: Server | None = None
        for srv in self.servers:
            if not srv.willbe_usable():
                continue
            if srv.backup:
                if not bck and not self.allbackups:
                    fbck = srv
                bck += 1
                srv.cumulative_weight = wbck
                wbck += srv.eweight
            else:
                act += 1
                srv.cumulative_weight = wact
                wact += srv.eweight
        self.srv_act, self.srv_bck = act, bck
        self.tot_wact, self.tot_wbck, self.fbck = wact, wbck, fbck
        if act:
            self.tot_weight, self.tot_used = wact, act
        elif fbck is not None:
            self.tot_weight, self.tot_used = fbck.eweight, 1
        else:
            self.tot_weight, self.tot_used = wbck, bck

    def recalc_eweight(self, srv: Server) -> None:
        """``server_recalc_eweight()`` without slowstart (planned with agent checks)."""
        if srv.next_state is SrvState.STARTING:
            srv.next_state = SrvState.RUNNING
        srv.eweight = (srv.uweight * self.wdiv + self.wmult - 1) // self.wmult

    def commit_lb(self, srv: Server) -> None:
        """Tell the algorithm what changed since it last saw ``srv``."""
        # srv_lb_commit_status(): both next values become current
        srv.cur_state = srv.next_state
        srv.cur_admin = srv.next_admin
        self.recount()
        was = srv.lb_usable
        now = srv.willbe_usable()
        if was and not now:
            self.algo.set_server_down(srv)
        elif now and not was:
            self.algo.set_server_up(srv)
        elif now and srv.eweight != srv.lb_eweight:
            self.algo.update_server_eweight(srv)
        srv.lb_usable = now
        srv.lb_eweight = srv.eweight

    def dynamic_maxconn(self, srv: LbServer) -> int:
        """``srv_dynamic_maxconn()``: static until minconn/slowstart are implemented."""
        return srv.maxconn

    def server_is_full(self, srv: LbServer) -> bool:
        return bool(srv.maxconn) and (srv.nbpend > 0 or srv.served >= self.dynamic_maxconn(srv))

    def server_usable(self, srv: LbServer) -> bool:
        return cast(Server, srv).willbe_usable()

    # -- the data path's question ---------------------------------------------

    def assign(self, client: object = None, avoid: Server | None = None) -> Server | None:
        """Pick a server for a new connection (``assign_server()``), or None."""
        key = self._key_of(self, client) if self.cfg.balance.algo == "source" else None
        return cast(Server | None, self.algo.pick(avoid, key))

    def passive(self, srv: Server, event: HanaEvent) -> None:
        """Report a live-traffic event for ``observe`` (spec §4.7)."""
        if self.passive_hook is not None and srv.check is not None:
            self.passive_hook(srv, event)

    def take(self, srv: Server) -> None:
        srv.served += 1
        srv.cum_sess += 1
        self.beconn += 1
        self.algo.take_conn(srv)

    def release(self, srv: Server) -> None:
        srv.served -= 1
        self.beconn -= 1
        self.algo.drop_conn(srv)


def source_key(backend: Backend, client: object) -> int | None:
    """The hash key of ``balance source`` for a client address (spec §12.8)."""
    from herdsman.lb.hashing import source_key as lb_source_key

    if not isinstance(client, tuple) or not client:
        return None
    try:
        ip = ipaddress.ip_address(client[0])
    except ValueError:
        return None
    return lb_source_key(ip, backend.cfg.balance)
