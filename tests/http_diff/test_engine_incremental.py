"""The engine gives the same outcome whatever the segmentation of the client's bytes.

Every harness case is replayed with the client's bytes arriving one at a time
(7 at a time for the large ones) and must end as when they arrive at once:
parsers and framers resume where they stopped, never rescan quadratically,
never decide on a partial line.

One exception, HAProxy's own: the request-URI bytes 0x7f-0xa3 that its 4-byte
skip loop lets through a whole line are refused by its byte loop when the
line arrives cut just after them (docs/http.md, "Differences").
"""

from __future__ import annotations

import pytest

from .cases import ALL, Case
from .driver import run_engine

SEGMENTATION_DEPENDENT = {c.name for c in ALL if c.name.startswith("uri-byte-")}


@pytest.mark.parametrize("case", ALL, ids=lambda c: c.name)
def test_segmentation_does_not_matter(case: Case) -> None:
    whole = run_engine(case.request, list(case.replies))
    piece = 1 if len(case.request) < 2000 else 7
    pieces = run_engine(case.request, list(case.replies), piece)
    if case.name in SEGMENTATION_DEPENDENT:
        assert pieces.statuses in (whole.statuses, (400,))
    else:
        assert pieces == whole
