"""The addresses of the configuration model: what ``str2sa_range()``
(``config/address.py``) makes of a bind, server or log address, and a network
``<address>[/<mask>]`` (``str2net()``). Plain frozen dataclasses, a leaf of
``config/model.py``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Family(enum.Enum):
    INET = "ipv4"
    INET6 = "ipv6"
    UNIX = "unix"
    ABNS = "abns"
    SOCKPAIR = "sockpair"
    FD = "fd"
    HOSTNAME = "fqdn"  # resolved after parsing (init-addr), spec §1.4


# a module global: ``Family.INET`` is a lookup through the enum's metaclass
# (about 80 ns on Python 3.11), and HTTP mode asks is_any per request
_IP_FAMILIES = (Family.INET, Family.INET6)


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address (``str2sa_range()``, spec §1.2-§1.3).

    For servers, ``port`` is the stored ``svc_port``: a fixed port, or an
    offset to the client's destination port when ``mapped`` is set.
    For binds, ``port``..``port_end`` is the port range.
    """

    raw: str
    family: Family
    host: str = ""  # IP literal, socket path, abstract name, or hostname
    port: int = 0
    port_end: int = 0
    mapped: bool = False  # SRV_F_MAPPORTS: no port, ":0", "+N", "-N"
    fd: int = -1  # fd@ / sockpair@
    force_family: Family | None = None  # ipv4@ / ipv6@ on a hostname

    @property
    def is_any(self) -> bool:
        """0.0.0.0 or ::, replaced by the client's destination address."""
        return self.host in ("0.0.0.0", "::") and self.family in _IP_FAMILIES

    @property
    def is_ip(self) -> bool:
        return self.family in (Family.INET, Family.INET6)


@dataclass(frozen=True, slots=True)
class Network:
    """``<address>[/<mask>]`` (``str2net()``, ``str62net()``): ``addr`` is stored
    already masked; an address matches when ``address & mask == addr``. IPv4 masks
    may be dotted and need not be contiguous."""

    family: Family  # INET or INET6
    addr: bytes  # packed, 4 or 16 bytes
    mask: bytes


__all__ = ["Address", "Family", "Network"]
