"""The cost of rules in HTTP mode (issue 17's speed goal): keep-alive
transactions through a frontend without rules and through the same frontend
with 20 rules -- 10 ``use_backend if { path_beg ... }``, 5 ``http-request
set-header``, a stick-table rate limit (``track-sc0 src`` and a ``deny`` on
``sc_http_req_rate(0)``, 2 rules) and one ``redirect`` (2 of the 20 lines are
the ``stick-table`` declaration and the ``default_backend``, which every
configuration has).

    .venv/bin/python bench/http_rules.py                     # both ways, herdsman
    taskset -c 1 .venv/bin/python bench/http_rules.py --way path
    .venv/bin/python bench/http_rules.py --way wrk --proxies herdsman,haproxy
    .venv/bin/python bench/http_rules.py --way calls         # per group of rules

No request matches a ``use_backend`` or the redirect, so every rule is
evaluated for every request (the worst case of the list). Two ways:

* ``path``: the Python of one keep-alive transaction without sockets, as
  bench/http_path.py measures it (µs per transaction, best of 5 windows), for
  both configurations; the ratio of the rates is the share kept. It moves
  little on a shared machine.
* ``calls``: Python function calls per transaction (cProfile's count), for
  no rule, each group of the 20 alone and all of them: exact, whatever the
  load, and what the time follows (each call costs about the same).
* ``wrk``: requests/s of ``wrk -c<conns>`` through the proxy to nginx
  (bench/_load.py's set-up and pinning), both configurations in interleaved
  rounds (``--rounds``), medians per configuration.

The goal: the ``rules`` rate is at least 85 % of the ``plain`` one.
Results of ``wrk``: ``bench/results/http_rules-<time>/``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from _common import (
    free_port,
    machine_info,
    parse_cpus,
    raise_nofile,
    results_dir,
    stop_process,
    write_json,
)
from _load import HOST, measure, run_wrk, start_nginx, start_proxy
from http_path import keepalive

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse
from herdsman.runtime import Herdsman

RULES = [
    *(f"use_backend b{i} if {{ path_beg /api{i}/ }}" for i in range(10)),
    *(f"http-request set-header x-h{i} v{i}" for i in range(5)),
    "stick-table type ip size 100k expire 30s store http_req_rate(10s)",
    "http-request track-sc0 src",
    "http-request deny deny_status 429 if { sc_http_req_rate(0) gt 100000000 }",
    "redirect location /moved if { path /old }",
]


GROUPS = {
    "use_backend": RULES[0:10],
    "set-header": RULES[10:15],
    "track+deny": RULES[15:18],
    "redirect": RULES[18:19],
}


def make_config(port: int, origin: int, rules: bool, only: list[str] | None = None) -> str:
    lines = [
        "global",
        "    maxconn 5000",
        "    nbthread 1",
        "defaults",
        "    mode http",
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        "frontend fe",
        f"    bind {HOST}:{port}",
        *(f"    {r}" for r in ((RULES if only is None else only) if rules else [])),
        "    default_backend b",
        "backend b",
        f"    server s1 {HOST}:{origin}",
    ]
    if rules:
        for i in range(10):
            lines += [f"backend b{i}", f"    server s1 {HOST}:{origin}"]
    return "\n".join(lines) + "\n"


# -- path: the Python per transaction -------------------------------------------------------


async def _path_us(rules: bool, seconds: float, only: list[str] | None = None) -> float:
    """µs per transaction, best of 5 windows (``seconds < 0``: function calls
    per transaction instead); ``only``: these rules instead of the 20."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "rules.cfg"
        cfg.write_text(make_config(free_port(), 9, rules, only))
        diag = Diagnostics()
        config = parse([str(cfg)], diag)
        assert config is not None, diag.messages
        hm = Herdsman(config)
        hm.bind(asyncio.get_running_loop())
        await hm.frontends[0].start()
        keepalive(hm, 2000)  # warm-up
        if seconds < 0:
            profiler = cProfile.Profile()
            profiler.enable()
            keepalive(hm, 2000)
            profiler.disable()
            hm.unbind()
            return float(pstats.Stats(profiler).total_calls) / 2000
        n = 2000
        while keepalive(hm, n) < seconds / 5:
            n *= 2
        best = min(keepalive(hm, n) for _ in range(5))
        hm.unbind()
        return best / n * 1e6


