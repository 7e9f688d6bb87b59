"""Socket options a stream sets on its connections, client and server side alike.

* ``tune.sndbuf.*``/``tune.rcvbuf.*``: buffer sizes, set on accepted sockets and
  on server sockets before ``connect()`` (as ``proto_tcp.c`` does);
* ``option nolinger``: a zero linger time, so that closing sends a reset;
* ``option clitcpka``/``tcpka``: keep-alive probes on client connections.
"""

from __future__ import annotations

import asyncio
import socket
import struct

LINGER_RST = struct.pack("ii", 1, 0)


def set_bufs(sock: socket.socket, bufs: tuple[int, int]) -> None:
    """``tune.sndbuf.*``/``tune.rcvbuf.*`` (0: the kernel's default)."""
    sndbuf, rcvbuf = bufs
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)


def set_nolinger(transport: asyncio.BaseTransport) -> None:
    """Close the transport's socket with a reset (a socket already gone is left)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        except OSError:
            pass
