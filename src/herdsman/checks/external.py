"""External checks: one process per run, its exit status decides (spec §8; ``extcheck.c``).

``invocation()`` is pure: the argv and the whole environment of a run, built
from ``ExternalSpec`` (what ``prepare_external_check()`` fixes at start-up) and
the values refreshed at each run (the server's address, port and current
sessions). The environment is exactly HAProxy 2.6's thirteen variables, in its
order, and nothing inherited.

``ExternalRun`` is the I/O side of one run. The process is started with
``subprocess.Popen`` (vfork and exec, every descriptor above 2 closed, in
herdsman's working directory); its exit is watched through a pidfd in the
check sockets' epoll (``runner.CheckPoller``), so a run costs no thread, no
SIGCHLD handler and no blocking wait, and every child is reaped, also one that
outlived its run. Results (``process_chk_proc()``):

* exit 0: PROCOK, code 0; exit N: PROCERR, code N; killed by a signal:
  PROCERR, code -1; a command that cannot be executed: PROCERR, code 255
  (HAProxy's child exits with -1 after "Failed to exec process for external
  health check: <error>. Aborting.");
* still running at the deadline (``inter``, or ``min(inter, timeout connect)``
  when ``timeout check`` is also set): PROCTOUT (the code stays the previous
  run's), "kill <pid>" on stderr and SIGTERM (twice, as 2.6 sends it again
  when the run is cleaned up); it is reaped whenever it exits;
* ``fork()`` refused: SOCKERR with the error text. 2.6 forbids fork() to its
  workers (``RLIMIT_NPROC`` 0) unless ``insecure-fork-wanted`` is set, which
  the kernel ignores for root; herdsman refuses the same runs instead of
  limiting its own process (its event loop's threads would fail too).
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from herdsman.checks.runner import CheckPoller, poller
from herdsman.checks.target import CheckResult
from herdsman.config.model import BindConfig
from herdsman.config.model_addr import Address, Family
from herdsman.defs.status import Status

NOT_USED = "NOT_USED"
_CAP_SYS_ADMIN, _CAP_SYS_RESOURCE = 21, 24
# Children still running when their loop closed: reaped by a later run's start
# (as ``subprocess`` does for its own), never left as zombies of a long-lived
# process that embeds herdsman.
_ORPHANS: set[subprocess.Popen[bytes]] = set()


def _reap_orphans() -> None:
    for proc in list(_ORPHANS):
        if proc.poll() is not None:
            _ORPHANS.discard(proc)


@dataclass(frozen=True, slots=True)
class ExternalSpec:
    """What does not change between runs of one server's external check."""

    command: str  # argv[0], looked up in PATH when it has no '/'
    path: str  # the PATH of the child ("" when unset)
    proxy_name: str
    proxy_id: int
    proxy_addr: str  # argv[1]: the first IPv4/IPv6/UNIX listener, or NOT_USED
    proxy_port: str  # argv[2]
    server_name: str
    server_id: int
    maxconn: int  # fixed at start-up, as HAProxy's variable is
    ssl: bool
    proto: str  # "tcp", or in HTTP mode the server's proto ("h1" by default)


