"""Where and how to connect to a server: destination, socket and PROXY header.

* Destination (spec §1.2, §1.3; ``backend.c alloc_dst_address()``): a server
  without a port, with ``:0`` or with ``+N``/``-N`` uses the client's
  destination port plus the offset, written into 16 bits without range check
  (so it wraps); a server whose address is "any" (``0.0.0.0``, ``::``) uses
  the client's destination address.
* Socket: created in the server's network namespace (``namespace``), with
  ``tfo`` and TCP keep-alive applied before ``connect()``.
* PROXY header for ``send-proxy``/``send-proxy-v2``: the client's source and
  the address it connected to.
"""

from __future__ import annotations

import socket

from herdsman.config.model import Family
from herdsman.core.netns import STORE
from herdsman.core.server import Server
from herdsman.defs.proxyproto import proxy_v1, proxy_v2

_AF = {Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}
TCP_FASTOPEN_CONNECT = getattr(socket, "TCP_FASTOPEN_CONNECT", 30)


def destination(srv: Server, local: object) -> tuple[int, object]:
    """(family, sockaddr) to connect to for a client whose local address is ``local``."""
    addr = srv.addr
    fam = addr.family
    if fam is Family.UNIX:
        return socket.AF_UNIX, addr.host
    if fam is Family.ABNS:
        # the whole 108-byte sun_path, zero padded, is the address (spec §1.2)
        return socket.AF_UNIX, b"\0" + addr.host.encode().ljust(107, b"\0")
    host = addr.host
    port = addr.port
    family = _AF.get(fam, socket.AF_INET)
    client_ip = isinstance(local, tuple) and len(local) >= 2
    if addr.is_any and client_ip:
        host = local[0]  # type: ignore[index]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if addr.mapped and client_ip:
        port = (int(local[1]) + addr.port) & 0xFFFF  # type: ignore[index]
    if family == socket.AF_INET6:
        return family, (host, port, 0, 0)
    return family, (host, port)


def make_socket(srv: Server, family: int) -> socket.socket:
    """A non-blocking stream socket for ``srv`` (namespace, tfo, keep-alive)."""
    sock = STORE.socket(srv.cfg.namespace, family)
    if family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if srv.cfg.tfo:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
            except OSError:
                pass
    return sock


def proxy_header(srv: Server, client: object, local: object, never_send_local: bool) -> bytes:
    """The PROXY header the server expects for this client, or b""."""
    cfg = srv.cfg
    if cfg.send_proxy_v2:
        return proxy_v2(client, local, never_send_local=True)  # type: ignore[arg-type]
    if cfg.send_proxy:
        return proxy_v1(client, local)  # type: ignore[arg-type]
    return b""
