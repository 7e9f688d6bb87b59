"""Running rule lists (``http_req_get_intercept_rule()``,
``http_res_get_intercept_rule()``, ``process_switching_rules()``,
``process_server_rules()``, ``process_sticking_rules()``).

A list runs in order: a rule whose condition fails is skipped; an action
returning ``ACT_CONT`` lets the next one run; any other code ends the list
with its verdict. A named defaults section's rules run before the proxy's
own (``px->defpx``), as one list.
"""

from __future__ import annotations

from collections.abc import Sequence

from herdsman.rules.model import (
    ACT_ABRT,
    ACT_CONT,
    ACT_DENY,
    ACT_DONE,
    ACT_ERR,
    ACT_INV,
    ACT_STOP,
    RES_ABRT,
    RES_BADREQ,
    RES_CONT,
    RES_DENY,
    RES_DONE,
    RES_ERROR,
    RES_STOP,
    Rule,
)
from herdsman.sample.txn import Txn

_VERDICTS = {
    ACT_STOP: RES_STOP,
    ACT_DENY: RES_DENY,
    ACT_ABRT: RES_ABRT,
    ACT_DONE: RES_DONE,
    ACT_ERR: RES_ERROR,
    ACT_INV: RES_BADREQ,
}


def run_rules(rules: Sequence[Rule], txn: Txn) -> int:
    """One list of HTTP rules: the verdict (``RES_*``)."""
    for rule in rules:
        cond = rule.cond
        if cond is not None and not cond.run(txn):
            continue
        ret = rule.action(txn)
        if ret != ACT_CONT:
            return _VERDICTS.get(ret, RES_CONT)
    return RES_CONT


def run_tcp_rules(rules: Sequence[Rule], txn: Txn, final: bool) -> tuple[int, int]:
    """``tcp_inspect_request()``/``tcp_exec_l4_rules()``: (verdict, index to
    resume at). A condition that may still change (``MISS``) while more data
    may come (``final`` false) stops the evaluation there: the caller waits and
    calls again from that rule (``RES_CONT`` with an index < len)."""
    from herdsman.sample.acl import MISS, PASS

    for i, rule in enumerate(rules):
        cond = rule.cond
        if cond is not None:
            res = cond.result(txn)
            if res == MISS and not final:
                return RES_CONT, i
            ok = res == PASS
            if cond.unless:
                ok = not ok
            if not ok:
                continue
        ret = rule.action(txn)
        if ret != ACT_CONT:
            return _VERDICTS.get(ret, RES_CONT), len(rules)
    return RES_CONT, len(rules)
