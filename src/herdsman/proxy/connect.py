"""Connecting a stream to a server: where, how, and what to do when it fails.

Mode-neutral: TCP streams and HTTP transactions both call ``connect()``, and
both open their server connections with ``open_transport()``; only
``Connecting.open_to()``, which protocol drives the transport (and, in HTTP
mode, whether an idle connection serves instead), is theirs.

* Destination (spec §1.2, §1.3; ``backend.c alloc_dst_address()``): a server
  without a port, with ``:0`` or with ``+N``/``-N`` uses the client's
  destination port plus the offset, written into 16 bits without range check
  (so it wraps); a server whose address is "any" (``0.0.0.0``, ``::``) uses
  the client's destination address.
* Socket: created in the server's network namespace (``namespace``), with
  ``tfo`` applied before ``connect()``.
* PROXY header for ``send-proxy``/``send-proxy-v2``: the client's source and
  the address it connected to.
* Retries (spec §2.7): a failed connect is retried ``retries`` times (N+1
  attempts, as fixed in later 2.6.x); each retry either redispatches to
  another server or goes to the same server, after a turn-around delay of
  ``min(1s, timeout connect)`` when the attempt failed with an error (a
  refused connection), at once after a connect timeout
  (``back_handle_st_cer()``: ``must_tar`` is ``SE_FL_ERROR``).

Failures are typed (``ConnectError`` subclasses) and carry the status HTTP
mode answers with (HAProxy answers 503 for all of them) and the termination
state the traffic log prints (``default_srv_error()``), so both are chosen in
one place. The stream also learns what its log reports: when it got its slot,
its queue positions, its retries and whether it was redispatched.
"""

from __future__ import annotations

import asyncio
import errno as errno_
import ipaddress
import socket
import ssl
from collections.abc import Callable

from herdsman.config.model import RetryOn
from herdsman.config.model_addr import Family
from herdsman.core.backend import QUEUE_FULL, Backend, Server
from herdsman.core.netns import STORE
from herdsman.core.queue import Pending
from herdsman.core.states import SrvState
from herdsman.defs.proxyproto import proxy_v1, proxy_v2
from herdsman.defs.proxyrecv import HEADER_INFO
from herdsman.defs.status import HanaEvent
from herdsman.lb.hashing import source_key
from herdsman.proxy.sockopts import set_bufs
from herdsman.proxy.tls import ServerTls

_AF = {Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}
TCP_FASTOPEN_CONNECT = getattr(socket, "TCP_FASTOPEN_CONNECT", 30)


# -- where and how ------------------------------------------------------------------


def destination(srv: Server, local: object) -> tuple[int, object]:
    """(family, sockaddr) to connect to for a client whose local address is ``local``."""
    addr = srv.addr
    fam = addr.family
    if fam is Family.UNIX:
        return socket.AF_UNIX, addr.host
    if fam is Family.ABNS:
        # the whole 108-byte sun_path, zero padded, is the address (spec §1.2)
        return socket.AF_UNIX, b"\0" + addr.host.encode().ljust(107, b"\0")
    host = addr.host
    port = addr.port
    family = _AF.get(fam, socket.AF_INET)
    client_ip = isinstance(local, tuple) and len(local) >= 2
    if addr.is_any and client_ip:
        host = local[0]  # type: ignore[index]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if addr.mapped and client_ip:
        port = (int(local[1]) + addr.port) & 0xFFFF  # type: ignore[index]
    if family == socket.AF_INET6:
        return family, (host, port, 0, 0)
    return family, (host, port)


def make_socket(srv: Server, family: int, netns: str | None = None) -> socket.socket:
    """A non-blocking stream socket for ``srv`` (namespace, tfo, no Nagle); a server
    with ``namespace *`` takes the client connection's, ``netns``
    (``sock_create_server_socket()``: ``SRV_F_USE_NS_FROM_PP``)."""
    ns = srv.cfg.namespace
    sock = STORE.socket(netns if ns == "*" else ns, family)
    if family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if srv.cfg.tfo:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
            except OSError:
                pass
    return sock


