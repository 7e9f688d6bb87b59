"""Running a configuration as a process: binding, daemon mode, pid file, signals.

The order follows ``haproxy.c main()``: ask the old processes of ``-sf``/``-st``
to pause their listeners (SIGTTOU), bind every listener (on failure, resume
the old processes with SIGTTIN and exit 1), go to the background if asked,
write the pid file, then tell the old processes to finish (SIGUSR1) or
terminate (SIGTERM), and serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import sys
from typing import TYPE_CHECKING

from herdsman.config.diag import Diagnostics, Level, Message
from herdsman.config.model import Config
from herdsman.core.tasks import spawn

if TYPE_CHECKING:
    from herdsman.cli import Options
    from herdsman.runtime import Herdsman


def _alert(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(Message(Level.ALERT, text, context=False).render(os.getpid()) + "\n")
        sys.stderr.flush()


def _signal_pids(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def daemonize() -> None:
    """Fork into the background, detached from the terminal (``-D``)."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def write_pidfile(path: str, pid: int) -> None:
    with open(path, "w") as f:
        f.write(f"{pid}\n")


def bind_all(hm: Herdsman, loop: asyncio.AbstractEventLoop) -> bool:
    """Open every listener; report failures as HAProxy does."""
    from herdsman.proxy.frontend import Frontend

    ok = True
    for pxc in hm.config.frontends:
        if pxc.disabled:
            continue
        fe = Frontend(pxc, loop, hm.backends, hm.limits)
        if pxc.logs:
            fe.logger = hm._logger(pxc.logs, pxc.log_tag)
        for bind in pxc.binds:
            try:
                fe.open_bind(bind)
            except OSError as exc:
                ok = False
                where = (
                    f"[{bind.addr.host}:{bind.addr.port}]"
                    if bind.addr.is_ip
                    else f"[{bind.addr.raw}]"
                )
                kind = "proxy" if pxc.kind == "listen" else pxc.kind
                _alert(
                    f"Binding [{bind.loc.file}:{bind.loc.line}] for {kind} {pxc.name}: cannot bind "
                    f"socket ({exc.strerror}) for {where}"
                )
        hm.frontends.append(fe)
        hm.limits.frontends.append(fe)
    if not ok:
        _alert("[herdsman.main()] Some protocols failed to start their listeners! Exiting.")
    hm.loop = loop
    return ok


def apply_limits(config: Config, opts: Options) -> None:
    if opts.memmax:
        limit = opts.memmax * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nofile = config.global_.ulimit_n
    if nofile:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    else:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(config: Config, opts: Options, diag: Diagnostics) -> int:
    """Serve ``config`` until stopped; returns the exit status."""
    g = config.global_
    if (opts.mworker or g.master_worker) and opts.ready_fd < 0:
        from herdsman.mworker import run_master

        return run_master(config, opts)
    import uvloop

    apply_limits(config, opts)
    for px in config.frontends:
        if opts.maxpconn and not px.maxconn:
            px.maxconn = opts.maxpconn
    return uvloop.run(_serve(config, opts))


async def _serve(config: Config, opts: Options) -> int:
    from herdsman.runtime import Herdsman

    g = config.global_
    loop = asyncio.get_running_loop()
    quiet = (opts.quiet or g.quiet) and not opts.verbose
    daemon = (opts.daemon or g.daemon) and not opts.foreground and not opts.debug
    hm = Herdsman(config, stderr=None if quiet else sys.stderr, maxconn=opts.maxconn)
    if opts.oldpids:
        _signal_pids(opts.oldpids, signal.SIGTTOU)
    if not bind_all(hm, loop):
        if opts.oldpids:
            _signal_pids(opts.oldpids, signal.SIGTTIN)
        return 1
    if daemon:
        daemonize()
        hm.reporter.stderr = None
        hm.pid = hm.reporter.pid = os.getpid()
    pidfile = opts.pidfile or g.pidfile
    if pidfile and opts.ready_fd < 0:
        try:
            write_pidfile(pidfile, os.getpid())
        except OSError as exc:
            _alert(f"[herdsman.main()] Cannot create pidfile {pidfile} : {exc.strerror}")
            return 1
    done = asyncio.Event()
    status = {"code": 0}

    async def soft() -> None:
        hsa = g.hard_stop_after / 1000.0 if g.hard_stop_after else None
        await hm.soft_stop(hsa)
        done.set()

    def on_signal(sig: int) -> None:
        if sig == signal.SIGUSR1:
            spawn(loop, soft())
        elif sig in (signal.SIGTERM, signal.SIGINT):
            hm.hard_stop()
            done.set()
        elif sig == signal.SIGTTOU:
            hm.pause()
        elif sig == signal.SIGTTIN:
            spawn(loop, hm.resume())
        elif sig == signal.SIGHUP:
            dump_states(hm)

    for sig in (
        signal.SIGUSR1,
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGTTOU,
        signal.SIGTTIN,
        signal.SIGHUP,
    ):
        loop.add_signal_handler(sig, on_signal, sig)
    await hm.start(bind=False)
    if opts.oldpids and opts.oldsig:
        _signal_pids(opts.oldpids, opts.oldsig)
    if opts.ready_fd >= 0:
        with contextlib.suppress(OSError):
            os.write(opts.ready_fd, b"READY\n")
            os.close(opts.ready_fd)
    await done.wait()
    return status["code"]


def dump_states(hm: Herdsman) -> None:
    """SIGHUP: one line per server with its state (``sig_dump_state()``)."""
    from herdsman.core.backend import LOG_NOTICE

    for be in hm.backends.values():
        for srv in be.servers:
            chk = srv.check
            health = f"{chk.health}/{chk.rise + chk.fall - 1}" if chk else "-"
            text = (
                f"SIGHUP: Server {srv.id} is {'UP' if srv.is_up else 'DOWN'}. Conn: {srv.served} act, "
                f"{srv.nbpend} pend, {srv.cum_sess} tot. health {health}."
            )
            hm.reporter.warning(text)
            hm.reporter.log(be, LOG_NOTICE, text)
        text = (
            f"SIGHUP: {be.kind.capitalize()} {be.name} has {be.srv_act} active servers and "
            f"{be.srv_bck} backup servers available. Conn: {be.beconn} act, 0 pend, {be.cum_conn} tot."
        )
        hm.reporter.warning(text)
        hm.reporter.log(be, LOG_NOTICE, text)
