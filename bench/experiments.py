"""Prototypes of the optimisations proposed in docs/performance.md, applied at run time.

Nothing under src/ is changed: each experiment replaces one function of the
running process, so that the gain of a proposal can be measured before
anyone writes it properly. The benchmarks take ``--experiments a,b``; run
the real command line with them::

    .venv/bin/python bench/experiments.py fast_connect -- -db -f haproxy.cfg

Experiments (each one is a proposal, see docs/performance.md):

* ``fast_connect``: ``TcpStream._try_connect`` connects the server socket
  itself (``connect_ex`` + ``add_writer`` on a future + a ``call_later``
  deadline) instead of ``asyncio.wait_for(loop.sock_connect(...))``. uvloop's
  ``sock_connect`` resolves the address with ``getaddrinfo`` in libuv's
  thread pool even for a numeric IP (3 extra threads, futex wake-ups per
  connection), and ``wait_for`` creates a second Task per connection.
* ``uv_connect``: ``fast_connect``, plus, for a server without
  ``namespace`` or ``tfo``, ``loop.create_connection(host, port)`` under
  ``asyncio.timeout()``: libuv connects and builds the transport in C, no
  Python ``socket`` object, no ``add_writer`` round.
* ``check_quickack``: a check whose first connect is not followed by an
  expect (connect-only checks, and checks that send first, such as
  ``option httpchk``) sets ``TCP_QUICKACK`` to 0 before ``connect()``, as
  HAProxy 2.6 does (``CONNECT_DELACK_ALWAYS``): the last ACK of the handshake
  is delayed, so it rides on the first data or, for a connect-only check, is
  replaced by the RST of the close and the server never accepts a connection.
* ``check_target_cache``: ``Herdsman.check_target()`` is built once per check
  and server state instead of on every run (a 19-field frozen dataclass, two
  closures and a ``gethostname()`` system call per run).
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import socket
import sys
from collections.abc import Callable
from typing import Any

TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)


def fast_connect() -> None:
    from herdsman.core.connect import destination, make_socket
    from herdsman.proxy.tcp import ServerSide, TcpStream

    async def _try_connect(self: Any, srv: Any, timeout: float | None) -> int | None:
        try:
            family, addr = destination(srv, self.local_addr)
            sock = make_socket(srv, family)
        except OSError as exc:
            return exc.errno or errno.EIO
        side = ServerSide(self, True)
        side.peer = self.client
        loop: asyncio.AbstractEventLoop = self.loop
        err = sock.connect_ex(addr)  # type: ignore[arg-type]
        if err in (errno.EINPROGRESS, errno.EAGAIN):
            fut: asyncio.Future[int] = loop.create_future()
            fd = sock.fileno()

            def writable() -> None:
                if not fut.done():
                    fut.set_result(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))

            def expired() -> None:
                if not fut.done():
                    fut.set_result(errno.ETIMEDOUT)

            loop.add_writer(fd, writable)
            timer = loop.call_later(timeout, expired) if timeout else None
            try:
                err = await fut
            except asyncio.CancelledError:
                sock.close()
                raise
            finally:
                loop.remove_writer(fd)
                if timer is not None:
                    timer.cancel()
        if err:
            sock.close()
            return err
        try:
            if family == socket.AF_UNIX:
                await loop.create_unix_connection(lambda: side, sock=sock)
            else:
                await loop.create_connection(lambda: side, sock=sock)
        except OSError as exc:
            sock.close()
            return exc.errno or errno.ECONNREFUSED
        except asyncio.CancelledError:
            sock.close()
            raise
        self.server_side = side
        return None

    TcpStream._try_connect = _try_connect  # type: ignore[method-assign]


def uv_connect() -> None:
    """``fast_connect``, and libuv's own connect for plain TCP servers (no namespace, no tfo)."""
    from herdsman.core.connect import destination
    from herdsman.proxy.tcp import ServerSide, TcpStream

    fast_connect()
    fallback = TcpStream._try_connect

    async def _try_connect(self: Any, srv: Any, timeout: float | None) -> int | None:
        if srv.cfg.namespace or srv.cfg.tfo:
            return await fallback(self, srv, timeout)
        try:
            family, addr = destination(srv, self.local_addr)
        except OSError as exc:
            return exc.errno or errno.EIO
        if family == socket.AF_UNIX or not isinstance(addr, tuple):
            return await fallback(self, srv, timeout)
        side = ServerSide(self, True)
        side.peer = self.client
        loop: asyncio.AbstractEventLoop = self.loop
        try:
            # a numeric host: uvloop's getaddrinfo answers without its thread pool
            # (type=SOCK_STREAM), then uv_tcp_connect() (TCP_NODELAY is uvloop's default)
            async with asyncio.timeout(timeout):
                await loop.create_connection(lambda: side, addr[0], addr[1], family=family)
        except TimeoutError:
            return errno.ETIMEDOUT
        except OSError as exc:
            return exc.errno or errno.ECONNREFUSED
        self.server_side = side
        return None

    TcpStream._try_connect = _try_connect  # type: ignore[method-assign]


