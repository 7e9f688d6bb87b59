"""What server limits and queues cost: 2,000 clients through servers of ``maxconn 10``.

    .venv/bin/python bench/limits.py                        # herdsman + haproxy, every test
    .venv/bin/python bench/limits.py --tests queue          # the queue micro-benchmark only

One configuration, run by herdsman and by haproxy (``nbthread 1``) side by
side, pinned to ``--cpu-proxy``; nginx (the servers, as in http_mode.py), wrk
and this script on ``--cpu-load``. Four ``listen`` sections towards the same
nginx, each with ``--servers`` (4) servers: ``lim_http`` and ``lim_tcp`` give
each server ``maxconn 10`` (so at most 40 requests reach nginx at once, the
others wait in the queues), ``free_http`` and ``free_tcp`` give none.

Tests (``--tests``, comma list):

* ``http``: ``wrk -c<--conns>`` (2,000) keep-alive on ``/`` through
  ``lim_http`` and ``free_http``: in HTTP mode a request holds its server
  slot from its connect to the end of its response, so every request of the
  limited run but the first 40 waits in a queue.
* ``tcp``: the same with ``Connection: close`` through ``lim_tcp`` and
  ``free_tcp``: a TCP stream holds its slot for its whole connection.
* ``queue``: core/queue.py alone, no sockets: the cost of one dequeue
  (``take_first()``, then a ``push()`` to keep the length) with 100 and with
  10,000 entries queued, and of abandoning an entry (``unlink()``).

Each wrk test reports requests/s and the proxy's CPU time per request, for the
limited and the unlimited section; the summary gives limited/unlimited for
each proxy (issue 14's goal: herdsman keeps at least 85 % of its unlimited
throughput) and herdsman/haproxy for each section. ``show stat``'s ``qmax``
after a limited run proves the requests did queue. Results:
``bench/results/limits-<time>/``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
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

from herdsman.core.queue import Pending, Queue

TESTS = ("http", "tcp", "queue")
PROXIES = ("herdsman", "haproxy")
SECTIONS = ("lim_http", "free_http", "lim_tcp", "free_tcp")
GOAL = 0.85  # issue 14: queueing costs at most 15 % of the unlimited throughput


def make_config(
    ports: dict[str, int], nginx_port: int, servers: int, maxconn: int, stats: str
) -> str:
    lines = [
        "global",
        "    maxconn 5000",  # 2,000 clients and as many server connections
        "    nbthread 1",
        f"    stats socket {stats} level admin",
        "",
        "defaults",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout queue 60s",
    ]
    for name in SECTIONS:
        limit = f" maxconn {maxconn}" if name.startswith("lim") else ""
        lines += [
            "",
            f"listen {name}",
            f"    mode {name.split('_')[1]}",
            f"    bind {HOST}:{ports[name]}",
        ]
        lines += [f"    server s{i} {HOST}:{nginx_port}{limit}" for i in range(1, servers + 1)]
    return "\n".join(lines) + "\n"


def show_stat(path: str) -> dict[tuple[str, str], dict[str, str]]:
    """``show stat`` as rows by (proxy, server)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"show stat\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    lines = raw.decode().splitlines()
    names = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(names, line.split(","), strict=False)) for line in lines[1:] if line]
    return {(r["pxname"], r["svname"]): r for r in rows}


class Proxy:
    """One proxy under test: its process, ports and stats socket."""

    def __init__(self, name: str, args: argparse.Namespace, outdir: Path, nginx_port: int) -> None:
        self.name = name
        self.ports = {s: free_port() for s in SECTIONS}
        self.stats = os.path.join(tempfile.mkdtemp(prefix="hm-bench-"), "stats")
        cfg = outdir / f"limits-{name}.cfg"
        cfg.write_text(make_config(self.ports, nginx_port, args.servers, args.maxconn, self.stats))
        self.log: IO[str] = open(outdir / f"{name}.log", "w")  # noqa: SIM115
        self.proc = start_proxy(
            name, cfg, self.ports, parse_cpus(args.cpu_proxy), self.log, args.experiments, args.nice
        )

    def qmax(self, section: str) -> int:
        """The longest queue (backend's and servers' together) seen in ``section``."""
        rows = show_stat(self.stats)
        return sum(int(r["qmax"] or 0) for (px, sv), r in rows.items() if px == section)

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


