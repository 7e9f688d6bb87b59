"""Whether a server certificate is for the expected name (``ssl_sock_srv_verifycbk()``
and ``ssl_sock_srv_hostcheck()`` of HAProxy 2.6, RFC 6125 §6.4.3): any SAN DNS
name, then any CN, may match; a pattern may hold one ``*`` in its leftmost label,
which matches at least one character of the name's leftmost label."""

from __future__ import annotations

from herdsman.tls.x509 import DerError, parse_certificate

__all__ = ["hostcheck", "hostname_matches"]


def hostcheck(pattern: str, hostname: str) -> bool:
    p, h = pattern.lower(), hostname.lower()
    if p == h:
        return True
    dot = p.find(".")
    if dot < 0:
        return False
    left = p[:dot]
    if left.count("*") != 1:
        return False
    hdot = h.find(".")
    if hdot < 0 or p[dot:] != h[hdot:]:
        return False
    if hdot < dot - 1:  # the name's label is shorter than the pattern's without its '*'
        return False
    star = left.index("*")
    prefix, suffix = left[:star], left[star + 1 :]
    return h[:hdot].startswith(prefix) and h[:hdot].endswith(suffix)


def hostname_matches(der: bytes, name: str) -> bool:
    try:
        cert = parse_certificate(der)
    except DerError:
        return False
    return any(hostcheck(p, name) for p in (*cert.dns_names, *cert.common_names))
