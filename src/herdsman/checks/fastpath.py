"""The two commonest checks without the interpreter, as long as all goes well.

Most servers are checked by the built-in connect-only check or by ``option
httpchk`` with ``http-check expect status`` (or the implicit 200-399), and
nearly every run of them succeeds. ``plan()`` recognises those rulesets once;
``FastRun`` runs them as a ``RunningCheck`` that builds no ``TcpCheck`` and no
actions on the way to the plain success: connect, send the request bytes
(computed once), read, match one regular expression on the response head.

Rule: the fast path only decides the plain success, and only where the
interpreter would certainly decide the same. Anything else (a refused or
broken connection, a timeout, another status, a response head it does not
recognise at once, a close) makes the run build its ``TcpCheck``, replay what
happened so far into it (the interpreter is sans-IO and deterministic) and go
on as the general runner: every other outcome is the interpreter's own.
"""

from __future__ import annotations

import asyncio
import errno
import re
import select
import socket
from collections.abc import Callable
from dataclasses import dataclass

from herdsman.checks.actions import Action, Arm, Connect, Send
from herdsman.checks.http_request import build_request
from herdsman.checks.runner import EV_RD, EV_WR, PEER_SHUT, RunningCheck
from herdsman.checks.target import CheckResult, CheckTarget
from herdsman.checks.tcpcheck import TcpCheck
from herdsman.defs.rules import (
    ConnectRule,
    ExpectKind,
    ExpectRule,
    HttpSendRule,
    Ruleset,
    RulesetKind,
)
from herdsman.defs.status import Status
from herdsman.http import fields
from herdsman.sample.logformat import BUFSIZE

# A response head the H1 parser certainly accepts: "HTTP/1.x NNN[ reason]",
# header lines "token: value", CRLF everywhere. Anything else goes to the parser.
_SIMPLE_HEAD = re.compile(
    rb"HTTP/1\.[01] ([0-9]{3})(?:[ \t][^\r\n]*)?\r\n"
    rb"((?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*\r\n)*)\r\n"
)
_CONTENT_LENGTH = re.compile(rb"(?:^|\n)content-length:([^\r\n]*)\r", re.IGNORECASE)
_IMPLICIT_CONNECT = ConnectRule(default=True, implicit=True)
_L4OK = CheckResult(Status.L4OK, None, "")
_FAILED = select.EPOLLERR | select.EPOLLHUP


@dataclass(frozen=True, slots=True)
class Plan:
    """How to run a ruleset the fast way against one target."""

    connect: Connect
    deadline_ms: int  # the connect deadline (spec §4.6)
    timeout_check: int | None  # the deadline once connected, when set
    request: bytes  # b"": the connect-only check
    statuses: tuple[tuple[int, int], ...]  # the accepted HTTP statuses

    def judge(self, data: bytes) -> CheckResult | None:
        """The plain success of an HTTP check, or None (the interpreter decides)."""
        m = _SIMPLE_HEAD.match(data)
        if m is None:
            return None
        status = int(m.group(1))
        if not any(lo <= status <= hi for lo, hi in self.statuses):
            return None
        headers = m.group(2)
        if headers:
            low = headers.lower()
            if b"transfer-encoding" in low:
                return None
            if b"content-length" in low:
                length = -1
                for value in _CONTENT_LENGTH.findall(headers):
                    try:
                        length, _ = fields.content_length(value.strip(b" \t"), length)
                    except ValueError:
                        return None  # an invalid or inconsistent length: L7RSP
        return CheckResult(Status.L7OK, status, "")


def plan(ruleset: Ruleset, target: CheckTarget) -> Plan | None:
    """A ``Plan`` when ``ruleset`` is the connect-only check or a plain
    ``httpchk`` + ``expect status``, with a constant request, no PROXY header
    and no TLS."""
    if target.send_proxy or target.tls:
        return None
    deadline = target.inter
    if target.timeout_check and target.timeout_connect:
        deadline = min(deadline, target.timeout_connect)
    # the rule after the connect is not an expect: the ACK leaves with the data
    connect = Connect(target.family, target.host, target.port, delack=True)
    rules = ruleset.rules
    if not rules:
        return Plan(connect, deadline, target.timeout_check, b"", ())
    if (
        ruleset.kind is not RulesetKind.HTTP
        or ruleset.disable_on_404
        or ruleset.send_state
        or len(rules) != 3
    ):
        return None
    conn, send, expect = rules
    if (
        conn != _IMPLICIT_CONNECT
        or type(send) is not HttpSendRule
        or type(expect) is not ExpectRule
    ):
        return None
    if expect != ExpectRule(ExpectKind.HTTP_STATUS, expect.pattern, expect.pattern_text):
        return None  # any option of the expect (status overrides, texts, comment...)
    if (
        send.uri_fmt is not None
        or send.body_fmt is not None
        or not all(fmt.is_literal for _, fmt in send.headers)
    ):
        return None
    request = build_request(
        send,
        {},
        force_close=ruleset.http_force_close,
        fake_keepalive=ruleset.http_fake_keepalive,
    )
    assert isinstance(expect.pattern, tuple)
    return Plan(connect, deadline, target.timeout_check, request, expect.pattern)