def way_path(args: argparse.Namespace) -> dict[str, Any]:
    plain = uvloop.run(_path_us(False, args.seconds_path))
    ruled = uvloop.run(_path_us(True, args.seconds_path))
    kept = plain / ruled
    print(f"path  plain {plain:7.2f} µs  rules {ruled:7.2f} µs  kept {kept:6.1%} (goal >= 85 %)")
    return {"plain_us": round(plain, 2), "rules_us": round(ruled, 2), "kept": round(kept, 3)}


def way_calls(args: argparse.Namespace) -> dict[str, Any]:
    plain = uvloop.run(_path_us(False, -1))
    out = {"plain": plain}
    print(f"calls plain        {plain:6.1f} per transaction")
    for name, only in [*GROUPS.items(), ("all 20", RULES)]:
        calls = uvloop.run(_path_us(True, -1, only))
        out[name] = calls
        print(f"calls {name:12} {calls:6.1f} per transaction  (+{calls - plain:.1f})")
    return out


# -- wrk: requests/s through the proxy ------------------------------------------------------


def way_wrk(args: argparse.Namespace) -> dict[str, Any]:
    raise_nofile(20000)
    out = results_dir("http_rules")
    cpu_proxy, cpu_load = parse_cpus(args.cpu_proxy), parse_cpus(args.cpu_load)
    origin = free_port()
    nginx = start_nginx(out, origin, cpu_load)
    report: dict[str, Any] = {"machine": machine_info(), "rounds": [], "rows": {}}
    samples: dict[str, list[float]] = {}
    try:
        for n in range(args.rounds):
            for proxy in args.proxies.split(","):
                for variant in ("plain", "rules"):
                    port = free_port()
                    cfg = out / f"{proxy}-{variant}.cfg"
                    cfg.write_text(make_config(port, origin, variant == "rules"))
                    with open(out / f"{proxy}-{variant}-{n}.log", "w") as log:
                        proc = start_proxy(proxy, cfg, {"fe": port}, cpu_proxy, log)
                        try:
                            run_wrk(port, args.conns, 1, False, cpu_load)  # warm-up
                            res = measure(
                                lambda p=port: run_wrk(
                                    p, args.conns, args.seconds, False, cpu_load
                                ),
                                {"proxy": proc.pid},
                                proc.pid,
                                args.seconds,
                            )
                        finally:
                            stop_process(proc)
                    res.update(proxy=proxy, variant=variant, round=n)
                    report["rounds"].append(res)
                    samples.setdefault(f"{proxy}-{variant}", []).append(res["rps"])
                    print(
                        f"round {n}  {proxy:9} {variant:6} {res['rps']:9.0f} req/s  "
                        f"interference {res['interference_percent']:5.1f} %",
                        flush=True,
                    )
        for proxy in args.proxies.split(","):
            plain = statistics.median(samples[f"{proxy}-plain"])
            ruled = statistics.median(samples[f"{proxy}-rules"])
            kept = ruled / plain if plain else 0.0
            report["rows"][proxy] = {"plain_rps": plain, "rules_rps": ruled, "kept": kept}
            print(f"wrk   {proxy:9} plain {plain:8.0f}  rules {ruled:8.0f}  kept {kept:6.1%}")
    finally:
        stop_process(nginx)
    write_json(out / "results.json", report)
    print(f"results: {out}")
    return report


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--way", choices=("path", "calls", "wrk", "both"), default="both")
    ap.add_argument("--proxies", default="herdsman", help="wrk: herdsman,haproxy")
    ap.add_argument("--seconds", type=int, default=10, help="wrk: length of a window")
    ap.add_argument("--seconds-path", type=float, default=0.5, help="path: the 5 windows")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3, help="wrk: interleaved rounds")
    ap.add_argument("--cpu-proxy", default="0")
    ap.add_argument("--cpu-load", default="1")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    if args.way in ("path", "both"):
        way_path(args)
    if args.way == "calls":
        way_calls(args)
    if args.way in ("wrk", "both"):
        way_wrk(args)
    print(f"{time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
