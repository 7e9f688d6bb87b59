"""Fetches and converters on stick tables (``stick_table.c``): ``sc_*``,
``sc0_*``..``sc2_*`` read the entries tracked by the session or the stream,
``src_*`` look the client's address up in a table, ``table_*`` convert a
key into one of its entry's counters.

A counter a table does not ``store`` makes the fetch fail; a key not in the
table reads 0 (``src_*``, ``table_*``), as in HAProxy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from herdsman.sample import args as A
from herdsman.sample import types as T
from herdsman.sample.args import Arg, ArgSpec
from herdsman.sample.registry import (
    USE_INTRN,
    USE_L4CLI,
    Compiler,
    ConvFn,
    Fn,
    conv,
    fetch,
)
from herdsman.sample.stick import DT, DT_CONN_CNT, IS_RATE, Entry, Table
from herdsman.sample.txn import Ref, Txn
from herdsman.sample.types import Value

MAX_SESS_STKCTR: Final = 3

Slot = tuple[Table, Entry | None, bool]  # table, entry, whether it is a look-up (not tracked)
Locate = Callable[[Txn], Slot | None]


def _locate(form: str, num: int, ref: Ref | None, create: bool) -> Locate:
    """Where a fetch finds its entry: a tracker (with an alternate table), or the
    client's address in a table (``src_*``)."""
    if form == "src":
        assert ref is not None

        def src(txn: Txn) -> Slot | None:
            table: Table | None = ref.target
            if table is None or txn.src is None:
                return None
            key = table.key_of(txn.src)
            if key is None:
                return None
            now = txn.now_ms()
            ts = table.get(key, now) if create else table.lookup(key, now)
            return table, ts, True

        return src

    if not 0 <= num < MAX_SESS_STKCTR:
        return lambda txn: None

    def sc(txn: Txn) -> Slot | None:
        ts = txn.tracked(num)
        if ts is None:
            return None
        if ref is not None and ref.target is not None:
            table: Table = ref.target
            if not table.same_keys(ts.table):
                return table, None, True
            return table, table.lookup(ts.key, txn.now_ms()), True
        return ts.table, ts, False

    return sc


# what a reading fetch shows: the stored counter, shifted right (kbytes_*)
_READ_AS: dict[str, tuple[str, int]] = {
    name: (name, 0)
    for name in (
        "bytes_in_rate",
        "bytes_out_rate",
        "conn_cnt",
        "conn_cur",
        "conn_rate",
        "gpc0_rate",
        "gpc1_rate",
        "http_err_cnt",
        "http_err_rate",
        "http_fail_cnt",
        "http_fail_rate",
        "http_req_cnt",
        "http_req_rate",
        "sess_cnt",
        "sess_rate",
    )
}
_READ_AS |= {
    "get_gpt0": ("gpt0", 0),
    "get_gpc0": ("gpc0", 0),
    "get_gpc1": ("gpc1", 0),
    "kbytes_in": ("bytes_in_cnt", 10),
    "kbytes_out": ("bytes_out_cnt", 10),
}


def _reader(name: str, shift: int = 0) -> Callable[[Table, Entry, int], int | None]:
    dt = DT[name]

    def read(table: Table, ts: Entry, now: int) -> int | None:
        value = table.read_dt(ts, dt, now)
        return None if value is None else value >> shift

    return read


_READERS: dict[str, Callable[[Table, Entry, int], int | None]] = {
    what: _reader(name, shift) for what, (name, shift) in _READ_AS.items()
}


def _inc(gpc: str) -> Callable[[Table, Entry, int], int | None]:
    cnt, rate = DT[gpc], DT[f"{gpc}_rate"]

    def inc(table: Table, ts: Entry, now: int) -> int | None:
        if not table.moves(cnt, rate):
            return 0
        value = 0
        if table.add(ts, rate, now):
            value = table.rate_curr(ts, rate)
        if table.add(ts, cnt, now):
            value = ts.cnt[table.pos[cnt]]
        table.touch(ts, now)
        return value

    return inc


