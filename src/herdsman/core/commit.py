"""The commit of a server's state change (``server.c srv_update_status()``), as tables.

``OPERATIONAL`` maps the (current, next) operational state to a row,
``MAINTENANCE`` and ``DRAINING`` map (before, after) of the admin flags to a
row. A row is its name and the ordered steps it takes: update the balancer
(so no new connection goes to a server once it is marked DOWN), apply
``on-marked-down``/``on-marked-up`` actions, account downtime, write
HAProxy's log line with its level (spec §4.10, §11.1). Only
``core/transitions.py`` calls ``update_status()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.core import lbprm
from herdsman.core.backend import Server
from herdsman.core.messages import append_status, prefix, via
from herdsman.core.states import DRAIN, MAINT, SrvAdmin, SrvState
from herdsman.defs.levels import LOG_ALERT, LOG_EMERG, LOG_NOTICE

# -- one commit ----------------------------------------------------------------


@dataclass
class Commit:
    """What one ``update_status()`` call knows while it runs its rows."""

    srv: Server
    now: int
    prev_count: int  # usable servers of the backend before the change
    was_stopping: bool  # STOPPING or in drain before the change
    cur: SrvState  # operational state before the change
    xferred: int = 0  # queued streams the change moved (the "N requeued" of the lines)
    messages: list[str] = field(default_factory=list)  # log lines written
    rows: list[str] = field(default_factory=list)  # rows of the tables it ran


Step = Callable[[Commit], None]


@dataclass(frozen=True)
class Row:
    """One transition: its name and the steps it takes, in order."""

    name: str
    steps: tuple[Step, ...]


def _emit(c: Commit, level: int, text: str, starting_ok: bool = True) -> None:
    hooks = c.srv.backend.hooks
    if not text or (not starting_ok and hooks.starting):
        return
    c.messages.append(text + ".")
    hooks.warning(text + ".")
    hooks.log(c.srv.backend, level, text + ".")


def _alert_unless_stopping(c: Commit) -> int:
    return LOG_NOTICE if c.was_stopping else LOG_ALERT


def _notice(c: Commit) -> int:
    return LOG_NOTICE


def _say(
    verb: str,
    level: Callable[[Commit], int] = _notice,
    *,
    cause: bool = False,
    counts: bool = True,
    forced: SrvAdmin = SrvAdmin.NONE,
    starting_ok: bool = True,
) -> Step:
    """A step writing "<Server b/s> <verb>[ (cause)], reason... N active..." at ``level``."""

    def step(c: Commit) -> None:
        srv = c.srv
        msg = [f"{prefix(srv)} {verb}"]
        if cause and srv.adm_cause:
            msg.append(f" ({srv.adm_cause})")
        xferred = c.xferred if counts else -1  # -1: no server counts in the line
        append_status(msg, srv, None, xferred, bool(srv.next_admin & forced))
        _emit(c, level(c), "".join(msg), starting_ok)

    return step


def _stamp(c: Commit) -> None:
    c.srv.last_change = c.now


def _commit(c: Commit) -> None:
    lbprm.commit(c.srv)


def _recalc(c: Commit) -> None:
    lbprm.recalc_eweight(c.srv)


def _warmup(c: Commit) -> None:
    """A server entering slow start gets its first step in a second (spec §10.3)."""
    srv = c.srv
    if srv.next_state is SrvState.STARTING and srv.slowstart_s > 0:
        srv.backend.warmups.arm(srv)


def _backend_down(c: Commit) -> None:
    """``set_backend_down()`` when the last usable server went away."""
    be = c.srv.backend
    if c.prev_count and be.srv_act == 0 and be.srv_bck == 0:
        be.last_change = be.clock.now_s()
        be.counters.down_trans += 1
        if not be.hooks.starting:
            be.hooks.alert(f"{be.kind} '{be.name}' has no server available!")
            be.hooks.log(be, LOG_EMERG, f"{be.kind} {be.name} has no server available!")


def _redistribute(c: Commit) -> None:
    """``pendconn_redistribute()``: the server's waiters go back to the balancer."""
    c.xferred = c.srv.backend.redistribute(c.srv)


