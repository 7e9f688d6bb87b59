"""Sockets in other network namespaces (``namespace <name>``, spec §1.5).

A socket belongs to the namespace its creating thread was in when
``socket()`` was called, and keeps it afterwards. So, as HAProxy does
(``netns_store`` + ``my_socketat()``), herdsman switches the calling thread
into the namespace, creates the socket and switches back. Python 3.11 has no
``os.setns``; ``setns(2)`` is called through libc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
from functools import cache
from typing import Final

CLONE_NEWNET: Final = 0x40000000
NETNS_RUN_DIR = "/var/run/netns"


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _setns(fd: int) -> None:
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class NamespaceStore:
    """Opened namespace descriptors, by name (``netns_store``)."""

    def __init__(self) -> None:
        self._fds: dict[str, int] = {}
        self._default: int | None = None
        # the names the configuration gives (bind and server lines): 2.6 enters them
        # in its store at parse time, and a PROXY header's NETNS TLV may name only
        # those (netns_store_insert(), netns_store_lookup())
        self.names: set[str] = set()

    def fd(self, name: str) -> int:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(os.path.join(NETNS_RUN_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
            self._fds[name] = fd
        return fd

    def socket(
        self, name: str | None, family: int, type_: int = socket.SOCK_STREAM
    ) -> socket.socket:
        """A non-blocking socket created in namespace ``name`` (None: the current one)."""
        # SOCK_NONBLOCK at creation: no extra ioctl per socket (checks create
        # thousands per second)
        type_ |= socket.SOCK_NONBLOCK
        if not name or name == "*":
            return socket.socket(family, type_)
        if self._default is None:
            self._default = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        _setns(self.fd(name))
        try:
            return socket.socket(family, type_)
        finally:
            _setns(self._default)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._default is not None:
            os.close(self._default)
            self._default = None


STORE = NamespaceStore()
