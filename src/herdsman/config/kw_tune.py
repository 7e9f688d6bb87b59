"""Tuning globals: ``tune.*``, ``maxpipes``, ``maxzlibmem``, ``maxcomp*``, ``maxssl*``
and the poller switches, as HAProxy 2.6.12 parses them.

Every value is checked with HAProxy's own syntax, limits and messages
(``cfgparse-global.c``, and the parsers registered by ``server.c``, ``mux_h2.c``,
``cfgparse-ssl.c``, ``hlua.c``, ``vars.c``...), C conversions included:
``atol()``/``atoi()`` take what they can (``tune.bufsize 16k`` is 16 bytes),
values land in C ``int`` fields, and a few keywords check nothing at all
(``tune.lua.forced-yield`` with no argument is 0). Then one of two things:

* the value is stored in ``GlobalConfig.tune_*`` for the part of herdsman that
  uses it: the socket buffer sizes for the data path,
  the buffer, header and URI capture sizes for HTTP mode (rows ``IMPLEMENTED``);
* or the keyword tunes a mechanism herdsman does not have (HTTP/2, Lua, TLS,
  memory pools, the poller...): it is accepted with one NOTICE per occurrence,
  ``parsing [file:line] : '<kw>' has no effect in herdsman (<reason>).``
  (rows ``NO_EFFECT``; the value goes to ``GlobalConfig.tuning``).

A line that fails prints HAProxy's alert and no notice. What depends on the
whole configuration (``tune.maxrewrite`` against ``tune.bufsize``, the
buffer being large enough for HAProxy's default error pages) is checked after
parsing (``validate.py`` with ``errpages.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import (
    Ctx,
    Keyword,
    Support,
    arg,
    no_effect,
    too_many_args,
)
from herdsman.config.units import UnitError, c_atoi, c_strtol, parse_time

__all__ = ["CAPTURE_LEN", "REQURI_LEN", "keywords"]

_G = ("global",)
INT_MAX = 0x7FFFFFFF
CAPTURE_LEN = 64  # cookie_len when unset or set to -1 (include/haproxy/defaults.h)
REQURI_LEN = 1024  # requri_len, likewise

# Why a keyword has no effect (the notice's parenthesis).
LOOP = "asyncio's event loop does the polling and scheduling"
POOLS = "Python manages memory: no buffer or memory pools"
SPLICE = "herdsman never uses splice() or pipes"
COMP = "herdsman has no HTTP compression"
H2 = "herdsman has no HTTP/2"
LUA = "herdsman has no Lua"
TLS = "Python's ssl module has no such setting"
VARS = "herdsman has no variables"
PATTERNS = "herdsman has no ACL pattern cache"
MQ = "one thread: no per-thread queues or pools"
PEERS = "herdsman has no peers"
ACCEPT = "uvloop accepts every pending connection on each wake-up"
FDS = "idle server connections are bounded by pool-max-conn and pool-purge-delay only"


class _Tight(ConfigError):
    """A message HAProxy prints after ``parsing [file:line]:`` (no space before ':')."""


# A value parser checks ``args`` and returns what HAProxy stores, or raises
# ConfigError (with Err.ALERT only for the non-fatal "already specified").
Value = Callable[[Ctx, list[str]], int]


def _int32(value: int) -> int:
    """A C ``long`` stored in an ``int``."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _atol(text: str) -> int:
    return c_strtol(text)[0]


def _check_args(args: list[str], maxarg: int) -> None:
    text = too_many_args(args, maxarg)
    if text is not None:
        raise ConfigError(text)


# -- cfgparse-global.c integers ---------------------------------------------------


def _global_int(
    *,
    once: Callable[[Ctx], int] | None = None,
    empty: str = "expects an integer argument.",
    convert: Callable[[str, int], int] = lambda kw, v: _int32(v),
) -> Value:
    """``alertif_too_many_args(1)``, "already specified" when ``once`` reads a
    non-zero value, then ``atol()`` through ``convert`` (which may refuse)."""

    def parse(ctx: Ctx, args: list[str]) -> int:
        _check_args(args, 1)
        if once is not None and once(ctx):
            raise ConfigError(f"'{args[0]}' already specified. Continuing.", Err.ALERT)
        if not arg(args, 1):
            raise ConfigError(f"'{args[0]}' {empty}")
        return convert(args[0], _atol(args[1]))

    return parse


