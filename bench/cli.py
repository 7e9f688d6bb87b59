"""The runtime API on a large configuration: herdsman against haproxy 2.6.

Both programs run the same configuration (one backend of ``--servers``
servers, a stats socket) and answer ``show stat``, ``show servers state`` and
``show info`` over their UNIX sockets, ``--rounds`` times each; the script
prints the best and median time of each command per program and the ratio
(herdsman / haproxy: lower is better). Nothing asserts: see bench/README.md.

    .venv/bin/python bench/cli.py --servers 2000
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import haproxy_bin, herdsman_cmd, machine_info, stop_process

COMMANDS = ("show stat", "show servers state", "show info")


def config(sock: Path, servers: int) -> str:
    lines = "".join(f"    server s{i} 127.0.0.{i % 250 + 1}:80\n" for i in range(servers))
    return (
        f"global\n    stats socket {sock} level admin\n"
        "defaults\n    mode tcp\n    timeout client 1s\n    timeout server 1s\n"
        "    timeout connect 1s\nbackend big\n" + lines
    )


def ask(sock: Path, cmd: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(sock))
        s.sendall(cmd.encode() + b"\n")
        chunks = []
        while chunk := s.recv(1 << 16):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_socket(sock: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            ask(sock, "show info")
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def measure(cmd: list[str], servers: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        sock = Path(tmp) / "admin.sock"
        cfg = Path(tmp) / "h.cfg"
        cfg.write_text(config(sock, servers))
        proc = subprocess.Popen([*cmd, "-db", "-f", str(cfg)], stderr=subprocess.DEVNULL)
        try:
            wait_socket(sock, proc)
            times: dict[str, list[float]] = {}
            for command in COMMANDS:
                ask(sock, command)  # warm up
                out = times.setdefault(command, [])
                for _ in range(rounds):
                    start = time.perf_counter()
                    ask(sock, command)
                    out.append(time.perf_counter() - start)
            return times
        finally:
            stop_process(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    info = machine_info()
    print(f"# {info['cpu']}, {info['cores']} cores; {info['haproxy']}; {info['source']}")
    hx = measure([haproxy_bin()], args.servers, args.rounds)
    hm = measure(herdsman_cmd(), args.servers, args.rounds)
    print(f"{'command':<20} {'haproxy ms':>18} {'herdsman ms':>18} {'ratio':>7}")
    for command in COMMANDS:
        h, m = hx[command], hm[command]
        print(
            f"{command:<20} {min(h) * 1e3:8.2f} ({statistics.median(h) * 1e3:7.2f})"
            f" {min(m) * 1e3:8.2f} ({statistics.median(m) * 1e3:7.2f})"
            f" {statistics.median(m) / statistics.median(h):7.1f}"
        )
    print("(best, and median in parentheses, of", args.rounds, "rounds)")


if __name__ == "__main__":
    main()
