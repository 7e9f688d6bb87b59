"""proxy/proxylayer.py without sockets: a transport double records what the layer
does to it; the stream behind is a recording protocol."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from herdsman.defs import proxyrecv as pr
from herdsman.proxy.proxylayer import ProxiedTransport, ProxyLayer
from herdsman.proxy.routing import EARLY_TXN
from herdsman.sample.txn import Txn

PEER = ("127.0.0.1", 40000)
LOCAL = ("127.0.0.1", 8080)


class Transport:
    """What the event loop's TCP transport offers the layer, recorded."""

    def __init__(self) -> None:
        self.protocol: Any = None
        self.reading = True
        self.closed = False
        self.written: list[bytes] = []
        self.linger0 = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": PEER, "sockname": LOCAL}.get(name, default)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_protocol(self) -> Any:
        return self.protocol

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def writelines(self, chunks: Any) -> None: ...
    def write_eof(self) -> None: ...
    def can_write_eof(self) -> bool:
        return True

    def abort(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None: ...


class Stream(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.data: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data.append(data)


class Rules:
    def __init__(self, expect: bool, reject_session: bool = False) -> None:
        self.expect, self.reject_session = expect, reject_session
        self.seen: list[object] = []

    def connection(self, tr: Any) -> Txn | None:
        txn = Txn()
        txn.expect_proxy = self.expect
        return txn

    def session(self, tr: Any) -> bool:
        self.seen.append(tr.get_extra_info("peername"))
        return not self.reject_session


def layer(
    loop: asyncio.AbstractEventLoop, accept: bool = True, rules: Rules | None = None
) -> tuple[ProxyLayer, Stream, Transport, list[int]]:
    stream, tr, failed = Stream(), Transport(), []
    pl = ProxyLayer(stream, loop, 0.05, lambda: failed.append(1), accept, rules, True)
    tr.protocol = pl
    pl.connection_made(tr)  # type: ignore[arg-type]
    return pl, stream, tr, failed


HEADER = b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n"


async def test_header_then_hand_over_with_the_rest() -> None:
    pl, stream, tr, failed = layer(asyncio.get_running_loop())
    pl.data_received(HEADER + b"GET /")
    assert tr.protocol is stream  # the loop now calls the stream directly
    face = stream.transport
    assert isinstance(face, ProxiedTransport)
    assert face.get_extra_info("peername") == ("1.2.3.4", 1111)
    assert face.get_extra_info("sockname") == ("5.6.7.8", 2222)
    assert face.write == tr.write  # the transport's own method, no wrapper call
    assert stream.data == [b"GET /"]
    assert not failed


async def test_a_header_longer_than_the_buffer_is_truncated() -> None:
    """2.6 peeks into a buffer of ``tune.bufsize`` bytes: a header that does not
    fit is truncated, even when all of it came in the first read."""
    loop = asyncio.get_running_loop()
    failed: list[int] = []
    for bufsize, failure in ((len(HEADER), None), (len(HEADER) - 1, (pr.TRUNCATED, False))):
        stream, tr = Stream(), Transport()
        pl = ProxyLayer(stream, loop, None, lambda: failed.append(1), True, None, True, bufsize)
        pl.connection_made(tr)  # type: ignore[arg-type]
        pl.data_received(HEADER + b"GET /")
        if failure is None:
            assert stream.data == [b"GET /"]
            assert not failed
        else:
            assert pl.failure == failure
            assert failed == [1]


@pytest.mark.parametrize("cut", [1, 10, len(HEADER) - 1])
async def test_a_header_in_two_reads_is_truncated(cut: int) -> None:
    """2.6 peeks once: what the first read lacks is not waited for."""
    pl, stream, tr, failed = layer(asyncio.get_running_loop())
    pl.data_received(HEADER[:cut])
    assert failed == [1]
    assert pl.failure == (pr.TRUNCATED, False)
    assert tr.closed
    assert stream.transport is None


async def test_silence_times_out_and_a_close_is_empty() -> None:
    loop = asyncio.get_running_loop()
    pl, _, tr, _ = layer(loop)
    done = loop.create_future()
    pl.on_failure = lambda: done.set_result(None)
    await asyncio.wait_for(done, 2)
    assert pl.failure == (pr.TIMEOUT, True)
    assert tr.closed
    pl2, _, _, failed2 = layer(loop)
    pl2.eof_received()
    pl2.connection_lost(None)
    assert pl2.failure == (pr.EMPTY, True)
    assert failed2 == [1]  # once


async def test_rules_decide_and_the_session_rules_see_the_header() -> None:
    loop = asyncio.get_running_loop()
    # an expect-proxy rule that did not match: handed over at once, own addresses
    _, stream, _, _ = layer(loop, accept=False, rules=Rules(expect=False))
    assert stream.transport is not None
    assert stream.transport.get_extra_info("peername") == PEER
    assert isinstance(stream.transport.get_extra_info(EARLY_TXN), Txn)
    # a matching one: the header first, then the session rules on its addresses
    rules = Rules(expect=True)
    pl, stream, _, _ = layer(loop, accept=False, rules=rules)
    assert stream.transport is None
    pl.data_received(HEADER)
    assert rules.seen == [("1.2.3.4", 1111)]
    # a session rule refusing: "Success" (no error code), a reset if bytes came
    pl, stream, _, failed = layer(loop, rules=Rules(expect=False, reject_session=True))
    pl.data_received(HEADER + b"x")
    assert (failed, pl.failure, stream.transport) == ([1], ("Success", True), None)
    assert pl.peer == ("1.2.3.4", 1111)


async def test_held_until_begin() -> None:
    loop = asyncio.get_running_loop()
    stream, tr = Stream(), Transport()
    pl = ProxyLayer(stream, loop, None, lambda: None, True, None, True)
    pl.held = True
    pl.connection_made(tr)  # type: ignore[arg-type]
    assert not tr.reading
    pl.begin()
    assert tr.reading
    pl.data_received(HEADER)
    assert stream.transport is not None


async def test_the_tls_handshake_gets_what_is_left_of_the_timeout() -> None:
    """One embryonic timeout for the header and the handshake (session_accept_fd())."""
    import ssl

    from herdsman.proxy.tlslayer import TlsLayer

    loop = asyncio.get_running_loop()
    tls = TlsLayer(Stream(), ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), loop, 5.0, lambda: None)
    tr = Transport()
    pl = ProxyLayer(tls, loop, 5.0, lambda: None, True, None, False)
    pl.connection_made(tr)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)  # time spent waiting for the header (not a synchronisation)
    pl.data_received(HEADER)
    assert tr.protocol is tls
    assert tls.timeout is not None
    assert 0 < tls.timeout <= 4.96
    assert tls.timer is not None  # its handshake runs on what was left
    tls.connection_lost(None)


def test_the_client_namespace_from_netns_tlvs() -> None:
    """``conn->proxy_netns``: the last NETNS TLV naming a namespace of the
    configuration, else the bind line's (none when the configuration names none)."""
    from herdsman.core.netns import STORE
    from herdsman.proxy.connect import proxy_netns

    header = pr.Header(10, netns=(b"a", b"b", b"zz"))
    face = ProxiedTransport(Transport(), {pr.HEADER_INFO: header})  # type: ignore[arg-type]
    saved = set(STORE.names)
    try:
        STORE.names.clear()
        assert proxy_netns(face, "bindns") == "bindns"
        STORE.names.update({"a", "b"})
        assert proxy_netns(face, "bindns") == "b"
        assert proxy_netns(Transport(), "bindns") == "bindns"  # type: ignore[arg-type]
        assert proxy_netns(None, None) is None
    finally:
        STORE.names.clear()
        STORE.names.update(saved)
