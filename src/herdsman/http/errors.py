"""HAProxy 2.6.12's own responses: the default error messages and ``errorfile`` contents.

Two ways out, as in HAProxy (both checked against the binary):

* the H1 mux answers a request it cannot parse with the default message of
  ``src/http.c http_err_msgs[]`` byte for byte (``h1_send_error()``): 400,
  408, 413, 422, 500 and 501; an ``errorfile`` does not apply there
  (``mux_bytes()``);
* the stream answers everything else (a bad response: 502; 503, 504, a
  request an analyser refuses...) with the proxy's ``errorfile`` if any, else
  the default message, converted to HTX and written by the H1 mux: header
  names in lower case, values trimmed, and the Connection header removed and
  written again by the connection mode (``Reply`` + ``reply_bytes()``).

``load_reply()`` loads a message as ``http_str_to_htx()`` does for an
errorfile (``errorfile.py``, with its error texts) and prepares it for output.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import errorfile
from .fields import connection, te_trailers
from .model import DEFAULT_LIMITS, Flag, Limits

# http_err_msgs[] (src/http.c), in http_err_codes[] order.
MESSAGES: dict[int, bytes] = {
    200: b"HTTP/1.1 200 OK\r\n"
    b"Content-length: 58\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
    400: b"HTTP/1.1 400 Bad request\r\n"
    b"Content-length: 90\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Connection: close\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
    401: b"HTTP/1.1 401 Unauthorized\r\n"
    b"Content-length: 112\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
    403: b"HTTP/1.1 403 Forbidden\r\n"
    b"Content-length: 93\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n",
    404: b"HTTP/1.1 404 Not Found\r\n"
    b"Content-length: 83\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n",
    405: b"HTTP/1.1 405 Method Not Allowed\r\n"
    b"Content-length: 146\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n",
    407: b"HTTP/1.1 407 Unauthorized\r\n"
    b"Content-length: 112\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
    408: b"HTTP/1.1 408 Request Time-out\r\n"
    b"Content-length: 110\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Connection: close\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
    410: b"HTTP/1.1 410 Gone\r\n"
    b"Content-length: 114\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n",
    413: b"HTTP/1.1 413 Payload Too Large\r\n"
    b"Content-length: 106\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n",
    421: b"HTTP/1.1 421 Misdirected Request\r\n"
    b"Content-length: 104\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>421 Misdirected Request</h1>\nRequest sent to a non-authoritative server.\n</body></html>\n",
    422: b"HTTP/1.1 422 Unprocessable Content\r\n"
    b"Content-length: 116\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n",
    425: b"HTTP/1.1 425 Too Early\r\n"
    b"Content-length: 80\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n",
    429: b"HTTP/1.1 429 Too Many Requests\r\n"
    b"Content-length: 117\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n",
    500: b"HTTP/1.1 500 Internal Server Error\r\n"
    b"Content-length: 97\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n",
    501: b"HTTP/1.1 501 Not Implemented\r\n"
    b"Content-length: 136\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n",
    502: b"HTTP/1.1 502 Bad Gateway\r\n"
    b"Content-length: 107\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
    503: b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-length: 107\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
    504: b"HTTP/1.1 504 Gateway Time-out\r\n"
    b"Content-length: 92\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n",
}

# the statuses an errorfile may be given for (http_err_codes[])
STATUSES = tuple(MESSAGES)


def mux_bytes(status: int) -> bytes:
    """What the H1 mux sends for a request it refuses (``h1_send_error()``)."""
    return MESSAGES[status]


@dataclass(frozen=True)
class Reply:
    """A response HAProxy sends itself, as held in HTX: ready to be written by the
    H1 output rules (``reply_bytes()``)."""

    status: int
    start_line: bytes  # "HTTP/1.1 503 Service Unavailable\r\n" as the H1 mux writes it
    fields: tuple[tuple[bytes, bytes], ...]  # lower-case names, trimmed values
    body: bytes
    flags: int  # VER_11, CONN_CLOSE / CONN_KEEPALIVE (its own Connection tokens), UPGRADE_TOKEN


def load_reply(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Reply | None:
    """An errorfile's message (``errorfile.load()``) as the H1 mux will write it.

    None for an empty file: HAProxy then sends nothing (``h1_send_error()``,
    ``http_reply_message()``). Raises ``ErrorfileError`` with HAProxy's
    message; the config layer prefixes "errorfile : '<file>': " as 2.6.12
    does (verified with ``haproxy -c``).
    """
    if not data:
        return None
    msg = errorfile.load(data, limits.maxhdr)
    status = msg.status
    version = msg.version
    ver11 = version[5] > 0x31 or (version[5] == 0x31 and version[7] >= 0x31)
    flags = msg.flags & (Flag.CONN_CLOSE | Flag.CONN_KEEPALIVE | Flag.UPGRADE_TOKEN)
    if ver11:
        flags |= Flag.VER_11
    out = []
    drop_length = status < 200 or status == 204
    for name, value in msg.fields:
        lname = name.lower()
        if drop_length and lname in (b"content-length", b"transfer-encoding"):
            continue
        if lname == b"connection":
            # the H1 output cleans it (H1_MF_CLEAN_CONN_HDR); the mode adds its own
            value = connection(value)[0]
            if not value:
                continue
        elif lname == b"te":
            if not te_trailers(value):
                continue
            value = b"trailers"
        out.append((lname, value))
    out_version = b"HTTP/1.1" if ver11 else version
    start = out_version + b" " + msg.code + b" " + msg.reason + b"\r\n"
    return Reply(status, start, tuple(out), msg.body, flags)


def _default(msg: bytes) -> Reply:
    reply = load_reply(msg)
    assert reply is not None
    return reply


DEFAULT_REPLIES: dict[int, Reply] = {status: _default(msg) for status, msg in MESSAGES.items()}


def reply_bytes(reply: Reply, connection: bytes | None, head_request: bool = False) -> bytes:
    """The bytes of a reply given the Connection value the mode decided
    (``connmode.response_connection()`` with the reply's tokens). The reply to
    a HEAD request goes without its body (``H1S_F_BODYLESS_RESP``); its
    Content-Length stays. A ``Flag.MUX_CHUNKED`` reply (its body already in
    chunks) gets the Transfer-Encoding the H1 output adds after Connection."""
    parts = [reply.start_line]
    parts.extend(name + b": " + value + b"\r\n" for name, value in reply.fields)
    if connection is not None:
        parts.append(b"connection: " + connection + b"\r\n")
    if reply.flags & Flag.MUX_CHUNKED and not head_request:
        parts.append(b"transfer-encoding: chunked\r\n")
    parts.append(b"\r\n")
    if not head_request:
        parts.append(reply.body)
    return b"".join(parts)
