"""The exact HTTP/1 head lexer: HAProxy 2.6's ``h1_headers_to_hdr_list()``, line by line.

``parse.py`` handles the common canonical head with a few C-level calls; every
other head comes here: leading empty lines, bare LF line ends, runs of blanks
in the start line, obs-fold, HTTP/0.9, lenient mode (``option
accept-invalid-http-request``/``-response``), and heads that are not complete
yet. It walks the input as HAProxy's state machine does, left to right, so the
first error found is HAProxy's, and it resumes where it stopped when more data
comes (a head fed byte by byte costs a linear scan, not a quadratic one).

Rules taken from the 2.6.12 binary where they differ from a plain reading of
RFC 9112 (observed-2.6.12, docs/http.md):

* a CR must be followed by LF everywhere, but a bare LF ends a line;
* header values may hold any byte but CR and LF (NUL included);
* obs-fold is unfolded: the CR/LF of the folded line become spaces;
* a blank before a header's colon, an empty name, a non-token byte in a name
  are errors (lenient mode accepts any name byte but LF);
* the request-URI takes bytes 0x21-0x7e but '#', and whatever the 4-byte
  "skip" loop of ``H1_MSG_RQURI`` lets through (``_uri_end()``).

The lexer produces the start line, the header fields as received and the
fields to forward (through ``semantics.Fields``), and builds the bytes HAProxy
would forward, normalised (CRLF, single spaces, unfolded, dropped fields).
"""

from __future__ import annotations

from . import semantics
from .chars import SPHT_SET, TOKEN_SET, VERSION_SET
from .model import Flag, HttpError, Limits

_BEFORE, _START, _HEADERS, _DONE = range(4)


def _uri_end(buf: bytes, p: int, lenient: bool) -> int:
    """Where the request-URI starting at ``p`` ends (at a blank, CR or LF), as
    ``H1_MSG_RQURI`` scans it; -1 when the data ends first.

    HAProxy first skips 4 bytes at a time while a 32-bit little-endian word
    minus 0x24242424 has no byte with its top bit set and, minus 0x5b5b5b5b
    more, has at least one (roughly "all bytes in 0x24-0x7e"); it then checks
    byte by byte. The word test lets some bytes through that the byte test
    refuses (0x7f, 0x80-0xa3 next to ordinary ones): the 2.6.12 binary
    forwards them, so the same test is made here.
    """
    end = len(buf)
    while True:
        while p <= end - 4:
            x = (int.from_bytes(buf[p : p + 4], "little") - 0x24242424) & 0xFFFFFFFF
            if x & 0x80808080:
                break
            if not (x - 0x5B5B5B5B) & 0x80808080:
                break
            p += 4
        while p < end:
            c = buf[p]
            if 0x21 <= c <= 0x7E:
                if c == 0x23 and not lenient:
                    raise HttpError(400, "'#' in the request target", p)
                p += 1
            elif c in (0x20, 0x09, 0x0D, 0x0A):
                return p
            elif c >= 0x80 and lenient:
                p += 1
                break  # back to the word loop, as HAProxy jumps to http_msg_rquri
            else:
                raise HttpError(400, "invalid byte in the request target", p)
        else:
            return -1


