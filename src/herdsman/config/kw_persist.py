"""Persistence keywords: ``cookie``, ``dynamic-cookie-key``, ``stick-table`` and
``stick`` (``cfgparse-listen.c``, ``stick_table.c parse_stick_table()``),
with 2.6's messages. The run-time side is ``rules/cookie.py`` and
``sample/stick.py``.
"""

from __future__ import annotations

from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import Ctx, Keyword, Support, arg, proxy_type_str, warn_if_not_cap
from herdsman.config.kw_rules import cond_warnings, rule_env
from herdsman.config.model import Cap
from herdsman.config.units import UnitError, parse_size, parse_time
from herdsman.rules.model import CookieConfig, StickRule
from herdsman.rules.parsing import RuleError
from herdsman.sample import args as A
from herdsman.sample import registry as R
from herdsman.sample.acl import AclError
from herdsman.sample.stick import DATA_TYPES, KEY_TYPES, SUPPORTED_DATA, TableSpec
from herdsman.sample.txn import Ref

_FLAGS = {
    "rewrite": "rewrite",
    "indirect": "indirect",
    "insert": "insert",
    "nocache": "nocache",
    "postonly": "postonly",
    "preserve": "preserve",
    "prefix": "prefix",
    "httponly": "httponly",
    "secure": "secure",
}


def _invalid_domainchar(name: str) -> str | None:
    if not name:
        return "\0"
    for ch in name:
        if not (ch.isascii() and ch.isalnum()) and ch not in "._-":
            return ch
    return None


def _seconds(ctx: Ctx, text: str, kw: str) -> int:
    try:
        return parse_time(text, "s")
    except UnitError as err:
        if err.kind == "overflow":
            raise ConfigError(
                f"timer overflow in argument <{text}> to <{kw}>, maximum value is 2147483647 s "
                "(~68 years).",
                tight=True,
            ) from None
        if err.kind == "underflow":
            raise ConfigError(
                f"timer underflow in argument <{text}> to <{kw}>, minimum non-null value is 1 s.",
                tight=True,
            ) from None
        raise ConfigError(
            f"unexpected character '{err.char}' in argument to <{kw}>.", tight=True
        ) from None


def kw_cookie(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.BE, args[0])
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects <cookie_name> as argument.")
    r = ctx.px.routing
    # the attributes are kept from an earlier line (2.6 frees the domain only)
    ck = CookieConfig(args[1], attrs=r.cookie.attrs if r.cookie is not None else None)
    r.cookie = ck
    i = 2
    while arg(args, i):
        word = args[i]
        value = arg(args, i + 1)
        if word in _FLAGS:
            setattr(ck, _FLAGS[word], True)
        elif word == "domain":
            if not value:
                raise ConfigError(f"'{word}' expects <domain> as argument.", tight=True)
            if "." not in value:
                ctx.diag.warning(
                    f"parsing [{ctx.loc.file}:{ctx.loc.line}]: domain '{value}' contains no "
                    "embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."
                )
            bad = _invalid_domainchar(value)
            if bad is not None:
                raise ConfigError(
                    f"character '{bad}' is not permitted in domain name '{value}'.", tight=True
                )
            ck.domain = value if ck.domain is None else f"{ck.domain}; domain={value}"
            i += 1
        elif word in ("maxidle", "maxlife"):
            if not value:
                what = "<idletime>" if word == "maxidle" else "<lifetime>"
                raise ConfigError(f"'{word}' expects {what} in seconds as argument.", tight=True)
            setattr(ck, word, _seconds(ctx, value, word))
            i += 1
        elif word == "dynamic":
            warn_if_not_cap(ctx, Cap.BE, word)
            ck.dynamic = True
        elif word == "attr":
            if not value:
                raise ConfigError(f"'{word}' expects <value> as argument.", tight=True)
            for ch in value:
                if ord(ch) < 32 or ord(ch) == 127 or ch == ";":
                    raise ConfigError(
                        f"character '%x{ord(ch):02X}' is not permitted in attribute value.",
                        tight=True,
                    )
            ck.attrs = value if ck.attrs is None else f"{ck.attrs}; {value}"
            i += 1
        else:
            raise ConfigError(
                f"'{args[0]}' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', "
                "'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options."
            )
        i += 1
    if ck.rewrite and ck.indirect:
        ctx.alert("cookie 'rewrite' and 'indirect' modes are incompatible.")
    if sum((ck.rewrite, ck.insert, ck.prefix)) > 1:
        ctx.alert("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.")
    if ck.preserve and not ck.insert and not ck.indirect:
        ctx.alert("cookie 'preserve' requires at least 'insert' or 'indirect'.")