class FastRun(RunningCheck):
    """A check run on the fast path until it is not a plain success (module rule)."""

    __slots__ = ("_buf", "_fast", "_plan", "_ruleset", "_starting", "_up")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        ruleset: Ruleset,
        target: CheckTarget,
        plan: Plan,
        on_done: Callable[[CheckResult], None],
    ) -> None:
        super().__init__(loop, ruleset, target, on_done, interpret=False)
        self._plan = plan
        self._ruleset = ruleset
        self._fast = True
        self._up = False  # connected
        self._buf = b""  # what was read so far
        self._starting = False

    def start(self) -> None:
        """Connect now; a failure is reported from a loop callback, never from here."""
        self._arm(self._plan.deadline_ms)
        self._starting = True
        try:
            self._connect(self._plan.connect)
        finally:
            self._starting = False

    def _general(self) -> list[Action]:
        """Build the interpreter and replay the run so far into it; returns its
        actions still to perform (the connect, deadlines and request were done)."""
        self._fast = False
        check = self._check = TcpCheck(self._ruleset, self._target)
        check.start()
        if not self._up:
            return []
        actions = [a for a in check.connected() if type(a) is not Send and type(a) is not Arm]
        if self._buf:
            actions += check.received(self._buf)
        return actions

    def _conn_failed(self, err: int) -> None:
        if self._starting:
            self._loop.call_soon(self._conn_failed, err)
        elif self._fast:
            self._apply(self._general() + self._check.conn_failed(err))
        else:
            super()._conn_failed(err)

    def _on_timeout(self) -> None:
        if self._fast:
            self._deadline = 0
            self._apply(self._general() + self._check.timed_out())
        else:
            super()._on_timeout()

    def on_events(self, events: int) -> None:
        if not self._fast:
            super().on_events(events)
            return
        if events & EV_WR:
            self._wr = True
        if events & EV_RD:
            self._rd = True
        if events & PEER_SHUT:
            self._fin = True
        sock = self._sock
        if sock is None or self._on_done is None:
            return
        if self._connecting:
            if not self._wr:
                return
            self._connecting = False
            # a failed connect always raises EPOLLERR: without it, no getsockopt()
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if events & _FAILED else 0
            if err:
                self._conn_failed(err)
                return
            self._up = True
            plan = self._plan
            if plan.timeout_check:
                self._arm(plan.timeout_check)
            if not plan.request:
                self._finish(_L4OK)
                return
            self._out = plan.request
        if self._out and not self._send_request():
            return
        self._read()

    def _send_request(self) -> bool:
        """Write the request; True once it is all out."""
        sock = self._sock
        if not self._wr or sock is None:
            return False
        try:
            sent = sock.send(self._out)
        except BlockingIOError:
            self._wr = False
            return False
        except OSError:
            # the general runner ignores it and meets the error again in its _io()
            self._apply(self._general())
            return False
        self._out = self._out[sent:]
        if self._out:
            self._wr = False
            return False
        return True

    def _read(self) -> None:
        """Read the response head, judge it, or hand over to the interpreter."""
        sock = self._sock
        if sock is None or not self._rd:
            return
        try:
            data = sock.recv(BUFSIZE - len(self._buf))
        except BlockingIOError:
            self._rd = False
            return
        except OSError as exc:  # as the general runner's read (the error is reported once)
            self._eos = True
            self._apply(self._general() + self._check.conn_failed(exc.errno or errno.ECONNRESET))
            return
        if not data:
            self._eos = self._fin = True
            self._apply(self._general() + self._check.peer_closed())
            return
        self._buf += data
        result = self._plan.judge(self._buf)
        if result is not None:
            self._finish(result)
        else:
            self._apply(self._general())


def start_fast(
    loop: asyncio.AbstractEventLoop,
    ruleset: Ruleset,
    target: CheckTarget,
    plan: Plan,
    on_done: Callable[[CheckResult], None],
) -> FastRun:
    """``runner.start_check()`` for a ruleset with a ``Plan``: the connection is
    opened at once (no loop callback first); ``on_done`` is still never called
    from this call."""
    run = FastRun(loop, ruleset, target, plan, on_done)
    run.start()
    return run
