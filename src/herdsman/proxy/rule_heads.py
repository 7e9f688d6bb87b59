"""A transaction's heads (``sample/txn.py``) loaded from the parsed messages,
and written back as HTTP/1 bytes once rules changed them (as ``head_bytes()``
writes an unchanged head: the proxy's added lines, then its Connection line)."""

from __future__ import annotations

from collections.abc import Sequence

from herdsman.http.model import RequestHead, ResponseHead
from herdsman.http.rewrite import head_bytes
from herdsman.sample.txn import Headers, Txn


def load_request(txn: Txn, head: RequestHead) -> None:
    txn.new_stream()
    txn.method = head.method
    txn.meth = int(head.meth)
    txn.uri = head.target
    txn.version = head.version
    txn.req_head = head
    txn.req_raw = head.raw
    txn.req_load = lambda: head.headers  # changed only through a copy (req_hdrs_rw())


def load_response(txn: Txn, resp: ResponseHead) -> None:
    txn.status = resp.status
    txn.reason = resp.reason
    txn.res_version = resp.version
    txn.res_load = lambda: resp.headers


def request_head(txn: Txn, connection: bytes | None, add: Sequence[bytes]) -> bytes:
    """The request head as the rules left it (``txn.req_hdrs``, ``txn.req_tail``), then the lines
    the proxy adds and its Connection line, as ``head_bytes()`` writes them."""
    parts = [txn.method or b"GET", b" ", txn.uri or b"/", b" ", txn.version or b"HTTP/1.1", b"\r\n"]
    for n, v in txn.req_received():
        if len(n) != 10 or n.lower() != b"connection":
            parts += (n, b": ", v, b"\r\n")
    for n, v in txn.req_tail or ():
        if n != b"connection":  # (names set by rules are lower case)
            parts += (n, b": ", v, b"\r\n")
    for line in add:
        parts += (line, b"\r\n")
    if connection is not None:
        parts += (b"connection: ", connection, b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def appended_head(
    head: RequestHead, wire: bytes, connection: bytes | None, add: Sequence[bytes]
) -> bytes:
    """The received head with only fields appended by the rules (``txn.req_wire``):
    written as ``head_bytes()`` writes an unchanged one, the appended fields
    first among the added lines (the order of ``request_head()``)."""
    return head_bytes(head, connection, add=add, block=wire)


def response_head(txn: Txn, connection: bytes | None, after: Sequence[bytes]) -> bytes:
    hdrs: Headers = txn.res_headers() or []
    reason = txn.reason if txn.reason is not None else b""
    parts = [b"%s %d %s\r\n" % (txn.res_version or b"HTTP/1.1", txn.status, reason)]
    parts.extend(n + b": " + v + b"\r\n" for n, v in hdrs if n.lower() != b"connection")
    if connection is not None:
        parts.append(b"connection: " + connection + b"\r\n")
    parts.extend(line + b"\r\n" for line in after)
    parts.append(b"\r\n")
    return b"".join(parts)


__all__ = ["appended_head", "load_request", "load_response", "request_head", "response_head"]
