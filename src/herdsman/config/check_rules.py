"""Parsers of single check rules: ``connect``, ``send*``, ``comment``
(``expect`` is ``check_expect.py``), and the argument helpers both use.

The ``parse_tcpcheck_*()`` functions of ``src/tcpcheck.c`` (HAProxy 2.6), with
their messages as the 2.6.12 binary prints them. Each raises ConfigError with
the inner message; ``config/checks.py`` wraps it as ``'tcp-check <kw>' : <msg>.``.

Differences that herdsman refuses at parse time, with a message saying so:
``connect via-socks4`` (no SOCKS4 for checks yet), a
sample expression as ``connect port``, ``proto h2``/``fcgi`` for http-check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from herdsman.config.address import invalid_address_message, parse_address
from herdsman.config.diag import ConfigError
from herdsman.config.model_addr import Family
from herdsman.config.resolve import resolve_now
from herdsman.defs.rules import (
    ActionRule,
    CommentRule,
    ConnectRule,
    HttpSendRule,
    Rule,
    SendKind,
    SendRule,
)
from herdsman.sample.logformat import LogFormat, LogFormatError, parse_expr

INT_MAX = 2147483647
_MUX_TCP = ("none",)
_MUX_HTTP = ("h1", "h2", "fcgi")


def arg_at(args: list[str], i: int) -> str:
    return args[i] if i < len(args) else ""


def wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def logformat(text: str) -> LogFormat:
    """A log-format argument, with the message ``parse_logformat_string()`` callers print."""
    try:
        return LogFormat(text)
    except LogFormatError as err:
        raise ConfigError(f"'{text}' invalid log-format string ({err.message}).\n") from None


def parse_binary(text: str) -> bytes:
    """``parse_binary()``: an even number of hex digits."""
    if len(text) % 2:
        raise ConfigError("an even number of hex digit is expected")
    for ch in text:
        if ch not in "0123456789abcdefABCDEF":
            raise ConfigError(f"an hex digit is expected (found '{ch}')")
    return bytes.fromhex(text)


# -- connect ---------------------------------------------------------------------------


def _parse_addr(text: str, env: Mapping[str, str] | None) -> tuple[str, int | None]:
    """``str2sa_range()`` for ``connect addr``: an IP or a host name resolved now."""
    addr = parse_address(text, "check", env=env)
    if addr.family not in (Family.INET, Family.INET6, Family.HOSTNAME):
        raise ConfigError(f"herdsman supports only IPv4/IPv6 addresses here (got '{text}')")
    resolved = resolve_now(addr)
    if resolved is None:
        raise ConfigError(invalid_address_message(addr))
    return resolved.host, addr.port or None


def _port(arg: str) -> int:
    if arg.isascii() and arg.isdigit():
        port = int(arg)
        if 1 <= port <= 65535:
            return port
        raise ConfigError(
            f"expects a valid TCP port (from range 1 to 65535) or a sample expression, got {arg}."
        )
    try:
        parse_expr(arg)
    except LogFormatError as err:
        raise ConfigError(f"error detected while parsing port expression : {err.message}") from None
    raise ConfigError(
        f"'port' : herdsman supports only a port number here, not a sample expression (got '{arg}')"
    )


def parse_connect(
    args: list[str], rules: list[Rule], env: Mapping[str, str] | None = None
) -> ConnectRule:
    """``parse_tcpcheck_connect()``; ``rules`` are the rules already in the ruleset."""
    for rule in rules:
        if isinstance(rule, ConnectRule):
            break
        if isinstance(rule, CommentRule | ActionRule) or (
            isinstance(rule, HttpSendRule) and rule.from_option
        ):
            continue
        raise ConfigError(
            "first step MUST also be a 'connect', optionally preceded by a 'set-var', an "
            "'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset"
        )
    http = args[0] == "http-check"
    opts: dict[str, object] = {}
    i = 2
    while arg_at(args, i):
        word, value = args[i], arg_at(args, i + 1)
        if word in ("default", "send-proxy", "linger"):
            opts[word.replace("-", "_")] = True
        elif word == "addr":
            if not value:
                raise ConfigError("'addr' expects <ipv4|ipv6> as argument.")
            try:
                opts["addr"] = _parse_addr(value, env)
            except ConfigError as err:
                raise ConfigError(f"'addr' : {err.message}.") from None
            i += 1
        elif word == "port":
            if not value:
                raise ConfigError(
                    "'port' expects a port number or a sample expression as argument."
                )
            opts["port"] = _port(value)
            i += 1
        elif word == "proto":
            if not value:
                raise ConfigError("'proto' expects a MUX protocol as argument.")
            if value not in _MUX_TCP + _MUX_HTTP:
                raise ConfigError(f"'proto' : unknown MUX protocol '{value}'.")
            if (value in _MUX_HTTP) != http:
                raise ConfigError(f"'proto' : invalid MUX protocol '{value}' for {args[0]}")
            if value in ("h2", "fcgi"):
                raise ConfigError(
                    f"'proto' : MUX protocol '{value}' is not supported by herdsman for checks "
                    "(only h1)"
                )
            opts["proto"] = value
            i += 1
        elif word in ("comment", "sni"):
            if not value:
                raise ConfigError(f"'{word}' expects a string as argument.")
            opts[word] = value
            i += 1
        elif word == "alpn":
            if not value:
                raise ConfigError("'alpn' : missing the comma-delimited ALPN protocol suite")
            opts["alpn"] = value
            i += 1
        elif word == "ssl":
            opts["ssl"] = True
        elif word == "via-socks4":
            raise ConfigError(
                f"'{word}' : SOCKS4 check connections are not implemented in herdsman yet; "
                "remove it or use haproxy"
            )
        else:
            raise ConfigError(
                "expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or "
                f"'via-socks4', 'linger', 'default' but got '{word}' as argument."
            )
        i += 1
    return ConnectRule(**opts)  # type: ignore[arg-type]


# -- send ------------------------------------------------------------------------------


def _comment_only(args: list[str], i: int) -> str | None:
    """Trailing ``[comment <msg>]``: anything else is an error."""
    comment = None
    while arg_at(args, i):
        if args[i] != "comment":
            raise ConfigError(f"expects 'comment' but got '{args[i]}' as argument.")
        if not arg_at(args, i + 1):
            raise ConfigError("'comment' expects a string as argument.")
        comment = args[i + 1]
        i += 2
    return comment


def parse_send(args: list[str]) -> SendRule:
    """``parse_tcpcheck_send()``: send, send-binary, send-lf, send-binary-lf."""
    kind = SendKind(args[1])
    data = arg_at(args, 2)
    if not data:
        what = "binary string" if kind is SendKind.BINARY else "string"
        raise ConfigError(f"'{what}' expects a {args[1]} as argument")
    comment = _comment_only(args, 3)
    if kind is SendKind.STRING:
        return SendRule(kind, wire(data), comment=comment)
    if kind is SendKind.BINARY:
        try:
            return SendRule(kind, parse_binary(data), comment=comment)
        except ConfigError as err:
            raise ConfigError(f"'{data}' invalid binary string ({err.message}).\n") from None
    return SendRule(kind, fmt=logformat(data), comment=comment)


@dataclass(slots=True)
class SendSpec:
    """An ``http-check send`` (or the request of ``option httpchk``) as written.

    None means "not given": when it is merged into another send rule
    (``tcpcheck_overwrite_send_http_rule()``) only the given fields win; a
    non-empty header list replaces the other one.
    """

    meth: str | None = None
    uri: str | None = None
    uri_fmt: LogFormat | None = None
    ver: str | None = None
    headers: list[tuple[str, LogFormat]] = field(default_factory=list)
    body: str | None = None
    body_fmt: LogFormat | None = None
    comment: str | None = None
    from_option: bool = False


def send_rule(spec: SendSpec) -> HttpSendRule:
    """The rule of a send that merges with nothing."""
    return HttpSendRule(
        meth=spec.meth or "OPTIONS",
        uri=spec.uri or "/",
        uri_fmt=spec.uri_fmt,
        ver=spec.ver or "HTTP/1.0",
        headers=list(spec.headers),
        body=spec.body or "",
        body_fmt=spec.body_fmt,
        from_option=spec.from_option,
        comment=spec.comment,
    )


def merge_send(old: HttpSendRule, new: SendSpec) -> None:
    """``tcpcheck_overwrite_send_http_rule()``: ``new`` wins where it says something."""
    if new.meth:
        old.meth = new.meth
    if new.uri_fmt is None and new.uri:
        old.uri, old.uri_fmt = new.uri, None
    elif new.uri_fmt is not None:
        old.uri_fmt = new.uri_fmt
    if new.ver:
        old.ver = new.ver
    if new.headers:  # 2.6.12 keeps the old list when the new one is empty (2.6.0 did not)
        old.headers = list(new.headers)
    if new.body_fmt is None and new.body:
        old.body, old.body_fmt = new.body, None
    elif new.body_fmt is not None:
        old.body_fmt = new.body_fmt


def _header_value(value: str) -> LogFormat:
    try:
        return LogFormat(value)
    except LogFormatError as err:
        raise ConfigError(err.message) from None  # printed without the usual wrapper


def parse_send_http(args: list[str]) -> SendSpec:
    """``parse_tcpcheck_send_http()``."""
    spec = SendSpec()
    uri = body = None
    uri_lf = body_lf = False
    hdrs: list[tuple[str, str]] = []
    host: str | None = None
    i = 2
    while arg_at(args, i):
        word, value = args[i], arg_at(args, i + 1)
        if word in ("meth", "uri", "uri-lf", "ver", "body", "body-lf", "comment"):
            if not value:
                raise ConfigError(f"'{word}' expects a string as argument.")
            if word == "meth":
                spec.meth = value
            elif word in ("uri", "uri-lf"):
                uri, uri_lf = value, word == "uri-lf"
            elif word == "ver":
                spec.ver = value
            elif word in ("body", "body-lf"):
                body, body_lf = value, word == "body-lf"
            else:
                spec.comment = value
            i += 2
        elif word == "hdr":
            name, hval = value, arg_at(args, i + 2)
            if not name or not hval:
                raise ConfigError("'hdr' expects <name> and <value> as arguments")
            if name.lower() == "host":
                if host is not None:
                    raise ConfigError(
                        f"'{name}' header already defined (previous value is '{host}')"
                    )
                host = hval
            if name.lower() not in ("content-length", "transfer-encoding"):
                hdrs.append((name, hval))
            i += 3
        else:
            raise ConfigError(
                "expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' "
                f"but got '{word}' as argument."
            )
    if uri is not None:
        if uri_lf:
            spec.uri_fmt = logformat(uri)
        else:
            spec.uri = uri
    spec.headers = [(name, _header_value(hval)) for name, hval in hdrs]
    if body is not None:
        if body_lf:
            spec.body_fmt = logformat(body)
        else:
            spec.body = body
    return spec


def http_header_list(text: str) -> list[tuple[str, LogFormat]]:
    """Headers hidden in the version of ``option httpchk`` (``h1_headers_to_hdr_list()``)."""
    out: list[tuple[str, LogFormat]] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or any(ch in ' \t()<>@,;\\"/[]?={}' for ch in name):
            raise ConfigError(f"unable to parse the request '{text}\r\n\r\n'.")
        out.append((name, _header_value(value.strip(" \t"))))
    return out


def parse_comment(args: list[str]) -> CommentRule:
    """``parse_tcpcheck_comment()``: extra words are ignored."""
    if not arg_at(args, 2):
        raise ConfigError("expects a string as argument")
    return CommentRule(args[2])
