"""The HTTP load and the proxies under test, shared by relay.py and http_mode.py.

nginx is the backend, wrk the client; a proxy (herdsman or haproxy) runs one
configuration file, pinned. ``measure()`` runs one load in a CPU window
(with py-spy or perf on the proxy when asked) and ``retried()`` runs it again
while other workloads disturbed the machine (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from _common import (
    CpuWindow,
    haproxy_bin,
    herdsman_cmd,
    interference,
    perf_record,
    pin,
    py_spy_record,
    renice,
    summarize_collapsed,
    summarize_perf,
    wait_listening,
    wait_port,
)

HOST = "127.0.0.1"
BIG_SIZE = 100 * 1024  # nginx's /big: the body of http_mode.py's "big" test


# -- nginx ------------------------------------------------------------------------------------


def start_nginx(
    outdir: Path, port: int, cpus: set[int] | None, nice: int = 0
) -> subprocess.Popen[bytes]:
    """One nginx process: ``/`` answers ``hello\\n`` (6 bytes), ``/big`` a 100 KiB file."""
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = outdir / "nginx"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    big = prefix / "big"
    big.write_bytes(b"x" * BIG_SIZE)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 32768; multi_accept on; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen {HOST}:{port} backlog=4096 reuseport;
        location / {{ return 200 "hello\\n"; }}
        location = /big {{ default_type application/octet-stream; alias {big}; }}
    }}
}}
"""
    )
    proc = subprocess.Popen([exe, "-p", str(prefix), "-c", str(conf)], stderr=subprocess.DEVNULL)
    wait_port(HOST, port)
    pin(proc.pid, cpus)
    renice(proc.pid, nice)
    return proc


# -- wrk --------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(
    port: int,
    conns: int,
    seconds: int,
    close: bool,
    cpus: set[int] | None,
    nice: int = 0,
    path: str = "/",
    scheme: str = "http",
) -> dict[str, Any]:
    """``wrk -t1`` for ``seconds``: requests/s, latency (ms), errors."""
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if close:
        cmd += ["-H", "Connection: close"]
    cmd.append(f"{scheme}://{HOST}:{port}{path}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pin(proc.pid, cpus)
    renice(proc.pid, nice)
    out, _ = proc.communicate()
    res: dict[str, Any] = {"wrk": " ".join(cmd)}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        res["latency_avg_ms"] = round(_ms(m.group(1)), 3)
        res["latency_max_ms"] = round(_ms(m.group(3)), 3)
    for q in ("50", "99"):
        m = re.search(rf"\s{q}%\s+(\S+)", out)
        if m:
            res[f"latency_p{q}_ms"] = round(_ms(m.group(1)), 3)
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1).strip() if m else ""
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    return res


# -- proxies ----------------------------------------------------------------------------------


def start_proxy(
    proxy: str,
    cfg: Path,
    ports: dict[str, int],
    cpus: set[int] | None,
    log: IO[str],
    experiments: str = "",
    nice: int = 0,
) -> subprocess.Popen[bytes]:
    """``herdsman -db -f cfg`` (through bench/experiments.py when some are asked)
    or ``haproxy -db -f cfg``; returns once every port listens, pinned."""
    if proxy == "herdsman" and experiments:
        script = str(Path(__file__).with_name("experiments.py"))
        cmd = [sys.executable, script, experiments, "--", "-db", "-f", str(cfg)]
    elif proxy == "herdsman":
        cmd = [*herdsman_cmd(), "-db", "-f", str(cfg)]
    else:
        cmd = [haproxy_bin(), "-db", "-f", str(cfg)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    for port in ports.values():
        wait_listening(port)
    pin(proc.pid, cpus)
    renice(proc.pid, nice)
    return proc


# -- one measured window ----------------------------------------------------------------------


def measure(
    load: Callable[[], dict[str, Any]],
    pids: dict[str, int],
    proxy: int | None,
    seconds: int,
    *,
    profile: Path | None = None,
    perf: Path | None = None,
    cpus: set[int] | None = None,
) -> dict[str, Any]:
    """Run ``load()`` in a CPU window over ``pids`` (``"proxy"`` among them when
    ``proxy`` is set): its result plus CPU shares and the interference.

    ``profile``: py-spy's raw output for ``proxy`` (its summary beside it);
    ``perf``: perf's data file. The profilers run on ``cpus`` (the load's).
    """
    window = CpuWindow(pids)
    spy = None
    if profile is not None and proxy is not None:
        spy = py_spy_record(proxy, seconds, profile)
        pin(spy.pid, cpus)
    perf_proc = None
    if perf is not None and proxy is not None:
        perf_proc = perf_record(proxy, seconds, perf)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    window.start()
    res = load()
    cpu = window.stop()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = window.t1 - window.t0
    # the load's children (wrk) were waited for: their CPU is in RUSAGE_CHILDREN
    waited = (
        children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
    ) / wall
    own = sum(cpu.values()) + 100.0 * waited
    res["cores_busy_percent"] = window.cores_busy
    res["interference_percent"] = interference(window.cores_busy, own)
    if "proxy" in cpu:
        res["proxy_cpu_percent"] = cpu["proxy"]
        res["proxy_user_percent"] = (window.user or {})["proxy"]
        if res.get("rps"):
            # CPU time per request (µs): comparable even when a proxy is not saturated
            res["proxy_cpu_us_per_req"] = round(cpu["proxy"] * 1e4 / res["rps"], 1)
    if spy is not None and profile is not None:
        spy.wait()
        if profile.exists():
            summary = profile.with_suffix(".txt")
            summary.write_text(summarize_collapsed(profile, top=40))
            res["profile"] = str(summary)
    if perf_proc is not None and perf is not None:
        perf_proc.wait()
        perf.with_suffix(".txt").write_text(summarize_perf(perf))
        res["perf"] = str(perf.with_suffix(".txt"))
    return res


def retried(
    run: Callable[[], dict[str, Any]],
    args: argparse.Namespace,
    show: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """``run()`` again, up to ``args.retries`` times, while more than
    ``args.max_interference`` went to other processes; the least disturbed
    result (profiled runs are never repeated). ``show`` prints one result."""
    res: dict[str, Any] = {}
    for attempt in range(args.retries + 1):
        r = run()
        r["attempt"] = attempt + 1
        if not res or r["interference_percent"] < res["interference_percent"]:
            res = r
        quiet = r["interference_percent"] <= args.max_interference
        if quiet or args.profile or args.perf or attempt == args.retries:
            break
        show(r)
        print("   disturbed: running it again", flush=True)
    show(res)
    time.sleep(1)
    return res


def cpu_text(res: dict[str, Any]) -> str:
    """`` (proxy cpu 98 % (user 40 %); cores busy: cpu0 99 %, cpu1 97 %)``"""
    cores = ", ".join(f"{k} {v:.0f} %" for k, v in (res.get("cores_busy_percent") or {}).items())
    parts = []
    if "proxy_cpu_percent" in res:
        parts.append(
            f"proxy cpu {res['proxy_cpu_percent']:.0f} % (user {res['proxy_user_percent']:.0f} %)"
        )
    return " (" + "; ".join([*parts, f"cores busy: {cores}"]) + ")"


def warn_interference(res: dict[str, Any], limit: float) -> None:
    if res.get("interference_percent", 0) > limit:
        print(
            f"   WARNING: other processes used {res['interference_percent']} % of a core meanwhile"
        )


def proc_status(pid: int) -> dict[str, int]:
    """The kB fields of ``/proc/<pid>/status`` (VmRSS, VmHWM, ...) and the open fds."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out
