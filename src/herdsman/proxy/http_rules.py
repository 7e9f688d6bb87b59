"""HTTP mode's side of the rules: what an ``HttpSession`` does with what
``proxy/routing.py`` decided (the backend and server of a request, the
reply of a ``deny``/``return``/``redirect``/``auth``, a tarpit, rewritten
heads, ``http-after-response`` on every response).

A mixin of ``HttpSession``: sessions of a frontend without any rule never
come here (``self.rules`` is None).
"""

from __future__ import annotations

from collections.abc import Sequence

from herdsman.core.backend import Backend
from herdsman.http import errors
from herdsman.http.body import ChunkedBody
from herdsman.http.errors import Reply
from herdsman.http.model import Framing, HttpError, Limits, RequestHead, ResponseHead
from herdsman.lb.http_keys import FROM_REQUEST
from herdsman.proxy import persistence, rule_heads
from herdsman.proxy import routing as R
from herdsman.proxy.http_state import SessionState
from herdsman.rules.http_actions import REJECT, AuthReply, Service
from herdsman.rules.model import RES_CONT, RES_DONE, RES_STOP
from herdsman.rules.reply import Errmsg
from herdsman.rules.tcp_actions import TCP_REJECT
from herdsman.rules.track import count_bytes, counts_bytes, end_session, end_stream
from herdsman.sample.cond import Condition

# the session the rule steps act on: its state class, whose attributes compiled
# code reads natively (through a Protocol, each read is a dictionary look-up)
RulesSession = SessionState


def accept(s: RulesSession) -> bool:
    """The session starts: its transaction, ``tcp-request connection/session``."""
    router: R.Router | None = s.ctx.router  # typed: mypyc calls it natively
    assert router is not None
    assert s.rules is not None
    tr = s.client_transport()
    s.txn = router.new_txn(s.rules, s.peer_addr, s.local_addr, tr)
    return bool(router.accept(s.txn, s.rules, tr))


def request(
    s: RulesSession, head: RequestHead, buf: bytes, monitor: bool, body: bytes | None = None
) -> bool:
    """Run the request rules; True when the session answered (or closed). ``body``:
    what ``option http-buffer-request`` waited for, else what ``buf`` holds."""
    router: R.Router | None = s.ctx.router  # typed: mypyc calls it natively
    assert router is not None
    assert s.rules is not None
    txn = s.txn
    if txn is None:
        txn = s.txn = router.new_txn(s.rules, s.peer_addr, s.local_addr, s.client_transport())
    if body is None:
        body = (
            b""
            if head.framing is Framing.NONE
            else buf[head.size : head.size + head.content_length]
        )
    out = router.request(txn, s.rules, head, body, monitor)
    s.outcome = out
    if (
        s.log is None
        and (txn.sc is not None or txn.sess_sc is not None)
        and not monitor
        and counts_bytes(txn)
    ):
        s._new_log(head)  # the stream's bytes, counted as the log counts them
    if out.action == R.INTERCEPT:
        s.fe_c.intercepted_req += 1
        s._answer(txn.status, head, buf)
        return True
    be = out.backend
    if be is not None and be is not s.backend:
        s.backend = be
        s.be_http = s.ctx.back(be.cfg)
        s.be_c = be.counters
        s.srv_c = be.counters
    bp = s.be_plan = out.plan
    # what response() would find nothing to do for: the plans' own flags, and
    # trackers (they count 4xx/5xx responses)
    s.res_rules = (
        s.rules.on_response
        or (bp is not None and bp.on_response)
        or txn.sc is not None
        or txn.sess_sc is not None
    )
    if out.action == R.CONTINUE:
        return False
    if out.action == R.SERVICE:
        if be is None:  # a frontend's rule: the frontend stays the stream's backend (s->be)
            s.fe_c.intercepted_req += 1
            s.backend = None
        else:  # the stream entered the backend (stream_set_backend())
            be.counters.cum_conn += 1
            be.counters.cum_req += 1
        assert isinstance(txn.reply, Service)
        s._local(txn.reply, head, buf)
        return True
    rejected = txn.reply is REJECT or txn.reply == TCP_REJECT
    if out.action in (R.REPLY, R.TARPIT):
        s.fe_c.denied_req += 1
    elif rejected:
        _count_reject(s, be, txn.reply is REJECT)
    log = s.log
    if log is not None and out.term:
        log.set_term(out.term[0], out.term[1])
        if rejected:
            # reject ends the stream before http_process_request() stamps the
            # request (TR -1) and with no response (status -1)
            log.t_request = -1
            log.status = -1
    end = _complete_at(head, buf, s.ctx.limits)
    if end >= 0:
        # the whole body came with the head: the request is complete and the
        # connection may stay open after the reply, as 2.6 keeps it (HTX_FL_EOM)
        s.req_done = True
    if s.req_done:
        s.buf = buf[end:]
    if out.action == R.CLOSE:
        s.close()
    elif out.action == R.TARPIT:
        _tarpit(s, head)
    else:
        send(s, head, txn.reply)
    return True


