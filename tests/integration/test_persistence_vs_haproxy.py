"""Cookie persistence and stick tables side by side with haproxy 2.6.12
(``sidebyside.py``): the Set-Cookie and Cache-Control bytes, the Cookie header
the server gets, the server each request goes to; rate limiting with a
tracked counter answers 429 after the limit and recovers after the period.

Each request goes on its own connection (a browser's cookie jar is the
test's list of requests). Cookie dates are 4-second quantities of the
current time: two runs may straddle a boundary, so a date written by the
proxy is compared as ``<date>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import pytest
from sidebyside import HEADER, Origin, Seen, both, exchange, free_port, get, listen, through

from herdsman.testing import Haproxy, Syslog, running, wait_for_async

pytestmark = pytest.mark.haproxy

S1S2 = "    server s1 127.0.0.1:@s1 cookie A\n    server s2 127.0.0.1:@s2 cookie B\n"
DOWN = "    server s1 127.0.0.1:@s1 cookie A\n    server s2 127.0.0.1:@s2 cookie B disabled\n"
_DATE = re.compile(rb"\|[A-Za-z0-9+/]{5}")


def _dates(seen: Seen) -> Seen:
    return Seen(
        [_DATE.sub(b"|<date>", r) for r in seen.responses],
        {k: [_DATE.sub(b"|<date>", r) for r in v] for k, v in seen.origins.items()},
    )


COOKIES: list[tuple[str, str, list[bytes]]] = [
    (
        "insert-indirect-nocache",
        listen("cookie SRV insert indirect nocache", servers=S1S2),
        [get("/"), get("/"), get("/", "cookie: SRV=B"), get("/", "cookie: a=1; SRV=B; b=2"),
         get("/", "cookie: SRV=A; x=y"), get("/", "cookie: SRV=Z"), get("/", "cookie: SRV="),
         get("/", "cookie: SRV=B", "x-reply-hdr: set-cookie: SRV=mine"),
         get("/", "x-reply-hdr: cache-control: public"), get("/", method="POST")],
    ),
    (
        "nocache-cacheability",
        listen("cookie SRV insert nocache", servers=S1S2),
        [get("/", "x-reply-hdr: etag: x"), get("/", "x-reply-hdr: last-modified: today"),
         get("/", "x-reply-hdr: expires: 0"), get("/", "x-reply-hdr: cache-control: max-age=10"),
         get("/", "x-reply-hdr: cache-control: public"),
         get("/", "x-reply-hdr: cache-control: private, max-age=5"),
         get("/", "x-reply-hdr: pragma: no-cache", "x-reply-hdr: etag: y"),
         get("/", "x-reply-hdr: etag: x", "x-reply-status: 302"),
         get("/", "x-reply-hdr: etag: x", method="HEAD"),
         get("/", "x-reply-hdr: etag: x", method="PUT")],
    ),
    (
        "insert",
        listen("cookie SRV insert", servers=S1S2),
        [get("/"), get("/", "cookie: SRV=B"), get("/", "cookie: SRV=B; o=1"),
         get("/", "cookie: $Version=1; SRV=A; $Path=/"), get("/", "cookie: SRV = A")],
    ),
    (
        "insert-attributes",
        listen(
            "cookie SRV insert httponly secure domain .example.com domain .example.org "
            "attr SameSite=Lax attr x",
            servers=S1S2,
        ),
        [get("/")],
    ),
    (
        "insert-postonly",
        listen("cookie SRV insert postonly", servers=S1S2),
        [get("/"), get("/", method="POST"), get("/", "cookie: SRV=B", method="POST")],
    ),
    (
        "insert-preserve",
        listen("cookie SRV insert preserve indirect", servers=S1S2),
        [get("/"), get("/", "x-reply-hdr: set-cookie: SRV=own"),
         get("/", "cookie: SRV=B", "x-reply-hdr: set-cookie: SRV=own")],
    ),
    (
        "maxidle-maxlife",
        listen("cookie SRV insert maxidle 1h maxlife 8h", servers=S1S2),
        [get("/"), get("/", "cookie: SRV=B"), get("/", "cookie: SRV=B|BAAAA"),
         get("/", "cookie: SRV=B|BAAAA|BAAAA"), get("/", "cookie: SRV=B|xxx")],
    ),
    (
        "rewrite",
        listen("cookie SRV rewrite", servers=S1S2),
        [get("/", "x-reply-hdr: set-cookie: SRV=app; path=/"), get("/", "cookie: SRV=B"),
         get("/", "cookie: SRV=B", "x-reply-hdr: set-cookie: SRV=x"),
         get("/", "x-reply-hdr: set-cookie: other=1")],
    ),
    (
        "prefix",
        listen("cookie JSESSIONID prefix", servers=S1S2),
        [get("/", "x-reply-hdr: set-cookie: JSESSIONID=abc; path=/"),
         get("/", "cookie: JSESSIONID=B~abc"), get("/", "cookie: a=b; JSESSIONID=A~x; c=d"),
         get("/", "cookie: JSESSIONID=abc")],
    ),
    (
        "indirect-rewrite-direct",
        listen("cookie SRV indirect", servers=S1S2),
        [get("/", "cookie: SRV=B", "x-reply-hdr: set-cookie: SRV=B"), get("/")],
    ),
    (
        "down-server",
        listen("cookie SRV insert indirect", servers=DOWN),
        [get("/", "cookie: SRV=B"), get("/", "cookie: SRV=A")],
    ),
    (
        "down-server-option-persist",
        listen("cookie SRV insert indirect", "option persist", servers=DOWN),
        [get("/", "cookie: SRV=B")],
    ),
    (
        "force-persist",
        listen("cookie SRV insert", "force-persist if { path /f }", servers=DOWN),
        [get("/f", "cookie: SRV=B"), get("/g", "cookie: SRV=B")],
    ),
    (
        "ignore-persist",
        listen("cookie SRV insert", "ignore-persist if { path /i }", servers=S1S2),
        [get("/i", "cookie: SRV=B"), get("/i", "cookie: SRV=B"), get("/", "cookie: SRV=B")],
    ),
    (
        "use-server-over-cookie",
        listen("cookie SRV insert", "use-server s1 if { path /u }", servers=S1S2),
        [get("/u", "cookie: SRV=B"), get("/", "cookie: SRV=B")],
    ),
    (
        "dynamic",
        listen(
            "cookie SRV insert dynamic",
            "dynamic-cookie-key s3cr3t",
            servers="    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2 cookie own\n",
        ),
        [get("/"), get("/")],
    ),
    (
        "server-without-cookie",
        listen(
            "cookie SRV insert",
            servers="    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n",
        ),
        [get("/"), get("/", "cookie: SRV=x")],
    ),
    (
        "stick-on-src",
        listen("balance roundrobin", "stick-table type ip size 10", "stick on src"),
        [get("/"), get("/"), get("/")],
    ),
    (
        "stick-match-store-response",
        listen(
            "stick-table type string len 32 size 10",
            "stick match req.cook(sid)",
            "stick store-response res.cook(sid)",
        ),
        [get("/", "x-reply-hdr: set-cookie: sid=u1"), get("/", "x-reply-hdr: set-cookie: sid=u2"),
         get("/", "cookie: sid=u1"), get("/", "cookie: sid=u2"), get("/", "cookie: sid=u1")],
    ),
    (
        "stick-on-header-other-table",
        listen(
            "stick on req.hdr(x-user) table T",
            servers="    server s1 127.0.0.1:@s1\n    server s2 127.0.0.1:@s2\n"
            "backend T\n    stick-table type string size 10\n",
        ),
        [get("/", "x-user: a"), get("/", "x-user: b"), get("/", "x-user: a"),
         get("/", "x-user: b")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "requests"), [c[1:] for c in COOKIES], ids=[c[0] for c in COOKIES]
)
async def test_persistence_as_haproxy(text: str, requests: list[bytes]) -> None:
    theirs, mine = await both(text, requests, one_connection=False)
    theirs, mine = _dates(theirs), _dates(mine)
    assert mine.responses == theirs.responses, f"{theirs.responses}\n{mine.responses}"
    assert mine.origins == theirs.origins, f"{theirs.origins}\n{mine.origins}"


RATE = HEADER + (
    "frontend fe\n    bind 127.0.0.1:@fe\n"
    "    stick-table type ip size 100 expire 10s store http_req_rate(1s),http_req_cnt\n"
    "    http-request track-sc0 src\n"
    "    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 3 }\n"
    "    http-request set-header x-cnt %[sc_http_req_cnt(0)]\n"
    "    default_backend b\n"
    "backend b\n    server s1 127.0.0.1:@s1\n"
)


async def _rate_run(which: str) -> tuple[list[bytes], float]:
    """Six requests at once, then one every 0.4 s until one passes again:
    the responses of the burst and how long the recovery took."""
    from sidebyside import Origin

    origin = await Origin("s1").start()
    fe = free_port()
    config = RATE.replace("@fe", str(fe)).replace("@s1", str(origin.port))
    status = re.compile(rb"^HTTP/1.1 (\d+)")

    async def session() -> tuple[list[bytes], float]:
        burst = await exchange(fe, [get("/")] * 6, one_connection=True)
        codes = [status.match(r).group(1) for r in burst]  # type: ignore[union-attr]
        start = time.monotonic()
        while time.monotonic() - start < 5:
            await asyncio.sleep(0.4)  # the client's pace: below the limit
            (got,) = await exchange(fe, [get("/")], one_connection=True)
            if got.startswith(b"HTTP/1.1 200"):
                break
        return codes, time.monotonic() - start

    try:
        if which == "haproxy":
            with Haproxy(config) as proxy:
                await asyncio.to_thread(proxy.start, fe)
                return await session()
        async with running(config):
            return await session()
    finally:
        await origin.close()


async def test_rate_limit_429_and_recovery() -> None:
    theirs, their_wait = await _rate_run("haproxy")
    mine, my_wait = await _rate_run("herdsman")
    assert theirs == [b"200", b"200", b"200", b"429", b"429", b"429"]
    assert mine == theirs
    # the sliding one-second window lets traffic through again within ~2 s
    assert their_wait < 3
    assert my_wait < 3
    assert abs(my_wait - their_wait) < 1


__all__ = ["through"]


LOGGED = '    log 127.0.0.1:@log format raw local0\n    log-format "{}"\n'
DEAD_S1 = "    server s1 127.0.0.1:@dead cookie A{}\n    server s2 127.0.0.1:@s2 cookie B\n"
CK_LOG: list[tuple[str, str, list[bytes]]] = [
    (
        "flags",
        listen("cookie SRV insert indirect nocache", servers=S1S2),
        [get("/"), get("/", "cookie: SRV=B"), get("/", "cookie: SRV=Z"),
         get("/", "cookie: SRV=B", "x-reply-hdr: set-cookie: SRV=mine"),
         get("/", "x-reply-hdr: set-cookie: SRV=mine")],
    ),
    (
        "rewrite-prefix-flags",
        listen("cookie SRV rewrite", servers=S1S2),
        [get("/", "x-reply-hdr: set-cookie: SRV=app"), get("/", "cookie: SRV=B")],
    ),
    (
        # s1 refuses: the retry is redispatched to s2, whose cookie the response
        # gets; the valid cookie is logged as a down server's ("--DI")
        "redispatched-after-connect-failure",
        listen("option redispatch", "retries 1", "cookie SRV insert indirect nocache",
               servers=DEAD_S1.format("")),
        [get("/", "cookie: SRV=A"), get("/", "cookie: SRV=B"), get("/")],
    ),
    (
        "cookie-of-a-server-checked-down",
        listen("option redispatch", "cookie SRV insert indirect nocache",
               servers=DEAD_S1.format(" check inter 100 fall 1")),
        [get("/", "cookie: SRV=A"), get("/", "cookie: SRV=B")],
    ),
]  # fmt: skip


async def _logged_run(
    which: str, text: str, requests: list[bytes], fmt: str = "%s %tsc %rc"
) -> tuple[list[bytes], list[str], dict[str, list[bytes]]]:
    """The responses, the log lines (``fmt``) and what the servers received."""
    log = Syslog()
    origins = {name: await Origin(name).start() for name in ("s1", "s2")}
    fe, dead = free_port(), free_port()
    config = text.replace("listen L\n", "listen L\n" + LOGGED.format(fmt))
    config = config.replace("@log", str(log.port))
    config = config.replace("@fe", str(fe)).replace("@dead", str(dead))
    for name, o in origins.items():
        config = config.replace("@" + name, str(o.port))
    try:
        async with contextlib.AsyncExitStack() as stack:
            if which == "haproxy":
                proxy = stack.enter_context(Haproxy(config))
                await asyncio.to_thread(proxy.start, fe)
            else:
                await stack.enter_async_context(running(config))
            if "check" in text:
                await log.wait_line("is DOWN")
            responses = []
            for request in requests:  # one at a time: each line is logged at its close
                want = len(log.poll()) + 1
                responses += await exchange(fe, [request], False)
                try:
                    await wait_for_async(lambda: len(log.poll()) >= want, timeout=10)  # noqa: B023
                except AssertionError:
                    raise AssertionError((which, log.lines, responses, config)) from None
    finally:
        log.close()
        for o in origins.values():
            await o.close()
    lines = [x for x in log.lines if "is DOWN" not in x]
    return _dates(Seen(responses, {})).responses, lines, {n: o.received for n, o in origins.items()}


@pytest.mark.parametrize(("text", "requests"), [c[1:] for c in CK_LOG], ids=[c[0] for c in CK_LOG])
async def test_cookie_flags_in_the_log_and_after_a_redispatch(
    text: str, requests: list[bytes]
) -> None:
    """``%tsc``'s two cookie letters (the client's cookie, what the response did)
    and the Set-Cookie after a redispatch, as 2.6.12 logs and sends them."""
    theirs = await _logged_run("haproxy", text, requests)
    mine = await _logged_run("herdsman", text, requests)
    assert mine == theirs


CAPTURES: list[tuple[str, str, list[bytes]]] = [
    (
        "capture-only",
        listen("capture cookie sess len 10"),
        [get("/"), get("/", "cookie: sessid=abcdefghijklmnop"),
         get("/", "cookie: a=1; sess = x ; sessB=2"), get("/", "cookie: $sess=1; sessA=2"),
         get("/", "cookie: other", "cookie: sessX=3"), get("/", "cookie: se=1"),
         get("/", "x-reply-hdr: set-cookie: sessionid=zzz; path=/"),
         get("/", "x-reply-hdr: set-cookie: a=1; sess=2"),
         get("/", "x-reply-hdr: set-cookie2: a=1, sess = 2;Version=1"),
         get("/", "x-reply-status: 302", "x-reply-hdr: set-cookie: sess=r")],
    ),
    (
        "capture-the-persistence-cookie",
        listen("capture cookie SRV len 32", "cookie SRV insert indirect nocache", servers=S1S2),
        [get("/"), get("/", "cookie: SRV=B; x=1"), get("/", "x-reply-hdr: set-cookie: SRV=own")],
    ),
    (
        "denied-and-tarpitted",
        listen("capture cookie s len 64", "http-request deny if { path /d }",
               "http-request tarpit if { path /t }", "timeout tarpit 1"),
        [get("/d", "cookie: s=1"), get("/t", "cookie: s=2")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "requests"), [c[1:] for c in CAPTURES], ids=[c[0] for c in CAPTURES]
)
async def test_capture_cookie_in_the_log(text: str, requests: list[bytes]) -> None:
    """``capture cookie``: ``%CC``/``%CS`` (the first cookie named by the prefix,
    cut to its length), the headers the server gets (blanks around '=' removed)."""
    fmt = "%ST %CC %CS %tsc"
    theirs = await _logged_run("haproxy", text, requests, fmt)
    mine = await _logged_run("herdsman", text, requests, fmt)
    assert mine == theirs
