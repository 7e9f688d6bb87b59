"""Types of the HTTP/1 engine (HAProxy's ``h1-t.h``/``http-t.h``): no logic here.

A parsed head is a ``RequestHead`` or ``ResponseHead``. Both keep the bytes to
forward (``raw``) next to what the proxy decides on (method, version, framing,
connection flags), so that the common case forwards ``raw`` untouched and only
the rare message that HAProxy would normalise is rebuilt (``rewrite.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final


class Method(enum.IntEnum):
    """``enum http_meth_t``; ``find_http_meth()`` matches the names case-sensitively."""

    OPTIONS = 1
    GET = 2
    HEAD = 3
    POST = 4
    PUT = 5
    DELETE = 6
    TRACE = 7
    CONNECT = 8
    OTHER = 9


METHODS: dict[bytes, Method] = {m.name.encode(): m for m in Method if m is not Method.OTHER}


class Framing(enum.IntEnum):
    """How the body of a message is delimited (what the body framer does)."""

    NONE = 0  # no body: Content-Length 0, a request without length, a bodyless response
    LENGTH = 1  # Content-Length bytes
    CHUNKED = 2  # chunked transfer coding, ends with the last chunk and the trailers
    CLOSE = 3  # a response whose body ends when the server closes
    TUNNEL = 4  # after a 101 or a 2xx to CONNECT: raw bytes both ways until close


class Flag:
    """Facts about a message (HAProxy's ``H1_MF_*`` that matter after parsing), as
    bits of a plain ``int``: ``enum.IntFlag`` arithmetic costs about a
    microsecond per operation, too much for the per-request path."""

    NONE: Final = 0
    VER_11: Final = 1 << 0  # version >= 1.1 (``H1_MF_VER_11``)
    CONN_CLOSE: Final = 1 << 1  # a "close" token, or forced by TE with CL / TE with HTTP/1.0
    CONN_KEEPALIVE: Final = 1 << 2  # a "keep-alive" token
    CONN_UPGRADE: Final = 1 << 3  # an "upgrade" token (kept only for bodyless requests and 101s)
    UPGRADE_WEBSOCKET: Final = 1 << 4  # "websocket" in the (last) Upgrade header
    XFER_ENC: Final = 1 << 5  # a Transfer-Encoding header was present
    EXPECT_100: Final = 1 << 6  # "Expect: 100-continue" on an HTTP/1.1 request with a body
    # the forwarded Connection header keeps an "upgrade" token: the H1 output
    # then adds no Connection header of its own (h1_update_*_conn_value())
    UPGRADE_TOKEN: Final = 1 << 7
    # a response with "upgrade" and "websocket" tokens but no Sec-WebSocket-Accept
    # (a 101 without one is refused): HAProxy's H1 output makes one up
    # (h1_process_mux(), websocket.accept_line())
    WS_ACCEPT_MISSING: Final = 1 << 8
    # a reply of unknown length from an applet (the stats page): the H1 output
    # chunks it and adds "transfer-encoding: chunked" after the Connection
    # header, but not to a HEAD's reply (h1_process_mux(), H1S_F_BODYLESS_RESP)
    MUX_CHUNKED: Final = 1 << 9

    @staticmethod
    def names(flags: int) -> str:
        """``flags`` as "VER_11|CONN_CLOSE" (for messages and reprs)."""
        out = [k for k, v in vars(Flag).items() if isinstance(v, int) and v and flags & v]
        return "|".join(out) or "NONE"


@dataclass(frozen=True, slots=True)
class Limits:
    """The tunables that bound a head (``tune.bufsize``, ``tune.maxrewrite``, ``tune.http.maxhdr``).

    HAProxy 2.6 refuses a head (400 for a request, 502 for a response) when
    (verified against the 2.6.12 binary with several buffer sizes):

    * it is not complete within ``bufsize - 64`` bytes of input (``raw_max``):
      the H1 mux's input buffer is full (``h1_parse_msg_hdrs()``); it reads at
      most ``buf_room_for_htx_data()``, the room less ``sizeof(struct htx)``
      (48) and two HTX blocks (2 x 8);
    * its HTX form would not fit in ``bufsize - maxrewrite - 48`` bytes
      (``htx_max``; ``h1_eval_htx_size()`` counts 28 bytes for the start line
      block, 8 per header plus its name and trimmed value, 9 for the end of
      headers; 48 is ``sizeof(struct htx)``);
    * it has ``maxhdr`` headers or more (``max_headers`` = ``maxhdr - 1``: the
      array also holds the end marker).
    """

    bufsize: int = 16384
    maxrewrite: int = 1024
    maxhdr: int = 101
    raw_max: int = field(init=False)
    htx_max: int = field(init=False)
    max_headers: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw_max", self.bufsize - 64)
        object.__setattr__(self, "htx_max", self.bufsize - self.maxrewrite - 48)
        object.__setattr__(self, "max_headers", self.maxhdr - 1)


DEFAULT_LIMITS = Limits()

# An edit of a head's ``raw`` bytes: replace raw[start:end] by the bytes.
Edit = tuple[int, int, bytes]


class HttpError(Exception):
    """A message HAProxy 2.6 refuses, with the status it answers.

    ``status`` is what the client gets (``error_status_hint`` in h11's terms):
    400, 413 or 422 for a request, 502 for a response. ``offset`` is where the
    error was found, relative to the start of the input (HAProxy's
    ``err_pos``), or -1 when the whole message is at fault.

    ``stream`` tells who answers in HAProxy: the H1 mux sends its default
    message verbatim (``h1_send_error()``: parsing errors of a request), the
    stream sends it through HTX (``http_reply_and_close()``: a bad response, a
    request the analysers refuse), which lower-cases the header names and
    places the Connection header by the connection mode
    (``errors.reply_bytes()``).
    """

    def __init__(self, status: int, reason: str, offset: int = -1, stream: bool = False) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.offset = offset
        self.stream = stream


class _Head:
    """What request and response heads share; ``headers`` splits the header
    block of ``raw`` on first use (the forwarding path never needs it)."""

    __slots__ = (
        "size",
        "raw",
        "edits",
        "version",
        "flags",
        "framing",
        "content_length",
        "_headers",
    )

    size: int
    raw: bytes
    edits: tuple[Edit, ...]
    version: bytes
    flags: int
    framing: Framing
    content_length: int
    _headers: list[tuple[bytes, bytes]] | None

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """(name as received, value trimmed and unfolded) for every header line received."""
        if self._headers is None:
            self._headers = split_fields(self.raw)
        return self._headers


class RequestHead(_Head):
    """A complete, valid request head.

    ``size`` is the number of input bytes the head used (leading empty lines
    included); the body, if any, starts there. ``raw`` is the head to forward:
    the received bytes when they are canonical (CRLF, single spaces, no
    obs-fold), else a copy rebuilt with HAProxy's normalisations. ``edits``
    are the normalisations still to make on received bytes (a duplicate
    Content-Length, a "keep-alive" token...); ``rewrite.head_bytes()`` applies
    them with the proxy's own changes.
    """

    __slots__ = ("method", "meth", "target", "host", "ws_key")

    def __init__(
        self,
        size: int,
        raw: bytes,
        edits: tuple[Edit, ...],
        method: bytes,
        meth: Method,
        target: bytes,
        version: bytes,
        flags: int,
        framing: Framing,
        content_length: int,
        host: bytes | None,
        ws_key: bytes | None,
        headers: list[tuple[bytes, bytes]] | None,
    ) -> None:
        self.size = size
        self.raw = raw
        self.edits = edits
        self.method = method
        self.meth = meth
        self.target = target
        self.version = version
        self.flags = flags
        self.framing = framing
        self.content_length = content_length
        self.host = host
        self.ws_key = ws_key  # the Sec-WebSocket-Key HAProxy keeps (24 characters)
        self._headers = headers

    @property
    def version_11(self) -> bool:
        return bool(self.flags & Flag.VER_11)

    def __repr__(self) -> str:
        return (
            f"RequestHead({self.method!r} {self.target!r} {self.version!r}, "
            f"{self.framing.name}, cl={self.content_length}, flags={Flag.names(self.flags)})"
        )


class ResponseHead(_Head):
    """A complete, valid response head (see ``RequestHead`` for ``size``, ``raw``, ``edits``)."""

    __slots__ = ("status", "reason")

    def __init__(
        self,
        size: int,
        raw: bytes,
        edits: tuple[Edit, ...],
        status: int,
        version: bytes,
        reason: bytes,
        flags: int,
        framing: Framing,
        content_length: int,
        headers: list[tuple[bytes, bytes]] | None,
    ) -> None:
        self.size = size
        self.raw = raw
        self.edits = edits
        self.status = status
        self.version = version
        self.reason = reason
        self.flags = flags
        self.framing = framing
        self.content_length = content_length
        self._headers = headers

    @property
    def informational(self) -> bool:
        """A 100 or 102-199: another response follows for the same request. (A
        status under 100 is a final one, as in HAProxy's ``h1_process_demux()``.)"""
        return self.status == 100 or 102 <= self.status < 200

    def __repr__(self) -> str:
        return (
            f"ResponseHead({self.version!r} {self.status} {self.reason!r}, "
            f"{self.framing.name}, cl={self.content_length}, flags={Flag.names(self.flags)})"
        )


def split_fields(raw: bytes) -> list[tuple[bytes, bytes]]:
    """The header fields of a canonical head (CRLF lines, no obs-fold), values trimmed."""
    lines = raw.split(b"\r\n")
    out = []
    for line in lines[1:-2]:
        name, _, value = line.partition(b":")
        out.append((name, value.strip(b" \t")))
    return out