def invocation(
    spec: ExternalSpec, server_addr: str, server_port: str, curconn: int
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of one run (``connect_proc_chk()``).

    NOT_USED stays in argv; the environment says "" instead.
    """
    argv = [spec.command, spec.proxy_addr, spec.proxy_port, server_addr, server_port]
    values = (
        ("PATH", spec.path),
        ("HAPROXY_PROXY_NAME", spec.proxy_name),
        ("HAPROXY_PROXY_ID", str(spec.proxy_id)),
        ("HAPROXY_PROXY_ADDR", spec.proxy_addr),
        ("HAPROXY_PROXY_PORT", spec.proxy_port),
        ("HAPROXY_SERVER_NAME", spec.server_name),
        ("HAPROXY_SERVER_ID", str(spec.server_id)),
        ("HAPROXY_SERVER_ADDR", server_addr),
        ("HAPROXY_SERVER_PORT", server_port),
        ("HAPROXY_SERVER_MAXCONN", str(spec.maxconn)),
        ("HAPROXY_SERVER_CURCONN", str(curconn)),
        ("HAPROXY_SERVER_SSL", "1" if spec.ssl else "0"),
        ("HAPROXY_SERVER_PROTO", spec.proto),
    )
    env = {name: "" if value == NOT_USED else value for name, value in values}
    return argv, env


def _ip_text(family: Family, host: str) -> str:
    """``addr_to_str()``: the canonical text of an IP address."""
    fam = socket.AF_INET6 if family is Family.INET6 else socket.AF_INET
    return socket.inet_ntop(fam, socket.inet_pton(fam, host))


def _c_string(text: str) -> str:
    """A ``sun_path`` read as a C string: an abstract name (leading NUL) is ""."""
    return text.split("\0", 1)[0]


def listener_words(binds: Sequence[BindConfig]) -> tuple[str, str]:
    """argv[1] and argv[2]: the first IPv4, IPv6 or UNIX listener of the proxy."""
    for bind in binds:
        addr = bind.addr
        if addr.family is Family.HOSTNAME:
            from herdsman.config.resolve import resolve_now

            resolved = resolve_now(addr)
            if resolved is None:
                continue
            addr = resolved
        if addr.family in (Family.INET, Family.INET6):
            return _ip_text(addr.family, addr.host), str(addr.port)
        if addr.family is Family.UNIX:
            return _c_string(addr.host), NOT_USED
        if addr.family is Family.ABNS:
            return "", NOT_USED
    return NOT_USED, NOT_USED


def server_words(addr: Address) -> tuple[str, str]:
    """argv[3] and argv[4]: the server's address, and its port as ``%u`` (offsets wrap)."""
    if addr.family in (Family.UNIX, Family.ABNS):
        return ("" if addr.family is Family.ABNS else _c_string(addr.host)), NOT_USED
    if addr.family in (Family.INET, Family.INET6):
        return _ip_text(addr.family, addr.host), str(addr.port & 0xFFFFFFFF)
    return addr.host, ""


def forks_allowed(insecure_fork_wanted: bool) -> bool:
    """Would 2.6's worker be allowed to fork? (``RLIMIT_NPROC`` 0 spares root and
    processes with CAP_SYS_RESOURCE or CAP_SYS_ADMIN.)"""
    if insecure_fork_wanted or os.getuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            caps = next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return False
    return bool(caps & (1 << _CAP_SYS_ADMIN | 1 << _CAP_SYS_RESOURCE))


class ExternalRun:
    """One external check run; ``cancel()`` abandons it (the child gets SIGTERM)."""

    __slots__ = (
        "_loop",
        "_on_done",
        "_pidfd",
        "_poller",
        "_proc",
        "_start",
        "_timer",
        "_warn",
        "_alert",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_done: Callable[[CheckResult], None],
        *,
        warn: Callable[[str], None],
        alert: Callable[[str], None],
    ) -> None:
        self._loop = loop
        self._on_done: Callable[[CheckResult], None] | None = on_done
        self._poller: CheckPoller = poller(loop)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pidfd = -1
        self._timer: asyncio.TimerHandle | None = None
        self._start = loop.time()
        self._warn = warn
        self._alert = alert

    def start(
        self, argv: list[str], env: dict[str, str], timeout_ms: int, insecure_fork_wanted: bool
    ) -> None:
        """Fork and exec ``argv``; the result comes from a loop callback, never from here."""
        if _ORPHANS:
            _reap_orphans()
        hint = "" if insecure_fork_wanted else " (likely caused by missing 'insecure-fork-wanted')"
        if not forks_allowed(insecure_fork_wanted):
            self._fork_failed(errno.EAGAIN, hint)
            return
        try:
            self._proc = subprocess.Popen(argv, env=env, close_fds=True)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ENOMEM):
                self._fork_failed(exc.errno, hint)
            else:
                # the exec failed: HAProxy's child says so and exits with -1 (255)
                self._alert(
                    f"Failed to exec process for external health check: "
                    f"{os.strerror(exc.errno or errno.ENOENT)}. Aborting."
                )
                self._loop.call_soon(self._finish, CheckResult(Status.PROCERR, 255))
            return
        self._pidfd = os.pidfd_open(self._proc.pid)
        self._poller.register(self._pidfd, self)
        self._timer = self._loop.call_later(timeout_ms / 1000.0, self._expired)

    def _fork_failed(self, err: int, hint: str) -> None:
        text = os.strerror(err)
        self._alert(f"Failed to fork process for external health check{hint}: {text}. Aborting.")
        self._loop.call_soon(self._finish, CheckResult(Status.SOCKERR, None, text))

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def on_events(self, events: int) -> None:
        """The pidfd is readable: the child exited. Reap it, then report (if still due)."""
        proc = self._proc
        if proc is None or proc.poll() is None:
            return
        self._forget_pidfd()
        status = proc.returncode
        if self._on_done is None:
            return  # a run already over (timed out, cancelled): only the zombie mattered
        if status < 0:
            result = CheckResult(Status.PROCERR, -1)
        else:
            result = CheckResult(Status.PROCOK if status == 0 else Status.PROCERR, status)
        self._finish(result)

    def _expired(self) -> None:
        self._timer = None
        proc = self._proc
        if proc is None or self._on_done is None:
            return
        self._warn(f"kill {proc.pid}")
        self._terminate()
        self._finish(CheckResult(Status.PROCTOUT))  # no code: the previous one stays

    def _terminate(self) -> None:
        """SIGTERM, and again when the run is cleaned up (``pid_list_del()``)."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)  # which polls first: it may reap the child
        if proc.returncode is not None:
            self._forget_pidfd()

    def _forget_pidfd(self) -> None:
        if self._pidfd >= 0:
            self._poller.forget(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1

    def _finish(self, result: CheckResult) -> None:
        on_done, self._on_done = self._on_done, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._terminate()  # pid_list_del(): a child still running gets SIGTERM
        if on_done is not None:
            elapsed = int((self._loop.time() - self._start) * 1000)
            on_done(CheckResult(result.status, result.code, result.desc, elapsed))

    def cancel(self) -> None:
        """Abandon the run (soft stop): no result; the child is killed and reaped."""
        self._on_done = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._terminate()

    def close(self) -> None:
        """Stop watching the child (the loop is going away); HAProxy leaves its
        children running at exit too. One still running is reaped later."""
        self._forget_pidfd()
        if self._proc is not None and self._proc.poll() is None:
            _ORPHANS.add(self._proc)