def _count_reject(s: RulesSession, be: Backend | None, http_rule: bool) -> None:
    """A reject ends the stream without a response: ``dreq`` on the frontend, and
    the status -1 its end counts as "other" (``process_stream()``: status / 100
    out of 1..5). ``http-request reject`` counts ``dreq`` on ``s->be`` too
    (``http_action_reject()``): the backend whose rule it was, else the
    frontend's own backend side (a ``listen``'s BACKEND row). A frontend's
    ``tcp-request content`` reject comes before ``http_wait_for_request()``:
    no ``req_tot``."""
    fe_c = s.fe_c
    fe_c.denied_req += 1
    fe_c.http_rsp[5] += 1
    if be is not None:
        # a backend's rule: the stream entered it (stream_set_backend(), SF_BE_ASSIGNED)
        c = be.counters
        c.cum_conn += 1
        c.cum_req += 1
        c.http_rsp[5] += 1
        if http_rule:
            c.denied_req += 1
        count = c.sess_per_sec.add(be.clock.now_ms())
        if count > c.sps_max:
            c.sps_max = count
        return
    if not http_rule:
        fe_c.cum_req -= 1  # counted with the head, which 2.6 had not parsed yet
        return
    router = s.ctx.router
    own = router.be_views.get(s.frontend.cfg.name) if router is not None else None
    if own is not None and own.be.cfg is s.frontend.cfg:  # (not a backend of the same name)
        own.be.counters.denied_req += 1


def stats_admin(s: RulesSession, conds: list[Condition]) -> bool:
    """``http_handle_stats()``: the first ``stats admin`` condition that passes on
    the request grants the admin form (none without a condition)."""
    txn = s.txn
    return txn is not None and any(cond.run(txn) for cond in conds)


def _complete_at(head: RequestHead, buf: bytes, limits: Limits) -> int:
    """Where the request ends in ``buf`` when its whole body is there, else -1."""
    if head.framing is Framing.NONE:
        return head.size
    if head.framing is Framing.LENGTH:
        end = head.size + head.content_length
        return end if len(buf) >= end else -1
    if head.framing is Framing.CHUNKED:
        body = ChunkedBody(True, limits)
        try:
            used = body.feed(buf[head.size :])
        except HttpError:
            return -1
        return head.size + used if body.done else -1
    return -1


def _tarpit(s: RulesSession, head: RequestHead) -> None:
    """Hold the request for ``timeout tarpit``, then answer (500 by default)."""
    s.pause_client()
    be = s.backend
    cfg = be.cfg if be is not None else s.frontend.cfg
    delay = (cfg.timeouts.tarpit or cfg.timeouts.connect or 0) / 1000.0
    txn = s.txn
    assert txn is not None
    reply = txn.reply
    s.timer_tarpit = s.loop.call_later(delay, lambda: _tarpit_end(s, head, reply))


def _tarpit_end(s: RulesSession, head: RequestHead, reply: object) -> None:
    """``http_process_tarpit()``: the wait is logged as queue time (Tw), the
    request was never stamped (TR -1)."""
    log = s.log
    if log is not None:
        log.t_request = -1
        log.t_queue = s._ms(s.loop.time())
    send(s, head, reply)


def send(s: RulesSession, head: RequestHead | None, reply: object) -> None:
    """A reply of the rules: the proxy's page for a status, a built message, a 401."""
    if reply is REJECT or reply is None:
        s.close()
        return
    message: Reply | None
    if isinstance(reply, Errmsg):
        message = _page(s, reply.status)
    elif isinstance(reply, AuthReply):
        page = _page(s, reply.status)
        message = page and Reply(
            page.status,
            page.start_line,
            (*page.fields, (b"www-authenticate", reply.challenge)),
            page.body,
            page.flags,
        )
    else:
        assert isinstance(reply, Reply)
        message = reply
    if message is not None and s.txn is not None and s.rules is not None:
        message = after_reply(s, message)
    if message is None:
        s.close()
        return
    s.reply(message.status, head, request_pending=not s.req_done, msg=message)


def _page(s: RulesSession, status: int) -> Reply | None:
    http = s.be_http if s.be_http is not None else s.fe_http
    return http.replies.get(status, errors.DEFAULT_REPLIES.get(status))


