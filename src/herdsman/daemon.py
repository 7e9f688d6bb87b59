"""Process chores shared by a serving process and the master: signalling old
processes, daemonizing with a readiness pipe, the pid file, resource limits.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
from collections.abc import Callable

from herdsman.config.model import Config
from herdsman.startup import Options


def tell_pids(pids: list[int], sig: int) -> int:
    """``tell_old_pids()``: how many processes got the signal."""
    count = 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            count += 1
    return count


def daemonize(child: Callable[[int], int]) -> int:
    """Run ``child(ready_fd)`` in the background; return when it is ready (0) or dead.

    The child is a session leader with no terminal; it writes to ``ready_fd``
    once serving, then closes its standard descriptors. Until then its alerts
    reach the caller's terminal, and a child that fails gives its exit status.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        os.setsid()
        return child(wfd)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as ready:
        if ready.read(1):
            return 0
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def stdio_quiet() -> None:
    """``stdio_quiet()``: standard descriptors on /dev/null (detach from the terminal)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def signal_ready(fd: int, message: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, message)


def create_pidfile(path: str) -> int:
    """Open the pid file as haproxy does (unlink, then create 0644); raises OSError."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    return os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)


def write_pidfile(path: str, pid: int) -> None:
    fd = create_pidfile(path)
    try:
        os.write(fd, f"{pid}\n".encode())
    finally:
        os.close(fd)


def apply_limits(config: Config, opts: Options) -> None:
    if opts.memmax:
        limit = opts.memmax * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nofile = config.global_.ulimit_n
    if nofile:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    else:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def drop_privileges(uid: int | None, gid: int | None, user: str | None, chroot: str | None) -> None:
    """chroot, setgid, setuid as configured (global section)."""
    if chroot:
        os.chroot(chroot)
        os.chdir("/")
    if gid is not None:
        if user:
            os.initgroups(user, gid)
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)
