"""Sending log messages exactly as HAProxy 2.6 does (``src/log.c``).

One :class:`Logger` per sender of messages: one per proxy (built from the
proxy's targets, which include the global ones copied by ``log global``) and
one for the global list (messages that belong to no proxy). All loggers share
one :class:`LogSink`, which holds what HAProxy keeps process-wide: one datagram
socket per address family, the ``DroppedLogs`` counter and the two once-only
alerts.

What a message goes through (``send_log()`` -> ``__send_log()`` ->
``process_send_log()`` -> ``__do_send_log()``):

1. It is cut to ``max_syslog_len - 1`` bytes (HAProxy formats it into a buffer
   of the largest ``len`` of the whole configuration), then trailing ``\\n``
   and NUL bytes are removed.
2. For each target in order: skipped if its level is less important than the
   message's (``level > max``); then the ``sample`` ranges decide; then the
   level sent is ``max(level, minlevel)`` (``minlevel`` caps, never drops).
3. The header is built for the target's format (``build_log_header()``); an
   unspecified format is ``local``, or ``rfc3164`` when ``log-send-hostname``
   is set. ``rfc3164`` without a host name says ``localhost``.
4. Datagram targets (UDP, UNIX, abstract) get ``(header + message)[:len] +
   "\\n"``: up to ``len + 1`` bytes. File descriptors (``stdout``, ``fd@N``) get
   ``(header + message)[:len - 1] + "\\n"`` (``fd_write_frag_line()``).

Sending never waits for a slow reader: datagrams go through non-blocking
sockets, and a file descriptor is switched to O_NONBLOCK on first use. Two
exceptions are HAProxy's own: a terminal is left blocking, and a regular file
ignores O_NONBLOCK. O_NONBLOCK belongs to the open file description, so a
pipe on stdout becomes non-blocking for every process sharing it. A write
that would block drops the line and counts it in :attr:`LogSink.dropped`.
Any other error raises a single alert for the life of the process
("sendmsg()/writev() failed in logger #N: <strerror> (errno=N)"), where N
counts the targets this message was actually sent to. A write to a pipe that
is only partly done is not completed, exactly like HAProxy's single writev().
"""

from __future__ import annotations

import datetime
import enum
import errno
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Sequence

from herdsman.config.diag import Level, Message
from herdsman.config.log import FACILITIES, FORMAT_UNSPEC, LEVELS
from herdsman.config.model import LogTarget
from herdsman.config.model_addr import Family

__all__ = [
    "DEFAULT_TAG",
    "LogLevel",
    "LogSink",
    "Logger",
    "SockAddr",
    "build_header",
    "effective_tag",
    "frame",
    "iso_time",
    "legacy_time",
    "level_number",
    "stderr_copy_enabled",
    "stderr_line",
]

# HAProxy's default tag is basename(argv[0]). herdsman keeps "haproxy" so the
# lines match the rules operators already have (Debian's rsyslog snippet routes
# ":programname, startswith, \"haproxy\"" to /var/log/haproxy.log); "log-tag"
# overrides it as in HAProxy.
DEFAULT_TAG = "haproxy"

# What socket.sendto() takes for the families used here.
SockAddr = tuple[str, int] | tuple[str, int, int, int] | str | bytes

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class LogLevel(enum.IntEnum):
    """Syslog severities, most important first (``log_levels[]``)."""

    EMERG = 0
    ALERT = 1
    CRIT = 2
    ERR = 3
    WARNING = 4
    NOTICE = 5
    INFO = 6
    DEBUG = 7


def level_number(level: int | str) -> int:
    """A level given as a number (0-7) or a name ("notice")."""
    if isinstance(level, str):
        return LEVELS.index(level)
    if not 0 <= level <= 7:
        raise ValueError(f"log level out of range: {level}")
    return int(level)


def effective_tag(proxy_tag: str | None, global_tag: str | None) -> str:
    """The tag a proxy's messages carry: its own, the global one, else DEFAULT_TAG."""
    return proxy_tag or global_tag or DEFAULT_TAG


