"""Tracking counters on virtual time (``rules/track.py``): what a stream's
tracker counts and leaves behind when the stream ends, with the stream's
slot list reused by the next one."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address

from herdsman.rules.track import (
    count_bytes,
    count_http_error,
    counts_bytes,
    end_session,
    end_stream,
    track_action,
)
from herdsman.sample import args as A
from herdsman.sample.expr import parse_expr
from herdsman.sample.registry import Compiler
from herdsman.sample.stick import DT_HTTP_REQ_CNT, Table, TableSpec
from herdsman.sample.txn import Ref, Txn


class Clock:
    def __init__(self) -> None:
        self.ms = 1000
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.ms


def _setup(store: dict[str, int], expire: int = 0) -> tuple[Table, Txn, Clock]:
    table = Table(TableSpec("t", "ip", 4, 10, expire=expire, store=store))
    txn = Txn()
    clock = Clock()
    txn.now_ms = clock
    return table, txn, clock


def _track(table: Table) -> Callable[[Txn], int]:
    ref = Ref(A.TAB, "t", None)
    ref.target = table
    return track_action(0, parse_expr("src")[0], ref, response=False)


def test_streams_of_a_session() -> None:
    """Each request counts once; the entry is referenced while a stream tracks
    it; the next stream reuses the slots of the previous one."""
    table, txn, clock = _setup({"http_req_cnt": 0, "conn_cur": 0}, expire=5000)
    act = _track(table)
    txn.src = IPv4Address("10.0.0.1")
    for n in (1, 2):
        txn.new_stream()
        txn.method = b"GET"
        act(txn)
        ts = txn.sc[0] if txn.sc is not None else None
        assert ts is not None
        assert ts.ref_cnt == 1
        assert table.read(ts, "http_req_cnt", clock.ms) == n
        assert table.read(ts, "conn_cur", clock.ms) == 1
        slots = txn.sc
        end_stream(txn)
        assert txn.sc is None
        assert txn.sc_spare is slots
        assert slots == [None, None, None]
        assert ts.ref_cnt == 0
        assert table.read(ts, "conn_cur", clock.ms) == 0
        assert ts.expire == clock.ms + 5000  # touched when conn_cur dropped
    assert list(table.entries) == [0x0A000001]


def test_end_without_conn_cur_reads_no_clock() -> None:
    """Without ``conn_cur`` the end of a stream reads no clock; an entry left
    unreferenced past its expiry is gone for every reader."""
    table, txn, clock = _setup({"http_req_rate": 10_000}, expire=5000)
    act = _track(table)
    txn.src = IPv4Address("10.0.0.2")
    txn.method = b"GET"
    act(txn)
    ts = txn.sc[0] if txn.sc is not None else None
    assert ts is not None
    clock.ms += 6000  # the stream outlived the expiry: still referenced
    assert table.lookup(0x0A000002, clock.ms) is ts
    reads = clock.reads
    count_http_error(txn)  # the table stores no error counter: no clock
    end_session(txn)
    assert clock.reads == reads
    assert table.lookup(0x0A000002, clock.ms) is None
    assert table.count(clock.ms) == 0


def test_address_keys() -> None:
    """Every address object of the same address is the same key; an IPv4 one
    in an ``ipv6`` table is its mapped form."""
    table = Table(TableSpec("t", "ip", 4, 10))
    assert table.key_of(IPv4Address("10.0.0.1")) == 0x0A000001
    assert table.key_of(IPv4Address("10.0.0.2")) == 0x0A000002
    assert table.key_of(IPv4Address("10.0.0.1")) == 0x0A000001
    assert table.key_of(IPv6Address("::1")) is None
    assert table.key_of(b"10.0.0.3") == 0x0A000003
    v6 = Table(TableSpec("t6", "ipv6", 16, 10))
    assert v6.key_of(IPv4Address("10.0.0.1")) == 0xFFFF0A000001


def test_alternate_table_of_another_key_type() -> None:
    """``sc0_http_req_cnt(other)``: the tracked key looked up in another table.
    herdsman keeps key types apart (an integer table never holds an address's
    entry), as it did with address objects as keys; HAProxy compares the raw
    key bytes (``stktable_lookup()``), a difference only such a configuration
    shows."""
    table, txn, _ = _setup({"http_req_cnt": 0})
    ints = Table(TableSpec("i", "integer", 4, 10, store={"http_req_cnt": 0}))
    other = ints.get(0x0A000001, 0)
    assert other is not None
    ints.add(other, DT_HTTP_REQ_CNT, 0, 5)
    txn.src = IPv4Address("10.0.0.1")
    txn.method = b"GET"
    _track(table)(txn)
    c = Compiler(proxy="t")
    alt = parse_expr("sc0_http_req_cnt(i)", c)[0]
    own = parse_expr("sc0_http_req_cnt", c)[0]
    for ref in c.refs:
        ref.target = ints
    assert alt.one(txn) == 0
    assert own.one(txn) == 1


def test_stream_bytes_per_slot() -> None:
    """``stream_process_counters()``: each slot's stream tracker counts the bytes,
    else the session's; a table without bytes counters wants none and reads no
    clock; the entry lives ``expire`` more ms (``stktable_touch_local()``)."""
    store = {"bytes_in_cnt": 0, "bytes_out_cnt": 0, "bytes_out_rate": 10_000}
    table, txn, clock = _setup(store, expire=5000)
    plain = Table(TableSpec("p", "ip", 4, 10, store={"http_req_cnt": 0}))
    assert table.counts_bytes
    assert not plain.counts_bytes
    a = table.get(1, clock.ms)
    b = table.get(2, clock.ms)
    c = plain.get(1, clock.ms)
    assert a is not None
    assert b is not None
    assert c is not None
    assert not counts_bytes(txn)
    txn.sess_sc = [a, c, None]
    txn.sc = [None, b, None]
    assert counts_bytes(txn)
    clock.ms = 2000
    count_bytes(txn, 100, 7)
    assert (table.read(a, "bytes_in_cnt", 0), table.read(a, "bytes_out_cnt", 0)) == (100, 7)
    assert table.read(a, "bytes_out_rate", clock.ms) == 7
    assert a.expire == 7000
    assert table.read(b, "bytes_in_cnt", 0) == 100  # slot 1: the stream's, not the session's
    txn.sess_sc = [None, c, None]
    txn.sc = None
    assert not counts_bytes(txn)
    reads = clock.reads
    count_bytes(txn, 100, 7)
    assert clock.reads == reads