def _clr(gpc: str) -> Callable[[Table, Entry, int], int | None]:
    cnt = DT[gpc]

    def clr(table: Table, ts: Entry, now: int) -> int | None:
        p = table.pos[cnt]
        if p < 0:
            return None
        value = ts.cnt[p]
        ts.cnt[p] = 0
        table.touch(ts, now)
        return value

    return clr


def _updt_conn_cnt(table: Table, ts: Entry, now: int) -> int | None:
    """``src_updt_conn_cnt``: one more connection counted now."""
    if not table.add(ts, DT_CONN_CNT, now):
        return None
    table.touch(ts, now)
    return ts.cnt[table.pos[DT_CONN_CNT]]


_WRITERS = {
    "inc_gpc0": _inc("gpc0"),
    "inc_gpc1": _inc("gpc1"),
    "clr_gpc0": _clr("gpc0"),
    "clr_gpc1": _clr("gpc1"),
    "updt_conn_cnt": _updt_conn_cnt,
}


def _counter_fetch(form: str, num: int, what: str) -> Callable[[list[Arg], Compiler], Fn]:
    read = _READERS.get(what) or _WRITERS[what]
    create = what in _WRITERS and form == "src"

    def build(args: list[Arg], c: Compiler) -> Fn:
        n = num
        rest = args
        if form == "sc_":
            n = int(args[0])
            rest = args[1:]
        pos = 1 if form == "sc_" else 0
        ref = c.ref(A.TAB, str(rest[0]), pos) if rest else None
        if form == "src" and ref is None:
            ref = c.ref(A.TAB, "", 0)
        counter = _READ_AS.get(what)
        if form != "src" and ref is None and counter is not None and 0 <= n < MAX_SESS_STKCTR:
            return _tracked_counter(n, *counter)
        locate = _locate(form if form == "src" else "sc", n, ref, create)

        def fn(txn: Txn) -> Value | None:
            found = locate(txn)
            if found is None:
                return None
            table, ts, _ = found
            if ts is None:
                return 0
            return read(table, ts, txn.now_ms())

        return fn

    return build


def _tracked_counter(num: int, name: str, shift: int) -> Fn:
    """``sc*_<counter>`` of a tracker's own table, the common case: ``_locate()``'s
    and the reader's work in one closure (the clock read for a rate only)."""
    dt = DT[name]
    rate = IS_RATE[dt]

    def fn(txn: Txn) -> Value | None:
        ts = txn.tracked(num)
        if ts is None:
            return None
        value = ts.table.read_dt(ts, dt, txn.now_ms() if rate else 0)
        return None if value is None else value >> shift

    return fn


def _tracked(form: str, num: int) -> Callable[[list[Arg], Compiler], Fn]:
    def build(args: list[Arg], c: Compiler) -> Fn:
        n = int(args[0]) if form == "sc_" else num
        rest = args[1:] if form == "sc_" else args
        ref = c.ref(A.TAB, str(rest[0]), 1 if form == "sc_" else 0) if rest else None
        locate = _locate("sc", n, ref, False)
        return lambda txn: locate(txn) is not None

    return build


def _trackers(form: str, num: int) -> Callable[[list[Arg], Compiler], Fn]:
    def build(args: list[Arg], c: Compiler) -> Fn:
        n = int(args[0]) if form == "sc_" else num
        rest = args[1:] if form == "sc_" else args
        ref = c.ref(A.TAB, str(rest[0]), 1 if form == "sc_" else 0) if rest else None
        locate = _locate("sc", n, ref, False)

        def fn(txn: Txn) -> Value | None:
            found = locate(txn)
            if found is None:
                return None
            _, ts, _ = found
            return 0 if ts is None else ts.ref_cnt

        return fn

    return build


_COUNTERS = (
    *_READERS,
    "inc_gpc0",
    "inc_gpc1",
    "clr_gpc0",
    "clr_gpc1",
)
_L4CLI_COUNTERS = frozenset({"kbytes_in", "kbytes_out"})


