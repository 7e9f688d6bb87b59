"""Every server state change goes through here (``server.c`` 2.6: ``srv_set_stopped``,
``srv_set_running``, ``srv_set_stopping``, ``srv_set_admin_flag``,
``srv_clr_admin_flag`` and the commit function ``srv_update_status``).

Callers set the *next* state; ``update_status()`` commits it: it updates the
balancer (so no new connection goes to a server once it is marked DOWN),
applies ``on-marked-down``/``on-marked-up`` actions, writes HAProxy's log
lines, then the public functions propagate the change to tracking servers.

The texts are HAProxy's, character for character (spec §4.10, §11.1 and the
verbatim lists of ``observed-2.6.12-checks.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from herdsman.core.server import DRAIN, MAINT, Server, SrvAdmin, SrvState
from herdsman.defs.levels import LOG_ALERT, LOG_EMERG, LOG_NOTICE
from herdsman.defs.status import Status

if TYPE_CHECKING:
    from herdsman.checks.check import Check

# Called with (server, reason) to kill the server's live connections:
# on-marked-down shutdown-sessions (reason "down") and on-marked-up
# shutdown-backup-sessions (reason "up"). Installed by the data path.
ShutdownHook = Callable[[Server, str], None]
_shutdown_hook: ShutdownHook | None = None


def set_shutdown_hook(hook: ShutdownHook | None) -> None:
    global _shutdown_hook
    _shutdown_hook = hook


def _shutdown(srv: Server, why: str) -> None:
    if _shutdown_hook is not None and srv.streams:
        _shutdown_hook(srv, why)


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


def _emit(srv: Server, level: int, text: str, starting_ok: bool = True) -> None:
    rep = srv.backend.reporter
    if not text or (not starting_ok and rep.starting):
        return
    rep.warning(text + ".")
    rep.log(srv.backend, level, text + ".")


def _backend_down(srv: Server, prev_count: int) -> None:
    """``set_backend_down()`` when the last usable server went away."""
    be = srv.backend
    if prev_count and be.srv_act == 0 and be.srv_bck == 0:
        be.last_change = be.clock.now_s()
        be.down_trans += 1
        if not be.reporter.starting:
            be.reporter.alert(f"{be.kind} '{be.name}' has no server available!")
            be.reporter.log(be, LOG_EMERG, f"{be.kind} {be.name} has no server available!")


def _prefix(srv: Server) -> str:
    return f"{'Backup ' if srv.backup else ''}Server {srv.id}"


def _cause(srv: Server) -> str:
    return f" ({srv.adm_cause})" if srv.adm_cause else ""


# -- the commit ----------------------------------------------------------------


def update_status(srv: Server) -> None:
    """``srv_update_status()``: commit next_state/next_admin, with side effects."""
    be = srv.backend
    now = be.clock.now_s()
    prev_count = be.srv_act + be.srv_bck
    was_stopping = srv.cur_state is SrvState.STOPPING or bool(srv.cur_admin & DRAIN)
    check = srv.check

    if not srv.cur_admin & MAINT:
        next_admin = srv.next_admin
        srv.next_admin = srv.cur_admin
        cur, nxt = srv.cur_state, srv.next_state
        if cur is not SrvState.STOPPED and nxt is SrvState.STOPPED:
            srv.last_change = now
            be.commit_lb(srv)
            if srv.cfg.on_marked_down_shutdown:
                _shutdown(srv, "down")
            msg = [f"{_prefix(srv)} is DOWN"]
            append_status(msg, srv, None, 0, False)
            _emit(srv, LOG_NOTICE if was_stopping else LOG_ALERT, "".join(msg))
            _backend_down(srv, prev_count)
            srv.down_trans += 1
        elif cur is not SrvState.STOPPING and nxt is SrvState.STOPPING:
            srv.last_change = now
            be.commit_lb(srv)
            msg = [f"{_prefix(srv)} is stopping"]
            append_status(msg, srv, None, 0, False)
            _emit(srv, LOG_NOTICE, "".join(msg))
            _backend_down(srv, prev_count)
        elif (cur is not SrvState.RUNNING and nxt is SrvState.RUNNING) or (
            cur is not SrvState.STARTING and nxt is SrvState.STARTING
        ):
            if be.srv_act == 0 and be.srv_bck == 0:
                if be.last_change < now:
                    be.down_time += now - be.last_change
                be.last_change = now
            if cur is SrvState.STOPPED and srv.last_change < now:
                srv.down_time += now - srv.last_change
            srv.last_change = now
            be.recalc_eweight(srv)
            be.commit_lb(srv)
            if srv.cfg.on_marked_up_shutdown_backup and not srv.backup and srv.eweight:
                for other in be.servers:
                    if other.backup:
                        _shutdown(other, "up")
            msg = [f"{_prefix(srv)} is UP"]
            append_status(msg, srv, None, 0, False)
            _emit(srv, LOG_NOTICE, "".join(msg))
            _backend_down(srv, prev_count)
        elif srv.eweight != srv.lb_eweight:
            be.commit_lb(srv)
            _backend_down(srv, prev_count)
        srv.next_admin = next_admin

    srv.chg_reason = ""
    srv.chg_status = srv.chg_code = -1
    srv.chg_duration = -1

    # administrative changes
    if not srv.cur_admin & MAINT and srv.next_admin & MAINT:
        if check is not None and check.enabled:
            check.paused = True
            check.health = 0
        forced = bool(srv.next_admin & SrvAdmin.FMAINT)
        if srv.cur_state is SrvState.STOPPED:
            msg = [f"{_prefix(srv)} was DOWN and now enters maintenance{_cause(srv)}"]
            append_status(msg, srv, None, -1, forced)
            _emit(srv, LOG_NOTICE, "".join(msg), starting_ok=False)
            srv.cur_admin = srv.next_admin
        else:
            srv.last_change = now
            srv.next_state = SrvState.STOPPED
            srv.cur_admin = srv.next_admin
            be.commit_lb(srv)
            if srv.cfg.on_marked_down_shutdown:
                _shutdown(srv, "down")
            msg = [f"{_prefix(srv)} is going DOWN for maintenance{_cause(srv)}"]
            append_status(msg, srv, None, 0, forced)
            _emit(srv, LOG_NOTICE if was_stopping else LOG_ALERT, "".join(msg), starting_ok=False)
            _backend_down(srv, prev_count)
            srv.down_trans += 1
    elif srv.cur_admin & MAINT and not srv.next_admin & MAINT:
        agent = srv.agent
        if check is not None and check.enabled:
            check.paused = False
            check.health = check.rise
        track = srv.track
        if (
            (track is None or track.next_state is not SrvState.STOPPED)
            and (agent is None or not agent.enabled or agent.health >= agent.rise)
            and (check is None or not check.enabled or check.health >= check.rise)
        ):
            if track is not None and track.next_state is SrvState.STOPPING:
                srv.next_state = SrvState.STOPPING
            else:
                srv.last_change = now
                srv.next_state = SrvState.RUNNING  # slowstart: planned
        state = "DOWN" if srv.next_state is SrvState.STOPPED else "UP"
        ready = "DRAIN" if srv.next_admin & DRAIN else "READY"
        text = ""
        if not srv.next_admin & SrvAdmin.FMAINT and srv.cur_admin & SrvAdmin.FMAINT:
            text = f"{_prefix(srv)} is {state}/{ready} (leaving forced maintenance)"
        if not srv.next_admin & SrvAdmin.RMAINT and srv.cur_admin & SrvAdmin.RMAINT:
            text = f"{_prefix(srv)} ('{srv.addr.host}') is {state}/{ready} (resolves again)"
        if not srv.next_admin & SrvAdmin.IMAINT and srv.cur_admin & SrvAdmin.IMAINT:
            text = f"{_prefix(srv)} is {state}/{ready} (leaving maintenance)"
        srv.cur_admin = srv.next_admin
        _emit(srv, LOG_NOTICE, text)
        be.recalc_eweight(srv)
        be.commit_lb(srv)
        _backend_down(srv, prev_count)
        if not prev_count and (be.srv_act or be.srv_bck):
            be.last_change = now
        if srv.cfg.on_marked_up_shutdown_backup and not srv.backup and srv.eweight:
            for other in be.servers:
                if other.backup:
                    _shutdown(other, "up")
    elif srv.next_admin & MAINT:
        via = f" via {srv.track.id}" if srv.track is not None else ""
        if not srv.next_admin & SrvAdmin.FMAINT and srv.cur_admin & SrvAdmin.FMAINT:
            _emit(
                srv,
                LOG_NOTICE,
                f"{_prefix(srv)} is leaving forced maintenance but remains in maintenance{via}",
            )
        if not srv.next_admin & SrvAdmin.RMAINT and srv.cur_admin & SrvAdmin.RMAINT:
            _emit(
                srv,
                LOG_NOTICE,
                f"{_prefix(srv)} ('{srv.addr.host}') resolves again but remains in maintenance{via}",
            )
        elif not srv.next_admin & SrvAdmin.IMAINT and srv.cur_admin & SrvAdmin.IMAINT:
            _emit(srv, LOG_NOTICE, f"{_prefix(srv)} remains in forced maintenance")
        srv.cur_admin = srv.next_admin

    if not srv.next_admin & MAINT:
        if not srv.cur_admin & DRAIN and srv.next_admin & DRAIN:
            srv.last_change = now
            srv.cur_admin = srv.next_admin
            be.commit_lb(srv)
            msg = [f"{_prefix(srv)} enters drain state{_cause(srv)}"]
            append_status(msg, srv, None, 0, bool(srv.next_admin & SrvAdmin.FDRAIN))
            _emit(srv, LOG_NOTICE, "".join(msg), starting_ok=False)
            _backend_down(srv, prev_count)
        elif srv.cur_admin & DRAIN and not srv.next_admin & DRAIN:
            if be.srv_act == 0 and be.srv_bck == 0:
                if be.last_change < now:
                    be.down_time += now - be.last_change
                be.last_change = now
            if srv.last_change < now:
                srv.down_time += now - srv.last_change
            srv.last_change = now
            be.recalc_eweight(srv)
            state = "DOWN" if srv.next_state is SrvState.STOPPED else "UP"
            if not srv.next_admin & SrvAdmin.FDRAIN:
                text = f"{_prefix(srv)} is {state} (leaving forced drain)"
            else:
                via = f" via {srv.track.id}" if srv.track is not None else ""
                text = f"{_prefix(srv)} is {state} (leaving drain){via}"
            srv.cur_admin = srv.next_admin
            _emit(srv, LOG_NOTICE, text)
            be.commit_lb(srv)
        elif srv.next_admin & DRAIN:
            if not srv.next_admin & SrvAdmin.FDRAIN:
                via = f" via {srv.track.id}" if srv.track is not None else ""
                text = f"{_prefix(srv)} is leaving forced drain but remains in drain mode{via}"
            else:
                text = f"{_prefix(srv)} remains in forced drain mode"
            _emit(srv, LOG_NOTICE, text)
            srv.cur_admin = srv.next_admin
        else:
            srv.cur_admin = srv.next_admin
    srv.adm_cause = ""


# -- the public transitions ------------------------------------------------------


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


def set_stopped(srv: Server, reason: str | None = None, check: Check | None = None) -> None:
    """``srv_set_stopped()``: the server is DOWN (also for its trackers)."""
    if srv.cur_admin & MAINT or srv.next_state is SrvState.STOPPED:
        return
    srv.next_state = SrvState.STOPPED
    _set_reason(srv, reason, check)
    update_status(srv)
    for tracker in list(srv.trackers):
        set_stopped(tracker)


def set_running(srv: Server, reason: str | None = None, check: Check | None = None) -> None:
    """``srv_set_running()``: the server is UP (slowstart: planned)."""
    if srv.cur_admin & MAINT:
        return
    if srv.next_state in (SrvState.STARTING, SrvState.RUNNING):
        return
    srv.next_state = SrvState.RUNNING
    _set_reason(srv, reason, check)
    update_status(srv)
    for tracker in list(srv.trackers):
        set_running(tracker)


def set_stopping(srv: Server, reason: str | None = None, check: Check | None = None) -> None:
    """``srv_set_stopping()``: the server is NOLB (e.g. disable-on-404)."""
    if srv.cur_admin & MAINT or srv.next_state is SrvState.STOPPING:
        return
    srv.next_state = SrvState.STOPPING
    _set_reason(srv, reason, check)
    update_status(srv)
    for tracker in list(srv.trackers):
        set_stopping(tracker)


def set_admin_flag(srv: Server, mode: SrvAdmin, cause: str = "") -> None:
    """``srv_set_admin_flag()``: enter maintenance or drain (propagated as IMAINT/IDRAIN)."""
    if not mode or srv.next_admin & mode:
        return
    srv.next_admin |= mode
    if cause:
        srv.adm_cause = cause
    update_status(srv)
    if (mode & MAINT and srv.next_admin & ~mode & MAINT) or (
        mode & DRAIN and srv.next_admin & ~mode & DRAIN
    ):
        return
    inherited = SrvAdmin.IMAINT if mode & MAINT else SrvAdmin.IDRAIN if mode & DRAIN else mode
    for tracker in list(srv.trackers):
        set_admin_flag(tracker, inherited, cause)


def clr_admin_flag(srv: Server, mode: SrvAdmin) -> None:
    """``srv_clr_admin_flag()``: leave maintenance or drain."""
    if not mode or not srv.next_admin & mode:
        return
    srv.next_admin &= ~mode
    update_status(srv)
    if (mode & MAINT and srv.next_admin & MAINT) or (mode & DRAIN and srv.next_admin & DRAIN):
        return
    inherited = SrvAdmin.IMAINT if mode & MAINT else SrvAdmin.IDRAIN if mode & DRAIN else mode
    for tracker in list(srv.trackers):
        clr_admin_flag(tracker, inherited)


def set_weight(srv: Server, uweight: int) -> None:
    """Change the user weight and commit it (used by the runtime API and agents later)."""
    srv.uweight = uweight
    srv.backend.recalc_eweight(srv)
    update_status(srv)
