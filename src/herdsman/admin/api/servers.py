"""Commands that change or read one server (``server.c`` of 2.6: ``cli_parse_set_server()``,
``set weight``, ``get weight``, ``set maxconn server``, ``enable|disable server|health|agent``;
``stream.c``: ``shutdown sessions server``; spec §13.3-§13.6).

Every change goes through ``core/transitions.py``. The texts, their order
and their trailing newlines (or lack of one) are 2.6's: the weight and
maxconn parsers return some messages without a newline, the address
setters answer with an informational message.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from herdsman.admin.api.cli import PERMISSION_DENIED, Command, Level, Session, arg
from herdsman.admin.api.context import Api
from herdsman.config.model_addr import Address, Family
from herdsman.core import transitions
from herdsman.core.backend import Server
from herdsman.core.states import SrvAdmin

SET_SERVER_USAGE = (
    "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
    "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n"
)
_STRTOL = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+")


def _strtol(text: str) -> tuple[int, str] | None:
    """C ``strtol(.., 10)``: the value and the rest, None when no digit was read."""
    m = _STRTOL.match(text)
    if m is None:
        return None
    return int(m.group()), text[m.end() :]


def _server(api: Api, session: Session, spec: str) -> Server | str:
    """``cli_has_level(ADMIN)`` then ``cli_find_server()``."""
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    return api.find_server(spec)


def change_weight(srv: Server, value: str) -> str | None:
    """``server_parse_weight_change_request()``: None when applied, else the message."""
    if not value:
        return "Require <weight> or <weight%>.\n"
    parsed = _strtol(value)
    if parsed is None:
        return "Empty weight string empty or preceded by garbage"
    w, rest = parsed
    if rest == "%":
        if w < 0:
            return "Relative weight must be positive.\n"
        w = min(srv.iweight * min(w, 25600) // 100, 256)
    elif w < 0 or w > 256:
        return "Absolute weight can only be between 0 and 256 inclusive.\n"
    elif rest:
        return "Trailing garbage in weight string"
    if w and w != srv.iweight and not srv.backend.algo.dynamic:
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    transitions.set_weight(srv, w)
    return None


def change_maxconn(srv: Server, value: str) -> str | None:
    """``server_parse_maxconn_change_request()`` (no range check in 2.6: a negative
    value is a huge unsigned limit)."""
    if not value:
        return "Require <maxconn>.\n"
    parsed = _strtol(value)
    if parsed is None:
        return "maxconn string empty or preceded by garbage"
    v, rest = parsed
    if rest:
        return "Trailing garbage in maxconn string"
    transitions.set_maxconn(srv, v & 0xFFFFFFFF)
    return None


def _ip(text: str) -> Address | None:
    """``str2ip2(.., 0)``: an IPv4 or IPv6 literal, no resolution."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    fam = Family.INET6 if ip.version == 6 else Family.INET
    return Address(raw=text, family=fam, host=str(ip))