def _tuned(name: str) -> Callable[[Ctx], int]:
    """The value a no-effect keyword holds so far (0 when unset)."""
    return lambda ctx: ctx.global_.tuning.get(name, 0)


def _stored(field: str) -> Callable[[Ctx], int]:
    """The value a ``GlobalConfig`` field holds so far (0 when unset)."""
    return lambda ctx: int(getattr(ctx.global_, field))


def _maxaccept(kw: str, value: int) -> int:
    if value > INT_MAX:  # sic: no lower bound, "-1" means unlimited
        raise ConfigError(f"'{kw}' expects -1 or an integer from 0 to INT_MAX.")
    return _int32(value)


def _bufsize(kw: str, value: int) -> int:
    # Rounded up to two pointers (size_t arithmetic), then stored in an int.
    size = _int32((_int32(value) + 15) & 0xFFFFFFFFFFFFFFF0)
    if size <= 0:
        raise ConfigError(f"'{kw}' expects a positive integer argument.")
    return size


def _maxrewrite(kw: str, value: int) -> int:
    if _int32(value) < 0:
        raise ConfigError(f"'{kw}' expects a positive integer argument.")
    return _int32(value)


def _capture_len(default: int) -> Callable[[str, int], int]:
    """``tune.http.cookielen``/``logurilen``: the length plus the trailing NUL; a
    result of 0 (from -1) is replaced by the default after parsing."""
    return lambda kw, value: _int32(value + 1) or default


def _kb(kw: str, value: int) -> int:
    return _int32(value) * 1024  # maxcomprate: atoi() * 1024


# -- atoi() with a range (cfgparse-global.c and registered parsers) -------------------


def _ranged(
    lo: int,
    hi: int,
    message: str,
    *,
    empty: str | int | None = None,
    maxarg: int | None = 1,
) -> Value:
    """``atoi()`` checked against ``lo..hi``; ``message`` follows the keyword's name.

    ``empty`` is the text for a missing argument, or the value used in its
    place (HAProxy's ``arg = -1`` or ``atoi("")``); ``maxarg`` None skips the
    too-many-arguments check, as ``tune.pattern.cache-size`` does.
    """

    def parse(ctx: Ctx, args: list[str]) -> int:
        if maxarg is not None:
            _check_args(args, maxarg)
        text = arg(args, 1)
        if not text and isinstance(empty, str):
            raise ConfigError(f"'{args[0]}' {empty}")
        value = empty if not text and isinstance(empty, int) else c_atoi(text)
        if not lo <= value <= hi:
            raise ConfigError(f"'{args[0]}' {message}")
        return value

    return parse


_POSITIVE = "expects a positive numeric value."
_CAPTURE = ("tune.ssl.capture-buffer-size", "tune.ssl.capture-cipherlist-size")


def _ssl_int(*, capture: bool = False, deprecated: bool = False) -> Value:
    """``ssl_parse_global_int()`` and ``ssl_parse_global_capture_buffer()``."""
    ranged = _ranged(0, INT_MAX, _POSITIVE, empty="expects an integer argument.")

    def parse(ctx: Ctx, args: list[str]) -> int:
        if deprecated:
            loc = ctx.loc
            ctx.diag.warning(
                f"parsing [{loc.file}:{loc.line}]: '{args[0]}' is deprecated and will be removed "
                "in version 2.7. Please use 'tune.ssl.capture-buffer-size' instead."
            )
        value = ranged(ctx, args)
        # The first of the two keywords to succeed creates the capture pool.
        if capture and any(kw in ctx.global_.tuning for kw in _CAPTURE):
            raise ConfigError(f"'{args[0]}' is already configured.")
        return value

    return parse


# -- on/off and flags ------------------------------------------------------------------


def _on_off(ctx: Ctx, args: list[str]) -> bool:
    _check_args(args, 1)
    if arg(args, 1) not in ("on", "off"):
        raise ConfigError(f"'{args[0]}' expects either 'on' or 'off' but got '{arg(args, 1)}'.")
    return args[1] == "on"


