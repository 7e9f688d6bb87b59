"""Tracking counters from rules (``track-sc<n>``, ``sc-inc-gpc0/1``,
``sc-set-gpt0``) and the counting points of a stream (``stream.h``,
``session.h``, ``stick_table.h``): which stored counters move when a
request starts, fails, or a response is an error.

The data path calls the ``count_*`` functions at HAProxy's points; the rest
of the accounting (rates, expiry) is ``sample/stick.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from herdsman.rules.model import ACT_CONT
from herdsman.rules.parsing import RuleError, Where
from herdsman.sample import args as A
from herdsman.sample import registry as R
from herdsman.sample import types as T
from herdsman.sample.expr import Expr
from herdsman.sample.f_stick import MAX_SESS_STKCTR
from herdsman.sample.stick import (
    DT,
    DT_BYTES_IN_CNT,
    DT_BYTES_IN_RATE,
    DT_BYTES_OUT_CNT,
    DT_BYTES_OUT_RATE,
    DT_HTTP_ERR_CNT,
    DT_HTTP_ERR_RATE,
    DT_HTTP_FAIL_CNT,
    DT_HTTP_FAIL_RATE,
    DT_HTTP_REQ_CNT,
    DT_HTTP_REQ_RATE,
    DT_SESS_CNT,
    DT_SESS_RATE,
    Table,
)
from herdsman.sample.txn import Ref, Txn


@dataclass
class TrackSite:
    """Where a ``track-sc`` rule names its table (``check_trk_action()`` messages)."""

    proxy: str
    num: int
    expr: Expr
    file: str
    line: int


def parse_sc_num(text: str) -> int:
    """``cfg_parse_track_sc_num()``"""
    digits = len(text) - len(text.lstrip("0123456789"))
    if digits != len(text):
        raise RuleError(f"Wrong track-sc number '{text}'")
    num = int(text or "0")
    if num >= MAX_SESS_STKCTR:
        raise RuleError(
            f"{num} track-sc number exceeding {MAX_SESS_STKCTR - 1} (MAX_SESS_STKCTR-1) value"
        )
    return num


def parse_track(words: list[str], i: int, where: Where) -> tuple[Callable[[Txn], int], int, bool]:
    """``parse_http_track_sc()``: ``track-sc<n> <key> [table <t>]``."""
    env = where.env
    response = where.response
    num = parse_sc_num(words[0][8:])
    if i >= len(words) or not words[i]:
        raise RuleError("missing fetch method")
    expr, i = env.expr(words, i, "in tracking rule in", response)
    if not expr.val & where.cap:
        raise RuleError(
            f"fetch method '{words[i - 1]}' extracts information from '{R.src_names(expr.use)}', "
            "none of which is available here"
        )
    name = ""
    if i < len(words) and words[i] == "table":
        if i + 1 >= len(words) or not words[i + 1]:
            raise RuleError("missing table name")
        name = words[i + 1]
        i += 2
    ref = Ref(A.TAB, name, TrackSite(env.proxy, num, expr, env.file, env.line))
    env.refs.append(ref)
    session = where.which in ("tcp-request connection", "tcp-request session")
    return track_action(num, expr, ref, response, session=session), i, False


def track_action(
    num: int, expr: Expr, ref: Ref, response: bool, session: bool = False
) -> Callable[[Txn], int]:
    """Start tracking the key ``expr`` gives in the table (``http_action_track_sc()``;
    ``session`` for ``tcp-request connection/session`` rules)."""
    one = expr.one

    def act(txn: Txn) -> int:
        sess = txn.sess_sc
        slots = sess if session else txn.sc
        if slots is not None and slots[num] is not None:
            return ACT_CONT
        if not session and sess is not None and sess[num] is not None:
            return ACT_CONT
        table: Table = ref.target
        value = one(txn)
        if value is None:
            return ACT_CONT
        memo = txn.key_memo
        if memo is not None and memo[0] is value and memo[1] is table:
            key = memo[2]
        else:
            key = table.key_of(value)
            if key is None:
                return ACT_CONT
            txn.key_memo = (value, table, key)
        now = txn.now_ms()
        ts = table.get(key, now)
        if ts is None:
            return ACT_CONT
        table.start_counters(ts, now)
        if slots is None:
            if session:
                slots = txn.sess_sc = [None] * MAX_SESS_STKCTR
            else:
                # the list a previous stream of the session left (end_stream())
                slots = txn.sc_spare
                if slots is None:
                    slots = [None] * MAX_SESS_STKCTR
                txn.sc_spare = None
                txn.sc = slots
        slots[num] = ts
        if txn.method is not None and not session:
            # the request was counted before tracking began: count it now
            table.inc_pair(ts, DT_HTTP_REQ_CNT, DT_HTTP_REQ_RATE, now)
            status = txn.status
            if response and 400 <= status < 500:
                table.inc_pair(ts, DT_HTTP_ERR_CNT, DT_HTTP_ERR_RATE, now)
            if response and 500 <= status < 600 and status not in (501, 505):
                table.inc_pair(ts, DT_HTTP_FAIL_CNT, DT_HTTP_FAIL_RATE, now)
        return ACT_CONT

    return act


def parse_sc_action(
    words: list[str], i: int, where: Where
) -> tuple[Callable[[Txn], int], int, bool]:
    """``sc-inc-gpc0[(<sc>)]``, ``sc-inc-gpc1``, ``sc-set-gpt0[(<sc>)] <value>``."""
    env = where.env
    word = words[0]
    if word.startswith("sc-inc-gpc"):
        rest = word[len("sc-inc-gpc") :]
        if rest[:1] == "(":
            raise RuleError(f"action '{word}' (sc-inc-gpc arrays) is not supported by herdsman")
        if rest[:1] not in ("0", "1"):
            raise RuleError(f"invalid gpc ID '{word}'. Expects sc-set-gpc(<GPC ID>,<Track ID>)")
        gpc = DT[f"gpc{rest[0]}"]
        gpc_rate = DT[f"gpc{rest[0]}_rate"]
        num = _sc_suffix(
            rest[1:], word, f"invalid stick table track ID. Expects {word}(<Track ID>)"
        )

        def inc(txn: Txn) -> int:
            ts = txn.tracked(num)
            if ts is not None:
                table = ts.table
                now = txn.now_ms()
                a = table.add(ts, gpc_rate, now)
                b = table.add(ts, gpc, now)
                if a or b:
                    table.touch(ts, now)
            return ACT_CONT

        return inc, i, False
    rest = word[len("sc-set-gpt") :]
    if rest[:1] != "0":
        if rest[:1] == "(":
            raise RuleError(f"action '{word}' (sc-set-gpt arrays) is not supported by herdsman")
        raise RuleError(f"invalid gpt ID '{word}'. Expects sc-set-gpt(<GPT ID>,<Track ID>)")
    num = _sc_suffix(
        rest[1:], word, f"invalid stick table track ID '{word}'. Expects sc-set-gpt0(<Track ID>)"
    )
    text = words[i] if i < len(words) else ""
    if text.lstrip("+-").isdigit():
        value = int(text)
        get: Callable[[Txn], int | None] = lambda txn: value  # noqa: E731
        i += 1
    else:
        expr, i = env.expr(words, i, "in", where.response)

        def get(txn: Txn) -> int | None:
            v = expr.one(txn)
            return None if v is None else T.to_int(v)

    def set_gpt(txn: Txn) -> int:
        ts = txn.tracked(num)
        v = get(txn)
        if ts is not None and v is not None and ts.table.set(ts, "gpt0", v & 0xFFFFFFFF):
            ts.table.touch(ts, txn.now_ms())
        return ACT_CONT

    return set_gpt, i, False


def _sc_suffix(text: str, word: str, message: str) -> int:
    if not text:
        return 0
    if text[:1] != "(" or not text.endswith(")") or not text[1:-1].lstrip("-").isdigit():
        raise RuleError(message)
    num = int(text[1:-1])
    if num >= MAX_SESS_STKCTR:
        raise RuleError(
            f"invalid stick table track ID. The max allowed ID is {MAX_SESS_STKCTR - 1}"
        )
    return num


# -- counting points ------------------------------------------------------------------------
# Each goes over the stream's trackers, the session's where the stream has none,
# and reads the clock only when a tracked table stores what the event moves.


def _count(txn: Txn, cnt: int, rate: int, inc: int = 1, now: int = -1) -> int:
    """``inc`` events in the counter and rate pair (DT_*) of every tracker of
    ``txn``; the clock's reading (``now``, -1 before one), to share."""
    sc, sess = txn.sc, txn.sess_sc
    if sc is None and sess is None:
        return now
    for n in range(MAX_SESS_STKCTR):
        ts = sc[n] if sc is not None else None
        if ts is None and sess is not None:
            ts = sess[n]
        if ts is None:
            continue
        table = ts.table
        if table.moves(cnt, rate):
            if now < 0:
                now = txn.now_ms()
            table.inc_pair(ts, cnt, rate, now, inc)
    return now


