"""HTTP keywords of the request path side by side with haproxy 2.6.12: the same
configuration and requests through both, what the client and the servers see
compared byte for byte (``sidebyside.py``; the origins write header names in
lower case).

* ``http-send-name-header``: the header names the server of the attempt,
  written last (after the Connection header), any header of that name the
  client sent removed, with and without rewriting rules;
"""

from __future__ import annotations

import pytest
from sidebyside import both, get, listen

pytestmark = pytest.mark.haproxy

# (id, configuration, requests)
CASES: list[tuple[str, str, list[bytes]]] = [
    (
        "send-name-header",
        listen("http-send-name-header X-Server"),
        [get("/", "X-Server: fake", "x-a: 1", "x-server: two"), get("/"), get("/")],
    ),
    (
        "send-name-header with rules",
        listen(
            "http-send-name-header x-srv-name",
            "http-request set-header x-b 2",
            "option forwardfor",
        ),
        [get("/", "X-Srv-Name: fake"), get("/", "connection: close")],
    ),
    (
        "send-name-header, close mode",
        listen("http-send-name-header X-Server", "option httpclose"),
        [get("/"), get("/")],
    ),
]


@pytest.mark.parametrize(("text", "requests"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_keywords_as_haproxy(text: str, requests: list[bytes]) -> None:
    theirs, mine = await both(text, requests)
    assert mine.responses == theirs.responses
    assert mine.origins == theirs.origins
