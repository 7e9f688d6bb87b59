"""Request targets: scheme, authority, the Host agreement, absolute-form normalisation."""

from __future__ import annotations

import pytest

from herdsman.http import uri


@pytest.mark.parametrize(
    ("target", "scheme", "authority"),
    [
        (b"/a", None, None),
        (b"*", None, None),
        (b"", None, None),
        (b"http://a/b", b"http://", b"a"),
        (b"HTTPS://a:443", b"HTTPS://", b"a:443"),
        (b"http://u:p@a:80/x@y", b"http://", b"a:80"),
        (b"a:443", None, b"a:443"),
        (b"a+b.c-d://x/", b"a+b.c-d://", b"x"),
        (b"1http://a/", None, b"1http:"),
    ],
)
def test_scheme_authority(target: bytes, scheme: bytes | None, authority: bytes | None) -> None:
    assert uri.scheme_authority(target)[:2] == (scheme, authority)


@pytest.mark.parametrize(
    ("host", "port"),
    [
        (b"a:80", b"80"),
        (b"a:", b""),
        (b"a", None),
        (b"80", None),
        (b"[::1]:8080", b"8080"),
        (b":80", b"80"),
    ],
)
def test_host_port(host: bytes, port: bytes | None) -> None:
    assert uri.host_port(host) == port


@pytest.mark.parametrize(
    ("authority", "host", "result"),
    [
        (b"a:443", None, (True, None)),
        (b"a:443", b"a:443", (True, b"a")),
        (b"a:443", b"A", (True, None)),
        (b"a:8443", b"a:8443", (True, None)),
        (b"a:8443", b"a", (False, None)),
        (b"a:443", b"b:443", (False, None)),
        (b"a", b"a", (False, None)),
        (b"a:", b"a", (False, None)),
        (None, b"a", (False, None)),
    ],
)
def test_connect(
    authority: bytes | None, host: bytes | None, result: tuple[bool, bytes | None]
) -> None:
    assert uri.check_connect(authority, host) == result


@pytest.mark.parametrize(
    ("scheme", "authority", "host", "ok"),
    [
        (b"http://", b"a:80", b"a", True),
        (b"http://", b"a", b"a:80", True),
        (b"https://", b"a:443", b"a", True),
        (b"https://", b"a:80", b"a", False),
        (b"http://", b"a:8080", b"a", False),
        (b"http://", b"b", b"a", False),
        (None, b"a:443", b"a", False),
        (b"http://", b"a:", b"a", True),
    ],
)
def test_mismatch(scheme: bytes | None, authority: bytes, host: bytes, ok: bool) -> None:
    assert uri.check_mismatch(scheme, authority, host) is ok


@pytest.mark.parametrize(
    ("target", "result"),
    [
        (b"http://a:80/b", (b"http://a/b", b"a")),
        (b"http://a:/b", (b"http://a/b", b"a")),
        (b"https://u@a:443", (b"https://u@a", b"a")),
        (b"http://a:8080/b", None),
        (b"https://a:80/b", None),
        (b"http://a/b", None),
        (b"/b", None),
    ],
)
def test_normalize(target: bytes, result: tuple[bytes, bytes] | None) -> None:
    assert uri.normalize_absolute(target) == result


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (b"/a/b?c", b"/a/b?c"),
        (b"*", b""),
        (b"", b""),
        (b"http://h/x?y", b"/x?y"),
        (b"http://u@h:8080/x", b"/x"),
        (b"http://h", b""),
        (b"h:443", b""),
    ],
)
def test_path_of(target: bytes, path: bytes) -> None:
    """``http_parse_path()``: from the leading '/', nothing without one."""
    assert uri.path_of(target) == path
