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
from herdsman.http.rewrite import head_bytes
from herdsman.proxy.rule_heads import appended_head, load_request, request_head
from herdsman.rules.eval import run_rules
from herdsman.rules.http_actions import parse_http_rule
from herdsman.rules.http_rewrite import merge_fields
from herdsman.rules.parsing import ParseEnv
from herdsman.sample.pattern import PatternFiles
from herdsman.sample.txn import Txn

# received heads: odd lines (no space, blanks, a TE value the parser rewrites),
# and canonical ones, with and without Connection lines
ODD = [
    b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nConnection: keep-alive\r\nx-b:2\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\nX-A:  1\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a \r\nX-A: 1\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\nTE: trailers, gzip\r\n\r\n",
]
PLAIN = [
    b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-b: 2\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n",
    b"GET /x HTTP/1.1\r\nconnection: close\r\nHost: a\r\nX-A: 1:2\r\n\r\n",
]


def _env() -> ParseEnv:
    return ParseEnv(
        "p", "frontend", "f", 1, {}, [], PatternFiles(), lambda text: None, lambda name: None
    )


def _txn(raw: bytes) -> Txn:
    head = RequestParser().parse(raw)
    assert head is not None
    txn = Txn()
    load_request(txn, head)
    return txn


def _render(fields: list[tuple[bytes, bytes]]) -> bytes:
    """The head as writing every field again makes it."""
    lines = b"".join(n + b": " + v + b"\r\n" for n, v in fields if n.lower() != b"connection")
    return b"GET /x HTTP/1.1\r\n" + lines + b"x-add: 1\r\nconnection: close\r\n\r\n"


NAMES = st.sampled_from(["Host", "X-A", "x-a", "X-B", "X-New", "x-new", "Connection"])
# a literal value, or one made at run time (not merged)
VALUES = st.sampled_from(["1", "2", "%[str(3)]"])
OPS = st.one_of(
    st.tuples(st.sampled_from(["set-header", "add-header"]), NAMES, VALUES),
    st.tuples(st.just("del-header"), NAMES, st.just("")),
    st.tuples(st.just("read"), st.just(""), st.just("")),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(ODD + PLAIN), st.lists(OPS, max_size=10))
def test_rewrites_and_reads_as_one_list(raw: bytes, ops: list[Any]) -> None:
    """The rules run as the data path runs them (runs of literal fields merged),
    the reads between them."""
    env = _env()
    txn = _txn(raw)
    model = list(_txn(raw).req_headers() or [])
    rules = []
    for action, name, value in [*ops, ("read", "", "")]:
        lname = name.lower().encode()
        if action == "read":
            run_rules(merge_fields(rules), txn)
            rules = []
            assert txn.req_headers() == model
            continue
        rules.append(parse_http_rule("request", [action, name, *([value] if value else [])], env))
        if action != "add-header":
            model = [(n, v) for n, v in model if n.lower() != lname]
        if action != "del-header":
            model.append((lname, value.replace("%[str(3)]", "3").encode()))
    assert request_head(txn, b"close", [b"x-add: 1"]) == _render(model)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ODD + PLAIN), st.lists(OPS.filter(lambda op: op[0] != "read"), max_size=8))
def test_head_written_as_every_field_again(raw: bytes, ops: list[Any]) -> None:
    """Without reads: what is appended to the received bytes (or merged) is written
    as writing every field again writes it."""
    env = _env()
    txn = _txn(raw)
    model = list(_txn(raw).req_headers() or [])
    rules = [parse_http_rule("request", [a, n, *([v] if v else [])], env) for a, n, v in ops]
    run_rules(merge_fields(rules), txn)
    for action, name, value in ops:
        lname = name.lower().encode()
        if action != "add-header":
            model = [(n, v) for n, v in model if n.lower() != lname]
        if action != "del-header":
            model.append((lname, value.replace("%[str(3)]", "3").encode()))
    assert request_head(txn, b"close", [b"x-add: 1"]) == _render(model)
    assert txn.req_headers() == model


def test_merged_fields() -> None:
    env = _env()
    words = [
        ["set-header", "X-P", "1"],
        ["add-header", "X-Q", "2"],
        ["set-header", "X-R", "%[str(3)]"],  # made at run time: not merged
        ["set-header", "X-S", "4"],
        ["set-header", "x-s", "5"],  # the same name again: a run of its own
        ["add-header", "X-T", "6"],
    ]
    rules = merge_fields([parse_http_rule("request", w, env) for w in words])
    assert len(rules) == 4
    txn = _txn(PLAIN[0])
    run_rules(rules[:3], txn)
    assert txn.req_tail == [(b"x-p", b"1"), (b"x-q", b"2"), (b"x-r", b"3"), (b"x-s", b"4")]
    run_rules(rules[3:], txn)
    assert txn.req_dirty  # x-s again: the whole list
    assert txn.req_headers()[-5:] == [
        (b"x-p", b"1"),
        (b"x-q", b"2"),
        (b"x-r", b"3"),
        (b"x-s", b"5"),
        (b"x-t", b"6"),
    ]


def test_absent_name_takes_no_copy() -> None:
    """The received list stays the parsed head's own until something needs the whole."""
    env = _env()
    txn = _txn(PLAIN[0])
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


APPENDS = st.tuples(st.sampled_from(["set-header", "add-header"]), NAMES, VALUES)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ODD + PLAIN), st.lists(APPENDS, max_size=6))
def test_appended_fields_follow_the_received_bytes(raw: bytes, ops: list[Any]) -> None:
    """What the data path sends when the rules only appended fields
    (``appended_head()``): the received head as ``head_bytes()`` forwards it, the
    appended fields after it; for a canonical head, the bytes ``request_head()``
    writes from the list."""
    env = _env()
    txn = _txn(raw)
    run_rules(merge_fields([parse_http_rule("request", [a, n, v], env) for a, n, v in ops]), txn)
    if txn.req_dirty or not txn.req_tail:
        return  # a name the request had: the list is written again (above)
    head = txn.req_head
    tail = [n + b": " + v for n, v in txn.req_tail if n != b"connection"]
    assert txn.req_wire == b"".join(line + b"\r\n" for line in tail)
    out = appended_head(head, txn.req_wire, b"close", [b"x-add: 1"])
    assert out == head_bytes(head, b"close", add=[*tail, b"x-add: 1"])
    if raw in PLAIN:
        assert out == request_head(txn, b"close", [b"x-add: 1"])


def test_set_header_sees_received_names_in_any_case() -> None:
    env = _env()
    for raw in PLAIN:
        txn = _txn(raw)
        parse_http_rule("request", ["set-header", "x-a", "9"], env).action(txn)
        assert txn.req_dirty  # X-A was there: the list
        assert txn.req_tail is None
        assert txn.req_headers()[-1] == (b"x-a", b"9")
        assert [n for n, _ in txn.req_headers()].count(b"X-A") == 0
