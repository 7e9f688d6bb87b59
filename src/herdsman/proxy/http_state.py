"""What the parts of an ``HttpSession`` (``proxy/http.py``) share: its transaction
phases, its slots, and the types of the attributes and methods its base classes
(the chain ``http_reqbody.py`` > ``http_replies.py`` > ``http_timers.py`` >
``http_close.py`` > ``http_txlog.py`` > this one) read of one another.

The slots are declared here rather than in ``HttpSession`` so that mypy holds every
part to them; the others and ``HttpSession`` add none. ``HttpSession.__init__``
sets the values; the methods declared at the end are defined further down the
chain, and raise if ever reached here.
"""

from __future__ import annotations

import asyncio

from herdsman.config.model import ProxyConfig
from herdsman.core.backend import Backend, Server
from herdsman.core.counters import BeCounters, FeCounters
from herdsman.core.streamlog import StreamLog
from herdsman.http import (
    ChunkedBody,
    HttpError,
    LengthBody,
    RequestHead,
    RequestParser,
    ResponseHead,
)
from herdsman.http.errors import Reply
from herdsman.proxy.connect import Connecting
from herdsman.proxy.frontend import Frontend, Listener
from herdsman.proxy.http_context import HttpContext
from herdsman.proxy.http_phase import CLOSED, IDLE, SENDING, TUNNEL, WAITING
from herdsman.proxy.http_server import ServerConn
from herdsman.proxy.http_settings import BackHttp, FrontHttp
from herdsman.proxy.http_upstream import Upstream
from herdsman.proxy.routing import Outcome, Plan
from herdsman.rules.http_actions import Service
from herdsman.sample.txn import Txn

__all__ = ["CLOSED", "IDLE", "SENDING", "TUNNEL", "WAITING", "SessionState"]


class SessionState(Connecting):
    """The session's slots, and the types of what its mixins read (``HttpSession.__init__``
    sets them)."""

    __slots__ = (
        "ctx",
        "frontend",
        "listener",
        "loop",
        "fe_http",
        "backend",
        "be_http",
        "transport",
        "held",
        "phase",
        "buf",
        "parser",
        "up",
        "req",
        "req_out",
        "req_body",
        "req_done",
        "req_held",
        "early",
        "first",
        "client_close",
        "server_close",
        "got_byte",
        "idle_start",
        "last_client",
        "last_server",
        "timer",
        "task",
        "peer_addr",
        "local_addr",
        "client_paused",
        "fe_c",
        "be_c",
        "srv_c",
        "private",
        "rules",
        "res_rules",
        "be_plan",
        "txn",
        "outcome",
        "timer_tarpit",
        "log",
        "head_at",
        "local",
        "local_body",
        "local_drain",
        "gone",
        "lb_key",
        "l7",
        "body_wait",
        "body_early",
        "waited",
        "prefer_last",
        "req_add",
        "plain",
        "plain_flags",
        "plain_modes",
    )

    ctx: HttpContext
    frontend: Frontend
    listener: Listener
    loop: asyncio.AbstractEventLoop
    fe_http: FrontHttp
    backend: Backend | None
    be_http: BackHttp | None
    transport: asyncio.Transport | None
    phase: int
    buf: bytes
    up: Upstream
    req: RequestHead | None
    req_body: LengthBody | ChunkedBody | None
    req_done: bool
    req_held: bytes
    early: list[bytes | memoryview]
    first: bool
    client_close: bool
    got_byte: bool
    idle_start: float
    last_client: float
    last_server: float
    timer: asyncio.TimerHandle | None
    task: asyncio.Task[None] | None
    peer_addr: object
    local_addr: object
    fe_c: FeCounters
    be_c: BeCounters | FeCounters
    private: dict[int, ServerConn]
    txn: Txn | None
    timer_tarpit: asyncio.TimerHandle | None
    log: StreamLog | None
    head_at: float
    local: ProxyConfig | Service | None
    local_body: list[bytes]
    local_drain: bool
    gone: bool
    body_wait: float
    body_early: bytes | None
    waited: bool
    srv_c: BeCounters | FeCounters
    parser: RequestParser
    rules: Plan | None
    # the response goes through the rules (http_rules.response()): set by the
    # request's rules, from what the plans and the trackers of the stream have
    res_rules: bool
    be_plan: Plan | None
    outcome: Outcome | None
    held: bool
    l7: list[bytes | memoryview] | None
    lb_key: int | None

    # Defined by the classes above this one in the chain (http.py, http_reqbody.py,
    # http_replies.py, http_timers.py, http_close.py, http_txlog.py), declared here
    # for the ones below: a chain, not mixins, because mypyc compiles single
    # inheritance only (herdsman/_accel.py).
    # proxy/http.py
    def to_client(self, data: bytes | memoryview) -> None:
        raise NotImplementedError

    def pause_client(self) -> None:
        raise NotImplementedError

    def transaction_done(self) -> None:
        raise NotImplementedError

    def _routed(self, head: RequestHead, buf: bytes, monitor: bool, body: bytes | None) -> None:
        raise NotImplementedError

    def _assign(self, be: Backend, rest: bytes) -> None:
        raise NotImplementedError

    @property
    def client(self) -> asyncio.Protocol:
        raise NotImplementedError

    def client_transport(self) -> asyncio.BaseTransport | None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def reconnect(self, be: Backend, got: object) -> None:
        raise NotImplementedError

    # proxy/http_reqbody.py
    def _request_body(self, data: bytes) -> None:
        raise NotImplementedError

    # proxy/http_replies.py
    def reply(
        self,
        status: int,
        req: RequestHead | None,
        *,
        request_pending: bool = False,
        client_close: bool | None = None,
        msg: Reply | None = None,
    ) -> None:
        raise NotImplementedError

    def _client_error(self, exc: HttpError) -> None:
        raise NotImplementedError

    def _serve_local(self) -> None:
        raise NotImplementedError

    def _answer(self, status: int, head: RequestHead, buf: bytes) -> None:
        raise NotImplementedError

    def _local(self, px: ProxyConfig | Service, head: RequestHead, buf: bytes) -> None:
        raise NotImplementedError

    # proxy/http_timers.py
    def arm(self) -> None:
        raise NotImplementedError

    # proxy/http_close.py
    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def soft_stop(self) -> None:
        raise NotImplementedError

    # proxy/http_txlog.py
    def _ms(self, at: float) -> int:
        raise NotImplementedError

    def _new_log(self, head: RequestHead) -> None:
        raise NotImplementedError

    def log_response(self, resp: ResponseHead) -> None:
        raise NotImplementedError

    def _log_end(self, srv: Server | None) -> None:
        raise NotImplementedError

    def _log_session_error(self, status: int, err: str, fin: str) -> None:
        raise NotImplementedError
