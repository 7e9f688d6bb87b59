"""``tcp-request connection|session|content`` and ``tcp-response content`` rules,
``tcp-request``/``tcp-response inspect-delay`` (``tcp_rules.c``, ``tcp_act.c``).

The actions shared with HTTP rules (variables, counters, source address) use
the same parsers (``http_actions.py``) with this rule set's places.
"""

from __future__ import annotations

from collections.abc import Callable

from herdsman.defs.words import action_suggest
from herdsman.rules.http_actions import (
    Parser,
    p_set_log_level,
    p_set_src,
    p_vars,
    service_name,
)
from herdsman.rules.model import ACT_ABRT, ACT_CONT, ACT_DENY, ACT_STOP, Rule
from herdsman.rules.parsing import AclError, ParseEnv, RuleError, Where
from herdsman.rules.track import parse_sc_action, parse_track
from herdsman.sample import registry as R
from herdsman.sample.txn import Txn

_L4 = (
    "sc-inc-gpc(*)", "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)",
    "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-dst", "set-dst-port", "set-mark",
    "set-src", "set-src-port", "set-tos", "silent-drop",
)  # fmt: skip
_CONTENT = (
    "ot-group", "set-log-level", "set-nice", "switch-mode", "use-service", "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group",
    "do-resolve(*)", "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-src", "set-src-port",
    "set-dst", "set-dst-port", "set-mark", "set-tos", "silent-drop", "set-priority-class",
    "set-priority-offset",
)  # fmt: skip
_RESPONSE = (
    "accept", "close", "reject", "ot-group", "set-log-level", "set-nice", "sc-inc-gpc(*)",
    "sc-inc-gpc0(*)", "sc-inc-gpc1(*)", "sc-set-gpt(*)", "sc-set-gpt0(*)", "send-spoe-group",
    "set-var-fmt(*)", "set-var(*)", "unset-var(*)", "set-mark", "set-tos", "silent-drop",
)  # fmt: skip
_BUILTIN = ("accept", "reject", "capture", "track-sc", "expect-proxy", "expect-netscaler-cip")
_SHARED: dict[str, Parser] = {
    "sc-inc-gpc": parse_sc_action,
    "sc-inc-gpc0": parse_sc_action,
    "sc-inc-gpc1": parse_sc_action,
    "sc-set-gpt0": parse_sc_action,
    "set-var": p_vars,
    "set-var-fmt": p_vars,
    "unset-var": p_vars,
    "set-src": p_set_src,
    "set-src-port": p_set_src,
    "set-dst": p_set_src,
    "set-dst-port": p_set_src,
    "set-log-level": p_set_log_level,
}

# a tcp rule's own results: the data path reads them in txn.reply
TCP_REJECT = "reject"
TCP_CLOSE = "close"


def _lookup(keywords: tuple[str, ...], word: str) -> str | None:
    for kw in keywords:
        if kw.endswith("(*)"):
            if word.startswith(kw[:-3]):
                return kw[:-3]
        elif word == kw:
            return kw
    return None


def _type_str(env: ParseEnv) -> str:
    return {"frontend": "frontend", "backend": "backend"}.get(env.kind, "proxy")


def _where(which: str, env: ParseEnv) -> Where:
    if which == "connection":
        return Where(
            "tcp-request connection",
            env,
            R.FE_CON_ACC,
            "in tcp-request connection expression in",
            False,
        )
    if which == "session":
        return Where(
            "tcp-request session", env, R.FE_SES_ACC, "in tcp-request session expression in", False
        )
    if which == "content":
        return Where(
            "tcp-request content",
            env,
            env.cap(R.FE_REQ_CNT, R.BE_REQ_CNT),
            "in tcp-request content expression in",
            False,
        )
    return Where(
        "tcp-response content",
        env,
        env.cap(R.FE_RES_CNT, R.BE_RES_CNT),
        "in tcp-response content expression in",
        True,
    )


def _accept(txn: Txn) -> int:
    return ACT_STOP


def _reject(txn: Txn) -> int:
    txn.reply = TCP_REJECT
    return ACT_DENY


