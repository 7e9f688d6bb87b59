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


# A check result as kept: (seq, agent, at_ms, status, code, duration_ms, desc,
# health, rise, fall). A tuple of ints, strings and None is untracked by the
# garbage collector at its first collection: 64 results of 10,000 servers
# kept as objects were 1.3 million tracked objects, each full collection
# scanned them (350 ms pauses at 10,000 checks per second,
# docs/performance.md section 11).
_Result = tuple[int, bool, int, str, int | None, int, str, int, int, int]


class History:
    """Check results and transitions per server, fed by the hooks' subscriptions."""

    def __init__(self, wall_offset_ms: int | None = None) -> None:
        # clock ms + offset = Unix ms (the clock is monotonic); set by the runtime
        self.wall_offset_ms = wall_offset_ms
        self.checks: dict[tuple[str, str], collections.deque[_Result]] = {}
        self.transitions: dict[tuple[str, str], collections.deque[_Entry]] = {}
        self._seq = 0

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def checked(self, ev: CheckEvent) -> None:
        # one per check run, nearly always a repeated success: the values are
        # kept as they came, the text made when shown (_check_entry)
        key = (ev.backend, ev.server)
        q = self.checks.get(key)
        if q is None:
            q = self.checks[key] = collections.deque(maxlen=CHECKS_KEPT)
        self._seq += 1
        q.append(
            (
                self._seq,
                ev.agent,
                ev.at_ms,
                ev.status,
                ev.code,
                ev.duration_ms,
                ev.desc,
                ev.health,
                ev.rise,
                ev.fall,
            )
        )

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
        checks = [r for r in self.checks.get((backend, server), ()) if not r[1]]
        entries = [_check_entry(r) for r in checks[-count:]]
        return [(e.mark, f"{self._stamp(e.at_ms)} {e.line}") for e in entries]

    def forget(self, backend: str, server: str) -> None:
        """``del server``: its history goes with it."""
        self.checks.pop((backend, server), None)
        self.transitions.pop((backend, server), None)

    def render(self, backend: str, server: str) -> str:
        """The server's history, oldest first, one event per line."""
        key = (backend, server)
        # events arrive in time order: the arrival order is the time order
        checks = [_check_entry(r) for r in self.checks.get(key, ())]
        entries = sorted([*checks, *self.transitions.get(key, ())], key=lambda e: e.seq)
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


def _check_entry(result: _Result) -> _Entry:
    """A check result's line and the stats page's cell class."""
    seq, agent, at_ms, status, code, duration_ms, desc, health, rise, fall = result
    a, b, up = (health - rise + 1, fall, True) if health >= rise else (health, rise, False)
    code_text = "-" if code is None else str(code)
    duration = "-" if duration_ms < 0 else f"{duration_ms}ms"
    line = (
        f"{'agent' if agent else 'check'} {status or '-'} code={code_text} "
        f"duration={duration} health={a}/{b} {'UP' if up else 'DOWN'}"
    )
    if desc:
        line += f' info="{desc}"'
    passed = status.endswith(("OK", "OKC"))
    if up:
        mark = "active_up" if passed else "active_going_down"
    else:
        mark = "active_going_up" if passed else "active_down"
    return _Entry(at_ms, seq, line, mark)


def _state(st: SrvState) -> str:
    return {0: "DOWN", 1: "STARTING", 2: "UP", 3: "NOLB"}[int(st)]


def _admin(adm: SrvAdmin) -> str:
    if not adm:
        return "none"
    return "|".join(f.name for f in SrvAdmin if f and adm & f and f.name)
