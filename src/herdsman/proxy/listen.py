"""Opening listening sockets for ``bind`` lines (``sock_inet_bind_receiver()`` and friends).

One function per address family, applying the bind options that must be set
before ``listen()`` (reuse, v6only, transparent, interface, defer-accept, TFO)
and, for UNIX sockets, replacing a stale socket file and applying its owner
and mode. Sockets are created in the bind's network namespace.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat

from herdsman.config.model import BindConfig
from herdsman.config.model_addr import Family
from herdsman.core.netns import STORE

IP_TRANSPARENT = getattr(socket, "IP_TRANSPARENT", 19)
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)
TCP_DEFER_ACCEPT = getattr(socket, "TCP_DEFER_ACCEPT", 9)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def open_listener_socket(
    bind: BindConfig, port: int, backlog: int = 1024, reuseport: bool = True
) -> socket.socket:
    """Create, bind and listen one socket for ``bind`` (one port of its range)."""
    addr = bind.addr
    fam = addr.family
    if fam is Family.FD:
        sock = socket.socket(fileno=addr.fd)
        sock.setblocking(False)
        return sock
    if fam in (Family.UNIX, Family.ABNS):
        sock = STORE.socket(bind.namespace, socket.AF_UNIX)
        if fam is Family.ABNS:
            sock.bind(b"\0" + addr.host.encode())
        else:
            _bind_unix(sock, addr.host, bind)
        sock.listen(backlog)
        return sock
    if fam is Family.SOCKPAIR:
        raise OSError(0, "sockpair@ listeners are not supported by herdsman")
    host = addr.host
    family = socket.AF_INET6 if fam is Family.INET6 else socket.AF_INET
    if host in ("", "*"):
        host = "0.0.0.0"
    sock = STORE.socket(bind.namespace, family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            # as HAProxy (unless -dR/noreuseport): a reloading process can bind
            # the same address while the old one still serves
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            if bind.v6only:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            elif bind.v4v6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if bind.transparent:
            sock.setsockopt(socket.IPPROTO_IP, IP_TRANSPARENT, 1)
        if bind.interface:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, bind.interface.encode())
        if bind.defer_accept:
            sock.setsockopt(socket.IPPROTO_TCP, TCP_DEFER_ACCEPT, 1)
        if bind.tfo:
            sock.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, backlog)
        sock.bind((host, port) if family == socket.AF_INET else (host, port, 0, 0))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _bind_unix(sock: socket.socket, path: str, bind: BindConfig) -> None:
    """Bind a UNIX socket, replacing a stale one, then apply mode/owner."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    sock.bind(path)
    if bind.mode is not None:
        os.chmod(path, bind.mode)
    if bind.uid is not None or bind.gid is not None:
        os.chown(path, -1 if bind.uid is None else bind.uid, -1 if bind.gid is None else bind.gid)
