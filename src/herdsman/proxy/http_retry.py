"""L7 retries: ``retry-on`` with response statuses (spec §2.7), as 2.6.12 does them.

HAProxy keeps a copy of the request it sends when the request is complete at
that moment (``sc_conn_send()``: ``TX_L7_RETRY`` and the ``l7_buffer``;
a request whose body was still coming is never retried). When the response
head's status is one of ``retry-on``'s and the stream has retries left
(``conn_retries`` < ``retries``, shared with connection retries),
``do_l7_retry()`` drops the server connection and the response unseen (no
``hrsp_*``, no passive health event, no log of it), counts a retry on the
server and the backend, and ``stream_choose_redispatch()`` picks the server:
another one as a connection retry would (``option redispatch``), or the same
one, which counts the retry a second time. The request goes again on a new
connection; the traffic log's retries field counts it (``+N`` once
redispatched). The same goes for a server that closes before its response
(``empty-response``: a FIN; a reset is a read error, never retried), a
response head that does not parse (``junk-response``: counted in ``eresp``
and as a passive health event first, as ``return_bad_res`` does) and
``timeout server`` before the head (``response-timeout``).
``0rtt-rejected`` needs TLS early data, which herdsman does not send.
tests/integration/test_http_retry_on.py compares them with the binary.
"""

from __future__ import annotations

from typing import Protocol

from herdsman.config.model import RetryOn
from herdsman.core.backend import Backend, Server
from herdsman.defs.status import HanaEvent
from herdsman.proxy.connect import l7_retry

STATUS = {
    401: RetryOn.S401,
    403: RetryOn.S403,
    404: RetryOn.S404,
    408: RetryOn.S408,
    425: RetryOn.S425,
    500: RetryOn.S500,
    501: RetryOn.S501,
    502: RetryOn.S502,
    503: RetryOn.S503,
    504: RetryOn.S504,
}


class ServerSide(Protocol):
    def release(self, keep: bool) -> None: ...


class Session(Protocol):
    """What these rules read and call of an HTTP session (``proxy/http.py``)."""

    backend: Backend | None
    server: Server | None
    req_done: bool
    early: list[bytes | memoryview]
    l7: list[bytes | memoryview] | None
    lb_key: int | None
    retries: int

    @property
    def up(self) -> ServerSide: ...

    def reconnect(self, be: Backend, got: object) -> None: ...


def sent(s: Session) -> None:
    """The request goes to a server: keep what a retry would send again, when
    the request is complete and the backend retries on a response (the
    upstream calls this only then: ``BackHttp.l7_retry``)."""
    s.l7 = list(s.early) if s.req_done else None


def response(s: Session, cause: int | RetryOn) -> bool:
    """The server's response head came with status ``cause``, or the response
    failed (``cause`` a ``RetryOn`` condition): True when the request goes again."""
    body, be, srv = s.l7, s.backend, s.server
    if body is None or be is None or srv is None or s.retries >= be.cfg.retries:
        return False
    flag = cause if isinstance(cause, RetryOn) else STATUS.get(cause)
    if flag is None or not be.cfg.retry_on & flag:
        return False
    if flag is RetryOn.JUNK_RESPONSE:
        be.counters.failed_resp += 1
        srv.counters.failed_resp += 1
        be.passive(srv, HanaEvent.HTTP_HDRRSP)
    s.up.release(keep=False)
    s.early = list(body)
    s.reconnect(be, l7_retry(s, be, srv, s.lb_key))  # type: ignore[arg-type]
    return True
