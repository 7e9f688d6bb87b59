"""The runtime API's keywords: ``stats socket|timeout|maxconn`` (global, ``cli.c
cli_parse_global()``) and the server-state file keywords (``server-state-base``,
``server-state-file``, ``load-server-state-from-file``, ``server-state-file-name``;
``cfgparse-global.c``, ``cfgparse-listen.c``).

A ``stats socket`` takes an address as a ``bind`` line does (a UNIX path,
``ipv4@``, ``abns@``, ``fd@``...) and the bind keywords, plus the CLI's own:
``level user|operator|admin`` (default operator), ``expose-fd listeners`` and
``severity-output``. Any ``stats`` line creates HAProxy's internal "GLOBAL"
frontend, which takes proxy id 0 and shifts the automatic ids of the other
proxies by one (``check_config_validity()``).
"""

from __future__ import annotations

from herdsman.config import kw_bind
from herdsman.config.address import invalid_address_message, parse_address
from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import Ctx, Keyword, Support, arg, warn_if_not_cap
from herdsman.config.model import BindConfig, Cap, StatsSocket
from herdsman.config.model_addr import Family
from herdsman.config.resolve import resolve_now
from herdsman.config.units import UnitError, parse_time
from herdsman.defs.words import best_match

# the CLI's own bind keywords (cli.c bind_kws), beside the listeners' ones
_CLI_KEYWORDS = ("level", "expose-fd", "severity-output")


def _level(sock: StatsSocket, kw: str, value: str) -> None:
    if not value:
        raise ConfigError(f"'{kw}' : missing level")
    if value not in ("user", "operator", "admin"):
        raise ConfigError(f"'{kw}' only supports 'user', 'operator', and 'admin' (got '{value}')")
    sock.level = value


def _expose_fd(sock: StatsSocket, kw: str, value: str) -> None:
    if not value:
        raise ConfigError(f"'{kw}' : missing fd type")
    if value != "listeners":
        raise ConfigError(f"'{kw}' only supports 'listeners' (got '{value}')")
    sock.expose_fd_listeners = True


def _socket(ctx: Ctx, args: list[str]) -> None:
    g = ctx.global_
    what = f"'{args[0]} {args[1]}'"
    if not arg(args, 2):
        raise ConfigError(f"{what} in global section expects an address or a path to a UNIX socket")
    g.cli_frontend = True
    try:
        addr = parse_address(args[2], "bind", env=ctx.env)
    except ConfigError as err:
        raise ConfigError(
            f"{ctx.loc.parsing}{what} : {err.message.removesuffix(chr(10))}\n"
        ) from None
    if addr.family is Family.HOSTNAME:
        resolved = resolve_now(addr)
        if resolved is None:
            raise ConfigError(
                f"{ctx.loc.parsing}{what} : {invalid_address_message(addr).removesuffix(chr(10))}\n"
            )
        addr = resolved
    if addr.is_ip and addr.port_end and addr.port_end != addr.port:
        raise ConfigError(f"{what} : port ranges are not supported on a stats socket")
    sock = StatsSocket(BindConfig(addr=addr, loc=ctx.loc))
    cur = 3
    names = list(kw_bind.KEYWORDS) + list(_CLI_KEYWORDS)
    while cur < len(args) and args[cur]:
        word = args[cur]
        value = arg(args, cur + 1)
        if word in _CLI_KEYWORDS:
            cur += 2
            try:
                if word == "level":
                    _level(sock, word, value)
                elif word == "expose-fd":
                    _expose_fd(sock, word, value)
                else:
                    raise ConfigError(
                        f"{what} : 'severity-output' is not implemented in herdsman yet "
                        "(runtime API and stats); remove it or use haproxy."
                    )
            except ConfigError as err:
                if err.message.startswith(what):
                    raise
                raise ConfigError(f"{what} : '{err.message}'") from None
            continue
        row = kw_bind.KEYWORDS.get(word)
        if row is None:
            best = best_match(word, names)
            hint = f". Did you mean '{best}' maybe ?" if best else "."
            raise ConfigError(f"{what} : unknown keyword '{word}'{hint}")
        cur += 1 + row.nargs
        if row.parse is None or row.support is not Support.IMPLEMENTED:
            raise ConfigError(
                f"{what} : '{word}' is not supported on a stats socket by herdsman; "
                "remove it or use haproxy."
            )
        try:
            row.parse(sock.bind, word, value if row.nargs else "", 1)
        except ConfigError as err:
            raise ConfigError(f"{what} : '{err.message}'") from None
    g.stats_sockets.append(sock)


