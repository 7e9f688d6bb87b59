"""When each direction of a TCP stream shuts, and why: HAProxy 2.6.12's rules, sans-IO.

A stream has two channels: the request channel (client -> server) and the
response channel (server -> client). A ``Side`` is one socket of the stream
as HAProxy's stream connector (``stconn.c``) sees it: the read side of its
input channel and the write side of its output channel. Nothing here does
I/O; a subclass (``proxy/tcp.py``) implements the three effects
(``_stop_reading``, ``_send_fin``, ``_close``) and stamps the times of reads
and writes. Each rule below was read in the 2.6 source and confirmed with
the 2.6.12 binary (tests/integration/test_tcp_timeouts.py).

Rule 1, timeouts belong to channels. The request channel reads with
``timeout client`` and writes with ``timeout server``, the response channel
the other way round (``stream_new()``, ``back_establish()``). A read timer
(``rex``) runs while a side is read and is refreshed by every read on it,
and, unless the side's proxy has ``option independent-streams``, by every
write to it (``sc_notify()``, ``sc_app_chk_snd_conn()``; the manual: "when
data is sent over a socket, both the write timeout and the read timeout for
that socket are refreshed"; the frontend's option covers the client, the
backend's the server). It is off while the side is not read for
back-pressure (``SC_FL_NEED_ROOM``), and starts again when reading resumes.
A write timer (``wex``) runs while output to a side is stuck (here: its
transport's buffer is above the high-water mark) and restarts on every
partial write. The server's timers start once it is connected.

Rule 2, a read timeout shuts one direction. It stops reading that side
(``sc_shutr()``, no system call) and, the channel being in auto-close, the
other side gets a FIN once the channel is flushed. The other direction goes
on with its own timer: an idle client with ``timeout client 300ms`` and
``timeout server 3s`` sees its server get a FIN at 0.3 s and itself gets
one at 3 s, when the response channel times out. A write timeout closes the
stuck side at once, without FIN (``SC_FL_NOLINGER``).

Rule 3, shutdowns propagate (``process_stream()``): a channel that stopped
reading makes its consumer shut for writing; a channel whose consumer is
shut makes its producer stop reading. A socket is closed when both of its
directions are shut. When a side is shut for writing, its ``-fin`` timeout
(``timeout client-fin`` for the client, ``server-fin`` for the server), if
set, replaces its read timeout, restarted now (``sc_app_shutw_conn()``,
``sc->hcto``): it bounds how long HAProxy waits for the FIN of a peer it
has sent its own to.

Rule 4, ``timeout tunnel`` (the backend's) replaces both timeouts in both
channels once the server is connected (TCP mode has no analyser left), with
the ``-fin`` ones for directions already shut at that moment. It also
restarts every timer then, the write timers included even with nothing to
write; such a write timer stays until the first I/O on that side. So a
stream idle from the start ends with the server closed by a write timeout
(reset, no FIN) rather than a read timeout.

Rule 5, how a socket ends. A FIN is sent (``shutdown(SHUT_WR)``) before
closing, except after a write timeout, a client reset (the server is
aborted, ``CF_READ_ERROR``) or with the backend's ``option nolinger`` (its
first shutdown aborts the server connection), or when the peer's FIN came
first. A server connection is closed with a reset (``SO_LINGER`` 0,
``FD_LINGER_RISK``) unless its FIN was received; a client connection only
with the frontend's ``option nolinger``, which the socket carries from the
accept.

Before the server is connected only the client's read timer runs, and it is
off while client data waits for the server (2.6 stops reading the client
then). A client read timeout while connecting only stops reading it: the
server gets its FIN once connected. A client FIN with nothing to send
aborts the connection attempt; with data waiting, the attempt goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

if TYPE_CHECKING:
    import asyncio

# HAProxy's ticks are milliseconds: a timer firing within one tick of its
# deadline has expired (and a loop waking slightly early must not spin)
TICK: Final = 0.001
# asyncio tells when a stuck output drains, not when part of it leaves: a
# stuck output is looked at every write timeout / 16, so its write timer
# restarts at most that much later than HAProxy's after a partial write
PROGRESS: Final = 1 / 16


def secs(ms: int | None) -> float | None:
    """A configured timeout in seconds; unset and 0 both mean none (``TICK_ETERNITY``)."""
    return ms / 1000.0 if ms else None


def rearm(
    loop: asyncio.AbstractEventLoop,
    timer: asyncio.TimerHandle | None,
    due: float,
    fire: Callable[[], None],
) -> asyncio.TimerHandle:
    """A stream's one timer for ``due``, lazily: one due no later is kept (when it
    fires, the stream finds its real deadline), a later one is replaced."""
    if timer is not None:
        if timer.when() <= due:
            return timer
        timer.cancel()
    return loop.call_at(due, fire)


# a base class with hooks: the TCP relay's sides and tests' recorders (interpreted) extend it
@mypyc_attr(allow_interpreted_subclasses=True)
class Side:
    """One socket of a stream: its read timer and flags, its write timer and flags.

    ``last_read``/``last_write`` are stamped by the I/O layer on every
    transfer (the only per-chunk work); every other field changes on rare
    events. Times are seconds on the event loop's clock; timeouts are
    seconds or None (unset: no timer).
    """

    __slots__ = (
        "is_server",
        "rto",
        "wto",
        "hcto",
        "indep",
        "last_read",
        "last_write",
        "r_base",
        "paused",
        "w_since",
        "w_check",
        "w_size",
        "w_stale",
        "eof",
        "failed",
        "shut_r",
        "shut_w",
        "closed",
        "nolinger",
    )

    def __init__(self, is_server: bool) -> None:
        self.is_server = is_server
        self.rto: float | None = None  # read timeout of the input channel
        self.wto: float | None = None  # write timeout of the output channel
        self.hcto: float | None = None  # "timeout client-fin"/"server-fin"
        self.indep = False  # option independent-streams: writes do not refresh rex
        self.last_read = 0.0
        self.last_write = 0.0
        self.r_base = 0.0  # when the read timer last (re)started other than by I/O
        self.paused = False  # not read for back-pressure: no read timer
        self.w_since: float | None = None  # write timer start (None: not running)
        self.w_check = 0.0  # when the stuck output was last looked at
        self.w_size = 0  # bytes stuck then
        self.w_stale = False  # a tunnel's write timer, cleared by any I/O on this side
        self.eof = False  # its FIN was received
        self.failed = False  # it was reset or a transfer failed
        self.shut_r = False  # no longer read (input channel CF_SHUTR)
        self.shut_w = False  # no longer written (output channel CF_SHUTW)
        self.closed = False  # its socket is closed (or closing)
        self.nolinger = False  # the next shutdown aborts (backend "option nolinger")

    # -- effects, implemented by the I/O layer --------------------------------------

    def _stop_reading(self) -> None:
        raise NotImplementedError

    def _send_fin(self) -> None:
        """``shutdown(SHUT_WR)`` once the output already accepted is flushed."""
        raise NotImplementedError

    def _close(self, fin: bool, rst: bool, discard: bool) -> None:
        """Close the socket: first a FIN if ``fin``; a reset if ``rst``
        (``SO_LINGER`` 0); buffered output dropped if ``discard``, else flushed."""
        raise NotImplementedError

    def _buffered(self) -> int:
        """Bytes accepted for this side and not yet handed to the kernel."""
        raise NotImplementedError

    # -- timers -----------------------------------------------------------------------

    def read_deadline(self) -> float | None:
        rto = self.rto
        if rto is None or self.shut_r or self.paused:
            return None
        base = self.r_base
        if self.last_read > base:
            base = self.last_read
        if not self.indep and self.last_write > base:
            base = self.last_write
        return base + rto

    def write_deadline(self) -> float | None:
        """The write timer's deadline, or the next look at a stuck output's progress."""
        since = self.w_since
        wto = self.wto
        if since is None or wto is None or self.shut_w:
            return None
        due = since + wto
        if not self.w_stale:
            due = min(due, self.w_check + wto * PROGRESS)
        return due

    def _read_expired(self, now: float) -> bool:
        due = self.read_deadline()
        return due is not None and due <= now + TICK

    def _sample(self, now: float) -> None:
        """Look at a stuck output: HAProxy refreshes the write timer on every
        partial write (and, without independent-streams, the read timer)."""
        if self.w_since is None or self.w_stale or self.shut_w:
            return
        left = self._buffered()
        if left < self.w_size:
            self.w_since = self.last_write = now
            self.w_size = left
        self.w_check = now

    def _write_expired(self, now: float) -> bool:
        since = self.w_since
        wto = self.wto
        if since is None or wto is None or self.shut_w:
            return False
        if self.w_stale and max(self.last_read, self.last_write) > since:
            # the tunnel's timer was cleared by the first I/O on this side
            self.w_since = None
            self.w_stale = False
            return False
        return since + wto <= now + TICK

    def stuck(self, now: float) -> None:
        """Output to this side is stuck (its buffer is full): the write timer runs."""
        if self.w_since is None or self.w_stale:
            self.w_since = now
            self.w_stale = False
        self.w_check = now
        self.w_size = self._buffered()

    def unstuck(self) -> None:
        self.w_since = None
        self.w_stale = False

    def pause(self) -> None:
        """Not read for back-pressure: no read timer meanwhile."""
        self.paused = True

    def resume(self, now: float) -> bool:
        """Read again; False when this side must stay unread (shut)."""
        self.paused = False
        self.r_base = now
        return not self.shut_r

    # -- shutdowns -----------------------------------------------------------------

    @property
    def linger_risk(self) -> bool:
        """A server socket is reset on close unless its FIN came (``FD_LINGER_RISK``)."""
        return self.is_server and not self.eof

    def shutr(self) -> None:
        """Stop reading (``sc_app_shutr_conn()``): close if writing is shut too."""
        if self.shut_r:
            return
        self.shut_r = True
        if self.shut_w:
            self._end(fin=False, rst=self.linger_risk, discard=False)
        else:
            self._stop_reading()

    def shutw(self, now: float, nolinger: bool = False, discard: bool = False) -> None:
        """Stop writing (``sc_app_shutw_conn()``): a FIN, or a close if reading is
        shut too; ``nolinger`` closes without FIN (``discard``: after a write timeout)."""
        if self.shut_w:
            return
        self.shut_w = True
        self.w_since = None
        if self.hcto is not None:
            self.rto = self.hcto
            self.r_base = now
        if nolinger or self.nolinger:
            self.nolinger = False
            self.shut_r = True
            self._end(fin=False, rst=self.linger_risk, discard=discard)
        elif self.shut_r:
            # no shutdown() after the peer's FIN (CO_FL_SOCK_RD_SH)
            self._end(fin=not self.eof, rst=self.linger_risk, discard=False)
        else:
            self._send_fin()

    def _end(self, fin: bool, rst: bool, discard: bool) -> None:
        if not self.closed:
            self.closed = True
            self._close(fin, rst, discard)

    def read0(self) -> None:
        """Its FIN came (``sc_conn_read0()``): nothing more to read, close if
        writing is shut too."""
        self.eof = True
        self.w_stale = False
        if not self.shut_r:
            self.shut_r = True
            if self.shut_w:
                self._end(fin=False, rst=False, discard=False)

    def fail(self) -> None:
        """It was reset, or a transfer failed: both directions are gone."""
        self.failed = True
        self.shut_r = self.shut_w = self.closed = True
        self.w_since = None


def propagate(client: Side, server: Side, now: float) -> None:
    """Forward shutdowns along both channels (``process_stream()``).

    One pass in this order reaches the fixed point HAProxy's resync loop
    reaches: a rule can only enable a later one (tests/unit/test_sides.py
    checks every combination of flags).
    """
    # request channel: its producer stopped -> FIN to the server; a reset
    # client aborts it (CF_READ_ERROR -> SC_FL_NOLINGER)
    if client.shut_r and not server.shut_w:
        server.shutw(now, nolinger=client.failed)
    if server.shut_w and not client.shut_r:
        client.shutr()
    # response channel
    if server.shut_r and not client.shut_w:
        client.shutw(now)
    if client.shut_w and not server.shut_r:
        server.shutr()


def expire(client: Side, server: Side | None, now: float) -> str:
    """The timer struck at ``now``: act on every expired timer, in HAProxy's order.

    ``channel_check_timeouts()`` on the request channel, then on the response
    channel (which sees what the first one did), then the shutdowns forwarded.
    ``server`` is None while connecting: only the client's read timer runs.
    Returns whose timeout struck first in that order, as the termination
    state's first letter (``process_stream()``: ``c`` SF_ERR_CLITO for the
    client's read or write timer, ``s`` SF_ERR_SRVTO for the server's), or "".
    """
    first = ""
    for side in (client, server):
        if side is not None:
            side._sample(now)
    # request channel: server write timer, client read timer
    if server is not None and server._write_expired(now):
        server.shutw(now, nolinger=True, discard=True)
        first = "s"
    if client._read_expired(now):
        client.shutr()
        first = first or "c"
    if server is None:
        return first
    # response channel: client write timer, server read timer
    if client._write_expired(now):
        client.shutw(now, nolinger=True, discard=True)
        first = first or "c"
    if server._read_expired(now):
        server.shutr()
        first = first or "s"
    propagate(client, server, now)
    return first


def next_deadline(client: Side, server: Side | None) -> float | None:
    """The earliest deadline of the stream's timers (None: nothing to wait for)."""
    best = client.read_deadline()
    due = client.write_deadline()
    if due is not None and (best is None or due < best):
        best = due
    if server is not None:
        due = server.read_deadline()
        if due is not None and (best is None or due < best):
            best = due
        due = server.write_deadline()
        if due is not None and (best is None or due < best):
            best = due
    return best


def start_tunnel(
    client: Side,
    server: Side,
    tunnel: float,
    client_fin: float | None,
    server_fin: float | None,
    now: float,
) -> None:
    """``timeout tunnel`` takes over once connected (``process_stream()``, rule 4)."""
    client.rto = client.wto = server.rto = server.wto = tunnel
    if client.shut_r and client_fin is not None:
        client.wto = client_fin
    if server.shut_w and server_fin is not None:
        server.rto = server_fin
    if server.shut_r and server_fin is not None:
        server.wto = server_fin
    if client.shut_w and client_fin is not None:
        client.rto = client_fin
    for side in (client, server):
        side.r_base = now
        # every write timer restarts, even with nothing to write
        side.w_stale = side.w_since is None or side.w_stale
        side.w_since = now