class ExactParser:
    """One message head, fed with the whole input so far (``feed(buf)``) until complete.

    After ``feed()`` returns True the results are in the attributes: ``start``
    (offset of the start line), ``size``, ``line`` (method, target, version or
    version, code, reason), ``received`` and ``forwarded`` fields, ``acc``.
    """

    def __init__(
        self, request: bool, limits: Limits, lenient: bool, clean_conn: bool = True
    ) -> None:
        self.request = request
        self.limits = limits
        self.lenient = lenient
        self.stage = _BEFORE
        self.pos = 0
        self.start = 0
        self.size = 0
        self.line: tuple[bytes, bytes, bytes] = (b"", b"", b"")
        self.status = 0
        self.http09 = False
        self.acc = semantics.Fields(request, clean_conn)
        self.received: list[tuple[bytes, bytes]] = []
        self.forwarded: list[tuple[bytes, bytes]] = []
        # the last header line, not final until the next line shows it is not folded
        self._pending: tuple[bytes, bytes, int] | None = None

    def feed(self, buf: bytes) -> bool:
        """Parse what ``buf`` holds; True once the head is complete. Raises HttpError."""
        done = self._run(buf)
        raw_max = self.limits.raw_max
        if (done and self.size > raw_max) or (not done and len(buf) >= raw_max):
            raise self._error("head larger than the buffer", raw_max)
        return done

    def _run(self, buf: bytes) -> bool:
        n = len(buf)
        if self.stage == _BEFORE:
            pos = self.pos
            while pos < n:
                c = buf[pos]
                if c == 0x0A:
                    pos += 1
                elif c == 0x0D:
                    if pos + 1 >= n:
                        break
                    if buf[pos + 1] != 0x0A:
                        raise self._error("CR without LF", pos + 1)
                    pos += 2
                elif c in TOKEN_SET:
                    self.start = pos
                    self.stage = _START
                    break
                else:
                    raise self._error("invalid byte before the start line", pos)
            self.pos = pos
            if self.stage == _BEFORE:
                return False
        if self.stage == _START:
            nl = buf.find(b"\n", self.pos)
            parsed = self._request_line(buf, nl) if self.request else self._status_line(buf, nl)
            if not parsed:
                return False
        while self.stage == _HEADERS:
            pos = self.pos
            if pos >= n:
                return False
            c = buf[pos]
            if c in SPHT_SET and self._pending is not None:
                if not self._fold(buf, pos):
                    return False
                continue
            self._finish_pending()
            if c == 0x0A or c == 0x0D:
                if c == 0x0D:
                    if pos + 1 >= n:
                        return False
                    if buf[pos + 1] != 0x0A:
                        raise self._error("CR without LF", pos + 1)
                    pos += 1
                self.size = pos + 1
                if self.acc.kept >= self.limits.maxhdr:
                    # no room left for the array's closing entry (H1_MSG_LAST_LF)
                    raise self._error("too many headers", self.size)
                self.stage = _DONE
                break
            if not self._header_line(buf, pos):
                return False
        return self.stage == _DONE

    def _error(self, reason: str, offset: int) -> HttpError:
        return semantics.parse_error(self.request, reason, offset)

    def _eol(self, buf: bytes, i: int, nl: int) -> None:
        """A CR at ``i`` ends the line: it must be the byte right before the LF."""
        if nl < 0:
            if i + 1 < len(buf):
                raise self._error("CR without LF", i + 1)
        elif i != nl - 1:
            raise self._error("CR without LF", i + 1)

    def _request_line(self, buf: bytes, nl: int) -> bool:
        """``H1_MSG_RQMETH`` to ``H1_MSG_RQLINE_END``; False if the line is incomplete."""
        n = len(buf)
        p = self.start
        while p < n and buf[p] in TOKEN_SET:
            p += 1
        method = buf[self.start : p]
        target = version = b""
        if p >= n:
            return False
        c = buf[p]
        if c in SPHT_SET:
            while p < n and buf[p] in SPHT_SET:
                p += 1
            if p >= n:
                return False
            if buf[p] not in (0x0D, 0x0A):
                u0 = p
                p = _uri_end(buf, p, self.lenient)
                if p < 0:
                    return False
                target = buf[u0:p]
                if buf[p] in SPHT_SET:
                    while p < n and buf[p] in SPHT_SET:
                        p += 1
                    if p >= n:
                        return False
                    v0 = p
                    while p < n and buf[p] in VERSION_SET:
                        p += 1
                    if p >= n:
                        return False
                    version = buf[v0:p]
                    if buf[p] not in (0x0D, 0x0A):
                        raise HttpError(400, "invalid byte in the version", p)
        elif c not in (0x0D, 0x0A):
            raise HttpError(400, "invalid byte in the method", p)
        # p is on the CR or LF ending the line
        if buf[p] == 0x0D:
            self._eol(buf, p, nl)
            if nl < 0:
                return False
        if nl < 0:
            return False
        self.line = (method, target, version)
        self.pos = nl + 1
        if not version:
            # HTTP/0.9: no header block, the line ends the head
            self.http09 = True
            self.size = nl + 1
            self.stage = _DONE
        else:
            self.stage = _HEADERS
            if len(version) == 8 and (
                version[5] > 0x31 or (version[5] == 0x31 and version[7] >= 0x31)
            ):
                self.acc.flags |= Flag.VER_11
        return True

    def _status_line(self, buf: bytes, nl: int) -> bool:
        """``H1_MSG_RPVER`` to ``H1_MSG_RPLINE_END``."""
        n = len(buf)
        p = self.start
        while p < n and buf[p] in VERSION_SET:
            p += 1
        if p >= n:
            return False
        version = buf[self.start : p]
        if buf[p] not in SPHT_SET:
            raise self._error("invalid byte in the version", p)
        while p < n and buf[p] in SPHT_SET:
            p += 1
        if p >= n:
            return False
        if buf[p] in (0x0D, 0x0A):
            raise self._error("no status code", p)
        c0 = p
        status = 0
        while p < n and 0x30 <= buf[p] <= 0x39:
            status = (status * 10 + buf[p] - 0x30) & 0xFFFF
            p += 1
        if p >= n:
            return False
        code = buf[c0:p]
        reason = b""
        if buf[p] in SPHT_SET:
            while p < n and buf[p] in SPHT_SET:
                p += 1
            if p >= n:
                return False
            r0 = p
            while p < n and buf[p] not in (0x0D, 0x0A):
                p += 1
            if p >= n:
                return False
            reason = buf[r0:p]
        elif buf[p] not in (0x0D, 0x0A):
            raise self._error("invalid byte in the status code", p)
        if buf[p] == 0x0D:
            self._eol(buf, p, nl)
        if nl < 0:
            return False
        self.line = (version, code, reason)
        self.status = status
        self.pos = nl + 1
        self.stage = _HEADERS
        if len(version) == 8 and (version[5] > 0x31 or (version[5] == 0x31 and version[7] >= 0x31)):
            self.acc.flags |= Flag.VER_11
        return True

    def _value_end(self, buf: bytes, v0: int, nl: int) -> int:
        """End of a value starting at ``v0`` on a line ending at ``nl`` (-1: incomplete)."""
        cr = buf.find(b"\r", v0, nl if nl >= 0 else len(buf))
        if cr >= 0:
            self._eol(buf, cr, nl)
            return cr if nl >= 0 else -1
        return nl

    def _header_line(self, buf: bytes, pos: int) -> bool:
        """``H1_MSG_HDR_NAME`` to the end of the line; the field stays pending."""
        n = len(buf)
        nl = buf.find(b"\n", pos)
        stop = nl if nl >= 0 else n
        p = pos
        while p < stop and buf[p] in TOKEN_SET:
            p += 1
        if p < stop and buf[p] != 0x3A:
            if not self.lenient:
                raise self._error("invalid byte in a header name", p)
            colon = buf.find(b":", p, stop)
            if colon < 0:
                if nl >= 0:
                    raise self._error("header line without a colon", nl)
                return False
            p = colon
        if p >= stop:
            if nl >= 0:
                raise self._error("header line without a colon", nl)
            return False
        if p == pos:
            raise self._error("empty header name", p)
        name = buf[pos:p]
        e = self._value_end(buf, p + 1, nl)
        if e < 0:
            return False
        self._pending = (name, buf[p + 1 : e], p + 1)
        self.pos = nl + 1
        return True

    def _fold(self, buf: bytes, pos: int) -> bool:
        """An obs-fold line: its content continues the pending value, the line end
        before it becoming spaces (one per CR or LF), as HAProxy rewrites it."""
        assert self._pending is not None
        nl = buf.find(b"\n", pos)
        e = self._value_end(buf, pos, nl)
        if e < 0:
            return False
        name, value, off = self._pending
        eol = 2 if buf[pos - 2 : pos] == b"\r\n" else 1
        self._pending = (name, value + b" " * eol + buf[pos:e], off)
        self.pos = nl + 1
        return True

    def _finish_pending(self) -> None:
        if self._pending is None:
            return
        name, raw, off = self._pending
        self._pending = None
        if self.acc.kept >= self.limits.maxhdr:
            # the array of tune.http.maxhdr entries is full: HAProxy stops before
            # looking at the field, where the next line starts (http_output_full)
            raise self._error("too many headers", self.pos)
        value = raw.lstrip(b" \t\r\n")
        off += len(raw) - len(value)  # HAProxy reports errors at the trimmed value
        value = value.rstrip(b" \t\r\n")
        self.received.append((name, value))
        lname = name.lower()
        if lname in semantics.SPECIAL:
            out = self.acc.field(lname, value, off)
            if out is semantics.DROP:
                return
            value = out
        self.acc.kept += 1
        self.forwarded.append((name, value))