def _patch_check_target(*, cache: bool, quickack: bool) -> None:
    from herdsman.core.server import SrvState
    from herdsman.runtime import Herdsman

    orig = Herdsman.check_target
    if getattr(orig, "_bench_patched", None):
        # both experiments: wrap the original once, with both behaviours
        cache = cache or orig._bench_patched[0]  # type: ignore[attr-defined]
        quickack = quickack or orig._bench_patched[1]  # type: ignore[attr-defined]
        orig = orig._bench_orig  # type: ignore[attr-defined]
    store: dict[tuple[int, bool], Any] = {}

    def check_target(self: Any, chk: Any) -> Any:
        key = (id(chk), chk.server.next_state is SrvState.STOPPED)
        if cache:
            target = store.get(key)
            if target is not None:
                return target
        target = orig(self, chk)
        if quickack and _connect_only(chk.ruleset):
            make = target.make_socket

            def make_socket(family: int) -> socket.socket:
                sock = make(family)
                if family != socket.AF_UNIX:
                    sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 0)
                return sock

            target = dataclasses.replace(target, make_socket=make_socket)
        if cache:
            store[key] = target
        return target

    check_target._bench_patched = (cache, quickack)  # type: ignore[attr-defined]
    check_target._bench_orig = orig  # type: ignore[attr-defined]
    Herdsman.check_target = check_target  # type: ignore[method-assign]


def _connect_only(ruleset: Any) -> bool:
    """HAProxy 2.6 ``tcpcheck_eval_connect()``: ``CONNECT_DELACK_ALWAYS`` unless an expect follows."""
    from herdsman.defs.rules import ActionRule, CommentRule, ConnectRule, ExpectRule

    rules = [r for r in ruleset.rules if not isinstance(r, CommentRule | ActionRule)]
    if rules and isinstance(rules[0], ConnectRule):
        rules = rules[1:]
    return not rules or not isinstance(rules[0], ExpectRule)


def check_quickack() -> None:
    _patch_check_target(cache=False, quickack=True)


def check_target_cache() -> None:
    _patch_check_target(cache=True, quickack=False)


EXPERIMENTS: dict[str, Callable[[], None]] = {
    "fast_connect": fast_connect,
    "uv_connect": uv_connect,
    "check_quickack": check_quickack,
    "check_target_cache": check_target_cache,
}


def apply(names: str) -> list[str]:
    """Apply a comma-separated list of experiments; returns their names."""
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in EXPERIMENTS:
            raise SystemExit(f"unknown experiment {name!r} (known: {', '.join(EXPERIMENTS)})")
        EXPERIMENTS[name]()
        applied.append(name)
    if applied:
        print(f"bench: experiments applied: {', '.join(applied)}", file=sys.stderr)
    return applied


def main(argv: list[str]) -> int:
    """``experiments.py NAMES [--] herdsman-arguments...``: the CLI with the experiments."""
    if not argv:
        print(__doc__)
        return 2
    names, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    apply(names)
    from _patches import patch_scheduler_ties

    patch_scheduler_ties()
    from herdsman.cli import main as cli_main

    return cli_main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
