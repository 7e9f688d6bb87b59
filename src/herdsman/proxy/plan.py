"""What the rules of one proxy are at run time (``Plan``, built by
``proxy/routing.py``'s ``Router`` from the configuration, a named defaults
section's rules first) and what the request rules decided for the session
(``Outcome``, with the ``action`` constants the data path acts on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from herdsman.config.model import ProxyConfig
from herdsman.core.backend import Backend, Server
from herdsman.rules import cookie as ck
from herdsman.rules.model import CookieConfig, PersistRule, Rule, StickRule
from herdsman.sample.cond import Condition
from herdsman.sample.logformat import Piece
from herdsman.sample.txn import Txn


def _no_backend(txn: Txn) -> Backend | None:
    return None


@dataclass
class Plan:
    """What a proxy runs, its named defaults section's rules first."""

    cfg: ProxyConfig
    view: Any
    tcp_conn: list[Rule] = field(default_factory=list)
    tcp_sess: list[Rule] = field(default_factory=list)
    tcp_req: list[Rule] = field(default_factory=list)
    tcp_res: list[Rule] = field(default_factory=list)
    http_req: list[Rule] = field(default_factory=list)
    http_res: list[Rule] = field(default_factory=list)
    http_after: list[Rule] = field(default_factory=list)
    redirects: list[Rule] = field(default_factory=list)
    monitor_fail: list[Condition] = field(default_factory=list)
    switching: list[tuple[Condition | None, Backend | None, Piece | None]] = field(
        default_factory=list
    )
    default: Backend | None = None
    # the switching rules and the default backend compiled (proxy/switching.py)
    switch: Callable[[Txn], Backend | None] = _no_backend
    servers: list[tuple[Condition, Server | None, Piece | None]] = field(default_factory=list)
    persist: list[PersistRule] = field(default_factory=list)
    sticking: list[StickRule] = field(default_factory=list)
    store_rsp: list[StickRule] = field(default_factory=list)
    cookie: CookieConfig | None = None
    cookies: list[tuple[bytes, Server]] = field(default_factory=list)
    cookie_of: dict[int, bytes | None] = field(default_factory=dict)
    # "capture request|response header": (lower-case name, length, slot)
    req_captures: list[tuple[bytes, int, int]] = field(default_factory=list)
    res_captures: list[tuple[bytes, int, int]] = field(default_factory=list)
    capture_cookie: tuple[bytes, int] | None = None  # a frontend's "capture cookie"
    persist_opt: bool = False
    be_view: Any = None  # its own backend's view (a proxy with the backend capability)
    # anything to do on a response of this proxy as a backend: rules, cookie, stick
    # store-response, captures (tracked counters are looked at separately)
    on_response: bool = False
    # decided once, what a request skips: the content and http-request rules of
    # this proxy, the rules choosing a server (persistence, use-server, cookie, stick)
    req_phase: bool = False
    choose: bool = False

    @property
    def request_rules(self) -> bool:
        return bool(self.tcp_req or self.http_req or self.redirects or self.req_captures)

    @property
    def response_rules(self) -> bool:
        return bool(
            self.http_res or self.http_after or self.store_rsp or self.cookie or self.res_captures
        )


# what the session does after the request rules
CONTINUE: Final = 0
REPLY: Final = 1  # send txn.reply (a Reply, an Errmsg, an AuthReply)
CLOSE: Final = 2  # close the connection without a word (reject)
TARPIT: Final = 3  # hold the request for "timeout tarpit", then send txn.reply
INTERCEPT: Final = 4  # answer with the status in txn.status (monitor URI)
SERVICE: Final = 5  # a use-service rule chose the service in txn.reply (a Service)


class Outcome:
    """What the request rules decided for the stream. A plain class, not a
    dataclass: mypyc compiles its ``__init__`` (a dataclass's is generated at
    import, interpreted: 4x the cost, once per request)."""

    __slots__ = (
        "action",
        "backend",
        "server",
        "direct",
        "ignore",
        "found",
        "stores",
        "term",
        "force",
        "sck",
        "cookies",
        "plan",
    )

    def __init__(self, backend: Backend | None = None) -> None:
        self.action = CONTINUE
        self.backend = backend
        self.server: Server | None = None  # SF_ASSIGNED: a rule or a cookie chose it
        self.direct = False  # SF_DIRECT: the cookie's server
        self.ignore = False  # ignore-persist matched
        self.found: ck.Persisted[Server] | None = None
        self.stores: tuple[tuple[StickRule, object], ...] = ()  # stick store-request keys
        # the log's termination state when the rules answered ("PR": refused by a
        # rule, "LR": answered locally), as http_process_req_common() sets it
        self.term = ""
        self.force = False  # SF_FORCE_PRST: a force-persist rule matched
        self.sck = ck.SCK_NONE  # TX_SCK_*: what the response did with the cookie
        # "capture cookie": what the request and the response had (%CC, %CS)
        self.cookies: tuple[bytes | None, bytes | None] = (None, None)
        self.plan: Plan | None = None  # the backend's (``backend``'s plan)


__all__ = [
    "CLOSE",
    "CONTINUE",
    "INTERCEPT",
    "REPLY",
    "SERVICE",
    "TARPIT",
    "Outcome",
    "Plan",
]
