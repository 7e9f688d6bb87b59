"""The verdicts of expect rules, sans-IO, and HAProxy's texts about them.

* ``tcp-check expect`` on the raw input buffer: ``eval_tcp_expect()``
  (``tcpcheck_eval_expect()``: strings, binary, regexes, log-format patterns;
  custom functions are the interpreter's, ``custom.py``);
* ``http-check expect`` on a parsed response (``http_response.py``):
  ``eval_http_expect()`` (``tcpcheck_eval_expect_http()``: status codes,
  headers, body);
* the texts: ``generic_error()`` (``tcpcheck_expect_onerror_message()``
  without on-error) and ``expect_what()`` (the "(expect ...)" of a step).

Each returns an ``Outcome``: go on, wait for more data, or fail with a status
and an info text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from herdsman.checks.http_response import ResponseParser
from herdsman.defs.rules import ExpectKind, ExpectRule, HeaderMatch, StrMatch
from herdsman.defs.status import Status
from herdsman.http import fields
from herdsman.sample.logformat import BUFSIZE, LogFormat, Value


class Verdict(enum.Enum):
    CONTINUE = "continue"
    WAIT = "wait"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an expect decided.

    ``info`` is the description before the expect's on-error and comment are
    applied: the reason phrase for HTTP status and header rules, HAProxy's
    fixed texts for body rules and log-format errors, nothing for an invalid or
    missing response or an ordinary mismatch (then ``match`` says whether the
    pattern was found, for ``generic_error()``).
    """

    verdict: Verdict
    status: Status = Status.L7RSP
    info: str = ""
    match: bool = False


CONTINUE = Outcome(Verdict.CONTINUE)
WAIT = Outcome(Verdict.WAIT)


# -- tcp-check expect --------------------------------------------------------------------


def eval_tcp_expect(
    rule: ExpectRule, data: bytes, last_read: bool, ctx: Callable[[], Mapping[str, Value]]
) -> Outcome:
    """``tcpcheck_eval_expect()`` on what the buffer holds (any kind but CUSTOM).

    ``last_read``: no more data will come (closed, broken or a full buffer);
    ``ctx`` gives the sample context of log-format patterns (``res.payload``).
    """
    kind = rule.kind
    if not last_read:
        pattern = rule.pattern
        if (
            kind in (ExpectKind.STRING, ExpectKind.BINARY)
            and isinstance(pattern, bytes)
            and len(data) < len(pattern)
        ):
            return WAIT
        if rule.min_recv > 0 and len(data) < rule.min_recv:
            return WAIT
    if kind in (ExpectKind.STRING, ExpectKind.BINARY):
        assert isinstance(rule.pattern, bytes)
        match = rule.pattern in data
    elif kind is ExpectKind.RSTRING:
        assert isinstance(rule.pattern, re.Pattern)
        match = rule.pattern.search(data[: BUFSIZE - 1]) is not None
    elif kind is ExpectKind.RBINARY:
        assert isinstance(rule.pattern, re.Pattern)
        match = rule.pattern.search(data.hex().upper().encode()[: BUFSIZE - 1]) is not None
    else:  # STRING_LF, BINARY_LF
        assert isinstance(rule.pattern, LogFormat)
        needle = rule.pattern.evaluate_bytes(ctx())
        match = False
        if not needle:
            info = "log-format string evaluated to an empty string"
            return Outcome(Verdict.FAIL, Status.L7RSP, info)
        if kind is ExpectKind.BINARY_LF:
            try:
                needle = bytes.fromhex(needle.decode("ascii"))
            except ValueError:
                info = "Failed to parse hexastring resulting of eval of a log-format string"
                return Outcome(Verdict.FAIL, Status.L7RSP, info)
        if len(data) < len(needle):
            if not last_read:
                return WAIT
        else:
            match = needle in data
    if not match and not last_read and rule.min_recv == -1:
        return WAIT
    if match != rule.inverse:
        return CONTINUE
    return Outcome(Verdict.FAIL, rule.error_status or Status.L7RSP, match=match)


