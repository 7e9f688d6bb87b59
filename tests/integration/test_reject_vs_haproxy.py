"""What each ``reject`` does, side by side with haproxy 2.6.12: how the client
sees the close (a reset for ``tcp-request connection reject``, which sets
SO_LINGER 0 in ``session_accept_fd()``; a FIN for the others) and which
``show stat`` counters move (``dcon``, ``dses``, ``dreq``; a rejected
connection or session is no session: no ``stot``, no session rate).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from herdsman.testing import Acceptor, Haproxy, cli_command, free_port, running

pytestmark = pytest.mark.haproxy

# (frontend, mode, its rules, whether the client sends a request, how it sees the end)
CASES = [
    ("fc", "tcp", "tcp-request connection reject", False, "RST"),
    ("fs", "tcp", "tcp-request session reject", False, "FIN"),
    ("fq", "tcp", "tcp-request inspect-delay 1s\n    tcp-request content reject", True, "FIN"),
    ("fb", "tcp", "default_backend bq", True, "FIN"),
    ("fhc", "http", "tcp-request connection reject", False, "RST"),
    ("fhs", "http", "tcp-request session reject", False, "FIN"),
    ("fh", "http", "tcp-request content reject", True, "FIN"),
    ("fhr", "http", "http-request reject", True, "FIN"),
    ("fhb", "http", "default_backend bhr", True, "FIN"),
    ("lhr", "http", "http-request reject", True, "FIN"),  # a listen section
]

# (not bin: a content rule that needs no data may run before the request
# arrives, and 2.6's HTTP bin counts HTX bytes, not the bytes on the wire)
FIELDS = (
    "stot",
    "dreq",
    "dresp",
    "ereq",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "req_tot",
    "rate_max",
    "conn_rate_max",
    "conn_tot",
    "dcon",
    "dses",
    "intercepted",
    "cli_abrt",
    "srv_abrt",
)


def config(ports: dict[str, int], server: int, sock: str) -> str:
    out = [
        f"global\n    stats socket {sock} level admin\n",
        "defaults\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n",
    ]
    for name, mode, rules, _, _ in CASES:
        section, default = "frontend", f"    default_backend b{mode}\n"
        if name.startswith("l"):
            section, default = "listen", f"    server s1 127.0.0.1:{server}\n"
        elif "default_backend" in rules:
            default = ""
        out.append(
            f"{section} {name}\n    mode {mode}\n    bind 127.0.0.1:{ports[name]}\n"
            f"    {rules}\n{default}"
        )
    for mode in ("tcp", "http"):
        out.append(f"backend b{mode}\n    mode {mode}\n    server s1 127.0.0.1:{server}\n")
    for name, mode, rule in (("bq", "tcp", "tcp-request content"), ("bhr", "http", "http-request")):
        out.append(
            f"backend {name}\n    mode {mode}\n    {rule} reject\n"
            f"    server s1 127.0.0.1:{server}\n"
        )
    return "".join(out)


async def ending(port: int, send: bool) -> str:
    """Connect (and send a request): "RST" or "FIN" as the client reads the end."""
    writer = None
    try:
        # (haproxy's reset may come before the connection is reported open)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if send:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 5)
        return "FIN" if data == b"" else f"data {data[:40]!r}"
    except ConnectionResetError:
        return "RST"
    finally:
        if writer is not None:
            writer.close()


async def scenario(ports: dict[str, int], sock: str) -> dict[str, object]:
    seen: dict[str, object] = {}
    for name, _, _, send, _ in CASES:
        # two connections each: the counters say per connection
        seen[name] = [await ending(ports[name], send) for _ in range(2)]
    # the client sees the close before the stream's end is counted (hrsp_other):
    # read again, with a deadline, until the last stream's end is there
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        text = await asyncio.to_thread(cli_command, sock, "show stat")
        lines = text.splitlines()
        names = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(names, line.split(","), strict=False))
            if row.get("svname") in ("FRONTEND", "BACKEND") and row["pxname"] in (*ports, "bhr"):
                seen[f"{row['pxname']}/{row['svname']}"] = {f: row[f] for f in FIELDS}
        last = seen[f"{CASES[-1][0]}/FRONTEND"]
        if last["hrsp_other"] == "2" or loop.time() > deadline:  # type: ignore[index]
            return seen
        await asyncio.sleep(0.02)


async def test_rejects_as_haproxy(tmp_path: Path) -> None:
    ports = {name: free_port() for name, *_ in CASES}
    with Acceptor() as server:
        text = config(ports, server.port, str(tmp_path / "m.sock"))
        async with running(text):
            mine = await scenario(ports, str(tmp_path / "m.sock"))
        with Haproxy(text.replace("m.sock", "h.sock")).start(ports["fc"]):
            theirs = await scenario(ports, str(tmp_path / "h.sock"))
    assert mine == theirs
    for name, _, _, _, end in CASES:
        assert mine[name] == [end, end], name
    assert mine["fc/FRONTEND"]["dcon"] == "2"  # type: ignore[index]
    assert mine["fc/FRONTEND"]["stot"] == "0"  # type: ignore[index]
    assert mine["fs/FRONTEND"]["dses"] == "2"  # type: ignore[index]
    assert mine["fq/FRONTEND"]["dreq"] == "2"  # type: ignore[index]
    assert mine["fb/FRONTEND"]["dreq"] == "2"  # type: ignore[index]
    assert mine["fh/FRONTEND"]["req_tot"] == "0"  # type: ignore[index]
    assert mine["lhr/BACKEND"]["dreq"] == "2"  # type: ignore[index]
