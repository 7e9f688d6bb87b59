"""``option forwardfor`` and ``option originalto`` (spec §3.3, ``http_process_request()``).

HAProxy adds one header line at the end of the request: the client's source
address (X-Forwarded-For) or the address it connected to (X-Original-To), as
``inet_ntop()`` writes it (dotted quad; IPv6 compressed, an IPv4-mapped or
-compatible address ending in dotted quad; no brackets, no port). The header is
added to HTX, so its name goes out in lower case (observed on the 2.6.12
binary: "x-forwarded-for: 127.0.0.1").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from herdsman.http.model import RequestHead

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddrHeaderOption:
    """One proxy's ``option forwardfor [except <net>] [header <name>] [if-none]``
    or ``option originalto [except <net>] [header <name>]`` (``if_none`` unused)."""

    header: bytes = b"X-Forwarded-For"  # b"X-Original-To" for originalto
    except_net: IPNetwork | None = None
    if_none: bool = False


def ntop(addr: IPAddress) -> bytes:
    """The address as glibc's ``inet_ntop()`` writes it."""
    if isinstance(addr, ipaddress.IPv4Address):
        return str(addr).encode()
    packed = addr.packed
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, 16, 2)]
    # the longest run of zero words (the first of equals), if 2 words or more
    best, best_len, cur, cur_len = -1, 0, -1, 0
    for i, w in enumerate(words):
        if w == 0:
            if cur < 0:
                cur, cur_len = i, 0
            cur_len += 1
            if cur_len > best_len:
                best, best_len = cur, cur_len
        else:
            cur = -1
    if best_len < 2:
        best = -1
    out = []
    i = 0
    while i < 8:
        if i == best:
            out.append(":" if i == 0 else "")
            i += best_len
            if i == 8:
                out.append("")
            continue
        if i == 6 and best == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(str(ipaddress.IPv4Address(packed[12:])))
            break
        out.append(f"{words[i]:x}")
        i += 1
    return ":".join(out).encode()


def _excepted(addr: IPAddress, *nets: IPNetwork | None) -> bool:
    """``ipcmp2net()`` on both proxies: skipped when either except network matches."""
    return any(net is not None and addr.version == net.version and addr in net for net in nets)


def forwardfor_line(
    frontend: AddrHeaderOption | None,
    backend: AddrHeaderOption | None,
    source: IPAddress | None,
    present: frozenset[bytes],
) -> bytes | None:
    """The X-Forwarded-For line to add, or None.

    ``present`` holds the lower-case names of the request's header fields (for
    ``if-none``). A non-IP source (UNIX socket) never gets one.
    """
    opt = backend or frontend
    if opt is None:
        return None
    name = opt.header  # the backend's name wins
    always = (frontend is not None and not frontend.if_none) or (
        backend is not None and not backend.if_none
    )
    if not always and name.lower() in present:
        return None
    if source is None or _excepted(
        source,
        frontend.except_net if frontend else None,
        backend.except_net if backend else None,
    ):
        return None
    return name.lower() + b": " + ntop(source)


def originalto_line(
    frontend: AddrHeaderOption | None,
    backend: AddrHeaderOption | None,
    destination: IPAddress | None,
) -> bytes | None:
    """The X-Original-To line to add, or None (``option originalto``)."""
    opt = backend or frontend
    if opt is None:
        return None
    name = opt.header
    if destination is None or _excepted(
        destination,
        frontend.except_net if frontend else None,
        backend.except_net if backend else None,
    ):
        return None
    return name.lower() + b": " + ntop(destination)


def sock_ip(addr: object) -> IPAddress | None:
    """The address of a socket name (``getpeername()``'s tuple), None for another."""
    if isinstance(addr, tuple) and addr:
        try:
            return ipaddress.ip_address(addr[0])
        except ValueError:
            return None
    return None


Options = tuple[AddrHeaderOption | None, AddrHeaderOption | None]  # (frontend's, backend's)


def added_lines(
    forwardfor: Options, originalto: Options, head: RequestHead, peer: object, local: object
) -> list[bytes]:
    """The lines the two options add to ``head``, X-Forwarded-For first (``peer``,
    ``local``: the client connection's socket names)."""
    add: list[bytes] = []
    if forwardfor[0] is not None or forwardfor[1] is not None:
        present = frozenset(name.lower() for name, _ in head.headers)
        line = forwardfor_line(forwardfor[0], forwardfor[1], sock_ip(peer), present)
        if line is not None:
            add.append(line)
    if originalto[0] is not None or originalto[1] is not None:
        line = originalto_line(originalto[0], originalto[1], sock_ip(local))
        if line is not None:
            add.append(line)
    return add
