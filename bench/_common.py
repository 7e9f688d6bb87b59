"""Helpers shared by the benchmark scripts (not a test suite: nothing here asserts).

CPU accounting reads ``utime + stime`` of a process from ``/proc/<pid>/stat``
(clock ticks, ``SC_CLK_TCK`` per second); a share of 100 % is one core busy for
the whole window. Pinning uses ``sched_setaffinity`` (what ``taskset -p`` does).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def results_dir(name: str) -> Path:
    """``bench/results/<name>-<timestamp>/`` (gitignored), created."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def raise_nofile(want: int) -> int:
    """Raise RLIMIT_NOFILE (soft and, as root, hard) to at least ``want``; returns the soft limit.

    Children started afterwards inherit it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    new_hard = hard if hard == resource.RLIM_INFINITY or hard >= want else want
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, new_hard))
    except (ValueError, OSError):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime, stime) of ``pid`` (all its threads), in clock ticks."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # the command name (field 2) may contain spaces: split after its ")"
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)


def core_ticks() -> dict[str, tuple[int, int]]:
    """(busy, total) clock ticks of every CPU since boot, from /proc/stat.

    Busy is user + nice + system + steal: interrupt and softirq time (loopback
    TCP is largely softirq work) is left out, as it is from the per-process
    times it is compared with.
    """
    out: dict[str, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *values = line.split()
        ticks = [int(v) for v in values[:8]]
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = ticks
        out[name] = (user + nice + system + steal, sum(ticks))
    return out


@dataclass
class CpuWindow:
    """CPU used by a set of processes between ``start()`` and ``stop()``.

    Also records how busy each core was (all processes, from /proc/stat), so a
    window disturbed by unrelated load on the machine can be recognised:
    ``cores_busy`` well above the sum of the measured processes on a core.
    """

    pids: dict[str, int]
    t0: float = 0.0
    t1: float = 0.0
    cores_busy: dict[str, float] | None = None
    user: dict[str, float] | None = None  # user-mode share of each process (%)

    def start(self) -> None:
        self._c0 = {name: cpu_ticks(pid) for name, pid in self.pids.items()}
        self._k0 = core_ticks()
        self.t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        """CPU share (% of one core) of each process over the window."""
        c1 = {name: cpu_ticks(pid) for name, pid in self.pids.items()}
        k1 = core_ticks()
        self.t1 = time.monotonic()
        wall = self.t1 - self.t0
        self.cores_busy = {
            cpu: round(100.0 * (k1[cpu][0] - b0) / max(1, k1[cpu][1] - t0), 1)
            for cpu, (b0, t0) in self._k0.items()
        }
        self.user = {
            name: round(100.0 * (c1[name][0] - self._c0[name][0]) / CLK_TCK / wall, 2)
            for name in self.pids
        }
        return {
            name: round(100.0 * (sum(c1[name]) - sum(self._c0[name])) / CLK_TCK / wall, 2)
            for name in self.pids
        }


def pin(pid: int, cpus: Iterable[int] | None) -> None:
    """Pin every thread of ``pid`` to ``cpus`` (None: leave it alone)."""
    if cpus is None:
        return
    cpuset = set(cpus)
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), cpuset)


def renice(pid: int, nice: int) -> None:
    """Set the nice value of every thread of ``pid`` (0: leave it alone).

    For shared machines: a negative value keeps other workloads from delaying
    the processes under test; it changes no CPU share, only who waits.
    """
    if not nice:
        return
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(tid), nice)


def realtime(pid: int) -> None:
    """Put every thread of ``pid`` in ``SCHED_FIFO`` (priority 1), as ``chrt -f -p 1``.

    For latency on a shared machine: the process runs as soon as it is runnable,
    whatever the other workloads on its CPU (the kernel still leaves them 5 %,
    ``sched_rt_runtime_us``); what it measures is its own delays, not theirs.
    """
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(int(tid), os.SCHED_FIFO, os.sched_param(1))


def parse_cpus(text: str) -> set[int] | None:
    """``"0"``, ``"0,1"``, ``"0-1"`` or ``"none"``."""
    if text in ("", "none"):
        return None
    cpus: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return float(sorted_values[min(len(sorted_values), int(rank)) - 1])


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Wait until some socket listens on TCP ``port`` (IPv4), without connecting to it."""
    deadline = time.monotonic() + timeout
    hexport = f":{port:04X}"
    while True:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(hexport) and fields[3] == "0A":
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on port {port}")
        time.sleep(0.05)


def haproxy_bin() -> str:
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def herdsman_cmd() -> list[str]:
    exe = VENV_BIN / "herdsman"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "herdsman"]


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import uvloop

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "uvloop": getattr(uvloop, "__version__", "?"),
        "haproxy": _first_line([haproxy_bin(), "-v"]),
        "loadavg_at_start": os.getloadavg(),
        "source": source_id(),
    }


def source_id() -> str:
    """The git commit plus a digest of the imported herdsman package (the tree may be dirty)."""
    import hashlib

    import herdsman

    pkg = Path(herdsman.__file__).resolve().parent
    head = _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    digest = hashlib.sha1()
    for path in sorted(pkg.rglob("*.py")):
        digest.update(str(path.relative_to(pkg)).encode())
        digest.update(path.read_bytes())
    return f"{head}+{pkg.parent.name}:{digest.hexdigest()[:12]}"


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; only the process given."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- py-spy ------------------------------------------------------------------------------


