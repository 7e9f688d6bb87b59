"""The response of an HTTP check, sans-IO: HAProxy parses it with the H1 mux of
the check's connection (``src/h1.c h1_headers_to_hdr_list()``,
``src/h1_htx.c``), then ``tcpcheck_eval_expect_http()`` (``http_expect.py``)
judges it.

Strict (``accept-invalid-http-response`` is not set for checks): a malformed
start line or header makes the response invalid, which is L7RSP with no info,
exactly like an empty response. Content-Length and Transfer-Encoding follow
the data path's rules (``herdsman.http.fields``, the same ``h1_parse_*_header()``
functions in HAProxy). At most one buffer (``tune.bufsize``) of it is judged.
"""

from __future__ import annotations

import enum
import re

from herdsman.http import fields
from herdsman.sample.logformat import BUFSIZE  # one buffer of response is judged

_LWS = b" \t\r\n"
# A status line: version (HTTP_IS_VER_TOKEN), blanks, code digits, then an
# optional reason; h1_process_res_vsn() wants exactly "?/d.d" as version.
_START_LINE = re.compile(rb"([./0-9A-Za-z]{4}/[0-9]\.[0-9])[ \t]+([0-9]+)(?:[ \t]+([^\r\n]*))?")
# A header line: tchar* then a colon, or an obs-fold continuation; no lone CR.
_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*:[^\r]*|[ \t][^\r]*")
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_PARTIAL_START = re.compile(rb"[./0-9A-Za-z]*(?:[ \t][^\r\n]*)?\r?")


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
        clen = -1
        te = chunked = te_seen = False
        for line in folded:
            name, _, value = line.partition(b":")
            value = value.strip(_LWS)
            low = name.lower()
            try:
                # h1_headers_to_hdr_list()'s rules, shared with the data path
                if low == b"content-length":
                    clen, _ = fields.content_length(value, clen)
                elif low == b"transfer-encoding":
                    te = True
                    chunked, te_seen, _ = fields.transfer_encoding(value, False, chunked, te_seen)
            except ValueError:
                self.error = True
                return False
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if te:
            clen = -1  # T-E wins; HAProxy drops Content-Length
            self.headers = [(n, v) for n, v in self.headers if n.lower() != "content-length"]
        self.headers_done = True
        if self._head or 100 <= self.status < 200 or self.status in (204, 304):
            self._mode = _Body.NONE
        elif chunked:
            self._mode = _Body.CHUNKED
        elif clen >= 0:
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
