"""Each server's health history: a herdsman extension (``show servers history``).

HAProxy keeps only the last check result of a server. ``History`` subscribes
to core's events and keeps, per server, the last 64 check and agent results
(time, status, code, duration, description, where the health counter went)
and the state transitions with their cause (the last 256, so a flapping
server cannot grow memory without bound). The entries are plain data taken
from the events; the text is made when asked.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

from herdsman.core.events import CheckEvent, ServerEvent
from herdsman.core.states import SrvAdmin, SrvState

CHECKS_KEPT = 64
TRANSITIONS_KEPT = 256


@dataclass(frozen=True, slots=True)
class _Entry:
    at_ms: int
    seq: int  # arrival order
    line: str
    mark: str = ""  # the stats page's cell class: active_up, active_going_down...


class History:
    """Check results and transitions per server, fed by the hooks' subscriptions."""

    def __init__(self, wall_offset_ms: int | None = None) -> None:
        # clock ms + offset = Unix ms (the clock is monotonic); set by the runtime
        self.wall_offset_ms = wall_offset_ms
        self.checks: dict[tuple[str, str], collections.deque[_Entry]] = {}
        self.transitions: dict[tuple[str, str], collections.deque[_Entry]] = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def checked(self, ev: CheckEvent) -> None:
        a, b, up = (
            (ev.health - ev.rise + 1, ev.fall, True)
            if ev.health >= ev.rise
            else (ev.health, ev.rise, False)
        )
        code = "-" if ev.code is None else str(ev.code)
        duration = "-" if ev.duration_ms < 0 else f"{ev.duration_ms}ms"
        line = (
            f"{'agent' if ev.agent else 'check'} {ev.status or '-'} code={code} "
            f"duration={duration} health={a}/{b} {'UP' if up else 'DOWN'}"
        )
        if ev.desc:
            line += f' info="{ev.desc}"'
        key = (ev.backend, ev.server)
        q = self.checks.get(key)
        if q is None:
            q = self.checks[key] = collections.deque(maxlen=CHECKS_KEPT)
        passed = ev.status.endswith(("OK", "OKC"))
        if up:
            mark = "active_up" if passed else "active_going_down"
        else:
            mark = "active_going_up" if passed else "active_down"
        q.append(_Entry(ev.at_ms, self._next(), line, mark))

    def changed(self, ev: ServerEvent) -> None:
        parts = []
        if ev.state_changed:
            parts.append(f"state {_state(ev.state[0])}->{_state(ev.state[1])}")
        if ev.admin_changed:
            parts.append(f"admin {_admin(ev.admin[0])}->{_admin(ev.admin[1])}")
        if ev.uweight[0] != ev.uweight[1]:
            parts.append(f"weight {ev.uweight[0]}->{ev.uweight[1]}")
        if ev.maxconn[0] != ev.maxconn[1]:
            parts.append(f"maxconn {ev.maxconn[0]}->{ev.maxconn[1]}")
        if ev.detail:
            parts.append(ev.detail)
        if not parts:
            return
        line = f"{' '.join(parts)} cause={ev.cause.value}"
        if ev.message:
            line += f' "{ev.message}"'
        key = (ev.backend, ev.server)
        q = self.transitions.get(key)
        if q is None:
            q = self.transitions[key] = collections.deque(maxlen=TRANSITIONS_KEPT)
        q.append(_Entry(ev.at_s * 1000, self._next(), line))

    def strip(self, backend: str, server: str, count: int) -> list[tuple[str, str]]:
        """The last ``count`` health-check results of a server (not the agent's), oldest
        first, as (stats page class, text): the stats page's history strip."""
        entries = [e for e in self.checks.get((backend, server), ()) if e.line[:6] == "check "]
        entries = entries[-count:]
        return [(e.mark, f"{self._stamp(e.at_ms)} {e.line}") for e in entries]

    def forget(self, backend: str, server: str) -> None:
        """``del server``: its history goes with it."""
        self.checks.pop((backend, server), None)
        self.transitions.pop((backend, server), None)

    def render(self, backend: str, server: str) -> str:
        """The server's history, oldest first, one event per line."""
        key = (backend, server)
        # events arrive in time order: the arrival order is the time order
        entries = sorted(
            [*self.checks.get(key, ()), *self.transitions.get(key, ())], key=lambda e: e.seq
        )
        out = [f"# {backend}/{server}\n"]
        out += [f"{self._stamp(e.at_ms)} {e.line}\n" for e in entries]
        return "".join(out)

    def _stamp(self, at_ms: int) -> str:
        offset = self.wall_offset_ms
        if offset is None:
            return f"+{at_ms}ms"
        wall = at_ms + offset
        secs, ms = divmod(wall, 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


def _state(st: SrvState) -> str:
    return {0: "DOWN", 1: "STARTING", 2: "UP", 3: "NOLB"}[int(st)]


def _admin(adm: SrvAdmin) -> str:
    if not adm:
        return "none"
    return "|".join(f.name for f in SrvAdmin if f and adm & f and f.name)
