"""The request keywords' decisions without sockets: which requests wait for their
body (``http_wait_for_msg_body()``), the server redirection
(``http_perform_server_redirect()``), the header-name policy
(``http_req_restrict_header_names()``). On the wire: tests/integration/
test_http_buffer_request.py and test_http_keywords_vs_haproxy.py."""

from __future__ import annotations

import dataclasses

import pytest

from herdsman.config.model import Cap, HdrNames, ProxyConfig
from herdsman.http import parse_request_head
from herdsman.http.errors import reply_bytes
from herdsman.http.model import Method, RequestHead
from herdsman.proxy import http_body, http_hdrnames, http_redir, http_settings


def _head(raw: bytes) -> RequestHead:
    head = parse_request_head(raw)
    assert head is not None
    return head


PX = ProxyConfig("L", "listen", Cap.FE | Cap.BE)
FE = dataclasses.replace(http_settings.front(PX), buffer_request=True)
BE = http_settings.back(PX)


@pytest.mark.parametrize(
    ("raw", "holds"),
    [
        (b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\n", True),
        (b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n", False),
        (b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nhost: a\r\n\r\n", False),
        (b"CONNECT a:443 HTTP/1.1\r\nhost: a:443\r\ncontent-length: 3\r\n\r\n", False),
    ],
)
def test_which_requests_wait(raw: bytes, holds: bool) -> None:
    assert http_body.holds(_head(raw)) is holds


def test_expect_and_limit() -> None:
    head = _head(b"POST / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 3\r\n\r\n")
    assert http_body.expects(head)
    assert not http_body.expects(
        _head(b"POST / HTTP/1.0\r\nexpect: 100-continue\r\ncontent-length: 3\r\n\r\n")
    )
    assert http_body.limit(16384, 1024, head) == 16384 - 1024 - head.size


def test_timeout_is_the_waiting_proxys() -> None:
    fe = dataclasses.replace(FE, http_request=1.0)
    be = dataclasses.replace(BE, buffer_request=True, http_request=2.0)
    assert http_body.timeout(fe, be) == 1.0
    assert http_body.timeout(dataclasses.replace(fe, buffer_request=False), be) == 2.0


@pytest.mark.parametrize(
    ("prefix", "meth", "target", "location"),
    [
        ("http://x", Method.GET, b"/a?b", b"http://x/a?b"),
        ("http://x", Method.HEAD, b"http://h/p", b"http://x/p"),
        ("/", Method.GET, b"/a", b"/a"),
        ("http://x", Method.POST, b"/a", None),
        ("http://x", Method.GET, b"*", None),
    ],
)
def test_redirect(prefix: str, meth: Method, target: bytes, location: bytes | None) -> None:
    found = http_redir.redirect(prefix, meth, target)
    if location is None:
        assert found is None
        return
    assert found is not None
    assert reply_bytes(found, b"close") == (
        b"HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\n"
        b"location: " + location + b"\r\nconnection: close\r\n\r\n"
    )


HDRS = [(b"X_a", b"1"), (b"ok-1", b"2"), (b"x.b", b"3")]
P, D, R = HdrNames.PRESERVE, HdrNames.DELETE, HdrNames.REJECT


@pytest.mark.parametrize(
    ("policies", "out"),
    [
        ((P, P), frozenset()),
        ((D, P), frozenset({b"x_a", b"x.b"})),
        ((P, D), frozenset({b"x_a", b"x.b"})),
        ((R, P), None),
        ((P, R), None),
        ((D, R), frozenset({b"x_a", b"x.b"})),  # nothing left for the backend to reject
    ],
)
def test_restrict(policies: tuple[HdrNames, HdrNames], out: frozenset[bytes] | None) -> None:
    assert http_hdrnames.restrict(HDRS, policies) == out
    assert http_hdrnames.restrict([(b"Good-Name", b"")], policies) == frozenset()
