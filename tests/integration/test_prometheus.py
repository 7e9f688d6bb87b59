"""``http-request use-service prometheus-exporter`` against haproxy 2.6.12's
service for the same configuration, side by side: the response heads and
connection handling byte for byte, the metrics (names, HELP and TYPE lines,
labels, order, ``scope`` and ``no-maint``), the counters of known traffic, the
chunks as 2.6.12 cuts them; and a real Prometheus server scraping herdsman.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from herdsman.admin.prometheus import chunked, samples
from herdsman.testing import Acceptor, Haproxy, Syslog, cli_command, free_port, running

pytestmark = pytest.mark.haproxy

BASE = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{fe}
    default_backend be
backend be
    http-request use-service prometheus-exporter if {{ path_beg /bm }}
    server up1 127.0.0.1:{up} check inter 100
    server down1 127.0.0.1:{down} check inter 100
    server mnt 127.0.0.1:{up} disabled
listen tcpl
    mode tcp
    bind 127.0.0.1:{tcp}
    server t1 127.0.0.1:{up}
frontend prom
    bind 127.0.0.1:{prom}
    http-request use-service prometheus-exporter if {{ path_beg /metrics }}
frontend mon
    bind 127.0.0.1:{mon}
    http-request use-service prometheus-exporter
"""


@pytest.fixture
def up_port() -> Iterator[int]:
    with Acceptor() as acceptor:
        yield acceptor.port


@dataclass
class Response:
    head: bytes
    chunks: list[bytes]  # the chunked body's chunks (the last, empty one excluded)
    raw: bytes  # the response as received

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode()


async def _response(reader: asyncio.StreamReader, head_request: bool) -> Response | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.lower().split(b"\r\n")
    raw, chunks = head, list[bytes]()
    if head_request:
        return Response(head, chunks, raw)
    if b"transfer-encoding: chunked" in lines:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line, 16)
            data = await reader.readexactly(size + 2)
            raw += size_line + data
            if not size:
                break
            chunks.append(data[:-2])
    else:
        length = next(int(x[15:]) for x in lines if x.startswith(b"content-length:"))
        raw += await reader.readexactly(length)
    return Response(head, chunks, raw)


async def talk(port: int, data: bytes, heads: int = 1) -> tuple[list[Response], bool]:
    """Send ``data`` on one connection, read ``heads`` responses; whether the
    proxy closed the connection afterwards."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out = []
    try:
        writer.write(data)
        await writer.drain()
        for n in range(heads):
            head_request = data.split(b"\r\n\r\n")[n].startswith(b"HEAD ")
            got = await _response(reader, head_request)
            assert got is not None, data
            out.append(got)
        try:
            closed = await asyncio.wait_for(reader.read(1), 0.3) == b""
        except TimeoutError:
            closed = False
    finally:
        writer.close()
    return out, closed


def names(text: str) -> list[str]:
    """Every line without its value (headers whole), the build version masked."""
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            line = line.rsplit(" ", 1)[0]
        out.append(line.split('{version="', 1)[0])
    return [x for x in out if "herdsman_" not in x]


async def wait_checked(port: int) -> None:
    """Until both checks have run once (one UP server, one DOWN)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        (got,), _ = await talk(port, b"GET /metrics?scope=server HTTP/1.1\r\n\r\n")
        text = got.text
        if 'server="up1",state="L4OK"} 1' in text and 'server="down1",state="L4CON"} 1' in text:
            return
        assert loop.time() < deadline, "the checks did not run"
        await asyncio.sleep(0.05)


PATHS = [
    "/metrics",
    "/metrics?scope=server",
    "/metrics?scope=frontend&scope=backend",
    "/metrics?scope=global&scope=",
    "/metrics?scope=*&no-maint",
    "/metrics?no-maint",
    "/metrics?scope=nope",
    "/metrics?scope",
]