def run_wrk_test(
    test: str, px: Proxy, section: str, args: argparse.Namespace, nginx_pid: int, rnd: int
) -> dict[str, Any]:
    cpu_load = parse_cpus(args.cpu_load)
    port = px.ports[section]
    close = test == "tcp"

    def load() -> dict[str, Any]:
        return run_wrk(port, args.conns, args.seconds, close, cpu_load, args.nice)

    pids = {"nginx": nginx_pid, "self": os.getpid(), "proxy": px.proc.pid}
    spied = args.profile and px.name == "herdsman" and rnd == 0
    profile = args.outdir / f"profile-{section}.raw" if spied else None
    res = measure(load, pids, px.proc.pid, args.seconds, profile=profile, cpus=cpu_load)
    if section.startswith("lim"):
        res["qmax"] = px.qmax(section)
    return res


def _print(label: str, res: dict[str, Any], max_interference: float) -> None:
    per_req = res.get("proxy_cpu_us_per_req")
    each = f", {per_req:.0f} µs CPU/req" if per_req else ""
    queued = f", qmax {res['qmax']}" if "qmax" in res else ""
    print(
        f"   {label}: {res['rps']:.0f} req/s, p99 {res.get('latency_p99_ms', 0):.1f} ms"
        f"{each}{queued}{cpu_text(res)}; socket errors: {res['socket_errors'] or 'none'},"
        f" non-2xx: {res['non_2xx']}",
        flush=True,
    )
    warn_interference(res, max_interference)


def wrk_tests(
    names: list[str], tests: list[str], args: argparse.Namespace, outdir: Path, nginx_pid: int
) -> dict[str, dict[str, Any]]:
    """Every (test, section) against every proxy in turn, ``--rounds`` times; medians."""
    samples: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    proxies: list[Proxy] = []
    try:
        for name in names:
            proxies.append(Proxy(name, args, outdir, int(args.nginx_port)))
        for rnd in range(args.rounds):
            if args.quiet_timeout:
                wait_quiet(args.quiet_below, args.quiet_timeout)
            for test in tests:
                for section in (f"lim_{test}", f"free_{test}"):
                    for px in proxies:
                        label = f"round {rnd + 1}/{args.rounds} {px.name} {section}"
                        print(f"== {label}", flush=True)
                        res = retried(
                            lambda px=px, test=test, section=section, rnd=rnd: run_wrk_test(
                                test, px, section, args, nginx_pid, rnd
                            ),
                            args,
                            lambda r, label=label: _print(label, r, args.max_interference),
                        )
                        samples.setdefault((px.name, test, section), []).append(res)
    finally:
        for px in proxies:
            px.stop()
    out: dict[str, dict[str, Any]] = {}
    for (name, _test, section), runs in samples.items():
        row: dict[str, Any] = {"rounds": runs}
        for key in ("rps", "proxy_cpu_us_per_req", "proxy_cpu_percent", "latency_p99_ms", "qmax"):
            values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
            if values:
                row[key] = statistics.median(values)
        out.setdefault(name, {})[section] = row
    return out


def ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 3) if isinstance(a, (int, float)) and b else None


def summary(by: dict[str, dict[str, Any]], tests: list[str]) -> dict[str, Any]:
    """limited/unlimited per proxy and test; herdsman/haproxy per section."""
    table: dict[str, Any] = {"limited_over_unlimited": {}, "herdsman_over_haproxy": {}}
    for name, rows in by.items():
        for test in tests:
            lim, free = rows.get(f"lim_{test}", {}), rows.get(f"free_{test}", {})
            table["limited_over_unlimited"][f"{name} {test}"] = {
                "rps": ratio(lim.get("rps"), free.get("rps")),
                "cpu_us_per_req": ratio(
                    lim.get("proxy_cpu_us_per_req"), free.get("proxy_cpu_us_per_req")
                ),
            }
    if "herdsman" in by and "haproxy" in by:
        for section in SECTIONS:
            h, a = by["herdsman"].get(section), by["haproxy"].get(section)
            if h and a:
                table["herdsman_over_haproxy"][section] = {
                    "rps": ratio(h.get("rps"), a.get("rps")),
                    "cpu_us_per_req": ratio(
                        h.get("proxy_cpu_us_per_req"), a.get("proxy_cpu_us_per_req")
                    ),
                }
    print("\n== limited / unlimited (requests/s, CPU per request); goal for herdsman:", GOAL)
    for key, r in table["limited_over_unlimited"].items():
        print(f"   {key:16} {r['rps']}  {r['cpu_us_per_req']}")
    print("== herdsman / haproxy (requests/s, CPU per request)")
    for key, r in table["herdsman_over_haproxy"].items():
        print(f"   {key:16} {r['rps']}  {r['cpu_us_per_req']}")
    return table


