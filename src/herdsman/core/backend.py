"""A backend, its servers and their checks at run time (``struct proxy`` seen as a
backend, ``struct server``, ``struct check``).

Rule 1: these objects are the one place server state lives. Checks, the
balancer, the data path and the views (runtime API, stats, Prometheus) read
them; only ``core/transitions.py`` changes a server's operational state,
admin flags, weight or limits, and it commits through ``Backend.commit_lb()``
so the balancer, trackers, logs and queues see every change at once.

Rule 2: the state is plain data (ints, enums, counters), so it can be dumped
by ``show servers state`` or, later, shared with worker processes.

Rule 3: the data path asks once. ``acquire(stream)`` picks a server *and*
takes its slot in one step (HAProxy's ``assign_server()`` followed by the
connection slot, which a queue must see as one decision); ``release()`` hands
the slot back, and is where a queue will pass it to the next waiter.

Rule 4: core knows neither the data path nor its views. A stream is anything
with ``abort()`` (``on-marked-down shutdown-sessions`` calls it); everything
core tells the world goes through the one ``Hooks`` object given to the
backend at construction (a ``NullHooks`` when nobody listens).

The three classes share this module because they point at each other
(a server knows its backend and its checks, a check its server).
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from herdsman.config.model import Address, Observe, ProxyConfig, ServerConfig
from herdsman.core.clock import Clock
from herdsman.core.counters import BeCounters
from herdsman.core.events import CheckEvent, ServerEvent
from herdsman.core.states import LB_STATES, MAINT, NOT_LB, SrvAdmin, SrvState
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import HanaEvent, Result, Status
from herdsman.lb.base import Algorithm, LbServer


class Stream(Protocol):
    """What core knows of a client stream attached to a server."""

    def abort(self) -> None:
        """Kill the stream now (both connections reset)."""
        ...


class Hooks(Protocol):
    """Everything core tells the world, in one object given at construction.

    ``starting`` is HAProxy's MODE_STARTING: some messages are not emitted
    before the process serves. ``log`` goes to the proxy's log targets,
    ``warning``/``alert`` to the process's stderr; ``changed`` receives one
    event per committed server change; ``checked`` one event per completed
    check or agent run; ``traffic`` receives the passive health events of
    live traffic (``observe``, spec §4.7).
    """

    starting: bool

    def log(self, backend: Backend, level: int, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def alert(self, message: str) -> None: ...

    def changed(self, event: ServerEvent) -> None: ...

    def checked(self, event: CheckEvent) -> None: ...

    def traffic(self, srv: Server, event: HanaEvent) -> None: ...


class Waiting:
    """``acquire()``'s answer when the stream must wait for a slot (queues, spec §2.5)."""

    __slots__ = ()


WAIT: Final = Waiting()


class Check:
    """One periodic check (or agent check) of one server (spec §4.1, §4.3).

    Holds the health counter and the last result; the counter rule and the
    log line live in ``checks/health.py``, the timing in ``checks/scheduler.py``.
    """

    __slots__ = (
        "server",
        "agent",
        "ruleset",
        "rise",
        "fall",
        "health",
        "inter",
        "fastinter",
        "downinter",
        "configured",
        "enabled",
        "paused",
        "in_progress",
        "status",
        "result",
        "code",
        "desc",
        "duration",
        "start_ms",
        "expire",
        "seq",
        "running",
    )

    def __init__(
        self,
        server: Server,
        ruleset: Ruleset,
        *,
        agent: bool = False,
        rise: int = 2,
        fall: int = 3,
        inter: int = 2000,
        fastinter: int = 0,
        downinter: int = 0,
    ) -> None:
        self.server = server
        self.agent = agent
        self.ruleset = ruleset
        self.rise = rise
        self.fall = fall
        # Servers start UP at the lowest "up" health: one failure takes them
        # down (spec §4.3, confirmed on 2.6.12).
        self.health = rise
        self.inter = inter
        self.fastinter = fastinter
        self.downinter = downinter
        self.configured = True
        self.enabled = True
        self.paused = False
        self.in_progress = False
        self.status = Status.INI
        self.result = Result.UNKNOWN
        self.code = 0
        self.desc = ""
        self.duration = -1
        self.start_ms = 0
        self.expire = 0  # next run, in clock milliseconds
        self.seq = 0  # bumped on every (re)schedule: stale heap entries are skipped
        self.running: object | None = None  # the I/O driver's handle while in progress

    def __repr__(self) -> str:
        kind = "agent" if self.agent else "check"
        return f"<{kind} {self.server.id} health={self.health} {self.status.short}>"

    @property
    def active(self) -> bool:
        """Runs when due: enabled and not paused (``CHK_ST_ENABLED`` without ``PAUSED``)."""
        return self.enabled and not self.paused

    def getinter(self) -> int:
        """``srv_getinter()``: inter when fully up, downinter when fully down, else fastinter."""
        if self.configured and self.health == self.rise + self.fall - 1:
            return self.inter
        if self.server.next_state is SrvState.STOPPED and self.health == 0:
            return self.downinter or self.inter
        return self.fastinter or self.inter

    def state_word(self) -> tuple[int, int, bool]:
        """(a, b, up) of "status: a/b UP|DOWN" (spec §4.9)."""
        if self.health >= self.rise:
            return self.health - self.rise + 1, self.fall, True
        return self.health, self.rise, False