def count_http_request(txn: Txn) -> None:
    """``stream_inc_http_req_ctr()``: a request was received."""
    _count(txn, DT_HTTP_REQ_CNT, DT_HTTP_REQ_RATE)


def count_http_error(txn: Txn) -> None:
    """``stream_inc_http_err_ctr()``: a denied request or a 4xx response."""
    _count(txn, DT_HTTP_ERR_CNT, DT_HTTP_ERR_RATE)


def count_http_fail(txn: Txn) -> None:
    """``stream_inc_http_fail_ctr()``: a 5xx response (but 501 and 505)."""
    _count(txn, DT_HTTP_FAIL_CNT, DT_HTTP_FAIL_RATE)


def count_session(txn: Txn) -> None:
    """``session_count_new()``: the session's trackers count a new session."""
    sess = txn.sess_sc
    if sess is None:
        return
    now = -1
    for ts in sess:
        if ts is not None and ts.table.moves(DT_SESS_CNT, DT_SESS_RATE):
            if now < 0:
                now = txn.now_ms()
            ts.table.inc_pair(ts, DT_SESS_CNT, DT_SESS_RATE, now)


def counts_bytes(txn: Txn) -> bool:
    """Whether a tracker of ``txn`` (the stream's or the session's) is in a table
    that stores a bytes counter: the stream's bytes are then wanted at its end."""
    for slots in (txn.sc, txn.sess_sc):
        if slots is not None:
            for ts in slots:
                if ts is not None and ts.table.counts_bytes:
                    return True
    return False


