"""``agent-check``: the ruleset of an agent (spec §9, ``check.c srv_parse_agent_check()``).

HAProxy's shared ``*agent-check`` ruleset is an implicit connect, a
``send-lf %[var(check.agent_string)]`` (the server's ``agent-send``: nothing
is sent without it, observed on 2.6.12) and a custom expect,
``tcpcheck_agent_expect_reply()`` (``checks/agent.py``). The string is
per server, so each server gets its ruleset with its bytes in a plain send.
"""

from __future__ import annotations

from herdsman.defs.rules import (
    ConnectRule,
    ExpectKind,
    ExpectRule,
    Rule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)

EXPECT_REPLY = "tcpcheck_agent_expect_reply"


def ruleset(agent_send: str | None) -> Ruleset:
    """Connect (the agent's address and port, plain TCP), send ``agent_send``, read the reply."""
    # The send rule stays without agent-send: it is step 1, the expect step 2
    # ("TCPCHK got an empty response at step 2"). The string is a C string.
    data = (agent_send or "").split("\0", 1)[0].encode("utf-8", "surrogateescape")
    rules: list[Rule] = [
        ConnectRule(default=True, implicit=True),
        SendRule(SendKind.STRING, data),
        ExpectRule(ExpectKind.CUSTOM, custom=EXPECT_REPLY),
    ]
    return Ruleset(RulesetKind.AGENT, rules, name="*agent-check")
