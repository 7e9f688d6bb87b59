"""What every command reads: the running configuration's objects and the process.

``Api`` is the one context the command handlers get: the registry (backends,
frontends, process state), the configuration (proxy order and ids, global
settings), the clock, the process facts ``show info`` prints, the health
history and the ``Operator`` (the runtime's side). It holds no state of its
own besides those references: server state lives in core.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field

from herdsman.admin.api.operator import NullOperator, Operator
from herdsman.admin.history import History
from herdsman.config.model import Config, ProxyConfig
from herdsman.core.backend import Backend, Server
from herdsman.core.clock import Clock, MonotonicClock
from herdsman.core.registry import FrontendState, Registry


@dataclass
class Api:
    """The context of the runtime API's commands."""

    config: Config
    registry: Registry
    clock: Clock = field(default_factory=MonotonicClock)
    operator: Operator = field(default_factory=NullOperator)
    history: History = field(default_factory=History)
    pid: int = field(default_factory=os.getpid)
    start_wall: float = field(default_factory=time.time)  # Start_time_sec
    start_ms: int = -1  # clock ms at start (Uptime); -1: now
    node: str = ""
    listeners: int = 0  # active listeners, the stats sockets included (show info)
    stopping: bool = False

    def __post_init__(self) -> None:
        if self.start_ms < 0:
            self.start_ms = self.clock.now_ms()

    # -- lookups ---------------------------------------------------------------------

    def proxies(self) -> list[ProxyConfig]:
        """The enabled proxies in ``show stat`` order (declaration order)."""
        return [px for px in self.config.proxies if not px.disabled]

    def backend(self, name: str) -> Backend | None:
        """``proxy_be_by_name()``, also by ``#<id>``."""
        if name.startswith("#") and name[1:].isdigit():
            uuid = int(name[1:])
            return next((be for be in self.registry.backends.values() if be.cfg.uuid == uuid), None)
        return self.registry.backends.get(name)

    def frontend(self, name: str) -> FrontendState | None:
        if name.startswith("#") and name[1:].isdigit():
            uuid = int(name[1:])
            return next(
                (fe for fe in self.registry.frontends.values() if fe.cfg.uuid == uuid), None
            )
        return self.registry.frontends.get(name)

    def find_server(self, spec: str) -> Server | str:
        """``cli_find_server()``: the server of ``<backend>/<server>``, or the error text."""
        bname, sep, sname = spec.partition("/")
        if not sep or not sname or not bname:
            return "Require 'backend/server'.\n"
        be = self.backend(bname)
        if be is None:
            return "No such backend.\n"
        srv = be.find(sname)
        if srv is None:
            return "No such server.\n"
        return srv

    # -- process facts -------------------------------------------------------------

    def uptime_s(self) -> int:
        return (self.clock.now_ms() - self.start_ms) // 1000

    @staticmethod
    def ulimit_n() -> int:
        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