def kw_stats(ctx: Ctx, args: list[str]) -> None:
    """``stats socket|timeout|maxconn|bind-process`` in the global section."""
    g = ctx.global_
    sub = arg(args, 1)
    what = f"'{args[0]} {sub}'"
    if sub == "socket":
        _socket(ctx, args)
    elif sub == "timeout":
        try:
            value = parse_time(arg(args, 2))
        except UnitError as err:
            if err.kind == "overflow":
                raise ConfigError(
                    f"timer overflow in argument '{args[2]}' to {what} (maximum value is "
                    "2147483647 ms or ~24.8 days)"
                ) from None
            if err.kind == "underflow":
                raise ConfigError(
                    f"timer underflow in argument '{args[2]}' to {what} (minimum non-null "
                    "value is 1 ms)"
                ) from None
            raise ConfigError(f"{what} : unexpected character '{err.char}'") from None
        if not value:
            raise ConfigError(f"{what} expects a positive value")
        g.cli_frontend = True
        g.stats_timeout = value
    elif sub == "maxconn":
        from herdsman.config.keywords import parse_int

        value = parse_int(arg(args, 2))
        if value <= 0:
            raise ConfigError(f"{what} expects a positive value")
        g.cli_frontend = True
        g.stats_maxconn = value
    elif sub == "bind-process":
        g.cli_frontend = True  # one process: nothing to bind to
    else:
        raise ConfigError(
            f"'{args[0]}' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' "
            f"(got '{sub}')"
        )


def kw_state_path(ctx: Ctx, args: list[str]) -> None:
    """``server-state-base <dir>`` / ``server-state-file <file>``."""
    g = ctx.global_
    field = "server_state_base" if args[0] == "server-state-base" else "server_state_file"
    if getattr(g, field) is not None:
        ctx.alert(f"'{args[0]}' already specified. Continuing.", Err.ALERT)
        return
    if not arg(args, 1):
        what = (
            "one argument: a directory path"
            if field == "server_state_base"
            else ("one argument: a file path")
        )
        verb = "expects" if field == "server_state_base" else "expect"  # sic
        ctx.alert(f"'{args[0]}' {verb} {what}.", Err.FATAL)
        return
    setattr(g, field, args[1])


def kw_load_state(ctx: Ctx, args: list[str]) -> None:
    """``load-server-state-from-file global|local|none``."""
    warn_if_not_cap(ctx, Cap.BE, args[0])
    value = arg(args, 1)
    if value not in ("global", "local", "none"):
        ctx.alert(f"'{args[0]}' expects 'global', 'local' or 'none'. Got '{value}'")
        return
    ctx.px.load_server_state_from_file = value


def kw_state_file_name(ctx: Ctx, args: list[str]) -> None:
    """``server-state-file-name [<name>|use-backend-name]``."""
    from herdsman.config.keywords import too_many_args

    warn_if_not_cap(ctx, Cap.BE, args[0])
    text = too_many_args(args, 1)
    if text is not None:
        ctx.alert(text)
        return
    value = arg(args, 1)
    px = ctx.px
    px.server_state_file_name = px.name if value in ("", "use-backend-name") else value


GLOBAL_KEYWORDS = [
    Keyword(
        "stats",
        kw_stats,
        ("global",),
        Support.IMPLEMENTED,
        doc="`socket` (the runtime API: UNIX path, ipv4@, abns@, fd@; level, mode, uid, gid, "
        "user, group, expose-fd), `timeout`, `maxconn`",
    ),
    Keyword(
        "server-state-base",
        kw_state_path,
        ("global",),
        Support.IMPLEMENTED,
        doc="directory of relative server-state file names",
    ),
    Keyword(
        "server-state-file",
        kw_state_path,
        ("global",),
        Support.IMPLEMENTED,
        doc="server states loaded at start-up (`show servers state` output)",
    ),
]

PROXY_KEYWORDS = [
    Keyword(
        "load-server-state-from-file",
        kw_load_state,
        ("defaults", "listen", "backend"),
        Support.IMPLEMENTED,
        doc="global, local or none: where this backend's server states come from",
    ),
    Keyword(
        "server-state-file-name",
        kw_state_file_name,
        ("defaults", "listen", "backend"),
        Support.IMPLEMENTED,
        doc="this backend's own state file (`load-server-state-from-file local`)",
    ),
]
