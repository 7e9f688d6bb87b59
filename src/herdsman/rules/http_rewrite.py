"""The rewriting actions of ``http-request``/``http-response``/
``http-after-response`` (``http_act.c``): header actions (``set-header``,
``add-header``, ``del-header``, ``replace-header``, ``replace-value``) and the
start line (``set-method``, ``set-path``, ``set-pathq``, ``set-query``,
``set-uri``, ``replace-path``, ``replace-pathq``, ``replace-uri``,
``set-status``), on the transaction's own copies (``rules/headers.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from herdsman.rules import headers as H
from herdsman.rules.model import ACT_CONT, Rule
from herdsman.rules.parsing import RuleError, Where
from herdsman.sample import registry as R
from herdsman.sample.convs import exp_replace
from herdsman.sample.f_internal import wire
from herdsman.sample.regex import RegexError, compile_regex
from herdsman.sample.txn import Txn

Parsed = tuple[Callable[[Txn], int], int, bool]  # action, next word, final


# -- header actions -----------------------------------------------------------------------


def _hdrs_rw(where: Where) -> Callable[[Txn], list[tuple[bytes, bytes]]]:
    return Txn.res_hdrs_rw if where.response else Txn.req_hdrs_rw


def p_set_header(words: list[str], i: int, where: Where) -> Parsed:
    kw = words[0]
    if i + 1 >= len(words) or not words[i] or not words[i + 1]:
        raise RuleError("expects exactly 2 arguments")
    name = wire(words[i])
    lname = H.lower(name)
    value = where.env.logformat(words[i + 1], where.cap, where.argc, where.response)
    rw = _hdrs_rw(where)
    setting = kw == "set-header"

    def edit(txn: Txn, v: bytes) -> int:
        hdrs = rw(txn)
        if setting:
            H.remove(hdrs, lname)
        hdrs.append((lname, v))
        return ACT_CONT

    if where.response:
        return lambda txn: edit(txn, value(txn)), i + 2, False
    if "%" not in words[i + 1]:  # a literal value (no log-format tag)
        return RequestField(lname, value(Txn()), setting, edit), i + 2, False

    def act(txn: Txn) -> int:
        # the common case: a name the request does not have, appended without a copy
        v = value(txn)
        if txn.req_append(lname, v, setting):
            return ACT_CONT
        return edit(txn, v)

    return act, i + 2, False


class RequestField:
    """``http-request set-header|add-header <name> <literal>``: the action, and
    what it adds, which ``merge_fields()`` reads."""

    __slots__ = ("lname", "value", "unique", "edit")

    def __init__(
        self, lname: bytes, value: bytes, unique: bool, edit: Callable[[Txn, bytes], int]
    ) -> None:
        self.lname = lname
        self.value = value
        self.unique = unique  # set-header
        self.edit = edit  # on the transaction's own list

    def __call__(self, txn: Txn) -> int:
        if txn.req_append(self.lname, self.value, self.unique):
            return ACT_CONT
        return self.edit(txn, self.value)


def merge_fields(rules: list[Rule]) -> list[Rule]:
    """Runs of unconditional ``RequestField`` rules on distinct names as one rule
    each, adding all its fields at once (``Txn.req_extend()``), else one by one
    in order: the same list, fewer calls per request."""
    out: list[Rule] = []
    i = 0
    while i < len(rules):
        run: list[RequestField] = []
        names: set[bytes] = set()
        while i + len(run) < len(rules):
            rule = rules[i + len(run)]
            act = rule.action
            if rule.cond is not None or not isinstance(act, RequestField) or act.lname in names:
                break
            names.add(act.lname)
            run.append(act)
        if len(run) < 2:
            out.append(rules[i])
            i += 1
            continue
        out.append(replace(rules[i], action=_fields(run)))
        i += len(run)
    return out


def _fields(run: list[RequestField]) -> Callable[[Txn], int]:
    fields = [(f.lname, f.value) for f in run]
    unique = tuple((f.lname, b"\n" + f.lname + b":") for f in run if f.unique)
    names = frozenset(f.lname for f in run)
    wire = b"".join(n + b": " + v + b"\r\n" for n, v in fields if n != b"connection")

    def act(txn: Txn) -> int:
        if not txn.req_extend(fields, unique, names, wire):
            for f in run:
                f(txn)
        return ACT_CONT

    return act


def p_del_header(words: list[str], i: int, where: Where) -> Parsed:
    if i >= len(words) or not words[i]:
        raise RuleError("expects at least 1 argument")
    name = wire(words[i])
    how = "str"
    rx: re.Pattern[bytes] | None = None
    if i + 1 < len(words) and words[i + 1] == "-m":
        i += 1
        if i + 1 >= len(words) or not words[i + 1]:
            raise RuleError("-m flag expects exactly 1 argument")
        i += 1
        how = words[i]
        if how == "reg":
            try:
                rx = compile_regex(words[i - 2])
            except RegexError as err:
                raise RuleError(err.message) from None
        elif how not in ("str", "beg", "end", "sub"):
            raise RuleError(f"-m with unsupported matching method '{how}'")
    rw = _hdrs_rw(where)
    lname = H.lower(name)

    def act(txn: Txn) -> int:
        if how == "str":
            H.remove(rw(txn), lname)
        else:
            H.remove_matching(rw(txn), how, name, rx)
        return ACT_CONT

    return act, i + 1, False


def p_replace_header(words: list[str], i: int, where: Where) -> Parsed:
    full = words[0] == "replace-header"
    if i + 2 >= len(words) or not words[i] or not words[i + 1] or not words[i + 2]:
        raise RuleError("expects exactly 3 arguments")
    lname = H.lower(wire(words[i]))
    try:
        rx = compile_regex(words[i + 1])
    except RegexError as err:
        raise RuleError(err.message) from None
    value = where.env.logformat(words[i + 2], where.cap, where.argc, where.response)
    rw = _hdrs_rw(where)
    headers = Txn.res_headers if where.response else Txn.req_headers

    def act(txn: Txn) -> int:
        current = headers(txn) or []
        if not any(H.lower(n) == lname for n, _ in current):
            return ACT_CONT
        H.replace(rw(txn), lname, rx, value(txn), full)
        return ACT_CONT

    return act, i + 3, False


# -- the request line -----------------------------------------------------------------------


def _only_arg(words: list[str], i: int, count: int, message: str) -> None:
    have = all(i + k < len(words) and words[i + k] for k in range(count))
    nxt = words[i + count] if i + count < len(words) else ""
    if not have or (nxt and nxt not in ("if", "unless")):
        raise RuleError(message)


def p_set_line(words: list[str], i: int, where: Where) -> Parsed:
    kw = words[0]
    _only_arg(words, i, 1, "expects exactly 1 argument <format>")
    value = where.env.logformat(words[i], where.env.cap(R.FE_HRQ_HDR, R.BE_HRQ_HDR), where.argc)

    def act(txn: Txn) -> int:
        v = value(txn)
        uri = txn.uri or b""
        if kw == "set-method":
            txn.method = v
        elif kw == "set-path":
            txn.uri = H.replace_path(uri, v, False)
        elif kw == "set-pathq":
            txn.uri = H.replace_path(uri, v, True)
        elif kw == "set-query":
            txn.uri = H.replace_query(uri, b"?" + v)
        else:
            set_uri(txn, v)
        txn.line_dirty = True
        return ACT_CONT

    return act, i + 1, False


def set_uri(txn: Txn, uri: bytes) -> None:
    """``http_replace_req_uri()``: an absolute URI's authority becomes the Host."""
    txn.uri = uri
    auth = H.authority(uri)
    if auth is not None and txn.method != b"CONNECT":
        hdrs = txn.req_hdrs_rw()
        for k, (n, _) in enumerate(hdrs):
            if H.lower(n) == b"host":
                hdrs[k] = (n, auth)


