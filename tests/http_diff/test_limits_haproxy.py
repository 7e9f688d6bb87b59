"""The buffer limits and the global options, against haproxy 2.6.12 with other settings.

For several ``tune.bufsize``/``tune.maxrewrite``/``tune.http.maxhdr`` values,
heads, chunk-size lines and trailers just at and just over each limit
(``Limits``: ``bufsize - 64`` raw, ``bufsize - maxrewrite - 48`` as HTX,
``maxhdr - 1`` fields); and ``h1-accept-payload-with-any-method``.
"""

from __future__ import annotations

import asyncio

import pytest

from herdsman.http import Limits

from .cases import Case
from .cases.base import TE, post, req
from .runners import EngineRunner, haproxy_runner

pytestmark = pytest.mark.haproxy


def boundary_cases(limits: Limits) -> list[Case]:
    raw, htx, nhdr = limits.raw_max, limits.htx_max, limits.max_headers
    cases = []
    for d in (0, 1):
        # raw: "GET / HTTP/1.1\r\nHost: a\r\nX: a" + blanks + "\r\n\r\n" is raw bytes long
        blanks = raw - 33 + d
        cases.append(Case(f"raw{d}", req(headers=b"Host: a\r\nX: a" + b" " * blanks + b"\r\n")))
        # HTX: 71 + value length for "GET / HTTP/1.1" + "Host: a" + "X: <value>"
        cases.append(
            Case(f"htx{d}", req(headers=b"Host: a\r\nX: " + b"a" * (htx - 71 + d) + b"\r\n"))
        )
        cases.append(
            Case(f"hdr{d}", req(headers=b"".join(b"X%d: 1\r\n" % i for i in range(nhdr + d))))
        )
        ext = b"3;" + b"x" * (raw - 4 + d) + b"\r\nabc\r\n0\r\n\r\n"
        cases.append(Case(f"chunkline{d}", post(TE, ext)))
        trailer = b"3\r\nabc\r\n0\r\nX: " + b"y" * (htx - 18 + d) + b"\r\n\r\n"
        cases.append(Case(f"trailer{d}", post(TE, trailer)))
    return cases


@pytest.mark.parametrize(
    ("bufsize", "maxrewrite", "maxhdr"),
    [(4096, 512, 20), (8192, 1024, 101), (16384, 8192, 50)],
)
async def test_limits(bufsize: int, maxrewrite: int, maxhdr: int) -> None:
    limits = Limits(bufsize, maxrewrite, maxhdr)
    cases = boundary_cases(limits)
    tune = f"    tune.bufsize {bufsize}\n    tune.maxrewrite {maxrewrite}\n    tune.http.maxhdr {maxhdr}\n"
    async with haproxy_runner(4, global_extra=tune) as haproxy:
        reference = await asyncio.gather(*(haproxy.run(c.request, c.replies) for c in cases))
    engine = EngineRunner(limits=limits)
    wrong = []
    for case, ref in zip(cases, reference, strict=True):
        got = await engine.run(case.request, case.replies)
        if got != ref:
            wrong.append(f"{case.name}: haproxy {ref.statuses} engine {got.statuses}")
    assert not wrong, "\n".join(wrong)
    # each limit is hit exactly at the boundary
    statuses = {c.name: r.statuses for c, r in zip(cases, reference, strict=True)}
    for kind in ("raw", "htx", "hdr", "chunkline", "trailer"):
        assert statuses[kind + "0"] == (200,), kind
        assert statuses[kind + "1"] == (400,), kind


async def test_payload_with_any_method() -> None:
    cases = [
        Case("get10", req(b"GET / HTTP/1.0", b"Content-Length: 3\r\n", b"abc")),
        Case("head10", req(b"HEAD / HTTP/1.0", TE, b"0\r\n\r\n")),
    ]
    async with haproxy_runner(2, global_extra="    h1-accept-payload-with-any-method\n") as haproxy:
        reference = await asyncio.gather(*(haproxy.run(c.request, c.replies) for c in cases))
    engine = EngineRunner(any_payload=True)
    for case, ref in zip(cases, reference, strict=True):
        assert ref.statuses == (200,)
        assert await engine.run(case.request, case.replies) == ref
