"""What a finished check does to its server (``check.c set_server_check_status()``,
``check_notify_*()``, ``__health_adjust()``; spec §4.3, §4.7, §4.9).

Rule: the health counter lives in ``[0, rise+fall-1]``; "up as seen by this
check" means ``health >= rise``. A success snaps to fully up once rise is
reached, a failure snaps to 0 once below rise. Only then is the server's state
changed, through ``core/transitions.py``.
"""

from __future__ import annotations

from herdsman.checks.custom import reports
from herdsman.checks.target import CheckResult, check_desc
from herdsman.config.model import Observe, OnError
from herdsman.core import transitions
from herdsman.core.backend import Check
from herdsman.core.events import CheckEvent
from herdsman.core.messages import append_status
from herdsman.core.states import MAINT, SrvState
from herdsman.defs.levels import LOG_NOTICE
from herdsman.defs.status import HanaEvent, Result, Status


def _logs_checks(check: Check) -> bool:
    return check.server.backend.cfg.option("log-health-checks")


def set_status(
    check: Check,
    status: Status,
    desc: str = "",
    code: int | None = None,
    duration: int | None = None,
) -> None:
    """Record a result and move the health counter; log it if it changed."""
    srv = check.server
    prev_status = check.status
    check.desc = check_desc(desc)
    check.status = status
    if code is not None:
        check.code = code
    if status.result is not Result.UNKNOWN:
        check.result = status.result
    if status is Status.HANA:
        check.duration = -1
    elif duration is not None:
        check.duration = duration
    if check.result is Result.NEUTRAL:
        return
    report = False
    if check.result is Result.FAILED:
        # An agent that cannot be reached never takes a server down (§4.3).
        if (not check.agent or status > Status.L57DATA) and check.health > 0:
            srv.counters.failed_checks += 1
            report = True
            check.health -= 1
            if check.health < check.rise:
                check.health = 0
    elif check.result in (Result.PASSED, Result.CONDPASS):
        if check.health < check.rise + check.fall - 1:
            report = True
            check.health += 1
            if check.health >= check.rise:
                check.health = check.rise + check.fall - 1
        srv.consecutive_errors = 0
    if _logs_checks(check) and (status != prev_status or report):
        msg = [
            f"{'Agent' if check.agent else 'Health'} check for {'backup ' if srv.backup else ''}"
            f"server {srv.id} {'conditionally ' if check.result is Result.CONDPASS else ''}"
            f"{'succeeded' if check.result in (Result.PASSED, Result.CONDPASS) else 'failed'}"
        ]
        append_status(msg, srv, check, -1, False)
        a, b, up = check.state_word()
        word = ("UP" if srv.uweight else "DRAIN") if up else "DOWN"
        msg.append(f", status: {a}/{b} {word}")
        text = "".join(msg) + "."
        srv.backend.hooks.warning(text)
        srv.backend.hooks.log(srv.backend, LOG_NOTICE, text)


def _reason_check(check: Check) -> Check | None:
    """The check whose result is quoted in the DOWN/UP line, if any (§4.9)."""
    srv = check.server
    if srv.track is None and not _logs_checks(check):
        return check
    return None


def notify(check: Check) -> None:
    """``check_notify_failure/success/stopping()`` after a completed check."""
    srv = check.server
    if check.result is Result.FAILED:
        if check.agent and check.status is not Status.L7STS:
            return
        if check.health > 0:
            return
        transitions.set_stopped(srv, None, _reason_check(check))
        return
    if check.result not in (Result.PASSED, Result.CONDPASS):
        return
    if srv.next_admin & MAINT:
        return
    if srv.track is not None and srv.track.next_state is SrvState.STOPPED:
        return
    for chk in (srv.check, srv.agent):
        if chk is not None and chk.enabled and chk.health < chk.rise:
            return
    if check.result is Result.CONDPASS:
        if check.agent:
            return
        transitions.set_stopping(srv, None, _reason_check(check))
        return
    if check.agent and srv.next_state is SrvState.STOPPING:
        return
    transitions.set_running(srv, None, _reason_check(check))


def complete(check: Check, result: CheckResult) -> None:
    """A check run ended with ``result``: counter, log, server state, event.

    A protocol check's built-in expect may have reported a success before the
    run's end (``checks/custom.py``): each report moves the counter and is
    published, as in 2.6.
    """
    for step in reports(result):
        set_status(check, step.status, step.desc, step.code, step.duration_ms)
        publish(check)  # before the state change it may cause: histories read in order
    notify(check)


def publish(check: Check) -> None:
    """Tell the hooks (the health history) where this result left the check."""
    srv = check.server
    be = srv.backend
    status = check.status
    be.hooks.checked(
        CheckEvent(
            backend=be.name,
            server=srv.name,
            agent=check.agent,
            at_ms=be.clock.now_ms(),
            status=status.short,
            code=check.code if status > Status.L57DATA else None,
            duration_ms=check.duration,
            desc=check.desc,
            health=check.health,
            rise=check.rise,
            fall=check.fall,
        )
    )


def adjust(check: Check, event: HanaEvent) -> int | None:
    """``__health_adjust()``: passive health from live traffic (spec §4.7).

    Returns the absolute time (ms) at which the next check should run when the
    error limit was reached and ``fastinter`` is set, else None.
    """
    srv = check.server
    cfg = srv.cfg
    if cfg.observe is Observe.NONE:
        return None
    effect = event.effect(4 if cfg.observe is Observe.LAYER4 else 7)
    if effect == 0:
        return None
    if effect == 2:
        srv.consecutive_errors = 0
        return None
    srv.consecutive_errors += 1
    if srv.consecutive_errors < cfg.error_limit:
        return None
    desc = (
        f"Detected {srv.consecutive_errors} consecutive errors, last one was: {event.description}"
    )
    if cfg.on_error is OnError.SUDDEN_DEATH and check.health > check.rise:
        check.health = check.rise + 1
    if cfg.on_error is OnError.MARK_DOWN:
        check.health = check.rise
    if cfg.on_error is not OnError.FASTINTER:
        set_status(check, Status.HANA, desc)
        publish(check)
        notify(check)
    srv.consecutive_errors = 0
    srv.counters.failed_hana += 1
    if check.fastinter:
        return srv.backend.clock.now_ms() + check.fastinter
    return None