def _grab(c: Commit) -> None:
    """``pendconn_grab_from_px()``: the server takes what the backend queue holds."""
    c.xferred = c.srv.backend.grab_backend_queue(c.srv)


def _count_down(c: Commit) -> None:
    c.srv.counters.down_trans += 1


def _shutdown(srv: Server) -> None:
    """``srv_shutdown_streams()``: kill every live stream of ``srv``."""
    for stream in list(srv.streams):
        stream.abort()


def _shutdown_if_marked_down(c: Commit) -> None:
    if c.srv.cfg.on_marked_down_shutdown:
        _shutdown(c.srv)


def _shutdown_backups(c: Commit) -> None:
    """``on-marked-up shutdown-backup-sessions``: an active server is back."""
    srv = c.srv
    if srv.cfg.on_marked_up_shutdown_backup and not srv.backup and srv.eweight:
        for other in srv.backend.servers:
            if other.backup:
                _shutdown(other)


def _backend_downtime(c: Commit) -> None:
    """The backend had no usable server until now: account its downtime."""
    be = c.srv.backend
    if be.srv_act == 0 and be.srv_bck == 0:
        if be.last_change < c.now:
            be.down_time += c.now - be.last_change
        be.last_change = c.now


def _server_downtime_if_was_down(c: Commit) -> None:
    if c.cur is SrvState.STOPPED and c.srv.last_change < c.now:
        c.srv.down_time += c.now - c.srv.last_change


def _server_downtime(c: Commit) -> None:
    if c.srv.last_change < c.now:
        c.srv.down_time += c.now - c.srv.last_change


def _commit_weight(c: Commit) -> None:
    """Same operational state: only a weight change reaches the balancer."""
    if c.srv.eweight != c.srv.lb_eweight:
        _commit(c)
        _backend_down(c)


# -- operational transitions (checks, agents, tracking) ----------------------------

_DOWN = Row(
    "DOWN",
    (
        _stamp,
        _commit,
        _shutdown_if_marked_down,
        _redistribute,
        _say("is DOWN", _alert_unless_stopping),
        _backend_down,
        _count_down,
    ),
)
_STOPPING = Row("STOPPING", (_stamp, _commit, _redistribute, _say("is stopping"), _backend_down))
_UP = Row(
    "UP",
    (
        _backend_downtime,
        _server_downtime_if_was_down,
        _stamp,
        _warmup,
        _recalc,
        _commit,
        _shutdown_backups,
        _grab,
        _say("is UP"),
        _backend_down,
    ),
)
_SAME = Row("SAME", (_commit_weight,))

_S = SrvState
OPERATIONAL: dict[tuple[SrvState, SrvState], Row] = {
    (_S.STOPPED, _S.STOPPED): _SAME,
    (_S.STOPPED, _S.STARTING): _UP,
    (_S.STOPPED, _S.RUNNING): _UP,
    (_S.STOPPED, _S.STOPPING): _STOPPING,
    (_S.STARTING, _S.STOPPED): _DOWN,
    (_S.STARTING, _S.STARTING): _SAME,
    (_S.STARTING, _S.RUNNING): _UP,
    (_S.STARTING, _S.STOPPING): _STOPPING,
    (_S.RUNNING, _S.STOPPED): _DOWN,
    (_S.RUNNING, _S.STARTING): _UP,
    (_S.RUNNING, _S.RUNNING): _SAME,
    (_S.RUNNING, _S.STOPPING): _STOPPING,
    (_S.STOPPING, _S.STOPPED): _DOWN,
    (_S.STOPPING, _S.STARTING): _UP,
    (_S.STOPPING, _S.RUNNING): _UP,
    (_S.STOPPING, _S.STOPPING): _SAME,
}


# -- maintenance (admin flags FMAINT, IMAINT, RMAINT) ----------------------------------


def _pause_check(c: Commit) -> None:
    check = c.srv.check
    if check is not None and check.enabled:
        check.paused = True
        check.health = 0


def _admin_now(c: Commit) -> None:
    c.srv.cur_admin = c.srv.next_admin


def _mark_stopped(c: Commit) -> None:
    c.srv.next_state = SrvState.STOPPED