class Server:
    """A backend server at run time (``struct server``)."""

    def __init__(self, backend: Backend, cfg: ServerConfig) -> None:
        assert cfg.addr is not None
        self.backend = backend
        self.cfg = cfg
        self.name = cfg.name
        self.puid = cfg.puid
        self.backup = cfg.backup
        self.addr: Address = cfg.addr
        # where checks connect ("addr"/"port" on the server line, set server check-*)
        self.check_addr: Address | None = cfg.check_addr
        self.check_port = cfg.check_port
        self.addr_gen = 0  # bumped on every address change: check targets are rebuilt
        # operational and administrative state (spec §11.1)
        self.cur_state = SrvState.RUNNING
        self.next_state = SrvState.RUNNING
        self.cur_admin = SrvAdmin.NONE
        self.next_admin = SrvAdmin.NONE
        self.last_change = 0  # seconds (clock.now_s)
        self.down_time = 0
        # weights (spec §12.1): user scale and the algorithm's scale
        self.uweight = cfg.weight
        self.iweight = cfg.weight
        self.eweight = 0
        self.lb: Any = None  # the balancing algorithm's per-server slot
        self.lb_usable = False  # whether the algorithm currently holds the server
        self.lb_eweight = 0  # the eweight the algorithm last saw
        self.cumulative_weight = 0
        # limits (spec §2; enforced with queues)
        self.maxconn = cfg.maxconn
        self.minconn = cfg.minconn
        self.maxqueue = cfg.maxqueue
        # live traffic
        self.served = 0  # streams currently holding a slot
        self.nbpend = 0  # queued streams
        # streams holding a slot -> (clock ms when they got it, connect time in
        # ms or -1 until connected): shutdown-sessions, show sess, time averages
        self.streams: dict[Stream, tuple[int, int]] = {}
        self.counters = BeCounters()
        self.consecutive_errors = 0  # passive health (observe)
        # checks and tracking
        self.check: Check | None = None
        self.agent: Check | None = None
        self.track: Server | None = None
        self.trackers: list[Server] = []
        self.adm_cause = ""  # adm_st_chg_cause
        # pending operational change report (op_st_chg)
        self.chg_reason = ""
        self.chg_status = -1
        self.chg_code = 0
        self.chg_duration = -1

    def __repr__(self) -> str:
        return f"<Server {self.backend.name}/{self.name} {self.cur_state.name} {self.cur_admin!r}>"

    @property
    def id(self) -> str:
        return f"{self.backend.name}/{self.name}"

    def willbe_usable(self) -> bool:
        """``srv_willbe_usable()``: may the balancer pick this server (spec §11.1)?"""
        if not self.eweight or self.next_admin.value & NOT_LB:
            return False
        return self.next_state in LB_STATES

    def is_usable(self) -> bool:
        """``srv_currently_usable()``."""
        if not self.eweight or self.cur_admin.value & NOT_LB:
            return False
        return self.cur_state in LB_STATES

    @property
    def in_maint(self) -> bool:
        return bool(self.cur_admin & MAINT)

    @property
    def is_up(self) -> bool:
        """UP as the data path sees it: not DOWN and not in maintenance."""
        return self.cur_state is not SrvState.STOPPED and not self.cur_admin & MAINT


