"""``http-request``, ``http-response`` and ``http-after-response`` rules
(``http_rules.c``, ``http_act.c``, ``vars.c``, ``stick_table.c``).

``parse_http_rule()`` reads one line's words after the keyword with
HAProxy's grammar and texts, and returns a ``Rule`` whose action closure
works on the ``Txn``: header and start-line rewrites happen on the
transaction's own copies (``req_hdrs_rw()``), replies and decisions are
written to ``txn.reply``/``txn.tarpit``; the data path applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from herdsman.defs.words import action_suggest
from herdsman.rules.http_rewrite import (
    Parsed,
    p_del_header,
    p_replace_header,
    p_replace_line,
    p_set_header,
    p_set_line,
    p_set_status,
)
from herdsman.rules.model import (
    ACT_ABRT,
    ACT_CONT,
    ACT_DENY,
    ACT_STOP,
    Rule,
)
from herdsman.rules.parsing import AclError, ParseEnv, RuleError, Where
from herdsman.rules.redirect import parse_redirect, redirect_action
from herdsman.rules.reply import Errmsg, ReplySpec, make_reply, parse_http_reply
from herdsman.rules.track import parse_sc_action, parse_track
from herdsman.sample import registry as R
from herdsman.sample.f_internal import wire
from herdsman.sample.f_vars import VAR_CONDITIONS, var_name, var_set, var_store
from herdsman.sample.registry import CompileError
from herdsman.sample.txn import Txn

# The keywords 2.6.12 lists (in its order) when an action is unknown; "(*)" marks
# the ones matched by prefix.
REQ_KEYWORDS = (
    "wait-for-handshake", "ot-group", "set-log-level", "set-nice", "use-service",
    "sc-inc-gpc(*)", "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)",
    "send-spoe-group", "do-resolve(*)", "cache-use", "add-acl(*)", "add-header", "allow", "auth",
    "capture", "del-acl(*)", "del-header", "del-map(*)", "deny", "disable-l7-retry",
    "early-hint", "normalize-uri", "redirect", "reject", "replace-header", "replace-path",
    "replace-pathq", "replace-uri", "replace-value", "return", "set-header", "set-map(*)",
    "set-method", "set-path", "set-pathq", "set-query", "set-uri", "strict-mode", "tarpit",
    "track-sc(*)", "set-timeout", "wait-for-body", "set-var-fmt(*)", "set-var(*)",
    "unset-var(*)", "set-dst", "set-dst-port", "set-mark", "set-src", "set-src-port",
    "set-tos", "silent-drop", "set-priority-class", "set-priority-offset",
)  # fmt: skip
RES_KEYWORDS = (
    "ot-group", "set-log-level", "set-nice", "sc-inc-gpc(*)", "sc-inc-gpc0(*)",
    "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group", "cache-store",
    "add-acl(*)", "add-header", "allow", "capture", "del-acl(*)", "del-header", "del-map(*)",
    "deny", "redirect", "replace-header", "replace-value", "return", "set-header",
    "set-map(*)", "set-status", "strict-mode", "track-sc(*)", "wait-for-body",
    "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-mark", "set-tos", "silent-drop",
)  # fmt: skip
AFTER_KEYWORDS = (
    "ot-group", "add-header", "allow", "capture", "del-header", "replace-header",
    "replace-value", "set-header", "set-status", "strict-mode", "set-var-fmt(*)", "set-var(*)",
    "unset-var(*)",
)  # fmt: skip
KEYWORDS = {"request": REQ_KEYWORDS, "response": RES_KEYWORDS, "after-response": AFTER_KEYWORDS}
# The services "use-service" may name (stream.c's service_keywords), with the name of
# their applet in logs: Debian's 2.6.12 is built with USE_PROMEX=1, so the exporter
# (addons/promex) is one; herdsman has it built in.
SERVICES = {"prometheus-exporter": "<PROMEX>"}
LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


def http_where(which: str, env: ParseEnv) -> Where:
    response = which != "request"
    if response:
        return Where(
            which, env, env.cap(R.FE_HRS_HDR, R.BE_HRS_HDR), "in http-response response in", True
        )
    return Where(
        which, env, env.cap(R.FE_HRQ_HDR, R.BE_HRQ_HDR), "in http-request expression in", False
    )


Parser = Callable[[list[str], int, Where], Parsed]


def lookup(which: str, word: str) -> str | None:
    """``action_lookup()``: the keyword (as listed, without "(*)") a word names."""
    for kw in KEYWORDS[which]:
        if kw.endswith("(*)"):
            base = kw[:-3]
            if word.startswith(base):
                return base
        elif word == kw:
            return kw
    return None


# -- final actions ----------------------------------------------------------------------------


def p_allow(words: list[str], i: int, where: Where) -> Parsed:
    return (lambda txn: ACT_STOP), i, True


def p_deny(words: list[str], i: int, where: Where) -> Parsed:
    kw = words[0]
    tarpit = kw == "tarpit"
    default = 502 if where.response else (500 if tarpit else 403)
    nxt = words[i] if i < len(words) else ""
    if not nxt or nxt in ("if", "unless"):
        spec: ReplySpec = ReplySpec(default, errmsg=True)
    elif nxt == "deny_status" and (
        i + 2 >= len(words) or not words[i + 2] or words[i + 2] in ("if", "unless")
    ):
        sub = ["status", words[i + 1] if i + 1 < len(words) else "", "default-errorfiles"]
        spec, _ = parse_http_reply(sub, 0, where.env, default, where.cap, where.response)
        i += 2
    else:
        if nxt == "deny_status":
            words = list(words)
            words[i] = "status"
        spec, i = parse_http_reply(words, i, where.env, default, where.cap, where.response)

    def act(txn: Txn) -> int:
        txn.reply = spec.build(txn)
        txn.tarpit = tarpit
        return ACT_DENY

    return act, i, True


def p_return(words: list[str], i: int, where: Where) -> Parsed:
    spec, i = parse_http_reply(words, i, where.env, 200, where.cap, where.response)

    def act(txn: Txn) -> int:
        txn.reply = spec.build(txn)
        return ACT_ABRT

    return act, i, True


def p_auth(words: list[str], i: int, where: Where) -> Parsed:
    realm = where.env.proxy
    if i < len(words) and words[i] == "realm":
        if i + 1 >= len(words) or not words[i + 1]:
            raise RuleError("missing realm value.\n")
        realm = words[i + 1]
        i += 2
    header = b'Basic realm="' + wire(realm) + b'"'

    def act(txn: Txn) -> int:
        # the proxy's 401 page with WWW-Authenticate (http_action_auth())
        txn.reply = AuthReply(401, header)
        return ACT_ABRT

    return act, i, True


@dataclass(frozen=True, slots=True)
class AuthReply:
    """The proxy's page for ``status`` with its ``WWW-Authenticate`` replaced."""

    status: int
    challenge: bytes


