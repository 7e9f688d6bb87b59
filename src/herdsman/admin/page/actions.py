"""The stats page's admin form, applied as 2.6 applies it (``stats.c
stats_process_http_post()``).

The form posts ``s=<server>`` for each checked server, then ``action=<what>``
and ``b=#<backend id>``. HAProxy reads the parameters from the last to the
first, so the last ``b`` and the last ``action`` win, and the servers are
taken once both are known. The result is one of the ``st=`` codes the page
shows after its redirect: ``DONE`` (every server changed), ``PART``, ``ERRP``
(nothing changed, or a bad parameter), ``NONE`` (no server named).

Every change goes through ``core/transitions.py``, as the CLI's, with the
texts HAProxy gives these causes ("changed from Web interface").
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

from herdsman.core import transitions
from herdsman.core.backend import Backend, Server
from herdsman.core.events import Cause
from herdsman.core.states import SrvAdmin

WEB = "changed from Web interface"
ACTIONS = frozenset(
    [
        "ready",
        "drain",
        "maint",
        "shutdown",
        "dhlth",
        "ehlth",
        "hrunn",
        "hnolb",
        "hdown",
        "dagent",
        "eagent",
        "arunn",
        "adown",
        "disable",
        "enable",
        "stop",
        "start",
    ]
)
KEY_MAX = 8192  # LINESIZE: a longer parameter is an error


def _apply(srv: Server, action: str, kill: Callable[[Server], None]) -> bool:
    """One server, one action; True if it was altered (a server already in the state
    asked is not counted at all, as in HAProxy)."""
    chk, agent = srv.check, srv.agent
    if action == "disable":
        if srv.cur_admin & SrvAdmin.FMAINT:
            return False
        transitions.set_admin_flag(srv, SrvAdmin.FMAINT, "'disable' on stats page")
    elif action == "enable":
        if not srv.cur_admin & SrvAdmin.FMAINT:
            return False
        transitions.clr_admin_flag(srv, SrvAdmin.FMAINT)
    elif action == "stop":
        if srv.cur_admin & SrvAdmin.FDRAIN:
            return False
        transitions.set_admin_flag(srv, SrvAdmin.FDRAIN, "'stop' on stats page")
    elif action == "start":
        if not srv.cur_admin & SrvAdmin.FDRAIN:
            return False
        transitions.clr_admin_flag(srv, SrvAdmin.FDRAIN)
    elif action in ("dhlth", "ehlth", "dagent", "eagent"):
        target = chk if action.endswith("hlth") else agent
        if target is None:
            return False  # not configured
        transitions.set_check_enabled(srv, target is agent, action[0] == "e")
    elif action in ("hrunn", "hnolb", "hdown"):
        if srv.track is not None:
            return False
        if chk is not None:
            chk.health = 0 if action == "hdown" else chk.rise + chk.fall - 1
        _force(srv, action[1:])
    elif action in ("arunn", "adown"):
        if agent is None or not agent.enabled:
            return False
        agent.health = 0 if action == "adown" else agent.rise + agent.fall - 1
        _force(srv, action[1:])
    elif action == "ready":
        transitions.adm_set_ready(srv)
    elif action == "drain":
        transitions.adm_set_drain(srv)
    elif action == "maint":
        transitions.adm_set_maint(srv)
    else:  # shutdown
        kill(srv)
    return True


def _force(srv: Server, word: str) -> None:
    if word in ("runn", "run"):
        transitions.set_running(srv, WEB, cause=Cause.OPERATOR)
    elif word == "nolb":
        transitions.set_stopping(srv, WEB, cause=Cause.OPERATOR)
    else:
        transitions.set_stopped(srv, WEB, cause=Cause.OPERATOR)


def apply_form(
    body: bytes,
    backend: Callable[[str], Backend | None],
    kill: Callable[[Server], None],
) -> str:
    """Apply a posted form; returns the ``st=`` code. ``backend`` finds a backend by
    name or ``#id``; ``kill`` shuts a server's streams down (``shutdown``)."""
    params: list[tuple[str, str]] = []
    for part in reversed(body.decode("latin-1").split("&")):
        if len(part) + 1 > KEY_MAX:
            return "ERRP"
        key, _, value = part.partition("=")
        params.append((unquote_plus(key, "latin-1"), unquote_plus(value, "latin-1")))
    be: Backend | None = None
    action = ""
    for key, value in params:
        if be is None and key == "b":
            be = backend(value)
            if be is None:
                return "ERRP"
        elif not action and key == "action":
            if value not in ACTIONS:
                return "ERRP"
            action = value
    if be is None or not action:
        return "NONE"  # the servers wait for both, which never came
    total = altered = 0
    for key, value in params:
        if key != "s":
            continue
        srv = be.find(value)
        if srv is None:
            total += 1  # unknown or ambiguous: counted, not altered
        elif _apply(srv, action, kill):
            total += 1
            altered += 1
    if total == 0:
        return "NONE"
    if altered == 0:
        return "ERRP"
    return "DONE" if altered == total else "PART"