class _Deadline:
    """``timeout connect`` on the connecting task: a plain loop timer that cancels
    it. ``asyncio.timeout()`` reads the running loop and the current task, each a
    ``getpid()`` system call in Python 3.11, three per connection."""

    __slots__ = ("task", "handle", "struck")

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        task = asyncio.current_task(loop)
        assert task is not None
        self.task = task
        self.struck = False
        self.handle = loop.call_later(delay, self._strike)

    def _strike(self) -> None:
        self.struck = True
        self.task.cancel()

    def expired(self) -> bool:
        """The cancellation being handled is ours alone (as ``asyncio.timeout()`` decides)."""
        return self.struck and self.task.uncancel() == 0


async def open_transport(
    loop: asyncio.AbstractEventLoop,
    srv: Server,
    local: object,
    bufs: tuple[int, int],
    protocol: Callable[[], asyncio.BaseProtocol],
    timeout: float | None,
    tls: ServerTls | None,
    first: bytes = b"",
    netns: str | None = None,
) -> int | None:
    """One connection attempt to ``srv`` for a client whose local address is
    ``local``, driven by ``protocol()``, over TLS with ``tls`` (an ``ssl``
    server), in a task of ``loop``: None when open, else an errno
    (``ETIMEDOUT`` past ``timeout``, ``ECONNABORTED`` when the TLS handshake or
    the server's name check fails). ``first`` (a PROXY header) goes first, in
    clear before any TLS, as HAProxy sends it. A socket that did not connect is
    closed, on cancellation too."""
    try:
        family, addr = destination(srv, local)
    except OSError as exc:
        return exc.errno or errno_.EIO
    cfg = srv.cfg
    sock: socket.socket | None = None
    ctx, sni = (tls.ctx, tls.sni or "") if tls is not None else (None, None)
    clear = first and ctx is not None
    factory: Callable[[], asyncio.BaseProtocol] = asyncio.Protocol if clear else protocol
    if clear:
        ctx, sni = None, None  # TLS starts once the header is written
    deadline = _Deadline(loop, timeout) if timeout else None
    try:
        if family != socket.AF_UNIX and not cfg.namespace and not cfg.tfo and not any(bufs):
            # the common case: one call, uvloop connects a numeric address itself
            host, port = addr[0], addr[1]  # type: ignore[index]
            tr, _ = await loop.create_connection(factory, host, port, ssl=ctx, server_hostname=sni)
        else:
            sock = make_socket(srv, family, netns)
            if family != socket.AF_UNIX:
                set_bufs(sock, bufs)  # before connect(), as proto_tcp.c
            await loop.sock_connect(sock, addr)  # type: ignore[arg-type]
            if family == socket.AF_UNIX:
                tr, _ = await loop.create_unix_connection(
                    factory, sock=sock, ssl=ctx, server_hostname=sni
                )
            else:
                tr, _ = await loop.create_connection(
                    factory, sock=sock, ssl=ctx, server_hostname=sni
                )
        if first:
            tr.write(first)
        if clear:
            assert tls is not None
            app = protocol()
            tls_tr = await loop.start_tls(tr, app, tls.ctx, server_hostname=tls.sni or "")
            assert tls_tr is not None
            tr = tls_tr
            app.connection_made(tr)
        if tls is not None and not tls.verified(tr):
            tr.abort()
            return errno_.ECONNABORTED
    except ssl.SSLError:
        if sock is not None:
            sock.close()
        return errno_.ECONNABORTED  # a TLS handshake failure: a connection error
    except TimeoutError:
        if sock is not None:
            sock.close()
        return errno_.ETIMEDOUT
    except OSError as exc:
        if sock is not None:
            sock.close()
        return exc.errno or errno_.ECONNREFUSED
    except asyncio.CancelledError:
        if sock is not None:
            sock.close()
        if deadline is not None and deadline.expired():
            return errno_.ETIMEDOUT
        raise
    finally:
        if deadline is not None:
            deadline.handle.cancel()
    return None


