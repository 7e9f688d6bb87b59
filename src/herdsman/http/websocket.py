"""WebSocket handshakes over HTTP/1.1 (spec §3.2).

HAProxy 2.6 checks them while parsing (``semantics.py``): a request whose
Connection has "upgrade" and whose Upgrade has "websocket" needs a
Sec-WebSocket-Key of exactly 24 characters (else 400), a 101 response with
both tokens needs a Sec-WebSocket-Accept (else 502), and a request with a body
loses its upgrade. After a 101 both sides are a raw tunnel (``Framing.TUNNEL``).
``accept_key()`` computes the accept value (``h1_calculate_ws_output_key()``),
which HAProxy only needs when it made the key itself (an HTTP/2 client).
"""

from __future__ import annotations

import base64
import hashlib

from .model import Flag, RequestHead

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key[:24] + _GUID).digest())


def accept_line(request: RequestHead) -> bytes:
    """The line HAProxy's H1 output adds to a response marked
    ``Flag.WS_ACCEPT_MISSING``: the accept of the request's key, or of 24 NUL
    bytes when the request had none (``h1s->ws_key`` left zeroed)."""
    return b"Sec-Websocket-Accept: " + accept_key(request.ws_key or bytes(24))


def is_websocket_request(head: RequestHead) -> bool:
    """A request that asks to switch to WebSocket (and was allowed to ask)."""
    ws = Flag.CONN_UPGRADE | Flag.UPGRADE_WEBSOCKET
    return head.flags & ws == ws
