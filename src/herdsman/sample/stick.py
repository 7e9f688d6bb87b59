"""Stick tables (``src/stick_table.c``): entries keyed by a sample, holding the
counters a table ``store``s, and the tracking counters (``sc0``..``sc2``)
that rules attach to a session or a stream.

Rule 1: the clock is the caller's. Every operation takes ``now`` (ms, the
runtime's monotonic clock), or the clock where it seldom needs to read it
(``stop_counters()``): rates (``freq_ctr`` over a period) and expiry are pure
functions of it, so tests run on virtual time.

Rule 2: an entry expires ``expire`` ms after it was last touched (an update
or a new tracker, ``stktable_touch_local()``) unless a tracker holds it
(``ref_cnt``); it then disappears at its next lookup (or when a full table
makes room), which is what HAProxy's expiry task makes observable. A full
table makes room by dropping the oldest unreferenced entries
(``__stktable_trash_oldest()``), unless ``nopurge`` is set: then a new key is
not stored (tracking it fails).

Rule 3: counters change only through the functions here, named after
HAProxy's (``start_counters``, ``inc_pair``...), so the data path says
*what happened* and this module decides which stored counters move. Data
types are numbers (``DT_*``), and a table decides once where an entry keeps
each one it stores (``Table.pos``): counting is list indexing, no name look-up.

Keys: an ``ip``/``ipv6`` table's are the addresses' integer values, an
``integer`` table's ints, ``string``/``binary`` ones bytes (``key_of()``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Final

from herdsman.sample import types as T
from herdsman.sample.types import Value

# stktable_data_types[]: name -> (kind, takes a period)
DATA_TYPES: Final = {
    "server_id": ("sint", False),
    "gpt0": ("uint", False),
    "gpc0": ("uint", False),
    "gpc0_rate": ("frqp", True),
    "conn_cnt": ("uint", False),
    "conn_rate": ("frqp", True),
    "conn_cur": ("uint", False),
    "sess_cnt": ("uint", False),
    "sess_rate": ("frqp", True),
    "http_req_cnt": ("uint", False),
    "http_req_rate": ("frqp", True),
    "http_err_cnt": ("uint", False),
    "http_err_rate": ("frqp", True),
    "bytes_in_cnt": ("ull", False),
    "bytes_in_rate": ("frqp", True),
    "bytes_out_cnt": ("ull", False),
    "bytes_out_rate": ("frqp", True),
    "gpc1": ("uint", False),
    "gpc1_rate": ("frqp", True),
    "server_key": ("dict", False),
    "http_fail_cnt": ("uint", False),
    "http_fail_rate": ("frqp", True),
    "gpt": ("uint", False),
    "gpc": ("uint", False),
    "gpc_rate": ("frqp", True),
}
# the ones herdsman stores (the arrays and server_key are refused at start-up)
SUPPORTED_DATA: Final = frozenset(
    name for name in DATA_TYPES if name not in ("gpt", "gpc", "gpc_rate", "server_key")
)
# the data types' numbers (HAProxy's STKTABLE_DT_*): DATA_TYPES' order
DT: Final = {name: dt for dt, name in enumerate(DATA_TYPES)}
IS_RATE: Final = tuple(kind == "frqp" for kind, _ in DATA_TYPES.values())
MASK: Final = tuple(
    0xFFFFFFFFFFFFFFFF if kind == "ull" else 0xFFFFFFFF for kind, _ in DATA_TYPES.values()
)
DT_SERVER_ID: Final = 0
DT_GPT0: Final = 1
DT_GPC0: Final = 2
DT_GPC0_RATE: Final = 3
DT_CONN_CNT: Final = 4
DT_CONN_RATE: Final = 5
DT_CONN_CUR: Final = 6
DT_SESS_CNT: Final = 7
DT_SESS_RATE: Final = 8
DT_HTTP_REQ_CNT: Final = 9
DT_HTTP_REQ_RATE: Final = 10
DT_HTTP_ERR_CNT: Final = 11
DT_HTTP_ERR_RATE: Final = 12
DT_BYTES_IN_CNT: Final = 13
DT_BYTES_IN_RATE: Final = 14
DT_BYTES_OUT_CNT: Final = 15
DT_BYTES_OUT_RATE: Final = 16
DT_GPC1: Final = 17
DT_GPC1_RATE: Final = 18
DT_HTTP_FAIL_CNT: Final = 20
DT_HTTP_FAIL_RATE: Final = 21
# stktable_types[]: type keyword -> (sample type, default key size, custom size allowed)
KEY_TYPES: Final = {
    "integer": (T.SINT, 4, False),
    "ip": (T.IPV4, 4, False),
    "ipv6": (T.IPV6, 16, False),
    "string": (T.STR, 32, True),
    "binary": (T.BIN, 32, True),
}


_NO_ADDR: Final = object()


class FreqCtr:
    """``struct freq_ctr`` over a period of ``period`` ms (``update_freq_ctr_period()``,
    ``read_freq_ctr_period()``)."""

    __slots__ = ("tick", "curr", "prev")

    def __init__(self) -> None:
        # HAProxy's ticks are wall-clock milliseconds: a new counter's tick 0 is
        # always periods ago, so its first event starts a period at "now"
        self.tick = -(1 << 62)
        self.curr = 0
        self.prev = 0

    def add(self, now: int, period: int, inc: int = 1) -> int:
        if now - self.tick < period:
            self.curr += inc
            return self.curr
        self.prev, self.curr = self.curr, inc
        tick = self.tick + period
        if now - tick >= period:  # two periods or more went by
            self.prev = 0
            tick = now
        self.tick = tick & ~1  # the low bit is HAProxy's rotation lock
        return inc

    def total(self, now: int, period: int) -> int:
        """``freq_ctr_total(ctr, period, -1)``."""
        curr, past = self.curr, self.prev
        remain = self.tick + period - now
        if remain < 0:
            remain += period
            past = curr if remain >= 0 else 0
            curr = 0
        if not curr and past <= 1:  # flapping correction at very low rates
            return past * period
        return past * remain + curr * period

    def read(self, now: int, period: int) -> int:
        return self.total(now, period) // period if period else 0


@dataclass
class TableSpec:
    """A ``stick-table`` line, as parsed: what the table is, not its contents."""

    name: str
    key: str  # integer, ip, ipv6, string, binary
    key_size: int
    size: int
    expire: int = 0  # ms, 0: never
    nopurge: bool = False
    store: dict[str, int] = field(default_factory=dict)  # data type -> period (ms) or 0
    file: str = ""
    line: int = 0

    @property
    def smp_type(self) -> int:
        return KEY_TYPES[self.key][0]


class Entry:
    """``struct stksess``: one key's counters, at the places its table gives each
    stored data type (``Table.pos``), and the table it belongs to (a tracking
    counter is the entry itself)."""

    __slots__ = ("key", "table", "cnt", "rate", "expire", "ref_cnt")

    def __init__(self, key: object, table: Table) -> None:
        self.key = key
        self.table = table
        self.cnt = [0] * table.n_cnt
        # every stored rate's counter from the start: a new one reads as one never
        # counted (0), as a missing one did
        self.rate = [FreqCtr() for _ in range(table.n_rate)]
        self.expire = 0
        self.ref_cnt = 0


class Table:
    """A stick table at run time."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.size = spec.size
        self.expire = spec.expire
        self.store = spec.store
        self.entries: dict[object, Entry] = {}
        self.smp_type = spec.smp_type
        self.key_size = spec.key_size
        # decided once, as HAProxy's data_ofs[]: where each data type (DT_*) is in
        # an entry (-1: not stored), its period and its width
        self.pos = [-1] * len(DATA_TYPES)
        self.period = [0] * len(DATA_TYPES)
        self.n_cnt = self.n_rate = 0
        for name, period in self.store.items():
            dt = DT[name]
            if IS_RATE[dt]:
                self.pos[dt], self.period[dt] = self.n_rate, period
                self.n_rate += 1
            else:
                self.pos[dt] = self.n_cnt
                self.n_cnt += 1
        self._on_start = [
            dt for dt in (DT_CONN_CUR, DT_CONN_CNT, DT_CONN_RATE) if self.pos[dt] >= 0
        ]
        # whether a stream tracking here counts its bytes at its end (its log's
        # %U and %B, which nobody computes otherwise)
        self.counts_bytes = any(
            self.pos[dt] >= 0
            for dt in (DT_BYTES_IN_CNT, DT_BYTES_IN_RATE, DT_BYTES_OUT_CNT, DT_BYTES_OUT_RATE)
        )
        # address keys are their integer value (hashed in C, unlike an
        # ipaddress object); the last address converted is remembered, as a
        # connection's requests all bring the same one
        self.native = {T.IPV4: IPv4Address, T.IPV6: IPv6Address}.get(self.smp_type)
        self.int_keys = self.smp_type in (T.SINT, T.IPV4, T.IPV6)
        self._addr: object = _NO_ADDR
        self._addr_key = 0

    # -- keys ----------------------------------------------------------------------------

    def key_of(self, value: Value) -> object | None:
        """``smp_to_stkey()``: the sample cast to the key type, sized; None when
        the sample does not cast."""
        if value is self._addr:
            return self._addr_key
        t = self.smp_type
        if type(value) is not self.native:
            v = T.cast(value, t)
            if v is None:
                return None
            if t == T.SINT:
                return int(v) & 0xFFFFFFFF
            if t == T.STR:
                data: bytes = v  # type: ignore[assignment]
                data = data.split(b"\0", 1)[0]
                return bytes(data[: self.key_size - 1])
            if t == T.BIN:
                blob: bytes = v  # type: ignore[assignment]
                blob = blob[: self.key_size]
                return bytes(blob) + b"\0" * (self.key_size - len(blob))
            value = v
        key = int(value)
        self._addr, self._addr_key = value, key
        return key

    def same_keys(self, other: Table) -> bool:
        """Whether a key of ``other`` can be one of this table (an integer is not
        an address, nor an IPv4 address an IPv6 one)."""
        return self.smp_type == other.smp_type or not (self.int_keys or other.int_keys)

    # -- entries -------------------------------------------------------------------------

    def lookup(self, key: object, now: int) -> Entry | None:
        """``stktable_lookup_key()``: an entry that has not expired."""
        ts = self.entries.get(key)
        if ts is not None and ts.ref_cnt == 0 and self.expire and ts.expire <= now:
            del self.entries[key]
            return None
        return ts

    def get(self, key: object, now: int) -> Entry | None:
        """``stktable_get_entry()``: the entry, created if needed (None when the
        table is full and cannot purge)."""
        ts = self.entries.get(key)  # lookup(), inlined
        if ts is not None:
            if ts.ref_cnt or not self.expire or ts.expire > now:
                return ts
            del self.entries[key]
        if len(self.entries) >= self.size:
            self.expire_all(now)
            if len(self.entries) >= self.size and (
                self.spec.nopurge or not self._trash_oldest((self.size >> 8) + 1)
            ):
                return None
        ts = Entry(key, self)
        if self.expire:
            ts.expire = now + self.expire
        self.entries[key] = ts
        return ts

    def _trash_oldest(self, count: int) -> int:
        """Drop up to ``count`` unreferenced entries, those expiring first."""
        free = sorted(
            (ts for ts in self.entries.values() if ts.ref_cnt == 0), key=lambda ts: ts.expire
        )[:count]
        for ts in free:
            del self.entries[ts.key]
        return len(free)

    def expire_all(self, now: int) -> None:
        if not self.expire:
            return
        gone = [k for k, ts in self.entries.items() if ts.ref_cnt == 0 and ts.expire <= now]
        for k in gone:
            del self.entries[k]

    def touch(self, ts: Entry, now: int) -> None:
        """``stktable_touch_local()``: the entry lives ``expire`` more ms."""
        if self.expire:
            ts.expire = now + self.expire

    def count(self, now: int) -> int:
        self.expire_all(now)
        return len(self.entries)

    # -- counters -----------------------------------------------------------------------

    def read(self, ts: Entry, name: str, now: int) -> int | None:
        """A stored counter's value (a rate over its period), None when not stored."""
        dt = DT.get(name)
        return None if dt is None else self.read_dt(ts, dt, now)

    def read_dt(self, ts: Entry, dt: int, now: int) -> int | None:
        """``read()`` of the data type ``dt`` (``now`` matters for rates only)."""
        p = self.pos[dt]
        if p < 0:
            return None
        if IS_RATE[dt]:
            period = self.period[dt]
            return ts.rate[p].total(now, period) // period if period else 0  # FreqCtr.read()
        return ts.cnt[p]

    def add(self, ts: Entry, dt: int, now: int, inc: int = 1) -> bool:
        """Count ``inc`` events on a stored counter; False when it is not stored."""
        p = self.pos[dt]
        if p < 0:
            return False
        if IS_RATE[dt]:
            ts.rate[p].add(now, self.period[dt], inc)
        else:
            ts.cnt[p] = (ts.cnt[p] + inc) & MASK[dt]
        return True

    def set(self, ts: Entry, name: str, value: int) -> bool:
        dt = DT.get(name)
        if dt is None or IS_RATE[dt] or self.pos[dt] < 0:
            return False
        ts.cnt[self.pos[dt]] = value
        return True

    def rate_curr(self, ts: Entry, dt: int) -> int:
        p = self.pos[dt]
        return ts.rate[p].curr if p >= 0 else 0

    def start_counters(self, ts: Entry, now: int) -> None:
        """``stream_start_counters()``: a new tracker on ``ts``."""
        ts.ref_cnt += 1
        for dt in self._on_start:  # conn_cur, conn_cnt, conn_rate: those stored
            self.add(ts, dt, now)
        if self.expire:  # touch()
            ts.expire = now + self.expire

    def stop_counters(self, ts: Entry, clock: Callable[[], int]) -> None:
        """``stream_store_counters()``: the tracker ends. The clock is read only to
        touch an entry whose ``conn_cur`` drops; an entry left unreferenced and
        expired stays until a look-up or a full table drops it (HAProxy's expiry
        task does it later), which no one can tell apart from dropping it now."""
        p = self.pos[DT_CONN_CUR]
        if p >= 0 and ts.cnt[p] > 0:
            ts.cnt[p] -= 1
            if self.expire:  # touch()
                ts.expire = clock() + self.expire
        if ts.ref_cnt > 0:  # stktable_release()
            ts.ref_cnt -= 1

    def moves(self, cnt: int, rate: int) -> bool:
        """Whether ``inc_pair(.., cnt, rate, ..)`` changes anything here."""
        return self.pos[cnt] >= 0 or self.pos[rate] >= 0

    def inc_pair(self, ts: Entry, cnt: int, rate: int, now: int, inc: int = 1) -> None:
        """One of HAProxy's paired counters (``stkctr_inc_http_req_ctr()``...):
        the data types ``cnt`` and ``rate`` (DT_*)."""
        r = self.pos[rate]
        if r >= 0:
            ts.rate[r].add(now, self.period[rate], inc)
        c = self.pos[cnt]
        if c >= 0:
            ts.cnt[c] = (ts.cnt[c] + inc) & MASK[cnt]
        elif r < 0:
            return
        if self.expire:  # touch()
            ts.expire = now + self.expire
