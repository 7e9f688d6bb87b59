"""What an expression is evaluated against: one ``Txn`` per client connection.

HAProxy's fetches read a ``struct session`` (the connection: addresses,
session variables, session-level tracking counters) and a ``struct stream``
(one request and its response). herdsman keeps both in one object per client
connection, ``Txn``, and the data path calls ``new_stream()`` for each
request: the stream-level fields go back to their empty state, the session's
stay. No object is created per request unless a rule needs one (a variable,
a modified header list).

The data path fills the fields it knows; everything else stays None and the
fetches that need it fail, as HAProxy's fail outside their context (``src``
in a health check, ``status`` before a response). Objects of other layers
(proxies, servers) are seen through the narrow views below, which the data
path provides; the stick tables are this package's own (``stick.py``).

Header lists are ``(name, value)`` pairs of bytes in wire order. A rule that
changes them first takes its own copy (``req_hdrs_rw()``); the data path sees
``req_dirty`` and writes the head again. The common rewrite, a ``set-header``
or ``add-header`` of a name the request does not have, takes no copy: the
field goes to ``req_tail``, the fields after the received ones
(``req_append()``), until something reads or changes the whole list.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from herdsman.sample.stick import Entry
    from herdsman.sample.types import Value

Headers = list[tuple[bytes, bytes]]
IP = IPv4Address | IPv6Address


class ServerView(Protocol):
    """A server as fetches read it (``struct server``)."""

    name: str
    puid: int

    def is_up(self) -> bool:
        """``srv_is_up``: not in maintenance, and checked UP (or not checked)."""
        ...

    def cur_sess(self) -> int: ...

    def queued(self) -> int: ...

    def weights(self) -> tuple[int, int, int]:
        """(effective, initial, user) weights."""
        ...


class BackendView(Protocol):
    """A proxy with backend capability as fetches read it."""

    name: str
    uuid: int

    def beconn(self) -> int: ...

    def usable(self) -> int:
        """``be_usable_srv()``: active servers up, else 1 for a first backup, else backups."""
        ...

    def totpend(self) -> int: ...

    def servers(self) -> list[ServerView]: ...

    def server(self, name: str) -> ServerView | None: ...

    def connslots(self) -> int: ...


class FrontendView(Protocol):
    name: str
    uuid: int

    def feconn(self) -> int: ...


class TlsView(Protocol):
    """The TLS layer of the client connection (HAProxy's ``SSL`` object of
    ``sess->origin``) as the ``ssl_fc*``/``ssl_c*`` fetches read it. Texts are
    OpenSSL's; the data path provides it once the handshake is done."""

    def sni(self) -> bytes | None:
        """``SSL_get_servername()``: the name the client sent."""
        ...

    def protocol(self) -> bytes | None: ...

    def cipher(self) -> bytes | None: ...

    def alpn(self) -> bytes | None: ...

    def keysizes(self) -> tuple[int, int]:
        """``SSL_get_cipher_bits()``: (bits used, the algorithm's bits)."""
        ...

    def resumed(self) -> bool: ...

    def verify_result(self) -> int: ...

    def peer_der(self) -> bytes | None:
        """The client certificate, None when the client sent none."""
        ...

    def peer_serial(self) -> bytes | None: ...

    def peer_dn(self, issuer: bool, entry: str, pos: int, rfc2253: bool) -> bytes | None:
        """The subject's (issuer's) name: one entry's value (``entry``, its
        ``pos``-th occurrence, from the end when negative), else RFC 2253's form,
        else ``/C=../CN=..``; None when there is nothing to show."""
        ...


class World(Protocol):
    """The running process as expressions see it: names resolved at start-up
    (``Ref.bind``), the clock, process variables."""

    def now_ms(self) -> int: ...

    def stopping(self) -> bool: ...

    proc_vars: dict[str, Value]


class Ref:
    """A name an argument refers to (backend, server, table, user list), resolved
    once the configuration is read (``smp_resolve_args()``) and bound when the
    runtime starts. The closure reads ``target``."""

    __slots__ = ("kind", "name", "target", "where", "groups")

    def __init__(self, kind: int, name: str, where: Any) -> None:
        self.kind = kind  # args.BE, args.SRV, args.TAB, args.USR, args.FE
        self.name = name
        self.target: Any = None
        self.where = where  # what the message names if it does not resolve
        # http_auth_group's patterns: groups the list must have (acl_find_targets())
        self.groups: list[bytes] | None = None

    def __repr__(self) -> str:
        return f"Ref({self.kind}, {self.name!r})"


