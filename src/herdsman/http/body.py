"""Body framers: which bytes of the input belong to the current message.

The proxy forwards a body as it arrives, never holding it whole: for each
chunk of input it calls ``feed(data)`` on the message's framer, which returns
how many bytes of ``data`` belong to the message. ``out`` is then None when
those bytes are to be forwarded unchanged (the common case: a memoryview
slice of the input), or the list of pieces to send instead. ``done`` turns
true at the end of the message; the bytes left over belong to the next one.
Bytes a framer does not consume yet (an incomplete chunk-size line or trailer
block) must be presented again, with more after them.

Chunked bodies are checked as HAProxy 2.6 checks them (``h1_parse_chunk_size()``,
``h1_skip_chunk_crlf()``, ``h1_parse_msg_tlrs()``): 1 to 13 significant hex
digits, blanks and ``;extensions`` up to the line end, a CRLF or bare LF after
each line and after the data. HAProxy re-chunks what it forwards; herdsman
forwards the chunks as received when their framing is canonical (hex digits,
CRLF) and writes a canonical line for any other, so a backend never sees
framing it might read differently (bare LF, blanks, extensions, obs-fold in
trailers).
"""

from __future__ import annotations

from .exact import ExactParser
from .model import DEFAULT_LIMITS, HttpError, Limits

_HEX = b"0123456789abcdefABCDEF"
_HEXVAL = {c: int(chr(c), 16) for c in _HEX}
_MAX_CHUNK = 1 << 52  # HAProxy refuses a 14th significant hex digit


class LengthBody:
    """A Content-Length body."""

    __slots__ = ("remaining", "out")

    def __init__(self, length: int) -> None:
        self.remaining = length
        self.out: list[bytes | memoryview] | None = None

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def feed(self, data: bytes | memoryview) -> int:
        n = min(len(data), self.remaining)
        self.remaining -= n
        return n


class CloseBody:
    """A response body delimited by the server closing the connection: it takes
    everything; ``done`` is set by the proxy when the server closes."""

    __slots__ = ("done", "out")

    def __init__(self) -> None:
        self.done = False
        self.out: list[bytes | memoryview] | None = None

    def feed(self, data: bytes | memoryview) -> int:
        return len(data)


_SIZE, _DATA, _DATA_CRLF, _TRAILERS, _DONE = range(5)


class _LateError(HttpError):
    """A limit HAProxy only finds once the stream has the message."""


