"""The head bytes to forward: HAProxy's normalisations, the proxy's edits, the Connection line."""

from __future__ import annotations

from herdsman.http import Method, head_bytes, parse_request_head, parse_response_head

REQ = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nX-A: 1\r\nCookie: c\r\n\r\n"


def test_nothing_to_change_returns_the_same_object() -> None:
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert head is not None
    assert head_bytes(head) is head.raw


def test_normalisation_and_connection() -> None:
    head = parse_request_head(REQ)
    assert head is not None
    assert head_bytes(head) == b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nCookie: c\r\n\r\n"
    assert head_bytes(head, b"close") == (
        b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nCookie: c\r\nconnection: close\r\n\r\n"
    )


def test_added_lines_come_before_the_connection_line() -> None:
    head = parse_request_head(REQ)
    assert head is not None
    out = head_bytes(head, b"keep-alive", add=[b"x-forwarded-for: 10.0.0.1", b"X-B: 2"])
    assert out.endswith(
        b"Cookie: c\r\nx-forwarded-for: 10.0.0.1\r\nX-B: 2\r\nconnection: keep-alive\r\n\r\n"
    )


def test_remove_by_name() -> None:
    head = parse_request_head(REQ)
    assert head is not None
    assert (
        head_bytes(head, remove={b"x-a", b"cookie", b"connection"})
        == b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    head = parse_request_head(b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nHost: a\r\n\r\n")
    assert head is not None
    assert head_bytes(head, remove={b"content-length"}) == b"POST / HTTP/1.1\r\nHost: a\r\n\r\n"


def test_rebuilt_head_takes_edits_too() -> None:
    head = parse_request_head(b"GET  / HTTP/1.1\nHost: a\nX: 1\n\n")
    assert head is not None
    assert (
        head_bytes(head, b"close", remove={b"x"})
        == b"GET / HTTP/1.1\r\nHost: a\r\nconnection: close\r\n\r\n"
    )


def test_response() -> None:
    head = parse_response_head(
        b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", Method.GET
    )
    assert head is not None
    assert head_bytes(head, b"keep-alive") == (
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nconnection: keep-alive\r\n\r\n"
    )


def test_block_goes_before_the_added_lines() -> None:
    """``block``: whole lines (the fields rules appended), before ``add`` and the
    Connection line, with or without edits to make."""
    head = parse_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert head is not None
    assert head_bytes(head, block=b"x-a: 1\r\nx-b: 2\r\n") == (
        b"GET / HTTP/1.1\r\nHost: a\r\nx-a: 1\r\nx-b: 2\r\n\r\n"
    )
    head = parse_request_head(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\nHost: a\r\n\r\n")
    assert head is not None
    assert head_bytes(head, b"close", add=[b"x-c: 3"], block=b"x-a: 1\r\n") == (
        b"GET / HTTP/1.1\r\nHost: a\r\nx-a: 1\r\nx-c: 3\r\nconnection: close\r\n\r\n"
    )