def generic_error(rule: ExpectRule, match: bool, step: int) -> str:
    """The text of a failed ``tcp-check expect`` without ``on-error``."""
    head = "TCPCHK matched unwanted content" if match else "TCPCHK did not match content"
    what = {
        ExpectKind.BINARY: " (binary)",
        ExpectKind.RSTRING: " (regex)",
        ExpectKind.RBINARY: " (binary regex)",
        ExpectKind.STRING_LF: " (log-format string)",
        ExpectKind.BINARY_LF: " (log-format binary)",
        ExpectKind.CUSTOM: " (custom function)",
    }.get(rule.kind)
    if what is None:  # STRING
        what = f" '{rule.pattern_text}'"
    return f"{head}{what} at step {step}"


def expect_what(rule: ExpectRule) -> str:
    """The "(expect ...)" part of timeout and connection error texts."""
    kind = rule.kind
    if kind is ExpectKind.STRING:
        return f" (expect string '{rule.pattern_text}')"
    if kind is ExpectKind.BINARY:
        # printed with "%.*s": the text stops at the first NUL byte
        raw = rule.pattern if isinstance(rule.pattern, bytes) else b""
        shown = raw.split(b"\0", 1)[0].decode("latin-1")
        return f" (expect binary '{shown}')"
    if kind is ExpectKind.HTTP_BODY:
        return f" (expect HTTP body content '{rule.pattern_text}')"
    return {
        ExpectKind.RSTRING: " (expect regex)",
        ExpectKind.RBINARY: " (expect binary regex)",
        ExpectKind.STRING_LF: " (expect log-format string)",
        ExpectKind.BINARY_LF: " (expect log-format binary)",
        ExpectKind.HTTP_STATUS: " (expect HTTP status codes)",
        ExpectKind.HTTP_RSTATUS: " (expect HTTP status regex)",
        ExpectKind.HTTP_HEADER: " (expect HTTP header pattern)",
        ExpectKind.HTTP_RBODY: " (expect HTTP body regex)",
        ExpectKind.HTTP_BODY_LF: " (expect log-format HTTP body)",
        ExpectKind.CUSTOM: " (expect custom function)",
    }[kind]


# -- http-check expect -------------------------------------------------------------------


def _match_str(method: StrMatch, subject: str, pattern: str, *, nocase: bool) -> bool:
    if nocase:
        subject, pattern = subject.lower(), pattern.lower()
    if method is StrMatch.STR:
        return subject == pattern
    if method is StrMatch.BEG:
        return subject.startswith(pattern)
    if method is StrMatch.END:
        return subject.endswith(pattern)
    return pattern in subject  # SUB


def _values(value: str, full: bool) -> list[str]:
    """``http_find_header()``: the comma-separated elements, trimmed, unless ``full``."""
    if full:
        return [value.strip(" \t")]
    out: list[str] = []
    raw = value.encode("latin-1")  # as received: one byte per character
    i = 0
    while True:
        end = fields.value_end(raw, i)
        out.append(value[i:end].strip(" \t"))
        if end >= len(value):
            return out
        i = end + 1


def _header_matches(
    match: HeaderMatch, headers: list[tuple[str, str]], ctx: Mapping[str, str]
) -> bool | None:
    """The ``TCPCHK_EXPECT_HTTP_HEADER`` loop; None when a log-format evaluates empty."""
    npat = match.name
    if isinstance(npat, LogFormat):
        npat = npat.evaluate(ctx)
        if not npat:
            return None
    vpat = match.value
    if isinstance(vpat, LogFormat):
        vpat = vpat.evaluate(ctx)
        if not vpat:
            return None
    full = match.full or vpat is None
    for name, value in headers:
        low = name.lower()  # HTX stores names in lower case
        if isinstance(npat, re.Pattern):
            if npat.search(low) is None:
                continue
        elif npat and not _match_str(match.name_method, low, npat, nocase=True):
            continue
        if vpat is None:
            return True
        for element in _values(value, full):
            if isinstance(vpat, re.Pattern):
                if vpat.search(element) is not None:
                    return True
            elif _match_str(match.value_method, element, vpat, nocase=False):
                return True
    return False


