"""Master-worker mode (``-W``, ``-Ws``, global ``master-worker``).

The master does not serve traffic: it starts a worker process (herdsman
itself, run with the same configuration files), waits until the worker has
bound its listeners, and supervises it:

* SIGUSR2 or SIGHUP, or ``reload`` on the master CLI: start a new worker on the
  configuration as it is now on disk; the new worker tells the old ones to
  finish (``-sf``), so connections in progress are not cut. If the new
  configuration does not load, the old worker keeps serving.
* SIGUSR1: soft-stop the workers, then exit. SIGTERM/SIGINT: stop them now.
* A worker that dies unexpectedly makes the master exit with an error, unless
  ``master-worker no-exit-on-failure``.
* ``-Ws``: readiness and reloads are reported to systemd (``$NOTIFY_SOCKET``).
* ``-S <addr>``: the master CLI answers ``help``, ``show proc`` and ``reload``.

Listeners are bound with SO_REUSEPORT, so a new worker binds while the old
one still accepts: no connection is refused during a reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from herdsman.config.diag import Level, Message
from herdsman.core.tasks import spawn

if TYPE_CHECKING:
    from herdsman.cli import Options
    from herdsman.config.model import Config

# flags of the master that a worker must not receive
_MASTER_ONLY_1 = {"-W", "-Ws", "-D", "-d", "-db", "-q", "-V"}
_MASTER_ONLY_2 = {"-p", "-S", "-x"}


def _notice(label: str, text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(Message(Level(label), text, context=False).render(os.getpid()) + "\n")
        sys.stderr.flush()


def sd_notify(message: str) -> None:
    """Send a systemd notification when ``$NOTIFY_SOCKET`` is set."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(path)
        s.send(message.encode())


