"""What a client that goes away does to its HTTP transaction (spec §2.8,
``option abortonclose``), once its request is complete.

HAProxy 2.6 stops reading a client whose request is complete, unless the
backend has ``option abortonclose`` (``http_request_forward_body()``:
``channel_dont_close()``, ``channel_dont_read()``). So, as the 2.6.12 binary
does it:

* Without the option, the client's FIN or reset goes unseen: the request
  stays in its queue, is sent to a server, and the response is forwarded. A
  FIN lets it through (then the connection closes); after a reset, the first
  write of the response (or of HAProxy's own reply) finds the client gone:
  the stream ends there (``CD``, or the state it already had, such as
  ``sQ``) and counts a client abort. herdsman likewise stops reading such a
  client (one transaction at a time), so it learns of the reset when a write
  fails (``is_closing()``) or when the transport reports it.
* With it, the client is read. A FIN aborts the request still queued (``CQ``)
  or in turn-around or connecting (``CC``), with no response and no abort
  counted (``back_may_abort_req()``); once the request reached the server,
  the client gets HAProxy's 400 (``CH``, a client abort:
  ``http_wait_for_response()``'s case 3) and the server connection is
  dropped; during the response, the stream ends (``CD``, a client abort). A
  reset ends the stream at once (``CQ``, ``CC`` or ``CD``), counted as a
  client abort except while connecting, as the binary counts.
"""

from __future__ import annotations

from typing import Protocol

from herdsman.core.backend import Backend, Server
from herdsman.core.queue import Pending
from herdsman.core.streamlog import StreamLog
from herdsman.http.model import RequestHead
from herdsman.proxy.http_upstream import Upstream


class Session(Protocol):
    """What these rules read and call of an HTTP session (``proxy/http.py``)."""

    backend: Backend | None
    server: Server | None
    pending: Pending | None
    up: Upstream
    log: StreamLog | None
    req: RequestHead | None
    client_close: bool

    def close(self) -> None: ...

    def reply(self, status: int, req: RequestHead | None) -> None: ...


def watched(s: Session) -> bool:
    """Is the client still read once its request is complete (``abortonclose``)?"""
    be = s.backend
    return be is not None and be.abortonclose


def _where(s: Session) -> str:
    """The termination state's second letter for a client that leaves now."""
    if s.pending is not None:
        return "Q"
    if s.up.conn is None:
        return "C"  # connecting, or in turn-around
    return "D"


def _end(s: Session, where: str) -> None:
    """The log's termination state; no response logs status -1 (``txn->status``)."""
    log = s.log
    if log is not None:
        log.set_term("C", where)
        if not log.status:
            log.status = -1


def _count(s: Session) -> None:
    be = s.backend
    if be is not None:
        pending = s.pending
        be.aborted(s.server or (pending.server if pending is not None else None), True)


def client_fin(s: Session) -> None:
    """The client shut its side after a complete request."""
    be = s.backend
    if be is None or not be.abortonclose:
        s.client_close = True  # answer what was asked, then close
        return
    if s.up.conn is not None and s.up.resp is None:
        _count(s)
        if s.log is not None:
            s.log.set_term("C", "H")
        be.counters.http_rsp[3] += 1
        s.reply(400, s.req)
        return
    where = _where(s)
    if where == "D":
        _count(s)
    _end(s, where)
    s.close()


def client_lost(s: Session) -> bool:
    """The client connection is gone (a reset) during a transaction whose
    request is complete. True: the transaction goes on without it (no
    ``abortonclose``) until response bytes or a reply find it gone, when the
    session closes and calls ``gone()``; False: the session closes now."""
    be = s.backend
    if be is not None and be.abortonclose:
        where = _where(s)
        if where != "C":  # 2.6.12 counts no abort for a reset while connecting
            _count(s)
        _end(s, where)
        return False
    s.client_close = True
    return True


def gone(s: Session) -> None:
    """The session closes, its client found gone: a client abort (``CD``,
    unless the stream had already ended otherwise, as ``sQ``)."""
    _count(s)
    _end(s, "D")
