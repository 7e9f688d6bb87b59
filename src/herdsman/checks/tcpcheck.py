"""The tcp-check rule interpreter, sans-IO (``src/tcpcheck.c tcpcheck_main()``).

Every active check runs here: ``option tcp-check`` rules, ``option httpchk``
compiled into HTTP send/expect rules, and the built-in connect-only check. The
interpreter never touches a socket or a clock. The I/O driver (``runner.py``)
tells it what happened (``connected()``, ``received()``, ``peer_closed()``,
``conn_failed()``, ``timed_out()``) and performs the actions it returns:
``Connect``, ``Send``, ``Close``, ``Arm`` (replace the deadline) and ``Done``.

Rule 1 -- the evaluation loop is HAProxy's, so that statuses and texts match.
Rules run in order from the current step; each returns CONTINUE (next rule),
WAIT (stop until the next event, resuming at the same step) or STOP (the
check is over). A WAIT on an expect resumes at the head of its expect chain
(the first negated expect of consecutive expects, ``expect.head``), and an
expect only evaluates once new data, a close or an error has been seen since
the last send or connect (``must_read``).

Rule 2 -- one buffer (``inbuf.py``). Received data accumulates in one input
buffer of ``tune.bufsize`` bytes, shared by consecutive expects and emptied by
each send and connect; data beyond a full buffer waits until a send.

Rule 3 -- exactly one ``Done``. Every path ends with one ``Done`` (preceded by
a ``Close`` while a connection is open); events after it return nothing.

Step numbers (``tcpcheck_get_step_id()``) are 1-based positions in the rule
list as configured: ``comment`` rules count, the implicit first connect is
step 0 ("initial connection step"). Comment rules therefore stay in the list;
the interpreter skips them.
"""

from __future__ import annotations

import errno as errno_mod
import functools
import os
import socket
from collections.abc import Callable, Mapping
from typing import NoReturn

