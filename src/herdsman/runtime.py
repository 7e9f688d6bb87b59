"""Build and run a herdsman instance from a parsed configuration.

This is the library entry point::

    diag = Diagnostics()
    config = parse(["haproxy.cfg"], diag)
    hm = Herdsman(config)
    await hm.start()          # binds, starts checks and listeners
    ...
    await hm.soft_stop()      # stop accepting, let connections finish

Everything is created on the running asyncio loop; the object exposes the
runtime state (``backends``, ``frontends``, their servers and checks) as plain
objects for embedding, tests and, later, the runtime API.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Callable
from typing import TextIO

from herdsman.admin.log import Logger, LogSink, stderr_line
from herdsman.checks import health
from herdsman.checks.check import Check
from herdsman.checks.scheduler import AsyncioDriver, Scheduler
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.config.log import max_syslog_len
from herdsman.config.model import Cap, Config, Family, Mode, ProxyConfig
from herdsman.core import transitions
from herdsman.core.backend import Backend
from herdsman.core.clock import Clock, MonotonicClock
from herdsman.core.netns import STORE
from herdsman.core.server import MAINT, Server, SrvAdmin, SrvState
from herdsman.defs.levels import LOG_NOTICE, LOG_WARNING
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import HanaEvent
from herdsman.lb.select import make_algorithm
from herdsman.proxy.frontend import Frontend, ProcessLimits, drop_privileges

DEFAULT_MAXCONN = 100


def ideal_maxconn(nofile: int, reserved: int) -> int:
    """``compute_ideal_maxconn()`` without pipes or memory limit (spec §2.1)."""
    remain = nofile - reserved
    return max(DEFAULT_MAXCONN, 2 * remain // 5)


class StreamReporter:
    """Sends state-change messages to the proxies' loggers and a stderr copy."""

    def __init__(self, stderr: TextIO | None, pid: int) -> None:
        self.starting = True
        self.stderr = stderr
        self.pid = pid

    def log(self, backend: Backend, level: int, message: str) -> None:
        logger = backend.logger
        if logger is not None:
            logger.send(level, message)

    def _write(self, label: str, message: str) -> None:
        if self.stderr is not None:
            try:
                self.stderr.write(stderr_line(label, message, self.pid))
                self.stderr.flush()
            except (OSError, ValueError):
                pass

    def warning(self, message: str) -> None:
        self._write("WARNING", message)

    def alert(self, message: str) -> None:
        self._write("ALERT", message)

    def notice(self, message: str) -> None:
        self._write("NOTICE", message)


