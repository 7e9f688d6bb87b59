"""Build and run a herdsman instance from a parsed configuration.

This is the library entry point::

    diag = Diagnostics()
    config = parse(["haproxy.cfg"], diag)
    hm = Herdsman(config)
    await hm.start()          # binds, starts checks and listeners
    ...
    await hm.soft_stop()      # stop accepting, let connections finish

``Herdsman`` builds and runs; it changes no state itself. Server states are
set by ``core/transitions.py`` (start-up included), checks are made and run
by ``checks/service.py``, listeners are bound here and only here (the
process's reload loop calls ``bind_pending()``). The runtime objects are
plain data in ``registry`` (backends, frontends, process state), for
embedding, tests and the views.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from typing import TextIO

from herdsman.admin import statefile
from herdsman.admin.api import Api, make_cli
from herdsman.admin.api.cli import Level
from herdsman.admin.history import History
from herdsman.admin.log import Logger, LogSink
from herdsman.admin.page.service import StatsService
from herdsman.admin.prometheus import Exporter
from herdsman.admin.reporter import Reporter
from herdsman.admin.stats_socket import StatsSockets
from herdsman.admin.trafficlog import TrafficLog
from herdsman.checks.scheduler import Starter
from herdsman.checks.service import CheckService
from herdsman.config.limits import default_maxconn, fullconns
from herdsman.config.log import max_syslog_len
from herdsman.config.model import BindConfig, Config, LogTarget, ProxyConfig, StatsSocket
from herdsman.config.model_addr import Family
from herdsman.control import RuntimeOperator
from herdsman.core import lbprm, transitions
from herdsman.core.backend import Backend, Server
from herdsman.core.clock import Clock, MonotonicClock
from herdsman.core.events import ServerEvent
from herdsman.core.live import ServerState, server_state
from herdsman.core.netns import STORE
from herdsman.core.registry import Registry
from herdsman.core.timer import LoopTimer
from herdsman.core.warmup import Warmup
from herdsman.daemon import drop_privileges
from herdsman.defs.levels import LOG_NOTICE, LOG_WARNING
from herdsman.handover import bind_key, ports
from herdsman.lb.select import make_algorithm
from herdsman.proxy.frontend import Frontend, static_backend
from herdsman.proxy.listen import open_listener_socket
from herdsman.proxy.modes import Streams
from herdsman.proxy.routing import Router, uses_routing
from herdsman.proxy.tls import TlsRuntime


@dataclass
class BindFailure:
    """A ``bind`` line that could not be bound (``protocol_bind_all()`` failures).

    ``frontend`` is None for a ``stats socket`` (HAProxy's "GLOBAL" frontend).
    """

    frontend: Frontend | None
    bind: BindConfig
    error: OSError


class Herdsman:
    """A running configuration: listeners, backends, servers and checks."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        stderr: TextIO | None = sys.stderr,
        maxconn: int = 0,
        check_starter: Starter | None = None,
        reuseport: bool = True,
    ) -> None:
        self.config = config
        self.reuseport = reuseport  # False with -dR
        self.clock: Clock = clock or MonotonicClock()
        self.pid = os.getpid()
        self.sink = LogSink()
        g = config.global_
        self.maxconn = maxconn or g.maxconn or self._default_maxconn()
        self.registry = Registry(self.maxconn, self.clock)
        self.registry.process.cps_lim = g.maxconnrate
        self.registry.process.sps_lim = g.maxsessrate
        self.warmup = Warmup(self.clock, transitions.warmup_step)  # slow-start steps
        self._warmup_timer: LoopTimer | None = None
        node = g.node or socket.gethostname()
        self.checks = CheckService(g, self.clock, node, check_starter, config.certs)
        self.hooks = Reporter(stderr, self.pid, self.checks.traffic)
        self.frontends: list[Frontend] = []
        self._unbound: list[tuple[Frontend, BindConfig]] = []
        self.streams: Streams | None = None  # the stream factories, with create_frontends()
        # the runtime API: its history listens to every server and check event
        self.history = History()
        self.hooks.subscribers.append(self.history.changed)
        self.hooks.check_subscribers.append(self.history.checked)
        self.api = Api(
            config,
            self.registry,
            self.clock,
            RuntimeOperator(self.frontends, self.checks, lambda: self.loop),
            self.history,
            self.pid,
            node=node,
        )
        self.history.wall_offset_ms = int(self.api.start_wall * 1000) - self.api.start_ms
        # the Prometheus exporter's service (http-request use-service prometheus-exporter)
        self.exporter = Exporter(self.api)
        self.hooks.check_subscribers.append(self.exporter.checked)
        self.cli = make_cli(self.api)
        self.stats: StatsSockets | None = None
        self._unbound_stats: list[StatsSocket] = list(g.stats_sockets)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False
        all_targets = list(g.logs) + [t for px in config.proxies for t in px.logs]
        STORE.names.update(
            ns
            for px in config.proxies
            for ns in (*(b.namespace for b in px.binds), *(s.namespace for s in px.servers))
            if ns and ns != "*"
        )  # the namespaces a PROXY header's NETNS TLV may name (core/netns.py)
        self._maxlen = max_syslog_len(all_targets) if all_targets else 1024
        self.global_logger = self._logger(g.logs, None) if g.logs else None
        self._build_backends()

    @property
    def backends(self) -> dict[str, Backend]:
        return self.registry.backends

    # -- construction -----------------------------------------------------------

    def _default_maxconn(self) -> int:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return default_maxconn(self.config, max(soft, hard))

    def _logger(self, targets: list[LogTarget], tag: str | None) -> Logger:
        g = self.config.global_
        return Logger(
            targets,
            tag=tag or g.log_tag or "haproxy",
            hostname=g.log_send_hostname,
            pid=self.pid,
            sink=self.sink,
            max_syslog_len=self._maxlen,
        )

    def proxy_logger(self, pxc: ProxyConfig) -> Logger | None:
        """The logger of a proxy's own log targets (None without targets)."""
        return self._logger(pxc.logs, pxc.log_tag) if pxc.logs else None

    def _build_backends(self) -> None:
        fullconn = fullconns(self.config, self.maxconn)
        for pxc in self.config.backends:
            if pxc.disabled:
                continue
            algo = make_algorithm(pxc.balance)
            be = Backend(pxc, algo, self.clock, self.hooks, fullconn[pxc.name].value, self.warmup)
            be.add_servers([Server(be, scfg) for scfg in pxc.servers])
            self.backends[pxc.name] = be
            logger = self.proxy_logger(pxc)
            if logger is not None:
                self.hooks.loggers[pxc.name] = logger
        servers = [srv for be in self.backends.values() for srv in be.servers]
        self._link_trackers(servers)
        self.checks.attach(servers)
        for srv in servers:
            transitions.init_server(srv)
        for srv in servers:
            transitions.inherit_maintenance(srv)
        for be in self.backends.values():
            lbprm.start(be)
        # apply_server_state(), after the balancers are set up (haproxy.c init())
        statefile.apply(self.config, self.backends, self.hooks)

    def _link_trackers(self, servers: list[Server]) -> None:
        """``track [<backend>/]<server>`` links (validated by config/validate.py)."""
        for srv in servers:
            track = srv.cfg.track
            if not track:
                continue
            pname, _, sname = track.rpartition("/")
            tbe = self.backends.get(pname) if pname else srv.backend
            target = tbe.find(sname) if tbe is not None else None
            if target is not None:
                srv.track = target
                target.trackers.append(srv)

    # -- listeners ------------------------------------------------------------------

    def create_frontends(self, loop: asyncio.AbstractEventLoop) -> None:
        """One ``Frontend`` per enabled frontend section, its streams chosen by mode
        (``proxy/modes.py``); their bind lines wait for ``bind_pending()``."""
        self.loop = loop
        process = self.registry.process
        pages = any(px.stats is not None for px in self.config.proxies if not px.disabled)
        stats = StatsService(self.api, self.history, tasks=self._tasks) if pages else None
        services = {"prometheus-exporter": self.exporter.answer}
        self.streams = Streams(loop, self.config.global_, process, stats, services)
        self.hooks.subscribers.append(self._server_changed)
        tls = TlsRuntime(self.config)
        for pxc in self.config.frontends:
            if pxc.disabled:
                continue
            be = static_backend(pxc, self.backends)
            factory = self.streams.for_frontend(pxc, be.cfg if be is not None else None)
            fe = Frontend(
                pxc,
                loop,
                self.backends,
                process,
                self.frontends,
                factory,
                self.config.global_,
                reuseport=self.reuseport,
                tls=tls,
            )
            fe.logger = self.proxy_logger(pxc)
            if fe.logger is not None and pxc.log_nodes:
                traffic = TrafficLog(pxc.log_nodes, fe.logger, fe, process, pid=self.pid)
                fe.traffic_log = traffic.log
                fe.session_error = traffic.session_error
            self.frontends.append(fe)
            self.registry.frontends[fe.name] = fe
            self._unbound += [(fe, bind) for bind in pxc.binds]
        self._routing()

    def _routing(self) -> None:
        """The rules of every frontend (proxy/routing.py); none without any rule."""
        if not uses_routing(self.config):
            return
        frontends = self.frontends
        router = Router(
            self.config, self.backends, self.clock, lambda: any(f.stopping for f in frontends)
        )
        router.bind(frontends)
        for fe in frontends:
            fe.rules, fe.router = router.plan(fe.cfg), router
        streams = self.streams
        if streams is not None and streams.http is not None:
            streams.http.router = router

    def _server_changed(self, event: ServerEvent) -> None:
        be = self.backends.get(event.backend)
        srv = be.by_name.get(event.server) if be is not None else None
        if srv is not None and self.streams is not None:
            self.streams.server_changed(srv, event)

    def _tasks(self) -> tuple[int, int]:
        """The stats page's "Running tasks": none waiting to run, and one per check
        and live connection (HAProxy's tasks)."""
        checks = sum(
            (srv.check is not None) + (srv.agent is not None)
            for be in self.backends.values()
            for srv in be.servers
        )
        return 0, checks + self.registry.process.actconn

    def bind_pending(
        self,
        inherited: dict[str, socket.socket] | None = None,
        shared: set[int] | None = None,
    ) -> list[BindFailure]:
        """Bind every bind line not bound yet; returns those that failed.

        A socket handed over by an old process (``inherited``, by
        ``handover.bind_key``) is adopted instead of bound; the descriptors
        another process also holds are added to ``shared`` (they must never
        be suspended). A failed line stays pending for the next call.
        """
        inherited = {} if inherited is None else inherited
        shared = set() if shared is None else shared
        failures: list[BindFailure] = []
        pending = self._unbound
        self._unbound = []
        for fe, bind in pending:
            keys = [bind_key(bind, port) for port in ports(bind)]
            if all(k is not None and k in inherited for k in keys):
                for key in keys:
                    assert key is not None
                    sock = inherited.pop(key)
                    shared.add(sock.fileno())
                    fe.adopt(bind, sock)
                continue
            first = len(fe.listeners)
            try:
                fe.open_bind(bind)
            except OSError as exc:
                for lst in fe.listeners[first:]:
                    lst.sock.close()
                del fe.listeners[first:]
                failures.append(BindFailure(fe, bind, exc))
                self._unbound.append((fe, bind))
                continue
            if bind.addr.family is Family.FD:  # the passer keeps its copy
                shared.update(lst.sock.fileno() for lst in fe.listeners[first:])
        failures += self._bind_stats()
        return failures

    def _bind_stats(self) -> list[BindFailure]:
        """The ``stats socket`` listeners (``LI_O_UNLIMITED``: outside every maxconn)."""
        assert self.loop is not None
        g = self.config.global_
        if self.stats is None:
            self.stats = StatsSockets(self.cli, self.loop, g.stats_maxconn, g.stats_timeout)  # type: ignore[arg-type]
        failures: list[BindFailure] = []
        pending, self._unbound_stats = self._unbound_stats, []
        for sock_cfg in pending:
            bind = sock_cfg.bind
            try:
                sock = open_listener_socket(bind, bind.addr.port, reuseport=self.reuseport)
            except OSError as exc:
                failures.append(BindFailure(None, bind, exc))
                self._unbound_stats.append(sock_cfg)
                continue
            level = Level.parse(sock_cfg.level) or Level.OPER
            self.stats.add(sock, level)
        return failures

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Create the frontends and open every listening socket (OSError on failure)."""
        self.create_frontends(loop)
        failures = self.bind_pending()
        if failures:
            raise failures[0].error

    def unbind(self) -> None:
        """``protocol_unbind_all()``: close every listening socket."""
        for fe in self.frontends:
            for lst in fe.listeners:
                lst.sock.close()
            fe.listeners.clear()
        if self.stats is not None:
            self.stats.close()

    def listener_count(self) -> int:
        """Listening sockets, the stats sockets included (``show info`` Listeners)."""
        stats = len(self.stats.listeners) if self.stats is not None else 0
        return stats + sum(len(fe.listeners) for fe in self.frontends)

    # -- life cycle -----------------------------------------------------------------

    async def start(self, *, bind: bool = True) -> None:
        """Bind (unless done), drop privileges, start checks and listeners."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        if bind and not self.frontends:
            self.bind(loop)
        g = self.config.global_
        if g.uid is not None or g.gid is not None or g.chroot:
            drop_privileges(g.uid, g.gid, g.user, g.chroot)
        self.checks.start(loop)
        self._warmup_timer = LoopTimer(loop, self.warmup)
        self._warmup_timer.start()
        for fe in self.frontends:
            await fe.start()
        if self.stats is not None:
            self.api.listeners = self.listener_count()
            await self.stats.start()
        self.hooks.starting = False

    def pause(self) -> None:
        """SIGTTOU: stop accepting (another process is taking over)."""
        for fe in self.frontends:
            fe.pause_admin()

    async def resume(self) -> None:
        """SIGTTIN: accept again."""
        for fe in self.frontends:
            await fe.resume_admin()

    def stop_listening(self) -> None:
        self.stopping = True
        self.api.stopping = True
        for fe in self.frontends:
            fe.stop_listening()
        if self.stats is not None:
            self.stats.stop_listening()
        self.checks.stop()

    async def soft_stop(self, hard_stop_after: float | None = None) -> None:
        """SIGUSR1 (``soft_stop()``): after ``grace``, stop accepting, let live
        connections end, and after ``hard-stop-after`` kill what remains."""
        g = self.config.global_
        if g.grace:
            self.hooks.notice(f"Scheduling a soft-stop in {g.grace} ms.")
            self.global_log(LOG_WARNING, f"Scheduling a soft-stop in {g.grace} ms.")
            await asyncio.sleep(g.grace / 1000.0)
            self.hooks.notice("Grace period expired, proceeding with soft-stop now.")
            self.global_log(LOG_NOTICE, "Grace period expired, proceeding with soft-stop now.")
        self.stop_listening()
        self._report_stopped()
        waits = [fe.idle.wait() for fe in self.frontends]
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), hard_stop_after)
            except TimeoutError:
                text = "soft-stop running for too long, performing a hard-stop."
                self.hooks.warning(text)
                self.global_log(LOG_WARNING, text)
                for fe in self.frontends:
                    if fe.feconn > 0:
                        text = f"Proxy {fe.name} hard-stopped ({fe.feconn} remaining conns will be closed)."
                        self.hooks.warning(text)
                        if fe.logger is not None:
                            fe.logger.send(LOG_WARNING, text)
        self.hard_stop()

    def _report_stopped(self) -> None:
        """``proxy_cond_disable()``: one line per proxy once its listeners are gone
        (those with listeners first, as HAProxy's listener shutdown reaches them)."""
        fes = {id(fe.cfg): fe for fe in self.frontends}
        bes = {id(be.cfg): be for be in self.backends.values()}
        order = [px for px in self.config.proxies if id(px) in fes] + [
            px for px in self.config.proxies if id(px) in bes and id(px) not in fes
        ]
        for px in order:
            fe = fes.get(id(px))
            be = bes.get(id(px))
            text = (
                f"Proxy {px.name} stopped (cumulated conns: "
                f"FE: {fe.counters.cum_conn if fe else 0}, "
                f"BE: {be.counters.cum_conn if be else 0})."
            )
            self.hooks.warning(text)
            logger = (fe.logger if fe else None) or (
                self.hooks.loggers.get(be.name) if be else None
            )
            if logger is not None:
                logger.send(LOG_WARNING, text)

    def global_log(self, level: int, text: str) -> None:
        """``send_log(NULL, ...)``: the global section's log targets."""
        if self.global_logger is not None:
            self.global_logger.send(level, text)

    def hard_stop(self) -> None:
        """SIGTERM: close everything now."""
        self.stop_listening()
        for fe in self.frontends:
            fe.kill_streams()
        if self.streams is not None:
            self.streams.close()
        if self.stats is not None:
            self.stats.close()
        self.sink.close()
        self.checks.close()
        if self._warmup_timer is not None:
            self._warmup_timer.stop()

    def active_connections(self) -> int:
        return sum(fe.feconn for fe in self.frontends)

    def backend(self, name: str) -> Backend:
        return self.backends[name]

    def server(self, name: str) -> Server:
        """``backend/server`` lookup."""
        bname, _, sname = name.partition("/")
        srv = self.backends[bname].find(sname)
        if srv is None:
            raise KeyError(name)
        return srv

    def server_state(self, name: str) -> ServerState:
        """The live state of ``backend/server`` as plain data (``core/live.py``)."""
        return server_state(self.server(name))


__all__ = ["BindFailure", "Herdsman"]
