"""Handing listening sockets over from an old process to the one that replaces it.

haproxy reloads without losing connections only when the new process gets
the old one's listening sockets (``-x``, done by the master on each reload):
two SO_REUSEPORT sockets bound to the same address are two accept queues,
and closing the old one resets the connections waiting in it. herdsman
always hands its sockets over:

* every serving process (standalone, daemon or worker) offers its listening
  sockets on an abstract UNIX socket named after its pid (``Handover``);
* a process started with ``-sf``/``-st`` pids, or a worker started by the
  master on a reload, asks the first of them that answers (``take_over``)
  and receives the sockets with ``SCM_RIGHTS``, each named by a key computed
  from the configuration (``bind_key``): it reuses those whose address and
  options it binds too, and binds the others (with SO_REUSEPORT, so an old
  haproxy can be replaced as well).

The old process then stops polling its copy and closes it: the socket and
its queue live on in the new process. Only a peer with our uid (or root),
and when we connect, the pid we asked for (SO_PEERCRED), is trusted.
A process stops offering its sockets when it starts a soft stop.

A shared socket must never be suspended the way haproxy suspends a socket
it owns alone (``tcp_suspend_receiver()``: ``connect(AF_UNSPEC)``, after
which the kernel refuses connections): that would stop it for the other
process too. ``stop_listening`` is that suspension, for the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import json
import os
import socket
import struct

from herdsman.config.model import BindConfig
from herdsman.config.model_addr import Family
from herdsman.proxy.frontend import Frontend

XFER_NAME = "\0herdsman-listeners-{pid}"
XFER_BATCH = 200  # fds per message, under the kernel's SCM_MAX_FD (253)


def bind_key(bind: BindConfig, port: int) -> str | None:
    """What identifies a listening socket between two processes (None: never shared).

    Both sides compute it from their configuration, so a socket is taken
    over only for the same address and the same socket options.
    """
    addr = bind.addr
    tail = f"ns={bind.namespace or ''}|if={bind.interface or ''}"
    if addr.family in (Family.UNIX, Family.ABNS):
        return f"{addr.family.name}|{addr.host}|{tail}"
    if addr.family not in (Family.INET, Family.INET6):
        return None  # fd@ and sockpair@ belong to whoever passed them
    fam = socket.AF_INET6 if addr.family is Family.INET6 else socket.AF_INET
    host = addr.host if addr.host not in ("", "*") else "0.0.0.0"
    with contextlib.suppress(OSError):
        host = socket.inet_ntop(fam, socket.inet_pton(fam, host))
    opts = f"{int(bind.v6only)}{int(bind.v4v6)}{int(bind.transparent)}"
    return f"{addr.family.name}|{host}|{port}|{opts}|{tail}"


def ports(bind: BindConfig) -> list[int]:
    addr = bind.addr
    if addr.family in (Family.INET, Family.INET6):
        return list(range(addr.port, (addr.port_end or addr.port) + 1))
    return [0]


def _peer_trusted(sock: socket.socket, pid: int | None) -> bool:
    """SO_PEERCRED: our uid or root, and the pid we expect when we know it."""
    cred = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    peer_pid, uid, _ = struct.unpack("3i", cred)
    return uid in (0, os.geteuid()) and (pid is None or peer_pid == pid)


def take_over(pids: list[int]) -> dict[str, socket.socket]:
    """The listening sockets of the first of ``pids`` that hands them over, by key."""
    for pid in pids:
        got: dict[str, socket.socket] = {}
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            conn.settimeout(5.0)
            try:
                conn.connect(XFER_NAME.format(pid=pid))
                if not _peer_trusted(conn, pid):
                    continue
                while True:
                    data, fds, flags, _ = socket.recv_fds(conn, 1 << 20, XFER_BATCH + 1)
                    socks = [socket.socket(fileno=fd) for fd in fds]
                    keys = json.loads(data) if data else []
                    if flags & socket.MSG_CTRUNC or len(keys) != len(socks):
                        got.update((f"?{i}", s) for i, s in enumerate(socks))  # closed below
                        raise OSError("truncated listener hand-over")
                    for key, s in zip(keys, socks, strict=True):
                        s.set_inheritable(False)
                        s.setblocking(False)
                        got[key] = s
                    if not keys:
                        return got
            except (OSError, ValueError):
                for s in got.values():
                    s.close()
    return {}


class Handover:
    """Offers our listening sockets to the process that replaces us."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, frontends: list[Frontend], shared: set[int]
    ) -> None:
        self.loop = loop
        self.frontends = frontends
        self.shared = shared
        self.sock: socket.socket | None = None

    def open(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.bind(XFER_NAME.format(pid=os.getpid()))
            sock.listen(8)
        except OSError:
            sock.close()
            return  # a name squatted by someone else: no hand-over, the next process binds
        sock.setblocking(False)
        self.sock = sock
        self.loop.add_reader(sock.fileno(), self._accept)

    def close(self) -> None:
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _accept(self) -> None:
        assert self.sock is not None
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5.0)
            if not _peer_trusted(conn, None):
                return
            items: list[tuple[str, socket.socket]] = []
            for fe in self.frontends:
                for lst in fe.listeners:
                    if lst.stopped:
                        continue
                    port = lst.sock.getsockname()[1] if lst.bind.addr.is_ip else 0
                    key = bind_key(lst.bind, port)
                    if key is not None:
                        items.append((key, lst.sock))
            with contextlib.suppress(OSError):
                for i in range(0, len(items), XFER_BATCH):
                    batch = items[i : i + XFER_BATCH]
                    fds = [s.fileno() for _, s in batch]
                    socket.send_fds(conn, [json.dumps([k for k, _ in batch]).encode()], fds)
                    self.shared.update(fds)
                socket.send_fds(conn, [b"[]"], [])


_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def stop_listening(sock: socket.socket) -> None:
    """``tcp_suspend_receiver()``: connect(AF_UNSPEC) makes the kernel refuse new connections."""
    unspec = (ctypes.c_ubyte * 16)()
    _libc.connect(sock.fileno(), ctypes.byref(unspec), ctypes.c_uint(len(unspec)))


__all__ = ["Handover", "bind_key", "ports", "stop_listening", "take_over"]