def _flag(ctx: Ctx, args: list[str]) -> bool:
    _check_args(args, 0)
    return ctx.modifier != "no"  # "no busy-polling"


# -- times -----------------------------------------------------------------------------


def _idletimer(ctx: Ctx, args: list[str]) -> int:
    kw = args[0]
    _check_args(args, 1)
    out_of_range = f"'{kw}' expects a timer value between 0 and 65535 ms."
    if not arg(args, 1):
        raise ConfigError(out_of_range)
    try:
        value = parse_time(args[1], warn=ctx.diag.warning)
    except UnitError as err:
        if err.kind == "overflow":
            raise _Tight(
                f"timer overflow in argument <{args[1]}> to <{kw}>, maximum value is 65535 ms."
            ) from None
        raise _Tight(f"unexpected character '{err.char}' in argument to <{kw}>.") from None
    if value > 65535:
        raise ConfigError(out_of_range)
    return value


def _ssl_lifetime(ctx: Ctx, args: list[str]) -> int:
    kw = args[0]
    _check_args(args, 1)
    if not arg(args, 1):
        raise ConfigError(f"'{kw}' expects ssl sessions <lifetime> in seconds as argument.")
    try:
        return parse_time(args[1], "s", warn=ctx.diag.warning)
    except UnitError as err:
        if err.kind == "overflow":
            raise ConfigError(
                f"timer overflow in argument '{args[1]}' to <{kw}> (maximum value is "
                "2147483647 s or ~68 years)."
            ) from None
        raise ConfigError(f"unexpected character '{err.char}' in argument to <{kw}>.") from None


def _lua_timeout(ctx: Ctx, args: list[str]) -> int:
    """``hlua_read_timeout()``: no argument count check; an empty value is invalid."""
    try:
        return parse_time(arg(args, 1), warn=ctx.diag.warning)
    except UnitError as err:
        if err.kind == "overflow":
            raise ConfigError(
                f"timer overflow in argument <{args[1]}> to <{args[0]}> (maximum value is "
                "2147483647 ms or ~24.8 days)"
            ) from None
        raise ConfigError(f"{args[0]}: invalid timeout") from None


# -- strtol() without an argument count check -------------------------------------------


def _whole_number(text: str) -> tuple[int, str]:
    """``strtol(text, &end, 10)``: the value and the character at ``end`` ("" at the end)."""
    value, end = c_strtol(text)
    return value, text[end : end + 1]


def _lua_forced_yield(ctx: Ctx, args: list[str]) -> int:
    value, rest = _whole_number(arg(args, 1))
    if rest:
        raise ConfigError(f"{args[0]}: invalid number")
    return value


def _lua_maxmem(ctx: Ctx, args: list[str]) -> int:
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects an integer argument (Lua memory size in MB).")
    value, rest = _whole_number(args[1])
    if rest:
        raise ConfigError(f"{args[0]}: invalid number {args[1]} (error at '{rest}')")
    return value


def _vars_size(ctx: Ctx, args: list[str]) -> int:
    value, rest = _whole_number(arg(args, 1))
    if rest:
        raise ConfigError(f"{args[0]}: '{arg(args, 1)}' is an invalid size")
    return value


# -- the table ---------------------------------------------------------------------------


