"""Run haproxy or herdsman over a set of backends and read their check log lines.

Both programs get the same configuration: one backend per (name, check
option lines, server address), ``option log-health-checks``, and a log
target on a ``Syslog`` receiver. ``first_lines()`` returns the first
"Health check for server <name>/s ..." line of every backend, with the
check duration replaced by ``Nms``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from herdsman.testing import Haproxy, Syslog, free_port, normalise_duration, running

PROGRAMS = ("haproxy", "herdsman")
# (backend name, its check option lines, server "host:port", extra server keywords)
Backend = tuple[str, Sequence[str], str, str]


def config(log_port: int, backends: Sequence[Backend], inter: str = "500ms") -> str:
    """The configuration: a dummy listener (haproxy needs one) and the backends.

    ``inter`` below 1s keeps the first checks close together (they are
    spread over it) and is also the timeout of a check.
    """
    lines = [
        "global",
        f"    log 127.0.0.1:{log_port} format raw local0",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option log-health-checks",
        "    timeout connect 1s",
        "    timeout client 5s",
        "    timeout server 5s",
        "frontend dummy",
        f"    bind 127.0.0.1:{free_port()}",
        "    default_backend none",
        "backend none",
    ]
    for name, options, addr, extra in backends:
        lines += [f"backend {name}", *(f"    {o}" for o in options)]
        lines.append(f"    server s {addr} check inter {inter}{extra}")
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def launched(program: str, text: str) -> AsyncIterator[None]:
    """haproxy (a process) or herdsman (on this loop) running ``text``."""
    if program == "haproxy":
        with Haproxy(text).start():
            yield
    else:
        async with running(text):
            yield


async def first_lines(
    program: str, backends: Sequence[Backend], inter: str = "500ms", timeout: float = 10
) -> dict[str, str]:
    """The first check line of every backend, from ``program``."""
    log = Syslog()
    first: dict[str, str] = {}
    try:
        async with launched(program, config(log.port, backends, inter)):
            deadline = asyncio.get_running_loop().time() + timeout
            while len(first) < len(backends):
                left = deadline - asyncio.get_running_loop().time()
                got = await log.collect(1, max(left, 0))
                if not got:
                    missing = sorted({b[0] for b in backends} - set(first))
                    raise AssertionError(f"{program}: no check line for {missing}: {log.lines}")
                if got[0].startswith("Health check for server "):
                    name = got[0].split()[4].split("/")[0]
                    first.setdefault(name, normalise_duration(got[0]))
    finally:
        log.close()
    return first