class ChunkedBody:
    """A chunked body (requests: errors are 400, responses: 502)."""

    __slots__ = ("request", "limits", "state", "remaining", "total", "out", "trailers", "_pending")

    def __init__(self, request: bool, limits: Limits) -> None:
        self.request = request
        self.limits = limits
        self.state = _SIZE
        self.remaining = 0  # data bytes left in the current chunk
        self.total = 0  # body bytes so far
        self.out: list[bytes | memoryview] | None = None
        self.trailers: list[tuple[bytes, bytes]] = []
        self._pending: HttpError | None = None

    @property
    def done(self) -> bool:
        return self.state == _DONE

    def _error(self, reason: str, offset: int, late: bool = False) -> HttpError:
        """A framing error. HAProxy's H1 mux answers a request's syntax error itself,
        but finds a line or trailer block too large only once the head has gone
        to the stream, which answers (``late``); a response's error is always the
        stream's 502."""
        if late:
            return _LateError(400 if self.request else 502, reason, offset, stream=True)
        if self.request:
            return HttpError(400, reason, offset)
        return HttpError(502, reason, offset, stream=True)

    def feed(self, data: bytes | memoryview) -> int:
        """Consume what belongs to the body; raises ``HttpError`` on bad framing.

        A trailer block too large for HAProxy's buffer is refused only after
        the data before it went out (HAProxy waits for room, then fails): the
        error then comes from the next call.
        """
        if self._pending is not None:
            raise self._pending
        n = len(data)
        pos = 0
        clean = 0  # data[:clean] can be forwarded as received
        out: list[bytes | memoryview] | None = None
        while pos < n and self.state != _DONE:
            state = self.state
            if state == _DATA:
                take = min(self.remaining, n - pos)
                pos += take
                self.remaining -= take
                if not self.remaining:
                    self.state = _DATA_CRLF
                continue
            if state == _DATA_CRLF:
                if data[pos] == 0x0D:
                    if pos + 1 >= n:
                        break
                    if data[pos + 1] != 0x0A:
                        raise self._error("chunk data not followed by CRLF", pos + 1)
                    pos += 2
                elif data[pos] == 0x0A:  # a bare LF: write CRLF
                    out = _flush(out, data, clean, pos)
                    out.append(b"\r\n")
                    pos += 1
                    clean = pos
                else:
                    raise self._error("chunk data not followed by CRLF", pos)
                self.state = _SIZE
                continue
            if state == _SIZE:
                parsed = self._size_line(data, pos, n)
                if parsed is None:
                    break
                line, canonical = parsed
                size = self.remaining
                if not canonical:
                    out = _flush(out, data, clean, pos)
                    out.append(b"%x\r\n" % size)
                    clean = line
                pos = line
                self.total += size
                self.state = _DATA if size else _TRAILERS
                continue
            # _TRAILERS
            try:
                end = self._trailers(data, pos, n)
            except _LateError as exc:
                if not pos:
                    raise
                self._pending = exc
                break
            if end < 0:
                break
            if not _canonical_block(data, pos, end):
                out = _flush(out, data, clean, pos)
                out.append(b"".join(k + b": " + v + b"\r\n" for k, v in self.trailers) + b"\r\n")
                clean = end
            pos = end
            self.state = _DONE
        if out is not None:
            _flush(out, data, clean, pos)
        self.out = out
        if self.state in (_SIZE, _TRAILERS, _DATA_CRLF) and n - pos >= self.limits.raw_max:
            raise self._error("chunk framing larger than the buffer", pos, True)
        return pos

    def _size_line(self, data: bytes | memoryview, pos: int, n: int) -> tuple[int, bool] | None:
        """Parse a chunk-size line at ``pos``: (offset after it, is it canonical, i.e.
        hex digits and CRLF), or None when it is incomplete. Sets ``remaining``."""
        p = pos
        size = 0
        while p < n:
            v = _HEXVAL.get(data[p])
            if v is None:
                break
            size = (size << 4) | v
            if size >= _MAX_CHUNK:
                raise self._error("chunk size of more than 13 hex digits", p)
            p += 1
        if p >= n:
            return None
        if p == pos:
            raise self._error("empty chunk size", p)
        digits_end = p
        while p < n and data[p] in (0x20, 0x09):
            p += 1
        while True:
            if p >= n:
                return None
            c = data[p]
            if c == 0x0D:
                if p + 1 >= n:
                    return None
                if data[p + 1] != 0x0A:
                    raise self._error("CR without LF in a chunk-size line", p + 1)
                p += 2
                break
            if c == 0x0A:
                p += 1
                break
            if c != 0x3B:
                raise self._error("invalid byte in a chunk-size line", p)
            p += 1
            while p < n and data[p] not in (0x0D, 0x0A):
                p += 1
        if p - pos > self.limits.raw_max:
            # the line must fit in the input buffer (the 2.6.12 binary: 16320 bytes
            # with the default tune.bufsize, CRLF included)
            raise self._error("chunk-size line larger than the buffer", pos, True)
        self.remaining = size
        return p, p == digits_end + 2 and data[digits_end] == 0x0D

    def _trailers(self, data: bytes | memoryview, pos: int, n: int) -> int:
        """The trailer block at ``pos`` (``h1_parse_msg_tlrs()``): its end, or -1."""
        if pos < n and data[pos] in (0x0D, 0x0A):
            if data[pos] == 0x0A:  # a bare LF: written as CRLF by feed()
                self.trailers = []
                return pos + 1
            if pos + 1 >= n:
                return -1
            if data[pos + 1] != 0x0A:
                raise self._error("CR without LF after the last chunk", pos + 1)
            return pos + 2
        # HAProxy parses trailers with an uninitialised err_pos, so whether it
        # accepts an invalid name byte varies from run to run; herdsman refuses it
        ex = ExactParser(True, self.limits, False)
        ex.stage = 2  # headers only
        ex.pos = 0
        try:
            done = ex.feed(bytes(data[pos:]))
        except HttpError as exc:
            late = exc.offset >= self.limits.raw_max  # the block did not fit in the buffer
            raise self._error(f"invalid trailers: {exc.reason}", pos + exc.offset, late) from None
        if not done:
            return -1
        # h1_parse_msg_tlrs(): the trailers must fit in HTX like a head's fields
        if sum(8 + len(k) + len(v) for k, v in ex.forwarded) + 9 > self.limits.htx_max:
            raise self._error("trailers too large for a buffer", pos, True)
        self.trailers = ex.received
        return pos + ex.size


def chunked(data: bytes) -> bytes:
    """``data`` as one chunk and the last chunk (the sizes of an applet's chunks
    follow its buffer in HAProxy; the framing is what matters)."""
    return b"%X\r\n%s\r\n0\r\n\r\n" % (len(data), data) if data else b"0\r\n\r\n"


def chunk_data(data: bytes | memoryview) -> bytes:
    """The data of the chunks at the start of ``data`` (a chunked body as
    received), as far as it goes: a chunk cut short gives what it has, as
    HAProxy's H1 mux appends what it parsed to one HTX data block. Stops at the
    last chunk or at an incomplete or invalid line (the framer reports those)."""
    sizes = ChunkedBody(True, DEFAULT_LIMITS)  # its chunk-size line parser
    out: list[bytes | memoryview] = []
    pos = 0
    n = len(data)
    while pos < n:
        try:
            parsed = sizes._size_line(data, pos, n)
        except HttpError:
            break
        if parsed is None or not sizes.remaining:
            break
        start = parsed[0]
        pos = min(n, start + sizes.remaining)
        out.append(data[start:pos])
        if data[pos : pos + 2] == b"\r\n":
            pos += 2
        elif data[pos : pos + 1] == b"\n":
            pos += 1
        else:
            break  # the end of the input, or bad framing
    return b"".join(out)


def _flush(
    out: list[bytes | memoryview] | None, data: bytes | memoryview, clean: int, pos: int
) -> list[bytes | memoryview]:
    if out is None:
        out = []
    if pos > clean:
        out.append(data[clean:pos])
    return out


def _canonical_block(data: bytes | memoryview, pos: int, end: int) -> bool:
    block = bytes(data[pos:end])
    return (
        block.count(b"\n") == block.count(b"\r\n") == block.count(b"\r")
        and b"\n " not in block
        and b"\n\t" not in block
    )