def _port(text: str) -> int | str | None:
    """``strl2irc()`` then the 0..65535 range check: the port, or the message."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return "provided port is not an integer"
    port = int(text)
    if not 0 <= port <= 65535:
        return "provided port is invalid"
    return port


def update_check(srv: Server, addr: str | None, port: str | None) -> str | None:
    """``srv_update_check_addr_port()``: None when applied, else the message."""
    if srv.check is None or not srv.check.enabled:
        return "health checks are not enabled on this server"
    new_addr = None
    if addr is not None:
        new_addr = _ip(addr)
        if new_addr is None:
            return f"invalid addr '{addr}'"
    new_port = None
    if port is not None:
        parsed = _port(port)
        if isinstance(parsed, str):
            return parsed
        if srv.addr.mapped and parsed == 0:
            return "can't unset 'port' since MAPPORTS is in use"
        new_port = parsed
    transitions.set_check_dest(srv, new_addr, new_port)
    return None


def _update_addr(srv: Server, addr: str, port: str | None) -> str:
    """``srv_update_addr_port(.., "stats socket command")`` then the RMAINT clear:
    the report line."""
    msg = _addr_port_change(srv, addr, port)
    # a new address ends an address-resolution maintenance (spec §13.5)
    transitions.clr_admin_flag(srv, SrvAdmin.RMAINT)
    return msg + " by 'stats socket command'\n"


def _addr_port_change(srv: Server, addr: str, port: str | None) -> str:
    ip = _ip(addr)
    if ip is None:
        return f"Invalid addr '{addr}'"
    cur = srv.addr
    if not cur.is_ip:
        return (
            "Update for the current server address family is only supported through "
            "configuration file"
        )
    new = cur
    if ip.family is cur.family and ip.host == cur.host:
        msg = "no need to change the addr"
    else:
        msg = f"IP changed from '{cur.host}' to '{addr}'"
        new = replace(cur, family=ip.family, host=ip.host)
    if port is not None:
        msg += ", "
        parsed = _strtol(port)
        if parsed is None:
            msg += f"problem converting port '{port}' to an int"
        else:
            value = parsed[0] & 0xFFFF  # svc_port is a uint16_t
            sign = port[:1]
            offset = sign in ("+", "-")
            if offset and not cur.mapped and not srv.check_port:
                msg += (
                    "can't change <port> to port map because it is incompatible with "
                    "current health check port configuration (use 'port' statement from "
                    "the 'server' directive."
                )
            elif (offset and not cur.mapped) or cur.port != value:
                shown = (
                    f"-{(-value) & 0xFFFF}"
                    if sign == "-"
                    else f"+{value}"
                    if offset
                    else str(value)
                )
                msg += f"port changed from '{'+' if cur.mapped else ''}{cur.port}' to '{shown}'"
                new = replace(new, port=value, mapped=offset)
            else:
                msg += "no need to change the port"
    if new != cur:
        transitions.set_addr(srv, new)
    return msg


def set_server(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    srv = _server(api, session, arg(args, 2))
    if isinstance(srv, str):
        return srv
    sub, value = arg(args, 3), arg(args, 4)
    if sub == "weight":
        return change_weight(srv, value) or ""
    if sub == "state":
        if value == "ready":
            transitions.adm_set_ready(srv)
        elif value == "drain":
            transitions.adm_set_drain(srv)
        elif value == "maint":
            transitions.adm_set_maint(srv)
        else:
            return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n"
        return ""
    if sub == "health":
        if srv.track is not None:
            return "cannot change health on a tracking server.\n"
        if value not in ("up", "stopping", "down"):
            return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
        transitions.force_health(srv, value)
        return ""
    if sub in ("agent", "agent-send"):
        # herdsman has no agent checks yet: every server is one without an agent
        return "agent checks are not enabled on this server.\n"
    if sub in ("agent-addr", "agent-port"):
        if not value:
            what = "an address and optionally a port" if sub == "agent-addr" else "a port"
            return f"set server <b>/<s> {sub} requires {what}.\n"
        return "agent checks are not enabled on this server\n"
    if sub == "check-addr":
        if not value:
            return "set server <b>/<s> check-addr requires an address and optionally a port.\n"
        port = arg(args, 6) if arg(args, 5) == "port" else None
        return update_check(srv, value, port) or ""  # cli_msg(): no LF of its own
    if sub == "check-port":
        if not value:
            return "set server <b>/<s> check-port requires a port.\n"
        return update_check(srv, None, value) or ""
    if sub == "addr":
        if not value:
            return "set server <b>/<s> addr requires an address and optionally a port.\n"
        port = arg(args, 6) if arg(args, 5) == "port" else None
        return _update_addr(srv, value, port)
    if sub == "fqdn":
        if not value:
            return "set server <b>/<s> fqdn requires a FQDN.\n"
        return "set server <b>/<s> fqdn failed because no resolution is configured.\n"
    if sub == "ssl":
        return "server ssl setting not supported.\n"
    return SET_SERVER_USAGE


def get_weight(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    srv = api.find_server(arg(args, 2))
    if isinstance(srv, str):
        return srv
    return f"{srv.uweight} (initial {srv.iweight})\n"


def set_weight(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    srv = _server(api, session, arg(args, 2))
    if isinstance(srv, str):
        return srv
    return change_weight(srv, arg(args, 3)) or ""


def set_maxconn_server(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    srv = _server(api, session, arg(args, 3))
    if isinstance(srv, str):
        return srv
    return change_maxconn(srv, arg(args, 4)) or ""


def enable_disable(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    """``enable|disable server|health|agent <b>/<s>``."""
    srv = _server(api, session, arg(args, 2))
    if isinstance(srv, str):
        return srv
    enable, what = args[0] == "enable", args[1]
    if what == "server":
        if enable:
            transitions.adm_set_ready(srv)
        else:
            transitions.adm_set_maint(srv)
        return ""
    agent = what == "agent"
    chk = srv.agent if agent else srv.check
    if enable and chk is None:
        if agent:
            return "Agent was not configured on this server, cannot enable.\n"
        return "Health check was not configured on this server, cannot enable.\n"
    transitions.set_check_enabled(srv, agent, enable)
    return ""


def shutdown_sessions(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    srv = _server(api, session, arg(args, 3))
    if isinstance(srv, str):
        return srv
    for stream in list(srv.streams):
        stream.abort()
    return ""


COMMANDS: list[Command[Api]] = [
    Command(
        ("disable", "agent"),
        "disable agent                           : disable agent checks",
        enable_disable,
    ),
    Command(
        ("disable", "health"),
        "disable health                          : disable health checks",
        enable_disable,
    ),
    Command(
        ("disable", "server"),
        "disable server (DEPRECATED)             : disable a server for maintenance "
        "(use 'set server' instead)",
        enable_disable,
    ),
    Command(
        ("enable", "agent"),
        "enable agent                            : enable agent checks",
        enable_disable,
    ),
    Command(
        ("enable", "health"),
        "enable health                           : enable health checks",
        enable_disable,
    ),
    Command(
        ("enable", "server"),
        "enable server  (DEPRECATED)             : enable a disabled server "
        "(use 'set server' instead)",
        enable_disable,
    ),
    Command(
        ("set", "maxconn", "server"),
        "set maxconn server <bk>/<srv>           : change a server's maxconn setting",
        set_maxconn_server,
    ),
    Command(
        ("set", "server"),
        "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl",
        set_server,
    ),
    Command(
        ("get", "weight"),
        "get weight <bk>/<srv>                   : report a server's current weight",
        get_weight,
    ),
    Command(
        ("set", "weight"),
        "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight "
        "(use 'set server' instead)",
        set_weight,
    ),
    Command(
        ("shutdown", "sessions", "server"),
        "shutdown sessions server <bk>/<srv>     : kill sessions on a server",
        shutdown_sessions,
    ),
]
