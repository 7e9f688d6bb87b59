"""What HTTP mode decides once per proxy (proxy/http_settings.py): whether a
request may take the session's straight path (``plain``: nothing of the
proxy's own changes or inspects a bodyless request) and whether a request is
kept for an L7 retry (``l7_retry``)."""

from __future__ import annotations

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.model import ProxyConfig
from herdsman.config.parser import parse_text
from herdsman.proxy import http_settings

DEFAULTS = """\
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
"""


def proxy(*lines: str) -> ProxyConfig:
    body = "".join(f"    {line}\n" for line in lines)
    text = DEFAULTS + f"listen L\n    bind 127.0.0.1:18000\n{body}    server s1 127.0.0.1:80\n"
    diag = Diagnostics()
    config = parse_text(text, diag, "F.cfg")
    assert config is not None, diag.texts()
    return config.proxies[0]


def test_defaults_are_plain() -> None:
    px = proxy()
    assert http_settings.front(px).plain
    assert http_settings.back(px).plain
    assert not http_settings.back(px).l7_retry


@pytest.mark.parametrize(
    ("line", "front", "back"),
    [
        ("option forwardfor", False, False),
        ("option originalto", False, False),
        ("monitor-uri /health", False, True),
        ("option http-buffer-request", False, False),
        ("option http-restrict-req-hdr-names delete", False, False),
        ("http-send-name-header X-Server", True, False),
        ("option prefer-last-server", True, False),
        # neither changes nor inspects a request: still plain
        ("http-reuse always", True, True),
        ("option http-server-close", True, True),
        ("option http-pretend-keepalive", True, True),
    ],
)
def test_what_is_not_plain(line: str, front: bool, back: bool) -> None:
    px = proxy(line)
    assert http_settings.front(px).plain is front
    assert http_settings.back(px).plain is back


@pytest.mark.parametrize(
    ("lines", "kept"),
    [
        (("retry-on conn-failure",), False),
        (("retry-on 503",), True),
        (("retry-on empty-response",), True),
        (("retry-on all-retryable-errors",), True),
        (("retry-on 503", "retries 0"), False),
    ],
)
def test_l7_retry(lines: tuple[str, ...], kept: bool) -> None:
    assert http_settings.back(proxy(*lines)).l7_retry is kept
