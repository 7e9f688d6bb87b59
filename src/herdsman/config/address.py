"""Addresses as HAProxy 2.6 ``tools.c str2sa_range()`` reads them.

One parser, three callers, differing only in the options they pass:

========  ===============================================================
purpose   HAProxy caller and options
========  ===============================================================
server    ``server`` lines: port, ``+N``/``-N`` offsets, connect() needed;
          hostnames are kept for resolution after parsing.
bind      ``bind`` (``str2listener()``): port mandatory (1-65535), port
          ranges, ``fd@`` of an inherited socket; hostnames are resolved
          while parsing -- by the caller here.
check     the ``addr`` server keyword: port allowed, no range, no offset,
          connect() needed; hostnames resolved while parsing (caller).
========  ===============================================================

What the function does not do is resolve names: anything that is not an IP
literal comes back with family ``HOSTNAME`` (and ``force_family`` when an
``ipv4@``/``ipv6@`` prefix restricts it). For ``bind`` and ``check``
HAProxy would fail right away with :func:`invalid_address_message` when
resolution fails.

Quirks kept because configurations depend on them: ``$VAR``/``${VAR}`` are
expanded here (the lexer leaves ``$`` outside quotes alone), and a missing
variable just vanishes (``${NOPE}:80`` is ``:80``); the port separator is
the last ``:`` of the string, so ``::1`` is host ``:`` and port 1 while
``:::`` is the IPv6 "any" address; ports are read with ``atoi()`` so
``:1x`` is port 1; ``:+x`` is offset 0.

Messages are HAProxy's, without location; those ending in ``\\n`` are
printed by 2.6.12 with an empty line after them in the ``server`` context
(the ``bind`` and ``addr`` contexts strip that newline).

Not sans-IO in one place: ``fd@`` and ``sockpair@`` need the descriptor to
be a socket, which HAProxy checks with getsockname(); ``probe_fd`` does it
and can be replaced in tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from herdsman.config.diag import ConfigError
from herdsman.config.model_addr import Address, Family
from herdsman.config.units import c_atoi, c_strtol

__all__ = [
    "Purpose",
    "env_expand",
    "invalid_address_message",
    "parse_address",
    "probe_socket_fd",
    "split_bind_addresses",
]

Purpose = Literal["server", "bind", "check"]
ProbeFd = Callable[[int], tuple[int, int]]

_SUN_PATH = 108  # sizeof(sockaddr_un.sun_path) on Linux
_LISTENER_SUFFIX = 10  # ".<pid>.<bak|tmp>" that listeners append, reserved for all


@dataclass(frozen=True, slots=True)
class _Opts:
    port_mand: bool = False
    port_range: bool = False
    port_ofs: bool = False
    socket_fd: bool = False
    keep_fqdn: bool = False  # servers keep hostnames for later, others resolve now


_PURPOSES: dict[str, _Opts] = {
    "server": _Opts(port_ofs=True, keep_fqdn=True),
    "bind": _Opts(port_mand=True, port_range=True, socket_fd=True),
    "check": _Opts(),
}

_STREAM, _DGRAM = "stream", "dgram"

# prefix -> (family, forced socket type, forced protocol type, abstract)
# The socket type says whether the socket is SOCK_STREAM or SOCK_DGRAM, the
# protocol type how data flows over it; quic is a stream protocol over
# datagrams, which only a QUIC-enabled build (not Debian's 2.6) can serve.
_PREFIXES: dict[str, tuple[Family | None, str | None, str | None]] = {
    "unix@": (Family.UNIX, None, None),
    "uxdg@": (Family.UNIX, _DGRAM, _DGRAM),
    "uxst@": (Family.UNIX, _STREAM, _STREAM),
    "abns@": (Family.ABNS, None, None),
    "ip@": (None, None, None),
    "ipv4@": (Family.INET, None, None),
    "ipv6@": (Family.INET6, None, None),
    "tcp4@": (Family.INET, _STREAM, _STREAM),
    "udp4@": (Family.INET, _DGRAM, _DGRAM),
    "tcp6@": (Family.INET6, _STREAM, _STREAM),
    "udp6@": (Family.INET6, _DGRAM, _DGRAM),
    "tcp@": (None, _STREAM, _STREAM),
    "udp@": (None, _DGRAM, _DGRAM),
    "quic4@": (Family.INET, _STREAM, _DGRAM),
    "quic6@": (Family.INET6, _STREAM, _DGRAM),
    "fd@": (Family.FD, None, None),
    "sockpair@": (Family.SOCKPAIR, None, None),
}

_AF_NUMBER = {Family.INET: socket.AF_INET, Family.INET6: socket.AF_INET6}


def env_expand(text: str, env: Mapping[str, str]) -> str:
    """tools.c env_expand(): ``$NAME`` and ``${NAME}``, missing ones expand to nothing.

    Names are ``[A-Za-z0-9_]*``; a ``$`` with no name is dropped, and what
    follows a name that is not a closing brace is copied: there is no default
    value here, ``${A-default}`` is A's value followed by ``-default}``.
    """
    out: list[str] = []
    i = 0
    n = len(text)
    while (j := text.find("$", i)) >= 0:
        out.append(text[i:j])
        k = j + 1
        brace = text[k : k + 1] == "{"
        k += brace
        start = k
        while k < n and text[k].isascii() and (text[k].isalnum() or text[k] == "_"):
            k += 1
        name = text[start:k]
        out.append(env.get(name, "") if name else "")
        i = k + 1 if brace and text[k : k + 1] == "}" else k
    out.append(text[i:])
    return "".join(out)


def split_bind_addresses(text: str) -> list[str]:
    """str2listener(): a ``bind`` argument is a comma-separated list.

    A trailing comma is ignored; an empty item in the middle is kept (and
    then fails as an empty address).
    """
    items: list[str] = []
    rest = text
    while rest:
        head, _, rest = rest.partition(",")
        items.append(head)
    return items


def probe_socket_fd(fd: int) -> tuple[int, int]:
    """getsockname()/SO_TYPE on an inherited descriptor: (socket type, port).

    Raises OSError (EBADF, ENOTSOCK...) as HAProxy's check would fail.
    """
    sock = socket.socket(fileno=fd)
    try:
        name = sock.getsockname()
        port = name[1] if isinstance(name, tuple) and len(name) > 1 else 0
        return int(sock.type), int(port)
    finally:
        sock.detach()  # the descriptor is not ours to close


def invalid_address_message(addr: Address) -> str:
    """Text for a ``bind``/``addr`` hostname that fails to resolve."""
    return f"invalid address: '{addr.host}' in '{addr.raw}'\n"


def parse_address(
    text: str,
    purpose: Purpose,
    *,
    env: Mapping[str, str] | None = None,
    unix_prefix: str = "",
    probe_fd: ProbeFd | None = None,
) -> Address:
    """Parse one address for ``purpose``; raise ConfigError with HAProxy's text.

    ``env`` serves the ``$VAR`` expansion (None: no variable is defined).
    ``unix_prefix`` is the global ``unix-bind prefix``, applied to ``bind``
    paths only. ``probe_fd`` defaults to :func:`probe_socket_fd`.
    """
    opts = _PURPOSES[purpose]
    s = env_expand(text, env or {})
    if not s:
        raise ConfigError(
            f"'{text}' resolves to an empty address (environment variable missing?)\n"
        )

    ctrl = proto = _STREAM  # none of our callers accepts datagram addresses
    if s.startswith("stream+"):
        s = s[7:]
    elif s.startswith("dgram+"):
        s, ctrl, proto = s[6:], _DGRAM, _DGRAM
    family: Family | None = None
    forced: Family | None = None
    prefix = next((p for p in _PREFIXES if s.startswith(p)), None)
    if prefix is not None:
        family, forced_ctrl, forced_proto = _PREFIXES[prefix]
        ctrl, proto = forced_ctrl or ctrl, forced_proto or proto
        forced = family if family in (Family.INET, Family.INET6) else None
        s = s[len(prefix) :]
    elif s.startswith("/"):
        family = Family.UNIX

    if family in (Family.SOCKPAIR, Family.FD):
        addr = _parse_fd(text, s, family, opts, proto, probe_fd or probe_socket_fd)
    elif family in (Family.UNIX, Family.ABNS):
        addr = _parse_path(text, s, family, unix_prefix if purpose == "bind" else "")
    else:
        addr = _parse_ip(text, s, forced, opts)

    if ctrl == _DGRAM:
        raise ConfigError(f"dgram-type address not acceptable in '{text}'\n")
    if proto == _DGRAM and not (opts.keep_fqdn and addr.family is Family.HOSTNAME):
        # A stream over datagrams: QUIC, which this build (like Debian's) lacks.
        af = _AF_NUMBER.get(addr.force_family or addr.family, 0)
        raise ConfigError(
            f"unsupported stream protocol for datagram family {af} address '{text}'; "
            "QUIC is not compiled in if this is what you were looking for."
        )
    return addr


def _parse_fd(raw: str, s: str, family: Family, opts: _Opts, proto: str, probe: ProbeFd) -> Address:
    value, end = c_strtol(s)
    fd = (value & 0xFFFFFFFF) - ((value & 0x80000000) << 1)  # stored in a C int
    if not s or fd < 0 or end != len(s):
        raise ConfigError(f"file descriptor '{s}' is not a valid integer in '{raw}'\n")
    if family is Family.FD and not opts.socket_fd:
        raise ConfigError(f"a file descriptor is not acceptable here in '{raw}'\n")
    try:
        sock_type, port = probe(fd)
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise ConfigError(f"cannot use file descriptor '{fd}' : {reason}.\n") from None
    if family is Family.SOCKPAIR:
        return Address(raw=raw, family=family, fd=fd)
    if (sock_type == socket.SOCK_STREAM) != (proto == _STREAM):
        raise ConfigError(f"socket on file descriptor '{fd}' is of the wrong type.\n")
    return Address(raw=raw, family=family, fd=fd, port=port, port_end=port)


def _parse_path(raw: str, s: str, family: Family, prefix: str) -> Address:
    if family is Family.ABNS:
        limit = _SUN_PATH - 1
    else:
        limit = _SUN_PATH - 1 - len(prefix.encode()) - _LISTENER_SUFFIX
    if len(s.encode("utf-8", "surrogateescape")) > limit:
        raise ConfigError(f"socket path '{raw}' too long (max {limit})\n")
    return Address(raw=raw, family=family, host=s if family is Family.ABNS else prefix + s)


def _parse_ip(raw: str, s: str, forced: Family | None, opts: _Opts) -> Address:
    # The port separator is the last ':' unless a ']' comes after it.
    sep = max(s.rfind(":"), s.rfind("]"))
    if sep >= 0 and s[sep] == ":":
        host, port_text = s[:sep], s[sep + 1 :]
    else:
        if opts.port_mand:
            raise ConfigError(f"missing port specification in '{raw}'")
        host, port_text = s, ""

    low = high = offset = 0
    if port_text[:1].isascii() and port_text[:1].isdigit():
        first, dash, second = port_text.partition("-")
        if dash and not opts.port_range:
            raise ConfigError(f"port range not permitted here in '{raw}'")
        if not dash:
            second = first
        low, high = c_atoi(first), c_atoi(second)
        minimum = 1 if opts.port_mand else 0
        if not minimum <= low <= 65535:
            raise ConfigError(f"invalid port '{first}'")
        if not minimum <= high <= 65535:
            raise ConfigError(f"invalid port '{second}'")
        if low > high:
            raise ConfigError(f"invalid port range '{low}-{high}'")
        offset = low
    elif port_text[:1] in ("-", "+"):
        if not opts.port_ofs:
            raise ConfigError(f"port offset not permitted here in '{raw}'")
        if port_text[0] == "-":
            low = c_atoi(port_text[1:])
            offset = -low
        else:
            high = offset = c_atoi(port_text[1:])
    elif port_text:
        raise ConfigError(
            f"invalid character '{port_text[0]}' in port number '{port_text}' in '{raw}'\n"
        )
    elif opts.port_mand:
        raise ConfigError(f"missing port specification in '{raw}'")

    # Unlike HAProxy, which also flags UNIX-socket servers as port-mapped,
    # only IP and hostname addresses are ever ``mapped`` here.
    family, ip = _str2ip(host, forced)
    if family is None:
        family, ip = Family.HOSTNAME, host
    if opts.port_range:  # bind
        return Address(raw, family, ip, low, high, force_family=forced)
    # Servers treat a zero low or high end (no port, ":0", "+N", "-N") as
    # "relative to the client's destination port" (SRV_F_MAPPORTS).
    mapped = opts.port_ofs and (low == 0 or high == 0)
    return Address(
        raw, family, ip, offset, 0 if mapped else offset, mapped=mapped, force_family=forced
    )


def _str2ip(host: str, forced: Family | None) -> tuple[Family | None, str]:
    """str2ip2() without resolution: (family, canonical IP) or (None, "")."""
    if host.startswith("["):
        # Bracketed IPv6: at least "[::]", at most what fits INET6_ADDRSTRLEN.
        if not 4 <= len(host.encode()) < 48 or not host.endswith("]"):
            return None, ""
        host = host[1:-1]
    if host == "::":
        if forced in (None, Family.INET6):
            return Family.INET6, "::"
        return None, ""
    if host in ("", "*"):
        # "Any" address, of the forced family if any, IPv4 otherwise.
        return (Family.INET6, "::") if forced is Family.INET6 else (Family.INET, "0.0.0.0")
    if "\0" in host:
        return None, ""
    for fam, af in ((Family.INET6, socket.AF_INET6), (Family.INET, socket.AF_INET)):
        if forced not in (None, fam):
            continue
        try:
            packed = socket.inet_pton(af, host)
        except OSError:
            continue
        return fam, socket.inet_ntop(af, packed)
    return None, ""
