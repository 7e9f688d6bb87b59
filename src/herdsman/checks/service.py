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
from herdsman.checks.runner import close_poller, start_check
from herdsman.checks.scheduler import AsyncioDriver, Scheduler, Starter
from herdsman.checks.snapshot import build_target
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tls import CheckContexts
from herdsman.config.model import GlobalConfig
from herdsman.core.backend import Check, Server
from herdsman.core.clock import Clock
from herdsman.core.states import SrvState
from herdsman.defs.rules import Ruleset
from herdsman.defs.status import HanaEvent
from herdsman.tls.pem import Ckch
from herdsman.tls.store import CertStore


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
            starter or self._start,
            spread_checks=g.spread_checks,
            max_spread_checks=g.max_spread_checks,
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.driver: AsyncioDriver | None = None
        self._targets: dict[int, tuple[CheckTarget, int]] = {}

    def attach(self, servers: Iterable[Server]) -> None:
        """Give each server its configured check (before its start-up state is set)."""
        for srv in servers:
            chk = make_check(srv)
            if chk is not None:
                srv.check = chk
                self.checks.append(chk)

    def add_server(self, srv: Server) -> None:
        """``add server``: its configured check, disabled, first run one interval
        from now (``start_check_task(.., 0, 1, 1)``)."""
        chk = make_check(srv)
        if chk is None:
            return
        chk.enabled = False
        srv.check = chk
        self.checks.append(chk)
        self.scheduler.add(chk)

    def remove_server(self, srv: Server) -> None:
        """``del server``: its check stops for good."""
        chk = srv.check
        if chk is None:
            return
        cancel = getattr(chk.running, "cancel", None)
        if cancel is not None:
            cancel()
        chk.in_progress = False
        chk.enabled = False
        chk.seq = -1  # its heap entries are stale from now on
        for checks in (self.checks, self.scheduler.checks):
            if chk in checks:
                checks.remove(chk)
        self._targets.pop(id(chk), None)

    # -- runs ---------------------------------------------------------------------

    def target(self, chk: Check) -> CheckTarget:
        """The snapshot a check run needs (spec §4.2).

        Built once per check and server state (only ``server_down`` varies
        between runs; the send-state header is computed when sent).
        """
        down = chk.server.next_state is SrvState.STOPPED
        gen = chk.server.addr_gen  # an address changed at run time: rebuild
        cached = self._targets.get(id(chk))
        if cached is not None and cached[0].server_down is down and cached[1] == gen:
            return cached[0]
        srv = chk.server
        tls = self._tls.get(id(srv.cfg))
        if tls is None:
            tls = self._tls[id(srv.cfg)] = CheckContexts(srv.cfg, self.g.tls, self.certs)
        target = build_target(chk, down, self.node, self.g.pp2_never_send_local, tls)
        self._targets[id(chk)] = (target, gen)
        return target

    def _cert_changed(self, path: str, ckch: Ckch) -> None:
        """``commit ssl cert`` of a client certificate: its checks' contexts are rebuilt."""
        for contexts in self._tls.values():
            if contexts.scfg.tls.crt == path:
                contexts.clear()

    def _start(self, chk: Check, on_done: Callable[[CheckResult], None]) -> object:
        assert self.loop is not None
        return start_check(self.loop, chk.ruleset, self.target(chk), on_done)

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
        self.driver = AsyncioDriver(loop, self.scheduler)
        self.scheduler.start(self.checks)
        self.driver.start()

    def stop(self) -> None:
        """No new run; running ones are cancelled (soft stop)."""
        if self.driver is not None:
            self.driver.stop()

    def close(self) -> None:
        """Release the check sockets' poller (the loop is going away)."""
        self.stop()
        if self.loop is not None:
            close_poller(self.loop)
