"""Request targets as HAProxy 2.6 reads them (``src/http.c``, ``src/h1.c``, ``src/http_htx.c``).

* ``scheme_authority()``: ``http_parse_scheme()`` + ``http_parse_authority(.., 1)``.
* ``check_authority()``: the Host/authority agreement ``h1_headers_to_hdr_list()``
  demands once the headers are parsed (``h1_validate_connect_authority()``,
  ``h1_validate_mismatch_authority()``).
* ``path_of()``: ``http_parse_path()``, the path a redirection keeps.
* ``normalize_absolute()``: ``http_scheme_based_normalize()``, which drops a
  default port from an absolute-form target (and from every Host header).
"""

from __future__ import annotations

_SCHEME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def scheme_authority(uri: bytes) -> tuple[bytes | None, bytes | None, int]:
    """(scheme with its "://", authority without user info, offset of the authority).

    Only a target that starts with neither '/' nor '*' has them; a target
    like ``a:443`` has no scheme and is all authority (the CONNECT form).
    """
    if not uri or uri[0] in b"/*":
        return None, None, 0
    scheme = None
    rest = 0
    if uri[0] in _ALPHA:
        p = 1
        n = len(uri)
        while p < n and uri[p] in _SCHEME_CHARS:
            p += 1
        if uri[p : p + 3] == b"://":
            scheme = uri[: p + 3]
            rest = p + 3
    end = uri.find(b"/", rest)
    if end < 0:
        end = len(uri)
    start = rest
    at = uri.rfind(b"@", rest, end)
    if at >= 0:
        start = at + 1
    return scheme, uri[start:end], start


def host_port(host: bytes) -> bytes | None:
    """``http_get_host_port()``: the digits after the last ':' (maybe empty), or None."""
    i = len(host)
    while i > 0 and 0x30 <= host[i - 1] <= 0x39:
        i -= 1
    if i == 0 or host[i - 1] != 0x3A:
        return None
    return host[i:]


def is_default_port(scheme: bytes | None, port: bytes) -> bool:
    """``http_is_default_port()``: an empty port, or 80/443 (for http:// / https://)."""
    if not port:
        return True
    if scheme is None:
        return port in (b"443", b"80")
    s = scheme.lower()
    return (port == b"443" and s == b"https://") or (port == b"80" and s == b"http://")


def _split(hostport: bytes) -> tuple[bytes, bytes | None]:
    port = host_port(hostport)
    if port is None:
        return hostport, None
    return hostport[: len(hostport) - len(port) - 1], port


def check_connect(authority: bytes | None, host: bytes | None) -> tuple[bool, bytes | None]:
    """``h1_validate_connect_authority()`` for a CONNECT request.

    Returns (valid, Host value to forward instead, if HAProxy normalises it).
    The target must be host:port with a non-empty port; a Host header must
    name the same host and port, or no port when the target's is 80 or 443
    (then a Host with that default port loses it).
    """
    if authority is None:
        return False, None
    uri_host, uri_port = _split(authority)
    if not uri_port:
        return False, None
    if host is None:
        return True, None
    h, hport = _split(host)
    if hport:
        if h.lower() != uri_host.lower() or hport != uri_port:
            return False, None
        return True, (h if is_default_port(None, uri_port) else None)
    if not is_default_port(None, uri_port) or h.lower() != uri_host.lower():
        return False, None
    return True, None


def check_mismatch(scheme: bytes | None, authority: bytes, host: bytes) -> bool:
    """``h1_validate_mismatch_authority()``: may an absolute-form target whose
    authority differs from Host still be accepted? Only when they differ by a
    default port on one side."""
    if scheme is None:
        return False
    uri_host, uri_port = _split(authority)
    h, hport = _split(host)
    if uri_port is None and hport is None:
        return False
    if uri_port is not None and not is_default_port(scheme, uri_port):
        return False
    if hport is not None and not is_default_port(scheme, hport):
        return False
    return uri_host.lower() == h.lower()


def normalize_absolute(uri: bytes) -> tuple[bytes, bytes] | None:
    """``http_scheme_based_normalize()``: (target, host) without the default port of
    an absolute-form target, or None when there is nothing to change."""
    scheme, authority, start = scheme_authority(uri)
    if scheme is None or authority is None:
        return None
    port = host_port(authority)
    if port is None or not is_default_port(scheme, port):
        return None
    host = authority[: len(authority) - len(port) - 1]
    return uri[:start] + host + uri[start + len(authority) :], host


def path_of(target: bytes) -> bytes:
    """``http_parse_path()``: the path and query of a target, from its leading '/';
    b"" for ``*``, the authority-form and an absolute target without a path."""
    if not target or target[0] == 0x2A:  # "*"
        return b""
    if target[0] == 0x2F:  # "/"
        return target
    scheme, authority, start = scheme_authority(target)
    if scheme is None or authority is None:
        return b""
    return target[start + len(authority) :]
