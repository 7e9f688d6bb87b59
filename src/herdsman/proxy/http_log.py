"""The facts an HTTP transaction gives its traffic log (``core/streamlog.py``).

HAProxy counts an HTTP message's bytes (``%B``, ``%U``) as it holds it in HTX,
not as sent on the wire: the start line is a 20-byte block plus its three
words, a header its name and value, the end of the headers one byte, then the
payload (``htx_sl``, ``htx_add_endof()``). A 200 with ``Server: testsrv/1.0``,
``Content-Length: 5`` and ``hello`` is 71 bytes in 2.6.12's log, 64 on the
wire. Chunked bodies are counted here as forwarded (with their chunk
framing), where HAProxy counts the payload only.

Header captures (``capture request|response header``) keep, per capture, the
last occurrence of the header cut to its length (``http_capture_headers()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from herdsman.config.model import Capture
from herdsman.core.streamlog import StreamLog
from herdsman.http import ResponseHead
from herdsman.http.errors import Reply
from herdsman.http.model import Flag, RequestHead

SL_BLOCK: Final = 20  # sizeof(struct htx_sl) on 64-bit Linux
EOH_BLOCK: Final = 1


def htx_size(words: Iterable[bytes], fields: Iterable[tuple[bytes, bytes]]) -> int:
    """The HTX size of a message head: start line, headers, end of headers. The H1
    parser keeps Connection headers as flags, not in HTX (2.6.12 logs a request
    with ``Connection: close`` 15 bytes shorter)."""
    return (
        SL_BLOCK
        + sum(len(w) for w in words)
        + sum(len(n) + len(v) for n, v in fields if n.lower() != b"connection")
        + EOH_BLOCK
    )


def capture(headers: list[tuple[bytes, bytes]], caps: list[Capture]) -> list[str | None]:
    """``http_capture_headers()``: per capture, the last value of its header, cut."""
    out: list[str | None] = [None] * len(caps)
    for name, value in headers:
        lname = name.lower().decode("latin-1")
        for i, cap in enumerate(caps):
            if cap.name == lname:
                out[i] = value[: cap.length].decode("latin-1")
    return out


def slots(values: list[bytes | None], logged: list[str | None] | None) -> list[str | None]:
    """The capture slots as the rules filled them, over what the log captured."""
    out = list(logged or ())
    for i, value in enumerate(values):
        if value is None:
            continue
        while len(out) <= i:
            out.append(None)
        out[i] = value.decode("latin-1")
    return out


def request(log: StreamLog, head: RequestHead, caps: list[Capture], logurilen: int) -> None:
    """The request line (``txn->uri``, cut to ``tune.http.logurilen``), its bytes
    and its captured headers."""
    words = (head.method, head.target, head.version)
    log.uri = b" ".join(words)[: logurilen - 1].decode("latin-1")
    log.bytes_in = htx_size(words, head.headers) + head.content_length
    if caps:
        log.req_caps = capture(head.headers, caps)


def response(log: StreamLog, resp: ResponseHead, caps: list[Capture]) -> None:
    """The response head: status, bytes so far, captured headers (its body's bytes
    are added as they are forwarded)."""
    log.status = resp.status
    words = (resp.version, str(resp.status).encode(), resp.reason)
    log.bytes_out = htx_size(words, resp.headers)
    if caps:
        log.rsp_caps = capture(resp.headers, caps)


def reply(log: StreamLog, status: int, msg: Reply | None) -> None:
    """One of HAProxy's own responses (503, 502...; an empty errorfile sends nothing)."""
    log.status = status
    if msg is None:
        log.bytes_out = 0
        return
    words = msg.start_line.rstrip(b"\r\n").split(b" ", 2)
    body = len(msg.body)
    if (b"transfer-encoding", b"chunked") in msg.fields:
        body = _chunked_data(msg.body)  # HTX holds the data, not the chunk framing
    if msg.flags & Flag.CONN_CLOSE:
        # unlike a parsed message's, the "connection: close" of HAProxy's own messages
        # (400, 408...) stays in their HTX: 2.6.12 logs a denied request's 400 as 206 bytes
        body += len(b"connection") + len(b"close")
    log.bytes_out = htx_size(words, msg.fields) + body


def _chunked_data(body: bytes) -> int:
    """The data bytes of a complete chunked body that herdsman wrote (a service's)."""
    size = 0
    while True:
        line, _, body = body.partition(b"\r\n")
        n = int(line, 16)
        if not n:
            return size
        size += n
        body = body[n + 2 :]
