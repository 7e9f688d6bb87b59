"""Every server state change goes through here (``server.c`` 2.6: ``srv_set_stopped``,
``srv_set_running``, ``srv_set_stopping``, ``srv_set_admin_flag``,
``srv_clr_admin_flag``, the weight and limit setters, and the commit function
``srv_update_status``).

Callers set the *next* state; ``core/commit.py`` commits it (its tables say
what each transition does and writes). The functions here then propagate
the change to tracking servers and publish one ``ServerEvent`` per committed
change through the backend's hooks.

The texts are HAProxy's, character for character (spec §4.10, §11.1 and the
verbatim lists of ``observed-2.6.12-checks.md``), quirks included (leaving
an inherited drain reads "leaving forced drain", as in 2.6).
"""

from __future__ import annotations

from herdsman.config.model_addr import Address, Family
from herdsman.core import lbprm
from herdsman.core.backend import Check, Server
from herdsman.core.commit import update_status
from herdsman.core.events import Cause, ServerEvent
from herdsman.core.states import DRAIN, MAINT, SrvAdmin, SrvState

# -- the public transitions ------------------------------------------------------

_Snapshot = tuple[SrvState, SrvAdmin, int, int, int]


def _snapshot(srv: Server) -> _Snapshot:
    return srv.cur_state, srv.cur_admin, srv.uweight, srv.eweight, srv.maxconn


def _publish(
    srv: Server, before: _Snapshot, cause: Cause, messages: list[str], detail: str = ""
) -> None:
    """One ``ServerEvent`` for the committed change, if anything changed."""
    after = _snapshot(srv)
    if after == before and not messages and not detail:
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
            detail=detail,
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


def _set_state(
    srv: Server,
    state: SrvState,
    already: tuple[SrvState, ...],
    reason: str | None,
    check: Check | None,
    cause: Cause,
) -> None:
    """The body of ``srv_set_stopped/running/stopping()``: nothing in maintenance
    or when the server is already in one of ``already``; then its trackers."""
    if srv.cur_admin & MAINT or srv.next_state in already:
        return
    before = _snapshot(srv)
    srv.next_state = state
    _set_reason(srv, reason, check)
    _commit_change(srv, before, _cause_of(check, cause))
    for tracker in list(srv.trackers):
        _set_state(tracker, state, already, None, None, Cause.TRACK)