def _row(
    name: str,
    value: Value,
    *,
    field: str = "",
    reason: str = "",
    doc: str = "",
    experimental: bool = False,
) -> Keyword:
    """A keyword that stores ``value`` in ``GlobalConfig.<field>`` (IMPLEMENTED), or
    in ``GlobalConfig.tuning`` with a notice naming ``reason`` (NO_EFFECT)."""

    def parser(ctx: Ctx, args: list[str]) -> None:
        if experimental and not ctx.global_.expose_experimental:
            # check_kw_experimental(), before the keyword's own parser
            ctx.alert(
                f"'{name}' directive is experimental, must be allowed via a global "
                "'expose-experimental-directives'"
            )
            return
        try:
            result = value(ctx, args)
        except _Tight as err:
            ctx.diag.alert(f"parsing [{ctx.loc.file}:{ctx.loc.line}]: {err.message}", err.flags)
            return
        except ConfigError as err:
            ctx.diag.report(ctx.loc.parsing, err)
            return
        if field:
            owner: object = ctx.global_
            *path, attr = field.split(".")
            for part in path:  # "tls.cachesize": GlobalConfig.tls.cachesize
                owner = getattr(owner, part)
            setattr(owner, attr, result)
            return
        ctx.global_.tuning[name] = result
        ctx.diag.notice(ctx.loc.parsing + no_effect(row))

    support = Support.NO_EFFECT if reason else Support.IMPLEMENTED
    row = Keyword(name, parser, _G, support, doc=doc, reason=reason)
    return row


