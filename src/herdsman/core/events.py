"""What core tells the world when it commits a change: one typed event each.

``core/transitions.py`` emits a ``ServerEvent`` for every committed change of
a server's operational state, admin flags, weight or limits, whatever its
cause (a check, an agent, the runtime API, start-up, a state file). The
runtime API, the logs, Prometheus and, later, other worker processes
subscribe to these events instead of watching the objects.

Events are plain data (names and numbers, no object references) so that
they can be queued, logged, or sent to another process as they are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from herdsman.core.states import SrvAdmin, SrvState


class Cause(enum.Enum):
    """Why the change happened (HAProxy's ``SRV_OP_STCHGC_*``/``SRV_ADM_STCHGC_*``, coarser)."""

    NONE = "none"
    HEALTH = "health"  # a health check result
    AGENT = "agent"  # an agent check reply
    TRACK = "track"  # the tracked server changed
    OPERATOR = "operator"  # the runtime API, a signal, the stats page
    TRAFFIC = "traffic"  # passive health (observe)
    STARTUP = "startup"  # configuration or state file at start-up
    SLOWSTART = "slowstart"  # a step of slow start (the weight or limit grew)


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """A committed change of one server: its values before and after."""

    backend: str
    server: str
    puid: int
    cause: Cause
    at_s: int  # clock seconds of the change
    state: tuple[SrvState, SrvState]
    admin: tuple[SrvAdmin, SrvAdmin]
    uweight: tuple[int, int]
    eweight: tuple[int, int]
    maxconn: tuple[int, int]
    message: str = ""  # the log line written for it, if any ("" for silent changes)
    detail: str = ""  # what else the operator changed (address, check settings...)

    @property
    def state_changed(self) -> bool:
        return self.state[0] is not self.state[1]

    @property
    def admin_changed(self) -> bool:
        return self.admin[0] != self.admin[1]


# Not frozen: one is built per check run, and a frozen dataclass's __init__
# (object.__setattr__ per field) costs ten times as much. Nobody changes one.
@dataclass(slots=True)
class CheckEvent:
    """One completed check or agent run of one server, and where it left the counter.

    Published by ``checks/health.py`` through ``Hooks.checked()`` when a run
    ends (HANA events of passive health included), whether or not the
    server's state changed; a history keeps the last ones.
    """

    backend: str
    server: str
    agent: bool  # an agent check, not a health check
    at_ms: int  # clock milliseconds when the result was recorded
    status: str  # the short status (L4OK, L7STS, ...)
    code: int | None  # L7 code (HTTP status, ...) when the status has one
    duration_ms: int  # -1 when not applicable
    desc: str  # the info text
    health: int  # the counter after this result
    rise: int
    fall: int
