"""A request's header list as rules change it (``sample/txn.py``): ``set-header``
and ``add-header`` of a name the request does not have go after the received
fields without a copy (``req_tail``); whatever the order of rewrites and reads,
the list the fetches see and the head written are those of HAProxy's
``http_add_header()``/``http_remove_header()`` on one list."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.http.parse import RequestParser
from herdsman.proxy.rule_heads import load_request, request_head
from herdsman.rules.http_actions import parse_http_rule
from herdsman.rules.parsing import ParseEnv
from herdsman.sample.pattern import PatternFiles
from herdsman.sample.txn import Txn

RAW = b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nConnection: keep-alive\r\nx-b:2\r\n\r\n"


def _env() -> ParseEnv:
    return ParseEnv(
        "p", "frontend", "f", 1, {}, [], PatternFiles(), lambda text: None, lambda name: None
    )


def _txn() -> Txn:
    head = RequestParser().parse(RAW)
    assert head is not None
    txn = Txn()
    load_request(txn, head)
    return txn


def _render(fields: list[tuple[bytes, bytes]]) -> bytes:
    lines = b"".join(n + b": " + v + b"\r\n" for n, v in fields if n.lower() != b"connection")
    return b"GET /x HTTP/1.1\r\n" + lines + b"x-add: 1\r\nconnection: close\r\n\r\n"


NAMES = st.sampled_from(["Host", "X-A", "x-a", "X-B", "X-New", "x-new", "Connection"])
OPS = st.one_of(
    st.tuples(st.sampled_from(["set-header", "add-header"]), NAMES, st.sampled_from("12")),
    st.tuples(st.just("del-header"), NAMES, st.just("")),
    st.tuples(st.just("read"), st.just(""), st.just("")),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(OPS, max_size=8))
def test_rewrites_and_reads_as_one_list(ops: list[Any]) -> None:
    env = _env()
    txn = _txn()
    model = list(_txn().req_headers() or [])
    for action, name, value in ops:
        lname = name.lower().encode()
        if action == "read":
            assert txn.req_headers() == model
            continue
        rule = parse_http_rule("request", [action, name, *([value] if value else [])], env)
        rule.action(txn)
        if action != "add-header":
            model = [(n, v) for n, v in model if n.lower() != lname]
        if action != "del-header":
            model.append((lname, value.encode()))
    assert request_head(txn, b"close", [b"x-add: 1"]) == _render(model)
    assert txn.req_headers() == model


def test_absent_name_takes_no_copy() -> None:
    """The received list stays the parsed head's own until something needs the whole."""
    env = _env()
    txn = _txn()
    received = txn.req_received()
    for words in (["set-header", "X-New", "1"], ["add-header", "X-Other", "2"]):
        parse_http_rule("request", words, env).action(txn)
    assert txn.req_received() is received
    assert not txn.req_dirty
    assert txn.req_tail == [(b"x-new", b"1"), (b"x-other", b"2")]
    parse_http_rule("request", ["set-header", "x-NEW", "3"], env).action(txn)
    assert txn.req_dirty  # the name is there now: one list
    assert txn.req_tail is None
    assert txn.req_headers() == [*received, (b"x-other", b"2"), (b"x-new", b"3")]
