"""What the tcp-check interpreter (``tcpcheck.py``) asks of its I/O driver
(``runner.py``, ``probe.py``): plain data, so the interpreter stays sans-IO."""

from __future__ import annotations

from dataclasses import dataclass

from herdsman.checks.target import CheckResult


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a connection (any previous one was closed by a ``Close`` just before)."""

    family: int
    host: str
    port: int
    # TCP_QUICKACK off before connect() when the next rule is not an expect
    # (CONNECT_DELACK_ALWAYS): the handshake's last ACK rides on the first
    # data, and a connect-only check's RST replaces it (the server never
    # accepts), as HAProxy does.
    delack: bool = False
    # TLS over the connection (its handshake comes before connected()): the
    # SNI to send and the ALPN protocols to offer ("h2,http/1.1")
    tls: bool = False
    sni: str | None = None
    alpn: str | None = None


@dataclass(frozen=True, slots=True)
class Send:
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection: RST (SO_LINGER 0) unless ``linger`` (FIN)."""

    linger: bool = False


@dataclass(frozen=True, slots=True)
class Arm:
    """Replace the check's deadline by now + ``timeout_ms`` (spec §4.6)."""

    timeout_ms: int


@dataclass(frozen=True, slots=True)
class Done:
    result: CheckResult


Action = Connect | Send | Close | Arm | Done
