"""herdsman's HTTP/1.1 engine, sans-IO: HAProxy 2.6.12's verdicts on bytes.

For the data path (``proxy/``), per connection and per message:

* ``RequestParser.parse(buf)`` / ``ResponseParser.parse(buf, meth)``: a
  ``RequestHead``/``ResponseHead``, None (need more), or ``HttpError`` with
  HAProxy's status (``parse.py``; ``exact.py`` for non-canonical heads);
* ``connmode``: who closes, and the Connection value each side gets;
* ``head_bytes(head, connection, add=..., remove=...)``: the bytes to forward
  (``head.raw`` itself when nothing changes) (``rewrite.py``);
* ``LengthBody``/``ChunkedBody``/``CloseBody``: which bytes of the input are
  body, and what to forward for them (``body.py``);
* ``errors``: HAProxy's own responses; ``errorfile``: an error message loaded
  as HAProxy loads it (for the configuration too); ``forwarded``:
  X-Forwarded-For and X-Original-To; ``websocket``.

It imports nothing of herdsman (the config layer supplies ``Limits`` and the
options). docs/http.md describes the design, the differences from HAProxy and
the measurements.
"""

from .body import ChunkedBody, CloseBody, LengthBody
from .model import (
    DEFAULT_LIMITS,
    Flag,
    Framing,
    HttpError,
    Limits,
    Method,
    RequestHead,
    ResponseHead,
)
from .parse import RequestParser, ResponseParser, parse_request_head, parse_response_head
from .rewrite import head_bytes

__all__ = [
    "DEFAULT_LIMITS",
    "ChunkedBody",
    "CloseBody",
    "Flag",
    "Framing",
    "HttpError",
    "LengthBody",
    "Limits",
    "Method",
    "RequestHead",
    "RequestParser",
    "ResponseHead",
    "ResponseParser",
    "head_bytes",
    "parse_request_head",
    "parse_response_head",
]
