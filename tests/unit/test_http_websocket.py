"""WebSocket handshake helpers (the checks themselves are in test_http_parse.py)."""

from __future__ import annotations

from herdsman.http import Flag, Method, parse_request_head, parse_response_head
from herdsman.http.websocket import accept_key, accept_line, is_websocket_request


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


def test_accept_haproxy_makes_up() -> None:
    """A response with "upgrade" and "websocket" but no accept gets one from the H1
    output: of the request's key, else of 24 NUL bytes (the 2.6.12 binary's
    X7sdFi1aZDLMcFz+yURsFmFjwvU=)."""
    resp = parse_response_head(
        b"HTTP/1.1 304 Not Modified\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        Method.GET,
    )
    assert resp is not None
    assert resp.flags & Flag.WS_ACCEPT_MISSING
    plain = parse_request_head(b"GET / HTTP/1.1\r\n\r\n")
    assert plain is not None
    assert accept_line(plain) == b"Sec-Websocket-Accept: X7sdFi1aZDLMcFz+yURsFmFjwvU="
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    ws = parse_request_head(
        b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n" + key + b"\r\n"
    )
    assert ws is not None
    assert accept_line(ws) == b"Sec-Websocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