def p_reject(words: list[str], i: int, where: Where) -> Parsed:
    def act(txn: Txn) -> int:
        txn.reply = REJECT
        return ACT_ABRT

    return act, i, True


REJECT = Errmsg(0)  # no reply: the connection is closed at once


def p_redirect(words: list[str], i: int, where: Where) -> Parsed:
    spec = parse_redirect(words[i:], where.env, True, where.response)
    return redirect_action(spec), len(words), not spec.ignore_empty


# -- variables ---------------------------------------------------------------------------------


def p_vars(words: list[str], i: int, where: Where) -> Parsed:
    word = words[0]
    if word.startswith("set-var-fmt"):
        rest, mode = word[11:], 2
    elif word.startswith("set-var"):
        rest, mode = word[7:], 1
    else:
        rest, mode = word[9:], 0
    if rest[:1] != "(":
        raise RuleError(
            f"invalid or incomplete action '{word}'. Expects 'set-var(<var-name>)', "
            "'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
        )
    if not rest.endswith(")"):
        raise RuleError(
            f"incomplete argument after action '{word}'. Expects 'set-var(<var-name>)', "
            "'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
        )
    inner = rest[1:-1].split(",")
    name, conds = inner[0], [c for c in inner[1:]]
    if any(conds) and mode == 0:
        raise RuleError(
            'unset-var does not expect parameters after the variable name. Only "set-var" '
            'and "set-var-fmt" manage conditions'
        )
    flags: set[str] = set()
    for cond in conds:
        if not cond:
            break
        if cond not in VAR_CONDITIONS:
            raise RuleError(f'unknown condition "{cond}"')
        flags.add(cond)
    try:
        scope, key = var_name(name)
    except CompileError as err:
        raise RuleError(err.message) from None
    frozen = frozenset(flags)
    if mode == 0:

        def unset(txn: Txn) -> int:
            store = var_store(txn, scope, False)
            if store is not None:
                store.pop(key, None)
            return ACT_CONT

        return unset, i, False
    if mode == 2:
        fmt = where.env.logformat(
            words[i] if i < len(words) else "", where.cap, where.argc, where.response, http=False
        )

        def set_fmt(txn: Txn) -> int:
            var_set(txn, scope, key, fmt(txn), frozen)
            return ACT_CONT

        return set_fmt, i + 1, False
    if i >= len(words) or not words[i]:
        raise RuleError("missing fetch method")
    expr, i = where.env.expr(words, i, where.argc, where.response)
    if not expr.val & where.cap:
        raise RuleError(
            f"fetch method '{word}' extracts information from '{R.src_names(expr.use)}', none "
            "of which is available here"
        )
    one = expr.one

    def set_expr(txn: Txn) -> int:
        value = one(txn)
        if value is not None:
            var_set(txn, scope, key, value, frozen)
        return ACT_CONT

    return set_expr, i, False


