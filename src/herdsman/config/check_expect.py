"""Parser of check ``expect`` rules (``parse_tcpcheck_expect()`` of
``src/tcpcheck.c``, HAProxy 2.6), for tcp-check and http-check: the match kinds,
their patterns (strings, binary, regular expressions, status code lists, header
matches) and options, with the messages the 2.6.12 binary prints.

Regular expressions are Python's ``re`` where HAProxy uses PCRE2: the syntax
common to both behaves the same (``(?<name>...)`` is accepted and rewritten),
but PCRE-only constructs (``\\K``, ``\\R``, ``\\h``, ``\\z``, callouts, ...) are
refused with Python's error text, and error messages and offsets differ.
"""

from __future__ import annotations

import re

from herdsman.config.check_rules import INT_MAX, arg_at, logformat, parse_binary, wire
from herdsman.config.diag import ConfigError
from herdsman.config.keywords import parse_int
from herdsman.defs.rules import (
    ExpectKind,
    ExpectRule,
    HeaderMatch,
    StrMatch,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat, LogFormatError, parse_expr


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
        return re.compile(wire(_pcre_to_python(pattern)))
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
# the options that take a value
_VALUED = (
    "comment",
    "on-success",
    "on-error",
    "ok-status",
    "error-status",
    "tout-status",
    "status-code",
)
_OPTIONS = ("min-recv", *_VALUED, "custom")
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
    value = arg_at(args, i + 1)
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
    key = arg_at(args, i + 1)
    if not key or not arg_at(args, i + 2) or key not in ("name", "name-lf"):
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
    npat = arg_at(args, i)
    name: str | LogFormat | re.Pattern[str]
    value: str | LogFormat | re.Pattern[str] | None = None
    vmeth = StrMatch.STR
    vkey = arg_at(args, i + 1)
    if vkey in ("value", "value-lf"):
        value_lf = vkey == "value-lf"
        if arg_at(args, i + 2) == "-m":
            i += 2
            vmeth = _hdr_method(args, i, orig)
            if vmeth is StrMatch.REG and value_lf:
                raise ConfigError(
                    f"'{orig}': log-format string is not supported with a regex matching method"
                )
        vpat = arg_at(args, i + 2)
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
    if not arg_at(args, 2):
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
    while arg_at(args, i):
        word, in_pattern = args[i], False
        while word.startswith("!"):
            in_pattern = True
            while word.startswith("!"):
                inverse, word = not inverse, word[1:]
            if not word:
                i += 1
                word = arg_at(args, i)
        if in_pattern and word in _OPTIONS:
            raise ConfigError(f"[!] not supported with '{word}'")
        value = arg_at(args, i + 1)
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
        elif word in _VALUED:
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
        return wire(pattern)
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