def py_spy_record(
    pid: int, seconds: int, out: Path, *, native: bool = False
) -> subprocess.Popen[Any]:
    """Start ``py-spy record`` (collapsed stacks, non-blocking) on ``pid`` for ``seconds``."""
    exe = VENV_BIN / "py-spy"
    cmd = [
        str(exe if exe.exists() else "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]
    if native:
        cmd.append("--native")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def summarize_collapsed(path: Path, top: int = 25) -> str:
    """Self and inclusive sample shares per function from a py-spy ``raw`` (collapsed) file."""
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_short(f) for f in stack.split(";")]
        self_counts[frames[-1]] += count
        for frame in set(frames):
            incl_counts[frame] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples", "", "self %   function"]
    for name, count in self_counts.most_common(top):
        lines.append(f"{100 * count / total:6.1f}   {name}")
    lines += ["", "incl %   function"]
    for name, count in incl_counts.most_common(top):
        lines.append(f"{100 * count / total:6.1f}   {name}")
    return "\n".join(lines) + "\n"


def _short(frame: str) -> str:
    """``func (path/to/file.py:123)`` -> ``func (file.py)``: merge a function's lines."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    if "/herdsman/" in file:
        file = "herdsman/" + file.split("/herdsman/", 1)[1]
    else:
        file = file.rsplit("/", 1)[-1]
    return f"{name} ({file})" if file else name


# -- perf (kernel + native view) ----------------------------------------------------------


def perf_record(pid: int, seconds: int, out: Path) -> subprocess.Popen[Any] | None:
    """``perf record -e cpu-clock -g`` on ``pid`` for ``seconds`` (None when perf is missing)."""
    exe = shutil.which("perf")
    if exe is None:
        return None
    cmd = [exe, "record", "-q", "-e", "cpu-clock", "-F", "499", "-g", "-p", str(pid)]
    cmd += ["-o", str(out), "--", "sleep", str(seconds)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_perf(data: Path, top: int = 25) -> str:
    """Share of samples per binary (interpreter, uvloop, kernel, ...) and per kernel entry point."""
    exe = shutil.which("perf") or "perf"
    parts = []
    for title, extra in (
        ("by binary (self)", ["--no-children", "--sort", "dso"]),
        ("by symbol (self)", ["--no-children", "--sort", "dso,sym"]),
        ("system calls (inclusive)", ["--children", "--sort", "sym"]),
    ):
        out = subprocess.run(
            [exe, "report", "-i", str(data), "--stdio", "-g", "none", "--percent-limit", "0.5"]
            + extra,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        rows = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("#")]
        if title.startswith("system"):
            # entry points: __x64_sys_<name>, or ksys_read/ksys_write where those are inlined
            rows = [ln for ln in rows if "__x64_sys_" in ln or "[k] ksys_" in ln]
        parts.append(f"== {title}\n" + "\n".join(rows[:top]))
    return "\n\n".join(parts) + "\n"


def interference(cores_busy: dict[str, float] | None, own: float) -> float:
    """Busy % (of one core, summed over all cores) not explained by ``own``.

    ``own`` is the CPU share of every process the benchmark started. Above a
    few points, another workload ran during the window (shared machine): CPU
    shares stay right, but lateness and rates are disturbed.
    """
    if not cores_busy:
        return 0.0
    return round(max(0.0, sum(cores_busy.values()) - own), 1)


def wait_quiet(max_busy: float, timeout: float, sample: float = 2.0) -> float:
    """Wait until no core is busier than ``max_busy`` % over ``sample`` seconds.

    For shared machines: returns the busiest core's share at the last sample
    (the caller records it); gives up after ``timeout`` seconds (0: no wait).
    """
    deadline = time.monotonic() + timeout
    while True:
        k0 = core_ticks()
        time.sleep(sample)
        k1 = core_ticks()
        busiest = max(100.0 * (k1[c][0] - k0[c][0]) / max(1, k1[c][1] - k0[c][1]) for c in k0)
        if busiest <= max_busy or time.monotonic() > deadline:
            return round(busiest, 1)
        print(f"   (waiting for a quiet machine: a core is {busiest:.0f} % busy)", flush=True)


def calibrate(cpus: set[int] | None, rounds: int = 3) -> float:
    """CPU milliseconds a fixed Python workload takes on ``cpus`` (best of ``rounds``).

    A speed reference for shared or virtual machines, taken before and after a
    measurement: when it grows, the same work costs more CPU (frequency, caches,
    neighbours on the host), and CPU shares measured meanwhile grow with it.
    """
    old = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    try:
        best = float("inf")
        for _ in range(rounds):
            t0 = time.process_time()
            d: dict[int, int] = {}
            for i in range(200_000):
                d[i & 1023] = d.get(i & 1023, 0) + i
            best = min(best, time.process_time() - t0)
        return round(best * 1000, 2)
    finally:
        os.sched_setaffinity(0, old)


def add_run_options(ap: argparse.ArgumentParser, what: str, scope: str) -> None:
    """The options every benchmark shares: niceness, interference guard, experiments.

    ``what`` names the processes reniced, ``scope`` what one retry repeats.
    """
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help=f"nice value of {what} (e.g. -10 on a shared machine)",
    )
    ap.add_argument(
        "--max-interference",
        type=float,
        default=10.0,
        help=f"run {scope} again when other processes used more than this (%% of a core)",
    )
    ap.add_argument("--retries", type=int, default=2, help=f"runs {scope} again at most")
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=15.0,
        help="before each run, wait until no core is busier than this (%%)",
    )
    ap.add_argument(
        "--quiet-timeout", type=float, default=300.0, help="longest wait for that, s (0: none)"
    )
    ap.add_argument(
        "--experiments",
        default="",
        help="comma list of bench/experiments.py prototypes to apply to herdsman",
    )