# -- captures and logs ---------------------------------------------------------------------------


def p_capture(words: list[str], i: int, where: Where) -> Parsed:
    from herdsman.rules.model import Capture

    env = where.env
    j = i
    while j < i + 3 and j < len(words) and words[j] and words[j] not in ("if", "unless"):
        j += 1
    if j < i + 3:
        raise RuleError("expects <expression> [ 'len' <length> | id <idx> ]")
    expr, i = env.expr(words, i, "in capture rule in", where.response)
    check = R.FE_HRS_HDR if where.response else R.FE_HRQ_HDR
    if not expr.val & check:
        raise RuleError(
            f"fetch method '{words[i - 1]}' extracts information from '{R.src_names(expr.use)}', "
            "none of which is available here"
        )
    nxt = words[i] if i < len(words) else ""
    if not nxt:
        raise RuleError("expects 'len or 'id'")
    if nxt == "len" and not where.response:
        if not env.fe:
            raise RuleError(f"proxy '{env.proxy}' has no frontend capability")
        length = _atoi(words[i + 1] if i + 1 < len(words) else "")
        if length <= 0:
            raise RuleError("length must be > 0")
        slot = sum(1 for c in env.captures if isinstance(c, Capture) and not c.response)
        env.captures.append(Capture(length, False))
        i += 2
    elif nxt == "id":
        text = words[i + 1] if i + 1 < len(words) else ""
        if not text.lstrip("+-").isdigit():
            raise RuleError(f"cannot parse id '{text}'")
        slot = int(text)
        i += 2
    else:
        raise RuleError("expects 'len or 'id'")
    one = expr.one
    response = where.response
    slots = env.captures  # the proxy's, declared before or after this rule

    def act(txn: Txn) -> int:
        value = one(txn)
        if value is None:
            return ACT_CONT
        from herdsman.sample.types import to_str

        text = to_str(value) or b""
        store = txn.captures_res if response else txn.captures
        if store is None:
            store = []
            if response:
                txn.captures_res = store
            else:
                txn.captures = store
        while len(store) <= slot:
            store.append(None)
        mine = [c for c in slots if isinstance(c, Capture) and c.response == response]
        if slot < len(mine):
            store[slot] = text[: mine[slot].length]
        return ACT_CONT

    return act, i, False


def _atoi(text: str) -> int:
    s = text.lstrip()
    sign = -1 if s[:1] == "-" else 1
    s = s.lstrip("+-")
    digits = len(s) - len(s.lstrip("0123456789"))
    return sign * int(s[:digits] or "0")


def p_set_log_level(words: list[str], i: int, where: Where) -> Parsed:
    word = words[i] if i < len(words) else ""
    if word == "silent":
        level = -1
    elif word in LOG_LEVELS:
        level = LOG_LEVELS.index(word)
    else:
        raise RuleError("expects exactly 1 argument (log level name or 'silent')")

    def act(txn: Txn) -> int:
        txn.log_level = level
        return ACT_CONT

    return act, i + 1, False


@dataclass(frozen=True, slots=True)
class Service:
    """``txn.reply`` after a ``use-service`` rule: the applet that answers the
    request (``s->target`` in 2.6's ``process_use_service()``)."""

    name: str
    applet: str  # its name in traffic logs (%s), as "<STATS>" for the stats page


def service_name(name: str, args0: str, args1: str) -> str:
    """``stream_parse_use_service()``: ``name`` if it is a known service. Its texts
    quote the line's ``args[0]``/``args[1]``, which are the action and the name in
    an http-request rule but "tcp-request" and "content" in a tcp-request one."""
    if not name:
        raise RuleError(f"'{args0}' expects a service name.")
    if name not in SERVICES:
        raise RuleError(f"'{args1}' unknown service name.")
    return name


def p_use_service(words: list[str], i: int, where: Where) -> Parsed:
    name = words[i] if i < len(words) else ""
    service = Service(service_name(name, words[0], name), SERVICES[name])

    def act(txn: Txn) -> int:
        txn.reply = service
        return ACT_STOP  # not final: 2.6 does not warn about the rules after it

    return act, i + 1, False


