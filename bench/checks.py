"""Health-check load: one process checking N servers every second, herdsman vs haproxy.

    .venv/bin/python bench/checks.py                       # 2,000 servers, tcp and http, both proxies
    .venv/bin/python bench/checks.py --variant tcp --servers 5000 --duration 30
    .venv/bin/python bench/checks.py --proxies herdsman --profile   # + py-spy profile

What runs:

* listeners: ``ceil(N / --per-listener)`` Python processes (epoll, no asyncio),
  each holding ``--per-listener`` listening sockets on ``127.77.<k>.1:20000+``;
  in ``tcp`` they accept and close, in ``http`` they answer every request with
  ``HTTP/1.1 200 OK`` and close. Pinned to ``--cpu-listeners``.
* the checker, pinned to ``--cpu-proxy``: one backend of N servers
  ``check inter 1s`` (``tcp``: connect-only checks; ``http``: ``option httpchk
  GET /`` + ``http-check expect status 200``), run by

  - herdsman in-process (``--herdsman-mode inprocess``, the default): a child
    Python process builds ``Herdsman(config, check_starter=...)`` on uvloop with
    a starter that wraps the default one (``CheckService.start_run``) and records,
    for every check run, ``now - check.expire`` when the scheduler starts it
    (*lateness*) and again one loop iteration later, right after the runner
    issued its ``connect()`` (*I/O lateness*); it also counts the results;
  - herdsman as the real command (``--herdsman-mode cli``: ``herdsman -db -f``,
    CPU only, no instrumentation);
  - haproxy (``haproxy -db -f``, the same file plus a stats socket used to
    verify at the end that every server is UP).

Measured over ``--duration`` seconds after ``--warmup``: CPU share of each
process (utime+stime from /proc/<pid>/stat, % of one core), check runs per
second, lateness p50/p99/max. Results: ``bench/results/checks-<time>/``.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import csv
import gc
import io
import json
import math
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from _common import (
    CpuWindow,
    add_run_options,
    calibrate,
    haproxy_bin,
    herdsman_cmd,
    interference,
    machine_info,
    parse_cpus,
    percentile,
    perf_record,
    pin,
    py_spy_record,
    raise_nofile,
    realtime,
    renice,
    results_dir,
    stop_process,
    summarize_collapsed,
    summarize_perf,
    wait_quiet,
    write_json,
)
from _patches import patch_scheduler_ties, scheduler_has_tie_bug

BASE_PORT = 20000
PER_HOST = 1000  # ports per 127.77.<k>.1 address
HTTP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def server_addr(j: int) -> tuple[str, int]:
    """Address of the j-th checked server (and of its listener)."""
    return f"127.77.{j // PER_HOST + 1}.1", BASE_PORT + j % PER_HOST


# -- configuration ---------------------------------------------------------------------------


def make_config(servers: int, variant: str, inter: str, stats_socket: Path | None = None) -> str:
    lines = [
        "global",
        "    maxconn 4096",
        "    nbthread 1",
    ]
    if stats_socket is not None:
        lines.append(f"    stats socket {stats_socket} mode 600 level admin")
    lines += [
        "",
        "defaults",
        "    mode tcp",
        "    timeout connect 2s",
        "    timeout check 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "",
        "backend checks",
    ]
    if variant == "http":
        lines += ["    option httpchk GET /", "    http-check expect status 200"]
    for j in range(servers):
        host, port = server_addr(j)
        lines.append(f"    server s{j} {host}:{port} check inter {inter}")
    return "\n".join(lines) + "\n"


# -- listeners (child process) ---------------------------------------------------------------


def listen_main(mode: str, first: int, count: int) -> None:
    """Hold ``count`` listening sockets; accept+close (tcp) or answer 200 (http)."""
    raise_nofile(count * 2 + 1024)
    ep = select.epoll()
    listeners: dict[int, socket.socket] = {}
    for j in range(first, first + count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(server_addr(j))
        s.listen(256)
        s.setblocking(False)
        listeners[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
    conns: dict[int, tuple[socket.socket, bytearray]] = {}
    http = mode == "http"
    print("ready", flush=True)
    while True:
        for fd, _ in ep.poll():
            ls = listeners.get(fd)
            if ls is not None:
                while True:
                    try:
                        c, _addr = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        continue  # ECONNABORTED: the checker reset it already
                    if not http:
                        c.close()
                        continue
                    c.setblocking(False)
                    conns[c.fileno()] = (c, bytearray())
                    ep.register(c.fileno(), select.EPOLLIN)
                continue
            c, buf = conns[fd]
            try:
                data = c.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            buf += data
            if data and b"\r\n\r\n" not in buf:
                continue
            if data:
                try:
                    c.send(HTTP_RESPONSE)
                except OSError:
                    pass
            ep.unregister(fd)
            del conns[fd]
            c.close()


# -- herdsman in-process (child process) -----------------------------------------------------


def herdsman_main(cfg_path: str, patch: str, experiments: str) -> None:
    import uvloop

    raise_nofile(65536)
    _apply_patches(patch, experiments)
    uvloop.run(_herdsman_async(cfg_path))


def herdsman_cli_main(cfg_path: str, patch: str, experiments: str) -> int:
    """``herdsman -db -f cfg`` (the command's own main()), with the workarounds if needed."""
    from herdsman.cli import main as cli_main

    _apply_patches(patch, experiments)
    return cli_main(["-db", "-f", cfg_path])


def _apply_patches(patch: str, experiments: str) -> None:
    if patch == "auto" and patch_scheduler_ties():
        print(
            "bench: scheduler tie bug present, fix applied (see bench/_patches.py)", file=sys.stderr
        )
    if experiments:
        import experiments as exp

        exp.apply(experiments)


async def _herdsman_async(cfg_path: str) -> None:
    from herdsman.checks.target import CheckResult
    from herdsman.config.diag import Diagnostics
    from herdsman.config.parser import parse
    from herdsman.core.backend import Check
    from herdsman.core.clock import MonotonicClock
    from herdsman.core.states import SrvState
    from herdsman.runtime import Herdsman

    diag = Diagnostics()
    config = parse([cfg_path], diag)
    if config is None:
        raise SystemExit(f"configuration rejected: {diag}")
    loop = asyncio.get_running_loop()
    # samples: start time (ms, the scheduler's clock), lateness at start, lateness at connect()
    times = array.array("d")
    late = array.array("d")
    io_late = array.array("d")
    statuses: collections.Counter[str] = collections.Counter()
    monotonic_ns = time.monotonic_ns

    def io_started(expire: int) -> None:
        io_late.append(monotonic_ns() / 1e6 - expire)

    def starter(chk: Check, on_done: Callable[[CheckResult], None]) -> object:
        # the scheduler's clock is MonotonicClock (time.monotonic_ns() // 1e6):
        # the same clock, read without the truncation to whole milliseconds
        now = monotonic_ns() / 1e6
        expire = chk.expire
        times.append(now)
        late.append(now - expire)

        def done(result: CheckResult) -> None:
            statuses[result.status.name] += 1
            on_done(result)

        handle = default_starter(chk, done)
        # FIFO: runs right after the runner's own call_soon(run.start), i.e. after connect()
        loop.call_soon(io_started, expire)
        return handle

    hm = Herdsman(config, stderr=sys.stderr, check_starter=starter)
    assert isinstance(hm.clock, MonotonicClock)
    default_starter = hm.checks.start_run
    trace = _Trace(hm.checks.scheduler)
    hm.checks.scheduler.on_first_round = gc.freeze  # as the command does (process.py)
    await hm.start()
    print("ready", flush=True)

    done = asyncio.Event()
    request: list[str] = []

    def on_stdin() -> None:
        line = sys.stdin.readline()
        request.append(line)
        done.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    await done.wait()
    loop.remove_reader(sys.stdin.fileno())
    words = request[0].split()
    t0_ms, t1_ms = float(words[1]) * 1000, float(words[2]) * 1000
    sel = [i for i, t in enumerate(times) if t0_ms <= t <= t1_ms]
    lat = sorted(late[i] for i in sel)
    io_lat = sorted(io_late[i] for i in sel if i < len(io_late))
    servers = [s for be in hm.backends.values() for s in be.servers]
    up = sum(1 for s in servers if s.cur_state is not SrvState.STOPPED)
    report = {
        "runs": len(sel),
        "runs_per_s": round(len(sel) / ((t1_ms - t0_ms) / 1000), 1),
        "lateness_ms": _stats(lat),
        "io_lateness_ms": _stats(io_lat),
        "statuses": dict(statuses),
        "servers": len(servers),
        "servers_up": up,
    } | trace.report(t0_ms, t1_ms)
    if len(words) > 3:  # where to write the series: lateness per 100 ms, batches, GC pauses
        trace.write(Path(words[3]), t0_ms, t1_ms, times, late)
    print(json.dumps(report), flush=True)
    hm.hard_stop()


class _Trace:
    """Why checks start late: each ``run_due()`` batch (start, size, duration) and
    each garbage collection (start, generation, duration), on the probe's clock."""

    def __init__(self, scheduler: Any) -> None:
        self.batches = array.array("d")  # (start ms, checks started, duration ms) triples
        self.gcs = array.array("d")  # (start ms, generation, duration ms) triples
        self._gc_t0 = 0.0
        run_due = scheduler.run_due
        monotonic_ns = time.monotonic_ns

        def traced_run_due() -> Any:
            t0 = monotonic_ns() / 1e6
            started = run_due()
            self.batches.extend((t0, len(started), monotonic_ns() / 1e6 - t0))
            return started

        scheduler.run_due = traced_run_due

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                self._gc_t0 = monotonic_ns() / 1e6
            else:
                self.gcs.extend(
                    (self._gc_t0, info["generation"], monotonic_ns() / 1e6 - self._gc_t0)
                )

        gc.callbacks.append(on_gc)

    @staticmethod
    def _triples(a: array.array[float], t0: float, t1: float) -> list[tuple[float, ...]]:
        return [tuple(a[i : i + 3]) for i in range(0, len(a), 3) if t0 <= a[i] <= t1]

    def report(self, t0: float, t1: float) -> dict[str, Any]:
        batches = self._triples(self.batches, t0, t1)
        sizes = sorted(b[1] for b in batches)
        durations = sorted(b[2] for b in batches)
        gcs = self._triples(self.gcs, t0, t1)
        gen2 = sorted(g[2] for g in gcs if g[1] == 2)
        return {
            "batches": len(batches),
            "batch_size": _stats(sizes),
            "batch_ms": _stats(durations),
            "gc_count": [sum(1 for g in gcs if g[1] == n) for n in range(3)],
            "gc_ms_total": round(sum(g[2] for g in gcs), 1),
            "gc_ms_max": round(max((g[2] for g in gcs), default=0.0), 2),
            "gc2_ms": _stats(gen2),
        }

    def write(
        self, path: Path, t0: float, t1: float, times: array.array[float], late: array.array[float]
    ) -> None:
        buckets: dict[int, list[float]] = collections.defaultdict(list)
        for t, lat in zip(times, late, strict=False):
            if t0 <= t <= t1:
                buckets[int((t - t0) // 100)].append(lat)
        series = [
            {"t_ms": k * 100, "runs": len(v), "late": _stats(sorted(v))}
            for k, v in sorted(buckets.items())
        ]
        data = {
            "series": series,
            "batches": self._triples(self.batches, t0, t1),
            "gcs": self._triples(self.gcs, t0, t1),
        }
        path.write_text(json.dumps(data))


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 50), 3),
        "p90": round(percentile(values, 90), 3),
        "p99": round(percentile(values, 99), 3),
        "p999": round(percentile(values, 99.9), 3),
        "max": round(values[-1], 3),
        "min": round(values[0], 3),
    }