def set_stopped(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_stopped()``: the server is DOWN (also for its trackers)."""
    _set_state(srv, SrvState.STOPPED, (SrvState.STOPPED,), reason, check, cause)


def set_running(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_running()``: the server is UP, STARTING first under ``slowstart``."""
    if srv.cur_admin & MAINT:
        return
    if srv.next_state in (SrvState.STARTING, SrvState.RUNNING):
        return
    before = _snapshot(srv)
    srv.next_state = SrvState.STARTING if srv.slowstart_s > 0 else SrvState.RUNNING
    _set_reason(srv, reason, check)
    _commit_change(srv, before, _cause_of(check, cause))
    for tracker in list(srv.trackers):
        set_running(tracker, cause=Cause.TRACK)


def set_stopping(
    srv: Server, reason: str | None = None, check: Check | None = None, cause: Cause = Cause.HEALTH
) -> None:
    """``srv_set_stopping()``: the server is NOLB (e.g. disable-on-404)."""
    _set_state(srv, SrvState.STOPPING, (SrvState.STOPPING,), reason, check, cause)


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
    lbprm.recalc_eweight(srv)
    _commit_change(srv, before, cause)


def adm_set_ready(srv: Server, cause: Cause = Cause.OPERATOR) -> None:
    """``srv_adm_set_ready()``: leave forced drain, then forced maintenance."""
    clr_admin_flag(srv, SrvAdmin.FDRAIN, cause)
    clr_admin_flag(srv, SrvAdmin.FMAINT, cause)


def adm_set_drain(srv: Server, cause: Cause = Cause.OPERATOR) -> None:
    """``srv_adm_set_drain()``: enter forced drain, then leave forced maintenance."""
    set_admin_flag(srv, SrvAdmin.FDRAIN, cause=cause)
    clr_admin_flag(srv, SrvAdmin.FMAINT, cause)


def adm_set_maint(srv: Server, cause: Cause = Cause.OPERATOR) -> None:
    """``srv_adm_set_maint()``: enter forced maintenance, then leave forced drain."""
    set_admin_flag(srv, SrvAdmin.FMAINT, cause=cause)
    clr_admin_flag(srv, SrvAdmin.FDRAIN, cause)


def force_health(srv: Server, word: str, cause: Cause = Cause.OPERATOR) -> None:
    """``set server <b>/<s> health up|stopping|down``: the check's counter is forced
    (fully up, or 0) and the state follows, "changed from CLI" (spec §13.5)."""
    chk = srv.check
    if chk is not None:
        chk.health = 0 if word == "down" else chk.rise + chk.fall - 1
    if word == "up":
        set_running(srv, "changed from CLI", cause=cause)
    elif word == "stopping":
        set_stopping(srv, "changed from CLI", cause=cause)
    else:
        set_stopped(srv, "changed from CLI", cause=cause)


def set_check_enabled(srv: Server, agent: bool, enabled: bool) -> None:
    """``enable|disable health|agent``: the check's "enabled" bit only; the server's
    state does not change by itself (spec §13.6)."""
    chk = srv.agent if agent else srv.check
    if chk is None or chk.enabled is enabled:
        return
    before = _snapshot(srv)
    chk.enabled = enabled
    what = "agent" if agent else "health"
    _publish(
        srv, before, Cause.OPERATOR, [], f"{what} check {'enabled' if enabled else 'disabled'}"
    )


def set_maxconn(srv: Server, maxconn: int, cause: Cause = Cause.OPERATOR) -> None:
    """``server_parse_maxconn_change_request()``: a static limit (minconn == maxconn)
    moves both, a dynamic one only maxconn (spec §13.4).

    Then, as ``may_dequeue_tasks()`` allows, the server takes waiters from its
    queue and the backend's (``process_srv_queue()``).
    """
    before = _snapshot(srv)
    if srv.maxconn == srv.minconn:
        srv.minconn = maxconn
    srv.maxconn = maxconn
    be = srv.backend
    if (srv.nbpend or (be.queue.length and srv.is_usable())) and (
        not srv.maxconn or srv.served < be.limit(srv)
    ):
        be.process_queue(srv)
    _publish(srv, before, cause, [])


def warmup_step(srv: Server) -> bool:
    """``server_warmup()``: one slow-start step of a STARTING server (spec §10.3).

    The effective weight is recomputed for the seconds elapsed (the server
    becomes RUNNING, logging "is UP" again as 2.6 does, once ``slowstart`` has
    passed), the balancer sees it, and the server takes what its grown limit
    allows from the backend queue. Returns whether it is still STARTING (the
    caller steps it again a second later).
    """
    if srv.next_admin & MAINT or srv.next_state is not SrvState.STARTING:
        return False
    before = _snapshot(srv)
    lbprm.recalc_eweight(srv)
    _commit_change(srv, before, Cause.SLOWSTART)
    srv.backend.grab_backend_queue(srv)
    return srv.next_state is SrvState.STARTING


def set_addr(srv: Server, addr: Address, cause: Cause = Cause.OPERATOR) -> None:
    """``set server <b>/<s> addr``: new destination for new connections; the
    check follows unless it has its own address (spec §13.5)."""
    old = srv.addr
    if addr == old:
        return
    before = _snapshot(srv)
    srv.addr = addr
    srv.addr_gen += 1
    _publish(srv, before, cause, [], f"addr {_addr_text(old)} -> {_addr_text(addr)}")


def set_check_dest(
    srv: Server, addr: Address | None, port: int | None, cause: Cause = Cause.OPERATOR
) -> None:
    """``set server <b>/<s> check-addr|check-port``: where the health check connects."""
    before = _snapshot(srv)
    parts = []
    if addr is not None:
        srv.check_addr = addr
        parts.append(f"check-addr {addr.host}")
    if port is not None:
        srv.check_port = port
        parts.append(f"check-port {port}")
    srv.addr_gen += 1
    _publish(srv, before, cause, [], ", ".join(parts))


def add_server(srv: Server) -> None:
    """``add server``: the server joins its backend DOWN in forced maintenance, its
    checks disabled until ``enable health`` (spec §13.7)."""
    srv.cur_admin = srv.next_admin = SrvAdmin.FMAINT
    srv.cur_state = srv.next_state = SrvState.STOPPED
    srv.last_change = srv.backend.clock.now_s()
    for chk in (srv.check, srv.agent):
        if chk is not None:
            chk.health = 0
    lbprm.insert_server(srv)
    _publish(srv, (SrvState.STOPPED, SrvAdmin.NONE, 0, 0, 0), Cause.OPERATOR, [], "added")


def del_server(srv: Server) -> None:
    """``del server``: the server (in maintenance, idle) leaves its backend."""
    if srv.track is not None and srv in srv.track.trackers:
        srv.track.trackers.remove(srv)
    before = _snapshot(srv)
    lbprm.remove_server(srv)
    _publish(srv, before, Cause.OPERATOR, [], "deleted")


def _addr_text(addr: Address) -> str:
    if addr.family is Family.INET6:
        return f"[{addr.host}]:{'+' if addr.mapped and addr.port else ''}{addr.port}"
    if addr.is_ip:
        return f"{addr.host}:{'+' if addr.mapped and addr.port else ''}{addr.port}"
    return addr.raw


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