class Backend:
    """A proxy with backend capability (``backend`` or ``listen``)."""

    def __init__(self, cfg: ProxyConfig, algorithm: Algorithm, clock: Clock, hooks: Hooks) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.kind = "proxy" if cfg.kind == "listen" else "backend"
        self.clock = clock
        self.hooks = hooks
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
        # live traffic and counters
        self.beconn = 0  # streams holding a server slot (or queued) in this backend
        self.nbpend = 0  # streams in the backend's own queue
        self.counters = BeCounters()
        self.last_change = clock.now_s()
        self.down_time = 0
        # data path settings read once
        self.srvtcpka = cfg.option("srvtcpka") or cfg.option("tcpka")
        self.nolinger = cfg.option("nolinger")

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

    def _reinit_lb(self) -> None:
        """The server list changed at run time: the algorithm starts over on it."""
        self.recount()
        self.algo.init(self)
        for srv in self.servers:
            srv.lb_usable = srv.willbe_usable()
            srv.lb_eweight = srv.eweight

    def insert_server(self, srv: Server) -> None:
        """``add server``: a new server (in maintenance) at the end of the list."""
        self.servers.append(srv)
        self.by_name[srv.name] = srv
        self.recalc_eweight(srv)
        self._reinit_lb()

    def remove_server(self, srv: Server) -> None:
        """``del server``: the server leaves the list (it is in maintenance: unused)."""
        self.servers.remove(srv)
        self.by_name.pop(srv.name, None)
        self._reinit_lb()

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
        return srv.willbe_usable()  # type: ignore[attr-defined, no-any-return]

    # -- the data path's question ---------------------------------------------

    def acquire(self, stream: Stream, key: int | None = None) -> Server | Waiting | None:
        """Choose a server for a new ``stream`` and take its slot, in one step.

        ``key`` is the stream's hash for hash-based algorithms (spec §12.8;
        the data path computes it, it knows the request). Returns the server
        (its slot taken: ``release()`` must follow), ``WAIT`` when the stream
        must wait for a slot, or None when no server is usable (the caller
        answers 503 or closes).
        """
        self.counters.cum_conn += 1
        srv: Server | None = self.algo.pick(None, key)  # type: ignore[assignment]
        if srv is None:
            return None
        self._take(srv, stream)
        return srv

    def redispatch(self, stream: Stream, old: Server, key: int | None = None) -> Server:
        """Move ``stream`` from ``old`` to another server (spec §2.7), in one step.

        The balancer picks while avoiding ``old``; when it finds nothing else
        the stream keeps its slot on ``old``.
        """
        srv: Server | None = self.algo.pick(old, key)  # type: ignore[assignment]
        if srv is None or srv is old:
            return old
        self.release(old, stream)
        self._take(srv, stream)
        return srv

    def _take(self, srv: Server, stream: Stream) -> None:
        srv.served += 1
        self.beconn += 1
        now_ms = self.clock.now_ms()
        srv.streams[stream] = (now_ms, -1)
        self.algo.take_conn(srv)
        now = now_ms // 1000
        c = srv.counters
        c.cum_sess += 1
        c.cum_lbconn += 1
        c.last_sess = now
        if srv.served > c.sess_max:
            c.sess_max = srv.served
        c.add_session(now_ms)
        c = self.counters
        c.cum_sess += 1
        c.cum_lbconn += 1
        c.last_sess = now
        if self.beconn > c.sess_max:
            c.sess_max = self.beconn
        c.add_session(now_ms)

    def connected(self, srv: Server, stream: Stream) -> None:
        """``stream``'s connection to ``srv`` is established: its connect time."""
        entry = srv.streams.get(stream)
        if entry is not None:
            srv.streams[stream] = (entry[0], self.clock.now_ms() - entry[0])

    def release(self, srv: Server, stream: Stream) -> None:
        """Give ``stream``'s slot on ``srv`` back (the next waiter gets it, with queues).

        A stream that was connected adds its connect and total times to the
        averages (``stream_update_time_stats()``).
        """
        srv.served -= 1
        self.beconn -= 1
        entry = srv.streams.pop(stream, None)
        self.algo.drop_conn(srv)
        if entry is not None and entry[1] >= 0:
            total = self.clock.now_ms() - entry[0]
            srv.counters.add_times(entry[1], total)
            self.counters.add_times(entry[1], total)

    def passive(self, srv: Server, event: HanaEvent) -> None:
        """Report a live-traffic event for ``observe`` (spec §4.7)."""
        if srv.check is not None and srv.cfg.observe is not Observe.NONE:
            self.hooks.traffic(srv, event)
