"""TCP relay throughput and rates through a ``listen`` in ``mode tcp``, herdsman vs haproxy.

    .venv/bin/python bench/relay.py                      # everything, both proxies + direct baseline
    .venv/bin/python bench/relay.py --tests bulk --size 4G
    .venv/bin/python bench/relay.py --proxies herdsman --profile   # + py-spy profiles

The proxy under test (``herdsman -db -f relay.cfg`` or ``haproxy -db -f
relay.cfg``, the same file, ``nbthread 1``) is pinned to ``--cpu-proxy``; every
load generator and server (this script, wrk, nginx) to ``--cpu-load``. The
``direct`` rows run the same load without a proxy: they show the ceiling the
generators reach on their own core.

Tests (``--tests``, comma list):

* ``bulk``: ``--size`` bytes (default 1 GiB) in one connection, client to
  server (``up``: the client sends, shuts down, and the sink server closes once
  it read everything) and server to client (``down``: the source server sends
  and closes). Both ends are blocking sockets in threads of this script, 1 MiB
  writes and reads. Time from connect to the final EOF; best and median of
  ``--repeat`` runs, MB/s = 10^6 bytes per second.
* ``conn``: connection rate. ``wrk -t1 -c<--conns> -H 'Connection: close'``
  against nginx behind the proxy: one TCP connection (client and server side)
  per request, nginx closes after its response.
* ``keepalive``: ``wrk -t1 -c<--conns>`` with keep-alive: requests/s relayed
  over established connections.

nginx (Debian ``nginx-light``, one process, ``master_process off``, ``return
200`` of 6 bytes, no access log) serves ``conn`` and ``keepalive``. Each row
also reports the proxy's CPU share during the test (% of one core), so a row
limited by the load generators rather than the proxy can be told apart.
Results: ``bench/results/relay-<time>/``.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from _common import (
    add_run_options,
    free_port,
    machine_info,
    parse_cpus,
    pin,
    raise_nofile,
    renice,
    results_dir,
    stop_process,
    wait_quiet,
    write_json,
)
from _load import (
    HOST,
    cpu_text,
    measure,
    retried,
    run_wrk,
    start_nginx,
    start_proxy,
    warn_interference,
)

CHUNK = 1 << 20


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    m = re.fullmatch(r"(\d+)([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(m.group(1)) * units[m.group(2).upper()]


# -- bulk endpoints (threads of this process) ------------------------------------------------


class BulkServer:
    """A sink (reads to EOF, then closes) and a source (sends ``size`` bytes, closes)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sink = self._listen()
        self.source = self._listen()
        self.received: list[int] = []
        for sock, fn in ((self.sink, self._sink), (self.source, self._source)):
            threading.Thread(target=self._accept_loop, args=(sock, fn), daemon=True).start()

    @staticmethod
    def _listen() -> socket.socket:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, 0))
        s.listen(16)
        return s

    def port(self, which: str) -> int:
        sock = self.sink if which == "sink" else self.source
        return int(sock.getsockname()[1])

    def _accept_loop(self, lsock: socket.socket, fn: Any) -> None:
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=fn, args=(conn,), daemon=True).start()

    def _sink(self, conn: socket.socket) -> None:
        buf = bytearray(CHUNK)
        total = 0
        with conn:
            while True:
                n = conn.recv_into(buf)
                if not n:
                    break
                total += n
        self.received.append(total)

    def _source(self, conn: socket.socket) -> None:
        data = memoryview(bytes(CHUNK))
        remaining = self.size
        with conn:
            try:
                while remaining:
                    n = conn.send(data[: min(remaining, CHUNK)])
                    remaining -= n
            except OSError:
                return


def bulk_up(port: int, size: int) -> float:
    """Send ``size`` bytes to the sink through ``port``; seconds until the sink closed."""
    data = memoryview(bytes(CHUNK))
    t0 = time.perf_counter()
    with socket.create_connection((HOST, port)) as s:
        remaining = size
        while remaining:
            remaining -= s.send(data[: min(remaining, CHUNK)])
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise RuntimeError("unexpected data from the sink")
    return time.perf_counter() - t0