def p_replace_line(words: list[str], i: int, where: Where) -> Parsed:
    kw = words[0]
    _only_arg(words, i, 2, "expects exactly 2 arguments <match-regex> and <replace-format>")
    try:
        rx = compile_regex(words[i])
    except RegexError as err:
        raise RuleError(f"failed to parse the regex : {err.message}") from None
    value = where.env.logformat(words[i + 1], where.env.cap(R.FE_HRQ_HDR, R.BE_HRQ_HDR), where.argc)

    def act(txn: Txn) -> int:
        uri = txn.uri or b""
        if kw == "replace-uri":
            part = uri
        else:
            start, end = H._path_span(uri)
            part = uri[start:end]
            if kw == "replace-path":
                q = part.find(b"?")
                part = part if q < 0 else part[:q]
        if not part:
            return ACT_CONT
        m = rx.search(part)
        if m is None:
            return ACT_CONT
        new = exp_replace(value(txn), m)
        if kw == "replace-uri":
            set_uri(txn, new)
        else:
            txn.uri = H.replace_path(uri, new, kw == "replace-pathq")
        txn.line_dirty = True
        return ACT_CONT

    return act, i + 2, False


def p_set_status(words: list[str], i: int, where: Where) -> Parsed:
    if i >= len(words) or not words[i]:
        raise RuleError("expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>")
    text = words[i]
    if not text.lstrip("+-").isdigit() or not 100 <= int(text) <= 999:
        raise RuleError("expects an integer status code between 100 and 999")
    status = int(text)
    i += 1
    custom: bytes | None = None
    if (
        i + 1 < len(words)
        and words[i] == "reason"
        and words[i + 1]
        and words[i + 1] not in ("if", "unless")
    ):
        custom = wire(words[i + 1])
        i += 2

    def act(txn: Txn) -> int:
        from herdsman.rules.reply import reason

        txn.status = status
        txn.reason = custom if custom is not None else reason(status).encode()
        txn.res_line_dirty = True
        return ACT_CONT

    return act, i, False


__all__ = [
    "Parsed",
    "p_del_header",
    "p_replace_header",
    "p_replace_line",
    "p_set_header",
    "p_set_line",
    "p_set_status",
    "set_uri",
]