def _no_clock() -> int:
    return 0


class Txn:
    """The session and its current stream. Attribute names follow HAProxy's."""

    __slots__ = (
        # session (the client connection)
        "world",
        "now_ms",
        "fe",
        "src",
        "src_port",
        "dst",
        "dst_port",
        "sess_vars",
        "sess_sc",
        "sc_spare",
        "key_memo",
        "first_req",
        "tls",
        "expect_proxy",
        # stream (one request/response)
        "be",
        "srv",
        "txn_vars",
        "req_vars",
        "res_vars",
        "sc",
        "meth",
        "method",
        "uri",
        "version",
        "req_head",
        "req_hdrs",
        "req_dirty",
        "req_load",
        "req_tail",
        "req_names",
        "req_raw",
        "req_lower",
        "req_wire",
        "req_body",
        "req_final",
        "req_buf",
        "status",
        "reason",
        "res_version",
        "res_hdrs",
        "res_dirty",
        "res_load",
        "res_buf",
        "res_final",
        "auth",
        "captures",
        "need_more",
        "date_us",
        "check_vars",
        "extra",
        "log_level",
        # what rules decided, for the data path
        "reply",
        "tarpit",
        "line_dirty",
        "res_line_dirty",
        "persist",
        "captures_res",
    )

    def __init__(self, world: World | None = None, fe: FrontendView | None = None) -> None:
        self.world = world
        # the world's clock (ms), 0 without one: one call per reading
        self.now_ms: Callable[[], int] = world.now_ms if world is not None else _no_clock
        self.fe = fe
        self.src: IP | None = None
        self.src_port = 0
        self.dst: IP | None = None
        self.dst_port = 0
        self.sess_vars: dict[str, Value] | None = None
        # tracking counters: the entries tracked (a stick table's Entry), by number
        self.sess_sc: list[Entry | None] | None = None
        self.sc_spare: list[Entry | None] | None = None  # a finished stream's ``sc``, to reuse
        # the last (sample, table, key) track-sc converted: a session's requests
        # track the same address object, converted once per connection
        self.key_memo: tuple[object, object, object] | None = None
        self.first_req = True
        self.tls: TlsView | None = None  # None on a plain connection
        # tcp-request connection expect-proxy layer4: a PROXY header comes first
        self.expect_proxy = False
        self.be: BackendView | None = None
        self.srv: ServerView | None = None
        self.date_us: int | None = None  # fixed time (tests); None reads the clock
        self.check_vars: dict[str, Value] | None = None
        self.extra: dict[str, Any] | None = None  # context of a health check (names, ids)
        self.new_stream()

    def new_stream(self) -> None:
        """Forget the previous request: a new stream on the same session."""
        self.txn_vars: dict[str, Value] | None = None
        self.req_vars: dict[str, Value] | None = None
        self.res_vars: dict[str, Value] | None = None
        self.sc: list[Entry | None] | None = None
        self.meth = 0
        self.method: bytes | None = None
        self.uri: bytes | None = None
        self.version: bytes | None = None
        self.req_head: Any = None
        self.req_hdrs: Headers | None = None
        self.req_dirty = False
        self.req_load: Callable[[], Headers] | None = None
        self.req_tail: Headers | None = None  # fields appended to the received ones
        # their names (lower case): a merged run's own frozenset until more come
        self.req_names: frozenset[bytes] | set[bytes] | None = None
        self.req_raw: bytes | None = None  # the received head (RequestHead.raw)
        self.req_lower: bytes | None = None  # its names, lower case, found by _req_has()
        # req_tail as HTTP/1 lines (CRLF each, Connection fields left out: the
        # proxy writes its own), what rule_heads.appended_head() sends
        self.req_wire = b""
        self.req_body: bytes | None = None
        self.req_final = True
        self.req_buf: bytes | None = None
        self.status = 0
        self.reason: bytes | None = None
        self.res_version: bytes | None = None
        self.res_hdrs: Headers | None = None
        self.res_dirty = False
        self.res_load: Callable[[], Headers] | None = None
        self.res_buf: bytes | None = None
        self.res_final = True
        self.auth: tuple[bytes, bytes, bytes] | None = None
        self.captures: list[bytes | None] | None = None
        self.need_more = False
        self.log_level: int | None = None
        # an HTTP reply decided by a rule: a status (the proxy's error page) or a
        # complete reply object of the rules layer
        self.reply: object = None
        self.tarpit = False
        self.line_dirty = False  # method, URI or version rewritten
        self.res_line_dirty = False  # status or reason rewritten
        self.persist = 0  # force-persist (1) / ignore-persist (2)
        self.captures_res: list[bytes | None] | None = None

    # -- headers ---------------------------------------------------------------------

    def req_headers(self) -> Headers | None:
        """The request's header list as HAProxy's HTX holds it, None without a request."""
        if self.req_tail:
            return self.req_hdrs_rw()
        hdrs = self.req_hdrs
        if hdrs is None and self.req_load is not None:
            hdrs = self.req_hdrs = self.req_load()
        return hdrs

    def req_received(self) -> Headers:
        """The request's fields before ``req_tail`` (the received ones, or the
        transaction's own list once changed), not to be changed in place."""
        hdrs = self.req_hdrs
        if hdrs is None:
            load = self.req_load
            hdrs = self.req_hdrs = load() if load is not None else []
        return hdrs

    def res_headers(self) -> Headers | None:
        hdrs = self.res_hdrs
        if hdrs is None and self.res_load is not None:
            hdrs = self.res_hdrs = self.res_load()
        return hdrs

    def req_hdrs_rw(self) -> Headers:
        """The request's header list, this transaction's own copy, to change."""
        if not self.req_dirty:
            hdrs = list(self.req_received())
            tail = self.req_tail
            if tail is not None:
                hdrs += tail
                self.req_tail = self.req_names = None
            self.req_hdrs = hdrs
            self.req_dirty = True
        assert self.req_hdrs is not None
        return self.req_hdrs

    def _req_has(self, lname: bytes, needle: bytes) -> bool:
        """Whether a field is named ``lname`` (lower case), received or appended;
        ``needle`` is ``b"\n" + lname + b":"``. The received head is searched
        as bytes, lower-cased once: a canonical head has every field on a line
        of its own, named up to its colon, and no LF in a value."""
        names = self.req_names
        if names is not None and lname in names:
            return True
        low = self.req_lower
        if low is None:
            raw = self.req_raw
            if raw is None:  # a transaction without a parsed head (tests, checks)
                raw = b"".join(b"\n" + n + b":" for n, _ in self.req_received())
            low = self.req_lower = raw.lower()
        # find(), not "in": bytes.__contains__ first tries the needle as an int
        # and clears the TypeError, twice the cost (CPython 3.11)
        return low.find(needle) >= 0

    def req_append(self, lname: bytes, value: bytes, unique: bool) -> bool:
        """Add a field named ``lname`` (lower case) after the others, without a
        copy of the list; ``unique`` (set-header) when no field has that name yet.
        False when it cannot: the caller edits ``req_hdrs_rw()``."""
        if self.req_dirty or (unique and self._req_has(lname, b"\n" + lname + b":")):
            return False
        tail = self.req_tail
        if tail is None:
            self.req_tail = [(lname, value)]
            self.req_names = {lname}
        else:
            tail.append((lname, value))
            names = self.req_names
            self.req_names = {lname} if names is None else names | {lname}
        if lname != b"connection":
            self.req_wire += lname + b": " + value + b"\r\n"
        return True

    def req_extend(
        self,
        fields: list[tuple[bytes, bytes]],
        unique: tuple[tuple[bytes, bytes], ...],
        names: frozenset[bytes],
        wire: bytes,
    ) -> bool:
        """``req_append()`` of each field (lower-case ``names`` all different; those
        in ``unique``, as (name, ``_req_has()``'s needle), by set-header; ``wire``:
        their ``req_wire`` lines): all of them, or none (False)."""
        if self.req_dirty:
            return False
        for lname, needle in unique:
            if self._req_has(lname, needle):
                return False
        tail = self.req_tail
        if tail is None:
            self.req_tail = list(fields)
            self.req_names = names
        else:
            tail.extend(fields)
            have = self.req_names
            self.req_names = names if have is None else have | names
        self.req_wire += wire
        return True

    def res_hdrs_rw(self) -> Headers:
        if not self.res_dirty:
            self.res_hdrs = list(self.res_headers() or ())
            self.res_dirty = True
        assert self.res_hdrs is not None
        return self.res_hdrs

    def tracked(self, num: int) -> Entry | None:
        """Tracking counter ``num``: the stream's, else the session's
        (``smp_fetch_sc_stkctr()``)."""
        sc = self.sc
        ts = sc[num] if sc is not None else None
        if ts is None:
            sess = self.sess_sc
            if sess is not None:
                ts = sess[num]
        return ts

    def tracking(self) -> bool:
        """Whether a stick counter is tracked (its counters see every response)."""
        return self.sc is not None or self.sess_sc is not None
