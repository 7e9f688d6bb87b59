"""``option http-buffer-request``: the request body waited for before a server is chosen.

HAProxy 2.6 adds the ``AN_REQ_HTTP_BODY`` analyser when the frontend has the
option (``http_wait_for_request()``: it runs before the frontend's
``http-request`` rules, which then see the body with ``req.body``) or the
backend has it and the frontend does not (``stream_set_backend()``: after the
switching rules). ``http_wait_for_msg_body()`` (http_ana.c) holds the request
until one of:

* the whole body is in (``HTX_FL_EOM``);
* the request buffer is full: its free room is down to ``tune.maxrewrite``
  (``channel_htx_full()``); herdsman counts the head as received and the body
  bytes, HAProxy its HTX form (a few bytes per header more or less);
* ``timeout http-request`` of the proxy running the analyser (the frontend's
  when it has the option, else the backend's), counted from the head, or
  ``timeout client`` between two reads: the stream answers 408 (the proxy's
  errorfile) and closes.

A POST for a ``balance url_param`` backend waits the same way whatever the
option (``http_process_request()``): the parameter is looked for in its body
when the query lacks it (``lb/http_keys.py``). A request without a body (no
framing, ``Content-Length: 0``) and CONNECT are not held. On the first wait an HTTP/1.1 request with ``Expect: 100-continue``
gets HAProxy's own ``100 Continue`` (``http_handle_expect_hdr()``) and the
Expect header is removed from what the server gets. What was held is then sent
with the head once the connection is up (the session's ``early`` list); the
rest of a body larger than the buffer streams as usual.

Difference: herdsman runs the frontend's and the backend's rules in one
step, so with the option in the backend only it waits after the backend's
rules too (2.6 waits before them): a backend rule reading ``req.body`` sees
what came with the head.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from herdsman.core.backend import Backend
from herdsman.http import Flag, Framing, RequestHead
from herdsman.http.model import Method
from herdsman.proxy.http_settings import BackHttp, FrontHttp
from herdsman.proxy.routing import Outcome

__all__ = [
    "CONTINUE",
    "before_server",
    "expects",
    "hashes_body",
    "holds",
    "limit",
    "start",
    "timeout",
]

# http_reply_100_continue() as the H1 mux writes it (checked against 2.6.12)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Session(Protocol):
    """What the wait reads and sets of an HTTP session (``proxy/http.py``)."""

    loop: asyncio.AbstractEventLoop
    backend: Backend | None
    be_http: BackHttp | None
    outcome: Outcome | None
    req_done: bool
    body_wait: float  # when the wait began; 0: not waiting
    waited: bool  # the frontend waited, before the rules

    def to_client(self, data: bytes) -> None: ...


def start(s: Session, head: RequestHead) -> tuple[bytes, ...]:
    """Wait for the body; the header names the server must not get (an Expect
    answered here)."""
    s.body_wait = s.loop.time()
    if not expects(head):
        return ()
    s.to_client(CONTINUE)
    return (b"expect",)


def before_server(s: Session, head: RequestHead) -> tuple[bytes, ...]:
    """After the rules: the backend's option (the frontend waited already if it
    has it) or a POST for ``url_param`` starts the wait; the header names the
    server must not get."""
    if s.waited:
        return (b"expect",) if expects(head) else ()
    be_http = s.be_http
    be = s.backend
    assert be_http is not None
    assert be is not None
    if s.req_done or not holds(head):
        return ()
    assigned = s.outcome is not None and s.outcome.server is not None
    if be_http.buffer_request or hashes_body(be.cfg.balance.algo, head, assigned):
        return start(s, head)
    return ()


def holds(head: RequestHead) -> bool:
    """Whether the request has a body to wait for (``http_wait_for_msg_body()``:
    nothing for a bodyless request or CONNECT)."""
    if head.meth is Method.CONNECT:
        return False
    if head.framing is Framing.LENGTH:
        return head.content_length > 0
    return head.framing is Framing.CHUNKED


def hashes_body(algo: str, head: RequestHead, assigned: bool) -> bool:
    """A POST for a ``balance url_param`` backend waits for its body too, unless a
    server is assigned already (a rule, a persistence cookie): the parameter may be
    in it (``http_process_request()``, with ``check_post`` or without)."""
    return algo == "url_param" and head.meth is Method.POST and not assigned


def expects(head: RequestHead) -> bool:
    """``Expect: 100-continue`` on an HTTP/1.1 request with a body: HAProxy answers it."""
    return bool(head.flags & Flag.EXPECT_100)


def limit(bufsize: int, maxrewrite: int, head: RequestHead) -> int:
    """Body bytes that fill the request buffer (``channel_htx_full()``)."""
    return max(bufsize - maxrewrite - head.size, 1)


def timeout(fe: FrontHttp, be: BackHttp | None) -> float | None:
    """``timeout http-request`` of the proxy whose analyser waits, in seconds."""
    if fe.buffer_request or be is None:
        return fe.http_request
    return be.http_request
