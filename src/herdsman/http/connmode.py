"""Connection modes (spec §3.1) and the Connection header HAProxy 2.6 writes, as pure functions.

HAProxy decides per H1 stream whether a side stays open (``H1S_F_WANT_KAL``)
or closes after the transaction (``H1S_F_WANT_CLO``), in two passes: when the
request is parsed or sent, then when the response is parsed or sent
(``h1_set_cli_conn_mode()``, ``h1_set_srv_conn_mode()`` in ``src/mux_h1.c``).
Close and keep-alive tokens never cross HAProxy: the input side strips them
(``H1_MF_CLEAN_CONN_HDR``) and the output side writes its own decision
(``h1_update_req_conn_value()``, ``h1_update_res_conn_value()``):

* towards an HTTP/1.1 peer, "close" when closing, nothing when keeping alive;
* towards an HTTP/1.0 peer, "keep-alive" when keeping alive, nothing when closing;
* nothing at all when the message keeps an "upgrade" token, or for a 1xx/101.

Who decides, as the 2.6.12 binary does it (tests/unit/test_http_connmode.py
has the whole frontend x backend x pretend-keepalive matrix it produced):

* the server side closes when either the frontend or the backend is in
  ``http-server-close`` or ``httpclose`` mode (the spec's "strongest wins"),
  when the backend is stopping, or for an HTTP/1.0 request with
  Transfer-Encoding; ``http-pretend-keepalive`` (backend) still announces
  keep-alive then;
* the client side closes when the client asks (HTTP/1.0 without keep-alive,
  or "close"), when the frontend is stopping, or on a response without a
  known length, and with ``httpclose`` only when **the frontend** has it: a
  backend in ``httpclose`` mode does not close the client side (the spec's
  table says it does; the binary does not).
"""

from __future__ import annotations

import enum

from .model import Flag, Framing, Method


class Mode(enum.IntEnum):
    """``PR_O_HTTP_MODE``: the proxy's connection mode option (spec §3.1)."""

    KAL = 0  # option http-keep-alive (default)
    SCL = 1  # option http-server-close
    CLO = 2  # option httpclose


# constants as module globals: on Python 3.11 a class attribute is an
# unspecialised lookup (``Flag.VER_11`` about 50 ns, an enum member's through
# its metaclass about 80 ns), and these functions run several times a request
_KAL, _CLO = Mode.KAL, Mode.CLO
_CONNECT = Method.CONNECT
_CLOSE = Framing.CLOSE
_VER_11 = Flag.VER_11
_VER_11_OR_KAL = Flag.VER_11 | Flag.CONN_KEEPALIVE
_CONN_CLOSE = Flag.CONN_CLOSE
_XFER_ENC = Flag.XFER_ENC
_UPGRADE_TOKEN = Flag.UPGRADE_TOKEN


def combine(frontend: Mode, backend: Mode) -> Mode:
    """The §3.1 frontend x backend table (the stronger mode wins): the mode of
    the server side of a transaction."""
    return max(frontend, backend)


def client_wants_close(req_flags: int, frontend_stopping: bool = False) -> bool:
    """After the request (``h1_set_cli_conn_mode()``, first pass): does the client
    connection close after this transaction? An HTTP/1.0 request without
    "keep-alive", a "close" token, or TE with CL or with HTTP/1.0 (the parser
    sets ``CONN_CLOSE`` then); a stopping frontend closes too."""
    return not req_flags & _VER_11_OR_KAL or bool(req_flags & _CONN_CLOSE) or frontend_stopping


def server_wants_close(
    req_flags: int,
    frontend: Mode,
    backend: Mode,
    backend_stopping: bool = False,
    meth: Method = Method.GET,
) -> bool:
    """When the request is sent (``h1_set_srv_conn_mode()``, first pass): does the
    server connection close after this transaction?"""
    if req_flags & _XFER_ENC and (not req_flags & _VER_11 or meth is _CONNECT):
        # h1_process_mux(): T-E with HTTP/1.0, or T-E on a bodyless message (a
        # CONNECT), which the output flags as T-E with C-L
        return True
    return max(frontend, backend) is not _KAL or backend_stopping  # combine(), inline


def request_connection(
    req_flags: int, server_close: bool, pretend_keepalive: bool = False
) -> bytes | None:
    """The Connection value HAProxy appends to the request it sends, or None."""
    if req_flags & _UPGRADE_TOKEN:
        return None
    ver11 = req_flags & _VER_11
    if not server_close or pretend_keepalive:
        return None if ver11 else b"keep-alive"
    return b"close" if ver11 else None


def server_keeps_alive(server_close: bool, resp_flags: int, framing: Framing) -> bool:
    """After the response head (``h1_set_srv_conn_mode()``, second pass): may the
    server connection serve another request (go idle, be reused)?"""
    if server_close or framing is _CLOSE or resp_flags & _CONN_CLOSE:
        return False
    return bool(resp_flags & _VER_11_OR_KAL)


def response_connection(
    status: int,
    req_meth: Method,
    req_flags: int,
    resp_flags: int,
    framing: Framing,
    client_close: bool,
    frontend: Mode = Mode.KAL,
    *,
    reply_close: bool = False,
    reply_keepalive: bool = False,
    request_pending: bool = False,
) -> tuple[bytes | None, bool]:
    """The Connection value appended to a response sent to the client, and whether
    the client connection closes after it (``h1_set_cli_conn_mode()`` second
    pass, ``h1_update_res_conn_value()``).

    ``client_close`` is ``client_wants_close()`` of the request. For a reply
    HAProxy makes itself, ``reply_close``/``reply_keepalive`` are the tokens
    of its Connection header (the 400 and 408 messages say close) and
    ``request_pending`` is true when the request was not received entirely
    (HAProxy then closes).
    """
    if status < 200:
        # 1xx and 101: no Connection processing (H1S_F_HAVE_O_CONN); 101 tunnels
        return None, False
    if req_meth is _CONNECT and status < 300:
        return None, False  # a tunnel: H1S_F_WANT_TUN
    close = client_close or request_pending
    if resp_flags & _XFER_ENC and not resp_flags & _VER_11:
        close = True  # T-E with HTTP/1.0
    if not close and (
        framing is _CLOSE or reply_close or (not reply_keepalive and frontend is _CLO)
    ):
        close = True
    if resp_flags & _UPGRADE_TOKEN:
        return None, close
    ver11 = resp_flags & _VER_11
    if close:
        return (b"close" if ver11 else None), True
    if not ver11 or not req_flags & _VER_11:
        return b"keep-alive", False
    return None, False
