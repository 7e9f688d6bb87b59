"""Every server state change goes through here (``server.c`` 2.6: ``srv_set_stopped``,
``srv_set_running``, ``srv_set_stopping``, ``srv_set_admin_flag``,
``srv_clr_admin_flag``, the weight and limit setters, and the commit function
``srv_update_status``).

Callers set the *next* state; ``update_status()`` commits it. What a commit
does is written as tables of transitions: ``OPERATIONAL`` maps (current,
next) operational state to a row, ``MAINTENANCE`` and ``DRAIN`` map (before,
after) of the admin flags to a row. A row is its name and the ordered steps
it takes: update the balancer (so no new connection goes to a server once it
is marked DOWN), apply ``on-marked-down``/``on-marked-up`` actions, account
downtime, write HAProxy's log line with its level. The public functions then
propagate the change to tracking servers and publish one ``ServerEvent`` per
committed change through the backend's hooks.

The texts are HAProxy's, character for character (spec §4.10, §11.1 and the
verbatim lists of ``observed-2.6.12-checks.md``), quirks included (leaving
an inherited drain reads "leaving forced drain", as in 2.6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.core.backend import Check, Server
from herdsman.core.events import Cause, ServerEvent
from herdsman.core.states import DRAIN, MAINT, SrvAdmin, SrvState
from herdsman.defs.levels import LOG_ALERT, LOG_EMERG, LOG_NOTICE
from herdsman.defs.status import Status

# -- messages ------------------------------------------------------------------


def _encode_desc(desc: str) -> str:
    """``chunk_asciiencode(.., '"')``: non-printables, '<', '>' and '"' as <HH>."""
    out = []
    for ch in desc:
        o = ord(ch)
        if o < 0x20 or o >= 0x7F or ch in '<>"':
            out.append(f"<{o & 0xFF:02X}>")
        else:
            out.append(ch)
    return "".join(out)


def append_status(
    msg: list[str], srv: Server, check: Check | None, xferred: int, forced: bool
) -> None:
    """``srv_append_status()``: the ", reason: ..." and the server counts."""
    status, code, duration, desc = srv.chg_status, srv.chg_code, srv.chg_duration, srv.chg_reason
    if check is not None:
        status, code, duration, desc = check.status, check.code, check.duration, check.desc
    if status != -1:
        st = Status(status)
        msg.append(f", reason: {st.description}")
        if st > Status.L57DATA:
            msg.append(f", code: {code}")
        if desc:
            msg.append(f', info: "{_encode_desc(desc)}"')
        if duration >= 0:
            msg.append(f", check duration: {duration}ms")
    elif desc:
        msg.append(f", {desc}")
    elif not forced and srv.track is not None:
        msg.append(f" via {srv.track.id}")
    if xferred >= 0:
        be = srv.backend
        backup = " Running on backup." if be.srv_bck and not be.srv_act else ""
        if srv.next_state is SrvState.STOPPED:
            msg.append(
                f". {be.srv_act} active and {be.srv_bck} backup servers left.{backup}"
                f" {srv.served} sessions active, {xferred} requeued, {srv.nbpend} remaining in queue"
            )
        else:
            msg.append(
                f". {be.srv_act} active and {be.srv_bck} backup servers online.{backup}"
                f" {xferred} sessions requeued, {srv.nbpend} total in queue"
            )


def _prefix(srv: Server) -> str:
    return f"{'Backup ' if srv.backup else ''}Server {srv.id}"


def _via(srv: Server) -> str:
    return f" via {srv.track.id}" if srv.track is not None else ""


# -- one commit ----------------------------------------------------------------


@dataclass
class Commit:
    """What one ``update_status()`` call knows while it runs its rows."""

    srv: Server
    now: int
    prev_count: int  # usable servers of the backend before the change
    was_stopping: bool  # STOPPING or in drain before the change
    cur: SrvState  # operational state before the change
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
    xferred: int = 0,
    forced: SrvAdmin = SrvAdmin.NONE,
    starting_ok: bool = True,
) -> Step:
    """A step writing "<Server b/s> <verb>[ (cause)], reason... N active..." at ``level``."""

    def step(c: Commit) -> None:
        srv = c.srv
        msg = [f"{_prefix(srv)} {verb}"]
        if cause and srv.adm_cause:
            msg.append(f" ({srv.adm_cause})")
        append_status(msg, srv, None, xferred, bool(srv.next_admin & forced))
        _emit(c, level(c), "".join(msg), starting_ok)

    return step


def _stamp(c: Commit) -> None:
    c.srv.last_change = c.now


def _commit(c: Commit) -> None:
    c.srv.backend.commit_lb(c.srv)


def _recalc(c: Commit) -> None:
    c.srv.backend.recalc_eweight(c.srv)


def _backend_down(c: Commit) -> None:
    """``set_backend_down()`` when the last usable server went away."""
    be = c.srv.backend
    if c.prev_count and be.srv_act == 0 and be.srv_bck == 0:
        be.last_change = be.clock.now_s()
        be.counters.down_trans += 1
        if not be.hooks.starting:
            be.hooks.alert(f"{be.kind} '{be.name}' has no server available!")
            be.hooks.log(be, LOG_EMERG, f"{be.kind} {be.name} has no server available!")


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
        _say("is DOWN", _alert_unless_stopping),
        _backend_down,
        _count_down,
    ),
)
_STOPPING = Row("STOPPING", (_stamp, _commit, _say("is stopping"), _backend_down))
_UP = Row(
    "UP",
    (
        _backend_downtime,
        _server_downtime_if_was_down,
        _stamp,
        _recalc,
        _commit,
        _shutdown_backups,
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
            srv.next_state = SrvState.RUNNING  # slowstart: planned


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
                p=_prefix(srv),
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
            f"{_prefix(srv)} is leaving forced maintenance but remains in maintenance{_via(srv)}",
        )
    if not nxt & SrvAdmin.RMAINT and cur & SrvAdmin.RMAINT:
        _emit(
            c,
            LOG_NOTICE,
            f"{_prefix(srv)} ('{srv.addr.host}') resolves again but remains in maintenance"
            f"{_via(srv)}",
        )
    elif not nxt & SrvAdmin.IMAINT and cur & SrvAdmin.IMAINT:
        _emit(c, LOG_NOTICE, f"{_prefix(srv)} remains in forced maintenance")
    srv.cur_admin = nxt


_ENTER_MAINT_WHILE_DOWN = Row(
    "ENTER_MAINT_WHILE_DOWN",
    (
        _pause_check,
        _say(
            "was DOWN and now enters maintenance",
            cause=True,
            xferred=-1,
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
        text = f"{_prefix(srv)} is {state} (leaving forced drain)"
    else:
        text = f"{_prefix(srv)} is {state} (leaving drain){_via(srv)}"
    srv.cur_admin = srv.next_admin
    _emit(c, LOG_NOTICE, text)


def _say_still_in_drain(c: Commit) -> None:
    srv = c.srv
    if not srv.next_admin & SrvAdmin.FDRAIN:
        text = f"{_prefix(srv)} is leaving forced drain but remains in drain mode{_via(srv)}"
    else:
        text = f"{_prefix(srv)} remains in forced drain mode"
    _emit(c, LOG_NOTICE, text)
    srv.cur_admin = srv.next_admin


_ENTER_DRAIN = Row(
    "ENTER_DRAIN",
    (
        _stamp,
        _admin_now,
        _commit,
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


# -- the public transitions ------------------------------------------------------

_Snapshot = tuple[SrvState, SrvAdmin, int, int, int]


def _snapshot(srv: Server) -> _Snapshot:
    return srv.cur_state, srv.cur_admin, srv.uweight, srv.eweight, srv.maxconn


def _publish(srv: Server, before: _Snapshot, cause: Cause, messages: list[str]) -> None:
    """One ``ServerEvent`` for the committed change, if anything changed."""
    after = _snapshot(srv)
    if after == before and not messages:
        return
    srv.backend.hooks.changed(
        ServerEvent(
            backend=srv.backend.name,
            server=srv.name,
            puid=srv.puid,
            cause=cause,
            at_s=srv.backend.clock.now_s(),
            state=(before[0], after[0]),
            admin=(before[1], after[1]),
            uweight=(before[2], after[2]),
            eweight=(before[3], after[3]),
            maxconn=(before[4], after[4]),
            message=" ".join(messages),
        )
    )


def _commit_change(srv: Server, before: _Snapshot, cause: Cause) -> None:
    _publish(srv, before, cause, update_status(srv).messages)


def _set_reason(srv: Server, reason: str | None, check: Check | None) -> None:
    srv.chg_reason = ""
    srv.chg_status = -1
    if reason:
        srv.chg_reason = reason
    elif check is not None:
        srv.chg_reason = check.desc
        srv.chg_code = check.code
        srv.chg_status = int(check.status)
        srv.chg_duration = check.duration


def _cause_of(check: Check | None, default: Cause) -> Cause:
    if check is None:
        return default
    return Cause.AGENT if check.agent else Cause.HEALTH


def set_stopped(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_stopped()``: the server is DOWN (also for its trackers)."""
    if srv.cur_admin & MAINT or srv.next_state is SrvState.STOPPED:
        return
    before = _snapshot(srv)
    srv.next_state = SrvState.STOPPED
    _set_reason(srv, reason, check)
    _commit_change(srv, before, _cause_of(check, cause))
    for tracker in list(srv.trackers):
        set_stopped(tracker, cause=Cause.TRACK)


