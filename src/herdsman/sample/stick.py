"""Stick tables (``src/stick_table.c``): entries keyed by a sample, holding the
counters a table ``store``s, and the tracking counters (``sc0``..``sc2``)
that rules attach to a session or a stream.

Rule 1: the clock is the caller's. Every operation takes ``now`` (ms, the
runtime's monotonic clock): rates (``freq_ctr`` over a period) and expiry
are pure functions of it, so tests run on virtual time.

Rule 2: an entry expires ``expire`` ms after it was last touched (an update
or a new tracker, ``stktable_touch_local()``) unless a tracker holds it
(``ref_cnt``); it then disappears at its next lookup, which is what
HAProxy's expiry task makes observable. A full table makes room by dropping
the oldest unreferenced entries (``__stktable_trash_oldest()``), unless
``nopurge`` is set: then a new key is not stored (tracking it fails).

Rule 3: counters change only through the functions here, named after
HAProxy's (``start_counters``, ``inc_http_req``...), so the data path says
*what happened* and this module decides which stored counters move.
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
# stktable_types[]: type keyword -> (sample type, default key size, custom size allowed)
KEY_TYPES: Final = {
    "integer": (T.SINT, 4, False),
    "ip": (T.IPV4, 4, False),
    "ipv6": (T.IPV6, 16, False),
    "string": (T.STR, 32, True),
    "binary": (T.BIN, 32, True),
}


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
    """``struct stksess``: one key's counters."""

    __slots__ = ("key", "data", "expire", "ref_cnt")

    def __init__(self, key: object) -> None:
        self.key = key
        self.data: dict[str, int | FreqCtr] = {}
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
        # decided once: which stored counters are rates, 64-bit, moved by a new tracker
        self._rates = frozenset(n for n in self.store if DATA_TYPES[n][0] == "frqp")
        self._ull = frozenset(n for n in self.store if DATA_TYPES[n][0] == "ull")
        self._on_start = [n for n in ("conn_cur", "conn_cnt", "conn_rate") if n in self.store]
        # the sample type a key of this table is as it comes (an address fetch)
        self.native = {T.IPV4: IPv4Address, T.IPV6: IPv6Address}.get(self.smp_type)

    # -- keys ----------------------------------------------------------------------------

    def key_of(self, value: Value) -> object | None:
        """``smp_to_stkey()``: the sample cast to the key type, sized; None when
        the sample does not cast."""
        if type(value) is self.native:
            return value
        t = self.smp_type
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
        return v

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
        ts = Entry(key)
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

    def release(self, ts: Entry, now: int) -> None:
        """A tracker lets go of the entry (``stktable_release()``)."""
        if ts.ref_cnt > 0:
            ts.ref_cnt -= 1
        if ts.ref_cnt == 0 and self.expire and ts.expire <= now:
            self.entries.pop(ts.key, None)

    def count(self, now: int) -> int:
        self.expire_all(now)
        return len(self.entries)

    # -- counters -----------------------------------------------------------------------

    def read(self, ts: Entry, name: str, now: int) -> int | None:
        """A stored counter's value (a rate over its period), None when not stored."""
        period = self.store.get(name)
        if period is None:
            return None
        value = ts.data.get(name, 0)
        if isinstance(value, FreqCtr):
            return value.total(now, period) // period if period else 0  # FreqCtr.read()
        if name in self._rates:
            return 0
        return value

    def add(self, ts: Entry, name: str, now: int, inc: int = 1) -> bool:
        """Count ``inc`` events on a stored counter; False when it is not stored."""
        period = self.store.get(name)
        if period is None:
            return False
        if name in self._rates:
            ctr = ts.data.get(name)
            if not isinstance(ctr, FreqCtr):
                ctr = ts.data[name] = FreqCtr()
            ctr.add(now, period, inc)
        else:
            old = ts.data.get(name, 0)
            assert isinstance(old, int)
            bits = 0xFFFFFFFFFFFFFFFF if name in self._ull else 0xFFFFFFFF
            ts.data[name] = (old + inc) & bits
        return True

    def set(self, ts: Entry, name: str, value: int) -> bool:
        if name not in self.store:
            return False
        ts.data[name] = value
        return True

    def rate_curr(self, ts: Entry, name: str) -> int:
        ctr = ts.data.get(name)
        return ctr.curr if isinstance(ctr, FreqCtr) else 0

    def start_counters(self, ts: Entry, now: int) -> None:
        """``stream_start_counters()``: a new tracker on ``ts``."""
        ts.ref_cnt += 1
        for name in self._on_start:  # conn_cur, conn_cnt, conn_rate: those stored
            self.add(ts, name, now)
        if self.expire:  # touch()
            ts.expire = now + self.expire

    def stop_counters(self, ts: Entry, now: int) -> None:
        """``stream_store_counters()``: the tracker ends."""
        if "conn_cur" in self.store:
            cur = ts.data.get("conn_cur", 0)
            if isinstance(cur, int) and cur > 0:
                ts.data["conn_cur"] = cur - 1
                self.touch(ts, now)
        # release(), inlined
        if ts.ref_cnt > 0:
            ts.ref_cnt -= 1
        if ts.ref_cnt == 0 and self.expire and ts.expire <= now:
            self.entries.pop(ts.key, None)

    def inc_pair(self, ts: Entry, cnt: str, rate: str, now: int, inc: int = 1) -> None:
        """One of HAProxy's paired counters (``stkctr_inc_http_req_ctr()``...)."""
        period = self.store.get(rate)
        if period is not None:  # add(), inlined for the rate
            ctr = ts.data.get(rate)
            if not isinstance(ctr, FreqCtr):
                ctr = ts.data[rate] = FreqCtr()
            ctr.add(now, period, inc)
        if cnt in self.store:
            self.add(ts, cnt, now, inc)
        elif period is None:
            return
        if self.expire:  # touch()
            ts.expire = now + self.expire


class Tracker:
    """A tracking counter slot (``struct stkctr``): the entry tracked in a table,
    and whether a content rule started it (released at the stream's end)."""

    __slots__ = ("table", "entry", "content")

    def __init__(self, table: Table, entry: Entry, content: bool = True) -> None:
        self.table = table
        self.entry = entry
        self.content = content


Counter = Callable[[Table, Entry, int], int | None]