def bulk_down(port: int, size: int) -> float:
    """Read the source's ``size`` bytes through ``port``; seconds until EOF."""
    buf = bytearray(CHUNK)
    total = 0
    t0 = time.perf_counter()
    with socket.create_connection((HOST, port)) as s:
        while True:
            n = s.recv_into(buf)
            if not n:
                break
            total += n
    elapsed = time.perf_counter() - t0
    if total != size:
        raise RuntimeError(f"received {total} bytes of {size}")
    return elapsed


# -- proxies ----------------------------------------------------------------------------------


# haproxy variants (--proxies): extra global and defaults lines on top of the common file
HAPROXY_VARIANTS: dict[str, tuple[list[str], list[str]]] = {
    "haproxy": ([], []),
    "haproxy-splice": ([], ["option splice-request", "option splice-response"]),
    "haproxy-bigbuf": (["tune.bufsize 262144"], []),
}


def make_config(
    ports: dict[str, int],
    targets: dict[str, int],
    maxconn: int,
    extra: tuple[list[str], list[str]] = ([], []),
) -> str:
    lines = [
        "global",
        f"    maxconn {maxconn}",
        "    nbthread 1",
        *(f"    {x}" for x in extra[0]),
        "",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        *(f"    {x}" for x in extra[1]),
    ]
    for name, port in ports.items():
        lines += [
            "",
            f"listen {name}",
            f"    bind {HOST}:{port}",
            f"    server s1 {HOST}:{targets[name]}",
        ]
    return "\n".join(lines) + "\n"


# -- one row: a proxy (or direct) through all tests -----------------------------------------


def run_row(
    name: str,
    args: argparse.Namespace,
    outdir: Path,
    bulk: BulkServer,
    nginx: subprocess.Popen[bytes],
    nginx_port: int,
) -> dict[str, Any]:
    cpu_proxy = parse_cpus(args.cpu_proxy)
    tests = args.tests.split(",")
    row: dict[str, Any] = {"proxy": name}
    if name == "herdsman" and args.experiments:
        row["experiments"] = args.experiments
    proc: subprocess.Popen[bytes] | None = None
    log: IO[str] | None = None
    targets = {"sink": bulk.port("sink"), "source": bulk.port("source"), "http": nginx_port}
    if name == "direct":
        ports = dict(targets)
    else:
        ports = {k: free_port() for k in targets}
        cfg = outdir / f"relay-{name}.cfg"
        extra = HAPROXY_VARIANTS.get(name, ([], []))
        cfg.write_text(make_config(ports, targets, args.maxconn, extra))
        log = open(outdir / f"{name}.log", "w")  # noqa: SIM115
        proc = start_proxy(name, cfg, ports, cpu_proxy, log, args.experiments, args.nice)
        row["command"] = " ".join(str(a) for a in proc.args)  # type: ignore[union-attr]
    print(f"== {name}", flush=True)
    if args.quiet_timeout:
        row["busiest_core_before_percent"] = wait_quiet(args.quiet_below, args.quiet_timeout)
    try:
        for test in tests:
            row[test] = retried(
                lambda test=test: _run_test(test, name, args, outdir, proc, nginx, ports),
                args,
                lambda res, test=test: _print(test, res, args.max_interference),
            )
    finally:
        if proc is not None:
            stop_process(proc)
        if log is not None:
            log.close()
    return row


def _run_test(
    test: str,
    name: str,
    args: argparse.Namespace,
    outdir: Path,
    proc: subprocess.Popen[bytes] | None,
    nginx: subprocess.Popen[bytes],
    ports: dict[str, int],
) -> dict[str, Any]:
    """One test against one proxy (or direct), with its CPU window and optional profiles."""
    cpu_load = parse_cpus(args.cpu_load)
    pids = {"nginx": nginx.pid, "self": os.getpid()}
    if proc is not None:
        pids["proxy"] = proc.pid
    if test not in ("bulk", "conn", "keepalive"):
        raise SystemExit(f"unknown test {test}")

    def load() -> dict[str, Any]:
        if test == "bulk":
            return _bulk(args, ports)
        return run_wrk(ports["http"], args.conns, args.seconds, test == "conn", cpu_load, args.nice)

    spied = args.profile and name == "herdsman"
    return measure(
        load,
        pids,
        proc.pid if proc is not None else None,
        args.seconds,
        profile=outdir / f"profile-{name}-{test}.raw" if spied else None,
        perf=outdir / f"perf-{name}-{test}.data" if args.perf else None,
        cpus=cpu_load,
    )


