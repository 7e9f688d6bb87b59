"""HTTP mode against haproxy: requests/s, latency, CPU and memory, the same load on both.

    .venv/bin/python bench/http_mode.py                     # every test, herdsman + haproxy
    .venv/bin/python bench/http_mode.py --tests keepalive,close --proxies herdsman --profile

One configuration, run by herdsman (``herdsman -db -f``) and by haproxy
(``haproxy -db -f``, ``nbthread 1``) side by side, both pinned to
``--cpu-proxy`` (only the one under load works); nginx (the backend, as in
relay.py), wrk and this script on ``--cpu-load``. The wrk tests run in
``--rounds`` rounds (3), each test against every proxy in turn, and each
figure is the median of its rounds: on a shared machine a slow period then
weighs on both proxies. It has two ``listen`` sections towards the same nginx: ``http``
(``mode http``, HAProxy's defaults: keep-alive on both sides, ``http-reuse
safe``) and ``tcp`` (``mode tcp``).

Tests (``--tests``, comma list):

* ``idle``: ``--idle`` (10,000) client connections, each makes one keep-alive
  request and then stays open and idle. The proxy's RSS (``VmRSS`` of
  ``/proc/<pid>/status``) once all of them were answered and again after
  ``--idle-hold`` seconds, minus its RSS before (after a warm-up of a few
  hundred requests); runs first, on fresh processes, so that memory freed by
  earlier tests does not hide the growth.
* ``keepalive``: ``wrk -c<--conns>`` on ``/`` (6 bytes), keep-alive, after
  ``--warmup`` seconds (6) of the same load: until the first purge of the idle
  pools (``pool-purge-delay``, 5 s) both proxies keep at most one idle server
  connection and open one for most requests (``srv_add_to_idle_list()``).
* ``close``: the same with ``Connection: close``: one client and one server
  connection per request.
* ``big``: ``wrk -c<--conns>`` on ``/big`` (100 KiB), keep-alive.
* ``tcp``: ``close`` through the ``mode tcp`` listener (relay.py's ``conn``).

Each wrk test reports requests/s, p50/p99 latency, the proxy's CPU share and
its CPU time per request; the summary gives each as a ratio herdsman/haproxy.
Results: ``bench/results/http-<time>/``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import statistics
import subprocess
import sys
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
    BIG_SIZE,
    HOST,
    cpu_text,
    measure,
    proc_status,
    retried,
    run_wrk,
    start_nginx,
    start_proxy,
    warn_interference,
)

TESTS = ("idle", "keepalive", "close", "big", "tcp")
PROXIES = ("herdsman", "haproxy", "direct")


def make_config(ports: dict[str, int], nginx_port: int, maxconn: int, haproxy: bool) -> str:
    """The file both proxies run; haproxy alone gets ``no strict-limits`` when the hard
    file-descriptor limit is below the ``2 * maxconn`` it asks for (herdsman refuses
    the keyword): it then only warns, and 10,000 clients need about 12,000 descriptors.
    """
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    lines = [
        "global",
        f"    maxconn {maxconn}",
        "    nbthread 1",
        *(["    no strict-limits"] if haproxy and 0 <= hard < 2 * maxconn + 100 else []),
        "",
        "defaults",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
    ]
    for name, mode in (("http", "http"), ("tcp", "tcp")):
        lines += [
            "",
            f"listen {name}",
            f"    mode {mode}",
            f"    bind {HOST}:{ports[name]}",
            f"    server s1 {HOST}:{nginx_port}",
        ]
    return "\n".join(lines) + "\n"


# -- idle keep-alive connections ----------------------------------------------------------------

_REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


async def _one_request(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that made one request and read its whole response."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(_REQUEST)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected response {head[:40]!r}")
    m = _LENGTH.search(head)
    await reader.readexactly(int(m.group(1)) if m else 0)
    return reader, writer


async def _idle(port: int, pid: int, count: int, hold: float, batch: int) -> dict[str, Any]:
    # warm-up: the first requests import and allocate what every later one reuses
    for _ in range(4):
        warm = await asyncio.gather(*(_one_request(port) for _ in range(50)))
        for _, w in warm:
            w.close()
    await asyncio.sleep(1.0)  # let the closes land
    before = proc_status(pid)
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    t0 = time.monotonic()
    while len(conns) < count:
        n = min(batch, count - len(conns))
        conns += await asyncio.gather(*(_one_request(port) for _ in range(n)))
    opened = time.monotonic() - t0
    answered = proc_status(pid)
    await asyncio.sleep(hold)
    held = proc_status(pid)
    alive = sum(1 for r, _ in conns if not r.at_eof())
    for _, w in conns:
        w.close()
    growth = max(answered["VmRSS"], held["VmRSS"]) - before["VmRSS"]
    return {
        "connections": count,
        "open_seconds": round(opened, 2),
        "alive_after_hold": alive,
        "rss_before_kB": before["VmRSS"],
        "rss_answered_kB": answered["VmRSS"],
        "rss_held_kB": held["VmRSS"],
        "hwm_kB": held["VmHWM"],
        "fds_held": held["fds"],
        "rss_growth_MB": round(growth / 1024, 1),
        "rss_per_conn_kB": round(growth / count, 2),
    }


def idle_test(port: int, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    return asyncio.run(_idle(port, pid, args.idle, args.idle_hold, args.idle_batch))


# -- the proxies side by side, in interleaved rounds -------------------------------------------


class Proxy:
    """One proxy under test (or ``direct``): its process, ports and results."""

    def __init__(self, name: str, args: argparse.Namespace, outdir: Path, nginx_port: int) -> None:
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[str] | None = None
        self.row: dict[str, Any] = {"proxy": name}
        self.samples: dict[str, list[dict[str, Any]]] = {}
        if name == "herdsman" and args.experiments:
            self.row["experiments"] = args.experiments
        if name == "direct":
            self.ports = {"http": nginx_port, "tcp": nginx_port}
            return
        self.ports = {"http": free_port(), "tcp": free_port()}
        cfg = outdir / f"http-{name}.cfg"
        cfg.write_text(make_config(self.ports, nginx_port, args.maxconn, name == "haproxy"))
        self.log = open(outdir / f"{name}.log", "w")  # noqa: SIM115
        self.proc = start_proxy(
            name, cfg, self.ports, parse_cpus(args.cpu_proxy), self.log, args.experiments, args.nice
        )
        self.row["command"] = " ".join(str(a) for a in self.proc.args)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
        if self.log is not None:
            self.log.close()


def run_all(
    names: list[str], args: argparse.Namespace, outdir: Path, nginx: subprocess.Popen[bytes]
) -> list[dict[str, Any]]:
    """Every proxy runs from the start (the idle ones cost nothing); ``idle`` first,
    on each fresh process, then ``--rounds`` rounds of the wrk tests, each test run
    against every proxy in turn: a slow period of a shared machine then weighs on
    all of them, and each figure is the median of its rounds."""
    nginx_port = int(args.nginx_port)
    proxies: list[Proxy] = []
    tests = args.tests.split(",")
    try:
        for name in names:
            proxies.append(Proxy(name, args, outdir, nginx_port))
        if "idle" in tests:
            for px in proxies:
                if px.proc is None:
                    continue
                res = idle_test(px.ports["http"], px.proc.pid, args)
                px.row["idle"] = res
                print(
                    f"== {px.name} idle: {res['connections']} connections,"
                    f" RSS +{res['rss_growth_MB']} MB ({res['rss_per_conn_kB']} kB each),"
                    f" {res['alive_after_hold']} still open",
                    flush=True,
                )
        for rnd in range(args.rounds):
            if args.quiet_timeout:
                wait_quiet(args.quiet_below, args.quiet_timeout)
            for test in tests:
                if test == "idle":
                    continue
                for px in proxies:
                    print(f"== round {rnd + 1}/{args.rounds}, {px.name}", flush=True)
                    res = retried(
                        lambda px=px, test=test, rnd=rnd: _run_test(
                            test, px, args, outdir, nginx, warm=rnd == 0
                        ),
                        args,
                        lambda res, test=test: _print(test, res, args.max_interference),
                    )
                    px.samples.setdefault(test, []).append(res)
    finally:
        for px in proxies:
            px.stop()
    for px in proxies:
        for test, samples in px.samples.items():
            px.row[test] = median_result(samples)
    return [px.row for px in proxies]


def median_result(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each number over the rounds, and the rounds themselves."""
    out: dict[str, Any] = {"rounds": samples}
    for key in (
        "rps",
        "latency_p50_ms",
        "latency_p99_ms",
        "proxy_cpu_percent",
        "proxy_user_percent",
        "proxy_cpu_us_per_req",
        "interference_percent",
    ):
        values = [r[key] for r in samples if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = statistics.median(values)
    out["socket_errors"] = "; ".join(r["socket_errors"] for r in samples if r["socket_errors"])
    out["non_2xx"] = sum(r["non_2xx"] for r in samples)
    return out


def _run_test(
    test: str,
    px: Proxy,
    args: argparse.Namespace,
    outdir: Path,
    nginx: subprocess.Popen[bytes],
    warm: bool,
) -> dict[str, Any]:
    """One wrk test against one proxy (or direct), in a CPU window."""
    cpu_load = parse_cpus(args.cpu_load)
    port = px.ports["tcp" if test == "tcp" else "http"]
    proc = px.proc
    name = px.name
    close = test in ("close", "tcp")
    path = "/big" if test == "big" else "/"

    def load() -> dict[str, Any]:
        return run_wrk(port, args.conns, args.seconds, close, cpu_load, args.nice, path)

    if warm and args.warmup and not close:
        # the idle pools keep what the last purge (pool-purge-delay, 5 s) saw in use:
        # before it, most keep-alive requests open a new server connection
        run_wrk(port, args.conns, args.warmup, close, cpu_load, args.nice, path)

    pids = {"nginx": nginx.pid, "self": os.getpid()}
    if proc is not None:
        pids["proxy"] = proc.pid
    spied = args.profile and name == "herdsman" and warm  # profiles of the first round
    return measure(
        load,
        pids,
        proc.pid if proc is not None else None,
        args.seconds,
        profile=outdir / f"profile-{name}-{test}.raw" if spied else None,
        perf=outdir / f"perf-{name}-{test}.data" if args.perf and warm else None,
        cpus=cpu_load,
    )


def _print(test: str, res: dict[str, Any], max_interference: float) -> None:
    errors = res["socket_errors"] or "none"
    per_req = res.get("proxy_cpu_us_per_req")
    each = f", {per_req:.0f} µs CPU/req" if per_req else ""
    print(
        f"   {test}: {res['rps']:.0f} req/s, p50 {res.get('latency_p50_ms', 0):.2f} ms,"
        f" p99 {res.get('latency_p99_ms', 0):.2f} ms{each}{cpu_text(res)};"
        f" socket errors: {errors}, non-2xx: {res['non_2xx']}",
        flush=True,
    )
    warn_interference(res, max_interference)


# -- summary ------------------------------------------------------------------------------------

# what the ratios compare, and the goal of issue 13 for each (herdsman / haproxy)
RATIO_KEYS = (
    "rps",
    "latency_p50_ms",
    "latency_p99_ms",
    "proxy_cpu_percent",
    "proxy_cpu_us_per_req",
)
GOALS = {"keepalive": 0.5, "close": 0.5, "tcp": 0.5, "big": 0.8}
IDLE_GOAL_MB = 100.0


def ratios(h: dict[str, Any], a: dict[str, Any]) -> dict[str, dict[str, float]]:
    """herdsman / haproxy for every wrk test both ran."""
    out: dict[str, dict[str, float]] = {}
    for test in TESTS:
        if test == "idle" or test not in h or test not in a:
            continue
        out[test] = {
            key: round(h[test][key] / a[test][key], 2)
            for key in RATIO_KEYS
            if h[test].get(key) and a[test].get(key)
        }
    return out


def print_summary(by: dict[str, dict[str, Any]], table: dict[str, dict[str, float]]) -> None:
    print("herdsman / haproxy:")
    for test, r in table.items():
        goal = GOALS.get(test)
        mark = ""
        if goal is not None and "rps" in r:
            mark = f"  (goal >= {goal}x: {'met' if r['rps'] >= goal else 'missed'})"
        print(
            f"   {test:9} req/s {r.get('rps', 0):.2f}x, p50 {r.get('latency_p50_ms', 0):.2f}x,"
            f" p99 {r.get('latency_p99_ms', 0):.2f}x,"
            f" CPU/req {r.get('proxy_cpu_us_per_req', 0):.2f}x{mark}"
        )
    idle = by.get("herdsman", {}).get("idle")
    if idle:
        ok = "met" if idle["rss_growth_MB"] < IDLE_GOAL_MB else "missed"
        other = by.get("haproxy", {}).get("idle")
        ref = f", haproxy +{other['rss_growth_MB']} MB" if other else ""
        print(
            f"   idle      {idle['connections']} connections: herdsman RSS"
            f" +{idle['rss_growth_MB']} MB{ref}  (goal < {IDLE_GOAL_MB:g} MB: {ok})"
        )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--proxies", default="herdsman,haproxy", help="comma list of " + ", ".join(PROXIES)
    )
    ap.add_argument("--tests", default=",".join(TESTS), help="comma list")
    ap.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the wrk tests (medians)")
    ap.add_argument("--conns", type=int, default=50, help="wrk connections")
    ap.add_argument(
        "--warmup", type=int, default=6, help="unmeasured wrk run before keepalive and big, s"
    )
    ap.add_argument("--idle", type=int, default=10_000, help="idle keep-alive connections")
    ap.add_argument("--idle-hold", type=float, default=5.0, help="seconds they stay idle")
    ap.add_argument("--idle-batch", type=int, default=500, help="connections opened at once")
    ap.add_argument("--maxconn", type=int, default=10_500, help="global maxconn of the proxies")
    ap.add_argument("--cpu-proxy", default="0", help="CPUs for the proxy ('none': no pinning)")
    ap.add_argument("--cpu-load", default="1", help="CPUs for wrk, nginx and this script")
    ap.add_argument("--profile", action="store_true", help="py-spy record herdsman in each test")
    ap.add_argument("--perf", action="store_true", help="perf record the proxy in each test")
    add_run_options(ap, "the proxy and the load", "a test")
    args = ap.parse_args(argv)
    for test in args.tests.split(","):
        if test not in TESTS:
            raise SystemExit(f"unknown test {test!r} (known: {', '.join(TESTS)})")
    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    for name in names:
        if name not in PROXIES:
            raise SystemExit(f"unknown proxy {name!r}")

    # 10,000 clients, as many proxy connections, nginx's
    raise_nofile(4 * args.idle + 1000)
    pin(os.getpid(), parse_cpus(args.cpu_load))
    renice(os.getpid(), args.nice)
    outdir = results_dir("http")
    nginx_port = free_port()
    nginx = start_nginx(outdir, nginx_port, parse_cpus(args.cpu_load), args.nice)
    args.nginx_port = nginx_port
    try:
        rows = run_all(names, args, outdir, nginx)
    finally:
        stop_process(nginx)
    summary: dict[str, Any] = {
        "machine": machine_info(),
        "args": vars(args),
        "big_bytes": BIG_SIZE,
        "rows": rows,
    }
    by = {r["proxy"]: r for r in rows}
    if "herdsman" in by and "haproxy" in by:
        table = ratios(by["herdsman"], by["haproxy"])
        summary["herdsman_over_haproxy"] = table
        print_summary(by, table)
    write_json(outdir / "results.json", summary)
    print(f"results: {outdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
