"""Weight and maxconn changes from text (``core/change.py``; ``server.c`` 2.6's
``server_parse_weight_change_request()`` and ``server_parse_maxconn_change_request()``)."""

from __future__ import annotations

import io

import pytest

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse_text
from herdsman.core.change import maxconn_change, strtol, weight_change
from herdsman.core.clock import ManualClock
from herdsman.core.events import Cause
from herdsman.runtime import Herdsman


@pytest.mark.parametrize(
    ("text", "value", "rest"),
    [
        ("42", 42, ""),
        ("42%", 42, "%"),
        ("  -7x", -7, "x"),
        ("+3", 3, ""),
        ("\v5", 5, ""),
        ("x", 0, "x"),
        ("", 0, ""),
        ("-", 0, "-"),
        ("99999999999999999999", (1 << 63) - 1, ""),
    ],
)
def test_strtol(text: str, value: int, rest: str) -> None:
    assert strtol(text) == (value, rest)


def server(balance: str = "roundrobin", extra: str = "") -> Herdsman:
    text = (
        "defaults\n    mode tcp\nbackend b\n"
        f"    balance {balance}\n    server s 127.0.0.1:1 weight 20 {extra}\n"
    )
    cfg = parse_text(text, Diagnostics(), "t.cfg")
    assert cfg is not None
    hm = Herdsman(cfg, clock=ManualClock(), stderr=io.StringIO(), check_starter=lambda c, d: None)
    hm.hooks.starting = False
    return hm


@pytest.mark.parametrize(
    ("text", "weight", "message"),
    [
        ("10", 10, None),
        ("0", 0, None),
        ("256", 256, None),
        ("50%", 10, None),
        ("0%", 0, None),
        ("1000%", 200, None),
        ("5000%", 256, None),
        ("", 20, "Require <weight> or <weight%>.\n"),
        ("x", 20, "Empty weight string empty or preceded by garbage"),
        ("-1%", 20, "Relative weight must be positive.\n"),
        ("257", 20, "Absolute weight can only be between 0 and 256 inclusive.\n"),
        ("300%x", 20, "Absolute weight can only be between 0 and 256 inclusive.\n"),
        ("50%x", 20, "Trailing garbage in weight string"),
        ("5x", 20, "Trailing garbage in weight string"),
    ],
)
def test_weight(text: str, weight: int, message: str | None) -> None:
    hm = server()
    srv = hm.server("b/s")
    assert weight_change(srv, text) == message
    assert srv.uweight == weight
    assert srv.eweight == weight * 16


def test_static_algorithms_take_only_zero_and_the_initial_weight() -> None:
    hm = server("static-rr")
    srv = hm.server("b/s")
    refused = "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    assert weight_change(srv, "50%") == refused
    assert weight_change(srv, "0") is None
    assert srv.uweight == 0
    assert weight_change(srv, "100%") is None
    assert srv.uweight == 20


def test_a_change_is_one_event_with_its_cause() -> None:
    hm = server()
    seen = []
    hm.hooks.subscribers.append(seen.append)
    weight_change(hm.server("b/s"), "5", Cause.AGENT)
    maxconn_change(hm.server("b/s"), "7", Cause.AGENT)
    assert [(e.cause, e.uweight, e.maxconn) for e in seen] == [
        (Cause.AGENT, (20, 5), (0, 0)),
        (Cause.AGENT, (5, 5), (0, 7)),
    ]


@pytest.mark.parametrize(
    ("extra", "text", "limits", "message"),
    [
        ("", "30", (30, 30), None),
        ("maxconn 10", "30", (30, 30), None),  # a static limit stays static
        ("minconn 5 maxconn 10", "30", (30, 5), None),  # a dynamic one keeps its floor
        ("", "-1", (4294967295, 4294967295), None),  # an unsigned int in 2.6
        ("", "", (0, 0), "Require <maxconn>.\n"),
        ("", "x", (0, 0), "maxconn string empty or preceded by garbage"),
        ("", "5x", (0, 0), "Trailing garbage in maxconn string"),
    ],
)
def test_maxconn(extra: str, text: str, limits: tuple[int, int], message: str | None) -> None:
    hm = server(extra=extra)
    srv = hm.server("b/s")
    assert maxconn_change(srv, text) == message
    assert (srv.maxconn, srv.minconn) == limits