def proxy_netns(client: asyncio.BaseTransport | None, bind_ns: str | None) -> str | None:
    """The client connection's namespace (``conn->proxy_netns``): its bind line's,
    unless its PROXY header's NETNS TLVs name a namespace of the configuration
    (the last such wins: ``conn_recv_proxy()``, ``netns_store_lookup()``)."""
    if not STORE.names:
        return bind_ns  # no namespace in the configuration for a TLV to name
    header = client.get_extra_info(HEADER_INFO) if client is not None else None
    if header is not None:
        for raw in reversed(header.netns):
            name: str = raw.decode("utf-8", "surrogateescape")
            if name in STORE.names:
                return name
    return bind_ns


def proxy_header(srv: Server, client: object, local: object, netns: str | None = None) -> bytes:
    """The PROXY header the server expects for this client, or b"" (v2 carries the
    client connection's namespace, ``netns``)."""
    cfg = srv.cfg
    if cfg.send_proxy_v2:
        return proxy_v2(client, local, never_send_local=True, netns=netns)  # type: ignore[arg-type]
    if cfg.send_proxy:
        return proxy_v1(client, local)  # type: ignore[arg-type]
    return b""


def client_key(be: Backend, client: object) -> int | None:
    """The hash key of ``balance source`` for a client address (spec §12.8).

    None for other algorithms and for clients without an IP address (UNIX
    sockets): the algorithm then falls back to round-robin.
    """
    if be.cfg.balance.algo != "source" or not isinstance(client, tuple) or not client:
        return None
    try:
        ip = ipaddress.ip_address(client[0])
    except ValueError:
        return None
    return source_key(ip, be.cfg.balance)


# -- what went wrong ----------------------------------------------------------------


class ConnectError(Exception):
    """The stream got no server connection. ``status`` is what HTTP mode answers,
    ``term`` the termination state of the traffic log (spec §2.6). Set per
    instance, not as class attributes: mypyc's compiled exceptions have none."""

    def __init__(self, *args: object, term: tuple[str, str] = ("S", "C")) -> None:
        super().__init__(*args)
        self.status = 503
        self.term = term


class NoServer(ConnectError):
    """No usable server in the backend (or no backend): ``SC``."""


class QueueFull(ConnectError):
    """The stream's server queue reached ``maxqueue``: ``SQ``."""

    def __init__(self) -> None:
        super().__init__(term=("S", "Q"))


class QueueTimeout(ConnectError):
    """``timeout queue`` (else ``timeout connect``) expired in a queue: ``sQ``."""

    def __init__(self) -> None:
        super().__init__(term=("s", "Q"))


class ConnectFailed(ConnectError):
    """Every attempt failed; ``errno`` is the last attempt's error: ``SC``/``sC``."""

    def __init__(self, err: int) -> None:
        timed_out = err == errno_.ETIMEDOUT
        super().__init__(errno_.errorcode.get(err, str(err)), term=("s" if timed_out else "S", "C"))
        self.errno = err


class Aborted(ConnectError):
    """The client went away while queued or connecting: nobody to answer (``CQ``/``CC``)."""

    def __init__(self, queued: bool = False) -> None:
        super().__init__(term=("C", "Q" if queued else "C"))


# -- the policy -----------------------------------------------------------------------