def p_set_src(words: list[str], i: int, where: Where) -> Parsed:
    from ipaddress import IPv4Address, IPv6Address

    from herdsman.sample import types as T

    kw = words[0]
    if i >= len(words) or not words[i]:
        raise RuleError("missing fetch method")
    expr, i = where.env.expr(words, i, where.argc)
    one = expr.one
    port = kw.endswith("-port")
    dst = kw.startswith("set-dst")

    def act(txn: Txn) -> int:
        value = one(txn)
        if value is None:
            return ACT_CONT
        if port:
            n = T.to_int(value)
            if n is not None:
                if dst:
                    txn.dst_port = n & 0xFFFF
                else:
                    txn.src_port = n & 0xFFFF
            return ACT_CONT
        addr = T.to_addr(value)
        if isinstance(addr, IPv4Address | IPv6Address):
            if dst:
                txn.dst = addr
            else:
                txn.src, txn.src_port = addr, 0
        return ACT_CONT

    return act, i, False


PARSERS: dict[str, Parser] = {
    "set-header": p_set_header,
    "add-header": p_set_header,
    "del-header": p_del_header,
    "replace-header": p_replace_header,
    "replace-value": p_replace_header,
    "set-method": p_set_line,
    "set-path": p_set_line,
    "set-pathq": p_set_line,
    "set-query": p_set_line,
    "set-uri": p_set_line,
    "replace-path": p_replace_line,
    "replace-pathq": p_replace_line,
    "replace-uri": p_replace_line,
    "set-status": p_set_status,
    "allow": p_allow,
    "deny": p_deny,
    "tarpit": p_deny,
    "return": p_return,
    "auth": p_auth,
    "reject": p_reject,
    "redirect": p_redirect,
    "set-var": p_vars,
    "set-var-fmt": p_vars,
    "unset-var": p_vars,
    "capture": p_capture,
    "set-log-level": p_set_log_level,
    "track-sc": parse_track,
    "sc-inc-gpc": parse_sc_action,
    "sc-inc-gpc0": parse_sc_action,
    "sc-inc-gpc1": parse_sc_action,
    "sc-set-gpt0": parse_sc_action,
    "set-src": p_set_src,
    "set-src-port": p_set_src,
    "set-dst": p_set_src,
    "set-dst-port": p_set_src,
    "use-service": p_use_service,
}


def parse_http_rule(which: str, words: list[str], env: ParseEnv) -> Rule:
    """One ``http-<which>`` line, ``words[0]`` being the action. Raises RuleError
    with the whole text after "parsing [file:line]" (HAProxy's framings)."""
    head = f"http-{which}"
    word = words[0] if words else ""
    kw = lookup(which, word) if word else None
    if kw is None:
        names = ", ".join(f"'{k}'" for k in KEYWORDS[which])
        best = action_suggest(word, KEYWORDS[which])
        hint = f" Did you mean '{best}' maybe ?" if best else ""
        missing = "" if word else " (missing argument)"
        raise RuleError(f": '{head}' expects {names}, but got '{word}'{missing}.{hint}")
    parser = PARSERS.get(kw)
    if parser is None:
        raise RuleError(
            f" : error detected in {_type_str(env)} '{env.proxy}' while parsing '{head} {word}' "
            f"rule : action '{kw}' is not supported by herdsman."
        )
    where = http_where(which, env)
    try:
        action, i, final = parser(words, 1, where)
    except RuleError as err:
        raise RuleError(
            f" : error detected in {_type_str(env)} '{env.proxy}' while parsing '{head} {word}' "
            f"rule : {err.message}."
        ) from None
    cond = None
    nxt = words[i] if i < len(words) else ""
    if nxt in ("if", "unless"):
        try:
            cond = env.condition(words[i:], where.response)
        except AclError as acl_err:
            raise RuleError(
                f" : error detected while parsing an '{head} {word}' condition : {acl_err.message}."
            ) from None
    elif nxt:
        raise RuleError(
            f": '{head} {word}' expects either 'if' or 'unless' followed by a condition but "
            f"found '{nxt}'."
        )
    return Rule(kw, action, cond, final, env.file, env.line)


def _type_str(env: ParseEnv) -> str:
    """``proxy_type_str()``"""
    return {"frontend": "frontend", "backend": "backend"}.get(env.kind, "proxy")


__all__ = [
    "AuthReply",
    "REJECT",
    "SERVICES",
    "Service",
    "Where",
    "make_reply",
    "parse_http_rule",
]
