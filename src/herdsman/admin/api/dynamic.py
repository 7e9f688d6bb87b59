"""``add server`` and ``del server`` (``server.c cli_parse_add_server()``,
``cli_parse_delete_server()`` of 2.6; spec §13.7).

A dynamic server takes no ``default-server`` setting: it starts with weight
1, inter 2s, rise 2, fall 3, DOWN in forced maintenance, its checks created
disabled. Only the keywords 2.6 marks "dynamic OK" are accepted, with 2.6's
message for the others; the backend must use a dynamic algorithm. A server
can be deleted when it is in maintenance, has no stream and nothing tracks it.
Messages are HAProxy's, newlines included (``ha_alert()`` adds one, the
``cli_err()`` texts of these two commands have none).
"""

from __future__ import annotations

from herdsman.admin.api.cli import PERMISSION_DENIED, Command, Level, Session, arg
from herdsman.admin.api.context import Api
from herdsman.config.address import parse_address
from herdsman.config.diag import NOWHERE, ConfigError, Diagnostics
from herdsman.config.keywords import Ctx, Support
from herdsman.config.kw_server import KEYWORDS, SrvCtx
from herdsman.config.model import ServerConfig
from herdsman.config.model_addr import Family
from herdsman.core import transitions
from herdsman.core.backend import Backend, Server
from herdsman.core.states import MAINT
from herdsman.defs.words import best_match

# srv_kws[] rows with dynamic_ok = 0 in 2.6 (server.c, check.c)
NOT_DYNAMIC = frozenset(
    {
        "cookie", "init-addr", "log-proto", "max-reuse", "namespace", "non-stick", "redir",
        "resolve-net", "resolve-opts", "resolve-prefer", "resolvers", "stick", "socks4",
        "no-agent-check", "no-check", "no-check-send-proxy",
    }
)  # fmt: skip


def _split(spec: str) -> tuple[str, str] | None:
    """The backend/server split of both commands: the first character is never the '/'."""
    pos = spec.find("/", 1)
    if pos < 0 or pos == len(spec) - 1:
        return None
    return spec[:pos], spec[pos + 1 :]


def _locate(api: Api, session: Session, args: list[str]) -> tuple[Backend, tuple[str, str]] | str:
    """The level check, then the backend of ``<backend>/<server>`` (both commands)."""
    if not session.allows(Level.ADMIN):
        return PERMISSION_DENIED
    names = _split(arg(args, 2))
    if names is None:
        return "Require 'backend/server'."
    be = api.backend(names[0])
    if be is None:
        return "No such backend."
    return be, names


def _parse(api: Api, px_name: str, name: str, args: list[str]) -> ServerConfig | str:
    """``_srv_parse_init()`` + ``_srv_parse_kw()`` + ``_srv_parse_finalize()`` for a
    dynamic server: the server, or the error line."""
    if not name or not arg(args, 2):
        return "'server' expects <name> and <addr>[:<port>] as arguments.\n"
    bad = next((c for c in name if not (c.isascii() and (c.isalnum() or c in "._:-"))), None)
    if bad is not None:
        return f"character '{bad}' is not permitted in server name '{name}'.\n"
    srv = ServerConfig(name=name)
    try:
        srv.addr = parse_address(args[2], "server")
    except ConfigError as err:
        return err.message.rstrip("\n") + "\n"
    if srv.addr.family is Family.HOSTNAME:
        return (
            f"'{args[2]}': herdsman resolves no host name for a dynamic server "
            "(HAProxy 2.6 does not either); give an IP address.\n"
        )
    px = api.config.proxy(px_name)
    assert px is not None
    sc = SrvCtx(Ctx(Diagnostics(), NOWHERE, api.config, "backend", px), srv, px, False)
    cur = 3
    while cur < len(args) and args[cur]:
        word = args[cur]
        row = KEYWORDS.get(word)
        if row is None:
            best = best_match(word, KEYWORDS)
            hint = f"; did you mean '{best}' maybe ?" if best else "."
            return f"unknown keyword '{word}'{hint}\n"
        value = args[cur + 1] if row.nargs > 0 and cur + 1 < len(args) else ""
        cur += 1 + max(row.nargs, 0)
        if word in NOT_DYNAMIC:
            return f"'{word}' option is not accepted for dynamic server\n"
        if row.parse is None or row.support is not Support.IMPLEMENTED:
            return f"'{word}' is not supported by herdsman on a dynamic server.\n"
        try:
            row.parse(sc, word, value)
        except ConfigError as err:
            return f"'{word}' : {err.message.rstrip(chr(10))}\n"
    if srv.check and srv.track:
        return "unable to enable checks and tracking at the same time!\n"
    return srv


def _add_server(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    found = _locate(api, session, args)
    if isinstance(found, str):
        return found
    be, names = found
    if not be.algo.dynamic:
        return "Backend must use a dynamic load balancing to support dynamic servers."
    cfg = _parse(api, be.name, names[1], args[1:])
    if isinstance(cfg, str):
        return cfg
    track = None
    if cfg.track:
        pname, _, sname = cfg.track.rpartition("/")
        tbe = api.backend(pname) if pname else be
        if tbe is None:
            return f"unable to find required proxy '{pname}' for tracking.\n"
        track = tbe.find(sname)
        if track is None:
            return f"unable to find required server '{sname}' for tracking.\n"
        if track.cfg.loc is NOWHERE:
            return (
                f"unable to use {tbe.name}/{track.name} for tracking as it is a dynamic server.\n"
            )
        if track.check is None and track.track is None:
            return (
                f"unable to use {tbe.name}/{track.name} for tracking as it does not have any "
                "check nor agent enabled.\n"
            )
    if be.find(cfg.name) is not None:
        return "Already exists a server with the same name in backend.\n"
    if not cfg.puid:
        used = {s.puid for s in be.servers}
        cfg.puid = next(i for i in range(1, len(used) + 2) if i not in used)
    srv = Server(be, cfg)
    if track is not None:
        srv.track = track
        track.trackers.append(srv)
    api.operator.attach_checks(srv)
    transitions.add_server(srv)
    return "New server registered.\n"


def _del_server(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    found = _locate(api, session, args)
    if isinstance(found, str):
        return found
    be, names = found
    srv = be.find(names[1])
    if srv is None:
        return "No such server."
    if srv.trackers:
        return (
            "This server cannot be removed at runtime due to other configuration elements "
            "pointing to it."
        )
    if not srv.cur_admin & MAINT:
        return "Only servers in maintenance mode can be deleted."
    if srv.served or srv.nbpend:
        return "Server still has connections attached to it, cannot remove it."
    api.operator.detach_checks(srv)
    transitions.del_server(srv)
    api.history.forget(be.name, srv.name)
    return "Server deleted."


COMMANDS: list[Command[Api]] = [
    Command(
        ("add", "server"),
        "add server <bk>/<srv>                   : create a new server",
        _add_server,
    ),
    Command(
        ("del", "server"),
        "del server <bk>/<srv>                   : remove a dynamically added server",
        _del_server,
    ),
]
