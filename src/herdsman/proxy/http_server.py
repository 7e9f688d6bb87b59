"""Server connections of HTTP mode and their idle pools (spec §3.4-§3.6).

A ``ServerConn`` is one HTTP/1 connection to a server. While a transaction
uses it, it belongs to that transaction's session (``ServerConn.session``)
and passes every event to it; between transactions it is idle: kept by its
session (``http-reuse never``: private to that client, HAProxy's session
list) or in its server's ``Pool`` (the other modes), or closed.

Pools follow ``srv_add_to_idle_list()`` and ``srv_cleanup_idle_conns()``:
a connection that served one request is "idle", one that served more is
"safe"; admission needs ``pool-purge-delay`` > 0, room under
``pool-max-conn``, and either the pool's first safe connection or the
estimated need, the connection being admitted still counted as in use; every
``pool-purge-delay`` while it holds idle connections, the pool closes half
(rounded up) of its excess over what was used since the last purge, plus one
(the share of HAProxy's one thread, ``excess * thr_idle / curr_idle + 1``),
idle ones first. The estimate of what is needed follows every connection put
in use (``srv_use_conn()``). The file-descriptor watermarks
(``tune.pool-*-fd-ratio``) do not apply: one herdsman process is far from its
descriptor limit before the pools matter. All of this is HAProxy with
``nbthread 1``: with more threads its pools are per thread.

Who closes what: a session closes the connection it uses when the
transaction cannot keep it; a pool closes the connections it purges or
refuses; an idle connection the server closes (or that receives bytes it
never asked for) removes itself from its pool.
"""

from __future__ import annotations

import asyncio
import collections

from herdsman.config.model import HttpReuse
from herdsman.core.backend import Server

# members as module globals: ``HttpReuse.NEVER`` is a lookup through the enum's
# metaclass on Python 3.11, about 80 ns (http/connmode.py)
_NEVER, _SAFE, _AGGRESSIVE = HttpReuse.NEVER, HttpReuse.SAFE, HttpReuse.AGGRESSIVE


class ConnUser:
    """What a server connection tells the session using it (``http_upstream.py``'s
    ``Upstream`` extends it). A base class, not a Protocol: compiled, the calls
    below are native (through a Protocol, each is a look-up and a generic call)."""

    __slots__ = ()

    def server_data(self, conn: ServerConn, data: bytes) -> None:
        raise NotImplementedError

    def server_eof(self, conn: ServerConn) -> None:
        raise NotImplementedError

    def server_lost(self, conn: ServerConn, exc: Exception | None) -> None:
        raise NotImplementedError

    def server_writable(self, conn: ServerConn, writable: bool) -> None:
        raise NotImplementedError


class ServerConn(asyncio.Protocol):
    """One connection to a server (H1), used by one transaction at a time."""

    __slots__ = (
        "transport",
        "server",
        "key",
        "session",
        "pool",
        "home",
        "requests",
        "private",
        "idle",
    )

    def __init__(self, server: Server, key: object) -> None:
        self.transport: asyncio.Transport | None = None
        self.server = server
        self.key = key  # what a reused connection must match (spec §3.5)
        self.session: ConnUser | None = None
        self.pool: Pool | None = None  # the pool holding it while idle
        self.home: Pool | None = None  # its server's pool, once a transaction used it
        self.requests = 0  # transactions it carried
        self.private = False  # owned by one client session (http-reuse never)
        self.idle = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        user = self.session
        if user is not None:
            user.server_data(self, data)
        else:
            self.close()  # an idle connection must not talk

    def eof_received(self) -> bool:
        user = self.session
        if user is not None:
            user.server_eof(self)
            return True
        self.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.pool is not None:
            self.pool.forget(self)
        user = self.session
        if user is not None:
            self.session = None
            user.server_lost(self, exc)

    def pause_writing(self) -> None:
        if self.session is not None:
            self.session.server_writable(self, False)

    def resume_writing(self) -> None:
        if self.session is not None:
            self.session.server_writable(self, True)

    def close(self) -> None:
        tr = self.transport
        if tr is not None:
            tr.close()

    def abort(self) -> None:
        tr = self.transport
        if tr is not None:
            tr.abort()


