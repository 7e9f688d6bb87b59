"""What one check run needs to know about the server it checks.

``checks/snapshot.py`` builds a ``CheckTarget`` for each run from core's
server (core owns server state; the check engine and its I/O driver only read
this snapshot), and the run gives a ``CheckResult`` back. Keeping the boundary to these two plain objects lets the
engine run without sockets in tests and lets the scheduler run on virtual time.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from herdsman.defs.status import Status

HCHK_DESC_LEN = 128  # the info text's buffer: 127 bytes and the NUL


def check_desc(text: str) -> str:
    """The info text as ``set_server_check_status()`` copies it: a C string of at
    most ``HCHK_DESC_LEN - 1`` bytes (cut at a NUL, then at the byte limit)."""
    text = text.split("\0", 1)[0]
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) < HCHK_DESC_LEN:
        return text
    return raw[: HCHK_DESC_LEN - 1].decode("utf-8", "ignore")


@dataclass(frozen=True, slots=True)
class CheckTarget:
    """Snapshot of the checked server, taken when the check starts (spec §4.2)."""

    backend_name: str
    server_name: str
    backend_id: int
    server_id: int
    # Default destination (check "addr" else server address; check "port" else
    # the "addr" port else the server port). port 0 means none: a connect rule
    # must then carry one (the config validation guarantees it).
    family: int  # socket.AF_INET, AF_INET6 or AF_UNIX
    host: str  # IP literal, or UNIX path ("\0name" for abstract sockets)
    port: int
    # Transport inherited by "connect default" and the implicit connect (§4.2).
    send_proxy: bool = False  # check-send-proxy, or the server's send-proxy when inherited
    proxy_v2: bool = False  # server uses send-proxy-v2: LOCAL command unless pp2-never-send-local
    pp2_never_send_local: bool = False
    # TLS (spec §4.2): the check transport inherited by "connect default" and the
    # implicit connect, check-sni, check-alpn, and the server's TLS context for
    # an ALPN list (None when the server has no TLS settings).
    tls: bool = False
    check_sni: str | None = None
    check_alpn: str | None = None
    tls_context: Callable[[str | None], ssl.SSLContext] | None = None
    # the server certificate must be for the SNI sent, else this name ("verify
    # required" only; ssl_sock_srv_verifycbk())
    tls_verify: bool = False
    tls_verifyhost: str | None = None
    # Timeouts (spec §4.6), milliseconds; None when unset.
    inter: int = 2000
    timeout_check: int | None = None
    timeout_connect: int | None = None
    # State at start, for disable-on-404 (spec §5.6): server next_state != STOPPED.
    server_down: bool = False
    # Value of the X-Haproxy-Server-State header for send-state (checks/snapshot.py).
    state_header: Callable[[], str] | None = None
    node: str = ""
    # Creates the (non-blocking) socket for a connection, in the server's
    # network namespace and with its source address.
    make_socket: Callable[[int], socket.socket] = field(
        default=lambda family: socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    )
    # Variables for log-format strings (srv_name, be_name, ...), evaluated lazily.
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of one run: the status, its numeric code and the description."""

    status: Status
    code: int | None = None  # HTTP status, protocol code; None when not applicable
    desc: str = ""  # "info" text, at most 127 bytes (HCHK_DESC_LEN)
    duration_ms: int = -1  # filled by the I/O driver; -1 when not applicable (HANA)