def keywords() -> list[Keyword]:
    """Every tuning keyword of HAProxy 2.6.12 (Debian's build), for the global table."""
    ratio = "expects an integer argument between 0 and 100."
    ssl = _ssl_int()
    h2_positive = _ranged(0, INT_MAX, _POSITIVE, empty=0)
    return [
        # stored: the data path applies them
        _row(
            "tune.maxaccept",
            _global_int(once=_tuned("tune.maxaccept"), convert=_maxaccept),
            reason=ACCEPT,
        ),
        *(
            _row(
                f"tune.{kind}.{side}",
                _global_int(once=_stored(f"tune_{kind}_{side}")),
                field=f"tune_{kind}_{side}",
                doc=f"{'SO_RCVBUF' if kind == 'rcvbuf' else 'SO_SNDBUF'} of {side} sockets "
                f"({'listening sockets' if side == 'client' else 'before connect()'})",
            )
            for kind in ("rcvbuf", "sndbuf")
            for side in ("client", "server")
        ),
        # stored: HTTP mode reads them (the sizes are checked after parsing)
        _row(
            "tune.bufsize",
            _global_int(convert=_bufsize),
            field="tune_bufsize",
            doc="buffer size, stored for HTTP mode; must hold HAProxy's default error pages",
        ),
        _row(
            "tune.maxrewrite",
            _global_int(convert=_maxrewrite),
            field="tune_maxrewrite",
            doc="room kept for rewrites, stored for HTTP mode; at most half the buffer",
        ),
        _row(
            "tune.http.maxhdr",
            _ranged(
                1,
                32767,
                "expects a numeric value between 1 and 32767",
                empty="expects an integer argument.",
            ),
            field="tune_http_maxhdr",
            doc="headers per message, stored for HTTP mode; must fit the default error pages",
        ),
        _row(
            "tune.http.cookielen",
            _global_int(convert=_capture_len(CAPTURE_LEN)),
            field="tune_http_cookielen",
            doc="the longest `capture cookie` (the capture lengths are cut to it)",
        ),
        _row(
            "tune.http.logurilen",
            _global_int(convert=_capture_len(REQURI_LEN)),
            field="tune_http_logurilen",
            doc="length of the logged request URI, stored for HTTP mode",
        ),
        _row("tune.idle-pool.shared", _on_off, reason=MQ),
        # no effect
        _row("tune.runqueue-depth", _global_int(once=_tuned("tune.runqueue-depth")), reason=LOOP),
        _row("tune.maxpollevents", _global_int(once=_tuned("tune.maxpollevents")), reason=LOOP),
        _row("tune.recv_enough", _global_int(), reason=LOOP),
        _row("tune.idletimer", _idletimer, reason=LOOP),
        _row("tune.sched.low-latency", _on_off, reason=LOOP),
        _row("tune.fd.edge-triggered", _on_off, reason=LOOP, experimental=True),
        _row("busy-polling", _flag, reason=LOOP),
        *(
            _row(name, _flag, reason=LOOP)
            for name in ("noepoll", "nokqueue", "noevports", "nopoll")
        ),
        _row("tune.buffers.limit", _global_int(), reason=POOLS),
        _row("tune.buffers.reserve", _global_int(), reason=POOLS),
        _row(
            "tune.fail-alloc",
            _ranged(0, 100, "expects a numeric value between 0 and 100.", empty=0),
            reason=POOLS,
        ),
        _row("no-memory-trimming", _flag, reason=POOLS),
        _row("tune.pipesize", _global_int(), reason=SPLICE),
        _row("maxpipes", _global_int(once=_tuned("maxpipes")), reason=SPLICE),
        _row("nosplice", _flag, reason=SPLICE),
        _row("tune.pool-high-fd-ratio", _ranged(0, 100, ratio, empty=-1), reason=FDS),
        _row("tune.pool-low-fd-ratio", _ranged(0, 100, ratio, empty=-1), reason=FDS),
        _row("tune.listener.multi-queue", _on_off, reason=MQ),
        _row(
            "tune.pattern.cache-size",
            _ranged(
                0,
                INT_MAX,
                "expects a positive numeric value",
                empty="expects a positive numeric value",
                maxarg=None,
            ),
            reason=PATTERNS,
        ),
        _row(
            "tune.peers.max-updates-at-once",
            _ranged(1, INT_MAX, "expects an integer argument greater than 0.", empty=-1),
            reason=PEERS,
        ),
        _row(
            "tune.comp.maxlevel",
            _ranged(
                1,
                9,
                "expects a numeric value between 1 and 9",
                empty="expects a numeric value between 1 and 9",
            ),
            reason=COMP,
        ),
        _row("maxzlibmem", _global_int(), reason=COMP),  # megabytes
        _row(
            "maxcomprate",
            _global_int(empty="expects an integer argument in kb/s.", convert=_kb),
            reason=COMP,
        ),
        _row("maxcompcpuusage", _ranged(0, 100, ratio, empty=ratio), reason=COMP),
        _row(
            "tune.h2.header-table-size",
            _ranged(4096, 65536, "expects a numeric value between 4096 and 65536.", empty=0),
            reason=H2,
        ),
        _row("tune.h2.initial-window-size", h2_positive, reason=H2),
        _row("tune.h2.max-concurrent-streams", h2_positive, reason=H2),
        _row(
            "tune.h2.max-frame-size",
            _ranged(
                16384, 16777215, "expects a numeric value between 16384 and 16777215.", empty=0
            ),
            reason=H2,
        ),
        *(
            _row(f"tune.lua.{t}-timeout", _lua_timeout, reason=LUA)
            for t in ("session", "task", "service")
        ),
        _row("tune.lua.forced-yield", _lua_forced_yield, reason=LUA),
        _row("tune.lua.maxmem", _lua_maxmem, reason=LUA),
        *(
            _row(f"tune.vars.{s}-max-size", _vars_size, reason=VARS)
            for s in ("global", "proc", "sess", "txn", "reqres", "check")
        ),
        _row(
            "tune.ssl.cachesize",
            ssl,
            field="tls.cachesize",
            doc="TLS sessions kept for resumption by each bind line (0: no cache)",
        ),
        *(
            _row(f"tune.ssl.{s}", ssl, reason=TLS)
            for s in ("maxrecord", "hard-maxrecord", "ssl-ctx-cache-size")
        ),
        _row("tune.ssl.capture-buffer-size", _ssl_int(capture=True), reason=TLS),
        _row(
            "tune.ssl.capture-cipherlist-size", _ssl_int(capture=True, deprecated=True), reason=TLS
        ),
        _row(
            "tune.ssl.default-dh-param",
            _ranged(
                1024, INT_MAX, "expects a value >= 1024.", empty="expects an integer argument."
            ),
            field="tls.default_dh_param",
            doc="DHE cipher suites with DH parameters of this size (>= 2048: sized after the "
            "key), when the certificate and `ssl-dh-param-file` give none",
        ),
        _row("tune.ssl.force-private-cache", _flag, reason=TLS),
        _row(
            "tune.ssl.lifetime",
            _ssl_lifetime,
            field="tls.lifetime",
            doc="how long a TLS session may be resumed (seconds)",
        ),
        _row("tune.ssl.keylog", _on_off, reason=TLS),
        _row("maxsslconn", ssl, reason=TLS),
        _row("maxsslrate", _global_int(once=_tuned("maxsslrate")), reason=TLS),
    ]
