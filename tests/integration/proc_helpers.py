"""Real herdsman (and haproxy) processes on loopback, for the command line and life cycle tests.

Everything waits on something observable with a deadline (a port that
answers, a line in a log file, a process that exits), never on a fixed
sleep. Processes started by a test are killed at its end if still alive,
children included (daemons and workers are found through their pid files
and ``/proc``). Echo servers run as threads of the test process and prefix
each reply with their tag, so a test can tell which configuration served.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from herdsman.testing import listening

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None
)
HERDSMAN = [sys.executable, "-m", "herdsman"]
DEADLINE = 10.0

needs_haproxy = pytest.mark.skipif(HAPROXY is None, reason="haproxy 2.6 is not installed")

# the program a test runs: herdsman (None), or haproxy beside it when installed
PROGRAMS = [
    pytest.param(None, id="herdsman"),
    pytest.param([HAPROXY or "haproxy"], id="haproxy", marks=needs_haproxy),
]

DEFAULTS = """\
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
"""


def wait_until(pred: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``pred`` until it returns something true; fail after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        # a zombie is dead for our purpose
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


# TCP states (include/net/tcp_states.h), as TCP_INFO reports them
TCP_SYN_SENT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LISTEN = 2, 7, 8, 10


def tcp4_sockets(state: int) -> list[tuple[tuple[str, int], tuple[str, int], int]]:
    """(local address, remote address, inode) of the IPv4 TCP sockets in ``state``.

    Asked from the kernel (sock_diag netlink, ``ss``'s way) filtered by state:
    reading /proc/net/tcp takes 100 ms when other tests left thousands of
    sockets in TIME_WAIT.
    """
    req = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 1 << state) + bytes(48)
    # nlmsghdr: SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP
    msg = struct.pack("=IHHII", 16 + len(req), 20, 0x301, 1, 0) + req
    out: list[tuple[tuple[str, int], tuple[str, int], int]] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4) as nl:  # NETLINK_SOCK_DIAG
        nl.send(msg)
        while True:
            buf = nl.recv(1 << 16)
            off = 0
            while off < len(buf):
                length, kind = struct.unpack_from("=IH", buf, off)
                if kind == 3:  # NLMSG_DONE
                    return out
                if kind == 2:  # NLMSG_ERROR
                    raise OSError("sock_diag refused the request")
                # inet_diag_msg: 4 bytes, then the socket id (ports, addresses), ..., inode
                sport, dport = struct.unpack_from("!HH", buf, off + 20)
                src = socket.inet_ntoa(buf[off + 24 : off + 28])
                dst = socket.inet_ntoa(buf[off + 40 : off + 44])
                (inode,) = struct.unpack_from("=I", buf, off + 16 + 68)
                out.append(((src, sport), (dst, dport), inode))
                off += (length + 3) & ~3


def listen_inodes(port: int) -> set[int]:
    """The inodes of the sockets listening on ``port`` (IPv4): one per accept queue."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            out.add(int(fields[9]))
    return out


def holds(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the socket ``inode`` among its descriptors."""
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return True
    return False


def normalise(stderr: str) -> list[str]:
    """stderr lines with pids as ``(pid)`` and without the NOTICE lines naming the program."""
    lines = []
    for line in stderr.splitlines():
        if re.match(r"\[NOTICE\]   \(\d+\) : (haproxy|herdsman) version is ", line):
            continue
        if re.match(r"\[NOTICE\]   \(\d+\) : path to executable is ", line):
            continue
        lines.append(re.sub(r"^(\[\w+\] *) \(\d+\) :", r"\1 (pid) :", line))
    return lines


class EchoServer:
    """A threaded TCP echo server that prefixes every reply with ``tag``."""

    def __init__(self, tag: bytes) -> None:
        self.tag = tag
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port: int = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(self.tag + data)
            conn.shutdown(socket.SHUT_WR)  # the client left: so do we

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()


class Client:
    """One client connection with a deadline on every exchange."""

    def __init__(self, port: int, timeout: float = DEADLINE) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def echo(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        return self.sock.recv(65536)

    def silent_for(self, seconds: float) -> bool:
        """Nothing to read during ``seconds`` (for limits that hold a client back)."""
        return not select.select([self.sock], [], [], seconds)[0]

    def closed(self) -> bool:
        """The peer closed or reset the connection (waits up to the socket timeout)."""
        try:
            return self.sock.recv(65536) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def echo_once(port: int, data: bytes = b"ping", timeout: float = 2.0) -> bytes:
    with contextlib.closing(Client(port, timeout)) as c:
        return c.echo(data)


def serves(port: int, tag: bytes | None = None) -> bool:
    """A connection through ``port`` gets an echo (from ``tag`` when given)."""
    try:
        reply = echo_once(port)
    except OSError:
        return False
    return reply.endswith(b"ping") and (tag is None or reply.startswith(tag))


def refused(port: int) -> bool:
    """A connection to ``port`` is refused now. A probe caught in the accept queue
    while a listener is being suspended gets reset instead: not an answer, ask again."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2.0).close()
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False
    return False


class Proc:
    """A started herdsman/haproxy process with its stderr in a file."""

    def __init__(self, popen: subprocess.Popen[bytes], err: Path) -> None:
        self.popen = popen
        self.err = err

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def wait_stderr(self, text: str, timeout: float = DEADLINE) -> str:
        return str(wait_until(lambda: text in self.stderr() and self.stderr(), repr(text), timeout))

    def wait(self, timeout: float = DEADLINE) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int) -> None:
        self.popen.send_signal(sig)


class ProxyProcess:
    """herdsman (or haproxy) as a child process running ``text``, listening on ``port``."""

    def __init__(self, tmp_path: str, text: str, port: int, program: str = "herdsman") -> None:
        path = os.path.join(tmp_path, f"{program}.cfg")
        with open(path, "w") as f:
            f.write(text)
        cmd = HERDSMAN if program == "herdsman" else [HAPROXY or "haproxy"]
        self.proc = subprocess.Popen(
            [*cmd, "-db", "-f", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_until(lambda: listening(port) or self.proc.poll() is not None, "listening")
        assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()


class Runner:
    """Starts processes in a temporary directory and reaps them at the end of the test."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.procs: list[Proc] = []
        self.pids: list[int] = []  # daemons, masters and workers found later
        self.count = 0

    def path(self, name: str) -> Path:
        return self.dir / name

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        return path

    def start(
        self,
        args: list[str],
        program: list[str] | None = None,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> Proc:
        self.count += 1
        err = self.dir / f"stderr-{self.count}.txt"
        with open(err, "wb") as f:
            popen = subprocess.Popen(
                [*(program or HERDSMAN), *args],
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=f,
                stderr=f,
                env=None if env is None else {**os.environ, **env},
                pass_fds=pass_fds,
            )
        proc = Proc(popen, err)
        self.procs.append(proc)
        return proc

    def run(
        self, args: list[str], program: list[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*(program or HERDSMAN), *args],
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def adopt(self, pid: int) -> int:
        self.pids.append(pid)
        return pid

    def cleanup(self) -> None:
        pids = [p.pid for p in self.procs if p.popen.poll() is None] + self.pids
        family: list[int] = []
        for pid in pids:
            family += [pid, *children(pid)]
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(5)


def pidfile_pid(path: Path) -> int:
    return int(wait_until(lambda: path.exists() and path.read_text().strip(), f"pid in {path}"))


def start_serving(
    runner: Runner,
    port: int,
    args: list[str],
    program: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> Proc:
    """Start the program and wait until ``port`` serves (or it exits: then fail with its stderr)."""
    proc = runner.start(args, program, env)
    wait_until(lambda: serves(port) or proc.popen.poll() is not None, "a listener")
    assert proc.popen.poll() is None, proc.stderr()
    return proc


def listen_cfg(port: int, server_port: int, extra_global: str = "", name: str = "l1") -> str:
    return (
        f"global\n{extra_global}"
        + DEFAULTS
        + f"listen {name}\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{server_port}\n"
    )


@pytest.fixture
def proc_dir() -> Iterator[Path]:
    """A short temporary directory (UNIX socket paths are limited to 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="hp", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture
def proc_runner(proc_dir: Path) -> Iterator[Runner]:
    runner = Runner(proc_dir)
    try:
        yield runner
    finally:
        runner.cleanup()


@pytest.fixture
def proc_echo() -> Iterator[Callable[[bytes], EchoServer]]:
    """Factory of tagged echo servers, closed at the end of the test."""
    servers: list[EchoServer] = []

    def make(tag: bytes) -> EchoServer:
        srv = EchoServer(tag)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.close()
