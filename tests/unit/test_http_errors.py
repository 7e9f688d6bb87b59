"""HAProxy's replies and errorfile checks (compared with the binary in tests/http_diff)."""

from __future__ import annotations

import pytest

from herdsman.http import Flag, errorfile, errors


def test_statuses_are_haproxys() -> None:
    assert errors.STATUSES == (
        200,
        400,
        401,
        403,
        404,
        405,
        407,
        408,
        410,
        413,
        421,
        422,
        425,
        429,
        500,
        501,
        502,
        503,
        504,
    )


@pytest.mark.parametrize("status", errors.STATUSES)
def test_default_messages_are_consistent(status: int) -> None:
    msg = errors.mux_bytes(status)
    head, _, body = msg.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Content-length: %d\r\n" % len(body) in head
    reply = errors.DEFAULT_REPLIES[status]
    assert reply.body == body
    assert all(name == name.lower() for name, _ in reply.fields)
    assert not any(name == b"connection" for name, _ in reply.fields)
    assert bool(reply.flags & Flag.CONN_CLOSE) == (status in (400, 408))


def test_reply_bytes() -> None:
    reply = errors.DEFAULT_REPLIES[503]
    assert errors.reply_bytes(reply, None, head_request=True).endswith(b"text/html\r\n\r\n")
    out = errors.reply_bytes(reply, b"close")
    assert out.startswith(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\n"
    )
    assert out.endswith(b"content-type: text/html\r\nconnection: close\r\n\r\n" + reply.body)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"HTTP/1.1 503 X\r\nContent-Length: 5\r\n\r\nabc",
            "payload size does not match the announced content-length (3 != 5)",
        ),
        (b"HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\nabc", "message payload not expected"),
        (
            b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n",
            "chunk-encoded payload not supported",
        ),
        (b"HTTP/1.1 100 X\r\n\r\n", "invalid http status code for an error message (100)"),
        (b"HTTP/1.10 503 X\r\n\r\n", "invalid http version (HTTP/1.10)"),
        (b"HTTP/1.1 503 X\r\nA B: c\r\n\r\n", "unable to parse headers (error offset: 17)"),
        (b"HTTP/1.1 503 X\r\nA: c\r\n", "unable to parse headers (error offset: -2)"),
        (b"garbage", "unable to parse headers (error offset: 0)"),
    ],
)
def test_errorfile_refused(data: bytes, message: str) -> None:
    with pytest.raises(errorfile.ErrorfileError) as exc:
        errors.load_reply(data)
    assert str(exc.value) == message


def test_errorfile_accepted() -> None:
    assert errors.load_reply(b"") is None  # HAProxy then sends nothing
    reply = errors.load_reply(b"HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nfree body")
    assert reply is not None
    assert (reply.start_line, reply.fields, reply.body) == (
        b"HTTP/1.0 200 OK\r\n",
        ((b"x-a", b"1"),),
        b"free body",
    )