# requests whose whole answers are deterministic (an empty scope selects no metric)
EXCHANGES = [
    (b"GET /metrics?scope= HTTP/1.1\r\nhost: x\r\n\r\n", 1),
    (b"GET /metrics?scope= HTTP/1.0\r\n\r\n", 1),
    (b"GET /metrics?scope= HTTP/1.0\r\nconnection: keep-alive\r\n\r\n", 1),
    (b"GET /metrics?scope= HTTP/1.1\r\nconnection: close\r\n\r\n", 1),
    (b"HEAD /metrics HTTP/1.1\r\n\r\n", 1),
    (b"HEAD /metrics HTTP/1.0\r\n\r\n", 1),
    (b"POST /metrics?scope= HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc", 1),
    (b"PUT /metrics?scope= HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1),
    (b"GET /metrics?scope= HTTP/1.1\r\n\r\nGET /metrics?scope= HTTP/1.1\r\n\r\n", 2),
    (b"GET /metrics?scope=nope HTTP/1.1\r\n\r\n", 1),
    (b"GET /metrics?scope=a=b HTTP/1.1\r\nconnection: keep-alive\r\n\r\n", 1),
    (b"GET /other HTTP/1.1\r\n\r\n", 1),
]
# frontend fe: its backend's rule answers /bm (the backend, not the frontend, serves it)
TRAFFIC = [
    b"GET /bm?scope= HTTP/1.1\r\n\r\n",
    b"GET /bm?scope= HTTP/1.0\r\n\r\n",
    b"GET /bm?scope=x HTTP/1.1\r\n\r\n",
]
COUNTERS = (
    "http_requests_total",
    "http_responses_total",
    "intercepted_requests_total",
    "requests_denied_total",
    "request_errors_total",
    "sessions_total",
    "connections_total",
    "loadbalanced_total",
)


@dataclass
class Seen:
    paths: list[Response]
    exchanges: list[tuple[list[Response], bool]]
    traffic: list[bytes]
    counters: list[tuple[str, tuple[tuple[str, str], ...], float]]


async def observe(port: int, fe: int, mon: int) -> Seen:
    """What one proxy answers, in the test's order (the wait goes through ``mon``,
    so that ``prom`` counts the same requests on both)."""
    await wait_checked(mon)
    paths = [(await talk(port, f"GET {p} HTTP/1.1\r\n\r\n".encode()))[0][0] for p in PATHS]
    exchanges = [await talk(port, data, n) for data, n in EXCHANGES]
    traffic = [(await talk(fe, data))[0][0].raw for data in TRAFFIC]
    (scrape,), _ = await talk(port, b"GET /metrics?scope=frontend&scope=backend HTTP/1.0\r\n\r\n")
    counters = sorted(
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for fam in text_string_to_metric_families(scrape.text)
        for s in fam.samples
        if any(s.name.endswith(c) for c in COUNTERS) and s.labels["proxy"] != "mon"
    )
    return Seen(paths, exchanges, traffic, counters)


async def test_exporter_matches_haproxy(up_port: int, tmp_path: Path) -> None:
    ports = {k: free_port() for k in ("fe", "down", "tcp", "prom", "mon")}
    ports["up"] = up_port
    with Haproxy(BASE.format(sock=tmp_path / "h.sock", **ports)).start(ports["mon"]):
        theirs = await observe(ports["prom"], ports["fe"], ports["mon"])
    async with running(BASE.format(sock=tmp_path / "m.sock", **ports)):
        mine = await observe(ports["prom"], ports["fe"], ports["mon"])
    for path, got, want in zip(PATHS, mine.paths, theirs.paths, strict=True):
        assert got.head == want.head, path
        assert got.status != 200 or names(got.text) == names(want.text), path
        assert got.status == 200 or got.raw == want.raw, path
    assert mine.exchanges == theirs.exchanges
    assert mine.traffic == theirs.traffic
    assert mine.counters == theirs.counters
    first = mine.paths[0]
    families = {f.name: f for f in text_string_to_metric_families(first.text)}
    maint = [
        s
        for s in families["haproxy_server_status"].samples
        if s.labels == {"proxy": "be", "server": "mnt", "state": "MAINT"}
    ]
    assert [s.value for s in maint] == [1.0]
    hist = families["herdsman_server_check_duration_seconds"]
    assert hist.type == "histogram"
    counts = [
        s.value
        for s in hist.samples
        if s.name.endswith("_count") and s.labels == {"proxy": "be", "server": "up1"}
    ]
    assert counts
    assert counts[0] >= 1
    # 2.6.12's chunks: the same samples cut where haproxy cut them
    for want in theirs.paths:
        if want.status == 200 and want.chunks:
            sizes = [int(line, 16) for line in _chunk_lines(chunked(samples(want.text)))]
            assert sizes == [len(c) for c in want.chunks]


def _chunk_lines(body: bytes) -> list[bytes]:
    sizes: list[bytes] = []
    while True:
        line, body = body.split(b"\r\n", 1)
        size = int(line, 16)
        if not size:
            return sizes
        sizes.append(line)
        body = body[size + 2 :]


LOGGED = """\
defaults
    mode http
    log 127.0.0.1:{log} format raw local0
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend prom
    bind 127.0.0.1:{prom}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend be
backend be
    http-request use-service prometheus-exporter if {{ path /bm }}
    server s1 127.0.0.1:{down}
"""


async def test_logged_as_haproxy(tmp_path: Path) -> None:
    """httplog lines of the service's answers: ``prom/<PROMEX>`` for the frontend's
    rule, ``be/<PROMEX>`` for the backend's, ``LR--``, zero timers, the bytes of the
    head and the data (not the chunk framing), the built-in 400."""
    requests = [
        b"GET /metrics?scope= HTTP/1.0\r\n\r\n",
        b"GET /bm?scope= HTTP/1.0\r\n\r\n",
        b"GET /bm?scope=x HTTP/1.0\r\n\r\n",
        b"GET /metrics?scope=nope HTTP/1.1\r\n\r\n",
    ]

    async def lines(start: str) -> list[str]:
        syslog = Syslog()
        ports = {"prom": free_port(), "down": free_port(), "log": syslog.port}
        text = LOGGED.format(**ports)
        try:
            if start == "haproxy":
                with Haproxy(text).start(ports["prom"]):
                    for i, data in enumerate(requests):
                        await talk(ports["prom"], data)
                        # the stream logs when it ends, which may follow the
                        # client's reading of the reply: one at a time
                        got = await syslog.wait_count(i + 1)
            else:
                async with running(text):
                    for i, data in enumerate(requests):
                        await talk(ports["prom"], data)
                        got = await syslog.wait_count(i + 1)
        finally:
            syslog.close()
        # the client's address and port, the date; %Tq and %Ta (%Tw %Tc %Tr stay)
        got = [re.sub(r"^\S+ \[[^]]+\] ", "", line) for line in got]
        got = [re.sub(r" \d+/(\d+/\d+/\d+)/\d+ ", r" N/\1/N ", x, count=1) for x in got]
        # actconn/feconn: the previous connection may still count when the next
        # one logs (the log comes before the release, and haproxy may be slower
        # to release under load): one or two, as the machine goes
        return [re.sub(r" [12]/[12]/(\d+/\d+/\d+) ", r" A/A/\1 ", x, count=1) for x in got]

    theirs = await lines("haproxy")
    mine = await lines("herdsman")
    assert mine == theirs
    assert theirs[:2] == [
        'prom prom/<PROMEX> N/0/0/0/N 200 116 - - LR-- A/A/0/0/0 0/0 "GET /metrics?scope= HTTP/1.0"',
        'prom be/<PROMEX> N/0/0/0/N 200 116 - - LR-- A/A/0/0/0 0/0 "GET /bm?scope= HTTP/1.0"',
    ]


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus is missing")
async def test_real_prometheus_sees_maintenance(up_port: int, tmp_path: Path) -> None:
    """Prometheus scrapes herdsman's exporter frontend; a server put in maintenance
    over the stats socket reads ``haproxy_server_status{state="MAINT"} 1`` through
    its HTTP API."""
    ports = {k: free_port() for k in ("fe", "down", "tcp", "prom", "mon")}
    ports["up"] = up_port
    sock = str(tmp_path / "s.sock")
    prom_port = free_port()
    async with running(BASE.format(sock=sock, **ports)):
        (tmp_path / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: herdsman\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{ports['prom']}']\n"
        )
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            answer = await asyncio.to_thread(cli_command, sock, "set server be/up1 state maint")
            assert answer.strip() == ""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            query = 'haproxy_server_status{proxy="be",server="up1",state="MAINT"}'
            while True:
                result = await asyncio.to_thread(_query, prom_port, query)
                if result and result[0]["value"][1] == "1":  # type: ignore[index]
                    break
                assert loop.time() < deadline, f"Prometheus never saw it: {result}"
                await asyncio.sleep(0.2)
            assert result[0]["metric"]["job"] == "herdsman"  # type: ignore[index]
            up = await asyncio.to_thread(_query, prom_port, 'up{job="herdsman"}')
            assert up[0]["value"][1] == "1"  # type: ignore[index]
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _query(port: int, query: str) -> list[dict[str, object]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            data = json.loads(r.read())
    except OSError:
        return []  # not listening yet
    return list(data["data"]["result"])
