"""The null ``Hooks``: what a backend is given when nobody listens (h2's ``DummyLogger``).

It keeps what it is told in lists, so tests and embedders can read the
messages and events without wiring loggers.
"""

from __future__ import annotations

from herdsman.core.backend import Backend, Server
from herdsman.core.events import CheckEvent, ServerEvent
from herdsman.defs.status import HanaEvent


class NullHooks:
    """Collects messages and events in memory; ignores traffic events."""

    def __init__(self) -> None:
        self.starting = False
        self.logs: list[tuple[str, int, str]] = []
        self.stderr: list[tuple[str, str]] = []
        self.events: list[ServerEvent] = []
        self.checks: list[CheckEvent] = []

    def log(self, backend: Backend, level: int, message: str) -> None:
        self.logs.append((backend.name, level, message))

    def warning(self, message: str) -> None:
        self.stderr.append(("WARNING", message))

    def alert(self, message: str) -> None:
        self.stderr.append(("ALERT", message))

    def changed(self, event: ServerEvent) -> None:
        self.events.append(event)

    def checked(self, event: CheckEvent) -> None:
        self.checks.append(event)

    def traffic(self, srv: Server, event: HanaEvent) -> None:
        pass
