"""Conditions (``src/acl.c`` ``build_acl_cond()``, ``acl_exec_cond()``): ``if``/
``unless`` followed by ACLs (named, predefined or anonymous ``{ ... }``), with
``!``, ``or``/``||`` and the implicit and, in disjunctive form; compiled once
into a closure of HAProxy's three-valued result and, for the rules that cannot
wait, a yes/no closure (``run``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from herdsman.sample.acl import FAIL, PASS, Acl, AclContext, AclError, Cond, default_acl, parse_acl
from herdsman.sample.txn import Txn


@dataclass
class Condition:
    """A parsed ``if``/``unless`` condition: ``run(txn)`` is true when the rule
    applies (polarity included); ``result(txn)`` the three-valued result before
    polarity, for rules that may wait (``MISS``)."""

    unless: bool
    suites: list[list[tuple[Acl, bool]]]
    use: int
    val: int
    result: Cond
    run: Callable[[Txn], bool]

    def acls(self) -> list[Acl]:
        return [acl for suite in self.suites for acl, _ in suite]

    def recompile(self) -> None:
        """Compile again once the configuration is read: a named ACL may have
        gained expressions after this condition named it (HAProxy's conditions
        point to the ACL itself, so a later ``acl`` line with the same name
        counts everywhere)."""
        suites = self.suites
        self.result = _compile(suites) if suites else (lambda txn: FAIL)
        self.run = _runner(suites, self.unless, self.result)


def _neg(t: Cond) -> Cond:
    return lambda txn: 3 >> t(txn)  # acl_neg(): PASS<->FAIL, MISS stays


def _compile(suites: list[list[tuple[Acl, bool]]]) -> Cond:
    compiled: list[list[Cond]] = []
    for suite in suites:
        terms = []
        for acl, neg in suite:
            t = acl.term()
            terms.append(_neg(t) if neg else t)
        compiled.append(terms)
    if len(compiled) == 1 and len(compiled[0]) == 1:
        return compiled[0][0]
    if len(compiled) == 1:
        terms = compiled[0]

        def all_of(txn: Txn) -> int:
            res = PASS
            for t in terms:
                res &= t(txn)
                if res != PASS:
                    return res
            return res

        return all_of

    def any_suite(txn: Txn) -> int:
        res = FAIL
        for suite in compiled:
            s = PASS
            for t in suite:
                s &= t(txn)
                if s != PASS:
                    break
            res |= s
            if res == PASS:
                return PASS
        return res

    return any_suite


def parse_condition(words: list[str], known_acls: dict[str, Acl], ctx: AclContext) -> Condition:
    """``build_acl_cond()``: ``words[0]`` is ``if`` or ``unless``. Raises AclError."""
    if not words or words[0] not in ("if", "unless"):
        raise AclError("conditions must start with either 'if' or 'unless'")
    unless = words[0] == "unless"
    suites: list[list[tuple[Acl, bool]]] = []
    cur: list[tuple[Acl, bool]] | None = None
    use = val = 0
    suite_val = ~0
    neg = False
    i = 1
    while i < len(words) and words[i]:
        word = words[i]
        while word[:1] == "!":
            neg = not neg
            word = word[1:]
        if not word:
            i += 1
            continue
        if word.lower() == "or" or word == "||":
            val |= suite_val
            suite_val = ~0
            cur = None
            neg = False
            i += 1
            continue
        if word == "{":
            end = i + 1
            while end < len(words) and words[end] and words[end] != "}":
                end += 1
            if end >= len(words) or not words[end]:
                raise AclError("missing closing '}' in condition")
            acl = parse_acl(["", *words[i + 1 : end]], known_acls, ctx)
            i = end
        else:
            found = known_acls.get(word)
            acl = found if found is not None else default_acl(word, known_acls, ctx)
        use |= acl.use
        suite_val &= acl.val
        if cur is None:
            cur = []
            suites.append(cur)
        cur.append((acl, neg))
        neg = False
        i += 1
    val |= suite_val
    # an empty condition never passes (acl_exec_cond() starts from FAIL)
    result = _compile(suites) if suites else (lambda txn: FAIL)
    run = _runner(suites, unless, result)
    return Condition(unless, suites, use, val & ((1 << 22) - 1), result, run)


def _runner(
    suites: list[list[tuple[Acl, bool]]], unless: bool, result: Cond
) -> Callable[[Txn], bool]:
    """``run``: for one ACL of one expression that never waits, its boolean test."""
    if len(suites) == 1 and len(suites[0]) == 1:
        acl, neg = suites[0][0]
        test = acl.exprs[0].test if len(acl.exprs) == 1 else None
        if test is not None:
            if neg == unless:
                return test
            return lambda txn: not test(txn)
    return _run_unless(result) if unless else _run_if(result)


def _run_if(result: Cond) -> Callable[[Txn], bool]:
    # acl_pass(): only PASS passes; MISS is a failure for rules that cannot wait
    return lambda txn: result(txn) == PASS


def _run_unless(result: Cond) -> Callable[[Txn], bool]:
    return lambda txn: result(txn) != PASS


def conflicts(cond: Condition, where: int) -> tuple[Acl, str] | None:
    """``acl_cond_kw_conflicts()``: the first ACL and keyword unusable at ``where``."""
    for acl in cond.acls():
        for e in acl.exprs:
            if not (e.val & where):
                return acl, e.kw
    return None


def full_conflict(cond: Condition, where: int) -> Acl | None:
    """``acl_cond_conflicts()``: the first ACL unusable at ``where`` at all."""
    for acl in cond.acls():
        if not (acl.val & where):
            return acl
    return None


__all__ = ["Condition", "conflicts", "full_conflict", "parse_condition"]
