"""Test doubles and helpers shipped with herdsman (for its tests and for embedders).

* ``NamedServer``: a loopback TCP server that answers its name (and can hold
  connections open, refuse connections, or stop listening), to observe which
  server a connection reached.
* ``running(text)``: parse a configuration and run a ``Herdsman`` on the
  current loop for the duration of an ``async with``.
* ``Haproxy``: the real haproxy binary running a configuration, for
  side-by-side comparisons (``haproxy_available()`` says if it is installed).
* ``wait_for(predicate)``: poll a condition with a deadline (never sleep to
  synchronise).
* ``Acceptor``: a loopback port that accepts and closes every connection (a
  health check passes there however many run).
* ``Syslog``: a UDP receiver for ``log 127.0.0.1:<port> format raw``, to read
  the log lines of herdsman and of haproxy alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core.clock import Clock
from herdsman.runtime import Herdsman

__all__ = [
    "Acceptor",
    "Haproxy",
    "cli_command",
    "NamedServer",
    "Syslog",
    "free_port",
    "haproxy_available",
    "listening",
    "named_servers",
    "normalise_duration",
    "running",
    "unix_listening",
    "wait_for",
    "wait_for_async",
]


_PORTS_LOW = 10000  # below: well-known services; above the slices: the kernel's ephemeral range
_PORTS_SLICE = 1000  # 22 slices below 32768: a slice per worker of 11 concurrent two-worker runs


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_slice() -> Iterator[int]:
    """This process's ports: a slice of its own below the ephemeral range.

    A port that ``bind(0)`` hands out is an ephemeral one: before the caller
    binds it, it can become the source port of any outgoing connection, or,
    in a parallel test run, another test's listener (a "dead" server of one
    test answering because another listens there). Each pytest-xdist worker
    (else each process) takes its own slice and walks it in steps of two, so
    ``port + 1`` stays free for port ranges. Several test runs may share the
    machine, and a port free when handed out may be bound by both (proxies
    bind with SO_REUSEPORT, so neither fails and the kernel splits the
    connections between them): a process holds a lock on its slice
    (``_claim()``) for its lifetime, so concurrent runs walk different
    slices. The first slice tried comes from the run's id (xdist's
    testrunuid, shared by its workers, else the pid) and the walk starts at a
    random offset.
    """
    slices = max(1, (_ephemeral_low() - _PORTS_LOW) // _PORTS_SLICE)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    base = int(run[:8], 16) if len(run) >= 8 and _is_hex(run[:8]) else os.getpid()
    index = base + (int(worker[2:]) if worker[2:].isdigit() else 0)
    low = _claim([_PORTS_LOW + ((index + i) % slices) * _PORTS_SLICE for i in range(slices)])
    offset = random.randrange(0, _PORTS_SLICE, 2)
    while True:
        yield from range(low + offset, low + _PORTS_SLICE, 2)
        yield from range(low, low + offset, 2)


_CLAIMED: list[int] = []  # the descriptor of the claimed slice's lock, held until exit


def _claim(candidates: list[int]) -> int:
    """The first slice (by its lowest port) no other process holds, locked for
    this process's lifetime; the first candidate when every slice is held."""
    folder = os.path.join(tempfile.gettempdir(), "herdsman-test-ports")
    os.makedirs(folder, exist_ok=True)
    for low in candidates:
        fd = os.open(os.path.join(folder, f"{low}.lock"), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _CLAIMED.append(fd)
        return low
    return candidates[0]


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


_PORTS = _port_slice()


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on ``host`` (the caller binds it soon after),
    never handed out twice by this process while its slice lasts."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(_PORTS_SLICE // 2):
        port = next(_PORTS)
        with socket.socket(fam) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue  # in use, or in TIME_WAIT from an earlier run
            return port
    raise OSError(errno.EADDRINUSE, f"no free port left in this process's slice on {host}")


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` until true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


async def wait_for_async(
    predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.005
) -> None:
    """``wait_for`` for coroutines: yields to the loop between polls."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


class Acceptor:
    """A loopback port that accepts every connection and closes it at once, from a
    thread, until ``close()``. A port that only listens would not do for health
    checks: each check's connection stays in its accept queue (a reset does not
    take it out), and once the backlog is full new ones time out."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.port: int = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # close(): shutdown() wakes accept()
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)

    def __enter__(self) -> Acceptor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Syslog:
    """A UDP receiver for ``log 127.0.0.1:<port> format raw``: one datagram is one line.

    Reading waits on the socket with a deadline; every line read is kept in
    ``lines`` (trailing newline removed), including those a search skipped.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.lines: list[str] = []

    async def _next(self, deadline: float) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            data = await asyncio.wait_for(
                loop.sock_recv(self.sock, 65536), max(deadline - loop.time(), 0)
            )
        except TimeoutError:
            return None
        line = data.decode(errors="replace").rstrip("\n")
        self.lines.append(line)
        return line

    def poll(self) -> list[str]:
        """Every line received so far, without waiting."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.lines
            self.lines.append(data.decode(errors="replace").rstrip("\n"))

    async def wait_line(self, pattern: str, timeout: float = 10.0) -> str:
        """The first line (already received or coming) that matches ``pattern``."""
        rx = re.compile(pattern)
        for old in self.poll():
            if rx.search(old):
                return old
        deadline = asyncio.get_running_loop().time() + timeout
        while (line := await self._next(deadline)) is not None:
            if rx.search(line):
                return line
        raise AssertionError(f"no log line matching {pattern!r} in {self.lines}")

    async def first(self, pattern: str, timeout: float = 8.0) -> str:
        """``wait_line()`` with the check duration replaced by ``Nms``."""
        return normalise_duration(await self.wait_line(pattern, timeout))

    async def wait_count(self, count: int, timeout: float = 10.0) -> list[str]:
        """Every line, once at least ``count`` were received in all."""
        self.poll()
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.lines) < count:
            if await self._next(deadline) is None:
                raise AssertionError(f"{len(self.lines)} of {count} log lines: {self.lines}")
        return self.lines

    async def collect(self, count: int, timeout: float = 5.0) -> list[str]:
        """The next ``count`` lines, or those that came before the timeout."""
        got: list[str] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < count and (line := await self._next(deadline)) is not None:
            got.append(line)
        return got

    def close(self) -> None:
        self.sock.close()


def normalise_duration(line: str) -> str:
    """A log line with its ``check duration: <n>ms`` replaced by ``Nms`` (it varies)."""
    return re.sub(r"check duration: \d+ms", "check duration: Nms", line)


class NamedServer:
    """A TCP server on loopback that writes its name to every connection.

    ``hold=True`` keeps connections open after the name (for leastconn and
    connection counts); otherwise the server closes right after writing.
    """

    def __init__(
        self, name: str, host: str = "127.0.0.1", port: int = 0, hold: bool = False
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.hold = hold
        self.server: asyncio.AbstractServer | None = None
        self.accepted = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.peers: list[tuple[str, int]] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.peers.append(writer.get_extra_info("peername"))
        writer.write(self.name.encode())
        with contextlib.suppress(OSError):
            await writer.drain()
        if self.hold:
            self.writers.append(writer)
            with contextlib.suppress(OSError):
                await reader.read()
        writer.close()

    async def start(self) -> NamedServer:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.server = await asyncio.start_server(self._handle, sock=sock)
        return self

    async def stop(self) -> None:
        """Stop listening (later connections are refused); open ones stay."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def close(self) -> None:
        await self.stop()
        for w in self.writers:
            w.close()
        self.writers.clear()


@contextlib.asynccontextmanager
async def named_servers(
    count: int, *, hold: bool = False, names: str = "abcdefghijklmnop"
) -> AsyncIterator[list[NamedServer]]:
    """``count`` NamedServers called a, b, c...; all closed on exit."""
    servers: list[NamedServer] = []
    try:
        for i in range(count):
            servers.append(await NamedServer(names[i], hold=hold).start())
        yield servers
    finally:
        for srv in servers:
            await srv.close()


@contextlib.asynccontextmanager
async def running(
    text: str, *, clock: Clock | None = None, stderr: object = None
) -> AsyncIterator[Herdsman]:
    """Run a configuration on the current loop; stop it on exit."""
    diag = Diagnostics()
    config = parse_text(text, diag, "test.cfg")
    if config is None:
        raise AssertionError("configuration refused:\n" + "\n".join(diag.texts()))
    hm = Herdsman(config, clock=clock, stderr=stderr)  # type: ignore[arg-type]
    await hm.start()
    try:
        yield hm
    finally:
        hm.hard_stop()


def cli_command(address: str | tuple[str, int], text: str, timeout: float = 5.0) -> str:
    """Send ``text`` to a stats socket (a UNIX path or a TCP address) and read its
    answer until the socket closes (one command per connection, as HAProxy's CLI).
    A final LF is added when missing."""
    if not text.endswith("\n"):
        text += "\n"
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(text.encode())
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


def haproxy_available() -> bool:
    return shutil.which("haproxy") is not None


class Haproxy:
    """The real haproxy running a configuration in the foreground (``-db``)."""

    def __init__(self, text: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="hm-haproxy-")
        self.path = os.path.join(self.dir, "haproxy.cfg")
        with open(self.path, "w") as f:
            f.write(text)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, port: int | None = None) -> Haproxy:
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", self.path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if port is not None:
            proc = self.proc
            try:
                wait_for(lambda: listening(port) or proc.poll() is not None, timeout=5)
            except AssertionError:
                # not listening yet: stop it, or a caller's ``with Haproxy(..).start()``
                # (never entered) leaves it running on its ports
                self.stop()
                raise
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise AssertionError("haproxy did not start:\n" + err.decode(errors="replace"))
        return self

    def stop(self) -> tuple[str, str]:
        """Stop it; returns (stdout, stderr)."""
        out = err = b""
        if self.proc is not None:
            self.proc.terminate()
            out, err = self.proc.communicate(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)
        return out.decode(errors="replace"), err.decode(errors="replace")

    def __enter__(self) -> Haproxy:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()


def listening(port: int) -> bool:
    """Is some socket listening on TCP ``port``? (read from /proc, without connecting,
    so a side-by-side test does not send an extra connection to a backend)."""
    want = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if (fields[1] + " ").endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            continue
    return False


def unix_listening(path: str) -> bool:
    """Is a stream socket listening at the UNIX ``path``? (Its file exists from
    ``bind()``, before ``listen()``: connecting in between is refused.)"""
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            # Flags 00010000: __SO_ACCEPTCON, a listening socket
            if len(fields) == 8 and fields[7] == path and fields[3] == "00010000":
                return True
    return False


@contextlib.contextmanager
def env(**values: str) -> Iterator[None]:
    """Temporarily set environment variables."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
