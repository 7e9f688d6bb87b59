"""Master-worker mode (``-W``, ``-Ws``, global ``master-worker``).

The master serves no traffic. It writes its pid to the pid file, starts a
worker (herdsman itself, on the same files, told by ``HERDSMAN_MWORKER_IPC``
that it is a worker) and supervises it, as ``mworker.c`` does:

* SIGUSR2 or SIGHUP, or ``reload`` on the master CLI: start a new worker on
  the configuration as it is now on disk. The new worker takes the listening
  sockets over from the current one (``herdsman.handover``), starts
  accepting and says READY on its IPC socket; only then are the previous
  workers told to finish (SIGUSR1, haproxy's ``-sf``) and listed as old
  workers: no connection is refused during the reload. When the new
  configuration does not load, the worker says why and exits; the master
  prints "Loading failure!" and the old worker keeps serving.
* SIGTERM, SIGINT, SIGUSR1: "Exiting Master process...", the signal is
  passed on to every worker, and the master exits once they are all gone,
  with the status of a worker that failed (``mworker_catch_sigchld()``).
  SIGTTOU and SIGTTIN are passed on.
* A current worker that dies with a status other than 0, 130 or 143 makes
  the master stop every worker with SIGTERM and exit with that status.
* A worker sees the master die when its IPC socket closes, and exits 1.
* ``-Ws``: READY=1 (with MAINPID), RELOADING=1 and STOPPING=1 go to
  ``$NOTIFY_SOCKET`` as systemd's Type=notify expects.
* ``-S <addr>[,<opts>]``: the master CLI (``herdsman.mworker`` ``MasterCli``):
  ``show proc``, ``reload``, ``show version``, ``prompt``, ``help``, ``quit``.

Unlike haproxy's master, which re-executes itself to reload, herdsman's
master stays the same process: the worker reads the configuration, and its
alerts are the ones printed when a reload fails.
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

from herdsman.config.diag import Level
from herdsman.core.tasks import spawn
from herdsman.daemon import daemonize, signal_ready, stdio_quiet, tell_pids, write_pidfile
from herdsman.startup import ENV_CONFIG_SHOWN, ENV_IPC, ENV_TAKEOVER, Options, Startup
from herdsman.version import VERSION

if TYPE_CHECKING:
    from herdsman.config.model import Config


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


def worker_argv(opts: Options, daemon: bool) -> list[str]:
    """A worker's command line: the master's modes, without master-only options.

    ``-C`` is left out (the worker starts in the directory the master
    changed to), and so are ``-W``, ``-p``, ``-S``, ``-x``, ``-sf``/``-st``.
    """
    args: list[str] = []
    for on, flag in (
        (opts.quiet, "-q"),
        (opts.verbose, "-V"),
        (opts.debug, "-d"),
        (opts.diag, "-dD"),
        (opts.zero_warning, "-dW"),
        (opts.dont_fail_resolve, "-dr"),
        (opts.no_reuseport, "-dR"),
        (daemon, "-D"),
    ):
        if on:
            args.append(flag)
    for value, flag in ((opts.maxconn, "-n"), (opts.maxpconn, "-N"), (opts.memmax, "-m")):
        if value:
            args += [flag, str(value)]
    if opts.localpeer:
        args += ["-L", opts.localpeer]
    return [*args, "--", *opts.cfgfiles]


def _status(returncode: int) -> int:
    """``WEXITSTATUS`` or 128 + the signal, as ``mworker_catch_sigchld()`` counts."""
    return returncode if returncode >= 0 else 128 - returncode


def _why(status: int) -> str:
    if status < 128:
        return "Exit"
    return signal.strsignal(status - 128) or f"Signal {status - 128}"


def _uptime(seconds: float) -> str:
    up = int(seconds)
    return f"{up // 86400}d{(up % 86400) // 3600:02d}h{(up % 3600) // 60:02d}m{up % 60:02d}s"


@dataclass
class Worker:
    """``struct mworker_proc`` of a worker."""

    proc: asyncio.subprocess.Process
    ipc: socket.socket
    timestamp: float
    reloads: int = 0
    leaving: bool = False
    version: str = VERSION

    @property
    def pid(self) -> int:
        return self.proc.pid


@dataclass
class Master:
    opts: Options
    diag: Startup
    daemon: bool
    systemd: bool
    # "master-worker no-exit-on-failure" would clear it, but 2.6.12's master
    # re-executes itself in wait mode without the configuration and loses the
    # option: the binary always exits. herdsman follows the binary.
    exit_on_failure: bool = True
    workers: list[Worker] = field(default_factory=list)
    launching: set[asyncio.subprocess.Process] = field(default_factory=set)
    reloads: int = 0
    failed_reloads: int = 0
    exitcode: int = -1
    stopping: bool = False
    timestamp: float = field(default_factory=time.time)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def say(self, level: Level, text: str) -> None:
        self.diag.say(level, text)

    async def launch(self, takeover: list[int], *, first: bool = False) -> Worker | None:
        """Start a worker; None when it exits before it is serving.

        The ``first`` worker reads the configuration the master has just
        read and printed: it prints only its alerts.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ, HAPROXY_MWORKER="1")
        env[ENV_IPC] = str(theirs.fileno())
        env[ENV_TAKEOVER] = ",".join(map(str, takeover))
        if first:
            env[ENV_CONFIG_SHOWN] = "1"
        env.pop("NOTIFY_SOCKET", None)  # only the master speaks to systemd
        args = [sys.executable, "-m", "herdsman", *worker_argv(self.opts, self.daemon)]
        try:
            proc = await asyncio.create_subprocess_exec(*args, pass_fds=(theirs.fileno(),), env=env)
        except OSError:
            ours.close()
            return None
        finally:
            theirs.close()
        self.launching.add(proc)
        ours.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            ready = (await loop.sock_recv(ours, 64)).startswith(b"READY")
        except OSError:
            ready = False
        finally:
            self.launching.discard(proc)
        if not ready:
            ours.close()
            await proc.wait()
            return None
        worker = Worker(proc, ours, time.time())
        self.workers.append(worker)
        spawn(loop, self._watch(worker))
        self.say(Level.NOTICE, f"New worker ({proc.pid}) forked")
        self.say(Level.NOTICE, "Loading success.")
        return worker

    async def reload(self) -> None:
        """``mworker_reload()``: a new worker; the old ones finish once it serves."""
        async with self.lock:
            if self.stopping or self.done.is_set():
                return
            self.say(Level.NOTICE, "Reloading herdsman")
            if self.systemd:
                sd_notify("RELOADING=1")
            self.reloads += 1
            for w in self.workers:
                w.reloads += 1
            old = sorted(self.workers, key=lambda w: w.leaving)  # the current one first
            worker = await self.launch([w.pid for w in old])
            if worker is None:
                self.failed_reloads += 1
                self.say(Level.WARNING, "Loading failure!")
            else:
                self.failed_reloads = 0
                for w in old:
                    w.leaving = True
                    with contextlib.suppress(ProcessLookupError):
                        w.proc.send_signal(signal.SIGUSR1)
            if self.systemd:
                sd_notify(f"READY=1\nMAINPID={os.getpid()}")
        self._check_all_gone()  # workers may have left meanwhile

    async def _watch(self, worker: Worker) -> None:
        """``mworker_catch_sigchld()`` for one worker."""
        status = _status(await worker.proc.wait())
        self.workers.remove(worker)
        worker.ipc.close()
        pid = worker.pid
        if worker.leaving:
            self.say(
                Level.WARNING, f"Former worker ({pid}) exited with code {status} ({_why(status)})"
            )
        else:
            level = Level.WARNING if status < 128 else Level.ALERT
            self.say(level, f"Current worker ({pid}) exited with code {status} ({_why(status)})")
            if status not in (0, 130, 143) and self.exit_on_failure:
                self.say(Level.ALERT, "exit-on-failure: killing every processes with SIGTERM")
                self.kill(signal.SIGTERM)
            if self.exitcode < 0 and status not in (0, 143):
                self.exitcode = status
            if not self.exit_on_failure and not self.stopping:
                return  # the master waits for a reload, without workers
        self._check_all_gone()

    def _check_all_gone(self) -> None:
        if self.workers or self.launching or self.lock.locked() or self.done.is_set():
            return
        code = self.exitcode if self.exitcode > 0 else 0
        self.say(Level.WARNING, f"All workers exited. Exiting... ({code})")
        self.done.set()

    def kill(self, sig: int) -> None:
        """``mworker_kill()``: every worker, current or leaving (and one being started)."""
        for proc in [w.proc for w in self.workers] + list(self.launching):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def stop(self, sig: int) -> None:
        """``mworker_catch_sigterm()``."""
        self.stopping = True
        if self.systemd:
            sd_notify("STOPPING=1")
        self.say(Level.WARNING, "Exiting Master process...")
        self.kill(sig)

    def show_proc(self) -> str:
        """``cli_io_handler_show_proc()``, column for column."""
        now = time.time()
        out = [
            f"#{'<PID>':<14} {'<type>':<15} {'<reloads>':<15} {'<uptime>':<15} {'<version>':<15}",
            f"{os.getpid():<15} {'master':<15} "
            f"{f'{self.reloads} [failed: {self.failed_reloads}]':<15} "
            f"{_uptime(now - self.timestamp):<15} {VERSION:<15}",
            "# workers",
        ]

        def line(w: Worker) -> str:
            return (
                f"{w.pid:<15} {'worker':<15} {w.reloads:<15} "
                f"{_uptime(now - w.timestamp):<15} {w.version:<15}"
            )

        out += [line(w) for w in self.workers if not w.leaving]
        old = [line(w) for w in self.workers if w.leaving]
        if old:
            out += ["# old workers", *old]
        out.append("# programs")
        return "\n".join(out) + "\n"


