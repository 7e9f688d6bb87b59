"""A transaction's heads (``sample/txn.py``) loaded from the parsed messages,
and written back as HTTP/1 bytes once rules changed them (as ``head_bytes()``
writes an unchanged head: the proxy's added lines, then its Connection line).

A request head the rules only appended fields to (``Txn.req_tail``) is written
by appending them to its bytes when that gives what writing every field again
gives: ``plain_names()`` says when.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

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
    # its fields are split from its bytes (the fast parser's heads) unless the
    # exact parser gave them: only then may the bytes be kept (plain_names())
    txn.names_of = plain_names if head._headers is None else None
    txn.req_load = lambda: head.headers  # changed only through a copy (req_hdrs_rw())


def load_response(txn: Txn, resp: ResponseHead) -> None:
    txn.status = resp.status
    txn.reason = resp.reason
    txn.res_version = resp.version
    txn.res_load = lambda: resp.headers


# a header line that is not "name: value" with one space and no trailing blank
_ODD = re.compile(rb"\n[^:\r\n]*:(?: [ \t]|[^ ])|[ \t]\r\n")
_NAME = re.compile(rb"\n([^:\r\n]*):")


def plain_names(head: Any) -> set[bytes] | None:
    """The lower-case field names of a request head whose bytes are what
    ``request_head()`` writes of its fields, which were split from them: every
    line is ``name: value`` with one space after the colon and no blank at its
    end, and its edits delete its Connection lines, all of them, and nothing
    else. None otherwise (the fields are written again)."""
    raw: bytes = head.raw
    if _ODD.search(raw) is not None:
        return None
    low = raw.lower()
    edits = head.edits
    if len(edits) != low.count(b"\nconnection:"):
        return None
    for start, _end, repl in edits:
        if repl or low[start - 1 : start + 11] != b"\nconnection:":
            return None
    return set(_NAME.findall(low))


def request_head(txn: Txn, connection: bytes | None, add: Sequence[bytes]) -> bytes:
    """The request head as the rules left it (``txn.req_hdrs``, ``txn.req_tail``), then the lines
    the proxy adds and its Connection line, as ``head_bytes()`` writes them."""
    tail = txn.req_tail
    if txn.req_plain and tail is not None and not (txn.req_dirty or txn.line_dirty):
        lines = [n + b": " + v for n, v in tail if n != b"connection"]
        return head_bytes(txn.req_head, connection, add=[*lines, *add])
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


__all__ = ["load_request", "load_response", "plain_names", "request_head", "response_head"]