def kw_dynamic_cookie_key(ctx: Ctx, args: list[str]) -> None:
    warn_if_not_cap(ctx, Cap.BE, args[0])
    if not arg(args, 1):
        raise ConfigError(f"'{args[0]}' expects <secret_key> as argument.")
    ctx.px.routing.dyncookie_key = args[1]


# -- stick tables ---------------------------------------------------------------------------


def kw_stick_table(ctx: Ctx, args: list[str]) -> None:
    px = ctx.px
    if px.cap & Cap.DEF:
        raise ConfigError("'stick-table' is not supported in 'defaults' section.")
    for other in ctx.config.proxies:
        t = other.routing.table
        if other is not px and other.name == px.name and t is not None:
            raise ConfigError(
                f"stick-table name '{px.name}' conflicts with table declared in "
                f"{_cap_str(other.kind)} '{other.name}' at {t.file}:{t.line}."
            )
    spec = parse_stick_table(ctx, args, px.name)
    if spec is not None:
        px.routing.table = spec


def _cap_str(kind: str) -> str:
    from herdsman.config.sections import proxy_cap_str

    return proxy_cap_str(kind)


def parse_stick_table(ctx: Ctx, args: list[str], name: str) -> TableSpec | None:
    """``parse_stick_table()``: the table, or None after an alert."""
    kw = args[0]
    spec = TableSpec(name, "", 0, 0, file=ctx.loc.file, line=ctx.loc.line)
    i = 1
    while arg(args, i):
        word = args[i]
        value = arg(args, i + 1)
        if word in ("size", "peers", "expire") and not value:
            raise ConfigError(f"{kw}: missing argument after '{word}'.")
        if word == "size":
            try:
                spec.size = parse_size(value)
            except UnitError as err:
                raise ConfigError(
                    f"{kw}: unexpected character '{err.char or value[:1]}' in argument of '{word}'."
                ) from None
            i += 2
        elif word == "peers":
            raise ConfigError(
                f"{kw}: 'peers' is not supported by herdsman (peers sections); remove it or use "
                "haproxy."
            )
        elif word == "expire":
            try:
                spec.expire = parse_time(value)
            except UnitError as err:
                if err.kind == "overflow":
                    raise ConfigError(
                        f"{kw}: timer overflow in argument <{value}> to <{word}>, maximum value "
                        "is 2147483647 ms (~24.8 days).",
                        tight=True,
                    ) from None
                raise ConfigError(
                    f"{kw}: unexpected character '{err.char}' in argument of '{word}'."
                ) from None
            i += 2
        elif word == "nopurge":
            spec.nopurge = True
            i += 1
        elif word == "type":
            i = _key_type(kw, args, i + 1, spec)
        elif word == "store":
            _store(ctx, kw, value, spec)
            i += 2
        elif word == "srvkey":
            if value not in ("name", "addr"):
                raise ConfigError(f"{kw} : unknown server key type '{value}'.")
            if value == "addr":
                raise ConfigError(f"{kw}: 'srvkey addr' is not supported by herdsman.")
            i += 2
        else:
            raise ConfigError(f"{kw}: unknown argument '{word}'.")
    if not spec.size:
        raise ConfigError(f"{kw}: missing size.")
    if not spec.key:
        raise ConfigError(f"{kw}: missing type.")
    return spec


def _key_type(kw: str, args: list[str], i: int, spec: TableSpec) -> int:
    """``stktable_parse_type()``: the index after the type (and its ``len``)."""
    word = arg(args, i)
    found = KEY_TYPES.get(word)
    if found is None:
        raise ConfigError(f"{kw}: unknown type '{word}'.")
    _smp, size, custom = found
    i += 1
    if custom and arg(args, i) == "len":
        from herdsman.config.keywords import parse_int

        size = parse_int(arg(args, i + 1))
        if not size:
            raise ConfigError(f"{kw}: unknown type '{arg(args, i + 1)}'.")
        i += 2
    spec.key, spec.key_size = word, size
    return i


