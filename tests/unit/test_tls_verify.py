"""Server name checks of HAProxy's ``ssl_sock_srv_hostcheck()`` (RFC 6125 §6.4.3)."""

from __future__ import annotations

import pytest

from herdsman.tls.verify import hostcheck


@pytest.mark.parametrize(
    ("pattern", "name", "ok"),
    [
        ("b.test", "b.test", True),
        ("B.TEST", "b.test", True),
        ("*.wild.test", "x.wild.test", True),
        ("*.wild.test", "wild.test", False),
        ("*.wild.test", "a.b.wild.test", False),
        ("f*.wild.test", "foo.wild.test", True),
        ("f*.wild.test", "bar.wild.test", False),
        ("*o.wild.test", "foo.wild.test", True),
        ("f*o.wild.test", "fo.wild.test", True),  # the star may stand for nothing
        ("**.wild.test", "x.wild.test", False),  # one wildcard at most
        ("x.*.test", "x.y.test", False),  # only in the leftmost label
        ("test", "test2", False),
    ],
)
def test_hostcheck(pattern: str, name: str, ok: bool) -> None:
    assert hostcheck(pattern, name) is ok
