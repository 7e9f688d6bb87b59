"""``global`` section keywords (``src/cfgparse-global.c`` and registered ones)."""

from __future__ import annotations

import grp
import pwd
from collections.abc import Callable

from herdsman.config import known, kw_http, kw_stats, kw_tls_global, kw_tune
from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import (
    Ctx,
    Keyword,
    Support,
    Table,
    arg,
    parse_int,
    too_many_args,
    words_from,
)
from herdsman.config.units import UnitError, c_strtol, parse_time

_G = ("global",)
MAX_THREADS = 64  # this build's MAX_THREADS (the 'nbthread' range)


def _too_many(ctx: Ctx, args: list[str], maxarg: int) -> bool:
    """``alertif_too_many_args()``."""
    text = too_many_args(args, maxarg)
    if text is not None:
        ctx.alert(text)
    return text is not None


def _already(ctx: Ctx, args: list[str]) -> None:
    """HAProxy's non-fatal "'X' already specified. Continuing." alert."""
    ctx.alert(f"'{args[0]}' already specified. Continuing.", Err.ALERT)


def kw_flag(field: str) -> object:
    def parser(ctx: Ctx, args: list[str]) -> None:
        if _too_many(ctx, args, 0):
            return
        setattr(ctx.global_, field, True)

    return parser


def kw_quiet(ctx: Ctx, args: list[str]) -> None:
    """MODE_QUIET from here on: haproxy prints nothing more, alerts included."""
    if _too_many(ctx, args, 0):
        return
    ctx.global_.quiet = True
    ctx.diag.quiet = True


def kw_master_worker(ctx: Ctx, args: list[str]) -> None:
    if _too_many(ctx, args, 1):
        return
    if arg(args, 1) and args[1] != "no-exit-on-failure":
        raise ConfigError(f"'{args[0]}' only supports 'no-exit-on-failure' option.")
    if arg(args, 1):
        # kept in the model; like 2.6.12 (whose master loses it when it
        # re-executes itself), the master still exits when a worker fails
        ctx.global_.mworker_exit_on_failure = False
    ctx.global_.master_worker = True


def _set_once(
    attr: str, expects: str, convert: Callable[[str], object] = str
) -> Callable[[Ctx, list[str]], None]:
    """``maxconn``, ``ulimit-n``, ``pidfile``, ``chroot``: one argument, a second
    setting is an alert (a set value is non-zero or non-empty)."""

    def parse(ctx: Ctx, args: list[str]) -> None:
        if _too_many(ctx, args, 1):
            return
        if getattr(ctx.global_, attr):
            _already(ctx, args)
            return
        if not arg(args, 1):
            raise ConfigError(f"'{args[0]}' expects {expects}.")
        setattr(ctx.global_, attr, convert(args[1]))

    return parse


def _u32(text: str) -> int:
    """An unsigned int filled by ``atol()``: a negative value wraps."""
    return parse_int(text) & 0xFFFFFFFF


def kw_nbthread(ctx: Ctx, args: list[str]) -> None:
    """``cfg_parse_nbthread()`` (registered: errors are ``parsing [f:l] : <msg>``)."""
    if arg(args, 2):
        raise ConfigError(f"'{args[0]}' cannot handle unexpected argument '{args[2]}'.")
    text = arg(args, 1)
    value, end = c_strtol(text)
    if not text or end != len(text):
        raise ConfigError(f"'{args[0]}' passed a missing or unparsable integer value in '{text}'")
    if not 1 <= value <= MAX_THREADS:
        raise ConfigError(f"'{args[0]}' value must be between 1 and {MAX_THREADS} (was {value})")
    ctx.global_.nbthread = value
    if value != 1:
        raise ConfigError(
            "'nbthread' above 1 is not implemented in herdsman yet (multi-core); "
            "use 'nbthread 1' or remove it."
        )


def kw_node(ctx: Ctx, args: list[str]) -> None:
    if _too_many(ctx, args, 1):
        return
    name = arg(args, 1)
    if not name or any(not (c.isascii() and (c.isalnum() or c in "_-.")) for c in name):
        loc = ctx.loc
        ctx.diag.alert(
            f"parsing [{loc.file}:{loc.line}]: '{args[0]}' requires valid node name - non-empty "
            "string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."
        )
        return
    ctx.global_.node = name


def kw_description(ctx: Ctx, args: list[str]) -> None:
    if not arg(args, 1):
        loc = ctx.loc
        ctx.diag.alert(f"parsing [{loc.file}:{loc.line}]: '{args[0]}' expects a string argument.")
        return
    ctx.global_.description = " ".join(words_from(args, 1))


def kw_spread_checks(ctx: Ctx, args: list[str]) -> None:
    loc = ctx.loc
    p = f"parsing [{loc.file}:{loc.line}]: "
    if _too_many(ctx, args, 1):
        return
    if ctx.global_.spread_checks != 0:
        ctx.diag.alert(p + "spread-checks already specified. Continuing.", Err.ALERT)
        return
    if not arg(args, 1):
        ctx.diag.alert(p + f"'{args[0]}' expects an integer argument (0..50).")
        return
    value = parse_int(args[1])
    ctx.global_.spread_checks = value
    if not 0 <= value <= 50:
        ctx.diag.alert(p + "'spread-checks' needs a positive value in range 0..50.")


