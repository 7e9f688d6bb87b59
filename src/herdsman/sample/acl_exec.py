"""What an ACL expression runs per request (``acl_exec_cond()``'s leaves): the
closure of one expression, returning HAProxy's three-valued result (``FAIL``,
``MISS`` while contents may still change, ``PASS``; ``&`` and ``|`` combine
them as HAProxy does), and the boolean test a one-ACL condition runs instead,
with the common matchers inlined. ``acl.py`` parses; this module evaluates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from herdsman.sample import pattern as P
from herdsman.sample import types as T
from herdsman.sample.expr import Expr
from herdsman.sample.registry import NO_CAST
from herdsman.sample.txn import Txn

FAIL: Final = 0
MISS: Final = 1
PASS: Final = 3

Cond = Callable[[Txn], int]


def test(
    expr: Expr, method: int, matcher: P.Matcher, exprs: list[P.PatternExpr]
) -> Callable[[Txn], bool]:
    """``term()``'s ``single`` as a boolean."""
    expect = P.EXPECT[method]
    ok = NO_CAST[expect]
    cast = T.cast
    one = expr.one
    if method in (P.STR, P.BEG) and exprs and not any(e.icase for e in exprs):
        # the matcher inlined: a set of exact strings, a tuple of prefixes
        pats = [p for e in exprs for p, _ in e.items if isinstance(p, bytes)]
        exact = frozenset(pats)
        prefixes = tuple(pats)

        def test_str(txn: Txn) -> bool:
            v = one(txn)
            if v is None:
                return False
            if type(v) is not bytes:
                v = cast(v, T.STR)
                if v is None:
                    return False
            return v in exact

        def test_beg(txn: Txn) -> bool:
            v = one(txn)
            if v is None:
                return False
            if type(v) is not bytes:
                v = cast(v, T.STR)
                if v is None:
                    return False
            data: bytes = v  # type: ignore[assignment]
            return data.startswith(prefixes)

        return test_str if method == P.STR else test_beg
    items = [p for e in exprs for p, _ in e.items]
    if method == P.INT and len(items) == 1 and isinstance(items[0], tuple):
        low, high = items[0]
        if high is None and low is not None:  # "gt N": the comparison inlined
            floor: int = low

            def test_ge(txn: Txn) -> bool:
                v = one(txn)
                if v is None:
                    return False
                if type(v) not in ok:
                    v = cast(v, expect)
                    if v is None:
                        return False
                return floor <= v  # type: ignore[operator]

            return test_ge

    def test(txn: Txn) -> bool:
        v = one(txn)
        if v is None:
            return False
        if type(v) not in ok:
            v = cast(v, expect)
            if v is None:
                return False
        return matcher(v)

    return test


def term(expr: Expr, method: int, matcher: P.Matcher, may_change: bool) -> Cond:
    """The closure of one ACL expression: PASS when a value matches."""
    expect = P.EXPECT[method]
    ok = NO_CAST[expect]
    cast = T.cast
    if method == P.FOUND:
        one = expr.one
        if not may_change:
            return lambda txn: PASS if one(txn) is not None else FAIL

        def found(txn: Txn) -> int:
            txn.need_more = False
            if one(txn) is not None:
                return PASS
            return MISS if txn.need_more else FAIL

        return found
    if expr.fetch.many is None and not may_change:
        one = expr.one

        def single(txn: Txn) -> int:
            v = one(txn)
            if v is None:
                return FAIL
            if type(v) not in ok:
                v = cast(v, expect)
                if v is None:
                    return FAIL
            return PASS if matcher(v) else FAIL

        return single
    many = expr.many

    def multi(txn: Txn) -> int:
        txn.need_more = False
        for v in many(txn):
            if type(v) not in ok:
                cv = cast(v, expect)
                if cv is None:
                    continue
                v = cv
            if matcher(v):
                return PASS
        return MISS if txn.need_more else FAIL

    return multi


__all__ = ["FAIL", "MISS", "PASS", "Cond", "term", "test"]
