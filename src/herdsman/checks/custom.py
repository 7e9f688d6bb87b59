"""The custom expect functions of protocol checks, and the second report they cause.

HAProxy's protocol checks use a few built-in expect functions
(``expect->custom``: ``tcpcheck_mysql_expect_iniths()``,
``tcpcheck_ldap_expect_bindrsp()``...). Their modules in ``checks/protocols/``
register them here under HAProxy's names; the interpreter (``tcpcheck.py``)
calls them. On success they report the check's status themselves and let the
rules go on, so the run reports a status twice (``ReportedTwice``): whoever
applies a run's result to a server applies each of ``reports(result)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from herdsman.checks.target import CheckResult

# A built-in expect of a protocol check (``expect->custom``, e.g.
# ``tcpcheck_mysql_expect_iniths()``), registered under HAProxy's function name
# by its module in ``checks/protocols/``. It gets the input buffer, whether the
# input is over (``last_read``) and whether this is the last rule (no connect,
# send or expect follows), and returns False to wait for more data, True to go
# on, or a CheckResult: a failure ends the check with it (the rule's comment
# and status-code still apply); a success is reported at once, as HAProxy's
# functions call set_server_check_status() before going on, and the end of the
# rules then reports the run's result again (see ReportedTwice).
CustomExpect = Callable[[bytes, bool, bool], "bool | CheckResult"]
CUSTOM_EXPECTS: dict[str, CustomExpect] = {}


@dataclass(frozen=True, slots=True)
class ReportedTwice(CheckResult):
    """A run that reported a status before its final one.

    HAProxy's custom expect functions of mysql-check, ldap-check and
    spop-check call ``set_server_check_status()`` on success and return
    CONTINUE; ``tcpcheck_main()`` then reports the end of the rules again, with
    the rule's own (empty) success text. Each report moves the health counter
    and may log a line, so one such check can count as two successes (2.6.12
    does it: a MySQL server DOWN with ``rise 2`` comes back after one check).
    The fields are the first report; ``then`` is the final one.
    """

    then: CheckResult | None = None


@dataclass(frozen=True, slots=True)
class FinalReport(CheckResult):
    """A custom expect's verdict that ends the run as it is, success or not.

    The agent's ``tcpcheck_agent_expect_reply()`` reports the status itself and
    returns STOP whatever the reply said; the run ends with its verdict, which
    the server's side interprets (``checks/agent.py``).
    """


def reports(result: CheckResult) -> tuple[CheckResult, ...]:
    """The statuses one run reported, in order: apply each one as a check result."""
    if isinstance(result, ReportedTwice) and result.then is not None:
        first = CheckResult(result.status, result.code, result.desc, result.duration_ms)
        return (first, result.then)
    return (result,)


def timed(result: CheckResult, duration_ms: int) -> CheckResult:
    """``result`` with its check duration (the same for every report of a run)."""
    if isinstance(result, ReportedTwice) and result.then is not None:
        then = dataclasses.replace(result.then, duration_ms=duration_ms)
        return dataclasses.replace(result, duration_ms=duration_ms, then=then)
    if type(result) is not CheckResult:
        return dataclasses.replace(result, duration_ms=duration_ms)
    return CheckResult(result.status, result.code, result.desc, duration_ms)