class Connecting(asyncio.Protocol):
    """What ``connect()`` needs from the stream it connects (a base class of streams).

    ``server`` is the server whose slot the stream holds (set by ``connect()``),
    ``pending`` its queue entry while it waits: the stream's ``close()`` must
    give it up (``Backend.abandon()``) and release the slot.
    """

    __slots__ = (
        "server",
        "pending",
        "_waiter",
        "_granted",
        "assigned_at",
        "queue_pos",
        "retries",
        "redispatched",
        "direct",
        "force",
    )

    loop: asyncio.AbstractEventLoop  # the stream's (a slot of the subclass)

    def __init__(self) -> None:
        self.server: Server | None = None
        self.pending: Pending | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._granted: Server | None = None  # what dequeued() gave (None: ask again)
        # for the traffic log: loop time of the end of the queue wait (HAProxy's
        # logs.t_queue: the first slot, or giving up the queue; -1: none yet),
        # the (server, backend) queue positions, retries, redispatch
        self.assigned_at = -1.0
        self.queue_pos = (0, 0)
        self.retries = 0
        self.redispatched = False
        self.direct = False  # SF_DIRECT: a rule or persistence chose the server
        self.force = False  # SF_FORCE_PRST: never redispatched nor redistributed

    def new_request(self) -> None:
        """A new stream on this connection (HTTP's next transaction): what the
        traffic log learns of its connect starts over."""
        self.assigned_at = -1.0
        self.queue_pos = (0, 0)
        self.retries = 0
        self.redispatched = False
        self.direct = False
        self.force = False

    def dequeued(self, srv: Server | None) -> None:
        """Core unlinked our queue entry (``Stream.dequeued()``): wake the connect.

        A slot given is the stream's at once (its ``close()`` releases it),
        even before the connect coroutine resumes.
        """
        self._granted = srv
        if srv is not None:
            self.server = srv
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def leave_queue(self, be: Backend) -> None:
        """The stream closes: its queue entry, if any, goes (``pendconn_cond_unlink()``).

        The connect coroutine is cancelled and never resumes, so the entry's
        position is added to the log's here, dequeued meanwhile or not."""
        p = self.pending
        if p is not None:
            self.pending = None
            be.abandon(p)
            _queue_pos(self, p)
            if self.assigned_at < 0:
                self.assigned_at = self.loop.time()

    def abort(self) -> None:
        raise NotImplementedError

    def is_closed(self) -> bool:
        """The stream was closed meanwhile (checked after every await)."""
        raise NotImplementedError

    async def open_to(self, srv: Server, timeout: float | None) -> int | None:
        """Open the transport to ``srv``: None on success, else an errno."""
        raise NotImplementedError


def _redispatch(be: Backend, srv: Server, attempt: int, stream: Connecting) -> bool:
    """``stream_choose_redispatch()`` with the retry count fixed (spec §2.7), as
    2.6.12 has it (406efb96d): on every retry for any algorithm but the hashes,
    unless a rule or persistence chose the server (``SF_DIRECT``); never for a
    stream a ``force-persist`` rule matched (``SF_FORCE_PRST``)."""
    interval = be.cfg.redispatch
    if interval is None or stream.force:
        return False
    retries = be.cfg.retries
    if srv.cur_state is not SrvState.RUNNING:
        return True
    if interval > 0 and attempt % interval == 0:
        return True
    if interval < 0 and (retries + 1 + interval) and attempt % (retries + 1 + interval) == 0:
        return True
    return not stream.direct and be.srv_act > 1 and not be.cfg.balance.is_hash


def _queue_pos(stream: Connecting, p: Pending) -> None:
    """The log's ``%sq``/``%bq`` grow by the entry's position once it left its queue."""
    sq, bq = stream.queue_pos
    if p.server is not None:
        stream.queue_pos = (sq + p.pos, bq)
    else:
        stream.queue_pos = (sq, bq + p.pos)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def _slot(
    stream: Connecting,
    be: Backend,
    got: Server | Pending | object | None,
    key: int | None,
) -> Server:
    """Wait in the queue while ``got`` is a queue entry; the server whose slot we hold."""
    cfg = be.cfg
    loop = stream.loop
    while isinstance(got, Pending):
        tqueue = cfg.timeouts.queue if cfg.timeouts.queue is not None else cfg.timeouts.connect
        waiter: asyncio.Future[None] = loop.create_future()
        stream._waiter = waiter
        stream.pending = got
        # a plain timer on the waiter: asyncio.timeout() was ~9 % of the proxy's
        # CPU with every request queued (bench/limits.py, docs/limits.md)
        timer = loop.call_later(tqueue / 1000.0, _expire, waiter) if tqueue else None
        try:
            await waiter
        except TimeoutError:
            # still queued: give up; else it was dequeued just as the timeout struck
            if be.abandon(got):
                if got.server is not None:
                    got.server.counters.failed_conns += 1
                be.counters.failed_conns += 1
                _queue_pos(stream, got)
                stream.assigned_at = loop.time()
                raise QueueTimeout() from None
        finally:
            if timer is not None:
                timer.cancel()
            stream._waiter = None
            stream.pending = None
        _queue_pos(stream, got)
        srv, stream._granted = stream._granted, None
        if stream.is_closed():
            raise Aborted(queued=True)
        if srv is None:
            stream.direct = False  # pendconn_redistribute() clears SF_DIRECT
        got = srv if srv is not None else be.reassign(stream, key)
    if got is None:
        be.counters.failed_conns += 1
        raise NoServer()
    if got is QUEUE_FULL:
        raise QueueFull()
    assert isinstance(got, Server)
    if stream.assigned_at < 0:
        stream.assigned_at = loop.time()
    return got