def _bulk(args: argparse.Namespace, ports: dict[str, int]) -> dict[str, Any]:
    res: dict[str, Any] = {"bytes": args.size, "repeat": args.repeat}
    for direction, fn, port in (
        ("up", bulk_up, ports["sink"]),
        ("down", bulk_down, ports["source"]),
    ):
        times = [fn(port, args.size) for _ in range(args.repeat)]
        rates = sorted(args.size / t / 1e6 for t in times)
        res[f"{direction}_MBps_best"] = round(rates[-1], 1)
        res[f"{direction}_MBps_median"] = round(statistics.median(rates), 1)
    return res


def _print(test: str, res: dict[str, Any], max_interference: float) -> None:
    cpu = cpu_text(res)
    if test == "bulk":
        print(
            f"   bulk {res['bytes'] / 2**30:g} GiB: up {res['up_MBps_median']} MB/s,"
            f" down {res['down_MBps_median']} MB/s (median of {res['repeat']}){cpu}",
            flush=True,
        )
    else:
        errors = res["socket_errors"] or "none"
        print(
            f"   {test}: {res['rps']:.0f} req/s, p50 {res.get('latency_p50_ms', 0):.2f} ms,"
            f" p99 {res.get('latency_p99_ms', 0):.2f} ms{cpu}; socket errors: {errors}",
            flush=True,
        )
    warn_interference(res, max_interference)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--proxies",
        default="herdsman,haproxy,direct",
        help="comma list of herdsman, direct, " + ", ".join(HAPROXY_VARIANTS),
    )
    ap.add_argument("--tests", default="bulk,conn,keepalive", help="comma list")
    ap.add_argument("--size", type=parse_size, default=1 << 30, help="bulk transfer size (1G)")
    ap.add_argument("--repeat", type=int, default=3, help="bulk transfers per direction")
    ap.add_argument("--seconds", type=int, default=20, help="duration of each wrk run")
    ap.add_argument("--conns", type=int, default=50, help="wrk connections")
    ap.add_argument("--maxconn", type=int, default=4000, help="global maxconn of the proxies")
    ap.add_argument("--cpu-proxy", default="0", help="CPUs for the proxy ('none': no pinning)")
    ap.add_argument("--cpu-load", default="1", help="CPUs for wrk, nginx and this script")
    ap.add_argument(
        "--profile", action="store_true", help="py-spy record herdsman during each test"
    )
    ap.add_argument("--perf", action="store_true", help="perf record the proxy during each test")
    add_run_options(ap, "the proxy and the load", "a test")
    args = ap.parse_args(argv)

    raise_nofile(65536)
    pin(os.getpid(), parse_cpus(args.cpu_load))
    renice(os.getpid(), args.nice)
    outdir = results_dir("relay")
    bulk = BulkServer(args.size)
    nginx_port = free_port()
    nginx = start_nginx(outdir, nginx_port, parse_cpus(args.cpu_load), args.nice)
    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    for name in names:
        if name not in ("herdsman", "direct", *HAPROXY_VARIANTS):
            raise SystemExit(f"unknown proxy {name!r}")
    rows = []
    try:
        for name in names:
            rows.append(run_row(name, args, outdir, bulk, nginx, nginx_port))
    finally:
        stop_process(nginx)
    summary: dict[str, Any] = {"machine": machine_info(), "args": vars(args), "rows": rows}
    by = {r["proxy"]: r for r in rows}
    if "herdsman" in by and "haproxy" in by:
        ratios: dict[str, float] = {}
        h, a = by["herdsman"], by["haproxy"]
        for key in ("up_MBps_median", "down_MBps_median"):
            if "bulk" in h and "bulk" in a and h["bulk"][key]:
                ratios[f"bulk_{key}"] = round(a["bulk"][key] / h["bulk"][key], 2)
        for test in ("conn", "keepalive"):
            if test in h and test in a and h[test]["rps"]:
                ratios[f"{test}_rps"] = round(a[test]["rps"] / h[test]["rps"], 2)
        summary["haproxy_over_herdsman"] = ratios
        print("haproxy / herdsman:", ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    write_json(outdir / "results.json", summary)
    print(f"results: {outdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