# -- the master CLI ----------------------------------------------------------------

CLI_HELP = [
    ("help [<command>]", "list matching or all commands"),
    ("prompt", "toggle interactive mode with prompt"),
    ("quit", "disconnect"),
    ("reload", "reload herdsman"),
    ("show proc", "show processes status"),
    ("show version", "show version of the current process"),
]


def _help(head: str) -> bytes:
    rows = "".join(f"  {name:<40}: {text}\n" for name, text in CLI_HELP)
    return f"{head}\n{rows}".encode()


class MasterCli:
    """The master CLI of ``-S``: one command per line (or ``;``-separated)."""

    def __init__(self, master: Master) -> None:
        self.master = master
        self.servers: list[asyncio.AbstractServer] = []

    async def listen(self, spec: str) -> None:
        """``-S <addr>[,<bind options>...]``: /path, ``unix@``, ``abns@``, ``ipv4@``/``ipv6@``, host:port.

        Raises ValueError with haproxy's reason when the address is unusable.
        """
        addr, *bind_opts = spec.split(",")
        mode = None
        for name, value in zip(bind_opts[::2], bind_opts[1::2], strict=False):
            if name == "mode":
                mode = int(value, 8)
        if addr.startswith("abns@"):
            server = await asyncio.start_unix_server(self._session, path="\0" + addr[5:])
        elif addr.startswith(("unix@", "/")):  # str2sa_range(): a path starts with '/'
            path = addr.removeprefix("unix@")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            server = await asyncio.start_unix_server(self._session, path=path)
            if mode is not None:
                os.chmod(path, mode)
        else:
            host, colon, port = addr.removeprefix("ipv4@").removeprefix("ipv6@").rpartition(":")
            if not colon or not port.isdigit():
                raise ValueError(f"missing port specification in '{addr}'")
            server = await asyncio.start_server(self._session, host or None, int(port))
        self.servers.append(server)

    def close(self) -> None:
        for srv in self.servers:
            srv.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Control plane, not the data path: streams are simple and fast enough.
        prompt = False
        try:
            while line := await reader.readline():
                for cmd in line.decode(errors="replace").strip().split(";"):
                    words = cmd.split()
                    if not words:
                        continue
                    if words == ["quit"]:
                        return
                    if words == ["reload"]:
                        # haproxy's master re-executes itself: the session ends
                        spawn(asyncio.get_running_loop(), self.master.reload())
                        return
                    if words == ["prompt"]:
                        prompt = not prompt
                    else:
                        writer.write(self._answer(words) + b"\n")
                    if prompt:
                        writer.write(b"master> ")
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _answer(self, words: list[str]) -> bytes:
        if words == ["show", "proc"]:
            return self.master.show_proc().encode()
        if words == ["show", "version"]:
            return f"{VERSION}\n".encode()
        if words[0] == "help":
            return _help("The following commands are valid at this level:")
        return _help("Unknown command, but maybe one of the following ones is a better match:")