def _resume_check(c: Commit) -> None:
    check = c.srv.check
    if check is not None and check.enabled:
        check.paused = False
        check.health = check.rise


def _state_after_maintenance(c: Commit) -> None:
    """Back to RUNNING unless the tracked server, the agent or the check says otherwise."""
    srv = c.srv
    track, agent, check = srv.track, srv.agent, srv.check
    if (
        (track is None or track.next_state is not SrvState.STOPPED)
        and (agent is None or not agent.enabled or agent.health >= agent.rise)
        and (check is None or not check.enabled or check.health >= check.rise)
    ):
        if track is not None and track.next_state is SrvState.STOPPING:
            srv.next_state = SrvState.STOPPING
        else:
            srv.last_change = c.now
            srv.next_state = SrvState.STARTING if srv.slowstart_s > 0 else SrvState.RUNNING
            _warmup(c)


# which maintenance flag was cleared, and how the line reads; the last match wins
_LEAVING: tuple[tuple[SrvAdmin, str], ...] = (
    (SrvAdmin.FMAINT, "{p} is {state}/{ready} (leaving forced maintenance)"),
    (SrvAdmin.RMAINT, "{p} ('{host}') is {state}/{ready} (resolves again)"),
    (SrvAdmin.IMAINT, "{p} is {state}/{ready} (leaving maintenance)"),
)


def _say_leaving_maintenance(c: Commit) -> None:
    srv = c.srv
    text = ""
    for flag, fmt in _LEAVING:
        if not srv.next_admin & flag and srv.cur_admin & flag:
            text = fmt.format(
                p=prefix(srv),
                state="DOWN" if srv.next_state is SrvState.STOPPED else "UP",
                ready="DRAIN" if srv.next_admin & DRAIN else "READY",
                host=srv.addr.host,
            )
    srv.cur_admin = srv.next_admin
    _emit(c, LOG_NOTICE, text)


def _backend_back(c: Commit) -> None:
    be = c.srv.backend
    if not c.prev_count and (be.srv_act or be.srv_bck):
        be.last_change = c.now


def _say_still_in_maintenance(c: Commit) -> None:
    srv = c.srv
    nxt, cur = srv.next_admin, srv.cur_admin
    if not nxt & SrvAdmin.FMAINT and cur & SrvAdmin.FMAINT:
        _emit(
            c,
            LOG_NOTICE,
            f"{prefix(srv)} is leaving forced maintenance but remains in maintenance{via(srv)}",
        )
    if not nxt & SrvAdmin.RMAINT and cur & SrvAdmin.RMAINT:
        _emit(
            c,
            LOG_NOTICE,
            f"{prefix(srv)} ('{srv.addr.host}') resolves again but remains in maintenance"
            f"{via(srv)}",
        )
    elif not nxt & SrvAdmin.IMAINT and cur & SrvAdmin.IMAINT:
        _emit(c, LOG_NOTICE, f"{prefix(srv)} remains in forced maintenance")
    srv.cur_admin = nxt


_ENTER_MAINT_WHILE_DOWN = Row(
    "ENTER_MAINT_WHILE_DOWN",
    (
        _pause_check,
        _say(
            "was DOWN and now enters maintenance",
            cause=True,
            counts=False,
            forced=SrvAdmin.FMAINT,
            starting_ok=False,
        ),
        _admin_now,
    ),
)
_ENTER_MAINT = Row(
    "ENTER_MAINT",
    (
        _pause_check,
        _stamp,
        _mark_stopped,
        _admin_now,
        _commit,
        _shutdown_if_marked_down,
        _redistribute,
        _say(
            "is going DOWN for maintenance",
            _alert_unless_stopping,
            cause=True,
            forced=SrvAdmin.FMAINT,
            starting_ok=False,
        ),
        _backend_down,
        _count_down,
    ),
)
_LEAVE_MAINT = Row(
    "LEAVE_MAINT",
    (
        _resume_check,
        _state_after_maintenance,
        _say_leaving_maintenance,
        _recalc,
        _commit,
        _backend_down,
        _backend_back,
        _shutdown_backups,
        _grab,
    ),
)
_STAY_MAINT = Row("STAY_MAINT", (_say_still_in_maintenance,))
_NO_MAINT = Row("NO_MAINT", ())

