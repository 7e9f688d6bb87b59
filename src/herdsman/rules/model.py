"""Types of the rules layer (``action-t.h``, ``http_ana-t.h``): no logic here.

A ``Rule`` is an optional condition and an action closure. The action
returns one of HAProxy's ``ACT_RET_*`` codes; ``eval.py`` turns a list of
rules into one ``RES_*`` verdict, as ``http_req_get_intercept_rule()`` does.
What an action decides beyond its code (a reply to send, a tarpit, a new
URI...) is written into the ``Txn``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from herdsman.sample.acl import Acl
from herdsman.sample.cond import Condition
from herdsman.sample.expr import Expr
from herdsman.sample.stick import TableSpec
from herdsman.sample.txn import Ref, Txn

# act_return
ACT_CONT: Final = 0
ACT_STOP: Final = 1
ACT_YIELD: Final = 2
ACT_ERR: Final = 3
ACT_DONE: Final = 4
ACT_DENY: Final = 5
ACT_ABRT: Final = 6
ACT_INV: Final = 7

# rule_result
RES_CONT: Final = 0
RES_YIELD: Final = 1
RES_STOP: Final = 2
RES_DENY: Final = 3
RES_ABRT: Final = 4
RES_DONE: Final = 5
RES_BADREQ: Final = 6
RES_ERROR: Final = 7

Action = Callable[[Txn], int]


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``http-request``/``tcp-request``... line, compiled."""

    name: str  # the action keyword ("deny", "set-header"...)
    action: Action
    cond: Condition | None = None
    final: bool = False  # ACT_FLAG_FINAL: nothing after it runs without a condition
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class SwitchingRule:
    """``use_backend`` (a fixed name, or a log-format one resolved at run time)."""

    name: str
    cond: Condition | None
    dynamic: Callable[[Txn], bytes] | None
    ref: Ref | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class ServerRule:
    """``use-server <srv> if|unless <cond>`` (a log-format name if it holds '%')."""

    name: str
    cond: Condition
    dynamic: Callable[[Txn], bytes] | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class PersistRule:
    force: bool  # force-persist, else ignore-persist
    cond: Condition


@dataclass(frozen=True, slots=True)
class StickRule:
    """``stick on|match|store-request|store-response <expr> [table <t>] [cond]``."""

    match: bool
    store: bool
    response: bool
    expr: Expr
    table: Ref
    cond: Condition | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Capture:
    """A ``declare capture`` slot or an implicit one of ``http-request capture ... len``."""

    length: int
    response: bool
    header: str | None = None  # "capture request|response header <name>"


@dataclass
class CookieConfig:
    """The ``cookie`` line (``ck_opts``, ``cookie_*`` of ``struct proxy``)."""

    name: str
    rewrite: bool = False
    insert: bool = False
    prefix: bool = False
    indirect: bool = False
    nocache: bool = False
    postonly: bool = False
    preserve: bool = False
    httponly: bool = False
    secure: bool = False
    dynamic: bool = False
    domain: str | None = None
    maxidle: int = 0  # seconds
    maxlife: int = 0
    attrs: str | None = None


@dataclass
class Routing:
    """Everything routing-related of one proxy, as parsed.

    Nothing here is inherited from a ``defaults`` section by copy: a named
    defaults section keeps its own rules and a proxy built ``from`` it runs
    them first (``px->defpx``), as 2.6 does; the cookie settings are the one
    exception (``proxy_defproxy_cpy()`` copies them) and live in ``cookie``.
    """

    acls: dict[str, Acl] = field(default_factory=dict)
    http_req: list[Rule] = field(default_factory=list)
    http_res: list[Rule] = field(default_factory=list)
    http_after: list[Rule] = field(default_factory=list)
    tcp_conn: list[Rule] = field(default_factory=list)
    tcp_sess: list[Rule] = field(default_factory=list)
    tcp_req: list[Rule] = field(default_factory=list)
    tcp_res: list[Rule] = field(default_factory=list)
    tcp_req_delay: int = 0  # ms
    tcp_res_delay: int = 0
    switching: list[SwitchingRule] = field(default_factory=list)
    servers: list[ServerRule] = field(default_factory=list)
    persist: list[PersistRule] = field(default_factory=list)
    redirects: list[Rule] = field(default_factory=list)
    monitor_fail: list[Condition] = field(default_factory=list)
    sticking: list[StickRule] = field(default_factory=list)
    store_rsp: list[StickRule] = field(default_factory=list)
    table: TableSpec | None = None
    captures: list[Capture] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)  # names to resolve (smp_resolve_args())
    cookie: CookieConfig | None = None
    dyncookie_key: str | None = None
    conds: list[Condition] = field(default_factory=list)  # every condition, to recompile

    def __deepcopy__(self, memo: dict[int, object]) -> Routing:
        """What a proxy copies of its defaults section (``proxy_defproxy_cpy()``):
        the cookie settings and the inspect delays; rules stay the section's own."""
        return Routing(
            tcp_req_delay=self.tcp_req_delay,
            tcp_res_delay=self.tcp_res_delay,
            cookie=copy.copy(self.cookie),
            dyncookie_key=self.dyncookie_key,
        )

    def any_rules(self) -> bool:
        return bool(
            self.http_req
            or self.http_res
            or self.http_after
            or self.tcp_conn
            or self.tcp_sess
            or self.tcp_req
            or self.tcp_res
        )