# -- formatting (pure) -------------------------------------------------------------


def _local(sec: int, tz: datetime.tzinfo | None) -> datetime.datetime:
    if tz is None:  # localtime_r(): the TZ of the process
        return datetime.datetime.fromtimestamp(sec).astimezone()
    return datetime.datetime.fromtimestamp(sec, tz)


def legacy_time(sec: int, tz: datetime.tzinfo | None = None) -> bytes:
    """``"Mmm dd hh:mm:ss "`` with a space-padded day, local time (rfc3164, local)."""
    t = _local(sec, tz)
    return f"{_MONTHS[t.month - 1]} {t.day:2d} {t.hour:02d}:{t.minute:02d}:{t.second:02d} ".encode()


def iso_time(now_ns: int, tz: datetime.tzinfo | None = None) -> bytes:
    """``timeofday_as_iso_us()``: ``YYYY-mm-ddTHH:MM:SS.uuuuuu+hh:mm `` in local time."""
    sec, rest = divmod(now_ns, 1_000_000_000)
    t = _local(sec, tz)
    off = t.utcoffset() or datetime.timedelta(0)
    minutes = int(off.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes) % 1440
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{rest // 1000:06d}{sign}{minutes // 60:02d}:{minutes % 60:02d} "
    ).encode()


def build_header(
    fmt: str,
    facility: int,
    level: int,
    *,
    now_ns: int,
    tag: str,
    pid: int,
    hostname: str | None = None,
    tz: datetime.tzinfo | None = None,
) -> bytes:
    """``build_log_header()`` for a message sent by HAProxy itself (``send_log()``).

    ``fmt`` is a name of FORMATS or FORMAT_UNSPEC. The structured-data field of
    rfc5424 is always ``-`` for these messages.
    """
    if fmt == FORMAT_UNSPEC:
        fmt = "rfc3164" if hostname else "local"
    if fmt in ("local", "rfc3164", "rfc5424", "priority"):
        pri = b"<%d>" % (facility * 8 + level)
    elif fmt in ("short", "timed"):
        pri = b"<%d>" % level  # these two ignore the facility
    else:
        pri = b""
    tagb = tag.encode("utf-8", "surrogateescape")
    pidb = str(pid).encode()
    if fmt in ("local", "rfc3164"):
        head = pri + legacy_time(now_ns // 1_000_000_000, tz)
        if fmt == "rfc3164":
            head += (hostname or "localhost").encode("utf-8", "surrogateescape") + b" "
        if tagb:
            head += tagb + b"[" + pidb + b"]: "
        return head
    if fmt == "rfc5424":
        host = hostname.encode("utf-8", "surrogateescape") if hostname else b"-"
        return b"%s1 %s%s %s %s - - " % (pri, iso_time(now_ns, tz), host, tagb or b"-", pidb)
    if fmt in ("timed", "iso"):
        return pri + iso_time(now_ns, tz)
    return pri  # priority, short, raw


def frame(header: bytes, message: bytes, maxlen: int, *, fd: bool) -> bytes:
    """Truncate to the target's ``len`` and add the newline.

    A datagram carries ``len`` bytes plus the newline (``__do_send_log()``);
    a line written to a file descriptor is ``len`` bytes newline included
    (``fd_write_frag_line()`` keeps one byte for it).
    """
    if fd:
        return (header + message[:maxlen])[: maxlen - 1] + b"\n"
    return (header + message)[:maxlen] + b"\n"


# -- stderr copies ---------------------------------------------------------------------


def stderr_line(label: str | Level, text: str, pid: int | None = None) -> str:
    """The stderr copy of a message: ``[WARNING]  (pid) : text`` plus a newline.

    HAProxy prints state changes with ``ha_warning()`` (and "no server
    available" with ``ha_alert()``, quoting the name there) before sending
    them to the logs; ``print_message()`` drops one trailing newline.
    """
    level = label if isinstance(label, Level) else Level(label)
    if text.endswith("\n"):
        text = text[:-1]
    return Message(level, text, context=False).render(os.getpid() if pid is None else pid) + "\n"


def stderr_copy_enabled(*, quiet: bool, verbose: bool = False, daemon: bool = False) -> bool:
    """Whether HAProxy 2.6 still has a stderr to print on once started.

    With ``-q`` (and no ``-V``) or in daemon mode, ``stdio_quiet()`` points
    stdin/stdout/stderr to /dev/null after start-up: the copies are lost, and
    so is a ``log stdout`` target (verified with the 2.6.12 binary for -q).
    """
    return not daemon and (not quiet or verbose)


def _default_alert(text: str) -> None:
    try:
        sys.stderr.write(stderr_line(Level.ALERT, text))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# -- I/O ----------------------------------------------------------------------------------


class LogSink:
    """The process-wide side of logging: sockets, DroppedLogs, once-only alerts."""

    def __init__(self, on_alert: Callable[[str], None] | None = None) -> None:
        self.on_alert = on_alert or _default_alert
        self.dropped = 0  # "DroppedLogs" of "show info"
        self._socks: dict[int, socket.socket] = {}
        self._fd_ready: set[int] = set()
        self._socket_alerted = False
        self._send_alerted = False

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()

    def _socket(self, family: int, nblogger: int) -> socket.socket | None:
        sock = self._socks.get(family)
        if sock is not None:
            return sock
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            # nothing is ever read from it (HAProxy also shuts the read side)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)
        except OSError as exc:
            if not self._socket_alerted:
                self._socket_alerted = True
                self.on_alert(f"socket() failed in logger #{nblogger}: {_strerror(exc)}")
            return None
        self._socks[family] = sock
        return sock

    def send_datagram(self, family: int, addr: SockAddr, data: bytes, nblogger: int) -> None:
        sock = self._socket(family, nblogger)
        if sock is None:
            return
        try:
            sock.sendto(data, addr)
        except OSError as exc:
            self._failed(exc, nblogger)

    def write_fd(self, fd: int, data: bytes, nblogger: int) -> None:
        try:
            if fd not in self._fd_ready:
                self._fd_ready.add(fd)
                if not os.isatty(fd):
                    os.set_blocking(fd, False)
            os.write(fd, data)
        except OSError as exc:
            self._failed(exc, nblogger)

    def _failed(self, exc: OSError, nblogger: int) -> None:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            self.dropped += 1
        elif not self._send_alerted:
            self._send_alerted = True
            self.on_alert(f"sendmsg()/writev() failed in logger #{nblogger}: {_strerror(exc)}")


def _strerror(exc: OSError) -> str:
    code = exc.errno or 0
    return f"{os.strerror(code)} (errno={code})"


# -- loggers -------------------------------------------------------------------------------


class _Target:
    """A LogTarget resolved for sending, with its own sampling state.

    Sampling (``process_send_log()``): a counter runs over ``size`` messages;
    the current range is consumed index by index and, once used up, the next
    range becomes current. Each proxy's copy of a target samples on its own.
    """

    __slots__ = (
        "cur_idx", "cur_range", "facility", "fd", "format", "level", "maxlen",
        "minlevel", "range_idx", "ranges", "size", "sockaddr", "sockfamily",
    )  # fmt: skip

    def __init__(self, t: LogTarget) -> None:
        self.facility = FACILITIES.index(t.facility)
        self.level = LEVELS.index(t.level)
        self.minlevel = LEVELS.index(t.minlevel)
        self.format = t.format
        self.maxlen = t.maxlen
        self.ranges: tuple[tuple[int, int], ...] = t.sample[0] if t.sample else ()
        self.size = t.sample[1] if t.sample else 0
        self.range_idx = [0] * len(self.ranges)
        self.cur_range = 0
        self.cur_idx = 0
        self.fd = -1
        self.sockfamily = socket.AF_UNSPEC
        self.sockaddr: SockAddr = ""
        a = t.address
        if a is None:
            raise ValueError(f"log target {t.target!r} has no address")
        if a.family is Family.FD:
            self.fd = a.fd
        elif a.family is Family.INET:
            self.sockfamily, self.sockaddr = socket.AF_INET, (a.host, a.port)
        elif a.family is Family.INET6:
            self.sockfamily, self.sockaddr = socket.AF_INET6, (a.host, a.port, 0, 0)
        elif a.family is Family.UNIX:
            self.sockfamily, self.sockaddr = socket.AF_UNIX, a.host
        elif a.family is Family.ABNS:
            # HAProxy passes the whole sockaddr_un, so the abstract name is
            # padded with NULs to 107 bytes; a receiver must bind that name.
            self.sockfamily = socket.AF_UNIX
            self.sockaddr = b"\0" + a.host.encode().ljust(107, b"\0")
        else:
            raise ValueError(f"log target {t.target!r}: unsupported family {a.family}")

    def sampled(self) -> bool:
        if not self.ranges:
            return True
        low, high = self.ranges[self.cur_range]
        inside = low <= self.cur_idx + 1 <= high
        if inside:
            n = self.cur_range
            self.range_idx[n] = (self.range_idx[n] + 1) % (high - low + 1)
            if not self.range_idx[n]:
                self.cur_range = (n + 1) % len(self.ranges)
        self.cur_idx = (self.cur_idx + 1) % self.size
        return inside


class Logger:
    """Sends messages to a list of targets with one tag, as one HAProxy proxy does.

    ``hostname`` is the ``log-send-hostname`` value (None: not set). ``pid``
    None means the current process id at each message. ``clock`` returns the
    time in nanoseconds since the epoch; ``tz`` None means the local time zone
    (HAProxy prints local time). ``max_syslog_len`` should be
    :func:`herdsman.config.log.max_syslog_len` over the whole configuration;
    None takes the largest ``len`` of these targets.
    """

    def __init__(
        self,
        targets: Iterable[LogTarget],
        *,
        tag: str = DEFAULT_TAG,
        hostname: str | None = None,
        pid: int | None = None,
        sink: LogSink | None = None,
        clock: Callable[[], int] = time.time_ns,
        tz: datetime.tzinfo | None = None,
        max_syslog_len: int | None = None,
    ) -> None:
        self.targets: Sequence[LogTarget] = list(targets)
        self._state = [_Target(t) for t in self.targets]
        self.tag = tag
        self.hostname = hostname
        self.pid = pid
        self.sink = sink if sink is not None else LogSink()
        self.clock = clock
        self.tz = tz
        if max_syslog_len is None:
            max_syslog_len = max((t.maxlen for t in self.targets), default=0)
        self.max_syslog_len = max_syslog_len

    def send(self, level: int | str, message: str | bytes) -> None:
        """Send one message at ``level`` to every target that accepts it. Never blocks."""
        if not self._state:
            return
        lvl = level_number(level)
        data = message.encode("utf-8", "surrogateescape") if isinstance(message, str) else message
        # vsnprintf() into the max_syslog_len buffer, then the trailing LF/NUL removal
        data = data[: max(self.max_syslog_len - 1, 0)].rstrip(b"\n\0")
        now_ns = self.clock()
        pid = os.getpid() if self.pid is None else self.pid
        nblogger = 0
        for st in self._state:
            if lvl > st.level or not st.sampled():
                continue
            nblogger += 1
            header = build_header(
                st.format,
                st.facility,
                max(lvl, st.minlevel),
                now_ns=now_ns,
                tag=self.tag,
                pid=pid,
                hostname=self.hostname,
                tz=self.tz,
            )
            if st.fd >= 0:
                self.sink.write_fd(st.fd, frame(header, data, st.maxlen, fd=True), nblogger)
            else:
                line = frame(header, data, st.maxlen, fd=False)
                self.sink.send_datagram(st.sockfamily, st.sockaddr, line, nblogger)
