"""The Prometheus exporter against haproxy 2.6.12's ``prometheus-exporter`` service
for the same configuration (names, HELP and TYPE lines, labels, the order,
and ``scope`` filtering), and a real Prometheus server scraping it.

herdsman serves the exporter with ``http-request use-service
prometheus-exporter``, which comes with the routing engine; until then these
tests call its service entry point (``Herdsman.exporter.answer()``), through a
small loopback HTTP server for Prometheus.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from herdsman.testing import Acceptor, Haproxy, cli_command, free_port, running

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
    server up1 127.0.0.1:{up} check inter 100
    server down1 127.0.0.1:{down} check inter 100
    server mnt 127.0.0.1:{up} disabled
listen tcpl
    mode tcp
    bind 127.0.0.1:{tcp}
    server t1 127.0.0.1:{up}
frontend prom
    bind 127.0.0.1:{prom}
{extra}"""
SERVICE = "    http-request use-service prometheus-exporter if { path_beg /metrics }\n"


@pytest.fixture
def up_port() -> Iterator[int]:
    with Acceptor() as acceptor:
        yield acceptor.port


def names(text: str) -> list[str]:
    """Every line without its value (headers whole), the build version masked."""
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            line = line.rsplit(" ", 1)[0]
        out.append(line.split('{version="', 1)[0])
    return [x for x in out if "herdsman_" not in x]


async def scrape_binary(port: int, paths: list[str]) -> list[tuple[int, str]]:
    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""

    return [await asyncio.to_thread(get, p) for p in paths]


async def wait_checked(hm_or_port: object) -> None:
    """Until both checks have run once (one UP server, one DOWN)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        if isinstance(hm_or_port, int):
            ((_, text),) = await scrape_binary(hm_or_port, ["/metrics?scope=server"])
        else:
            text = hm_or_port.exporter.render()  # type: ignore[attr-defined]
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
    "/metrics?scope=nope",
]


async def test_exporter_matches_haproxy(up_port: int, tmp_path: Path) -> None:
    ports = {k: free_port() for k in ("fe", "down", "tcp", "prom")}
    ports["up"] = up_port
    theirs_text = BASE.format(sock=tmp_path / "h.sock", extra=SERVICE, **ports)
    with Haproxy(theirs_text).start(ports["prom"]):
        await wait_checked(ports["prom"])
        theirs = await scrape_binary(ports["prom"], PATHS)
    mine_text = BASE.format(sock=tmp_path / "m.sock", extra="", **ports)
    async with running(mine_text) as hm:
        await wait_checked(hm)
        mine = [hm.exporter.answer(p) for p in PATHS]
    for path, (status, _, _, body), (their_status, their_body) in zip(
        PATHS, mine, theirs, strict=True
    ):
        assert status == their_status, path
        assert names(body.decode()) == names(their_body), path
    assert mine[-1][0] == 400
    assert mine[0][2] == [
        ("cache-control", "no-cache"),
        ("content-type", "text/plain; version=0.0.4"),
    ]
    families = {f.name: f for f in text_string_to_metric_families(mine[0][3].decode())}
    status = families["haproxy_server_status"]
    maint = [
        s for s in status.samples if s.labels == {"proxy": "be", "server": "mnt", "state": "MAINT"}
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


class ExporterServer:
    """A loopback HTTP/1.0 server answering with ``exporter.answer(target)``: the
    stand-in for ``use-service prometheus-exporter`` in these tests."""

    def __init__(self, answer: object) -> None:
        self.answer = answer
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ", 2)[1].decode()
        status, reason, fields, body = self.answer(target)  # type: ignore[operator]
        lines = [f"HTTP/1.0 {status} {reason}"] + [f"{n}: {v}" for n, v in fields]
        lines.append(f"content-length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus is missing")
async def test_real_prometheus_sees_maintenance(up_port: int, tmp_path: Path) -> None:
    """Prometheus scrapes the exporter; a server put in maintenance over the stats
    socket reads ``haproxy_server_status{state="MAINT"} 1`` through its HTTP API."""
    ports = {k: free_port() for k in ("fe", "down", "tcp", "prom")}
    ports["up"] = up_port
    sock = str(tmp_path / "s.sock")
    text = BASE.format(sock=sock, extra="", **ports)
    prom_port = free_port()
    async with running(text) as hm:
        target = ExporterServer(hm.exporter.answer)
        exporter_port = await target.start()
        (tmp_path / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: herdsman\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
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
            query = 'haproxy_server_status{proxy="be",server="up1",state="MAINT"}'
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode(
                {"query": query}
            )
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:
                result = await asyncio.to_thread(_query, url)
                if result and result[0]["value"][1] == "1":
                    break
                assert loop.time() < deadline, f"Prometheus never saw it: {result}"
                await asyncio.sleep(0.2)
            assert result[0]["metric"]["job"] == "herdsman"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            target.close()


def _query(url: str) -> list[dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            data = json.loads(r.read())
    except OSError:
        return []  # not listening yet
    return list(data["data"]["result"])