def after_reply(s: RulesSession, reply: Reply) -> Reply | None:
    """``http-after-response`` on one of herdsman's own replies."""
    router: R.Router | None = s.ctx.router  # typed: mypyc calls it natively
    txn = s.txn
    fe = s.rules
    assert router is not None
    assert txn is not None
    assert fe is not None
    bp = s.be_plan
    if not fe.http_after and (bp is None or not bp.http_after):
        return reply
    txn.status = reply.status
    txn.res_hdrs = list(reply.fields)
    txn.res_dirty = True
    verdict = router.after(txn, fe, bp)
    if verdict not in (RES_CONT, RES_STOP, RES_DONE):
        return None
    start = reply.start_line
    if txn.res_line_dirty:
        start = b"HTTP/1.1 %d %s\r\n" % (txn.status, txn.reason or b"")
    return Reply(txn.status, start, tuple(txn.res_hdrs or ()), reply.body, reply.flags)


def as_rewritten(s: RulesSession, head: RequestHead) -> RequestHead:
    """The request as the rules left it, which ``balance uri|url_param|hdr()``
    hash (2.6 chooses the server from the rewritten HTX message); other
    algorithms read nothing of it, so the head is not written and parsed again."""
    txn = s.txn
    if txn is None or not (txn.req_dirty or txn.line_dirty or txn.req_tail):
        return head
    be = s.backend
    if be is None or be.cfg.balance.algo not in FROM_REQUEST:
        return head
    parsed = s.parser.parse(rule_heads.request_head(txn, None, ()))
    return parsed if parsed is not None else head


def request_out(s: RulesSession, connection: bytes | None, add: Sequence[bytes]) -> bytes | None:
    """The request head rewritten by the rules, or None when they left it."""
    txn = s.txn
    if txn is None:
        return None
    if txn.req_dirty or txn.line_dirty:
        return rule_heads.request_head(txn, connection, add)
    if not txn.req_tail:
        return None
    head: RequestHead = txn.req_head  # the one whose fields req_tail follows
    return rule_heads.appended_head(head, txn.req_wire, connection, add)


def response(
    s: RulesSession, resp: ResponseHead, connection: bytes | None, after: list[bytes]
) -> bytes | None:
    """The response rules; the head to send when they changed it, b"" when
    unchanged, None when the session answered instead (http-response deny)."""
    router: R.Router | None = s.ctx.router  # typed: mypyc calls it natively
    txn = s.txn
    fe = s.rules
    if router is None or txn is None or fe is None:
        return b""
    bp = s.be_plan
    if not (fe.on_response or (bp is not None and bp.on_response)):
        if resp.status >= 400 and (txn.sc is not None or txn.sess_sc is not None):
            R.count_status(txn, resp.status)  # tracked counters see errors
        return b""  # nothing else reads or changes this response
    out = s.outcome if s.outcome is not None else R.Outcome()
    if s.redispatched:
        persistence.redispatched(out)
    verdict = router.response(txn, fe, bp, resp, out, s.server)
    if s.log is None and (txn.sc is not None or txn.sess_sc is not None) and counts_bytes(txn):
        # an http-response track-sc: the stream's bytes from here (its request's too)
        assert s.req is not None
        s._new_log(s.req)
        s.log_response(resp)
    if verdict == RES_CONT:
        verdict = router.after(txn, fe, bp)
    if verdict not in (RES_CONT, RES_STOP, RES_DONE):
        s.up.resp = None
        s.up.keep = False
        if s.be_c is not None:
            s.be_c.denied_resp += 1
        s.fe_c.denied_resp += 1
        send(s, s.req, txn.reply if txn.reply is not None else Errmsg(502))
        return None
    if not (txn.res_dirty or txn.res_line_dirty):
        return b""
    return rule_heads.response_head(txn, connection, after)


def count_stream_bytes(s: RulesSession) -> None:
    """The stream ends (before its log line, as ``process_stream()`` calls
    ``stream_process_counters()`` first): its trackers count its bytes."""
    txn = s.txn
    log = s.log
    if txn is not None and log is not None and txn.tracking():
        count_bytes(txn, log.bytes_in, log.bytes_out)


def done(s: RulesSession) -> None:
    """The transaction ended: its stream-level trackers stop."""
    txn = s.txn
    if txn is not None and txn.sc is not None:
        end_stream(txn)
    s.outcome = None


def end(s: RulesSession) -> None:
    """The session ended: its trackers stop, a pending tarpit is dropped."""
    if s.timer_tarpit is not None:
        s.timer_tarpit.cancel()
        s.timer_tarpit = None
    txn = s.txn
    if txn is not None:
        end_session(txn)
