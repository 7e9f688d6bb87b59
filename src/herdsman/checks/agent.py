"""Agent checks: the reply grammar and what a reply does to its server
(spec §9; ``tcpcheck.c tcpcheck_agent_expect_reply()`` of 2.6, in two halves).

``parse_reply()`` is sans-IO: it reads one line from the bytes received so
far and sorts its words, exactly as 2.6 does. The line ends at the first CR or
LF; a NUL byte, or the end of the data, before one means no line yet (the
buffer is a C string). Words are separated by any mix of spaces, tabs and
commas and compared without case:

* health: ``up`` (L7OK), ``down``, ``stopped``, ``fail`` (L7STS);
* admin: ``ready``, ``drain``, ``maint``;
* weight: a word starting with a digit and holding a ``%``;
* limit: ``maxconn:<N>``;
* ``#`` starting a word: the rest of the line (blanks skipped) is a description;
* anything else: the first such word is reported as an error.

The last word of each kind wins. ``apply()`` then acts when the run ends, in
2.6's order: the health word sets the agent's health, then the admin state
changes, then the weight, then maxconn, and the status and its info text are
returned for ``checks/health.py`` to record (and to log, and to move the
server, as for any check).
"""

from __future__ import annotations

from dataclasses import dataclass

from herdsman.checks.custom import CUSTOM_EXPECTS, FinalReport
from herdsman.checks.target import CheckResult
from herdsman.core import transitions
from herdsman.core.backend import Check
from herdsman.core.change import maxconn_change, weight_change
from herdsman.core.events import Cause
from herdsman.defs.protocols.agent import EXPECT_REPLY
from herdsman.defs.status import Status

_HEALTH = {
    b"up": Status.L7OK,
    b"down": Status.L7STS,
    b"stopped": Status.L7STS,
    b"fail": Status.L7STS,
}
_ADMIN = (b"ready", b"drain", b"maint")
_SEPARATORS = b" \t,"
_WORD_END = b"\t \n,"
INCOMPLETE = "Ignoring incomplete line from agent"


def _text(raw: bytes) -> str:
    # C strings: any byte survives, non-printable ones are encoded when logged
    return raw.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class AgentReply(FinalReport):
    """One agent line, its words sorted (each field as received, "" when absent).

    ``status`` is the last health word's (CHECKED without one); the info text
    depends on the server when the reply is applied, so ``desc`` stays empty.
    """

    health: str = ""
    admin: str = ""
    weight: str = ""
    maxconn: str | None = None  # what follows "maxconn:" (None: no such word)
    error: str = ""  # the first word of no kind
    description: str = ""  # after '#'
    incomplete: bool = False  # no line before the connection closed or the buffer filled


def parse_reply(data: bytes, last_read: bool) -> AgentReply | None:
    """The agent's line in ``data``; None to wait for more (``last_read``: no more will come)."""
    end = len(data)
    for i, byte in enumerate(data):
        if byte in b"\r\n\0":
            end = i
            break
    if end == len(data) or data[end] == 0:
        return AgentReply(Status.CHECKED, incomplete=True) if last_read else None
    line = data[:end]
    health = admin = weight = error = b""
    maxconn: bytes | None = None
    status = Status.CHECKED
    description = b""
    i, n = 0, len(line)
    while i < n:
        if line[i] in _SEPARATORS:
            i += 1
            continue
        if line[i] == ord("#"):
            description = line[i + 1 :].lstrip(b" \t")
            break
        j = i + 1
        while j < n and line[j] not in _WORD_END:
            j += 1
        word, low = line[i:j], line[i:j].lower()
        i = j + 1
        if low in _HEALTH:
            health, status = word, _HEALTH[low]
        elif low in _ADMIN:
            admin = word
        elif word[:1].isdigit() and b"%" in word:
            weight = word
        elif low.startswith(b"maxconn:"):
            maxconn = word[8:]
        elif not error:
            error = word
    return AgentReply(
        status,
        0,
        health=_text(health),
        admin=_text(admin),
        weight=_text(weight),
        maxconn=None if maxconn is None else _text(maxconn),
        error=_text(error),
        description=_text(description.lstrip(b" \n")),
    )


def expect_reply(data: bytes, last_read: bool, last_rule: bool) -> bool | CheckResult:
    """The agent ruleset's custom expect: wait for the line, then end the run with it."""
    reply = parse_reply(data, last_read)
    return False if reply is None else reply


CUSTOM_EXPECTS[EXPECT_REPLY] = expect_reply


def apply(check: Check, reply: AgentReply) -> CheckResult | None:
    """Act on the server as the reply says; returns the status to record, None to ignore it.

    A reply to an agent disabled meanwhile is ignored as a whole. An
    incomplete line keeps the previous status with its own info text; on the
    very first run (no status yet) 2.6 reports nothing and the run ends at its
    timeout, which is reported here at once as that timeout (L7TOUT).
    """
    if not check.enabled:
        return None
    duration = reply.duration_ms
    if reply.incomplete:
        if check.status is Status.INI:
            return CheckResult(Status.L7TOUT, 0, "", duration)
        return CheckResult(check.status, 0, INCOMPLETE, duration)
    srv = check.server
    if reply.health:
        check.health = check.rise + check.fall - 1 if reply.status is Status.L7OK else 0
    admin = reply.admin.lower()
    if admin == "drain":
        transitions.adm_set_drain(srv, Cause.AGENT)
    elif admin == "maint":
        transitions.adm_set_maint(srv, Cause.AGENT)
    elif admin:
        transitions.adm_set_ready(srv, Cause.AGENT)
    warning = ""
    if reply.weight:
        warning = weight_change(srv, reply.weight, Cause.AGENT) or ""
    if reply.maxconn is not None:
        msg = maxconn_change(srv, reply.maxconn, Cause.AGENT)
        if not warning:
            warning = msg or ""
    if reply.health:
        msg = reply.description
        if not msg or reply.status is Status.L7OK:
            msg = reply.error or warning or msg
        info = f"via agent : {reply.health}" + (f" ({msg})" if msg else "")
        return CheckResult(reply.status, 0, info, duration)
    if reply.error:
        return CheckResult(Status.CHECKED, 0, f"agent reports an error : {reply.error}", duration)
    if warning:
        return CheckResult(Status.CHECKED, 0, f"agent warns : {warning}", duration)
    return CheckResult(Status.CHECKED, 0, "", duration)