def _register() -> None:
    for what in _COUNTERS:
        use = USE_L4CLI if what in _L4CLI_COUNTERS else USE_INTRN
        fetch(f"sc_{what}", T.SINT, use, ArgSpec((A.SINT, A.TAB), 1))(
            _counter_fetch("sc_", -1, what)
        )
        for n in range(MAX_SESS_STKCTR):
            fetch(f"sc{n}_{what}", T.SINT, use, ArgSpec((A.TAB,), 0))(_counter_fetch("sc", n, what))
        fetch(f"src_{what}", T.SINT, USE_L4CLI, ArgSpec((A.TAB,), 1))(
            _counter_fetch("src", 0, what)
        )
    fetch("src_updt_conn_cnt", T.SINT, USE_L4CLI, ArgSpec((A.TAB,), 1))(
        _counter_fetch("src", 0, "updt_conn_cnt")
    )
    fetch("sc_tracked", T.BOOL, USE_INTRN, ArgSpec((A.SINT, A.TAB), 1))(_tracked("sc_", -1))
    fetch("sc_trackers", T.SINT, USE_INTRN, ArgSpec((A.SINT, A.TAB), 1))(_trackers("sc_", -1))
    for n in range(MAX_SESS_STKCTR):
        fetch(f"sc{n}_tracked", T.BOOL, USE_INTRN, ArgSpec((A.TAB,), 0))(_tracked("sc", n))
        fetch(f"sc{n}_trackers", T.SINT, USE_INTRN, ArgSpec((A.TAB,), 0))(_trackers("sc", n))


_register()

_TAB1 = ArgSpec((A.TAB,), 1)


@fetch("table_cnt", T.SINT, USE_INTRN, _TAB1)
def _table_cnt(args: list[Arg], c: Compiler) -> Fn:
    ref = c.ref(A.TAB, str(args[0]), 0)
    return lambda txn: ref.target.count(txn.now_ms())


@fetch("table_avl", T.SINT, USE_INTRN, _TAB1)
def _table_avl(args: list[Arg], c: Compiler) -> Fn:
    ref = c.ref(A.TAB, str(args[0]), 0)
    return lambda txn: ref.target.size - ref.target.count(txn.now_ms())


# -- table_* converters --------------------------------------------------------------------


def _table_conv(what: str) -> Callable[[list[Arg], Compiler], ConvFn]:
    def build(args: list[Arg], c: Compiler) -> ConvFn:
        ref = c.ref(A.TAB, str(args[0]), 0)

        def fn(v: Value, txn: Txn) -> Value | None:
            table: Table = ref.target
            key = table.key_of(v)
            if key is None:
                return None
            now = txn.now_ms()
            ts = table.lookup(key, now)
            if ts is None:
                return 0
            if what == "trackers":
                return ts.ref_cnt
            if what == "server_id":
                return table.read(ts, "server_id", now)
            if what == "expire":
                return max(ts.expire - now, 0) if table.expire else None
            if what == "idle":
                return now - (ts.expire - table.expire) if table.expire else None
            if what in ("kbytes_in", "kbytes_out"):
                value = table.read(ts, f"bytes_{what[7:]}_cnt", now)
                return None if value is None else value >> 10
            return table.read(ts, what, now)

        return fn

    return build


for _what in (
    "bytes_in_rate",
    "bytes_out_rate",
    "conn_cnt",
    "conn_cur",
    "conn_rate",
    "gpt0",
    "gpc0",
    "gpc0_rate",
    "gpc1",
    "gpc1_rate",
    "http_err_cnt",
    "http_err_rate",
    "http_fail_cnt",
    "http_fail_rate",
    "http_req_cnt",
    "http_req_rate",
    "kbytes_in",
    "kbytes_out",
    "server_id",
    "sess_cnt",
    "sess_rate",
    "trackers",
):
    conv(f"table_{_what}", T.ANY, T.SINT, _TAB1)(_table_conv(_what))


@conv("in_table", T.ANY, T.BOOL, _TAB1)
def _in_table(args: list[Arg], c: Compiler) -> ConvFn:
    ref = c.ref(A.TAB, str(args[0]), 0)

    def fn(v: Value, txn: Txn) -> Value | None:
        table: Table = ref.target
        key = table.key_of(v)
        if key is None:
            return None
        return table.lookup(key, txn.now_ms()) is not None

    return fn