def _status_in(pattern: object, status: int) -> bool:
    assert isinstance(pattern, tuple)  # ((lo, hi), ...) from parse_status_codes()
    return any(lo <= status <= hi for lo, hi in pattern)


def eval_http_expect(
    rule: ExpectRule,
    resp: ResponseParser,
    last_read: bool,
    ctx: Mapping[str, str],
    *,
    skip_404: bool = False,
) -> Outcome:
    """``tcpcheck_eval_expect_http()``.

    ``skip_404`` is disable-on-404 on a server that is not DOWN: a 404 makes
    the rule pass whatever it tests (the final status becomes L7OKC).
    """
    last_read = last_read or resp.full or resp.complete
    if resp.error:
        return Outcome(Verdict.FAIL, Status.L7RSP)
    if not resp.headers_done:
        return Outcome(Verdict.FAIL, Status.L7RSP) if last_read else WAIT
    if skip_404 and resp.status == 404:
        return CONTINUE
    err = rule.error_status
    kind = rule.kind
    if kind in (ExpectKind.HTTP_STATUS, ExpectKind.HTTP_RSTATUS, ExpectKind.HTTP_HEADER):
        if kind is ExpectKind.HTTP_STATUS:
            match = _status_in(rule.pattern, resp.status)
        elif kind is ExpectKind.HTTP_RSTATUS:
            assert isinstance(rule.pattern, re.Pattern)
            match = rule.pattern.search(resp.code_text) is not None
        else:
            assert isinstance(rule.pattern, HeaderMatch)
            found = _header_matches(rule.pattern, resp.headers, ctx)
            if found is None:
                return Outcome(
                    Verdict.FAIL, Status.L7RSP, "log-format string evaluated to an empty string"
                )
            match = found
        if match != rule.inverse:
            return CONTINUE
        info = resp.reason if rule.on_error is None else ""
        return Outcome(Verdict.FAIL, err or Status.L7STS, info)
    return _eval_body(rule, resp, last_read, ctx)


def _eval_body(
    rule: ExpectRule, resp: ResponseParser, last_read: bool, ctx: Mapping[str, str]
) -> Outcome:
    body = bytes(resp.body)
    err = rule.error_status or Status.L7RSP
    if not body:
        if not last_read:
            return WAIT
        info = "HTTP content check could not find a response body" if rule.on_error is None else ""
        return Outcome(Verdict.FAIL, err, info)
    if rule.kind is ExpectKind.HTTP_BODY_LF:
        assert isinstance(rule.pattern, LogFormat)
        needle = rule.pattern.evaluate_bytes(ctx)
        if not needle:
            return Outcome(
                Verdict.FAIL, Status.L7RSP, "log-format string evaluated to an empty string"
            )
    elif rule.kind is ExpectKind.HTTP_BODY:
        assert isinstance(rule.pattern, bytes)
        needle = rule.pattern
    else:
        needle = b""
    if not last_read and (len(body) < len(needle) or 0 < rule.min_recv > len(body)):
        return WAIT
    if rule.kind is ExpectKind.HTTP_RBODY:
        assert isinstance(rule.pattern, re.Pattern)
        match = rule.pattern.search(body) is not None
    else:
        match = needle in body
    if not match and not last_read and rule.min_recv == -1:
        return WAIT
    if match != rule.inverse:
        return CONTINUE
    if rule.on_error is not None:
        return Outcome(Verdict.FAIL, err)
    text = (
        "HTTP check matched unwanted content"
        if rule.inverse
        else "HTTP content check did not match"
    )
    return Outcome(Verdict.FAIL, err, text)