def set_running(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_running()``: the server is UP (slowstart: planned)."""
    if srv.cur_admin & MAINT:
        return
    if srv.next_state in (SrvState.STARTING, SrvState.RUNNING):
        return
    before = _snapshot(srv)
    srv.next_state = SrvState.RUNNING
    _set_reason(srv, reason, check)
    _commit_change(srv, before, _cause_of(check, cause))
    for tracker in list(srv.trackers):
        set_running(tracker, cause=Cause.TRACK)


def set_stopping(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_stopping()``: the server is NOLB (e.g. disable-on-404)."""
    if srv.cur_admin & MAINT or srv.next_state is SrvState.STOPPING:
        return
    before = _snapshot(srv)
    srv.next_state = SrvState.STOPPING
    _set_reason(srv, reason, check)
    _commit_change(srv, before, _cause_of(check, cause))
    for tracker in list(srv.trackers):
        set_stopping(tracker, cause=Cause.TRACK)


def _inherited(mode: SrvAdmin) -> SrvAdmin:
    return SrvAdmin.IMAINT if mode & MAINT else SrvAdmin.IDRAIN if mode & DRAIN else mode


def set_admin_flag(
    srv: Server, mode: SrvAdmin, cause_text: str = "", cause: Cause = Cause.OPERATOR
) -> None:
    """``srv_set_admin_flag()``: enter maintenance or drain (propagated as IMAINT/IDRAIN)."""
    if not mode or srv.next_admin & mode:
        return
    before = _snapshot(srv)
    srv.next_admin |= mode
    if cause_text:
        srv.adm_cause = cause_text
    _commit_change(srv, before, cause)
    if (mode & MAINT and srv.next_admin & ~mode & MAINT) or (
        mode & DRAIN and srv.next_admin & ~mode & DRAIN
    ):
        return
    for tracker in list(srv.trackers):
        set_admin_flag(tracker, _inherited(mode), cause_text, Cause.TRACK)


def clr_admin_flag(srv: Server, mode: SrvAdmin, cause: Cause = Cause.OPERATOR) -> None:
    """``srv_clr_admin_flag()``: leave maintenance or drain."""
    if not mode or not srv.next_admin & mode:
        return
    before = _snapshot(srv)
    srv.next_admin &= ~mode
    _commit_change(srv, before, cause)
    if (mode & MAINT and srv.next_admin & MAINT) or (mode & DRAIN and srv.next_admin & DRAIN):
        return
    for tracker in list(srv.trackers):
        clr_admin_flag(tracker, _inherited(mode), Cause.TRACK)


def set_weight(srv: Server, uweight: int, cause: Cause = Cause.OPERATOR) -> None:
    """Change the user weight and commit it (runtime API, agents)."""
    before = _snapshot(srv)
    srv.uweight = uweight
    srv.backend.recalc_eweight(srv)
    _commit_change(srv, before, cause)


# -- start-up ----------------------------------------------------------------------


def init_server(srv: Server) -> None:
    """The state a server starts in (``srv_init_admin_state``, ``init-addr``).

    ``disabled`` starts it in forced maintenance (FMAINT|CMAINT), an address
    that did not resolve in resolver maintenance (RMAINT); both DOWN, their
    checks paused. Called before the balancer starts: nothing is logged.
    """
    before = _snapshot(srv)
    srv.last_change = srv.backend.clock.now_s()
    if srv.cfg.disabled:
        srv.cur_admin = srv.next_admin = SrvAdmin.FMAINT | SrvAdmin.CMAINT
        srv.cur_state = srv.next_state = SrvState.STOPPED
        if srv.check is not None:
            srv.check.health = 0
            srv.check.paused = True
    if srv.cfg.unresolved:
        srv.cur_admin |= SrvAdmin.RMAINT
        srv.next_admin |= SrvAdmin.RMAINT
        srv.cur_state = srv.next_state = SrvState.STOPPED
    _publish(srv, before, Cause.STARTUP, [])


def inherit_maintenance(srv: Server) -> None:
    """``srv_compute_all_admin_states()``: trackers of a server in maintenance at
    start-up inherit it (IMAINT), along the whole tracking chain."""
    if not srv.cur_admin & MAINT:
        return
    for tracker in srv.trackers:
        if tracker.cur_admin & SrvAdmin.IMAINT:
            continue
        before = _snapshot(tracker)
        tracker.cur_admin |= SrvAdmin.IMAINT
        tracker.next_admin |= SrvAdmin.IMAINT
        tracker.cur_state = tracker.next_state = SrvState.STOPPED
        if tracker.check is not None:
            tracker.check.health = 0
            tracker.check.paused = True
        _publish(tracker, before, Cause.STARTUP, [])
        inherit_maintenance(tracker)
