"""``option prefer-last-server`` and ``max-keep-alive-queue``: a request goes back to
a server this client still holds a connection to.

HAProxy 2.6 (``assign_server()``, backend.c), unless the backend hashes
(source, uri, url_param, hdr, rdp-cookie, hash): it walks the servers of the
session's own connections and takes the first one of this backend that is
usable and, with ``max-keep-alive-queue <n>`` (-1: no limit), has room or
fewer than ``n`` requests queued; the request then queues for it if it is
full. A session owns its server connections only when they are private:
with ``http-reuse never`` (2.6's H1 puts every other released connection in
the server's idle pool, ``h1_detach()``), so with another reuse mode the
option changes nothing, as the binary shows. Not done: the preference 2.6
also gives after a 401 or 407 or an NTLM challenge (``SESS_FL_PREFER_LAST``).
"""

from __future__ import annotations

from collections.abc import Iterable

from herdsman.core.backend import Backend, Server
from herdsman.proxy.http_server import ServerConn

__all__ = ["last_server"]

# BE_LB_KIND_HI: the algorithms that hash an input
_HASHED = frozenset({"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"})


def last_server(be: Backend, own: Iterable[ServerConn], max_ka_queue: int) -> Server | None:
    """The server of one of the client's own connections to prefer, or None."""
    if be.cfg.balance.algo in _HASHED:
        return None
    for conn in own:
        srv = conn.server
        if srv.backend is not be or conn.transport is None or not srv.is_usable():
            continue
        # server_has_room(), or a queue shorter than max-keep-alive-queue
        room = not srv.maxconn or srv.served < be.limit(srv)
        if max_ka_queue == -1 or room or srv.nbpend < max_ka_queue:
            return srv
    return None