def worker_args(argv: list[str]) -> list[str]:
    """The command line of a worker: the master's without master-only flags."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _MASTER_ONLY_1:
            i += 1
            continue
        if arg in _MASTER_ONLY_2:
            i += 2
            continue
        if arg in ("-sf", "-st"):
            i += 1
            while i < len(argv) and not argv[i].startswith("-"):
                i += 1
            continue
        out.append(arg)
        i += 1
    return out


@dataclass
class Worker:
    proc: asyncio.subprocess.Process
    started: float
    reloads: int
    ready: bool = False
    leaving: bool = False


@dataclass
class Master:
    argv: list[str]
    opts: Options
    exit_on_failure: bool = True
    workers: list[Worker] = field(default_factory=list)
    reloads: int = 0
    stopping: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 0

    async def spawn(self, oldpids: list[int]) -> Worker | None:
        """Start a worker and wait until it is serving (or has failed)."""
        rfd, wfd = os.pipe()
        args = [sys.executable, "-m", "herdsman", *worker_args(self.argv), "-db"]
        if oldpids:
            args += ["-sf", *map(str, oldpids)]
        args += ["--__worker", str(wfd)]
        env = dict(os.environ, HAPROXY_MWORKER="1")
        proc = await asyncio.create_subprocess_exec(*args, pass_fds=(wfd,), env=env)
        os.close(wfd)
        loop = asyncio.get_running_loop()
        ready = loop.create_future()

        def on_readable() -> None:
            data = os.read(rfd, 64)
            loop.remove_reader(rfd)
            os.close(rfd)
            if not ready.done():
                ready.set_result(data.startswith(b"READY"))

        loop.add_reader(rfd, on_readable)
        worker = Worker(proc, time.time(), self.reloads)
        ok = await ready
        if not ok:
            await proc.wait()
            return None
        worker.ready = True
        self.workers.append(worker)
        spawn(loop, self._watch(worker))
        return worker

    async def _watch(self, worker: Worker) -> None:
        code = await worker.proc.wait()
        if worker in self.workers:
            self.workers.remove(worker)
        if self.stopping:
            if not self.workers:
                self.done.set()
            return
        if worker.leaving:
            return
        _notice("ALERT", f"Current worker (pid {worker.proc.pid}) exited with code {code}")
        if self.exit_on_failure:
            self.status = code if code else 1
            self.stop(signal.SIGTERM)

    async def reload(self) -> bool:
        _notice("NOTICE", "Reloading herdsman")
        sd_notify("RELOADING=1")
        self.reloads += 1
        old = [w for w in self.workers if not w.leaving]
        worker = await self.spawn([w.proc.pid for w in old])
        if worker is None:
            _notice("ALERT", "Failed to start a new worker; the previous one keeps serving.")
            sd_notify("READY=1")
            return False
        for w in old:
            w.leaving = True
        sd_notify("READY=1")
        return True

    def stop(self, sig: int) -> None:
        self.stopping = True
        sd_notify("STOPPING=1")
        for w in self.workers:
            with contextlib.suppress(ProcessLookupError):
                w.proc.send_signal(sig)
        if not self.workers:
            self.done.set()

    def show_proc(self) -> str:
        lines = ["#<PID>          <type>          <reloads>       <uptime>        <version>"]
        now = time.time()
        lines.append(
            f"{os.getpid():<16}master          {self.reloads:<16}{_uptime(now - _START):<16}"
        )
        lines.append("# workers")
        for w in self.workers:
            if not w.leaving:
                lines.append(
                    f"{w.proc.pid:<16}worker          {self.reloads - w.reloads:<16}"
                    f"{_uptime(now - w.started):<16}"
                )
        old = [w for w in self.workers if w.leaving]
        if old:
            lines.append("# old workers")
            for w in old:
                lines.append(
                    f"{w.proc.pid:<16}worker          {self.reloads - w.reloads:<16}"
                    f"{_uptime(now - w.started):<16}"
                )
        return "\n".join(lines) + "\n"


_START = time.time()


def _uptime(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 86400}d{(s // 3600) % 24:02d}h{(s // 60) % 60:02d}m{s % 60:02d}s"


async def _master_cli(master: Master, addr: str) -> asyncio.AbstractServer:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The master CLI is control plane, not the data path: streams are fine here.
        try:
            while line := await reader.readline():
                for cmd in line.decode(errors="replace").strip().split(";"):
                    cmd = cmd.strip()
                    if not cmd:
                        continue
                    if cmd == "show proc":
                        writer.write(master.show_proc().encode())
                    elif cmd == "reload":
                        await master.reload()
                    elif cmd in ("help", "quit"):
                        if cmd == "quit":
                            writer.close()
                            return
                        writer.write(
                            b"help           : this message\nshow proc      : show the processes\nreload         : reload the workers\nquit           : disconnect\n"
                        )
                    else:
                        writer.write(
                            b"Unknown command. Please enter one of the following commands only :\n  help\n  show proc\n  reload\n  quit\n"
                        )
                    writer.write(b"\n")
                    await writer.drain()
        finally:
            writer.close()

    path = addr.split(",", 1)[0]
    if path.startswith("unix@"):
        path = path[5:]
    if path.startswith("/") or "/" in path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return await asyncio.start_unix_server(handle, path=path)
    host, _, port = path.rpartition(":")
    return await asyncio.start_server(handle, host or "0.0.0.0", int(port))


def run_master(config: Config, opts: Options) -> int:
    import uvloop

    from herdsman.process import daemonize, write_pidfile

    if (opts.daemon or config.global_.daemon) and not opts.foreground:
        daemonize()
    argv = sys.argv[1:]
    master = Master(argv, opts, exit_on_failure=True)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        pidfile = opts.pidfile or config.global_.pidfile
        if pidfile:
            write_pidfile(pidfile, os.getpid())
        servers = [await _master_cli(master, addr) for addr in opts.master_cli]
        worker = await master.spawn(opts.oldpids if opts.oldpids else [])
        if worker is None:
            return 1
        sd_notify(f"READY=1\nMAINPID={os.getpid()}")
        loop.add_signal_handler(signal.SIGUSR2, lambda: spawn(loop, master.reload()))
        loop.add_signal_handler(signal.SIGHUP, lambda: spawn(loop, master.reload()))
        loop.add_signal_handler(signal.SIGUSR1, master.stop, signal.SIGUSR1)
        loop.add_signal_handler(signal.SIGTERM, master.stop, signal.SIGTERM)
        loop.add_signal_handler(signal.SIGINT, master.stop, signal.SIGTERM)
        await master.done.wait()
        for srv in servers:
            srv.close()
        return master.status

    return uvloop.run(main())
