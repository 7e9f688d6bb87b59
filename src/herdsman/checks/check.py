"""A server's health check (or agent check) at run time: ``struct check``.

Holds the health counter and the last result; the counter rule, the log line
and the notification of the server live in ``checks/health.py``, the timing in
``checks/scheduler.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from herdsman.defs.rules import Ruleset
from herdsman.defs.status import Result, Status

if TYPE_CHECKING:
    from herdsman.core.server import Server


class Check:
    """One periodic check of one server (spec §4.1, §4.3)."""

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
        from herdsman.core.server import SrvState

        if self.server.next_state is SrvState.STOPPED and self.health == 0:
            return self.downinter or self.inter
        return self.fastinter or self.inter

    def state_word(self) -> tuple[int, int, bool]:
        """(a, b, up) of "status: a/b UP|DOWN" (spec §4.9)."""
        if self.health >= self.rise:
            return self.health - self.rise + 1, self.fall, True
        return self.health, self.rise, False
