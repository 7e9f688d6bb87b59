"""What a peer sees: a small strict HTTP/1.1 reader, independent of herdsman's engine.

The recording backend parses what the proxy forwards with it, and the client
parses what the proxy answers with it. It is deliberately simple and strict
(RFC 9112 as a careful origin server reads it: CRLF line ends, token names,
no obs-fold, one Content-Length, chunked last): whatever the proxy under test
forwards must be unambiguous to such a peer. It shares no code with
``herdsman.http`` so that a bug there cannot hide itself here.

A message is summarised as a ``Message``: start line, headers with lower-cased
names (values trimmed of OWS), de-chunked body length and trailer names.
Anything it cannot read becomes ``Unreadable`` with the raw bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") (\S+) (HTTP/[0-9]\.[0-9])\r\n")
_STATUS_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3}) ([^\r\n]*)\r\n")
# Values: anything but CR and LF, as HAProxy 2.6 forwards them (NUL and other controls included).
_FIELD = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([^\r\n]*?)[ \t]*\r\n")
_CHUNK_SIZE = re.compile(rb"0*([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?\r\n")


@dataclass(frozen=True)
class Message:
    """One request (``start`` = method, target, version) or response (version, status, reason)."""

    start: tuple[str, str, str]
    headers: tuple[tuple[str, str], ...]
    body_len: int
    trailers: tuple[str, ...] = ()
    complete: bool = True  # False: the connection ended inside the body

    def header(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]


@dataclass(frozen=True)
class Unreadable:
    """Bytes the strict reader refused (the proxy forwarded something ambiguous).

    Compared by the reason only, in lower case: the bytes differ by the case
    of the header names, which HAProxy lower-cases and herdsman keeps.
    """

    reason: str
    raw: bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unreadable) and self.reason.lower() == other.reason.lower()

    def __hash__(self) -> int:
        return hash(self.reason.lower())


class NeedMore(Exception):
    """The buffer ends inside a message."""


def _line(buf: bytes, pos: int) -> bytes:
    return buf[pos : buf.find(b"\r\n", pos)]


def _text(b: bytes) -> str:
    return b.decode("latin-1")


def _fields(buf: bytes, pos: int) -> tuple[list[tuple[str, str]], int]:
    fields: list[tuple[str, str]] = []
    while True:
        if buf.startswith(b"\r\n", pos):
            return fields, pos + 2
        m = _FIELD.match(buf, pos)
        if m is None:
            if b"\r\n" not in buf[pos:]:
                raise NeedMore
            raise ValueError(f"bad field line {_line(buf, pos)!r}")
        fields.append((_text(m.group(1)).lower(), _text(m.group(2))))
        pos = m.end()


def _body(
    buf: bytes, pos: int, fields: list[tuple[str, str]], bodyless: bool, eof: bool
) -> tuple[int, tuple[str, ...], int]:
    """(body length, trailer names, end offset) of the body starting at ``pos``."""
    te = [v for n, v in fields if n == "transfer-encoding"]
    cl = [v for n, v in fields if n == "content-length"]
    if bodyless:
        return 0, (), pos
    if te:
        if cl:
            raise ValueError("both Transfer-Encoding and Content-Length")
        # empty list elements are ignored (RFC 9110 5.6.1)
        codings = [c.strip().lower() for c in ",".join(te).split(",") if c.strip()]
        if not codings or codings[-1] != "chunked" or codings.count("chunked") != 1:
            raise ValueError(f"transfer codings {codings}")
        total = 0
        while True:
            m = _CHUNK_SIZE.match(buf, pos)
            if m is None:
                if b"\r\n" not in buf[pos:]:
                    raise NeedMore
                raise ValueError(f"bad chunk size line {buf[pos : pos + 40]!r}")
            size = int(m.group(1), 16)
            pos = m.end()
            if size == 0:
                trailers, pos = _fields(buf, pos)
                return total, tuple(n for n, _ in trailers), pos
            if len(buf) < pos + size + 2:
                raise NeedMore
            if buf[pos + size : pos + size + 2] != b"\r\n":
                raise ValueError("chunk data not followed by CRLF")
            total += size
            pos += size + 2
    if cl:
        if len(cl) != 1 or not cl[0].isdigit():
            raise ValueError(f"content-length {cl}")
        n = int(cl[0])
        if len(buf) < pos + n:
            raise NeedMore
        return n, (), pos + n
    return -1, (), pos  # no framing: a request has no body, a response reads to close


def read_request(buf: bytes, eof: bool = False) -> tuple[Message, int]:
    """One request from the start of ``buf``: (message, bytes used); NeedMore or ValueError.

    At ``eof``, a request whose head is complete but whose body is cut short is
    returned with ``complete=False`` and the body bytes that did arrive.
    """
    m = _REQUEST_LINE.match(buf)
    if m is None:
        if b"\r\n" not in buf:
            raise NeedMore
        raise ValueError(f"bad request line {_line(buf, 0)!r}")
    fields, pos = _fields(buf, m.end())
    start = (_text(m.group(1)), _text(m.group(2)), _text(m.group(3)))
    try:
        length, trailers, end = _body(buf, pos, fields, False, False)
    except NeedMore:
        if not eof:
            raise
        return Message(start, tuple(fields), _partial(buf, pos, fields), (), False), len(buf)
    return Message(start, tuple(fields), max(length, 0), trailers), end


def _partial(buf: bytes, pos: int, fields: list[tuple[str, str]]) -> int:
    """Body bytes that arrived of a message cut short (de-chunked if chunked)."""
    if not any(n == "transfer-encoding" for n, _ in fields):
        return len(buf) - pos
    total = 0
    while True:
        m = _CHUNK_SIZE.match(buf, pos)
        if m is None:
            return total
        size = int(m.group(1), 16)
        data = len(buf) - m.end()
        if size == 0 or data <= size + 2:
            return total + min(size, data)
        total += size
        pos = m.end() + size + 2


def read_response(buf: bytes, method: str, eof: bool) -> tuple[Message, int]:
    """One response to a ``method`` request; a body without framing ends at ``eof``."""
    m = _STATUS_LINE.match(buf)
    if m is None:
        if b"\r\n" not in buf:
            raise NeedMore
        raise ValueError(f"bad status line {_line(buf, 0)!r}")
    fields, pos = _fields(buf, m.end())
    status = int(m.group(2))
    bodyless = method == "HEAD" or status < 200 or status in (204, 304)
    start = (_text(m.group(1)), _text(m.group(2)), _text(m.group(3)))
    try:
        length, trailers, end = _body(buf, pos, fields, bodyless, eof)
    except NeedMore:
        if not eof:
            raise
        return Message(start, tuple(fields), _partial(buf, pos, fields), (), False), len(buf)
    if length < 0:
        if not eof:
            raise NeedMore
        length, end = len(buf) - pos, len(buf)
    return Message(start, tuple(fields), length, trailers), end