class Herdsman:
    """A running configuration: listeners, backends, servers and checks."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        stderr: TextIO | None = sys.stderr,
        maxconn: int = 0,
        check_starter: Callable[[Check, Callable[[CheckResult], None]], object] | None = None,
        reuseport: bool = True,
    ) -> None:
        self.config = config
        self.reuseport = reuseport  # False with -dR
        self.clock: Clock = clock or MonotonicClock()
        self.pid = os.getpid()
        self.reporter = StreamReporter(stderr, self.pid)
        self.sink = LogSink()
        g = config.global_
        self.maxconn = maxconn or g.maxconn or self._default_maxconn()
        self.limits = ProcessLimits(self.maxconn)
        self.backends: dict[str, Backend] = {}
        self.frontends: list[Frontend] = []
        self.checks: list[Check] = []
        self.scheduler = Scheduler(
            self.clock,
            check_starter or self._start_check,
            spread_checks=g.spread_checks,
            max_spread_checks=g.max_spread_checks,
        )
        self.driver: AsyncioDriver | None = None
        self.node = g.node or socket.gethostname()
        self._targets: dict[int, CheckTarget] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False
        self._build_backends()

    # -- construction -----------------------------------------------------------

    def _default_maxconn(self) -> int:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        nofile = self.config.global_.ulimit_n or max(soft, hard)
        reserved = sum(len(px.binds) for px in self.config.frontends) + sum(
            1 for px in self.config.backends for s in px.servers if s.check
        )
        return ideal_maxconn(nofile, reserved)

    def _logger(self, targets: list, tag: str | None) -> Logger:  # type: ignore[type-arg]
        g = self.config.global_
        return Logger(
            targets,
            tag=tag or g.log_tag or "haproxy",
            hostname=g.log_send_hostname,
            pid=self.pid,
            sink=self.sink,
            max_syslog_len=self._maxlen,
        )

    def _build_backends(self) -> None:
        cfg = self.config
        all_targets = list(cfg.global_.logs) + [t for px in cfg.proxies for t in px.logs]
        self._maxlen = max_syslog_len(all_targets) if all_targets else 1024
        self.global_logger = self._logger(cfg.global_.logs, None) if cfg.global_.logs else None
        for pxc in cfg.backends:
            if pxc.disabled:
                continue
            be = Backend(pxc, make_algorithm(pxc.balance), self.clock, self.reporter)
            be.add_servers([Server(be, scfg) for scfg in pxc.servers])
            be.passive_hook = self._passive
            self.backends[pxc.name] = be
            if pxc.logs:
                be.logger = self._logger(pxc.logs, pxc.log_tag)
        # tracking links (validated by config/validate.py)
        for be in self.backends.values():
            for srv in be.servers:
                track = srv.cfg.track
                if not track:
                    continue
                pname, _, sname = track.rpartition("/")
                tbe = self.backends.get(pname) if pname else be
                target = tbe.find(sname) if tbe is not None else None
                if target is not None:
                    srv.track = target
                    target.trackers.append(srv)
        for be in self.backends.values():
            for srv in be.servers:
                self._initial_state(srv)
        # inherited maintenance at start-up (srv_compute_all_admin_states())
        for be in self.backends.values():
            for srv in be.servers:
                if srv.cur_admin & MAINT and srv.trackers:
                    self._inherit(srv, SrvAdmin.IMAINT)
        for be in self.backends.values():
            be.start_lb()

    def _inherit(self, srv: Server, flag: SrvAdmin) -> None:
        for tracker in srv.trackers:
            if not tracker.cur_admin & flag:
                tracker.cur_admin |= flag
                tracker.next_admin |= flag
                tracker.cur_state = tracker.next_state = SrvState.STOPPED
                if tracker.check is not None:
                    tracker.check.health = 0
                    tracker.check.paused = True
                self._inherit(tracker, flag)

    def _initial_state(self, srv: Server) -> None:
        cfg = srv.cfg
        px = srv.backend.cfg
        if cfg.check:
            ruleset = px.checks or Ruleset()
            chk = Check(
                srv,
                ruleset,
                rise=cfg.rise,
                fall=cfg.fall,
                inter=cfg.inter,
                fastinter=cfg.fastinter,
                downinter=cfg.downinter,
            )
            srv.check = chk
            self.checks.append(chk)
        srv.last_change = self.clock.now_s()
        if cfg.disabled:
            srv.cur_admin = srv.next_admin = SrvAdmin.FMAINT | SrvAdmin.CMAINT
            srv.cur_state = srv.next_state = SrvState.STOPPED
            if srv.check is not None:
                srv.check.health = 0
                srv.check.paused = True
        if cfg.unresolved:
            srv.cur_admin |= SrvAdmin.RMAINT
            srv.next_admin |= SrvAdmin.RMAINT
            srv.cur_state = srv.next_state = SrvState.STOPPED

    # -- checks ---------------------------------------------------------------------

    def check_target(self, chk: Check) -> CheckTarget:
        """The snapshot a check run needs (spec §4.2).

        Built once per check and server state (only ``server_down`` varies
        between runs; the send-state header is computed when sent).
        """
        down = chk.server.next_state is SrvState.STOPPED
        cached = self._targets.get(id(chk))
        if cached is not None and cached.server_down is down:
            return cached
        target = self._build_target(chk, down)
        self._targets[id(chk)] = target
        return target

    def _build_target(self, chk: Check, down: bool) -> CheckTarget:
        srv = chk.server
        cfg = srv.cfg
        be = srv.backend
        addr = cfg.check_addr or srv.addr
        port = cfg.check_port or (cfg.check_addr.port if cfg.check_addr else 0)
        if not port and not srv.addr.mapped:
            port = srv.addr.port
        if addr.family in (Family.UNIX, Family.ABNS):
            family = socket.AF_UNIX
            host = addr.host if addr.family is Family.UNIX else "\0" + addr.host
        else:
            family = socket.AF_INET6 if addr.family is Family.INET6 else socket.AF_INET
            host = addr.host
        inherit = not cfg.check_port and cfg.check_addr is None
        send_proxy = cfg.check_send_proxy or (inherit and (cfg.send_proxy or cfg.send_proxy_v2))
        t = be.cfg.timeouts
        return CheckTarget(
            backend_name=be.name,
            server_name=srv.name,
            backend_id=be.cfg.uuid,
            server_id=srv.puid,
            family=family,
            host=host,
            port=port,
            send_proxy=send_proxy,
            proxy_v2=cfg.send_proxy_v2,
            pp2_never_send_local=self.config.global_.pp2_never_send_local,
            inter=chk.inter,
            timeout_check=t.check,
            timeout_connect=t.connect,
            server_down=down,
            state_header=lambda: self.state_header(chk),
            node=self.node,
            make_socket=lambda fam: STORE.socket(cfg.namespace, fam),
        )

    def state_header(self, chk: Check) -> str:
        """``httpchk_build_status_header()`` (spec §5.5)."""
        srv = chk.server
        be = srv.backend
        if not chk.enabled:
            state = "no check"
        elif srv.cur_state is not SrvState.STOPPED:
            word = "NOLB" if srv.cur_state is SrvState.STOPPING else "UP"
            full = chk.health == chk.rise + chk.fall - 1
            state = word if full else f"{word} {chk.health - chk.rise + 1}/{chk.fall}"
        else:
            state = "DOWN" if chk.health == 0 else f"DOWN {chk.health}/{chk.rise}"
        addr = srv.addr
        if addr.family in (Family.UNIX, Family.ABNS):
            address, port = "unix", ""
        else:
            address, port = addr.host, str(addr.port & 0xFFFFFFFF)
        wmult, wdiv = be.wmult, be.wdiv
        weight = -(-srv.eweight * wmult // wdiv)
        total = -(-(be.tot_weight) * wmult // wdiv)
        node = self.node
        text = (
            f"{state}; address={address}; port={port}; name={srv.id}; node={node}; "
            f"weight={weight}/{total}; scur={srv.served}/{be.beconn - 0}; qcur={srv.nbpend}"
        )
        return text

    def _start_check(self, chk: Check, on_done: Callable[[CheckResult], None]) -> object:
        from herdsman.checks.runner import start_check

        assert self.loop is not None
        return start_check(self.loop, chk.ruleset, self.check_target(chk), on_done)

    def _passive(self, srv: Server, event: HanaEvent) -> None:
        chk = srv.check
        if chk is None or not chk.active:
            return
        when = health.adjust(chk, event)
        if when is not None:
            self.scheduler.reschedule_sooner(chk, when)

    # -- life cycle -----------------------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open every listening socket (raises OSError on failure)."""
        self.loop = loop
        for pxc in self.config.frontends:
            if pxc.disabled or pxc.mode is not Mode.TCP:
                continue
            fe = Frontend(pxc, loop, self.backends, self.limits, reuseport=self.reuseport)
            fe.logger = self.frontend_logger(pxc)
            fe.open()
            self.frontends.append(fe)
            self.limits.frontends.append(fe)

    async def start(self, *, bind: bool = True) -> None:
        """Bind (unless done), drop privileges, start checks and listeners."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        if bind and not self.frontends:
            self.bind(loop)
        g = self.config.global_
        if g.uid is not None or g.gid is not None or g.chroot:
            drop_privileges(g.uid, g.gid, g.user, g.chroot)
        transitions.set_shutdown_hook(_shutdown_streams)
        self.driver = AsyncioDriver(loop, self.scheduler)
        self.scheduler.start(self.checks)
        self.driver.start()
        for fe in self.frontends:
            await fe.start()
        self.reporter.starting = False

    def pause(self) -> None:
        """SIGTTOU: stop accepting (another process is taking over)."""
        for fe in self.frontends:
            fe.pause_admin()

    async def resume(self) -> None:
        """SIGTTIN: accept again."""
        for fe in self.frontends:
            await fe.resume_admin()

    def frontend_logger(self, pxc: ProxyConfig) -> Logger | None:
        """The logger of a frontend's own log targets (None without targets)."""
        return self._logger(pxc.logs, pxc.log_tag) if pxc.logs else None

    def stop_listening(self) -> None:
        self.stopping = True
        for fe in self.frontends:
            fe.stop_listening()
        if self.driver is not None:
            self.driver.stop()

    async def soft_stop(self, hard_stop_after: float | None = None) -> None:
        """SIGUSR1 (``soft_stop()``): after ``grace``, stop accepting, let live
        connections end, and after ``hard-stop-after`` kill what remains."""
        g = self.config.global_
        if g.grace:
            self.reporter.notice(f"Scheduling a soft-stop in {g.grace} ms.")
            self.global_log(LOG_WARNING, f"Scheduling a soft-stop in {g.grace} ms.")
            await asyncio.sleep(g.grace / 1000.0)
            self.reporter.notice("Grace period expired, proceeding with soft-stop now.")
            self.global_log(LOG_NOTICE, "Grace period expired, proceeding with soft-stop now.")
        self.stop_listening()
        self._report_stopped()
        waits = [fe.idle.wait() for fe in self.frontends]
        if waits:
            try:
                await asyncio.wait_for(asyncio.gather(*waits), hard_stop_after)
            except TimeoutError:
                text = "soft-stop running for too long, performing a hard-stop."
                self.reporter.warning(text)
                self.global_log(LOG_WARNING, text)
                for fe in self.frontends:
                    if fe.feconn > 0:
                        text = f"Proxy {fe.name} hard-stopped ({fe.feconn} remaining conns will be closed)."
                        self.reporter.warning(text)
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
                f"Proxy {px.name} stopped (cumulated conns: FE: {fe.cum_conn if fe else 0}, "
                f"BE: {be.cum_conn if be else 0})."
            )
            self.reporter.warning(text)
            logger = (fe.logger if fe else None) or (be.logger if be else None)
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
        transitions.set_shutdown_hook(None)
        self.sink.close()
        if self.loop is not None:
            from herdsman.checks.runner import close_poller

            close_poller(self.loop)

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


def _shutdown_streams(srv: Server, why: str) -> None:
    """``srv_shutdown_streams()``: kill every live connection of ``srv``."""
    for stream in list(srv.streams):
        abort = getattr(stream, "abort", None)
        if abort is not None:
            abort()


__all__ = ["Herdsman", "Cap"]