def _expect_proxy(txn: Txn) -> int:
    """``ACT_TCP_EXPECT_PX``: read a PROXY header before the session (the data path's
    ``proxy/proxylayer.py``), and go on with the next rule."""
    txn.expect_proxy = True
    return ACT_CONT


def _close(txn: Txn) -> int:
    txn.reply = TCP_CLOSE
    return ACT_ABRT


def parse_tcp_rule(head: str, which: str, words: list[str], env: ParseEnv) -> Rule:
    """One ``tcp-request <which>`` / ``tcp-response content`` line: ``words`` are
    the words after ``<which>``. RuleError carries HAProxy's text (after
    "parsing [file:line] : ")."""
    where = _where(which, env)
    args0, args1 = head, which
    kw_word = words[0] if words else ""
    response = head == "tcp-response"
    i = 1
    final = False
    action: Callable[[Txn], int]
    if kw_word == "accept":
        action, final = _accept, True
    elif kw_word == "reject":
        action, final = _reject, True
    elif kw_word == "close" and response:
        action = _close
    elif kw_word.startswith("track-sc") and not response:
        try:
            action, i, _ = parse_track(words, 1, where)
        except RuleError as err:
            raise RuleError(f"'{args0} {args1} {kw_word}' : {err.message}") from None
    elif kw_word == "expect-proxy" and not response:
        mode = words[1] if len(words) > 1 else ""
        if mode != "layer4":
            raise RuleError(
                f"'{args0} {args1} {kw_word}' only supports 'layer4' in {_type_str(env)} "
                f"'{env.proxy}' (got '{mode}')"
            )
        if which != "connection":
            raise RuleError(
                f"'{kw_word} {mode}' is not allowed in '{args0} {args1}' rules in "
                f"{_type_str(env)} '{env.proxy}'"
            )
        action, i = _expect_proxy, 2
    else:
        keywords = _RESPONSE if response else (_CONTENT if which == "content" else _L4)
        kw = _lookup(keywords, kw_word)
        builtin = kw_word in ("capture", "expect-netscaler-cip") and not response
        if kw is None and not builtin:
            best = action_suggest(kw_word, (*keywords, *(() if response else _BUILTIN)))
            hint = f" Did you mean '{best}' maybe ?" if best else ""
            names = ", ".join(f"'{k}'" for k in keywords)
            if response:
                raise RuleError(
                    f"'{args0} {args1}' expects {names} in {_type_str(env)} '{env.proxy}' "
                    f"(got '{kw_word}').{hint}"
                )
            raise RuleError(
                f"'{args0} {args1}' expects 'accept', 'reject', 'capture', 'expect-proxy', "
                f"'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', {names} in "
                f"{_type_str(env)} '{env.proxy}' (got '{kw_word}').{hint}\n"
            )
        if kw == "use-service":
            service_name(words[1] if len(words) > 1 else "", args0, args1)
            # service_parse_prometheus_exporter(): the only service is for HTTP rules
            raise RuleError("Prometheus exporter service only available on 'http-request' rulesets")
        parser = _SHARED.get(kw or "")
        if parser is None or (kw == "set-log-level" and which != "content" and not response):
            raise RuleError(
                f"'{args0} {args1} {kw_word}' is not supported by herdsman; remove it or use haproxy"
            )
        action, i, final = parser(words, 1, where)
    cond = None
    nxt = words[i] if i < len(words) else ""
    if nxt in ("if", "unless"):
        try:
            cond = env.condition(words[i:], response)
        except AclError as acl_err:
            raise RuleError(
                f"'{args0} {args1} {kw_word}' : error detected in {_type_str(env)} "
                f"'{env.proxy}' while parsing '{nxt}' condition : {acl_err.message}"
            ) from None
    elif nxt:
        raise RuleError(
            f"'{args0} {args1} {kw_word}' only accepts 'if' or 'unless', in {_type_str(env)} "
            f"'{env.proxy}' (got '{nxt}')"
        )
    return Rule(kw_word, action, cond, final, env.file, env.line)


__all__ = ["TCP_CLOSE", "TCP_REJECT", "parse_tcp_rule"]
