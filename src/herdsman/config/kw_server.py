"""The keywords of ``server`` and ``default-server`` lines (spec §1): one row each,
with its parser (``srv_kw_list`` of ``server.c`` and the ``ssl`` ones of
``ssl_sock.c``), or the reason herdsman refuses it. The line itself is
``server_line.py``'s.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from herdsman.config import kw_tls
from herdsman.config.address import parse_address
from herdsman.config.diag import ConfigError, Err
from herdsman.config.keywords import Ctx, Support, parse_int, proxy_type_str
from herdsman.config.model import Cap, Observe, OnError, ProxyConfig, ServerConfig
from herdsman.config.model_addr import Address, Family
from herdsman.config.units import c_atoi, server_time_arg


@dataclass
class SrvCtx:
    ctx: Ctx
    srv: ServerConfig
    px: ProxyConfig
    is_default: bool

    prefix: str = ""

    def warn(self, text: str) -> None:
        self.ctx.diag.warning(self.prefix + text)

    @property
    def ident(self) -> str:
        """The name used inside messages (``newsrv->id``)."""
        return "default-server" if self.is_default else self.srv.name


Handler = Callable[[SrvCtx, str, str], None]


@dataclass(frozen=True)
class SrvKw:
    """A row of ``srv_kws[]``: name, parser, argument count, default-server allowed."""

    name: str
    parse: Handler | None
    nargs: int = 1
    default_ok: bool = True
    support: Support = Support.IMPLEMENTED
    planned_for: str = ""
    doc: str = ""
    reason: str = ""  # for NO_EFFECT: why it has no effect in herdsman (the notice says it)


# -- parsers -------------------------------------------------------------------


def _flag(field: str, value: object = True) -> Handler:
    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        setattr(sc.srv, field, value)

    return parse


def _int(field: str) -> Handler:
    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        setattr(sc.srv, field, parse_int(arg))

    return parse


def _c_int(field: str, unsigned: bool) -> Handler:
    """atol() into a C ``int`` or ``unsigned``: no check, the value wraps."""

    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        value = parse_int(arg) & 0xFFFFFFFF
        if not unsigned and value >= 1 << 31:
            value -= 1 << 32
        setattr(sc.srv, field, value)

    return parse


def _str(field: str, what: str) -> Handler:
    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        if not arg:
            raise ConfigError(f"'{kw}' expects {what} as argument.")
        setattr(sc.srv, field, arg)

    return parse


def _extra(sc: SrvCtx, kw: str, arg: str) -> None:
    sc.srv.extra[kw] = [arg]


def _check_time(field: str) -> Handler:
    """``srv_parse_check_inter()`` and friends: a non-zero delay."""

    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        setattr(sc.srv, field, server_time_arg(kw, arg, sc.ident, warn=sc.warn))

    return parse


def _rise_fall(field: str) -> Handler:
    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        if not arg:
            raise ConfigError(f"'{kw}' expects an integer argument.")
        value = parse_int(arg)
        if value <= 0:
            raise ConfigError(f"'{kw}' has to be > 0.")
        setattr(sc.srv, field, value)

    return parse


def p_weight(sc: SrvCtx, kw: str, arg: str) -> None:
    w = parse_int(arg)
    if not 0 <= w <= 256:
        raise ConfigError(f"weight of server {sc.ident} is not within 0 and 256 ({w}).")
    sc.srv.weight = w


def p_id(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' : expects an integer argument")
    puid = parse_int(arg)
    if puid <= 0:
        raise ConfigError(f"'{kw}' : custom id has to be > 0")
    for other in sc.px.servers:
        if other.puid == puid and other is not sc.srv and other.puid_loc is not None:
            raise ConfigError(
                f"'{kw}' : custom id {puid} already used at {other.puid_loc.file}:"
                f"{other.puid_loc.line} ('server {other.name}')"
            )
    sc.srv.puid = puid
    sc.srv.puid_loc = sc.srv.loc


def p_init_addr(sc: SrvCtx, kw: str, arg: str) -> None:
    """``srv_parse_init_addr()``: methods libc/last/none and at most one literal IP."""
    methods: list[str] = []
    literal = False
    for item in arg.split(",") if arg else []:
        if item in ("libc", "last", "none"):
            pass
        elif _is_ip(item):
            if literal:
                raise ConfigError(
                    f"'{kw}' : initial address already specified, cannot add '{item}'."
                )
            literal = True
        else:
            raise ConfigError(
                f"'{kw}' : unknown init-addr method '{item}', supported methods are 'libc', "
                "'last', 'none'."
            )
        if len(methods) >= 10:  # 3 bits per method in a 32-bit word
            raise ConfigError(f"'{kw}' : too many init-addr methods when trying to add '{item}'")
        methods.append(item)
    sc.srv.init_addr = methods


def _is_ip(text: str) -> bool:
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(fam, text)
            return True
        except OSError:
            pass
    return False


def p_namespace(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' : expects <name> as argument")
    if arg != "*" and not os.path.exists(os.path.join("/var/run/netns", arg)):
        raise ConfigError(f"Cannot open namespace '{arg}'")
    if sc.is_default and arg != "*":
        # 2.6: only the "*" flag is copied from default-server (spec §1.5).
        return
    sc.srv.namespace = arg


def p_check(sc: SrvCtx, kw: str, arg: str) -> None:
    px = sc.px
    if not px.cap & Cap.BE:
        raise ConfigError(
            f"'{kw}' ignored because {proxy_type_str(px)} '{px.name}' has no backend capability",
            Err.WARN,
        )
    sc.srv.check = True


def p_port(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects a port number as argument.")
    sc.srv.check_port = parse_int(arg)
    if "agent-port" not in sc.srv.keywords:
        sc.srv.agent_port = sc.srv.check_port


def p_addr(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects <ipv4|ipv6> as argument.")
    try:
        addr = parse_address(arg, "check", env=sc.ctx.env)
    except ConfigError as err:
        raise ConfigError(f"'{kw}' : {err.message}") from None
    if addr.family is Family.HOSTNAME:
        from herdsman.config.resolve import resolve_now

        resolved = resolve_now(addr)
        if resolved is None:
            raise ConfigError(f"'{kw}' : invalid address: '{addr.host}' in '{arg}'")
        addr = resolved
    sc.srv.check_addr = addr
    if "agent-addr" not in sc.srv.keywords:
        sc.srv.agent_addr = addr


def p_observe(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects <mode> as argument.\n")
    if arg == "layer7" and sc.px.mode.value != "http":
        raise ConfigError(f"'{arg}' can only be used in http proxies.\n", Err.ALERT)
    try:
        sc.srv.observe = Observe(arg)
    except ValueError:
        raise ConfigError(
            f"'{kw}' expects one of 'none', 'layer4', 'layer7' but got '{arg}'\n"
        ) from None


def p_on_error(sc: SrvCtx, kw: str, arg: str) -> None:
    try:
        sc.srv.on_error = OnError(arg)
    except ValueError:
        raise ConfigError(
            f"'{kw}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' "
            f"but got '{arg}'"
        ) from None


def p_on_marked_down(sc: SrvCtx, kw: str, arg: str) -> None:
    if arg != "shutdown-sessions":
        raise ConfigError(f"'{kw}' expects 'shutdown-sessions' but got '{arg}'")
    sc.srv.on_marked_down_shutdown = True


def p_on_marked_up(sc: SrvCtx, kw: str, arg: str) -> None:
    if arg != "shutdown-backup-sessions":
        raise ConfigError(f"'{kw}' expects 'shutdown-backup-sessions' but got '{arg}'")
    sc.srv.on_marked_up_shutdown_backup = True


def p_error_limit(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects an integer argument.")
    value = parse_int(arg)
    sc.srv.error_limit = value
    if value <= 0:
        raise ConfigError(f"{kw} has to be > 0.")


def p_track(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError("'track' expects [<proxy>/]<server> as argument.\n")
    sc.srv.track = arg


def p_slowstart(sc: SrvCtx, kw: str, arg: str) -> None:
    sc.srv.slowstart = server_time_arg(kw, arg, sc.ident, warn=sc.warn)


def p_send_proxy(version: int) -> Handler:
    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        if version == 1:
            sc.srv.send_proxy = True
        else:
            sc.srv.send_proxy_v2 = True

    return parse


def p_agent_port(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects a port number as argument.")
    sc.srv.agent_port = parse_int(arg)


def p_agent_addr(sc: SrvCtx, kw: str, arg: str) -> None:
    """``str2ip()``: an IP literal (no port), ``*``, or a host name resolved now."""
    if not arg:
        raise ConfigError(f"'{kw}' expects an address as argument.")
    if arg == "::":
        addr: Address | None = Address(arg, Family.INET6, "::")
    elif arg == "*":
        addr = Address(arg, Family.INET, "0.0.0.0")
    elif _is_ip(arg):
        addr = Address(arg, Family.INET6 if ":" in arg else Family.INET, arg)
    else:
        from herdsman.config.resolve import resolve_now

        addr = resolve_now(Address(arg, Family.HOSTNAME, arg))
    if addr is None:
        raise ConfigError(f"parsing agent-addr failed. Check if '{arg}' is correct address.")
    sc.srv.agent_addr = addr


def p_agent_send(sc: SrvCtx, kw: str, arg: str) -> None:
    if not arg:
        raise ConfigError(f"'{kw}' expects a string as argument.")
    sc.srv.agent_send = arg


def _value(field: str) -> Handler:
    """``atoi()`` of a mandatory ``<value>`` (the connection pool keywords)."""

    def parse(sc: SrvCtx, kw: str, arg: str) -> None:
        if not arg:
            raise ConfigError(f"'{kw}' expects <value> as argument.\n")
        setattr(sc.srv, field, c_atoi(arg))

    return parse


def p_pool_max_conn(sc: SrvCtx, kw: str, arg: str) -> None:
    _value("pool_max_conn")(sc, kw, arg)
    if sc.srv.pool_max_conn < -1:
        raise ConfigError(f"'{kw}' must be >= -1")


def p_pool_purge_delay(sc: SrvCtx, kw: str, arg: str) -> None:
    sc.srv.pool_purge_delay = server_time_arg(kw, arg, sc.ident, warn=sc.warn)


# -- the table -------------------------------------------------------------------

_P, _U = Support.PLANNED, Support.UNSUPPORTED
HTTP = "HTTP mode"
DNS = "DNS resolvers"
TLS = ""  # unsupported: herdsman has no TLS to servers

_ROWS: list[SrvKw] = [
    SrvKw("backup", _flag("backup"), 0, doc="used only when no active server is usable"),
    SrvKw("no-backup", _flag("backup", False), 0, doc="cancel an inherited `backup`"),
    SrvKw("disabled", _flag("disabled"), 0, doc="start in maintenance"),
    SrvKw("enabled", _flag("disabled", False), 0, doc="cancel an inherited `disabled`"),
    SrvKw("weight", p_weight, doc="0..256, default 1"),
    SrvKw("id", p_id, default_ok=False, doc="numeric id (ordering for `first`, hashing ring)"),
    SrvKw(
        "init-addr",
        p_init_addr,
        doc="last, libc, none, or an IP: how the address is resolved at start-up",
    ),
    SrvKw(
        "namespace",
        p_namespace,
        doc="connect from this network namespace (`ip netns`); `*`: the client "
        "connection's (a PROXY header's NETNS TLV, else the bind line's)",
    ),
    SrvKw("check", p_check, 0, doc="enable health checks"),
    SrvKw("no-check", _flag("check", False), 0, doc="cancel an inherited `check`"),
    SrvKw("inter", _check_time("inter"), doc="check interval when the server is fully up (2s)"),
    SrvKw("fastinter", _check_time("fastinter"), doc="interval while going up or down"),
    SrvKw("downinter", _check_time("downinter"), doc="interval while fully down"),
    SrvKw("rise", _rise_fall("rise"), doc="successes to go up (2)"),
    SrvKw("fall", _rise_fall("fall"), doc="failures to go down (3)"),
    SrvKw("port", p_port, doc="port for checks"),
    SrvKw("addr", p_addr, doc="address for checks"),
    SrvKw("check-send-proxy", _flag("check_send_proxy"), 0, doc="send a PROXY header on checks"),
    SrvKw(
        "no-check-send-proxy", _flag("check_send_proxy", False), 0, doc="cancel `check-send-proxy`"
    ),
    SrvKw("track", p_track, doc="follow another server's state instead of checking"),
    SrvKw("observe", p_observe, doc="passive health: layer4 (layer7 needs HTTP mode)"),
    SrvKw("error-limit", p_error_limit, doc="consecutive errors before `on-error` (10)"),
    SrvKw("on-error", p_on_error, doc="fastinter, fail-check, sudden-death, mark-down"),
    SrvKw("on-marked-down", p_on_marked_down, doc="shutdown-sessions"),
    SrvKw("on-marked-up", p_on_marked_up, doc="shutdown-backup-sessions"),
    SrvKw("send-proxy", p_send_proxy(1), 0, doc="PROXY protocol v1 header to the server"),
    SrvKw("send-proxy-v2", p_send_proxy(2), 0, doc="PROXY protocol v2 header to the server"),
    SrvKw("no-send-proxy", _flag("send_proxy", False), 0, doc="cancel `send-proxy`"),
    SrvKw("no-send-proxy-v2", _flag("send_proxy_v2", False), 0, doc="cancel `send-proxy-v2`"),
    SrvKw("tfo", _flag("tfo"), 0, doc="TCP Fast Open on server connections"),
    SrvKw("no-tfo", _flag("tfo", False), 0, doc="cancel `tfo`"),
    SrvKw(
        "agent-check", _flag("agent_check"), 0, doc="check an agent on the server (docs/checks.md)"
    ),
    SrvKw(
        "no-agent-check", _flag("agent_check", False), 0, doc="cancel an inherited `agent-check`"
    ),
    SrvKw("agent-inter", _check_time("agent_inter"), doc="interval of the agent's checks (2s)"),
    SrvKw("agent-port", p_agent_port, doc="the agent's TCP port (required; `port` sets it too)"),
    SrvKw("agent-addr", p_agent_addr, doc="the agent's address (`addr` sets it too)"),
    SrvKw("agent-send", p_agent_send, doc="a string sent to the agent once connected"),
    SrvKw(
        "slowstart",
        p_slowstart,
        doc="ramp a recovered server in: weight in 1/16 steps (dynamic algorithms), "
        "maxconn from 1, over whole seconds",
    ),
    SrvKw("maxconn", _c_int("maxconn", True), doc="most concurrent streams (0: no limit)"),
    SrvKw("minconn", _c_int("minconn", True), doc="dynamic limit floor (with fullconn)"),
    SrvKw("maxqueue", _c_int("maxqueue", False), doc="longest server queue (0: no limit)"),
    # HTTP-only: in TCP mode (herdsman's only mode) HAProxy ignores a cookie with
    # a warning and refuses a redirect prefix, both after parsing.
    SrvKw(
        "cookie",
        _str("cookie", "<value>"),
        doc="the value of a persistence cookie (the proxy's `cookie` is planned); ignored with "
        "HAProxy's warning in TCP mode",
    ),
    SrvKw(
        "redir",
        _str("redir", "<prefix>"),
        doc="HTTP mode: answer GET and HEAD with a 302 to `<prefix>` and the path; refused with "
        "HAProxy's error in TCP mode",
    ),
    SrvKw("proto", _str("proto", "a protocol name"), support=_P, planned_for=HTTP),
    SrvKw("ws", _str("ws", "'auto', 'h1' or 'h2'"), support=_P, planned_for=HTTP),
    SrvKw(
        "pool-max-conn",
        p_pool_max_conn,
        doc="idle connections kept for reuse (-1: no limit, the default; 0: none)",
    ),
    SrvKw(
        "pool-purge-delay",
        p_pool_purge_delay,
        doc="how often idle connections are closed (default 5s; 0: none is kept)",
    ),
    SrvKw(
        "pool-low-conn",
        _value("pool_low_conn"),
        doc="idle connections below which a thread takes none from another",
    ),
    SrvKw(
        "max-reuse",
        _value("max_reuse"),
        support=Support.NO_EFFECT,
        reason="HAProxy 2.6 applies it to HTTP/2 and FastCGI server connections only; "
        "herdsman speaks HTTP/1.1 to servers",
    ),
    SrvKw("resolvers", _str("resolvers", "<resolvers id>"), support=_P, planned_for=DNS),
    SrvKw(
        "resolve-prefer", _str("resolve_prefer", "'ipv4' or 'ipv6'"), support=_P, planned_for=DNS
    ),
    SrvKw("resolve-opts", _extra, support=_P, planned_for=DNS),
    SrvKw("resolve-net", _extra, support=_P, planned_for=DNS),
    SrvKw("source", _extra, support=_P, planned_for="source address selection"),
    SrvKw("tcp-ut", _extra, support=_P, planned_for="TCP user timeout"),
    SrvKw("proxy-v2-options", _extra, support=_P, planned_for="PROXY v2 TLVs"),
]


def _tls(sc: SrvCtx, kw: str, arg: str) -> None:
    kw_tls.server_keyword(sc.ctx, sc.srv, kw, arg, sc.prefix)


_TLS_DOCS = {
    "ssl": "TLS to the server",
    "no-ssl": "no TLS (resets a default-server `ssl`)",
    "verify": "server certificate: `none` or `required` (default: `ssl-server-verify`)",
    "verifyhost": "name the server certificate must match when no SNI is sent",
    "ca-file": "CAs that verify the server certificate",
    "crl-file": "revoked server certificates",
    "crt": "client certificate presented to the server",
    "sni": "SNI sent: `str(<name>)` (other expressions wait for the routing engine)",
    "alpn": "ALPN protocols offered to the server",
    "ciphers": "TLS 1.2 cipher list",
    "ciphersuites": "TLS 1.3 cipher suites",
    "ssl-min-ver": "lowest TLS version (default TLSv1.2)",
    "ssl-max-ver": "highest TLS version",
    "ssl-reuse": "resume the last TLS session (the default)",
    "no-ssl-reuse": "full handshake on every connection",
    "tls-tickets": "accept session tickets (the default)",
    "no-tls-tickets": "no session tickets",
    "check-ssl": "health checks over TLS",
    "no-check-ssl": "health checks without TLS",
    "check-sni": "SNI of the TLS health checks",
    "check-alpn": "ALPN of the TLS health checks",
}
for _name, _n in (
    ("ssl", 0), ("no-ssl", 0), ("check-ssl", 0), ("no-check-ssl", 0), ("check-sni", 1),
    ("check-alpn", 1), ("sni", 1), ("alpn", 1), ("ca-file", 1), ("crl-file", 1), ("crt", 1),
    ("ciphers", 1), ("ciphersuites", 1), ("verify", 1), ("verifyhost", 1), ("ssl-min-ver", 1),
    ("ssl-max-ver", 1), ("ssl-reuse", 0), ("no-ssl-reuse", 0), ("tls-tickets", 0),
    ("no-tls-tickets", 0),
):  # fmt: skip
    _ROWS.append(SrvKw(_name, _tls, _n, doc=_TLS_DOCS[_name]))
for _v in ("sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13"):
    _ROWS.append(SrvKw(f"no-{_v}", _tls, 0, doc="disable this version"))
    _ROWS.append(SrvKw(f"force-{_v}", _tls, 0, doc="only this version"))
for _name, _n in (
    ("usesrc", 1), ("socks4", 1), ("check-via-socks4", 0), ("non-stick", 0), ("stick", 0),
    ("log-proto", 1), ("check-proto", 1), ("npn", 1), ("allow-0rtt", 0),
    ("send-proxy-v2-ssl", 0), ("send-proxy-v2-ssl-cn", 0), ("no-send-proxy-v2-ssl", 0),
    ("no-send-proxy-v2-ssl-cn", 0),
):  # fmt: skip
    _ROWS.append(SrvKw(_name, None, _n, support=_U))

KEYWORDS: dict[str, SrvKw] = {row.name: row for row in _ROWS}
