"""A server's live state as plain data, for tests, embedders and the runtime API.

``server_state()`` reads core's objects once and returns frozen dataclasses:
nothing in them points back at the running objects, so they can be compared,
printed, queued, or sent to another process. What they hold is what
``show servers state`` and ``show stat`` print in HAProxy (spec §11, §12.1,
§13): the operational state and admin flags, the user, initial and effective
weights, the limits (with the dynamic one, slow start included), and the last
result of the health check and of the agent.
"""

from __future__ import annotations

from dataclasses import dataclass

from herdsman.core.backend import Check, Server
from herdsman.core.states import SrvAdmin, SrvState
from herdsman.defs.status import Status


@dataclass(frozen=True, slots=True)
class CheckState:
    """The last result of a health check or agent check (``struct check``)."""

    status: Status  # INI until the first result
    code: int  # HTTP status, protocol code, exit status... (0 when none)
    duration_ms: int  # of the last run, -1 when none (or a passive-health result)
    desc: str  # the "info" text
    health: int  # 0 .. rise + fall - 1
    rise: int
    fall: int
    enabled: bool
    paused: bool  # a health check in maintenance
    running: bool  # a run is in progress


@dataclass(frozen=True, slots=True)
class ServerState:
    """One server of one backend, now."""

    backend: str
    server: str
    puid: int
    state: SrvState  # operational: STOPPED, STARTING (slow start), RUNNING, STOPPING (NOLB)
    admin: SrvAdmin  # FMAINT, IMAINT, CMAINT, FDRAIN, IDRAIN, RMAINT, HMAINT
    uweight: int  # user weight, 0..256
    iweight: int  # initial (configured) weight
    eweight: int  # effective weight on the algorithm's scale (x16 for dynamic algorithms)
    weight: int  # effective weight back on the user scale (stats "weight")
    maxconn: int  # 0: no limit
    minconn: int
    limit: int  # the dynamic maxconn now (minconn/fullconn, slow start)
    served: int  # streams holding a slot
    queued: int  # streams waiting in the server's queue
    last_change_s: int  # clock seconds of the last state change
    check: CheckState | None
    agent: CheckState | None


def check_state(chk: Check | None) -> CheckState | None:
    if chk is None:
        return None
    return CheckState(
        status=chk.status,
        code=chk.code,
        duration_ms=chk.duration,
        desc=chk.desc,
        health=chk.health,
        rise=chk.rise,
        fall=chk.fall,
        enabled=chk.enabled,
        paused=chk.paused,
        running=chk.in_progress,
    )


def server_state(srv: Server) -> ServerState:
    """``srv`` as it is now (its committed state: what the balancer and views see)."""
    be = srv.backend
    return ServerState(
        backend=be.name,
        server=srv.name,
        puid=srv.puid,
        state=srv.cur_state,
        admin=srv.cur_admin,
        uweight=srv.uweight,
        iweight=srv.iweight,
        eweight=srv.eweight,
        weight=-(-srv.eweight * be.wmult // be.wdiv),
        maxconn=srv.maxconn,
        minconn=srv.minconn,
        limit=be.limit(srv) if srv.maxconn else 0,
        served=srv.served,
        queued=srv.nbpend,
        last_change_s=srv.last_change,
        check=check_state(srv.check),
        agent=check_state(srv.agent),
    )
