"""Parsers of single check rules: ``connect``, ``send*``, ``expect``, ``comment``.

The ``parse_tcpcheck_*()`` functions of ``src/tcpcheck.c`` (HAProxy 2.6), with
their messages as the 2.6.12 binary prints them. Each raises ConfigError with
the inner message; ``config/checks.py`` wraps it as ``'tcp-check <kw>' : <msg>.``.

Differences that herdsman refuses at parse time, with a message saying so:
``connect via-socks4`` (no SOCKS4 for checks yet), a
sample expression as ``connect port``, ``proto h2``/``fcgi`` for http-check.
Regular expressions are Python's ``re`` where HAProxy uses PCRE2: the syntax
common to both behaves the same (``(?<name>...)`` is accepted and rewritten),
but PCRE-only constructs (``\\K``, ``\\R``, ``\\h``, ``\\z``, callouts, ...) are
refused with Python's error text, and error messages and offsets differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from herdsman.config.address import invalid_address_message, parse_address
from herdsman.config.diag import ConfigError
from herdsman.config.keywords import parse_int
from herdsman.config.model import Family
from herdsman.config.resolve import resolve_now
from herdsman.defs.rules import (
    ActionRule,
    CommentRule,
    ConnectRule,
    ExpectKind,
    ExpectRule,
    HeaderMatch,
    HttpSendRule,
    Rule,
    SendKind,
    SendRule,
    StrMatch,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat, LogFormatError, parse_expr

INT_MAX = 2147483647
_MUX_TCP = ("none",)
_MUX_HTTP = ("h1", "h2", "fcgi")


def _arg(args: list[str], i: int) -> str:
    return args[i] if i < len(args) else ""


def _wire(text: str) -> bytes:
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


def _pcre_to_python(pattern: str) -> str:
    # PCRE names groups "(?<name>...)"; Python wants "(?P<name>...)".
    return re.sub(r"\(\?<(?![=!])", "(?P<", pattern)


def _regex_error(pattern: str, err: re.error) -> ConfigError:
    return ConfigError(f"regex '{pattern}' is invalid (error={err.msg}, erroffset={err.pos or 0})")


def compile_regex(pattern: str, *, nocase: bool = False) -> re.Pattern[str]:
    """``regex_comp()`` for a pattern matched against text (status code, headers)."""
    try:
        return re.compile(_pcre_to_python(pattern), re.IGNORECASE if nocase else 0)
    except re.error as err:
        raise _regex_error(pattern, err) from None


def compile_bregex(pattern: str) -> re.Pattern[bytes]:
    """``regex_comp()`` for a pattern matched against received bytes."""
    try:
        return re.compile(_wire(_pcre_to_python(pattern)))
    except re.error as err:
        raise _regex_error(pattern, err) from None


def _status(arg: str, opt: str) -> Status:
    allowed = {
        "ok-status": (("L7OK", "L7OKC", "L6OK", "L4OK"), "'L4OK', 'L6OK', 'L7OK' or 'L7OKC'"),
        "error-status": (
            ("L7RSP", "L7STS", "L7OKC", "L6RSP", "L4CON"),
            "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'",
        ),
        "tout-status": (("L7TOUT", "L6TOUT", "L4TOUT"), "'L4TOUT', 'L6TOUT' or 'L7TOUT'"),
    }[opt]
    if arg.upper() in allowed[0]:
        return Status.parse(arg.upper())
    raise ConfigError(f"'{opt}' only supports {allowed[1]} status (got '{arg}').")


def parse_status_codes(pattern: str) -> tuple[tuple[int, int], ...]:
    """The ``read_uint()`` loop of ``expect status``: ``200,201,300-310``."""
    codes: list[tuple[int, int]] = []
    p = 0

    def read_uint() -> int:
        nonlocal p
        start = p
        while p < len(pattern) and pattern[p].isdigit():
            p += 1
        return int(pattern[start:p]) if p > start else 0

    while True:
        c1 = c2 = read_uint()
        if p < len(pattern) and pattern[p] == "-":
            p += 1
            c2 = read_uint()
        if c1 > c2:
            raise ConfigError(f"invalid range of status codes '{pattern}'")
        codes.append((c1, c2))
        if p >= len(pattern):
            return tuple(codes)
        if pattern[p] != ",":
            raise ConfigError(f"invalid character '{pattern[p]}' in the list of status codes")
        p += 1


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
    while _arg(args, i):
        word, value = args[i], _arg(args, i + 1)
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
    while _arg(args, i):
        if args[i] != "comment":
            raise ConfigError(f"expects 'comment' but got '{args[i]}' as argument.")
        if not _arg(args, i + 1):
            raise ConfigError("'comment' expects a string as argument.")
        comment = args[i + 1]
        i += 2
    return comment


def parse_send(args: list[str]) -> SendRule:
    """``parse_tcpcheck_send()``: send, send-binary, send-lf, send-binary-lf."""
    kind = SendKind(args[1])
    data = _arg(args, 2)
    if not data:
        what = "binary string" if kind is SendKind.BINARY else "string"
        raise ConfigError(f"'{what}' expects a {args[1]} as argument")
    comment = _comment_only(args, 3)
    if kind is SendKind.STRING:
        return SendRule(kind, _wire(data), comment=comment)
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
    while _arg(args, i):
        word, value = args[i], _arg(args, i + 1)
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
            name, hval = value, _arg(args, i + 2)
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
    if not _arg(args, 2):
        raise ConfigError("expects a string as argument")
    return CommentRule(args[2])


# -- expect ----------------------------------------------------------------------------

_BAD_TCP = (
    "'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', "
    "'[!]binary-lf' or comment but got '{}' as argument."
)
_BAD_HTTP = (
    "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', "
    "'[!]rstatus', [!]hdr, [!]fhdr or comment but got '{}' as argument."
)
_PATTERNS = (
    "string",
    "rstring",
    "binary",
    "rbinary",
    "string-lf",
    "binary-lf",
    "status",
    "rstatus",
)
_OPTIONS = (
    "min-recv",
    "comment",
    "on-success",
    "on-error",
    "ok-status",
    "error-status",
    "tout-status",
    "status-code",
    "custom",
)
_HTTP_KINDS = {
    "string": ExpectKind.HTTP_BODY,
    "rstring": ExpectKind.HTTP_RBODY,
    "string-lf": ExpectKind.HTTP_BODY_LF,
    "status": ExpectKind.HTTP_STATUS,
    "rstatus": ExpectKind.HTTP_RSTATUS,
}
_TCP_KINDS = {
    "string": ExpectKind.STRING,
    "rstring": ExpectKind.RSTRING,
    "binary": ExpectKind.BINARY,
    "rbinary": ExpectKind.RBINARY,
    "string-lf": ExpectKind.STRING_LF,
    "binary-lf": ExpectKind.BINARY_LF,
}


def _hdr_method(args: list[str], i: int, orig: str) -> StrMatch:
    value = _arg(args, i + 1)
    if not value:
        raise ConfigError(
            f"'{orig}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')"
        )
    try:
        return StrMatch(value)
    except ValueError:
        raise ConfigError(
            f"'{orig}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{value}')"
        ) from None


def _parse_hdr(args: list[str], i: int) -> tuple[HeaderMatch, int]:
    """``hdr|fhdr name [-m meth] <pat> [value [-m meth] <pat>]``; returns the last index used."""
    orig = args[i]
    key = _arg(args, i + 1)
    if not key or not _arg(args, i + 2) or key not in ("name", "name-lf"):
        raise ConfigError(
            f"'{orig}' expects at the name keyword as first argument followed by a pattern"
        )
    name_lf = key == "name-lf"
    i += 2
    nmeth = StrMatch.STR
    if args[i] == "-m":
        nmeth = _hdr_method(args, i, orig)
        if nmeth is StrMatch.REG and name_lf:
            raise ConfigError(
                f"'{orig}': log-format string is not supported with a regex matching method"
            )
        i += 2
    npat = _arg(args, i)
    name: str | LogFormat | re.Pattern[str]
    value: str | LogFormat | re.Pattern[str] | None = None
    vmeth = StrMatch.STR
    vkey = _arg(args, i + 1)
    if vkey in ("value", "value-lf"):
        value_lf = vkey == "value-lf"
        if _arg(args, i + 2) == "-m":
            i += 2
            vmeth = _hdr_method(args, i, orig)
            if vmeth is StrMatch.REG and value_lf:
                raise ConfigError(
                    f"'{orig}': log-format string is not supported with a regex matching method"
                )
        vpat = _arg(args, i + 2)
        if not vpat:
            raise ConfigError(f"'{orig}' expect a pattern with the value keyword")
        i += 2
        if vmeth is StrMatch.REG:
            value = compile_regex(vpat)
        else:
            value = logformat(vpat) if value_lf else vpat
    if nmeth is StrMatch.REG:
        name = compile_regex(npat, nocase=True)
    else:
        name = logformat(npat) if name_lf else npat
    return HeaderMatch(name, nmeth, value, vmeth, full=orig == "fhdr"), i


def parse_expect(args: list[str], *, http: bool) -> ExpectRule:
    """``parse_tcpcheck_expect()``."""
    if not _arg(args, 2):
        raise ConfigError("expects at least a matching pattern as arguments")
    bad = _BAD_HTTP if http else _BAD_TCP
    kinds = _HTTP_KINDS if http else _TCP_KINDS
    kind: ExpectKind | None = None
    word_kind = pattern = ""
    hdr: HeaderMatch | None = None
    inverse = False
    opts: dict[str, object] = {}
    min_recv = -1
    i = 2
    while _arg(args, i):
        word, in_pattern = args[i], False
        while word.startswith("!"):
            in_pattern = True
            while word.startswith("!"):
                inverse, word = not inverse, word[1:]
            if not word:
                i += 1
                word = _arg(args, i)
        if in_pattern and word in _OPTIONS:
            raise ConfigError(f"[!] not supported with '{word}'")
        value = _arg(args, i + 1)
        if word == "min-recv":
            if not value:
                raise ConfigError(f"'{word}' expects a integer as argument")
            min_recv = parse_int(value)
            if not -1 <= min_recv <= INT_MAX:
                raise ConfigError(f"'{word}' expects -1 or an integer from 0 to INT_MAX")
            i += 1
        elif word in _PATTERNS or word in ("hdr", "fhdr"):
            if word not in kinds and word not in ("hdr", "fhdr"):
                raise ConfigError(bad.format(word))
            if word in ("hdr", "fhdr") and not http:
                raise ConfigError(_BAD_TCP.format(word))
            if kind is not None:
                raise ConfigError("only on pattern expected")
            if word in ("hdr", "fhdr"):
                kind = ExpectKind.HTTP_HEADER
                hdr, i = _parse_hdr(args, i)
            else:
                kind, word_kind = kinds[word], word
                if not value:
                    raise ConfigError(f"'{word}' expects a <pattern> as argument")
                pattern = value
                i += 1
        elif word == "custom":
            if kind is not None:
                raise ConfigError("only on pattern expected")
            kind = ExpectKind.CUSTOM
        elif word in (
            "comment",
            "on-success",
            "on-error",
            "ok-status",
            "error-status",
            "tout-status",
            "status-code",
        ):
            if not value:
                what = "an expression" if word == "status-code" else "a string"
                raise ConfigError(f"'{word}' expects {what} as argument")
            if word.endswith("-status"):
                opts[word.replace("-", "_")] = _status(value, word)
            elif word == "status-code":
                try:
                    parse_expr(value)
                except LogFormatError as err:
                    raise ConfigError(
                        f"error detected while parsing status-code expression : {err.message}"
                    ) from None
                opts["status_code"] = value
            else:
                opts[word.replace("-", "_")] = value
            i += 1
        else:
            raise ConfigError(bad.format(word))
        i += 1
    if "on_success" in opts:
        opts["on_success"] = logformat(str(opts["on_success"]))
    if "on_error" in opts:
        opts["on_error"] = logformat(str(opts["on_error"]))
    if kind is None:
        raise ConfigError("pattern not found")
    return ExpectRule(
        kind,
        _pattern(kind, word_kind, pattern, hdr),
        pattern,
        inverse=inverse,
        min_recv=min_recv,
        **opts,  # type: ignore[arg-type]
    )


def _pattern(kind: ExpectKind, word: str, pattern: str, hdr: HeaderMatch | None) -> object:
    if kind is ExpectKind.HTTP_HEADER:
        return hdr
    if kind is ExpectKind.CUSTOM:
        return None
    if kind is ExpectKind.HTTP_STATUS:
        return parse_status_codes(pattern)
    if kind in (ExpectKind.STRING, ExpectKind.HTTP_BODY):
        return _wire(pattern)
    if kind is ExpectKind.BINARY:
        try:
            return parse_binary(pattern)
        except ConfigError as err:
            raise ConfigError(f"invalid binary string ({err.message})") from None
    if kind is ExpectKind.HTTP_RSTATUS:
        return compile_regex(pattern)
    if word in ("rstring", "rbinary"):
        return compile_bregex(pattern)
    return logformat(pattern)  # string-lf, binary-lf