# -- orchestration -----------------------------------------------------------------------------


def start_listeners(
    variant: str, servers: int, per: int, cpus: set[int] | None, nice: int = 0, fifo: bool = False
) -> list[subprocess.Popen[str]]:
    procs: list[subprocess.Popen[str]] = []
    for first in range(0, servers, per):
        count = min(per, servers - first)
        cmd = [sys.executable, __file__, "_listen", variant, str(first), str(count)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a listener process failed to start")
        pin(proc.pid, cpus)
        renice(proc.pid, nice)
        if fifo:
            realtime(proc.pid)
    return procs


def haproxy_servers_up(sock_path: Path) -> dict[str, int]:
    """``show stat`` on haproxy's stats socket: servers UP, total, summed chkfail."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock_path))
        s.sendall(b"show stat\n")
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    text = b"".join(chunks).decode().lstrip("# ")
    rows = [
        r for r in csv.DictReader(io.StringIO(text)) if r["svname"] not in ("BACKEND", "FRONTEND")
    ]
    return {
        "servers": len(rows),
        "servers_up": sum(1 for r in rows if r["status"].startswith("UP")),
        "chkfail": sum(int(r["chkfail"] or 0) for r in rows),
    }


def run_one(proxy: str, variant: str, args: argparse.Namespace, outdir: Path) -> dict[str, Any]:
    exps = args.experiments if proxy == "herdsman" else ""
    name = f"{variant}-{proxy}" + (f"+{exps.replace(',', '+')}" if exps else "")
    cfg = outdir / f"{variant}.cfg"
    cfg.write_text(make_config(args.servers, variant, args.inter))
    stats_sock = outdir / f"{name}.sock"
    hap_cfg = outdir / f"{variant}-haproxy.cfg"
    hap_cfg.write_text(make_config(args.servers, variant, args.inter, stats_sock))
    cpu_proxy, cpu_listeners = parse_cpus(args.cpu_proxy), parse_cpus(args.cpu_listeners)
    print(f"== {name}: {args.servers} servers, inter {args.inter}", flush=True)
    busiest = wait_quiet(args.quiet_below, args.quiet_timeout) if args.quiet_timeout else None
    listeners = start_listeners(
        variant, args.servers, args.per_listener, cpu_listeners, args.nice, args.fifo
    )
    log: IO[str] = open(outdir / f"{name}.stderr", "w")  # noqa: SIM115
    proc: subprocess.Popen[str] | None = None
    result: dict[str, Any] = {
        "proxy": proxy,
        "variant": variant,
        "servers": args.servers,
        "experiments": exps,
        "busiest_core_before_percent": busiest,
    }
    try:
        inprocess = proxy == "herdsman" and args.herdsman_mode == "inprocess"
        if inprocess:
            cmd = [sys.executable, __file__, "_herdsman", str(cfg), args.patch, exps]
        # the command, as haproxy, needs a listener to start: the stats socket
        elif proxy == "herdsman" and (exps or (args.patch == "auto" and scheduler_has_tie_bug())):
            cmd = [sys.executable, __file__, "_herdsman_cli", str(hap_cfg), args.patch, exps]
        elif proxy == "herdsman":
            cmd = [*herdsman_cmd(), "-db", "-f", str(hap_cfg)]
        else:
            cmd = [haproxy_bin(), "-db", "-f", str(hap_cfg)]
        result["command"] = " ".join(cmd)
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        pin(proc.pid, cpu_proxy)
        if inprocess:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"herdsman did not start, see {log.name}")
        time.sleep(args.warmup)
        pin(proc.pid, cpu_proxy)  # threads started since
        renice(proc.pid, args.nice)
        if args.fifo:
            realtime(proc.pid)
        pids = {"proxy": proc.pid} | {f"listener{i}": p.pid for i, p in enumerate(listeners)}
        window = CpuWindow(pids)
        calib = [calibrate(cpu_proxy)]
        window.start()
        spy: subprocess.Popen[bytes] | None = None
        profile = outdir / f"profile-{name}.txt"
        if args.profile and proxy == "herdsman":
            spy = py_spy_record(proc.pid, int(min(args.duration, 30)), profile.with_suffix(".raw"))
            pin(spy.pid, cpu_listeners)
        perf = None
        if args.perf:
            perf = perf_record(proc.pid, int(min(args.duration, 30)), outdir / f"perf-{name}.data")
        time.sleep(args.duration)
        cpu = window.stop()
        calib.append(calibrate(cpu_proxy))
        result["calibration_ms"] = calib
        if perf is not None:
            perf.wait()
            (outdir / f"perf-{name}.txt").write_text(summarize_perf(outdir / f"perf-{name}.data"))
            result["perf"] = str(outdir / f"perf-{name}.txt")
        result["cpu_percent"] = cpu["proxy"]
        result["user_percent"] = (window.user or {})["proxy"]
        result["listeners_cpu_percent"] = round(sum(v for k, v in cpu.items() if k != "proxy"), 2)
        result["window_s"] = round(window.t1 - window.t0, 3)
        result["cores_busy_percent"] = window.cores_busy
        # the checker and the listeners; profilers, when asked for, count as interference
        result["interference_percent"] = interference(window.cores_busy, sum(cpu.values()))
        if spy is not None:
            _, err = spy.communicate()
            raw = profile.with_suffix(".raw")
            if raw.exists():
                profile.write_text(summarize_collapsed(raw, top=40))
                result["profile"] = str(profile)
            else:
                result["profile_error"] = err.decode(errors="replace")[-500:]
        if inprocess:
            assert proc.stdin is not None
            assert proc.stdout is not None
            proc.stdin.write(f"dump {window.t0} {window.t1} {outdir / (name + '-trace.json')}\n")
            proc.stdin.flush()
            result |= json.loads(proc.stdout.readline())
        elif proxy == "haproxy":
            result |= haproxy_servers_up(stats_sock)
    finally:
        if proc is not None:
            stop_process(proc)
        for lp in listeners:
            stop_process(lp)
        log.close()
    log_text = Path(log.name).read_text(errors="replace")
    result["down_events"] = log_text.count(" is DOWN")
    result["patched"] = "fix applied" in log_text
    result["tracebacks"] = log_text.count("Traceback")
    _print_result(result)
    return result


def run_retrying(
    proxy: str, variant: str, args: argparse.Namespace, outdir: Path
) -> dict[str, Any]:
    """``run_one``, again (``--retries``) while other load disturbed it; the least disturbed."""
    best: dict[str, Any] | None = None
    for attempt in range(args.retries + 1):
        r = run_one(proxy, variant, args, outdir)
        r["attempt"] = attempt + 1
        if best is None or r["interference_percent"] < best["interference_percent"]:
            best = r
        if r["interference_percent"] <= args.max_interference or args.profile or args.perf:
            break
        if attempt < args.retries:
            print("   disturbed: running it again", flush=True)
    assert best is not None
    return best


def _print_result(r: dict[str, Any]) -> None:
    line = (
        f"   cpu {r['cpu_percent']:.1f} % of one core (user {r['user_percent']:.1f} %;"
        f" listeners {r['listeners_cpu_percent']:.1f} %)"
    )
    if r.get("lateness_ms"):
        lat = r["lateness_ms"]
        line += (
            f"; {r['runs_per_s']} checks/s; lateness p50 {lat['p50']:.2f} ms"
            f" p99 {lat['p99']:.2f} ms max {lat['max']:.2f} ms"
        )
    if r.get("batch_size"):
        line += (
            f"\n   run_due batches: {r['batches']}, size p50 {r['batch_size']['p50']:.0f}"
            f" p99 {r['batch_size']['p99']:.0f} max {r['batch_size']['max']:.0f};"
            f" ms p99 {r['batch_ms']['p99']:.2f} max {r['batch_ms']['max']:.2f};"
            f" GC per generation {r['gc_count']}, max {r['gc_ms_max']} ms\n  "
        )
    if "servers_up" in r:
        line += f"; {r['servers_up']}/{r['servers']} UP"
    line += f"; {r['down_events']} DOWN events; calibration {r.get('calibration_ms')} ms"
    cores = r.get("cores_busy_percent") or {}
    line += "; busy: " + ", ".join(f"{k} {v:.0f} %" for k, v in cores.items())
    if r.get("interference_percent", 0) > 10:
        line += (
            f"\n   WARNING: other processes used {r['interference_percent']} % of a core meanwhile"
        )
    print(line, flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["_listen"]:
        listen_main(argv[1], int(argv[2]), int(argv[3]))
        return 0
    if argv[:1] == ["_herdsman"]:
        herdsman_main(argv[1], argv[2], argv[3])
        return 0
    if argv[:1] == ["_herdsman_cli"]:
        return herdsman_cli_main(argv[1], argv[2], argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--servers", type=int, default=2000)
    ap.add_argument("--inter", default="1s", help="check interval (default 1s)")
    ap.add_argument("--variant", choices=["tcp", "http", "both"], default="both")
    ap.add_argument("--proxies", default="herdsman,haproxy", help="comma list: herdsman,haproxy")
    ap.add_argument("--herdsman-mode", choices=["inprocess", "cli"], default="inprocess")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--per-listener", type=int, default=1000, help="sockets per listener process")
    ap.add_argument("--cpu-proxy", default="0", help="CPUs for the checker ('none': no pinning)")
    ap.add_argument("--cpu-listeners", default="1", help="CPUs for the listeners")
    ap.add_argument(
        "--patch",
        choices=["auto", "off"],
        default="auto",
        help="auto: work around known herdsman bugs when present (bench/_patches.py)",
    )
    ap.add_argument(
        "--fifo",
        action="store_true",
        help="run the checker and listeners in SCHED_FIFO: lateness on a shared machine",
    )
    ap.add_argument("--profile", action="store_true", help="py-spy record herdsman (30 s max)")
    ap.add_argument("--perf", action="store_true", help="perf record the checker (30 s max)")
    add_run_options(ap, "the checker and listeners", "it")
    args = ap.parse_args(argv)

    raise_nofile(65536)
    outdir = results_dir("checks")
    variants = ["tcp", "http"] if args.variant == "both" else [args.variant]
    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    results = []
    for variant in variants:
        for proxy in proxies:
            results.append(run_retrying(proxy, variant, args, outdir))
    summary: dict[str, Any] = {
        "machine": machine_info(),
        "args": vars(args),
        "scheduler_tie_bug": scheduler_has_tie_bug(),
        "results": results,
    }
    ratios = {}
    for variant in variants:
        by = {r["proxy"]: r for r in results if r["variant"] == variant}
        if "herdsman" in by and "haproxy" in by and by["haproxy"]["cpu_percent"] > 0:
            ratios[variant] = round(by["herdsman"]["cpu_percent"] / by["haproxy"]["cpu_percent"], 1)
    summary["cpu_ratio_herdsman_over_haproxy"] = ratios
    write_json(outdir / "results.json", summary)
    for variant, ratio in ratios.items():
        print(f"{variant}: herdsman uses {ratio}x haproxy's CPU")
    print(f"results: {outdir / 'results.json'}")
    return 0 if all(not math.isnan(r["cpu_percent"]) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
