"""``server ... redir <prefix>``: GET and HEAD requests for the server get a 302.

HAProxy 2.6 marks GET and HEAD streams redirectable (``http_wait_for_request()``)
and, once such a stream is assigned a server with a prefix, answers instead of
connecting (``http_perform_server_redirect()``, http_ana.c): ``302 Found``
with ``Cache-Control: no-cache``, ``Content-length: 0`` and ``Location``: the
prefix (nothing for the prefix ``/``) followed by the request's path from its
leading '/' (``http_parse_path()``), then the close. A request without a path
(``*``, an absolute target without one) is forwarded to the server. Other
methods are always forwarded.

Difference: HAProxy redirects even when the server is full (it skips the
queue, ``assign_server_and_queue()``); herdsman redirects once the server's
slot is taken, so a full server's request waits in its queue first.
"""

from __future__ import annotations

from typing import Protocol

from herdsman.http import Flag, RequestHead
from herdsman.http.errors import Reply
from herdsman.http.model import Method
from herdsman.http.uri import path_of
from herdsman.sample.txn import Txn

__all__ = ["answer", "redirect"]


class Session(Protocol):
    """What the redirection reads and calls of an HTTP session (``proxy/http.py``)."""

    req: RequestHead | None
    txn: Txn | None
    req_done: bool

    def reply(
        self,
        status: int,
        req: RequestHead | None,
        *,
        request_pending: bool = False,
        msg: Reply | None = None,
    ) -> None: ...


def answer(s: Session, prefix: str) -> bool:
    """Answer the session's GET or HEAD with the server's 302; False: forward it."""
    req = s.req
    assert req is not None
    txn = s.txn
    target = txn.uri if txn is not None and txn.line_dirty and txn.uri else req.target
    found = redirect(prefix, req.meth, target)
    if found is None:
        return False
    s.reply(302, req, request_pending=not s.req_done, msg=found)
    return True


_FOUND = b"HTTP/1.1 302 Found\r\n"


def redirect(prefix: str, meth: Method, target: bytes) -> Reply | None:
    """The 302 for a request assigned a server with ``redir <prefix>``, or None
    (``target``: the request's, as the rules left it)."""
    if not prefix or meth not in (Method.GET, Method.HEAD):
        return None
    path = path_of(target)
    if not path:
        return None
    location = path if prefix == "/" else prefix.encode() + path
    fields = ((b"cache-control", b"no-cache"), (b"content-length", b"0"), (b"location", location))
    return Reply(302, _FOUND, fields, b"", Flag.VER_11 | Flag.CONN_CLOSE)
