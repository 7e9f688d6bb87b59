"""HTTP checks, sans-IO: the request bytes, the response parser, ``http-check expect``.

HAProxy builds an HTX request in ``tcpcheck_eval_send()`` and lets the H1 mux
(``src/mux_h1.c h1_process_mux()``) write it; the response is parsed by the
same mux (``src/h1.c h1_headers_to_hdr_list()``, ``src/h1_htx.c``) and judged
by ``tcpcheck_eval_expect_http()``. This module reproduces the bytes of the
Debian 2.6.12 binary (observed-2.6.12-checks.md §5, VERBATIM) and the
verdicts, without sockets: the interpreter (``tcpcheck.py``) feeds it.

Request, in order: ``<meth> <uri> <ver>``, the configured headers with
lower-cased names (empty values dropped), ``x-haproxy-server-state`` for
send-state, ``content-length`` (omitted without a body for GET, HEAD, OPTIONS
and DELETE, as 2.6.12 does), then the ``connection`` header the H1 mux
derives (``h1_parse_connection_header()``, ``h1_set_srv_conn_mode()``,
``h1_update_req_conn_value()``): ``close`` for HTTP/1.1 unless a Connection
header was configured, nothing for HTTP/1.0.

Response: strict (``accept-invalid-http-response`` is not set for checks): a
malformed start line or header makes the response invalid, which is L7RSP with
no info, exactly like an empty response.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from herdsman.defs.rules import ExpectKind, ExpectRule, HeaderMatch, HttpSendRule, StrMatch
from herdsman.defs.status import Status
from herdsman.http import fields
from herdsman.sample.logformat import BUFSIZE, LogFormat  # one buffer of response is judged

_LWS = b" \t\r\n"
# A status line: version (HTTP_IS_VER_TOKEN), blanks, code digits, then an
# optional reason; h1_process_res_vsn() wants exactly "?/d.d" as version.
_START_LINE = re.compile(rb"([./0-9A-Za-z]{4}/[0-9]\.[0-9])[ \t]+([0-9]+)(?:[ \t]+([^\r\n]*))?")
# A header line: tchar* then a colon, or an obs-fold continuation; no lone CR.
_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*:[^\r]*|[ \t][^\r]*")
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_PARTIAL_START = re.compile(rb"[./0-9A-Za-z]*(?:[ \t][^\r\n]*)?\r?")
# Methods for which 2.6.12's H1 mux drops "content-length: 0" from a bodyless
# request (case-sensitive, as find_http_meth()).
_NO_PAYLOAD_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "DELETE"))


def _wire(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# -- request -------------------------------------------------------------------------


def _version_flags(ver: str) -> tuple[bool, bool]:
    """(HTX ``HTX_SL_F_VER_11``, H1 mux ``H1_MF_VER_11``) for a version string.

    ``tcpcheck_eval_send()`` also flags a 6-character ``HTTP/2`` as 1.1, so the
    mux writes ``HTTP/1.1``; but ``h1_parse_req_vsn()`` only looks at
    8-character versions, so such a request gets no ``connection: close``.
    """
    v8 = len(ver) == 8 and (ver[5] > "1" or (ver[5] == "1" and ver[7] >= "1"))
    return (len(ver) == 6 and ver[5] == "2") or v8, v8


def _clean_connection(value: str) -> tuple[str, bool, bool, bool]:
    """``h1_parse_connection_header()`` with ``H1_MF_CLEAN_CONN_HDR`` (the HTTP
    engine's ``fields.connection()``): the value left once ``close`` and
    ``keep-alive`` are removed, and the (close, keep-alive, upgrade) tokens seen."""
    cleaned, close, kal, upg = fields.connection(_wire(value))
    return cleaned.decode("utf-8", "surrogateescape"), close, kal, upg


def _value_end(value: str, i: int) -> int:
    """``http_find_hdr_value_end()``: the next comma outside a quoted string."""
    quoted = False
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ",":
            return i
        i += 1
    return len(value)


def _absolute_authority(uri: str) -> tuple[int, int] | None:
    """Bounds of the authority of an absolute URI (``http_parse_authority()``)."""
    m = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", uri)
    if m is None:
        return None
    end = m.end()
    while end < len(uri) and uri[end] not in "/?#":
        end += 1
    return m.end(), end


def build_request(
    rule: HttpSendRule,
    ctx: Mapping[str, str],
    *,
    state: str | None = None,
    force_close: bool = False,
    fake_keepalive: bool = False,
) -> bytes:
    """The bytes of one HTTP check request, as the 2.6.12 binary sends them.

    ``state`` is the send-state header value (None without send-state).
    ``force_close`` is ``option httpclose``/``http-server-close`` on the
    backend and ``fake_keepalive`` ``option http-pretend-keepalive``: the H1
    mux applies both to check requests too.
    """
    # Most checks send the same bytes every time: build them once.
    constant = (
        state is None
        and rule.uri_fmt is None
        and rule.body_fmt is None
        and all(fmt.is_literal for _, fmt in rule.headers)
    )
    if constant:
        cached = rule.wire.get((force_close, fake_keepalive))
        if cached is not None:
            return cached
    data = _build(rule, ctx, state, force_close, fake_keepalive)
    if constant:
        rule.wire[(force_close, fake_keepalive)] = data
    return data


def _build(
    rule: HttpSendRule,
    ctx: Mapping[str, str],
    state: str | None,
    force_close: bool,
    fake_keepalive: bool,
) -> bytes:
    meth = rule.meth or "OPTIONS"
    uri = rule.uri_fmt.evaluate(ctx) if rule.uri_fmt is not None else rule.uri
    uri = uri or "/"
    ver = rule.ver or "HTTP/1.0"
    htx_11, mux_11 = _version_flags(ver)
    body = _wire(rule.body_fmt.evaluate(ctx)) if rule.body_fmt is not None else _wire(rule.body)

    headers: list[tuple[str, str]] = []
    conn_hdr = close = kal = upg = False
    for name, fmt in rule.headers:
        value = fmt.evaluate(ctx)
        if not value:
            continue
        low = name.lower()
        if low == "host":
            bounds = _absolute_authority(uri)
            if bounds is not None:  # http_update_authority()
                uri = uri[: bounds[0]] + value + uri[bounds[1] :]
        elif low == "connection":
            conn_hdr = True
            value, c, k, u = _clean_connection(value)
            close, kal, upg = close or c, kal or k, upg or u
            if not value:
                continue
        elif low == "te":
            # The H1 mux only lets "te: trailers" through.
            at = value.find("trailers")
            if at < 0 or (len(value) > at + 8 and value[at + 8] != ","):
                continue
            value = "trailers"
        headers.append((low, value))
    if state is not None:
        headers.append(("x-haproxy-server-state", state))
    if body or meth not in _NO_PAYLOAD_METHODS:
        headers.append(("content-length", str(len(body))))
    if not conn_hdr:
        close = True  # tcpcheck_eval_send() adds "Connection: close"

    # h1_set_srv_conn_mode() then h1_update_req_conn_value() (output side).
    want_close = close or (not kal and force_close)
    conn_value = ""
    if not upg:
        if not want_close or fake_keepalive:
            conn_value = "" if mux_11 else "keep-alive"
        elif mux_11:
            conn_value = "close"
    if conn_value:
        headers.append(("connection", conn_value))

    line = f"{meth} {uri} {'HTTP/1.1' if htx_11 else ver}\r\n"
    head = line + "".join(f"{n}: {v}\r\n" for n, v in headers) + "\r\n"
    return _wire(head) + body


# -- response ------------------------------------------------------------------------


class _Body(enum.Enum):
    NONE = 0  # bodyless: HEAD, 1xx, 204, 304
    LENGTH = 1
    CHUNKED = 2
    CLOSE = 3  # until the connection closes


class ResponseParser:
    """Incremental HTTP/1 response parser, as strict as HAProxy's for checks.

    Feed it with ``feed()``; ``eof()`` when the peer closed. Once the headers
    are in, ``status``, ``reason``, ``code_text`` and ``headers`` are set; the
    de-chunked body accumulates in ``body`` (at most one buffer, BUFSIZE).
    ``error`` is ``HTX_FL_PARSING_ERROR``; ``complete`` is ``HTX_FL_EOM``.
    """

    def __init__(self, head_request: bool = False) -> None:
        self._head = head_request
        self._raw = bytearray()
        self._checked = 0  # bytes of complete header lines already validated
        self._mode = _Body.CLOSE
        self._left = 0  # LENGTH: bytes left; CHUNKED: bytes left in the chunk
        self._chunk_state = "size"  # size | data | crlf | trailers | done
        self.headers_done = False
        self.error = False
        self.complete = False
        self.eos = False
        self.status = 0
        self.reason = ""
        self.code_text = ""
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.received = 0  # raw bytes taken in (for the buffer-full test)

    @property
    def full(self) -> bool:
        """The check's buffer is full: no more data will be read (``b_full()``)."""
        return self.received >= BUFSIZE

    def feed(self, data: bytes) -> None:
        if self.error or self.complete or not data:
            return
        self.received += len(data)
        if not self.headers_done:
            self._raw += data
            if not self._parse_head():
                if not self.error and len(self._raw) >= BUFSIZE:
                    self.error = True  # headers larger than the buffer
                return
            data = bytes(self._raw)
            self._raw.clear()
        self._parse_body(data)

    def eof(self) -> None:
        self.eos = True
        if not self.headers_done:
            if self._raw.strip(b"\r\n"):
                self.error = True  # premature close within the headers
            return
        if self._mode is _Body.CLOSE:
            self.complete = True

    # head ------------------------------------------------------------------------

    def _parse_head(self) -> bool:
        """Parse what arrived of the head; True once it is complete and valid.

        The usual case, a whole head in one read, is checked in one pass; an
        incomplete head has its complete lines checked, so that garbage fails
        at once rather than at the timeout, as in HAProxy's parser.
        """
        raw = self._raw
        start = len(raw) - len(raw.lstrip(b"\r\n"))  # leading empty lines are skipped
        # the blank line may begin with the line end just before what was checked
        end = _END_OF_HEAD.search(raw, max(start, self._checked - 2))
        if end is None:
            self.error = not self._lines_ok(start)
            return False
        lines = bytes(raw[start : end.start()]).split(b"\n")
        crs = [line.endswith(b"\r") for line in lines]
        lines = [line[:-1] if cr else line for line, cr in zip(lines, crs, strict=True)]
        if (
            not self._start_line(lines[0])
            or any(_HEADER_LINE.fullmatch(line) is None for line in lines[1:])
            or (len(lines) > 1 and lines[1][:1] in (b" ", b"\t"))
        ):
            self.error = True
            return False
        return self._end_head(lines[1:], crs[1:], end.end())

    def _lines_ok(self, start: int) -> bool:
        """Check the complete lines of an incomplete head (and a partial start line)."""
        raw = self._raw
        pos = max(self._checked, start)
        while True:
            nl = raw.find(b"\n", pos)
            if nl < 0:
                return pos != start or _PARTIAL_START.fullmatch(raw, start) is not None
            line = bytes(raw[pos:nl])
            line = line[:-1] if line.endswith(b"\r") else line
            if pos == start:
                ok = self._start_line(line)
            else:
                ok = _HEADER_LINE.fullmatch(line) is not None and (
                    line[:1] not in (b" ", b"\t") or raw.rfind(b"\n", start, pos - 1) >= 0
                )
            if not ok:
                return False
            pos = self._checked = nl + 1

    def _start_line(self, line: bytes) -> bool:
        """``H1_MSG_RPVER`` to ``H1_MSG_RPLINE_END`` plus ``h1_process_res_vsn()``."""
        m = _START_LINE.fullmatch(line)
        if m is None:
            return False
        self.code_text = m.group(2).decode("ascii")
        self.status = int(self.code_text) & 0xFFFF  # uint16_t in the HTX start line
        self.reason = (m.group(3) or b"").decode("latin-1")
        return True

    def _end_head(self, lines: list[bytes], crs: list[bool], consumed: int) -> bool:
        """The headers (``lines`` without their CR, ``crs`` telling which had one)."""
        folded: list[bytes] = []
        cr_before = False
        for line, cr in zip(lines, crs, strict=True):
            if line[:1] in (b" ", b"\t") and folded:
                # obs-fold: the CR LF before it become spaces, nothing is trimmed
                folded[-1] += (b"  " if cr_before else b" ") + line
            elif line:
                folded.append(line)
            cr_before = cr
        clen: int | None = None
        te = chunked = False
        for line in folded:
            name, _, value = line.partition(b":")
            n = name.decode("latin-1")
            v = value.strip(_LWS).decode("latin-1")
            low = n.lower()
            if low == "content-length":
                parsed = content_length(v, clen)
                if parsed is None:
                    self.error = True
                    return False
                clen = parsed
            elif low == "transfer-encoding":
                te = True
                tokens = [t.strip(" \t").lower() for t in v.split(",") if t.strip(" \t")]
                if tokens.count("chunked") > 1:
                    self.error = True
                    return False
                chunked = bool(tokens) and tokens[-1] == "chunked"
            self.headers.append((n, v))
        if te:
            clen = None  # T-E wins; HAProxy drops Content-Length
            self.headers = [(n, v) for n, v in self.headers if n.lower() != "content-length"]
        self.headers_done = True
        if self._head or 100 <= self.status < 200 or self.status in (204, 304):
            self._mode = _Body.NONE
        elif chunked:
            self._mode = _Body.CHUNKED
        elif clen is not None:
            self._mode, self._left = _Body.LENGTH, clen
        else:
            self._mode = _Body.CLOSE
        if self._mode is _Body.NONE or (self._mode is _Body.LENGTH and clen == 0):
            self.complete = True
        del self._raw[:consumed]
        return True

    # body ------------------------------------------------------------------------

    def _take(self, data: bytes) -> None:
        room = BUFSIZE - len(self.body)
        if room > 0:
            self.body += data[:room]

    def _parse_body(self, data: bytes) -> None:
        if self.complete or not data:
            return
        if self._mode is _Body.CLOSE:
            self._take(data)
        elif self._mode is _Body.LENGTH:
            self._take(data[: self._left])
            self._left -= min(self._left, len(data))
            self.complete = self._left == 0
        elif self._mode is _Body.CHUNKED:
            self._raw += data
            self._parse_chunks()

    def _parse_chunks(self) -> None:
        """``h1_parse_chunk_size()``, ``h1_skip_chunk_crlf()``, ``h1_measure_trailers()``."""
        raw = self._raw
        while raw and not self.error and not self.complete:
            if self._chunk_state == "data":
                n = min(self._left, len(raw))
                self._take(bytes(raw[:n]))
                del raw[:n]
                self._left -= n
                if self._left == 0:
                    self._chunk_state = "crlf"
                continue
            nl = raw.find(b"\n")
            if nl < 0:
                return
            line = bytes(raw[:nl])
            del raw[: nl + 1]
            if line.endswith(b"\r"):
                line = line[:-1]
            if self._chunk_state == "crlf":
                if line:
                    self.error = True
                self._chunk_state = "size"
            elif self._chunk_state == "size":
                m = re.fullmatch(rb"([0-9A-Fa-f]+)[ \t]*(;.*)?", line)
                if m is None or b"\r" in line:
                    self.error = True
                    return
                self._left = int(m.group(1), 16)
                self._chunk_state = "data" if self._left else "trailers"
            elif not line:  # trailers end at an empty line
                self.complete = True


def content_length(value: str, previous: int | None) -> int | None:
    """``h1_parse_cont_len_header()``: digits, duplicates must agree; None if invalid."""
    result = previous
    for word in value.split(","):
        word = word.strip(" \t")
        if not word or not (word.isascii() and word.isdigit()):
            return None
        number = int(word)
        if result is not None and number != result:
            return None
        result = number
    return result


# -- expect --------------------------------------------------------------------------


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
    i = 0
    while True:
        end = _value_end(value, i)
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