def kw_max_spread_checks(ctx: Ctx, args: list[str]) -> None:
    loc = ctx.loc
    p = f"parsing [{loc.file}:{loc.line}]: "
    if _too_many(ctx, args, 1):
        return
    if not arg(args, 1):
        ctx.diag.alert(p + f"'{args[0]}' expects an integer argument (0..50).")
        return
    try:
        ctx.global_.max_spread_checks = parse_time(args[1])
    except UnitError as err:
        if err.kind == "overflow":
            msg = (
                f"timer overflow in argument <{args[1]}> to <{args[0]}>, maximum value is "
                "2147483647 ms (~24.8 days)."
            )
        elif err.kind == "underflow":
            msg = (
                f"timer underflow in argument <{args[1]}> to <{args[0]}>, minimum non-null value "
                "is 1 ms."
            )
        else:
            msg = f"unsupported character '{err.char}' in '{args[0]}' (wants an integer delay)."
        ctx.diag.alert(p + msg)


def kw_log(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.log import check_no_log, parse_log

    if ctx.modifier == "no":
        try:
            check_no_log(args)
        except ConfigError as err:
            raise ConfigError(f"{args[0]} : {err.message}") from None
        ctx.global_.logs = []
        return
    try:
        ctx.global_.logs.append(parse_log(args, ctx.loc, in_global=True, env=ctx.env))
    except ConfigError as err:
        raise ConfigError(f"{args[0]} : {err.message}") from None


def kw_log_tag(ctx: Ctx, args: list[str]) -> None:
    from herdsman.config.log import parse_log_tag

    ctx.global_.log_tag = parse_log_tag(args, in_global=True)


def kw_log_send_hostname(ctx: Ctx, args: list[str]) -> None:
    import socket

    if ctx.global_.log_send_hostname is not None:
        _already(ctx, args)
        return
    ctx.global_.log_send_hostname = arg(args, 1) or socket.gethostname()


def kw_uid(ctx: Ctx, args: list[str]) -> None:
    g = ctx.global_
    if _too_many(ctx, args, 1):
        return
    is_gid = args[0] == "gid"
    # HAProxy tests "already set" against 0, so "uid 0" can be followed by another.
    current = g.gid if is_gid else g.uid
    if current:
        ctx.alert(
            f"{'group/gid' if is_gid else 'user/uid'} already specified. Continuing.", Err.ALERT
        )
        return
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects an integer argument.")
    if not args[1].isdigit() or not args[1].isascii():
        loc = ctx.loc
        what = "group" if is_gid else "user"
        ctx.diag.warning(
            f"parsing [{loc.file}:{loc.line}] :  {args[0]}: string '{args[1]}' is not a number.\n"
            f"   | You might want to use the '{what}' parameter to use a system {what} name."
        )
        return
    if is_gid:
        g.gid = int(args[1])
    else:
        g.uid = int(args[1])


def kw_user(ctx: Ctx, args: list[str]) -> None:
    g = ctx.global_
    if _too_many(ctx, args, 1):
        return
    if args[0] == "user":
        if g.uid:
            ctx.alert("user/uid already specified. Continuing.", Err.ALERT)
            return
        try:
            g.uid = pwd.getpwnam(arg(args, 1)).pw_uid
            g.user = args[1]
        except KeyError:
            raise ConfigError(f"cannot find user id for '{arg(args, 1)}' (0:Success)") from None
    else:
        if g.gid:
            ctx.alert("gid/group was already specified. Continuing.", Err.ALERT)
            return
        try:
            g.gid = grp.getgrnam(arg(args, 1)).gr_gid
            g.group = args[1]
        except KeyError:
            raise ConfigError(f"cannot find group id for '{arg(args, 1)}' (0:Success)") from None


def kw_setenv(ctx: Ctx, args: list[str]) -> None:
    """setenv/presetenv/unsetenv/resetenv change the environment used by later lines."""
    loc = ctx.loc
    p = f"parsing [{loc.file}:{loc.line}]: "
    env = ctx.env
    name = args[0]
    if name in ("setenv", "presetenv"):
        if _too_many(ctx, args, 3):
            return
        if not arg(args, 2):
            ctx.diag.alert(p + f"'{name}' expects a name and a value.")
            return
        if name == "setenv" or args[1] not in env:
            env[args[1]] = args[2]
    elif name == "unsetenv":
        if not arg(args, 1):
            ctx.diag.alert(p + f"'{name}' expects at least one variable name.")
            return
        for var in args[1:]:
            env.pop(var, None)
    else:  # resetenv: keep only the listed variables
        keep = set(args[1:])
        for var in [v for v in env if v not in keep]:
            env.pop(var, None)
    ctx.global_.setenv.append((name, arg(args, 1), arg(args, 2)))


def kw_time(field: str) -> object:
    def parser(ctx: Ctx, args: list[str]) -> None:
        if not arg(args, 1):
            raise ConfigError(f"'{args[0]}' expects <time> as argument.\n")
        try:
            setattr(ctx.global_, field, parse_time(args[1]))
        except UnitError as err:
            if err.kind == "overflow":
                raise ConfigError(
                    f"timer overflow in argument '{args[1]}' to '{args[0]}' (maximum value is "
                    "2147483647 ms or ~24.8 days)"
                ) from None
            raise ConfigError(
                f"unexpected character '{err.char}' in argument to <{args[0]}>.\n"
            ) from None

    return parser


def kw_nbproc(ctx: Ctx, args: list[str]) -> None:
    raise ConfigError(
        "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used "
        "on multi-processor machines if available."
    )


def kw_experimental(ctx: Ctx, args: list[str]) -> None:
    """Allows the experimental directives that follow (no argument check, as in 2.6)."""
    ctx.global_.expose_experimental = True


def kw_pp2(ctx: Ctx, args: list[str]) -> None:
    if arg(args, 1):
        raise ConfigError(f"'{args[0]}' cannot handle unexpected argument '{args[1]}'.")
    ctx.global_.pp2_never_send_local = True


def _kw(name: str, parser: object, doc: str) -> Keyword:
    return Keyword(name, parser, _G, Support.IMPLEMENTED, doc=doc)  # type: ignore[arg-type]


TABLE = Table("global")
TABLE.extend(
    [
        _kw("daemon", kw_flag("daemon"), "run in the background (like -D)"),
        _kw(
            "master-worker",
            kw_master_worker,
            "master-worker mode (like -W); `no-exit-on-failure` has no effect, as in 2.6.12",
        ),
        _kw("quiet", kw_quiet, "no messages at start-up (like -q)"),
        _kw("zero-warning", kw_flag("zero_warning"), "refuse to start when a warning was emitted"),
        _kw(
            "maxconn",
            _set_once("maxconn", "an integer argument", parse_int),
            "process-wide connection limit (listeners pause beyond it)",
        ),
        _kw(
            "maxconnrate",
            _set_once("maxconnrate", "an integer argument", _u32),
            "accepted connections per second, process-wide (listeners pause beyond it)",
        ),
        _kw(
            "maxsessrate",
            _set_once("maxsessrate", "an integer argument", _u32),
            "sessions per second, process-wide (listeners pause beyond it)",
        ),
        _kw("nbthread", kw_nbthread, "only 1 (multi-core is planned)"),
        _kw("nbproc", kw_nbproc, "removed in HAProxy 2.5 (error)"),
        _kw(
            "pidfile",
            _set_once("pidfile", "a file name as an argument"),
            "write the pid there (like -p)",
        ),
        _kw("node", kw_node, "node name (send-state header, stats)"),
        _kw("description", kw_description, "free text"),
        _kw("spread-checks", kw_spread_checks, "jitter in % of the check interval (0..50)"),
        _kw("max-spread-checks", kw_max_spread_checks, "cap of the initial spreading of checks"),
        _kw("log", kw_log, "global log targets"),
        _kw("log-tag", kw_log_tag, "syslog tag (default: the program name)"),
        _kw("log-send-hostname", kw_log_send_hostname, "put a host name in syslog headers"),
        _kw("chroot", _set_once("chroot", "a directory as an argument"), "chroot after start-up"),
        _kw("uid", kw_uid, "drop privileges to this uid"),
        _kw("gid", kw_uid, "drop privileges to this gid"),
        _kw("user", kw_user, "drop privileges to this user"),
        _kw("group", kw_user, "drop privileges to this group"),
        _kw(
            "ulimit-n",
            _set_once("ulimit_n", "an integer argument", parse_int),
            "RLIMIT_NOFILE to set at start-up",
        ),
        _kw("setenv", kw_setenv, "set an environment variable (visible to later lines)"),
        _kw("presetenv", kw_setenv, "set a variable if not already set"),
        _kw("unsetenv", kw_setenv, "remove variables"),
        _kw("resetenv", kw_setenv, "keep only the listed variables"),
        _kw(
            "hard-stop-after", kw_time("hard_stop_after"), "force exit this long after a soft stop"
        ),
        _kw("grace", kw_time("grace"), "delay between a soft-stop signal and stopping listeners"),
        _kw(
            "expose-experimental-directives",
            kw_experimental,
            "allows the experimental directives that follow (`tune.fd.edge-triggered`)",
        ),
        _kw("pp2-never-send-local", kw_pp2, "PROXY v2 health checks send PROXY, not LOCAL"),
    ]
)
TABLE.extend(
    _kw(name, kw_tls_global.global_keyword, doc)
    for name, doc in kw_tls_global.GLOBAL_KEYWORDS.items()
)
TABLE.extend(kw_tune.keywords())
TABLE.extend(kw_http.GLOBAL_KEYWORDS)
TABLE.extend(kw_stats.GLOBAL_KEYWORDS)
TABLE.extend(known.global_keywords())
