"""The stats page's formatting helpers, as 2.6's ``ulltoh()``, ``human_time()`` and
``LIM2A()`` (the page as a whole is compared with haproxy's in
tests/integration/test_stats_page.py), and the admin form's parameters."""

from __future__ import annotations

import pytest

from herdsman.admin.page.html import human_time, lim, u2h
from herdsman.admin.page.service import _find, _scope, matches
from herdsman.config.model import StatsPage


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1234, '<span class="rls">1</span>234'),
        (1234567, '<span class="rls">1</span>23<span class="rls">4</span>567'),
    ],
)
def test_u2h(n: int, text: str) -> None:
    assert u2h(n) == text


@pytest.mark.parametrize(
    ("t", "text"),
    [(0, "0s"), (59, "59s"), (60, "1m"), (61, "1m1s"), (3700, "1h1m"), (90061, "1d1h"), (-1, "?")],
)
def test_human_time(t: int, text: str) -> None:
    assert human_time(t) == text


def test_limits() -> None:
    assert lim(0, "-") == "-"
    assert lim(5, "-") == "5"


def test_uri_matching() -> None:
    page = StatsPage(owner=("listen", "s"), uri="/st")
    assert matches(page, "GET", "/st;csv")
    assert matches(page, "POST", "http://h/st?x")  # an absolute URI's path
    assert not matches(page, "PUT", "/st")
    assert not matches(page, "GET", "/s")


def test_scope_and_flags_need_room() -> None:
    """2.6 looks for ``scope=`` only where 8 characters remain (a 1-letter scope is lost)."""
    assert _scope("?scope=be") == "be"
    assert _scope("?scope=b") == ""
    assert _scope("?scope=a;bc") == "a"  # the text stops at ";"
    assert _scope("?scope=a%b") == ""  # not a proxy name character: cleared
    assert _find(";st=DONE", ";st=", 8) == 0
    assert _find(";st=DON", ";st=", 8) == -1
