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
from sidebyside import both, frontend, get, listen

pytestmark = pytest.mark.haproxy

# (id, configuration, requests)
REDIR = (
    "    server s1 127.0.0.1:@s1 redir http://img.example.com:8080\n"
    "    server s2 127.0.0.1:@s2 redir /\n"
)

BAD = ("x_a: 1", "X.b: 2", "x-ok: 3", "x__c: 4", "y: 5", "x_a: 6")

FOUR = [get("/a"), get("/b"), get("/c"), get("/d")]


def challenge(status: int, header: str, scheme: str) -> list[bytes]:
    first = get("/", f"x-reply-status: {status}", f"x-reply-hdr: {header}: {scheme} abc")
    return [first, *FOUR]


def post(path: str, body: str) -> bytes:
    return get(path, f"content-length: {len(body)}", method="POST") + body.encode()


URL_PARAM = [
    post("/", "id=1"),
    post("/", "x=2&id=abc"),
    post("/?id=9", "id=1"),
    post("/", "noparam"),
    post("/", "id= x"),
    get("/?id=1"),
]

CASES: list[tuple[str, str, list[bytes]]] = [
    ("url_param in POST bodies", listen("balance url_param id"), URL_PARAM),
    ("url_param check_post", listen("balance url_param id check_post"), URL_PARAM),
    ("NTLM challenge", listen(), challenge(401, "www-authenticate", "NTLM")),
    ("Negotiate challenge, 407", listen(), challenge(407, "proxy-authenticate", "negotiate")),
    ("Basic challenge", listen(), challenge(401, "www-authenticate", "Basic")),
    ("NTLM in a 200", listen(), challenge(200, "www-authenticate", "NTLM")),
    (
        "NTLM challenge, max-keep-alive-queue 0",
        listen("max-keep-alive-queue 0"),
        challenge(401, "www-authenticate", "NTLM"),
    ),
    ("prefer-last-server", listen("option prefer-last-server", "http-reuse never"), FOUR),
    ("without prefer-last-server", listen("http-reuse never"), FOUR),
    ("prefer-last-server, reuse safe", listen("option prefer-last-server"), FOUR),
    (
        "prefer-last-server, hashing",
        listen(
            "option prefer-last-server", "http-reuse never", "balance uri", "hash-type consistent"
        ),
        FOUR,
    ),
    (
        "prefer-last-server, max-keep-alive-queue 0",
        listen("option prefer-last-server", "http-reuse never", "max-keep-alive-queue 0"),
        FOUR,
    ),
    (
        "prefer-last-server, server down",
        listen(
            "option prefer-last-server",
            "http-reuse never",
            servers="    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
            "    server s3 127.0.0.1:@s3 disabled\n",
        ),
        FOUR,
    ),
    (
        "restrict delete",
        listen("option http-restrict-req-hdr-names delete", "http-request set-header x_rule 1"),
        [get("/", *BAD), get("/")],
    ),
    (
        "restrict reject",
        listen("option http-restrict-req-hdr-names reject"),
        [get("/", "x-ok: 1"), get("/", *BAD), get("/")],
    ),
    ("restrict preserve", listen("option http-restrict-req-hdr-names preserve"), [get("/", *BAD)]),
    (
        "restrict reject, a body pending",
        listen("option http-restrict-req-hdr-names reject"),
        [get("/", "a_b: 1", "content-length: 10", method="POST") + b"abc"],
    ),
    (
        "restrict: frontend deletes, backend rejects",
        frontend(
            "option http-restrict-req-hdr-names delete",
            backends="backend b3\n    option http-restrict-req-hdr-names reject\n"
            "    server s3 127.0.0.1:@s3\n",
        ).replace("default_backend b1", "default_backend b3"),
        [get("/", *BAD)],
    ),
    (
        "restrict: backend rejects",
        frontend(
            backends="backend b3\n    option http-restrict-req-hdr-names reject\n"
            "    server s3 127.0.0.1:@s3\n",
        ).replace("default_backend b1", "default_backend b3"),
        [get("/", "x-ok: 1"), get("/", *BAD)],
    ),
    (
        "redir",
        listen(servers=REDIR),
        [
            get("/a/b?c=d"),
            get("/x", method="HEAD"),
            get("http://example.com/abs?q"),
            get("/y"),
            get("/post", "content-length: 2", method="POST") + b"hi",
        ],
    ),
    (
        "redir, POST first",
        listen(servers=REDIR),
        [get("/post", "content-length: 2", method="POST") + b"hi", get("/z", method="HEAD")],
    ),
    (
        "redir, rewritten path",
        listen("http-request set-path /new%[path]", servers=REDIR),
        [get("/old?k=v")],
    ),
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
