"""Differential harness: every case through haproxy 2.6.12 and through herdsman's engine.

The outcomes (statuses and bytes of HAProxy's own replies, what the backend
read, what the client read) must agree for at least 95 % of the cases (the aim
is all of them: every difference left is listed in docs/http.md and in
KNOWN_DIFFERENCES), and the engine must never forward a request that HAProxy
refused. Differences are printed in full.
"""

from __future__ import annotations

import asyncio

import pytest

from .cases import ALL, REQUESTS, RESPONSES, Case
from .outcome import Outcome
from .runners import EngineRunner, Runner, haproxy_runner, herdsman_runner

pytestmark = pytest.mark.haproxy

MIN_MATCH_RATE = 0.95
# case name -> why herdsman answers differently (docs/http.md, "Differences")
KNOWN_DIFFERENCES: dict[str, str] = {}


def test_enough_cases() -> None:
    assert len(REQUESTS) >= 200
    assert len(RESPONSES) >= 50
    assert len({c.name for c in ALL}) == len(ALL)


async def _run_all(runner: Runner, cases: list[Case]) -> list[Outcome]:
    return list(await asyncio.gather(*(runner.run(c.request, c.replies) for c in cases)))


def _report(case: Case, ref: Outcome, got: Outcome) -> str:
    reason = KNOWN_DIFFERENCES.get(case.name, "UNEXPECTED")
    return (
        f"--- {case.name} ({reason})\n  request {case.request[:160]!r}\n"
        f"  replies {[r.data[:80] for r in case.replies]}\n"
        f" haproxy:\n{ref.describe()}\n engine:\n{got.describe()}"
    )


LENIENT = "    option accept-invalid-http-request\n    option accept-invalid-http-response\n"


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "accept-invalid"])
async def test_engine_answers_as_haproxy(capsys: pytest.CaptureFixture[str], lenient: bool) -> None:
    """Default proxies, then proxies with ``option accept-invalid-http-request`` and
    ``-response`` (41 of the cases are answered differently then)."""
    async with haproxy_runner(extra=LENIENT if lenient else "") as haproxy:
        reference = await _run_all(haproxy, ALL)
    results = await _run_all(EngineRunner(lenient), ALL)
    differ = []
    unsafe = []
    for case, ref, got in zip(ALL, reference, results, strict=True):
        if got != ref:
            differ.append(_report(case, ref, got))
        if got.refused_but_forwarded(ref):
            unsafe.append(case.name)
    rate = 1 - len(differ) / len(ALL)
    with capsys.disabled():
        mode = "accept-invalid" if lenient else "strict"
        print(
            f"\nhttp_diff ({mode}): {len(ALL) - len(differ)}/{len(ALL)} cases as haproxy ({rate:.1%})"
        )
        for text in differ:
            print(text)
    assert not unsafe, f"forwarded what haproxy refused: {unsafe}"
    assert rate >= MIN_MATCH_RATE
    unexpected = [d for d in differ if "(UNEXPECTED)" in d]
    assert not unexpected, "\n".join(unexpected)


# case name -> why the proxy answers differently from haproxy (docs/http.md)
PROXY_DIFFERENCES: dict[str, str] = {
    "chunk-trailer-over-htx-limit": (
        "a trailer block too large for the buffer: herdsman refuses the request before "
        "connecting; haproxy finds the limit only once its stream has the message, so it "
        "first sends the head and the data to the server (docs/http.md)"
    ),
}


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "accept-invalid"])
async def test_proxy_answers_as_haproxy(capsys: pytest.CaptureFixture[str], lenient: bool) -> None:
    """The same cases through herdsman's real proxy (``mode http``) and haproxy."""
    extra = LENIENT if lenient else ""
    async with haproxy_runner(extra=extra) as haproxy:
        reference = await _run_all(haproxy, ALL)
    async with herdsman_runner(extra=extra) as herdsman:
        results = await _run_all(herdsman, ALL)
    differ = []
    unsafe = []
    for case, ref, got in zip(ALL, reference, results, strict=True):
        if got != ref:
            reason = PROXY_DIFFERENCES.get(case.name, "UNEXPECTED")
            differ.append(_report(case, ref, got).replace("(UNEXPECTED)", f"({reason})", 1))
        if got.refused_but_forwarded(ref):
            unsafe.append(case.name)
    rate = 1 - len(differ) / len(ALL)
    with capsys.disabled():
        mode = "accept-invalid" if lenient else "strict"
        print(
            f"\nproxy ({mode}): {len(ALL) - len(differ)}/{len(ALL)} cases as haproxy ({rate:.1%})"
        )
        for text in differ:
            print(text)
    assert not unsafe, f"forwarded what haproxy refused: {unsafe}"
    assert rate >= MIN_MATCH_RATE
    unexpected = [d for d in differ if "(UNEXPECTED)" in d]
    assert not unexpected, "\n".join(unexpected)