async def connect(stream: Connecting, be: Backend, key: int | None = None) -> Server:
    """Give ``stream`` a server slot and an open transport to that server.

    The slot may first be waited for in a queue (spec §2.5, §2.6). On success
    the stream holds the slot (``stream.server``) and its transport is open.
    On failure a ``ConnectError`` is raised; a slot taken meanwhile is still
    the stream's (``stream.server``), released when it closes.
    """
    return await connect_from(stream, be, be.acquire(stream, key), key)


async def connect_from(
    stream: Connecting, be: Backend, got: object, key: int | None = None
) -> Server:
    """``connect()`` for a stream that already asked ``be.acquire()``: ``got`` is
    its answer (HTTP mode asks first, to reuse an idle connection at once)."""
    cfg = be.cfg
    retries = cfg.retries
    tconnect = (cfg.timeouts.connect or 0) / 1000.0 or None
    if isinstance(got, Server):  # the usual answer: no queue, no coroutine for it
        srv = got
        if stream.assigned_at < 0:
            stream.assigned_at = stream.loop.time()
    else:
        srv = await _slot(stream, be, got, key)
    stream.server = srv
    attempt = stream.retries  # an L7 retry already spent some (one count, as conn_retries)
    while True:
        err = await stream.open_to(srv, tconnect)
        if stream.is_closed():
            raise Aborted()
        if err is None:
            be.connected(srv, stream)
            return srv
        be.passive(srv, HanaEvent.L4_ERR)
        if attempt >= retries or not cfg.retry_on & RetryOn.CONN_FAILURE:
            # retry-on without conn-failure retries no connection; the last
            # attempt's server counts the failure (back_handle_st_cer())
            srv.counters.failed_conns += 1
            be.counters.failed_conns += 1
            raise ConnectFailed(err)
        attempt += 1
        stream.retries = attempt
        again = not _redispatch(be, srv, attempt, stream)
        if err != errno_.ETIMEDOUT and (again or be.srv_act <= 1):
            # turn-around, after an error only (a timed-out connect is retried at
            # once), before retrying the same server or when no other one is
            # active (back_handle_st_cer())
            await asyncio.sleep(min(1.0, tconnect) if tconnect else 1.0)
            if stream.is_closed():
                raise Aborted()
        if again:
            be.retry(srv)
        else:
            stream.redispatched = True
            stream.direct = False
            stream.server = None
            srv = await _slot(stream, be, be.redispatch(stream, srv, key), key)
            stream.server = srv


def l7_retry(stream: Connecting, be: Backend, srv: Server, key: int | None) -> object:
    """An HTTP response asks for a retry (``do_l7_retry()``, spec §2.7): one more
    retry, counted on ``srv`` and the backend, then ``stream_choose_redispatch()``:
    another server's slot (as ``be.redispatch()`` answers), or ``srv`` again,
    which counts the retry once more and a session on ``srv`` (2.6.12 counts
    both). What it returns goes to ``connect_from()``."""
    stream.retries += 1
    srv.counters.retries += 1
    be.counters.retries += 1
    if _redispatch(be, srv, stream.retries, stream):
        stream.redispatched = True
        stream.direct = False
        stream.server = None
        return be.redispatch(stream, srv, key)
    be.retry(srv)
    return srv