# -- the queue alone ---------------------------------------------------------------------------


def queue_cost(length: int, ops: int) -> dict[str, float]:
    """ns per dequeue (``take_first()``, then a new entry ``push()``ed to keep
    ``length``) and per abandon (``unlink()`` of an entry in the middle, and a
    new one pushed), with ``length`` queued; a new ``Pending`` each time, as a
    stream brings its own."""
    q = Queue()
    live = [Pending(None, None, 0) for _ in range(length)]
    for i, p in enumerate(live):
        q.push(p, i)
    now = length
    t0 = time.perf_counter_ns()
    for _ in range(ops):
        q.take_first()
        now += 1
        q.push(Pending(None, None, now), now)
    dequeue = (time.perf_counter_ns() - t0) / ops
    live = q.entries()
    stride = max(1, length // 2 + 1)
    t0 = time.perf_counter_ns()
    for i in range(ops):
        k = (i * stride) % length
        q.unlink(live[k])
        now += 1
        live[k] = Pending(None, None, now)
        q.push(live[k], now)
    abandon = (time.perf_counter_ns() - t0) / ops
    assert q.length == length
    return {"dequeue_ns": round(dequeue), "abandon_ns": round(abandon)}


def queue_test(ops: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for length in (100, 10_000):
        best = min((queue_cost(length, ops) for _ in range(5)), key=lambda r: r["dequeue_ns"])
        out[str(length)] = best
        print(
            f"== queue of {length}: {best['dequeue_ns']} ns per dequeue,"
            f" {best['abandon_ns']} ns per abandon",
            flush=True,
        )
    out["dequeue_10000_over_100"] = ratio(out["10000"]["dequeue_ns"], out["100"]["dequeue_ns"])
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--proxies", default=",".join(PROXIES), help="comma list")
    ap.add_argument("--tests", default=",".join(TESTS), help="comma list")
    ap.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the wrk tests (medians)")
    ap.add_argument("--conns", type=int, default=2000, help="wrk connections")
    ap.add_argument("--servers", type=int, default=4, help="servers in each section")
    ap.add_argument("--maxconn", type=int, default=10, help="maxconn of each limited server")
    ap.add_argument("--queue-ops", type=int, default=200_000, help="operations per queue timing")
    ap.add_argument("--profile", action="store_true", help="py-spy record herdsman in round 1")
    ap.add_argument("--cpu-proxy", default="0", help="CPUs for the proxy ('none': no pinning)")
    ap.add_argument("--cpu-load", default="1", help="CPUs for wrk, nginx and this script")
    add_run_options(ap, "the proxy and the load", "a test")
    args = ap.parse_args(argv)
    args.perf = False
    tests = args.tests.split(",")
    for test in tests:
        if test not in TESTS:
            raise SystemExit(f"unknown test {test!r} (known: {', '.join(TESTS)})")
    names = [p.strip() for p in args.proxies.split(",") if p.strip()]
    for name in names:
        if name not in PROXIES:
            raise SystemExit(f"unknown proxy {name!r}")
    raise_nofile(4 * args.conns + 1000)
    pin(os.getpid(), parse_cpus(args.cpu_load))
    renice(os.getpid(), args.nice)
    outdir = args.outdir = results_dir("limits")
    result: dict[str, Any] = {"machine": machine_info(), "args": vars(args).copy()}
    if "queue" in tests:
        result["queue"] = queue_test(args.queue_ops)
    wrk = [t for t in tests if t != "queue"]
    if wrk:
        nginx_port = free_port()
        args.nginx_port = nginx_port
        nginx = start_nginx(outdir, nginx_port, parse_cpus(args.cpu_load), args.nice)
        try:
            by = wrk_tests(names, wrk, args, outdir, nginx.pid)
        finally:
            stop_process(nginx)
        result["rows"] = by
        result["summary"] = summary(by, wrk)
    result["args"]["outdir"] = str(outdir)
    write_json(outdir / "results.json", result)
    print(f"results: {outdir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
