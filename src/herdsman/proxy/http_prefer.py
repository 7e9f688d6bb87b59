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
option changes nothing, as the binary shows.

A 401 or 407 whose WWW-Authenticate / Proxy-Authenticate value starts with
``NTLM`` or ``Nego`` (any case) makes its server connection private and the
session prefer it from then on, option or not, ``max-keep-alive-queue`` or
not (``http_wait_for_response()``: ``SESS_FL_PREFER_LAST``): those schemes
authenticate the connection, not the request.
"""

from __future__ import annotations

from collections.abc import Iterable

from herdsman.core.backend import Backend, Server
from herdsman.http import ResponseHead
from herdsman.proxy.http_server import ServerConn

__all__ = ["connection_auth", "last_server"]

# BE_LB_KIND_HI: the algorithms that hash an input
_HASHED = frozenset({"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"})


def last_server(
    be: Backend, own: Iterable[ServerConn], max_ka_queue: int, forced: bool = False
) -> Server | None:
    """The server of one of the client's own connections to prefer, or None
    (``forced``: after an NTLM/Negotiate challenge, whatever the queue)."""
    if be.cfg.balance.algo in _HASHED:
        return None
    for conn in own:
        srv = conn.server
        if srv.backend is not be or conn.transport is None or not srv.is_usable():
            continue
        # server_has_room(), or a queue shorter than max-keep-alive-queue
        room = not srv.maxconn or srv.served < be.limit(srv)
        if forced or max_ka_queue == -1 or room or srv.nbpend < max_ka_queue:
            return srv
    return None


_AUTH = {401: b"www-authenticate", 407: b"proxy-authenticate"}


def connection_auth(resp: ResponseHead) -> bool:
    """A 401/407 asking for a scheme that authenticates the connection."""
    name = _AUTH.get(resp.status)
    if name is None:
        return False
    return any(n.lower() == name and v[:4].lower() in (b"ntlm", b"nego") for n, v in resp.headers)