class Pool:
    """One server's idle connections (``srv->idle_conns``/``safe_conns``)."""

    __slots__ = (
        "loop",
        "max_idle",
        "purge_delay",
        "low_conn",
        "idle",
        "safe",
        "used",
        "max_used",
        "est_needed",
        "_timer",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, server: Server) -> None:
        cfg = server.cfg
        self.loop = loop
        self.max_idle = cfg.pool_max_conn  # -1: no limit
        self.purge_delay = cfg.pool_purge_delay / 1000.0  # seconds; 0: keep none
        self.low_conn = cfg.pool_low_conn
        self.idle: collections.deque[ServerConn] = collections.deque()  # served one request
        self.safe: collections.deque[ServerConn] = collections.deque()  # served more
        self.used = 0  # connections in use by a transaction
        self.max_used = 0  # the most in use since the last purge
        self.est_needed = 0
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self.idle) + len(self.safe)

    # -- in use ----------------------------------------------------------------------

    def using(self) -> None:
        """A connection to this server now carries a transaction (``srv_use_conn()``)."""
        used = self.used = self.used + 1
        if used > self.max_used:
            self.max_used = used
        if used > self.est_needed:
            self.est_needed = used

    def done_using(self) -> None:
        """The transaction ended (after ``put()``, which counts it as still in use)."""
        self.used -= 1

    # -- taking ------------------------------------------------------------------------

    def take(self, key: object, reuse: HttpReuse, first: bool) -> ServerConn | None:
        """An idle connection matching ``key`` per the table of spec §3.5, or None.

        ``first``: the client connection's first request (no ``TX_NOT_FIRST``).
        """
        if reuse is _NEVER or not self.max_idle:
            return None
        if first:
            if reuse is _SAFE:
                return None
            order = (self.safe,) if reuse is _AGGRESSIVE else (self.safe, self.idle)
        else:
            order = (self.idle, self.safe)
        for dq in order:
            for conn in dq:
                if conn.key == key and conn.transport is not None:
                    dq.remove(conn)
                    conn.pool = None
                    conn.idle = False
                    return conn
        return None

    # -- giving back ---------------------------------------------------------------------

    def put(self, conn: ServerConn) -> bool:
        """``srv_add_to_idle_list()``: keep ``conn`` idle, or False (the caller closes it).

        Called before ``done_using()``: ``conn`` still counts in ``used``."""
        if self.purge_delay <= 0 or (0 <= self.max_idle <= len(self)):
            return False
        safe = conn.requests > 1
        in_use = self.used
        if not (
            (not self.safe and (safe or not self.idle))
            or in_use + len(self) <= max(in_use, self.est_needed) + self.low_conn
        ):
            return False
        (self.safe if safe else self.idle).append(conn)
        conn.pool = self
        conn.idle = True
        if self._timer is None:
            self._timer = self.loop.call_later(self.purge_delay, self._purge)
        return True

    def forget(self, conn: ServerConn) -> None:
        """An idle connection closed: it leaves the pool."""
        for dq in (self.idle, self.safe):
            try:
                dq.remove(conn)
            except ValueError:
                continue
            break
        conn.pool = None

    def _purge(self) -> None:
        """``srv_cleanup_idle_conns()``: close half the excess (rounded up) plus one,
        idle ones first; the estimate decays. Nothing idle: nothing changes, and
        the next ``put()`` starts a new period."""
        self._timer = None
        if not len(self):
            return
        excess = self.used + len(self) - max(self.max_used, self.est_needed)
        self.est_needed = max((self.est_needed + self.max_used) // 2, self.max_used)
        self.max_used = self.used
        if excess > 0:
            to_kill = (excess + 1) // 2 + 1
            for dq in (self.idle, self.safe):
                while to_kill and dq:
                    conn = dq.popleft()
                    conn.pool = None
                    conn.idle = False
                    conn.close()
                    to_kill -= 1
        if len(self):
            self._timer = self.loop.call_later(self.purge_delay, self._purge)

    def close_all(self) -> None:
        """Close every idle connection (the server went into maintenance, or stop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for dq in (self.idle, self.safe):
            while dq:
                conn = dq.popleft()
                conn.pool = None
                conn.close()


class Pools:
    """The idle pools of every server, created on first use."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pools: dict[int, Pool] = {}

    def of(self, server: Server) -> Pool:
        pool = self._pools.get(id(server))
        if pool is None:
            pool = self._pools[id(server)] = Pool(self.loop, server)
        return pool

    def close(self, server: Server) -> None:
        pool = self._pools.get(id(server))
        if pool is not None:
            pool.close_all()

    def close_all(self) -> None:
        for pool in self._pools.values():
            pool.close_all()
