"""Where core's messages and events go in a running process (core's ``Hooks``).

State-change and check lines go to the proxy's log targets (``send_log()``)
and a copy to stderr (``ha_warning()``/``ha_alert()``), as HAProxy prints
them; committed server changes go to whoever subscribed (the runtime API,
Prometheus and, later, other workers); passive-health events of live
traffic go to the checks, through the callable given at construction;
completed check runs go to their own subscribers (the health history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from herdsman.admin.log import Logger, stderr_line
from herdsman.core.backend import Backend, Server
from herdsman.core.events import CheckEvent, ServerEvent
from herdsman.defs.status import HanaEvent

TrafficSink = Callable[[Server, HanaEvent], None]


class Reporter:
    """The runtime's ``Hooks``: log targets, stderr, event subscribers, checks."""

    def __init__(self, stderr: TextIO | None, pid: int, traffic: TrafficSink) -> None:
        self.starting = True
        self.stderr = stderr
        self.pid = pid
        self.loggers: dict[str, Logger] = {}  # by proxy name: that proxy's log targets
        self.subscribers: list[Callable[[ServerEvent], None]] = []
        self.check_subscribers: list[Callable[[CheckEvent], None]] = []
        self._traffic = traffic

    def log(self, backend: Backend, level: int, message: str) -> None:
        logger = self.loggers.get(backend.name)
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

    def changed(self, event: ServerEvent) -> None:
        for subscriber in self.subscribers:
            subscriber(event)

    def checked(self, event: CheckEvent) -> None:
        for subscriber in self.check_subscribers:
            subscriber(event)

    def traffic(self, srv: Server, event: HanaEvent) -> None:
        self._traffic(srv, event)
