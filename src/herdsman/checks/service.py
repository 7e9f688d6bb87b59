"""All the health checks of one running configuration.

``CheckService`` creates each server's ``Check`` (core's state object) from
the configuration, builds what a run needs to know about its server
(``checks/target.py``), starts runs through the scheduler and its asyncio
driver, and takes the passive-health events of live traffic (``observe``,
spec §4.7). The runtime builds one and starts and stops it; it changes no
server state itself: results go through ``checks/health.py`` to
``core/transitions.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from herdsman.checks import health
from herdsman.checks.external import ExternalRun, ExternalSpec, invocation, server_words
from herdsman.checks.fastpath import Plan, plan, start_fast
from herdsman.checks.runner import close_poller, start_check
from herdsman.checks.scheduler import Scheduler, Starter
from herdsman.checks.snapshot import build_target, external_spec
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tls import CheckContexts
from herdsman.config.model import GlobalConfig
from herdsman.core.backend import Check, Server
from herdsman.core.clock import Clock
from herdsman.core.states import SrvState
from herdsman.core.timer import LoopTimer
from herdsman.defs.protocols.agent import ruleset as agent_ruleset
from herdsman.defs.rules import Ruleset, RulesetKind
from herdsman.defs.status import HanaEvent
from herdsman.tls.pem import Ckch
from herdsman.tls.store import CertStore


def make_agent(srv: Server) -> Check | None:
    """The server's agent check (``agent-check``), or None: rise and fall 1, its own inter."""
    cfg = srv.cfg
    if not cfg.agent_check:
        return None
    return Check(
        srv,
        agent_ruleset(cfg.agent_send),
        agent=True,
        rise=cfg.agent_rise,
        fall=cfg.agent_fall,
        inter=cfg.agent_inter,
    )


def make_check(srv: Server) -> Check | None:
    """The server's health check as configured (``check`` on the server line), or None."""
    cfg = srv.cfg
    if not cfg.check:
        return None
    return Check(
        srv,
        srv.backend.cfg.checks or Ruleset(),
        rise=cfg.rise,
        fall=cfg.fall,
        inter=cfg.inter,
        fastinter=cfg.fastinter,
        downinter=cfg.downinter,
    )