def count_bytes(txn: Txn, incoming: int, outgoing: int) -> None:
    """``stream_process_counters()`` at the stream's end (2.6 counts no sooner
    without ``option contstats``, which herdsman refuses): the stream's bytes,
    from the client (``req.total``, the log's ``%U``) and to it (``res.total``,
    ``%B``), in each slot's tracker, the stream's else the session's."""
    now = -1
    if incoming:
        now = _count(txn, DT_BYTES_IN_CNT, DT_BYTES_IN_RATE, incoming)
    if outgoing:
        _count(txn, DT_BYTES_OUT_CNT, DT_BYTES_OUT_RATE, outgoing, now)


def end_stream(txn: Txn) -> None:
    """``stream_store_counters()``: the stream's own trackers end (not the session's)."""
    sc = txn.sc
    if sc is None:
        return
    sess = txn.sess_sc
    for n in range(MAX_SESS_STKCTR):
        ts = sc[n]
        if ts is None:
            continue
        sc[n] = None
        if sess is None or sess[n] is not ts:
            ts.table.stop_counters(ts, txn.now_ms)
    txn.sc = None
    txn.sc_spare = sc  # for the session's next stream (one list less per request)


def end_session(txn: Txn) -> None:
    """``session_store_counters()``"""
    end_stream(txn)
    sess = txn.sess_sc
    if sess is None:
        return
    for ts in sess:
        if ts is not None:
            ts.table.stop_counters(ts, txn.now_ms)
    txn.sess_sc = None