# (in maintenance before, in maintenance after, DOWN before) -> row
MAINTENANCE: dict[tuple[bool, bool, bool], Row] = {
    (False, False, False): _NO_MAINT,
    (False, False, True): _NO_MAINT,
    (False, True, False): _ENTER_MAINT,
    (False, True, True): _ENTER_MAINT_WHILE_DOWN,
    (True, False, False): _LEAVE_MAINT,
    (True, False, True): _LEAVE_MAINT,
    (True, True, False): _STAY_MAINT,
    (True, True, True): _STAY_MAINT,
}


# -- drain (admin flags FDRAIN, IDRAIN), when not in maintenance -----------------------


def _say_leaving_drain(c: Commit) -> None:
    srv = c.srv
    state = "DOWN" if srv.next_state is SrvState.STOPPED else "UP"
    if not srv.next_admin & SrvAdmin.FDRAIN:
        text = f"{prefix(srv)} is {state} (leaving forced drain)"
    else:
        text = f"{prefix(srv)} is {state} (leaving drain){via(srv)}"
    srv.cur_admin = srv.next_admin
    _emit(c, LOG_NOTICE, text)


def _say_still_in_drain(c: Commit) -> None:
    srv = c.srv
    if not srv.next_admin & SrvAdmin.FDRAIN:
        text = f"{prefix(srv)} is leaving forced drain but remains in drain mode{via(srv)}"
    else:
        text = f"{prefix(srv)} remains in forced drain mode"
    _emit(c, LOG_NOTICE, text)
    srv.cur_admin = srv.next_admin


_ENTER_DRAIN = Row(
    "ENTER_DRAIN",
    (
        _stamp,
        _admin_now,
        _commit,
        _redistribute,
        _say("enters drain state", cause=True, forced=SrvAdmin.FDRAIN, starting_ok=False),
        _backend_down,
    ),
)
_LEAVE_DRAIN = Row(
    "LEAVE_DRAIN",
    (_backend_downtime, _server_downtime, _stamp, _recalc, _say_leaving_drain, _commit),
)
_STAY_DRAIN = Row("STAY_DRAIN", (_say_still_in_drain,))
_NO_DRAIN = Row("NO_DRAIN", (_admin_now,))

# (draining before, draining after) -> row
DRAINING: dict[tuple[bool, bool], Row] = {
    (False, False): _NO_DRAIN,
    (False, True): _ENTER_DRAIN,
    (True, False): _LEAVE_DRAIN,
    (True, True): _STAY_DRAIN,
}


def _take(row: Row, c: Commit) -> None:
    c.rows.append(row.name)
    for step in row.steps:
        step(c)


def update_status(srv: Server) -> Commit:
    """``srv_update_status()``: commit next_state/next_admin with side effects.

    Returns what the commit did: the rows it ran and the lines it logged.
    """
    be = srv.backend
    c = Commit(
        srv,
        now=be.clock.now_s(),
        prev_count=be.srv_act + be.srv_bck,
        was_stopping=srv.cur_state is SrvState.STOPPING or bool(srv.cur_admin & DRAIN),
        cur=srv.cur_state,
    )
    if not srv.cur_admin & MAINT:
        # only the operational change is committed here: the admin one waits
        next_admin = srv.next_admin
        srv.next_admin = srv.cur_admin
        _take(OPERATIONAL[srv.cur_state, srv.next_state], c)
        srv.next_admin = next_admin

    srv.chg_reason = ""
    srv.chg_status = srv.chg_code = -1
    srv.chg_duration = -1

    key = (
        bool(srv.cur_admin & MAINT),
        bool(srv.next_admin & MAINT),
        srv.cur_state is SrvState.STOPPED,
    )
    _take(MAINTENANCE[key], c)
    if not srv.next_admin & MAINT:
        _take(DRAINING[bool(srv.cur_admin & DRAIN), bool(srv.next_admin & DRAIN)], c)
    srv.adm_cause = ""
    return c
