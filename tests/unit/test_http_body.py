"""Body framers: how much of the input is body, what is forwarded, when the message ends.

Each chunked input is fed whole, then split at every offset into two feeds,
then byte by byte (keeping what a feed did not consume, as the proxy does):
the forwarded bytes must decode to the same body every time.
"""

from __future__ import annotations

import pytest

from herdsman.http import ChunkedBody, CloseBody, HttpError, LengthBody, Limits
from herdsman.http.model import DEFAULT_LIMITS


def run(body: ChunkedBody, pieces: list[bytes]) -> tuple[bytes, bytes]:
    """Feed ``pieces`` as arriving data; returns (forwarded bytes, left over)."""
    pending = b""
    sent = bytearray()
    for piece in pieces:
        pending += piece
        if body.done:
            continue
        used = body.feed(pending)
        sent += pending[:used] if body.out is None else b"".join(bytes(p) for p in body.out)
        pending = pending[used:]
    return bytes(sent), pending


def dechunk(data: bytes) -> tuple[bytes, bytes]:
    """(body, trailer block) of canonical chunked bytes."""
    out = b""
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol], 16)
        pos = eol + 2
        if not size:
            return out, data[pos:]
        out += data[pos : pos + size]
        assert data[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2


def splits(data: bytes) -> list[list[bytes]]:
    return (
        [[data]]
        + [[data[:i], data[i:]] for i in range(1, len(data))]
        + [[bytes([b]) for b in data]]
    )


class TestLength:
    def test_consumes_up_to_the_length(self) -> None:
        body = LengthBody(5)
        assert body.feed(b"abc") == 3
        assert not body.done
        assert body.feed(memoryview(b"deGET /")) == 2
        assert body.done
        assert body.out is None

    def test_close_delimited_takes_everything(self) -> None:
        body = CloseBody()
        assert body.feed(b"abc") == 3
        assert not body.done


class TestChunked:
    @pytest.mark.parametrize(
        ("data", "body", "trailers", "canonical"),
        [
            (b"3\r\nabc\r\n0\r\n\r\n", b"abc", b"\r\n", True),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789", b"\r\n", True),
            (b"00003\r\nabc\r\n000\r\n\r\n", b"abc", b"\r\n", True),
            (b"3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", b"abcde", b"X-T: 1\r\n\r\n", True),
            # forms HAProxy accepts, forwarded with canonical framing
            (b"3;ext=1\r\nabc\r\n0\r\n\r\n", b"abc", b"\r\n", False),
            (b"3 \t;a;b\r\nabc\r\n0;x\r\n\r\n", b"abc", b"\r\n", False),
            (b"3;a\x00b\r\nabc\r\n0\r\n\r\n", b"abc", b"\r\n", False),
            (b"3\nabc\n0\n\n", b"abc", b"\r\n", False),
            (b"3\r\nabc\n0\r\nX: 1\n\n", b"abc", b"X: 1\r\n\r\n", False),
            (b"3\r\nabc\r\n0\r\nX: 1\r\n 2\r\n\r\n", b"abc", b"X: 1   2\r\n\r\n", False),
        ],
    )
    def test_accepted(self, data: bytes, body: bytes, trailers: bytes, canonical: bool) -> None:
        for pieces in splits(data + b"NEXT"):
            framer = ChunkedBody(True, DEFAULT_LIMITS)
            sent, left = run(framer, pieces)
            assert framer.done
            assert left == b"NEXT"
            assert dechunk(sent) == (body, trailers)
            assert framer.total == len(body)
            if canonical:
                assert sent == data

    def test_forwards_input_slices_when_canonical(self) -> None:
        framer = ChunkedBody(True, DEFAULT_LIMITS)
        assert framer.feed(memoryview(b"5\r\nab")) == 5
        assert framer.out is None
        assert not framer.done

    @pytest.mark.parametrize(
        "data",
        [
            b"0x3\r\nabc\r\n0\r\n\r\n",
            b" 3\r\nabc\r\n0\r\n\r\n",
            b"+3\r\nabc\r\n0\r\n\r\n",
            b"-3\r\nabc\r\n0\r\n\r\n",
            b"\r\nabc\r\n0\r\n\r\n",
            b"3g\r\nabc\r\n0\r\n\r\n",
            b"3 g\r\nabc\r\n0\r\n\r\n",
            b"3;a\rb\r\nabc\r\n0\r\n\r\n",
            b"3\r\r\nabc\r\n0\r\n\r\n",
            b"3\r\nabcX\r\n0\r\n\r\n",
            b"3\r\nabc\r\n\r\n",
            b"10000000000000\r\n",  # a 14th significant hex digit
            b"3\r\nabc\r\n0\r\nX T: 1\r\n\r\n",
            b"3\r\nabc\r\n0\r\n: 1\r\n\r\n",
            b"3\r\nabc\r\n0\r\nXT\r\n\r\n",
            b"3\r\nabc\r\n0\r\nContent-Length: x\r\n\r\n",
        ],
    )
    def test_refused(self, data: bytes) -> None:
        for pieces in splits(data):
            with pytest.raises(HttpError) as exc:
                run(ChunkedBody(True, DEFAULT_LIMITS), pieces)
            assert (exc.value.status, exc.value.stream) == (400, False)
        with pytest.raises(HttpError) as exc:
            run(ChunkedBody(False, DEFAULT_LIMITS), [data])
        assert (exc.value.status, exc.value.stream) == (502, True)

    def test_thirteen_hex_digits_wait_for_data(self) -> None:
        framer = ChunkedBody(True, DEFAULT_LIMITS)
        assert framer.feed(b"fffffffffffff\r\nabc") == 18
        assert framer.remaining == 0xFFFFFFFFFFFFF - 3

    def test_size_line_bounded_by_the_buffer(self) -> None:
        limits = Limits(bufsize=1024)
        ok = b"3;" + b"x" * (limits.raw_max - 4) + b"\r\nabc\r\n0\r\n\r\n"
        assert run(ChunkedBody(True, limits), [ok])[1] == b""
        with pytest.raises(HttpError) as exc:
            run(ChunkedBody(True, limits), [ok[:2] + b"x" + ok[2:]])
        assert exc.value.stream  # found once the head went to the stream
        with pytest.raises(HttpError):  # incomplete, filling the buffer
            run(ChunkedBody(True, limits), [b"3;" + b"x" * limits.raw_max])

    def test_trailers_too_large_fail_after_the_data(self) -> None:
        limits = Limits(bufsize=2048, maxrewrite=1024)  # htx_max 976
        data = b"3\r\nabc\r\n0\r\nX: " + b"y" * 960 + b"\r\n\r\n"
        framer = ChunkedBody(True, limits)
        used = framer.feed(data)
        assert used == len(b"3\r\nabc\r\n0\r\n")
        with pytest.raises(HttpError) as exc:
            framer.feed(data[used:])
        assert exc.value.stream
        fits = b"3\r\nabc\r\n0\r\nX: " + b"y" * 958 + b"\r\n\r\n"
        assert run(ChunkedBody(True, limits), [fits])[1] == b""
