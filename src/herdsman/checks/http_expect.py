"""``http-check expect``, sans-IO: ``tcpcheck_eval_expect_http()`` on a parsed
response (``http_response.py``): status codes, headers, body, with HAProxy's
texts for what failed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from herdsman.checks.http_response import ResponseParser
from herdsman.defs.rules import ExpectKind, ExpectRule, HeaderMatch, StrMatch
from herdsman.defs.status import Status
from herdsman.http import fields
from herdsman.sample.logformat import LogFormat


class Verdict(enum.Enum):
    CONTINUE = "continue"
    WAIT = "wait"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class HttpOutcome:
    """What ``tcpcheck_eval_expect_http()`` decided.

    ``info`` is the description before the expect's on-error and comment are
    applied: the reason phrase for status and header rules, HAProxy's fixed
    texts for body rules, nothing for an invalid or missing response.
    """

    verdict: Verdict
    status: Status = Status.L7RSP
    info: str = ""


CONTINUE = HttpOutcome(Verdict.CONTINUE)
WAIT = HttpOutcome(Verdict.WAIT)


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
) -> HttpOutcome:
    """``tcpcheck_eval_expect_http()``.

    ``skip_404`` is disable-on-404 on a server that is not DOWN: a 404 makes
    the rule pass whatever it tests (the final status becomes L7OKC).
    """
    last_read = last_read or resp.full or resp.complete
    if resp.error:
        return HttpOutcome(Verdict.FAIL, Status.L7RSP)
    if not resp.headers_done:
        return HttpOutcome(Verdict.FAIL, Status.L7RSP) if last_read else WAIT
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
                return HttpOutcome(
                    Verdict.FAIL, Status.L7RSP, "log-format string evaluated to an empty string"
                )
            match = found
        if match != rule.inverse:
            return CONTINUE
        info = resp.reason if rule.on_error is None else ""
        return HttpOutcome(Verdict.FAIL, err or Status.L7STS, info)
    return _eval_body(rule, resp, last_read, ctx)


def _eval_body(
    rule: ExpectRule, resp: ResponseParser, last_read: bool, ctx: Mapping[str, str]
) -> HttpOutcome:
    body = bytes(resp.body)
    err = rule.error_status or Status.L7RSP
    if not body:
        if not last_read:
            return WAIT
        info = "HTTP content check could not find a response body" if rule.on_error is None else ""
        return HttpOutcome(Verdict.FAIL, err, info)
    if rule.kind is ExpectKind.HTTP_BODY_LF:
        assert isinstance(rule.pattern, LogFormat)
        needle = rule.pattern.evaluate_bytes(ctx)
        if not needle:
            return HttpOutcome(
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
        return HttpOutcome(Verdict.FAIL, err)
    text = (
        "HTTP check matched unwanted content"
        if rule.inverse
        else "HTTP content check did not match"
    )
    return HttpOutcome(Verdict.FAIL, err, text)
