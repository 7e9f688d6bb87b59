"""The cases of the differential harness: raw request bytes and scripted backend replies.

Sources: RFC 9112/9110 edge cases; request smuggling research (CL.TE, TE.CL,
TE.TE obfuscations as catalogued by PortSwigger and "HTTP Desync Attacks",
chunk-size tricks, bare LF); HAProxy's own reg-tests under
reg-tests/http-messaging/ (h1_to_h1, http_transfer_encoding, websocket,
protocol_upgrade, http_bodyless_response); and what exploring the 2.6.12
binary turned up (docs/http.md).
"""

from .base import Case
from .requests import REQUESTS
from .responses import RESPONSES

ALL = REQUESTS + RESPONSES

__all__ = ["ALL", "REQUESTS", "RESPONSES", "Case"]