# -- entry point -------------------------------------------------------------------


def run_master(config: Config, opts: Options, diag: Startup) -> int:
    """The master's life: pid file, master CLI, first worker, then signals."""
    import uvloop

    g = config.global_
    daemon = (opts.daemon or g.daemon) and not (opts.foreground or opts.debug)
    os.environ["HAPROXY_MWORKER"] = "1"

    async def main(ready_fd: int) -> int:
        loop = asyncio.get_running_loop()
        master = Master(opts, diag, daemon, opts.systemd)
        pidfile = opts.pidfile or g.pidfile
        if pidfile:
            try:
                write_pidfile(pidfile, os.getpid())
            except OSError:
                diag.say(Level.ALERT, f"[{opts.progname}.main()] Cannot create pidfile {pidfile}")
                return 1
        cli = MasterCli(master)
        try:
            for spec in opts.master_cli:
                await cli.listen(spec)
        except (OSError, ValueError) as exc:
            diag.alert("Cannot create the listener of the master CLI")
            diag.alert(str(exc) if isinstance(exc, ValueError) else f"{spec}: {exc.strerror}")
            diag.alert("Can't create the master's CLI.")
            return 1
        if await master.launch(opts.oldpids, first=True) is None:
            return 1
        if opts.oldpids and opts.oldsig:
            tell_pids(opts.oldpids, opts.oldsig)
        # handlers before READY: whoever is told "ready" may signal at once, and
        # SIGUSR2's default action would kill the master
        for sig in (signal.SIGUSR2, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: spawn(loop, master.reload()))
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            loop.add_signal_handler(sig, master.stop, sig)
        for sig in (signal.SIGTTOU, signal.SIGTTIN):
            loop.add_signal_handler(sig, master.kill, sig)
        if opts.systemd:
            sd_notify(f"READY=1\nMAINPID={os.getpid()}")
        if ready_fd >= 0:
            stdio_quiet()
            master.diag.quiet = True
            signal_ready(ready_fd, b"R")
            os.close(ready_fd)
        await master.done.wait()
        cli.close()
        return master.exitcode if master.exitcode > 0 else 0

    if daemon:
        return daemonize(lambda fd: uvloop.run(main(fd)))
    return uvloop.run(main(-1))