class CheckService:
    """Checks of every server: creation, targets, scheduling, passive health."""

    def __init__(
        self,
        g: GlobalConfig,
        clock: Clock,
        node: str,
        starter: Starter | None = None,
        certs: CertStore | None = None,
    ) -> None:
        self.g = g
        self.node = node
        self.certs = certs or CertStore()  # client certificates of TLS checks
        self._tls: dict[int, CheckContexts] = {}
        self.certs.subscribers.append(self._cert_changed)
        self.checks: list[Check] = []
        self.scheduler = Scheduler(
            clock,
            starter or self.start_run,
            spread_checks=g.spread_checks,
            max_spread_checks=g.max_spread_checks,
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.driver: LoopTimer | None = None
        self._targets: dict[int, tuple[CheckTarget, int, Plan | None]] = {}
        self._specs: dict[int, ExternalSpec] = {}

    def attach(self, servers: Iterable[Server]) -> None:
        """Give each server its configured check (before its start-up state is set)."""
        for srv in servers:
            # in start_checks() order: each server's health check, then its agent
            chk = make_check(srv)
            if chk is not None:
                srv.check = chk
                self.checks.append(chk)
            agent = make_agent(srv)
            if agent is not None:
                srv.agent = agent
                self.checks.append(agent)

    def add_server(self, srv: Server) -> None:
        """``add server``: its configured checks, disabled, first run one interval
        from now (``start_check_task(.., 0, 1, 1)``)."""
        for chk in (make_check(srv), make_agent(srv)):
            if chk is None:
                continue
            chk.enabled = False
            if chk.agent:
                srv.agent = chk
            else:
                srv.check = chk
            self.checks.append(chk)
            self.scheduler.add(chk)

    def remove_server(self, srv: Server) -> None:
        """``del server``: its checks stop for good."""
        for chk in (srv.check, srv.agent):
            if chk is None:
                continue
            cancel = getattr(chk.running, "cancel", None)
            if cancel is not None:
                cancel()
            chk.in_progress = False
            chk.enabled = False
            if chk in self.checks:
                self.checks.remove(chk)
            self.scheduler.forget(chk)
            self._targets.pop(id(chk), None)
            self._specs.pop(id(chk), None)

    # -- runs ---------------------------------------------------------------------

    def target(self, chk: Check) -> CheckTarget:
        """The snapshot a check run needs (spec §4.2).

        Built once per check and server state (only ``server_down`` varies
        between runs; the send-state header is computed when sent).
        """
        return self._target_and_plan(chk)[0]

    def _target_and_plan(self, chk: Check) -> tuple[CheckTarget, Plan | None]:
        down = chk.server.next_state is SrvState.STOPPED
        gen = chk.server.addr_gen  # an address changed at run time: rebuild
        cached = self._targets.get(id(chk))
        if cached is not None and cached[0].server_down is down and cached[1] == gen:
            return cached[0], cached[2]
        srv = chk.server
        tls = self._tls.get(id(srv.cfg))
        if tls is None:
            tls = self._tls[id(srv.cfg)] = CheckContexts(srv.cfg, self.g.tls, self.certs)
        target = build_target(chk, down, self.node, self.g.pp2_never_send_local, tls)
        fast = plan(chk.ruleset, target)
        self._targets[id(chk)] = (target, gen, fast)
        return target, fast

    def _cert_changed(self, path: str, ckch: Ckch) -> None:
        """``commit ssl cert`` of a client certificate: its checks' contexts are rebuilt."""
        for contexts in self._tls.values():
            if contexts.scfg.tls.crt == path:
                contexts.clear()

    def start_run(self, chk: Check, on_done: Callable[[CheckResult], None]) -> object:
        """The default starter: a process for external checks, else a tcp-check run."""
        assert self.loop is not None
        if chk.ruleset.kind is RulesetKind.EXTERNAL:
            return self._start_external(chk, on_done)
        target, fast = self._target_and_plan(chk)
        if fast is not None:
            return start_fast(self.loop, chk.ruleset, target, fast, on_done)
        return start_check(self.loop, chk.ruleset, target, on_done)

    def _start_external(self, chk: Check, on_done: Callable[[CheckResult], None]) -> object:
        """``connect_proc_chk()``: the argv and environment of now, then the process."""
        assert self.loop is not None
        srv = chk.server
        spec = self._specs.get(id(chk))
        if spec is None:
            spec = self._specs[id(chk)] = external_spec(chk)
        argv, env = invocation(spec, *server_words(srv.addr), srv.served)
        timeouts = srv.backend.cfg.timeouts
        timeout = chk.inter
        if timeouts.check and timeouts.connect:
            timeout = min(timeout, timeouts.connect)
        hooks = srv.backend.hooks
        run = ExternalRun(self.loop, on_done, warn=hooks.warning, alert=hooks.alert)
        run.start(argv, env, timeout, self.g.insecure_fork_wanted)
        return run

    def traffic(self, srv: Server, event: HanaEvent) -> None:
        """A live-traffic event for a server with ``observe`` (spec §4.7)."""
        chk = srv.check
        if chk is None or not chk.active:
            return
        when = health.adjust(chk, event)
        if when is not None:
            self.scheduler.reschedule_sooner(chk, when)

    # -- life cycle -----------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Spread the first runs (``start_checks()``) and drive them on ``loop``."""
        self.loop = loop
        self.driver = LoopTimer(loop, self.scheduler)
        self.scheduler.start(self.checks)
        self.driver.start()

    def stop(self) -> None:
        """No new run; running ones are cancelled (soft stop)."""
        if self.driver is not None:
            self.driver.stop()
        self.scheduler.stop()

    def close(self) -> None:
        """Release the check sockets' poller (the loop is going away)."""
        self.stop()
        if self.loop is not None:
            close_poller(self.loop)