def _store(ctx: Ctx, kw: str, text: str, spec: TableSpec) -> None:
    pos = 0
    while pos < len(text):
        end = pos
        arg1: str | None = None
        name_end = None
        while end < len(text) and text[end] != ",":
            if text[end] == "(":
                name_end = end
                close = text.find(")", end)
                if close < 0:
                    raise ConfigError(
                        f"{kw}: missing closing parenthesis after store option '{text[pos:end]}'."
                    )
                arg1 = text[end + 1 : close]
                end = close
            end += 1
        name = text[pos : name_end if name_end is not None else end]
        pos = end + 1
        if name not in DATA_TYPES:
            raise ConfigError(f"{kw}: unknown store option '{name}'.")
        if name not in SUPPORTED_DATA:
            raise ConfigError(f"{kw}: store option '{name}' is not supported by herdsman.")
        if name in spec.store:
            ctx.diag.warning(
                f"parsing [{ctx.loc.file}:{ctx.loc.line}]: {kw}: store option '{name}' already "
                "enabled, ignored."
            )
            continue
        period = DATA_TYPES[name][1]
        if not period and arg1 is not None:
            raise ConfigError(f"{kw}: unexpected argument to store option '{name}'.")
        if period and arg1 is None:
            raise ConfigError(f"{kw}: missing argument to store option '{name}'.")
        value = 0
        if arg1 is not None:
            try:
                value = parse_time(arg1)
            except UnitError:
                raise ConfigError(f"{kw}: error when processing store option '{name}'.") from None
        spec.store[name] = value


def kw_stick(ctx: Ctx, args: list[str]) -> None:
    px = ctx.px
    if px.cap & Cap.DEF:
        raise ConfigError(f"'{args[0]}' not allowed in 'defaults' section.")
    if warn_if_not_cap(ctx, Cap.BE, args[0]):
        return
    how = arg(args, 1)
    flags = {
        "store": (False, True, False),
        "store-request": (False, True, False),
        "store-response": (False, True, True),
        "match": (True, False, False),
        "on": (True, True, False),
    }.get(how)
    if flags is None:
        raise ConfigError(f"'{args[0]}' expects 'on', 'match', or 'store'.")
    match, store, response = flags
    if not arg(args, 2):
        raise ConfigError(f"'{args[0]}' expects a fetch method.")
    env = rule_env(ctx)
    try:
        expr, i = env.expr(args, 2, "in stick rule in", response)
    except RuleError as err:
        raise ConfigError(f"'{args[0]}': {err.message}", Err.ALERT | Err.FATAL) from None
    need = R.BE_STO_RUL if response else R.BE_SET_SRV
    if not expr.val & need:
        what = "'store-response'" if response else "request"
        place = f"available for {what}" if response else "available during request"
        raise ConfigError(
            f"'{args[0]}': fetch method '{expr.fetch.name}' extracts information from "
            f"'{R.src_names(expr.use)}', none of which is {place}."
        )
    table_name = px.name
    named = False
    if arg(args, i) == "table":
        table_name, named = arg(args, i + 1), True
        i += 2
    cond = None
    if arg(args, i) in ("if", "unless"):
        try:
            cond = env.condition(args[i:], response)
        except AclError as err:
            raise ConfigError(
                f"'{args[0]}': error detected while parsing sticking condition : {err.message}."
            ) from None
    elif arg(args, i):
        raise ConfigError(f"'{args[0]}': unknown keyword '{args[i]}'.")
    cond_warnings(ctx, cond, need)
    ref = Ref(A.TAB, table_name, "store" if response else ("named" if named else ""))
    rule = StickRule(match, store, response, expr, ref, cond, ctx.loc.file, ctx.loc.line)
    (px.routing.store_rsp if response else px.routing.sticking).append(rule)


def _kw(name: str, parser: object, sections: tuple[str, ...], doc: str) -> Keyword:
    return Keyword(name, parser, sections, Support.IMPLEMENTED, doc=doc)  # type: ignore[arg-type]


_BE = ("defaults", "listen", "backend")
KEYWORDS = [
    _kw(
        "cookie",
        kw_cookie,
        _BE,
        "cookie persistence: rewrite, insert, prefix, indirect, nocache, postonly, preserve, "
        "httponly, secure, domain, maxidle, maxlife, dynamic, attr",
    ),
    _kw("dynamic-cookie-key", kw_dynamic_cookie_key, _BE, "secret of `cookie ... dynamic`"),
    _kw(
        "stick-table",
        kw_stick_table,
        ("frontend", "listen", "backend"),
        "type ip|ipv6|integer|string|binary, size, expire, nopurge, store (not `peers`)",
    ),
    _kw("stick", kw_stick, ("listen", "backend"), "stick on|match|store-request|store-response"),
]

__all__ = ["KEYWORDS", "parse_stick_table", "proxy_type_str"]
