"""The switching rules (``process_switching_rules()``): the first ``use_backend``
whose condition passes and whose backend exists names the stream's backend,
else ``default_backend``; compiled once per proxy into one function.

A run of consecutive rules ``use_backend <be> if { <fetch> -m beg|str <patterns> }``
on the same fetch (one ACL of one expression, no converter, no ``-i``: the
common ``path_beg`` routing table) costs one fetch and a few dict look-ups
instead of one condition per rule: the value is fetched once, each prefix
length present is one slice looked up in that length's table, an exact
pattern one look-up, and the lowest rule index found wins, so the first rule
in configuration order that matches is still the one chosen. Only fetches
that read the request without side effects are fetched once for several
rules (a ``rand`` must still be drawn once per rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from herdsman.core.backend import Backend
from herdsman.sample import pattern as P
from herdsman.sample import types as T
from herdsman.sample.acl import AclExpr
from herdsman.sample.cond import Condition
from herdsman.sample.expr import keyword_end
from herdsman.sample.logformat import Piece
from herdsman.sample.registry import NO_CAST
from herdsman.sample.txn import Txn

# one use_backend rule: its condition, its backend (a fixed name) or its log-format name
SwitchRule = tuple[Condition | None, Backend | None, Piece | None]
Step = Callable[[Txn], Backend | None]

# fetches of the request line that only read it: fetched once for a run of rules
_PURE = frozenset({"path", "pathq", "url", "base", "baseq", "query"})


def _run_expr(rule: SwitchRule) -> AclExpr | None:
    """The one ACL expression of a rule that may join a run, else None."""
    cond, be, piece = rule
    if cond is None or be is None or piece is not None:
        return None
    if len(cond.suites) != 1 or len(cond.suites[0]) != 1:
        return None
    acl, neg = cond.suites[0][0]
    if neg != cond.unless or len(acl.exprs) != 1:
        return None  # a negated test (``!`` or ``unless``, not both)
    e = acl.exprs[0]
    if (
        e.test is None  # a value that may still change, or several values
        or e.method not in (P.BEG, P.STR)
        or e.expr.convs
        or e.expr.fetch.name not in _PURE
        or any(group.icase for group in e.patterns)
    ):
        return None
    return e


def _fetch_key(e: AclExpr) -> tuple[str, str]:
    """The fetch and its arguments: rules with the same key read the same value."""
    text = e.expr.text
    return e.expr.fetch.name, text[keyword_end(text, 0) :]


def _prefix_run(run: list[tuple[AclExpr, Backend]], miss: Backend | None) -> Step:
    """The rules of a run as one look-up (see the module's docstring); ``miss``
    when none matches."""
    exact: dict[bytes, tuple[int, Backend]] = {}
    prefixes: dict[int, dict[bytes, tuple[int, Backend]]] = {}
    for index, (e, be) in enumerate(run):
        for group in e.patterns:
            for pat, _ in group.items:
                assert isinstance(pat, bytes)
                table = exact if e.method == P.STR else prefixes.setdefault(len(pat), {})
                table.setdefault(pat, (index, be))  # an earlier rule keeps the pattern
    sizes = sorted(prefixes.items())
    one = run[0][0].expr.one
    ok = NO_CAST[T.STR]
    cast = T.cast

    def lookup(txn: Txn) -> Backend | None:
        v = one(txn)
        if v is None:
            return miss
        if type(v) not in ok:
            v = cast(v, T.STR)
            if v is None:
                return miss
        data: bytes = v  # type: ignore[assignment]
        best = exact.get(data)
        n = len(data)
        for size, table in sizes:
            if size > n:
                break
            hit = table.get(data[:size])
            if hit is not None and (best is None or hit[0] < best[0]):
                best = hit
        return miss if best is None else best[1]

    return lookup


def _one_rule(
    rule: SwitchRule, find: Callable[[str], Backend | None], miss: Backend | None
) -> Step:
    """One rule as it is; ``miss`` when it does not choose."""
    cond, be, piece = rule
    if piece is not None:
        dynamic = piece

        def named(txn: Txn) -> Backend | None:
            if cond is not None and not cond.run(txn):
                return miss
            # a name that is no backend lets the next rule try
            found = find(dynamic(txn).decode("utf-8", "surrogateescape"))
            return miss if found is None else found

        return named
    if be is None:
        return lambda txn: miss
    chosen = be
    if cond is None:
        return lambda txn: chosen
    run = cond.run
    return lambda txn: chosen if run(txn) else miss


def compile_switching(
    rules: Sequence[SwitchRule], default: Backend | None, find: Callable[[str], Backend | None]
) -> Step:
    """The switching rules of a proxy and its default backend, as one function
    (its steps return None when they do not choose; a single step returns the
    default backend itself)."""
    groups: list[list[tuple[AclExpr, Backend]] | SwitchRule] = []
    i = 0
    while i < len(rules):
        e = _run_expr(rules[i])
        run: list[tuple[AclExpr, Backend]] = []
        while e is not None and i < len(rules):
            nxt = _run_expr(rules[i])
            if nxt is None or _fetch_key(nxt) != _fetch_key(e):
                break
            be = rules[i][1]
            assert be is not None
            run.append((nxt, be))
            i += 1
        if len(run) > 1:
            groups.append(run)
            continue
        if run:
            i -= 1  # a run of one: the rule as it is
        groups.append(rules[i])
        i += 1
    if not groups:
        return lambda txn: default
    alone = len(groups) == 1
    miss = default if alone else None
    steps = [
        _prefix_run(g, miss) if isinstance(g, list) else _one_rule(g, find, miss) for g in groups
    ]
    if alone:
        return steps[0]

    def switch(txn: Txn) -> Backend | None:
        for step in steps:
            be = step(txn)
            if be is not None:
                return be
        return default

    return switch


__all__ = ["SwitchRule", "compile_switching"]
