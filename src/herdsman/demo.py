"""A self-contained demonstration: herdsman in front of three local servers, one flapping.

    python -m herdsman.demo [--port 8080] [--duration SECONDS]

It starts three small HTTP servers on loopback, writes a configuration, runs
``herdsman -db -f <that file>`` as a child process (its health-check and
state-change lines appear on its stderr as they happen), and sends a request every half
second, printing which server answered. Server ``s3`` refuses connections for
6 seconds out of every 14: watch the checks take it out and put it back, and
the traffic move accordingly. The stats page (``/stats`` on the same port)
shows the same in a browser, with each server's health history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
from collections import Counter

CONFIG = """\
defaults
    mode http
    option log-health-checks
    option redispatch
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen demo
    bind 127.0.0.1:{port}
    balance roundrobin
    stats enable
    stats uri /stats
    stats refresh 2s
    option httpchk GET /health
    server s1 127.0.0.1:{p1} check inter 1s fall 2 rise 2
    server s2 127.0.0.1:{p2} check inter 1s fall 2 rise 2 weight 2
    server s3 127.0.0.1:{p3} check inter 1s fall 2 rise 2
"""


class Backend:
    """A tiny HTTP/1.0 server answering its own name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.server: asyncio.AbstractServer | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            body = f"hello from {self.name}\n".encode()
            writer.write(
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    async def up(self) -> None:
        if self.server is None:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            self.server = await asyncio.start_server(self._handle, sock=sock)

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


async def _request(port: int) -> str:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), 2)
        writer.close()
    except (OSError, TimeoutError):
        return "error"
    text = data.decode(errors="replace")
    return text.rsplit("hello from ", 1)[-1].strip() if "hello from" in text else "error"


async def _listening(port: int, proc: asyncio.subprocess.Process, timeout: float = 10) -> bool:
    """Wait until herdsman accepts connections (or has exited)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc.returncode is None and loop.time() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(port: int, duration: float | None, up_s: float = 8, down_s: float = 6) -> int:
    backends = [Backend(f"s{i}") for i in (1, 2, 3)]
    for be in backends:
        be.sock.close()
        await be.up()
    cfg = CONFIG.format(port=port, p1=backends[0].port, p2=backends[1].port, p3=backends[2].port)
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg)
        path = f.name
    print(f"herdsman demo: configuration written to {path}:\n")
    print(cfg)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "herdsman", "-db", "-f", path)
    if not await _listening(port, proc):
        print("herdsman did not start", file=sys.stderr)
        return 1
    print(
        f"herdsman (pid {proc.pid}) listens on 127.0.0.1:{port}; try: curl http://127.0.0.1:{port}/"
        f"\nstats page: http://127.0.0.1:{port}/stats"
    )
    print(f"s3 flaps: down {down_s:g} s out of every {up_s + down_s:g}. Ctrl-C stops the demo.\n")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def flap() -> None:
        while True:
            await asyncio.sleep(up_s)
            print("demo: s3 stops listening", flush=True)
            await backends[2].down()
            await asyncio.sleep(down_s)
            print("demo: s3 listens again", flush=True)
            await backends[2].up()

    async def traffic() -> None:
        seen: Counter[str] = Counter()
        n = 0
        while True:
            await asyncio.sleep(0.5)
            seen[await _request(port)] += 1
            n += 1
            if n % 8 == 0:
                print(
                    "demo: last 8 requests served by "
                    + ", ".join(f"{k}={v}" for k, v in sorted(seen.items())),
                    flush=True,
                )
                seen.clear()

    tasks = [loop.create_task(flap()), loop.create_task(traffic())]
    try:
        if duration is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        else:
            await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        if proc.returncode is None:
            proc.send_signal(signal.SIGUSR1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            if proc.returncode is None:
                proc.kill()
        for be in backends:
            await be.down()
        os.unlink(path)
    return 0


def run() -> int:
    ap = argparse.ArgumentParser(description="herdsman demo")
    ap.add_argument("--port", type=int, default=0, help="listening port (default: a free one)")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    ap.add_argument("--up", type=float, default=8, help="seconds s3 listens in each cycle")
    ap.add_argument("--down", type=float, default=6, help="seconds s3 refuses in each cycle")
    args = ap.parse_args()
    return asyncio.run(main(args.port or free_port(), args.duration, args.up, args.down))


if __name__ == "__main__":
    raise SystemExit(run())
