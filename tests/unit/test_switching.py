"""The switching rules compiled (``proxy/switching.py``): the backend chosen is
the one ``process_switching_rules()`` chooses running each rule in order: the
first rule whose condition passes, else the default backend. Runs of
``path_beg``/``path`` rules are one look-up; this checks they choose as the
rules do, with overlapping prefixes, exact paths, ``-i``, negations and other
fetches in between."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse
from herdsman.core.backend import Backend
from herdsman.proxy.switching import compile_switching
from herdsman.runtime import Herdsman
from herdsman.sample.acl import AclContext
from herdsman.sample.cond import Condition, parse_condition
from herdsman.sample.registry import Compiler
from herdsman.sample.txn import Txn


def _backends(names: list[str]) -> dict[str, Backend]:
    """Running backends of those names (the switch returns the objects themselves)."""
    text = "defaults\n    mode http\n" + "".join(
        f"backend {n}\n    server s 127.0.0.1:80\n" for n in names
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "b.cfg"
        path.write_text(text)
        diag = Diagnostics()
        config = parse([str(path)], diag)
        assert config is not None, diag.messages
    return Herdsman(config).backends


BACKENDS = _backends([*(f"b{i}" for i in range(12)), "default"])
DEFAULT = BACKENDS["default"]


def _cond(words: list[str]) -> Condition:
    return parse_condition(words, {}, AclContext(Compiler()))


def _rules(specs: list[tuple[str, list[str]]]) -> list[Any]:
    """(condition words, backend) rules: backend ``b<i>`` for the i-th."""
    return [(_cond(words), BACKENDS[f"b{i}"], None) for i, (_, words) in enumerate(specs)]


def _reference(rules: list[Any], txn: Txn) -> Any:
    for cond, be, _ in rules:
        if cond.run(txn):
            return be
    return DEFAULT


def _txn(uri: bytes | None) -> Txn:
    t = Txn()
    t.uri = uri
    return t


def _choose(specs: list[tuple[str, list[str]]], uri: bytes | None) -> tuple[Any, Any]:
    rules = _rules(specs)
    switch = compile_switching(rules, DEFAULT, lambda name: None)
    txn = _txn(uri)
    return switch(txn), _reference(rules, txn)


TABLE = [
    ("beg", ["if", "{", "path_beg", "/api/", "/static", "}"]),
    ("beg", ["if", "{", "path_beg", "/api/v2/", "}"]),  # longer, but later: never wins
    ("str", ["if", "{", "path", "/api/exact", "}"]),
    ("beg", ["if", "{", "path_beg", "/", "}"]),
]


def test_first_rule_in_order_wins() -> None:
    """A longer prefix in a later rule does not beat an earlier shorter one."""
    for uri, want in [
        (b"/api/v2/x", "b0"),
        (b"/api/exact", "b0"),
        (b"/static.css", "b0"),
        (b"/other", "b3"),
        (b"/api", "b3"),  # "/api/" needs its slash; "/" matches
        (b"*", "default"),  # no path at all for an asterisk-form URI
        (None, "default"),
    ]:
        got, ref = _choose(TABLE, uri)
        assert got is ref, uri
        assert got.name == want, uri


def test_exact_before_prefix() -> None:
    specs = [
        ("str", ["if", "{", "path", "/a", "}"]),
        ("beg", ["if", "{", "path_beg", "/a", "}"]),
    ]
    for uri, want in [(b"/a", "b0"), (b"/ab", "b1"), (b"/a?x=1", "b0")]:  # path stops at "?"
        got, ref = _choose(specs, uri)
        assert got is ref
        assert got.name == want


PATTERNS = st.sampled_from(["/", "/a", "/ab", "/a/", "/A", "/b", "/ab/c", "/bb"])
KINDS = st.sampled_from(
    [
        ["path_beg"],
        ["path_beg"],
        ["path"],
        ["path_beg", "-i"],
        ["path_end"],
        ["url_beg"],
        ["path_beg", "-m", "str"],
    ]
)


@st.composite
def _specs(draw: Any) -> list[tuple[str, list[str]]]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(KINDS)
        pats = draw(st.lists(PATTERNS, min_size=1, max_size=3))
        neg = draw(st.sampled_from(["", "", "", "!", "unless", "unless!"]))
        words = ["unless" if neg.startswith("unless") else "if"]
        if neg.endswith("!"):
            words.append("!")
        words += ["{", *kind, "--", *pats, "}"]
        out.append(("", words))
    return out


@settings(max_examples=400, deadline=None)
@given(_specs(), st.text("/abAB?", max_size=7))
def test_same_choice_as_each_rule_in_turn(specs: list[tuple[str, list[str]]], path: str) -> None:
    uri = ("/" + path).encode() if not path.startswith("?") else path.encode()
    got, ref = _choose(specs, uri)
    assert got == ref