from herdsman.checks import protocols  # noqa: F401  (registers the built-in expects)
from herdsman.checks.actions import Action, Arm, Close, Connect, Done, Send
from herdsman.checks.custom import CUSTOM_EXPECTS, FinalReport, ReportedTwice
from herdsman.checks.expect import (
    Verdict,
    eval_http_expect,
    eval_tcp_expect,
    expect_what,
    generic_error,
)
from herdsman.checks.http_request import build_request
from herdsman.checks.inbuf import InputBuffer
from herdsman.checks.target import CheckResult, CheckTarget, check_desc
from herdsman.defs.proxyproto import SockAddr, proxy_header
from herdsman.defs.rules import (
    ActionRule,
    CommentRule,
    ConnectRule,
    ExpectKind,
    ExpectRule,
    HttpSendRule,
    Rule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.defs.status import Result, Status
from herdsman.sample.logformat import (
    BUFSIZE,
    PAYLOAD,
    LogFormat,
    SampleExpr,
    Value,
    cast_int,
    parse_expr,
    to_str,
)

_IMPLICIT_CONNECT = ConnectRule(default=True, implicit=True)
_UNCLEAN = frozenset(
    (0, errno_mod.EAGAIN, errno_mod.EINPROGRESS, errno_mod.EISCONN, errno_mod.EALREADY)
)


@functools.lru_cache(maxsize=256)
def _status_expr(text: str) -> SampleExpr:
    return parse_expr(text)


def _check_context(target: CheckTarget) -> dict[str, str]:
    """The values log-format strings and sample expressions see in a check."""
    ctx = {
        "srv_name": target.server_name,
        "srv_id": str(target.server_id),
        "be_name": target.backend_name,
        "be_id": str(target.backend_id),
    }
    ctx.update(target.extra)
    return ctx


def _family_of(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _Stop(Exception):
    """Raised inside the loop when the check is over (TCPCHK_EVAL_STOP)."""


class TcpCheck:
    """One run of a check ruleset against one server. Not reusable."""

    def __init__(self, ruleset: Ruleset, target: CheckTarget) -> None:
        rules = ruleset.rules
        if not rules or type(rules[0]) is not ConnectRule:  # finalized rulesets: rarely
            first = next((r for r in rules if not isinstance(r, CommentRule | ActionRule)), None)
            if not isinstance(first, ConnectRule):
                rules = [_IMPLICIT_CONNECT, *rules]  # check_proxy_tcpcheck() does this
        self._rules: list[Rule] = rules
        self._implicit_head = isinstance(rules[0], ConnectRule) and rules[0].implicit
        self._kind = ruleset.kind
        # chk_report_conn_err() and the generic expect texts apply to
        # "option tcp-check" only; an empty ruleset is the built-in check.
        self._tcp_texts = ruleset.kind is RulesetKind.TCP and bool(ruleset.rules)
        self._http = ruleset.kind is RulesetKind.HTTP
        self._skip_404 = ruleset.disable_on_404 and not target.server_down
        self._send_state = ruleset.send_state
        self._force_close = self._fake_ka = False
        if self._http:
            self._force_close = ruleset.http_force_close
            self._fake_ka = ruleset.http_fake_keepalive
        self._target = target
        self._ctx_cache: Mapping[str, str] | None = None
        self._out: list[Action] = []
        self._pos = -1  # check->current_step (-1: none yet)
        self._code = 0  # check->code
        self._done = False
        # connection state
        self._conn_rule: ConnectRule | None = None
        self._connected = False
        self._tls = False  # the connection runs TLS
        self._l6 = False  # TCP is up, the TLS handshake is not done (CO_FL_WAIT_L6_CONN)
        self._send_proxy = False
        self._eos = False
        self._error = 0
        self._in = InputBuffer(self._http)
        self._early: CheckResult | None = None  # a success a custom expect reported

    # -- events ----------------------------------------------------------------------

    def start(self) -> list[Action]:
        """Begin the run: usually ``Connect`` and ``Arm``."""
        return self._run(self._loop)

    def connected(self, local: SockAddr = None, peer: SockAddr = None) -> list[Action]:
        """The connection is established; ``local``/``peer`` feed the PROXY header."""
        if self._done or self._conn_rule is None or self._connected:
            return []
        self._connected = True
        self._l6 = False
        if self._send_proxy:
            t = self._target
            header = proxy_header(
                local, peer, v2=t.proxy_v2, never_send_local=t.pp2_never_send_local
            )
            self._out.append(Send(header))
        return self._run(self._loop)

    def handshaking(self) -> list[Action]:
        """TCP is connected and the TLS handshake starts (``connected()`` follows it)."""
        if not self._done and self._conn_rule is not None:
            self._l6 = True
        return []

    def handshake_failed(self, text: str) -> list[Action]:
        """The TLS handshake failed; ``text`` is the connection's error
        (``conn_err_code_str()``, with the errno text when there is one): L6RSP."""
        if self._done or self._conn_rule is None or self._connected:
            return []
        return self._run(lambda: self._finish(Status.L6RSP, text + self._conn_step_text()))

    def received(self, data: bytes) -> list[Action]:
        if self._done or not self._connected or not data:
            return []
        self._in.received(data)
        return self._run(self._loop)

    def peer_closed(self) -> list[Action]:
        if self._done or not self._connected:
            return []
        self._eos = True
        self._in.eof()
        return self._run(self._loop)

    def conn_failed(self, err: int) -> list[Action]:
        """The connection failed (connect error) or broke (``errno`` of the error)."""
        if self._done or self._conn_rule is None:
            return []
        if not self._connected:
            return self._run(lambda: self._conn_error(err, expired=False))
        self._error = err or errno_mod.EPIPE
        return self._run(self._loop)

    def timed_out(self) -> list[Action]:
        if self._done:
            return []
        return self._run(lambda: self._conn_error(0, expired=True))

    @property
    def done(self) -> bool:
        return self._done

    @property
    def _ctx(self) -> Mapping[str, str]:
        # Built on first use: most checks never evaluate a log-format string.
        if self._ctx_cache is None:
            self._ctx_cache = _check_context(self._target)
        return self._ctx_cache

    def _sample_ctx(self) -> Mapping[str, Value]:
        """The context plus the input buffer, for ``res.payload`` (not on HTTP checks)."""
        if self._http:
            return self._ctx
        return {**self._ctx, PAYLOAD: bytes(self._in.raw)}

    def _text(self, fmt: LogFormat) -> str:
        """A log-format text (``on-success``, ``on-error``): literal ones cost nothing."""
        return (
            fmt.text if fmt.is_literal and "%" not in fmt.text else fmt.evaluate(self._sample_ctx())
        )

    @property
    def needs_addresses(self) -> bool:
        """Whether ``connected()`` needs the socket addresses (a PROXY header is due)."""
        return self._send_proxy

    @property
    def room(self) -> int:
        """How many more bytes ``received()`` may usefully take now. The driver
        stops reading at 0 and asks again after each event."""
        return self._in.room() if not self._done else 0

    # -- the loop (tcpcheck_main) ------------------------------------------------------

    def _run(self, step: Callable[[], None]) -> list[Action]:
        try:
            step()
        except _Stop:
            pass
        out, self._out = self._out, []
        return out

    def _loop(self) -> None:
        rules = self._rules
        i = self._pos if self._pos > 0 else 0
        must_read, last_read = True, False
        # Exact type tests: rule classes are final, and this is the hot path.
        while i < len(rules):
            rule = rules[i]
            kind = type(rule)
            if kind is not CommentRule:
                self._code = 0  # every evaluated rule resets check->code
            if kind is ConnectRule:
                assert isinstance(rule, ConnectRule)
                if self._conn_rule is not None and self._pos != i:
                    self._close()  # a new connect: the previous connection goes first
                self._pos = i
                if self._conn_rule is None:
                    self._connect(rule)
                    return
                if not self._connected:
                    return
                if self._target.timeout_check:
                    self._out.append(Arm(self._target.timeout_check))
                must_read, last_read = not self._in.buffered(), False
            elif kind is HttpSendRule or kind is SendRule:
                assert isinstance(rule, SendRule | HttpSendRule)
                self._pos = i
                self._send(rule)
                must_read = True
            elif kind is ExpectRule:
                assert isinstance(rule, ExpectRule)
                self._pos = i
                if must_read:
                    if not self._recv(rule):
                        self._pos = self._head(i)
                        return
                    last_read = self._eos or bool(self._error)
                    must_read = False
                if not self._expect(rule, last_read):
                    self._pos = self._head(i)
                    return
            i += 1
        self._succeed()

    def _head(self, i: int) -> int:
        """``expect.head``: the first negated expect of the chain ending at ``i``, or ``i``."""
        head = i
        for j in range(i - 1, -1, -1):
            rule = self._rules[j]
            if isinstance(rule, ExpectRule):
                if rule.inverse:
                    head = j
            elif not isinstance(rule, CommentRule | ActionRule):
                break
        return head

    def _step(self, pos: int | None = None) -> int:
        pos = self._pos if pos is None else pos
        if pos < 0:
            return 1
        if pos == 0 and self._implicit_head:
            return 0
        return pos if self._implicit_head else pos + 1

    # -- connect -----------------------------------------------------------------------

    def _connect(self, rule: ConnectRule) -> None:
        """``tcpcheck_eval_connect()`` for a new connection."""
        t = self._target
        host, family, addr_port = t.host, t.family, 0
        if rule.addr is not None:
            host, family, addr_port = rule.addr[0], _family_of(rule.addr[0]), rule.addr[1] or 0
        # rule port, then the rule's address port, then the check's (spec §4.2)
        port = rule.port or addr_port or t.port
        self._conn_rule = rule
        self._connected = self._eos = self._l6 = False
        self._error = 0
        self._send_proxy = rule.send_proxy or (
            rule.default and t.send_proxy and self._kind is not RulesetKind.AGENT
        )
        self._in.connecting()
        deadline = t.inter
        if t.timeout_check and t.timeout_connect:
            deadline = min(deadline, t.timeout_connect)
        nxt = next(
            (
                r
                for r in self._rules[self._pos + 1 :]
                if not isinstance(r, CommentRule | ActionRule)
            ),
            None,
        )
        # An agent without agent-send sends nothing: 2.6.12 then leaves quick
        # ACKs on (observed with strace), else the server would only see the
        # connection when the delayed ACK leaves, up to 200 ms later.
        nothing = isinstance(nxt, SendRule) and nxt.kind is SendKind.STRING and not nxt.data
        delack = not isinstance(nxt, ExpectRule) and not nothing
        # tcpcheck_eval_connect(): "ssl", or the server's check transport for
        # "default"; the rule's sni/alpn, else the server's check-sni/check-alpn
        self._tls = rule.ssl or (rule.default and t.tls)
        sni = rule.sni or (t.check_sni if rule.default else None)
        alpn = rule.alpn or (t.check_alpn if rule.default else None)
        self._out += [Connect(family, host, port, delack, self._tls, sni, alpn), Arm(deadline)]

    def _close(self) -> None:
        rule = self._conn_rule
        if rule is not None:
            self._out.append(Close(rule.linger))
        self._conn_rule = None
        self._connected = False

    # -- send --------------------------------------------------------------------------

    def _send(self, rule: SendRule | HttpSendRule) -> None:
        """``tcpcheck_eval_send()``: every send empties the input buffer first."""
        if self._error:
            self._conn_error(self._error, expired=False)
        self._in.sending(isinstance(rule, HttpSendRule) and rule.meth == "HEAD")
        if isinstance(rule, HttpSendRule):
            state = None
            if self._send_state and self._target.state_header is not None:
                state = self._target.state_header()
            data = build_request(
                rule,
                self._ctx,
                state=state,
                force_close=self._force_close,
                fake_keepalive=self._fake_ka,
            )
        elif rule.kind in (SendKind.STRING, SendKind.BINARY):
            data = rule.data
            if len(data) >= BUFSIZE:
                self._finish(
                    Status.L7RSP,
                    f"tcp-check send : string too large ({len(data)}) for buffer size "
                    f"({BUFSIZE}) at step {self._step()}",
                )
        else:
            assert rule.fmt is not None
            data = rule.fmt.evaluate_bytes(self._sample_ctx())[: BUFSIZE - 1]
            if rule.kind is SendKind.BINARY_LF and data:
                try:
                    data = bytes.fromhex(data.decode("ascii"))
                except ValueError:
                    self._finish(
                        Status.L7RSP,
                        "tcp-check send : failed to build log-format string at step "
                        f"{self._step()}",
                    )
        if data:
            self._out.append(Send(data))

    # -- receive -----------------------------------------------------------------------

    def _recv(self, rule: ExpectRule) -> bool:
        """``tcpcheck_eval_recv()``: False to wait; stops the check on an empty close.

        An expect only runs once something was read since the last send or
        connect, or the connection closed, broke or filled the buffer. An
        empty close is "TCPCHK got an empty response" for tcp-check; the H1
        mux turns it into an invalid response for HTTP (L7RSP, no info).
        """
        got = self._in.took()
        empty = not self._in.buffered()
        if empty and self._error:
            self._conn_error(self._error, expired=False)
        if got:
            return True
        if not (self._eos or self._error or self._in.full()):
            return False
        if empty and not self._http:
            text = f"TCPCHK got an empty response at step {self._step()}"
            if rule.comment:
                text += f" comment: '{rule.comment}'"
            self._finish(rule.error_status or Status.L7RSP, text)
        return True

    # -- expect ------------------------------------------------------------------------

    def _expect(self, rule: ExpectRule, last_read: bool) -> bool:
        """``tcpcheck_eval_expect()`` / ``_expect_http()`` (``expect.py``): False to wait."""
        if self._http:
            resp = self._in.resp
            outcome = eval_http_expect(rule, resp, last_read, self._ctx, skip_404=self._skip_404)
            if resp.headers_done and not resp.error:
                self._code = resp.status
        else:
            data = bytes(self._in.raw)
            last_read = last_read or self._in.full()
            if rule.kind is ExpectKind.CUSTOM:
                if not last_read and 0 < rule.min_recv > len(data):
                    return False
                return self._expect_custom(rule, data, last_read)
            outcome = eval_tcp_expect(rule, data, last_read, self._sample_ctx)
        if outcome.verdict is Verdict.WAIT:
            return False
        if outcome.verdict is Verdict.CONTINUE:
            return True
        return self._expect_failed(rule, outcome.match, outcome.info, outcome.status)

    def _expect_custom(self, rule: ExpectRule, data: bytes, last_read: bool) -> bool:
        func = CUSTOM_EXPECTS.get(rule.custom or "")
        if func is None:
            return True  # "expect custom" without a function passes, as in HAProxy
        last_rule = not any(
            not isinstance(r, CommentRule | ActionRule) for r in self._rules[self._pos + 1 :]
        )
        verdict = func(data, last_read, last_rule)
        if not isinstance(verdict, CheckResult):
            return verdict
        if isinstance(verdict, FinalReport):
            self._stop_with(verdict)
        if verdict.status.result is Result.FAILED:
            self._code = verdict.code or 0
            self._expect_failed(rule, False, verdict.desc, verdict.status)
        status = rule.ok_status if verdict.status is Status.L7OK else verdict.status
        code = verdict.code if verdict.code is not None else self._code
        self._early = CheckResult(
            status, code if status.has_code else None, check_desc(verdict.desc)
        )
        return True

    def _expect_failed(self, rule: ExpectRule, match: bool, info: str, status: Status) -> NoReturn:
        """``tcpcheck_expect_onerror_message()`` then the failure status."""
        if info:
            text = info
        elif rule.on_error is not None:
            text = self._text(rule.on_error)
        elif self._tcp_texts:
            text = generic_error(rule, match, self._step())
        else:
            text = ""
        if rule.comment:
            text += f" comment: {rule.comment}"
        self._apply_status_code(rule)
        self._finish(status, text)

    def _apply_status_code(self, rule: ExpectRule) -> None:
        """``status-code``: fetched as a string, then cast to an integer."""
        if rule.status_code is None:
            return
        value = _status_expr(rule.status_code).evaluate(self._sample_ctx())
        number = None if value is None else cast_int(to_str(value))
        if number is not None:
            self._code = number

    # -- results -----------------------------------------------------------------------

    def _succeed(self) -> None:
        """The end of ``tcpcheck_main()`` when every rule passed."""
        rule = self._rules[self._pos] if self._pos >= 0 else None
        if isinstance(rule, ExpectRule):
            if self._http and self._skip_404 and self._code == 404:
                self._finish(Status.L7OKC, "")
            if rule.on_success is not None:
                text = self._text(rule.on_success)
            else:
                text = "(tcp-check)" if self._tcp_texts else ""
            self._apply_status_code(rule)
            self._finish(rule.ok_status, text)
        if isinstance(rule, ConnectRule):
            status = Status.L6OK if self._tls else Status.L4OK
            self._finish(status, "" if rule.implicit else "(tcp-check)")
        self._finish(Status.L7OK, "(tcp-check)")

    def _conn_step_text(self) -> str:
        """The " at step N of tcp-check (...)" part of ``chk_report_conn_err()``."""
        if not self._tcp_texts:
            return ""
        step = self._step()
        if step == 0:
            return " at initial connection step of tcp-check"
        text = f" at step {step} of tcp-check"
        rule = self._rules[self._pos] if self._pos >= 0 else None
        if isinstance(rule, ConnectRule):
            text += f" (connect port {rule.port})" if rule.port else " (connect)"
        elif isinstance(rule, ExpectRule):
            text += expect_what(rule)
        elif isinstance(rule, SendRule | HttpSendRule):
            text += " (send)"
        if rule is not None and not isinstance(rule, CommentRule) and rule.comment:
            text += f" comment: '{rule.comment}'"
        return text

    def _conn_error(self, err: int, *, expired: bool) -> NoReturn:
        """``chk_report_conn_err()``: L4CON/L4TOUT before, SOCKERR/L7TOUT after connect."""
        text = (os.strerror(err) if err not in _UNCLEAN else "") + self._conn_step_text()
        if self._l6:  # during the TLS handshake
            status = Status.L6TOUT if expired else Status.L6RSP
        elif not self._connected:
            status = Status.L4TOUT if expired else Status.L4CON
        elif not expired:
            status = Status.SOCKERR
        else:
            rule = self._rules[self._pos] if self._pos >= 0 else None
            status = rule.tout_status if isinstance(rule, ExpectRule) else Status.L7TOUT
        self._finish(status, text)

    def _stop_with(self, result: CheckResult) -> NoReturn:
        """Close, then end the run with ``result`` exactly as the custom expect gave it."""
        self._done = True
        self._close()
        self._out.append(Done(result))
        raise _Stop

    def _finish(self, status: Status, text: str) -> NoReturn:
        """``set_server_check_status()``: close, then report once. Never returns."""
        if not self._done:
            self._done = True
            self._close()
            code = self._code if status.has_code else None
            result = CheckResult(status, code, check_desc(text))
            early = self._early
            if early is not None:
                result = ReportedTwice(early.status, early.code, early.desc, then=result)
            self._out.append(Done(result))
        raise _Stop
