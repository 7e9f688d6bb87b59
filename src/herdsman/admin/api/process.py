"""Session, process and frontend commands (``cli.c``, ``proxy.c``, ``stream.c``,
``stats.c`` of 2.6): ``help``, ``prompt``, ``quit``, ``operator``, ``user``,
``experimental-mode``, ``show cli level``, ``show version``, ``set timeout cli``,
``set maxconn frontend|global``, ``set rate-limit``, ``enable|disable|shutdown
frontend``, ``clear counters``, ``show sess``, ``shutdown session``,
``show errors``.

``set rate-limit connections|sessions global`` changes the limits the
listeners apply (``maxconnrate``/``maxsessrate``); herdsman does not compress,
so only 0 is accepted for ``http-compression``.
"""

from __future__ import annotations

import time

from herdsman.admin.api.cli import PERMISSION_DENIED, Command, Level, Session, arg
from herdsman.admin.api.context import Api
from herdsman.admin.api.info import HAPROXY_VERSION
from herdsman.config.keywords import parse_int
from herdsman.config.units import UnitError, parse_time
from herdsman.core.registry import FrontendState


def _simple(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``cli_parse_simple()``: ``prompt`` toggles interactive mode, ``quit`` ends."""
    if args[0] == "prompt":
        session.prompt = not session.prompt
    else:
        session.quit = True
    return ""


def _lower_level(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``operator`` / ``user``: lower the session's level, never raise it."""
    if arg(args, 1) == "-":
        session.no_lf = True
    target = Level.OPER if args[0] == "operator" else Level.USER
    if not session.allows(target):
        return PERMISSION_DENIED
    session.level = target
    session.experimental = False
    return ""


def _experimental(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``experimental-mode [on|off]``; ``-`` as third word: no LF after the answer."""
    if arg(args, 1) and arg(args, 2) == "-":
        session.no_lf = True
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    if not arg(args, 1):
        return f"experimental-mode is {'ON' if session.experimental else 'OFF'}\n"
    session.experimental = args[1] == "on"
    return ""


def _show_level(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    return {Level.ADMIN: "admin", Level.OPER: "operator", Level.USER: "user"}[session.level] + "\n"


def _show_version(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    return f"{HAPROXY_VERSION}\n"


def _set_timeout(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``set timeout cli <delay>`` (seconds by default)."""
    if arg(args, 2) != "cli":
        return "'set timeout' only supports 'cli'.\n"
    if not arg(args, 3):
        return "Expects an integer value.\n"
    try:
        value = parse_time(args[3], "s")
    except UnitError:
        return "Invalid timeout value.\n"
    if value < 1:
        return "Invalid timeout value.\n"
    session.timeout_ms = value * 1000
    return ""


def _frontend(api: Api, session: Session, name: str) -> FrontendState | str:
    """``cli_has_level(ADMIN)`` then ``cli_find_frontend()``."""
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    if not name:
        return "A frontend name is expected.\n"
    fe = api.frontend(name)
    return fe if fe is not None else "No such frontend.\n"


def _set_maxconn_frontend(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    fe = _frontend(api, session, arg(args, 3))
    if isinstance(fe, str):
        return fe
    if not arg(args, 4):
        return "Integer value expected.\n"
    v = parse_int(args[4])
    if v < 0:
        return "Value out of range.\n"
    fe.maxconn = v
    if not fe.full and not fe.admin_paused and not fe.stopping:
        api.operator.resume_frontend(fe.name)
    return ""


def _set_maxconn_global(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    if not arg(args, 3):
        return "Expects an integer value.\n"
    proc = api.registry.process
    v = parse_int(args[3])
    if v > proc.hard_maxconn:
        return "Value out of range.\n"
    proc.maxconn = v if v > 0 else proc.hard_maxconn
    for fe in api.registry.frontends.values():
        if not fe.full and not fe.admin_paused and not fe.stopping:
            api.operator.resume_frontend(fe.name)
    return ""


def _set_rate_limit(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    what = (arg(args, 2), arg(args, 3))
    if what not in (
        ("connections", "global"),
        ("sessions", "global"),
        ("http-compression", "global"),
    ):
        return (
            "'set rate-limit' only supports :\n"
            "   - 'connections global' to set the per-process maximum connection rate\n"
            "   - 'sessions global' to set the per-process maximum session rate\n"
            "   - 'http-compression global' to set the per-process maximum compression speed "
            "in kB/s\n"
        )
    if not arg(args, 4):
        return "Expects an integer value.\n"
    v = parse_int(args[4])
    if v < 0:
        return "Value out of range.\n"
    proc = api.registry.process
    if what[0] == "connections":
        proc.cps_lim = v
    elif what[0] == "sessions":
        proc.sps_lim = v
    elif v:
        return "herdsman does not compress (HTTP compression is not implemented).\n"
    # dequeue_all_listeners(): listeners paused by a limit try again
    for fe in api.registry.frontends.values():
        if not fe.admin_paused and not fe.stopping:
            api.operator.resume_frontend(fe.name)
    return ""


def _frontend_state(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``enable|disable|shutdown frontend <name>``."""
    fe = _frontend(api, session, arg(args, 2))
    if isinstance(fe, str):
        return fe
    verb = args[0]
    if verb == "shutdown":
        if fe.stopping:
            return "Frontend was already shut down.\n"
        api.operator.stop_frontend(fe.name)
        return ""
    if verb == "disable":
        if fe.stopping:
            return "Frontend was previously shut down, cannot disable.\n"
        if fe.admin_paused:
            return "All sockets are already disabled.\n"
        api.operator.pause_frontend(fe.name)
        return ""
    if fe.stopping:
        return "Frontend was previously shut down, cannot enable.\n"
    if not fe.admin_paused:
        return "All sockets are already enabled.\n"
    api.operator.resume_frontend(fe.name)
    return ""


def _clear_counters(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``clear counters [all]``: the maxima (operator), or everything (admin)."""
    everything = arg(args, 2) == "all"
    if not session.allows(Level.OPER) or (everything and not session.allows(Level.ADMIN)):
        return PERMISSION_DENIED
    reg = api.registry
    for fe in reg.frontends.values():
        fe.counters.clear(everything)
    for be in reg.backends.values():
        be.counters.clear(everything)
        for srv in be.servers:
            srv.counters.clear(everything)
    reg.process.counters.clear(everything)
    return ""


def _human_time(seconds: int) -> str:
    """``human_time(t, 1)``: at most two units, e.g. ``3s``, ``1m20s``, ``2h3m``, ``1d5h``."""
    if seconds < 60:
        return f"{seconds}s"
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    if d:
        return f"{d}d{h}h" if h else f"{d}d"
    if h:
        return f"{h}h{m}m" if m else f"{h}h"
    return f"{m}m{s}s" if s else f"{m}m"


def _show_sess(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``show sess``: herdsman's streams with what they have (addresses, proxies,
    server, age); HAProxy's internal fields (flags, buffers, timers) do not exist here."""
    if not session.allows(Level.OPER):
        return PERMISSION_DENIED
    target = arg(args, 2)
    out = []
    for st in api.operator.streams():
        if target and target != "all" and _strtoul0(target) != st.ident:
            continue
        out.append(
            f"0x{st.ident:x}: proto={st.proto} src={st.src} fe={st.frontend} "
            f"be={st.backend} srv={st.server} age={_human_time(st.age_s)}\n"
        )
    if target and target != "all" and not out:
        return "Session not found.\n"
    return "".join(out)


def _shutdown_session(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    ident = _strtoul0(arg(args, 2))
    if not ident:
        return "Session pointer expected (use 'show sess').\n"
    if not api.operator.kill_stream(ident):
        return "No such session (use 'show sess').\n"
    return ""


def _strtoul0(text: str) -> int:
    """``strtoul(.., 0)``: decimal, 0x hexadecimal or 0 octal; 0 when unreadable."""
    try:
        return int(text, 0)
    except ValueError:
        return 0


def _show_errors(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``show errors``: herdsman captures no protocol error yet (HTTP mode), so the
    answer is HAProxy's for none: the header with the current date and 0."""
    if not session.allows(Level.OPER):
        return PERMISSION_DENIED
    if arg(args, 2):
        px = api.config.proxy(args[2])
        if (px.uuid if px is not None else parse_int(args[2])) == 0:
            return "No such proxy.\n"
    now = time.time()
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S", time.localtime(now))
    return f"Total events captured on [{stamp}.{int(now * 1000) % 1000:03d}] : 0\n"


# "help" is no command of its own: Cli.usage() answers it, as cli_gen_usage_msg() does
COMMANDS: list[Command[Api]] = [
    Command(("prompt",), None, _simple),
    Command(("quit",), None, _simple),
    Command(("experimental-mode",), None, _experimental),
    Command(
        ("operator",),
        "operator                                : lower the level of the current CLI session "
        "to operator",
        _lower_level,
    ),
    Command(
        ("user",),
        "user                                    : lower the level of the current CLI session "
        "to user",
        _lower_level,
    ),
    Command(
        ("show", "cli", "level"),
        "show cli level                          : display the level of the current CLI session",
        _show_level,
    ),
    Command(
        ("show", "version"),
        "show version                            : show version of the current process",
        _show_version,
    ),
    Command(
        ("set", "timeout"),
        "set timeout [cli] <delay>               : change a timeout setting",
        _set_timeout,
    ),
    Command(
        ("set", "maxconn", "frontend"),
        "set maxconn frontend <frontend> <value> : change a frontend's maxconn setting",
        _set_maxconn_frontend,
    ),
    Command(
        ("set", "maxconn", "global"),
        "set maxconn global <value>              : change the per-process maxconn setting",
        _set_maxconn_global,
    ),
    Command(
        ("set", "rate-limit"),
        "set rate-limit <setting> <value>        : change a rate limiting value",
        _set_rate_limit,
    ),
    Command(
        ("disable", "frontend"),
        "disable frontend <frontend>             : temporarily disable specific frontend",
        _frontend_state,
    ),
    Command(
        ("enable", "frontend"),
        "enable frontend <frontend>              : re-enable specific frontend",
        _frontend_state,
    ),
    Command(
        ("shutdown", "frontend"),
        "shutdown frontend <frontend>            : stop a specific frontend",
        _frontend_state,
    ),
    Command(
        ("clear", "counters"),
        "clear counters [all]                    : clear max statistics counters (or all counters)",
        _clear_counters,
    ),
    Command(
        ("show", "sess"),
        "show sess [id]                          : report the list of current sessions or dump "
        "this exact session",
        _show_sess,
    ),
    Command(
        ("shutdown", "session"),
        "shutdown session [id]                   : kill a specific session",
        _shutdown_session,
    ),
    Command(
        ("show", "errors"),
        "show errors [<px>] [request|response]   : report last request and/or response errors "
        "for each proxy",
        _show_errors,
    ),
]
