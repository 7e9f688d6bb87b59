"""A backend, its servers and their checks at run time (``struct proxy`` seen as a
backend, ``struct server``, ``struct check``).

Rule 1: these objects are the one place server state lives. Checks, the
balancer, the data path and the views (runtime API, stats, Prometheus) read
them; only ``core/transitions.py`` changes a server's operational state,
admin flags, weight or limits, and it commits through ``core/lbprm.py``'s
``commit()`` so the balancer, trackers, logs and queues see every change at once.

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

from typing import Any, Final, Protocol, cast

from herdsman.config.model import Observe, ProxyConfig, ServerConfig
from herdsman.config.model_addr import Address
from herdsman.core import queue as pendconn
from herdsman.core.clock import Clock
from herdsman.core.counters import BeCounters
from herdsman.core.events import CheckEvent, ServerEvent
from herdsman.core.queue import Pending, Queue
from herdsman.core.states import LB_STATES, MAINT, NOT_LB, SrvAdmin, SrvState
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import HanaEvent, Result, Status
from herdsman.lb.base import Algorithm, LbServer

_OBSERVE_NONE = Observe.NONE  # a module global: an enum member is a slow lookup (3.11)


class Stream(Protocol):
    """What core knows of a client stream attached to a server."""

    force: bool  # SF_FORCE_PRST: its queue entry stays when its server goes down

    def abort(self) -> None:
        """Kill the stream now (both connections reset)."""
        ...

    def dequeued(self, srv: Server | None) -> None:
        """The stream's queue entry was unlinked: it now holds a slot on ``srv``,
        or (None) it must ask again (``Backend.reassign()``). Called from core:
        it must only schedule work, never call back into the backend."""
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


class Warmups(Protocol):
    """Where a server entering slow start arms its steps (``core/warmup.py``)."""

    def arm(self, srv: Server) -> None: ...


class _NoWarmups:
    """A backend built without a warmup heap: slow start never steps."""

    def arm(self, srv: Server) -> None:
        pass


class QueueFull:
    """``acquire()``'s answer when the stream's server queue reached ``maxqueue`` (spec §2.5)."""

    __slots__ = ()


QUEUE_FULL: Final = QueueFull()


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
        # limits (spec §2.4; minconn/maxconn normalised by config/validate.py)
        self.maxconn = cfg.maxconn
        self.minconn = cfg.minconn
        self.maxqueue = cfg.maxqueue
        self.slowstart_s = -(-cfg.slowstart // 1000)  # HAProxy keeps whole seconds, rounded up
        # live traffic
        self.served = 0  # streams currently holding a slot
        self.queue = Queue()  # streams waiting for this server (spec §2.5)
        self.nbpend = 0  # == queue.length (the balancer reads nbpend)
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
        if not self.eweight or self.next_admin._value_ & NOT_LB:  # an IntFlag's & is a call
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

    def __init__(
        self,
        cfg: ProxyConfig,
        algorithm: Algorithm,
        clock: Clock,
        hooks: Hooks,
        fullconn: int = 1,
        warmups: Warmups | None = None,
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.kind = "proxy" if cfg.kind == "listen" else "backend"
        self.clock = clock
        self.hooks = hooks
        self.warmups: Warmups = warmups or _NoWarmups()
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
        # limits and live traffic (spec §2.3-§2.5)
        self.fullconn = fullconn  # configured, or derived from the frontends (config/limits.py)
        self.beconn = 0  # streams in this backend: holding a slot or queued
        self.queue = Queue()  # streams no server could take yet
        # roundrobin, static-rr and first let nobody overtake the backend queue
        self.fifo_queue = cfg.balance.algo in ("roundrobin", "static-rr", "first")
        self.counters = BeCounters()
        self.last_change = clock.now_s()
        self.down_time = 0
        # data path settings read once
        self.srvtcpka = cfg.option("srvtcpka") or cfg.option("tcpka")
        self.nolinger = cfg.option("nolinger")
        # a client's FIN aborts a stream still queued or connecting even with
        # data to send (spec §2.8, back_may_abort_req())
        self.abortonclose = cfg.option("abortonclose")

    # -- set-up --------------------------------------------------------------

    def add_servers(self, servers: list[Server]) -> None:
        self.servers = servers
        self.by_name = {s.name: s for s in servers}

    def find(self, name: str) -> Server | None:
        """``findserver()``: by name or ``#<id>``."""
        if name.startswith("#") and name[1:].isdigit():
            puid = int(name[1:])
            return next((s for s in self.servers if s.puid == puid), None)
        return self.by_name.get(name)

    # -- what the balancer asks (lb/base.py's LbBackend) -------------------------

    def dynamic_maxconn(self, srv: LbServer) -> int:
        """``srv_dynamic_maxconn()`` for the balancer (lb/base.py's view of a server)."""
        return self.limit(cast(Server, srv))

    def limit(self, srv: Server) -> int:
        """``srv_dynamic_maxconn()`` (spec §2.4, §2.9): the server's limit now.

        Between minconn and maxconn in proportion to the backend's load
        (``beconn`` against ``fullconn``, unsigned 32-bit math as in C), and
        ramped from 1 while the server is STARTING under ``slowstart``.
        """
        if self.beconn >= self.fullconn or srv.minconn == srv.maxconn:
            limit = srv.maxconn
        else:
            limit = max(srv.minconn, ((self.beconn * srv.maxconn) & 0xFFFFFFFF) // self.fullconn)
        if srv.cur_state is SrvState.STARTING and srv.slowstart_s:
            since = self.clock.now_s() - srv.last_change
            if 0 <= since < srv.slowstart_s:
                limit = max(1, limit * (100 * since // srv.slowstart_s) // 100)
        return limit

    def server_is_full(self, srv: LbServer) -> bool:
        return bool(srv.maxconn) and (srv.nbpend > 0 or srv.served >= self.dynamic_maxconn(srv))

    def server_usable(self, srv: LbServer) -> bool:
        return srv.willbe_usable()  # type: ignore[attr-defined, no-any-return]

    # -- the data path's question (backend.c assign_server_and_queue()) ---------

    def acquire(
        self, stream: Stream, key: int | None = None, direct: Server | None = None
    ) -> Server | Pending | QueueFull | None:
        """A new ``stream`` enters the backend: a server slot for it, in one step.

        ``key`` is the stream's hash for hash-based algorithms (spec §12.8;
        the data path computes it, it knows the request). Returns:

        * the server, its slot taken (``release()`` must follow);
        * a ``Pending`` entry: the stream waits in a queue until
          ``stream.dequeued()`` is called, or gives up with ``abandon()``;
        * None: no usable server (HTTP answers 503, TCP closes);
        * ``QUEUE_FULL``: its server's queue reached ``maxqueue`` (503 too).

        ``direct``: the server a rule or a persistence cookie chose
        (``SF_ASSIGNED``): its slot, or a place in its own queue, whatever the
        balancer would say.
        """
        self.counters.cum_conn += 1
        self.beconn += 1
        got = self._assign(stream, key, None) if direct is None else self._direct(stream, direct)
        if got is None or got is QUEUE_FULL:
            self.beconn -= 1
        return got

    def reassign(
        self, stream: Stream, key: int | None = None
    ) -> Server | Pending | QueueFull | None:
        """Ask again for a stream already in the backend, holding no slot
        (its queue entry was redistributed, spec §2.5)."""
        got = self._assign(stream, key, None)
        if got is None or got is QUEUE_FULL:
            self.beconn -= 1
        return got

    def redispatch(
        self, stream: Stream, old: Server, key: int | None = None
    ) -> Server | Pending | QueueFull | None:
        """Balance a stream holding a slot on ``old`` again (a connect retry with
        ``option redispatch``, spec §2.7), in one step: the slot goes back, the
        balancer picks avoiding ``old`` when it can, the answer is as ``acquire()``'s.
        Counts a redispatch when the server changes, else a retry (as 2.6)."""
        self._give_back(old, stream)
        got = self._assign(stream, key, old)
        if got is old:
            old.counters.retries += 1
            self.counters.retries += 1
        else:
            old.counters.redispatches += 1
            self.counters.redispatches += 1
        if old.served < self.limit(old) or not old.maxconn:
            self.process_queue(old)
        if got is None or got is QUEUE_FULL:
            self.beconn -= 1
        return got

    def _assign(
        self, stream: Stream, key: int | None, prev: Server | None
    ) -> Server | Pending | QueueFull | None:
        if not self.tot_weight:
            return None
        queue = self.queue
        if self.fifo_queue and queue.length and queue.length != self.beconn:
            return pendconn.add(self, stream, None)
        srv: Server | None = self.algo.pick(prev, key)  # type: ignore[assignment]
        if srv is None:
            return pendconn.add(self, stream, None)  # every server is full
        if srv is not prev:
            srv.counters.cum_lbconn += 1
            self.counters.cum_lbconn += 1
        if not srv.maxconn:  # _direct() without a limit to test
            self._take(srv, stream)
            return srv
        return self._direct(stream, srv)

    def _direct(self, stream: Stream, srv: Server) -> Server | Pending | QueueFull:
        """``assign_server_and_queue()`` once the server is known (the balancer's
        pick, or ``SF_ASSIGNED``: a rule's or a cookie's): its slot, a place in
        its queue, or ``QUEUE_FULL``."""
        if srv.maxconn and (srv.nbpend or srv.served >= self.limit(srv)):
            if 0 < srv.maxqueue <= srv.nbpend:
                srv.counters.failed_conns += 1
                self.counters.failed_conns += 1
                return QUEUE_FULL
            return pendconn.add(self, stream, srv)
        self._take(srv, stream)
        return srv

    def abandon(self, p: Pending) -> bool:
        """A waiting stream gives up (queue timeout, client gone): it leaves its
        queue and the backend. False when it had already been dequeued."""
        return pendconn.abandon(self, p)

    def _take(self, srv: Server, stream: Stream) -> None:
        srv.served += 1
        now_ms = self.clock.now_ms()
        srv.streams[stream] = (now_ms, -1)
        self.algo.take_conn(srv)
        srv.counters.add_session(now_ms, srv.served)
        self.counters.add_session(now_ms, self.beconn)

    def retry(self, srv: Server) -> None:
        """A stream retries ``srv``, keeping its slot (``stream_choose_redispatch()``
        without a redispatch): a retry, and one more session on the server."""
        srv.counters.retries += 1
        self.counters.retries += 1
        srv.counters.add_session(self.clock.now_ms(), srv.served)

    def connected(self, srv: Server, stream: Stream) -> None:
        """``stream``'s connection to ``srv`` is established: its connect time."""
        entry = srv.streams.get(stream)
        if entry is not None:
            srv.streams[stream] = (entry[0], self.clock.now_ms() - entry[0])

    def _give_back(self, srv: Server, stream: Stream) -> None:
        """The slot goes back; a stream that was connected adds its connect and
        total times to the averages (``stream_update_time_stats()``)."""
        srv.served -= 1
        entry = srv.streams.pop(stream, None)
        self.algo.drop_conn(srv)
        if entry is not None and entry[1] >= 0:
            total = self.clock.now_ms() - entry[0]
            srv.counters.add_times(entry[1], total)
            self.counters.add_times(entry[1], total)

    def release(self, srv: Server, stream: Stream) -> None:
        """``stream`` leaves the backend and gives its slot on ``srv`` back; the
        slot goes at once to the next waiter (``process_srv_queue()``)."""
        self._give_back(srv, stream)
        self.beconn -= 1
        if srv.nbpend or self.queue.length:  # process_srv_queue()'s own first test
            self.process_queue(srv)

    # -- queues (core/queue.py, queue.c) ------------------------------------------

    def grant(self, srv: Server, p: Pending) -> None:
        """A dequeued stream takes its slot on ``srv`` and is told so."""
        self._take(srv, p.stream)
        p.stream.dequeued(srv)

    def process_queue(self, srv: Server) -> int:
        """``process_srv_queue()``: ``srv``'s free slots go to the waiters."""
        return pendconn.process_srv_queue(self, srv)

    def redistribute(self, srv: Server) -> int:
        """``pendconn_redistribute()``: ``srv``'s waiters go back to the balancer."""
        return pendconn.redistribute(self, srv)

    def grab_backend_queue(self, srv: Server) -> int:
        """``pendconn_grab_from_px()``: ``srv`` coming UP takes backend waiters."""
        return pendconn.grab_from_backend(self, srv)

    def aborted(self, srv: Server | None, by_client: bool) -> None:
        """A stream ended on an error of its client (reset, timeout: ``cli_abrt``)
        or of its server (``srv_abrt``), counted on the backend and on the
        stream's server (``process_stream()``)."""
        for c in (self.counters, srv.counters) if srv is not None else (self.counters,):
            if by_client:
                c.cli_aborts += 1
            else:
                c.srv_aborts += 1

    def passive(self, srv: Server, event: HanaEvent) -> None:
        """Report a live-traffic event for ``observe`` (spec §4.7)."""
        if srv.check is not None and srv.cfg.observe is not _OBSERVE_NONE:
            self.hooks.traffic(srv, event)
