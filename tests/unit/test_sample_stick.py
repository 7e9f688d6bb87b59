"""Stick tables on virtual time (``sample/stick.py``, ``sample/f_stick.py``)."""

from __future__ import annotations

from ipaddress import IPv4Address

from herdsman.sample import stick
from herdsman.sample import types as T
from herdsman.sample.expr import parse_expr
from herdsman.sample.registry import Compiler
from herdsman.sample.stick import (
    DATA_TYPES,
    DT,
    DT_BYTES_IN_CNT,
    DT_BYTES_IN_RATE,
    DT_HTTP_REQ_CNT,
    DT_HTTP_REQ_RATE,
    FreqCtr,
    Table,
    TableSpec,
)
from herdsman.sample.txn import Txn


def test_freq_ctr_period() -> None:
    """``update_freq_ctr_period()``/``read_freq_ctr_period()``: the past period
    weighs by what remains of the current one."""
    ctr = FreqCtr()
    for _ in range(10):
        ctr.add(1000, 10_000)
    assert ctr.read(1000, 10_000) == 10
    assert ctr.read(10_999, 10_000) == 10
    ctr.add(11_000, 10_000)  # a new period: 10 become the past
    assert ctr.read(11_000, 10_000) == 11  # 10 * 10000 + 1 * 10000 over 10000
    assert ctr.read(16_000, 10_000) == 6  # half the past period remains
    assert ctr.read(40_000, 10_000) == 0
    one = FreqCtr()
    one.add(0, 1000)
    assert one.read(1500, 1000) == 1  # flapping correction: a single event stays 1


def _table(**kw: object) -> Table:
    spec = TableSpec("t", "ip", 4, 3, store={"http_req_rate": 10_000, "gpc0": 0, "conn_cur": 0})
    for k, v in kw.items():
        setattr(spec, k, v)
    return Table(spec)


def _ip(text: str) -> int:
    return int(IPv4Address(text))


def test_data_type_numbers() -> None:
    """The ``DT_*`` constants are the data types' places in ``DATA_TYPES``."""
    for name in DATA_TYPES:
        const = getattr(stick, f"DT_{name.upper()}", None)
        assert const in (None, DT[name]), name


def test_keys() -> None:
    assert _table().key_of(b"10.0.0.1") == 0x0A000001  # an address is its integer
    assert _table().key_of(IPv4Address("10.0.0.1")) == 0x0A000001
    assert _table().key_of(T.Bin(b"x")) is None  # BIN does not cast to an address
    s = Table(TableSpec("s", "string", 4, 10))
    assert s.key_of(b"abcdef") == b"abc"  # len 3 (+1 for the NUL)
    b = Table(TableSpec("b", "binary", 4, 10))
    assert b.key_of(b"ab") == b"ab\0\0"
    i = Table(TableSpec("i", "integer", 4, 10))
    assert i.key_of(-1) == 0xFFFFFFFF


def test_expiry_and_trackers() -> None:
    t = _table(expire=5000)
    ts = t.get(_ip("1.1.1.1"), 0)
    assert ts is not None
    assert t.lookup(ts.key, 4999) is ts
    assert t.lookup(ts.key, 5000) is None  # expired, gone
    ts = t.get(_ip("1.1.1.1"), 6000)
    assert ts is not None
    t.start_counters(ts, 6000)  # tracked: never expires while referenced
    assert t.lookup(ts.key, 60_000) is ts
    assert t.read(ts, "conn_cur", 60_000) == 1
    t.stop_counters(ts, lambda: 60_000)
    assert t.read(ts, "conn_cur", 60_000) == 0
    assert t.lookup(ts.key, 60_000) is ts  # touched when released
    assert t.lookup(ts.key, 65_000) is None


def test_full_table_purges_oldest_unless_nopurge() -> None:
    t = _table(expire=100_000)
    for n in range(3):
        assert t.get(_ip(f"1.1.1.{n}"), n) is not None
    assert t.get(_ip("2.2.2.2"), 10) is not None  # 1.1.1.0 made room
    assert t.lookup(_ip("1.1.1.0"), 10) is None
    np = _table(nopurge=True)
    for n in range(3):
        np.get(_ip(f"1.1.1.{n}"), 0)
    assert np.get(_ip("2.2.2.2"), 0) is None


def test_counter_fetches() -> None:
    t = _table()
    ts = t.get(_ip("10.0.0.1"), 0)
    assert ts is not None
    t.inc_pair(ts, DT_HTTP_REQ_CNT, DT_HTTP_REQ_RATE, 0)
    t.inc_pair(ts, DT_HTTP_REQ_CNT, DT_HTTP_REQ_RATE, 0)
    txn = Txn()
    txn.src = IPv4Address("10.0.0.1")
    txn.sc = [ts, None, None]
    c = Compiler(proxy="t")
    rate = parse_expr("sc0_http_req_rate", c)[0]
    rate_any = parse_expr("sc_http_req_rate(0)", c)[0]
    cnt = parse_expr("sc0_http_req_cnt", c)[0]  # not stored: the fetch fails
    none = parse_expr("sc1_http_req_rate", c)[0]  # not tracked: fails
    inc = parse_expr("sc0_inc_gpc0", c)[0]
    src_rate = parse_expr("src_http_req_rate(t)", c)[0]
    conv = parse_expr("src,table_http_req_rate(t)", c)[0]
    for ref in c.refs:
        ref.target = t
    assert rate.one(txn) == 2
    assert rate_any.one(txn) == 2
    assert cnt.one(txn) is None
    assert none.one(txn) is None
    assert inc.one(txn) == 1
    assert inc.one(txn) == 2
    assert src_rate.one(txn) == 2
    assert conv.one(txn) == 2
    txn.src = IPv4Address("10.9.9.9")
    assert src_rate.one(txn) == 0  # not in the table: 0
    assert conv.one(txn) == 0


def test_tracked_counter_reads() -> None:
    """``sc<n>_*`` read the stream's tracker, else the session's; a counter the
    table does not store fails; ``kbytes_*`` are the byte counters >> 10."""
    spec = TableSpec("t", "ip", 4, 3, store={"http_req_rate": 10_000, "bytes_in_cnt": 0})
    t = Table(spec)
    ts = t.get(_ip("10.0.0.1"), 0)
    assert ts is not None
    t.inc_pair(ts, DT_HTTP_REQ_CNT, DT_HTTP_REQ_RATE, 0)
    t.inc_pair(ts, DT_BYTES_IN_CNT, DT_BYTES_IN_RATE, 0, 5000)
    txn = Txn()
    c = Compiler(proxy="t")
    rate1 = parse_expr("sc1_http_req_rate", c)[0]
    kbytes = parse_expr("sc_kbytes_in(1)", c)[0]
    bytes_rate = parse_expr("sc1_bytes_in_rate", c)[0]  # not stored
    far = parse_expr("sc_http_req_rate(7)", c)[0]  # no such counter
    assert rate1.one(txn) is None  # nothing tracked
    txn.sess_sc = [None, ts, None]
    assert rate1.one(txn) == 1
    assert kbytes.one(txn) == 4
    assert bytes_rate.one(txn) is None
    assert far.one(txn) is None
    txn.sc = [None, None, None]  # the stream tracks nothing itself: the session's
    assert rate1.one(txn) == 1
