"""``bind`` lines: listening addresses and their options (``cfgparse-listen.c``,
``bind_parse_args_list()``, ``listener.c``/``proto_tcp.c``/``proto_uxst.c``
keyword parsers).

One line may list several comma-separated addresses, each possibly a port
range; every address/port becomes one ``BindConfig`` sharing the options.
"""

from __future__ import annotations

import copy
import grp
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass

from herdsman.config import kw_tls
from herdsman.config.address import (
    invalid_address_message,
    parse_address,
    split_bind_addresses,
)
from herdsman.config.diag import ConfigError, Err, indent_msg
from herdsman.config.keywords import Ctx, Support, parse_int, warn_if_not_cap
from herdsman.config.model import BindConfig, Cap
from herdsman.config.model_addr import Family
from herdsman.config.resolve import resolve_now
from herdsman.config.units import c_atoi, c_strtol
from herdsman.defs.words import best_match


@dataclass(frozen=True)
class BindKw:
    name: str
    parse: Callable[[BindConfig, str, str, int], None] | None
    nargs: int = 1
    support: Support = Support.IMPLEMENTED
    planned_for: str = ""
    doc: str = ""
    tls: bool = False  # parsed by kw_tls.bind_keyword() (it reads the global section)


def _need(kw: str, arg: str, what: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' : missing {what}")


def p_maxconn(b: BindConfig, kw: str, arg: str, n: int) -> None:
    _need(kw, arg, "value")
    value = c_atoi(str(parse_int(arg)))  # atol() stored in an int
    if value < 0:
        raise ConfigError(f"'{kw}' : invalid value {value}, must be >= 0")
    b.maxconn = value


def p_backlog(b: BindConfig, kw: str, arg: str, n: int) -> None:
    _need(kw, arg, "value")
    value = c_atoi(str(parse_int(arg)))
    if value < 0:
        raise ConfigError(f"'{kw}' : invalid value {value}, must be > 0")  # sic
    b.backlog = value


def p_name(b: BindConfig, kw: str, arg: str, n: int) -> None:
    _need(kw, arg, "name")
    b.name = arg


def p_id(b: BindConfig, kw: str, arg: str, n: int) -> None:
    """``bind_parse_id()``; the caller checks that the id is free in the proxy."""
    if n > 1:
        raise ConfigError(f"'{kw}' can only be used with a single socket")
    if not arg:
        raise ConfigError(f"'{kw}' : expects an integer argument")
    value, end = c_strtol(arg)
    if end != len(arg):
        raise ConfigError(f"'{kw}' : expects an integer argument, found '{arg}'")
    value = c_atoi(str(value))
    if value <= 0:
        raise ConfigError(f"'{kw}' : custom id has to be > 0")
    b.extra["id"] = [str(value)]


def p_flag(field: str) -> Callable[[BindConfig, str, str, int], None]:
    def parse(b: BindConfig, kw: str, arg: str, n: int) -> None:
        setattr(b, field, True)

    return parse


def p_interface(b: BindConfig, kw: str, arg: str, n: int) -> None:
    _need(kw, arg, "interface name")
    b.interface = arg


def p_namespace(b: BindConfig, kw: str, arg: str, n: int) -> None:
    _need(kw, arg, "namespace id")
    if not os.path.exists(os.path.join("/var/run/netns", arg)):
        raise ConfigError(f"Cannot open namespace '{arg}'.")
    b.namespace = arg


def p_mode(b: BindConfig, kw: str, arg: str, n: int) -> None:
    value, end = c_strtol(arg, base=8)
    if not arg or end != len(arg):
        raise ConfigError(f"'{kw}' : missing or invalid mode '{arg}' (octal integer expected)")
    b.mode = value


def p_uid(b: BindConfig, kw: str, arg: str, n: int) -> None:
    if kw in ("uid", "gid"):
        _need(kw, arg, "value")
        setattr(b, kw, parse_int(arg))
        return
    _need(kw, arg, f"{kw} name")
    try:
        if kw == "user":
            b.uid = pwd.getpwnam(arg).pw_uid
        else:
            b.gid = grp.getgrnam(arg).gr_gid
    except KeyError:
        raise ConfigError(f"'{kw}' : unknown {kw} name '{arg}'") from None


def p_extra(b: BindConfig, kw: str, arg: str, n: int) -> None:
    b.extra[kw] = [arg]


_P, _U = Support.PLANNED, Support.UNSUPPORTED
_ROWS = [
    BindKw("name", p_name, doc="listener name"),
    BindKw("id", p_id, doc="listener id"),
    BindKw(
        "maxconn", p_maxconn, doc="stop accepting on this listener beyond this many connections"
    ),
    BindKw("backlog", p_backlog, doc="listen() backlog"),
    BindKw("v4v6", p_flag("v4v6"), 0, doc="accept IPv4 on an IPv6 socket"),
    BindKw("v6only", p_flag("v6only"), 0, doc="IPv6 only on an IPv6 socket"),
    BindKw("transparent", p_flag("transparent"), 0, doc="IP_TRANSPARENT: bind a foreign address"),
    BindKw("interface", p_interface, doc="SO_BINDTODEVICE"),
    BindKw("namespace", p_namespace, doc="listen in this network namespace"),
    BindKw("defer-accept", p_flag("defer_accept"), 0, doc="TCP_DEFER_ACCEPT"),
    BindKw("tfo", p_flag("tfo"), 0, doc="TCP Fast Open"),
    BindKw("mode", p_mode, doc="UNIX socket permissions (octal)"),
    BindKw("uid", p_uid, doc="UNIX socket owner"),
    BindKw("gid", p_uid, doc="UNIX socket group"),
    BindKw("user", p_uid, doc="UNIX socket owner"),
    BindKw("group", p_uid, doc="UNIX socket group"),
    BindKw(
        "accept-proxy",
        p_flag("accept_proxy"),
        0,
        doc="read a PROXY protocol header (v1 or v2) first",
    ),
    BindKw("process", p_extra, 1, _P, "multi-core"),
    BindKw("thread", p_extra, 1, _P, "multi-core"),
    BindKw("shards", p_extra, 1, _P, "multi-core"),
    BindKw("mss", p_extra, 1, _P, "TCP tuning"),
    BindKw("tcp-ut", p_extra, 1, _P, "TCP tuning"),
    BindKw("nice", p_extra, 1, _P, "TCP tuning"),
    BindKw("proto", p_extra, 1, _P, "HTTP mode"),
    BindKw("level", p_extra, 1, _P, "runtime API and stats"),
    BindKw("severity-output", p_extra, 1, _P, "runtime API and stats"),
    BindKw("expose-fd", p_extra, 1, _P, "hitless reload"),
    BindKw("accept-netscaler-cip", p_extra, 1, _U),
]
_TLS_DOCS = {
    "ssl": "TLS on this listener",
    "crt": "certificate file, or directory of certificate files (SNI selection)",
    "crt-list": "file of certificates with per-line options and SNI filters",
    "ca-file": "CAs that verify client certificates",
    "crl-file": "revoked client certificates",
    "verify": "client certificates: `none`, `optional`, `required`",
    "alpn": "ALPN protocols offered, in preference order",
    "ciphers": "TLS 1.2 cipher list",
    "ciphersuites": "TLS 1.3 cipher suites",
    "curves": "key exchange groups",
    "ssl-min-ver": "lowest TLS version (default TLSv1.2)",
    "ssl-max-ver": "highest TLS version",
    "strict-sni": "refuse clients without SNI or with an unknown name",
    "prefer-client-ciphers": "the client's cipher order wins",
    "no-tls-tickets": "no stateless session resumption",
    "no-ca-names": "send no CA names when asking for a client certificate",
}
for _name, _n in (
    ("ssl", 0), ("crt", 1), ("crt-list", 1), ("ca-file", 1), ("crl-file", 1), ("verify", 1),
    ("alpn", 1), ("ciphers", 1), ("ciphersuites", 1), ("curves", 1), ("ssl-min-ver", 1),
    ("ssl-max-ver", 1), ("strict-sni", 0), ("prefer-client-ciphers", 0), ("no-tls-tickets", 0),
    ("no-ca-names", 0),
):  # fmt: skip
    _ROWS.append(BindKw(_name, None, _n, doc=_TLS_DOCS[_name], tls=True))
for _v in ("sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13"):
    _ROWS.append(BindKw(f"no-{_v}", None, 0, doc="disable this version", tls=True))
    _ROWS.append(BindKw(f"force-{_v}", None, 0, doc="only this version", tls=True))
for _name, _n in (
    ("ca-ignore-err", 1), ("ca-sign-file", 1), ("ca-sign-pass", 1), ("ca-verify-file", 1),
    ("crt-ignore-err", 1), ("ecdhe", 1), ("npn", 1), ("generate-certificates", 0),
    ("allow-0rtt", 0), ("tls-ticket-keys", 1),
):  # fmt: skip
    _ROWS.append(BindKw(_name, None, _n, _U))
KEYWORDS = {row.name: row for row in _ROWS}


def _check_id_free(binds: list[BindConfig], new: BindConfig) -> None:
    """Listener ids are unique within a proxy."""
    luid = new.extra["id"][0]
    for other in binds:
        if other.extra.get("id") == [luid]:
            raise ConfigError(
                f"'id' : custom id {luid} already used at {other.loc} ('bind {other.addr.raw}')"
            )


def parse_bind_line(ctx: Ctx, args: list[str]) -> None:

    px = ctx.px
    loc = ctx.loc
    if px.cap & Cap.DEF:
        ctx.alert(f"'{args[0]}' not allowed in 'defaults' section.")
        return
    warn_if_not_cap(ctx, Cap.FE, args[0])
    if len(args) < 2 or not args[1]:
        ctx.alert(
            f"'{args[0]}' expects {{<path>|[addr1]:port1[-end1]}}{{,[addr]:port[-end]}}... as arguments."
        )
        return
    binds: list[BindConfig] = []
    for item in split_bind_addresses(args[1]):
        try:
            addr = parse_address(item, "bind", env=ctx.env)
        except ConfigError as err:
            # str2listener()'s texts lose their final newline here.
            ctx.alert(f"'{args[0]}' : {err.message.removesuffix(chr(10))}")
            return
        if addr.family is Family.HOSTNAME:
            # Listening addresses are resolved while parsing.
            resolved = resolve_now(addr)
            if resolved is None:
                ctx.alert(f"'{args[0]}' : {invalid_address_message(addr).removesuffix(chr(10))}")
                return
            addr = resolved
        binds.append(BindConfig(addr=addr, loc=loc, arg=args[1]))
    nsock = sum(
        (b.addr.port_end - b.addr.port + 1) if b.addr.family in (Family.INET, Family.INET6) else 1
        for b in binds
    )
    proto = binds[0]
    where = f"'bind {args[1]}' in section '{px.kind}'"
    cur = 2
    refused: list[BindKw] = []
    # An empty word (an undefined "${VAR[*]}") ends the line, as in bind_parse_args_list().
    while cur < len(args) and args[cur]:
        word = args[cur]
        row = KEYWORDS.get(word)
        if row is None:
            best = best_match(word, KEYWORDS)
            hint = f"; did you mean '{best}' maybe ?" if best else "."
            ctx.alert(f"{where}: unknown keyword '{word}'{hint}")
            return
        arg = args[cur + 1] if row.nargs and cur + 1 < len(args) else ""
        cur += 1 + row.nargs
        if row.tls:
            try:
                kw_tls.bind_keyword(ctx, proto, word, arg)
            except ConfigError as err:
                if err.flags & Err.ALERT:
                    ctx.alert(f"{where} : {indent_msg(err.message)}")
                    return
                ctx.warn(f"{where} : {indent_msg(err.message)}")
            continue
        if row.parse is None:
            ctx.alert(f"{where} : '{word}' is not supported by herdsman; remove it or use haproxy.")
            return
        try:
            row.parse(proto, word, arg, nsock)
            if word == "id":
                _check_id_free(px.binds, proto)
        except ConfigError as err:
            if err.message.startswith("Cannot open namespace"):
                # ha_alert()ed by the keyword parser, which then returns no message
                ctx.diag.alert(err.message)
                ctx.alert(f"{where} : error encountered while processing '{word}'.")
            else:
                ctx.alert(f"{where} : {err.message}")
            return
        if row.support is not Support.IMPLEMENTED:
            refused.append(row)
    for row in refused:
        if row.support is Support.PLANNED:
            ctx.alert(
                f"{where} : '{row.name}' is not implemented in herdsman yet ({row.planned_for}); "
                "remove it or use haproxy."
            )
        else:
            ctx.alert(
                f"{where} : '{row.name}' is not supported by herdsman; remove it or use haproxy."
            )
    for b in binds:
        opts = copy.deepcopy(proto)
        opts.addr = b.addr
        px.binds.append(opts)
