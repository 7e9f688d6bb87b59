"""WebSocket handshake helpers (the checks themselves are in test_http_parse.py)."""

from __future__ import annotations

from herdsman.http import parse_request_head
from herdsman.http.websocket import accept_key, is_websocket_request


def test_accept_key_rfc6455_example() -> None:
    assert accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_websocket_request() -> None:
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    head = parse_request_head(
        b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n" + key + b"\r\n"
    )
    assert head is not None
    assert is_websocket_request(head)
    head = parse_request_head(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n" + key + b"\r\n")
    assert head is not None
    assert not is_websocket_request(head)
