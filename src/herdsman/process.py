"""Running a configuration as a process: binding, daemon mode, pid file, signals.

Start-up follows ``haproxy.c main()``:

1. Bind every listener. A failure is retried when old processes were named
   with ``-sf``/``-st``: they get SIGTTOU (pause: stop listening) and we try
   again 10 ms later, up to 200 times; in the end the failures are reported
   ("Binding [...] cannot bind socket ... Exiting."), the old processes get
   SIGTTIN (resume) and we exit 1.
2. No listener at all: exit 1.
3. The pid file, in daemon mode only (master-worker: ``herdsman.mworker``).
4. The old processes get SIGUSR1 (``-sf``, finish) or SIGTERM (``-st``).
5. Serve. In daemon mode the launcher returns only now (exit 0), so when
   ``herdsman -D -p pidfile`` returns, the pid file holds the daemon's pid
   and the listeners accept: a readiness pipe replaces haproxy's fork after
   binding, since an asyncio loop cannot survive a fork.

Before binding, the listening sockets of the old processes are taken over
(``herdsman.handover``): no connection is refused or reset during a reload.

Signals (``main()``, ``sig_soft_stop()``, ``sig_pause()``, ``sig_listen()``,
``sig_dump_state()``): SIGUSR1 soft stop, SIGTTOU pause, SIGTTIN resume,
SIGHUP dump the servers' states; SIGTERM and SIGINT keep their default
action (the process dies at once, as haproxy, which does not catch them);
SIGUSR2, SIGQUIT are ignored.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING

from herdsman.config.diag import Level
from herdsman.config.model import BindConfig, Config
from herdsman.core.states import SrvState
from herdsman.core.tasks import spawn
from herdsman.daemon import (
    apply_limits,
    daemonize,
    signal_ready,
    stdio_quiet,
    tell_pids,
    write_pidfile,
)
from herdsman.defs.levels import LOG_NOTICE, LOG_WARNING
from herdsman.handover import Handover, stop_listening, take_over
from herdsman.startup import Options, Startup

if TYPE_CHECKING:
    from herdsman.proxy.frontend import Frontend

MAX_START_RETRIES = 200  # haproxy.c


def run(config: Config, opts: Options, diag: Startup) -> int:
    """Serve ``config`` until stopped; returns the exit status."""
    import uvloop

    g = config.global_
    worker = opts.ipc_fd >= 0
    apply_limits(config, opts)
    for px in config.frontends:
        if opts.maxpconn and not px.maxconn:
            px.maxconn = opts.maxpconn
    daemon = (opts.daemon or g.daemon) and not (opts.foreground or opts.debug)
    if daemon and not worker:
        return daemonize(lambda fd: uvloop.run(Process(config, opts, diag, fd).serve()))
    return uvloop.run(Process(config, opts, diag, opts.ipc_fd).serve())


# -- the process -------------------------------------------------------------------


class Process:
    """One serving process (standalone, daemon or a master's worker)."""

    def __init__(self, config: Config, opts: Options, diag: Startup, ready_fd: int) -> None:
        self.config = config
        self.opts = opts
        self.diag = diag
        self.ready_fd = ready_fd
        self.worker = opts.ipc_fd >= 0
        g = config.global_
        self.daemon = (opts.daemon or g.daemon) and not (opts.foreground or opts.debug)
        self.quiet = opts.silent or (g.quiet and not opts.verbose)
        self.shared: set[int] = set()  # fds another process holds too: never suspended
        self.done = asyncio.Event()
        self.stopping = False
        self.status = 0

    async def serve(self) -> int:
        from herdsman.runtime import Herdsman

        loop = asyncio.get_running_loop()
        opts = self.opts
        self.hm = hm = Herdsman(
            self.config,
            stderr=None if self.quiet else sys.stderr,
            maxconn=opts.maxconn,
            reuseport=not opts.no_reuseport,
        )
        hm.loop = loop
        # what start-up built (the configuration, modules, tables) lives as long as
        # the process: out of the collector's sight, a full collection under load no
        # longer walks it (11-14 ms each, every few seconds; docs/performance.md §3).
        # No gc.collect() first (a pause at 10,000 servers, see below); the first
        # check round freezes what the checks add.
        gc.freeze()
        self.handover = Handover(loop, hm.frontends, self.shared)
        inherited = take_over(opts.takeover or opts.oldpids)
        try:
            ok = await self.bind_all(loop, inherited)
        finally:
            for s in inherited.values():
                s.close()
        if not ok:
            return 1
        if not hm.listener_count():
            self.diag.say(
                Level.ALERT,
                f"[{opts.progname}.main()] No enabled listener found (check for 'bind' directives) ! Exiting.",
            )
            return 1
        pidfile = opts.pidfile or self.config.global_.pidfile
        if self.daemon and not self.worker and pidfile:
            try:
                write_pidfile(pidfile, os.getpid())
            except OSError:
                self.diag.say(
                    Level.ALERT, f"[{opts.progname}.main()] Cannot create pidfile {pidfile}"
                )
                tell_pids(opts.oldpids, signal.SIGTTIN)
                self.hm.unbind()
                return 1
        self.install_signals(loop)
        # Once every check has run once, nearly every object the process holds
        # (configuration, servers, the checks' targets, the exporter's series)
        # lives as long as it: frozen, the GC's full collections no longer scan
        # them (at 10,000 servers each one paused the loop for 200-370 ms,
        # docs/performance.md section 11). No gc.collect() first: that would be
        # one such pause; the little cyclic garbage of start-up stays.
        hm.checks.scheduler.on_first_round = gc.freeze
        await hm.start(bind=False)
        self.handover.open()
        if opts.oldpids and opts.oldsig:
            tell_pids(opts.oldpids, opts.oldsig)
        if self.daemon:
            stdio_quiet()
            hm.hooks.stderr = None
        if self.worker:
            signal_ready(self.ready_fd, b"READY\n")
            loop.add_reader(self.ready_fd, self._master_gone)
        elif self.ready_fd >= 0:
            signal_ready(self.ready_fd, b"R")
            os.close(self.ready_fd)
        await self.done.wait()
        return self.status

    async def bind_all(
        self, loop: asyncio.AbstractEventLoop, inherited: dict[str, socket.socket]
    ) -> bool:
        """``protocol_bind_all()`` in the retry loop of ``main()``."""
        hm = self.hm
        hm.create_frontends(loop)
        oldpids = self.opts.oldpids
        retry = MAX_START_RETRIES
        while True:
            verbose = retry == 0 or not oldpids
            failures = hm.bind_pending(inherited, self.shared)
            if verbose:
                for failure in failures:
                    self._bind_alert(failure.frontend, failure.bind, failure.error)
            if not failures or not oldpids or retry == 0:
                break
            if tell_pids(oldpids, signal.SIGTTOU) == 0:
                retry = 0  # nobody to wait for
                continue
            await asyncio.sleep(0.01)  # haproxy.c: 10 ms for the old processes to pause
            retry -= 1
        if not failures:
            return True
        self.diag.say(
            Level.ALERT,
            f"[{self.opts.progname}.main()] Some protocols failed to start their listeners! Exiting.",
        )
        if retry != MAX_START_RETRIES and oldpids:
            hm.unbind()
            tell_pids(oldpids, signal.SIGTTIN)
        return False

    def _bind_alert(self, fe: Frontend | None, bind: BindConfig, exc: OSError) -> None:
        addr = bind.addr
        where = f"[{addr.host}:{addr.port}]" if addr.is_ip else f"[{addr.raw}]"
        # a stats socket belongs to HAProxy's internal "GLOBAL" frontend
        owner = f"{_kind(fe)} {fe.name}" if fe is not None else "frontend GLOBAL"
        self.diag.say(
            Level.ALERT,
            f"Binding [{bind.loc.file}:{bind.loc.line}] for {owner}: cannot bind "
            f"socket ({exc.strerror}) for {where}",
        )

    # -- signals --------------------------------------------------------------------

    def install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        # SIGTERM and SIGINT keep their default action (see run()): haproxy does not catch them
        for sig in (signal.SIGUSR2, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_IGN)
        loop.add_signal_handler(signal.SIGUSR1, lambda: spawn(loop, self.soft_stop()))
        loop.add_signal_handler(signal.SIGTTOU, self.pause)
        loop.add_signal_handler(signal.SIGTTIN, lambda: spawn(loop, self.resume()))
        loop.add_signal_handler(signal.SIGHUP, self.dump_states)

    def _master_gone(self) -> None:
        """``mworker_accept_wrapper()``: the master closed the IPC socket, exit in error."""
        try:
            data = os.read(self.ready_fd, 64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.ready_fd)
            self.hm.hard_stop()
            self.status = 1
            self.done.set()

    def _warn(self, text: str, be_name: str | None = None, level: int = LOG_WARNING) -> None:
        hm = self.hm
        hm.hooks.warning(text)
        be = hm.backends.get(be_name) if be_name else None
        if be is not None:
            hm.hooks.log(be, level, text)

    def pause(self) -> None:
        """SIGTTOU: stop accepting; unshared sockets refuse connections as haproxy's do."""
        if self.stopping:
            return
        self.hm.pause()
        for fe in self.hm.frontends:
            self._warn(f"Paused {_kind(fe)} {fe.name}.", fe.name)
        # after the event loop's servers are closed (Listener.pause() defers that)
        asyncio.get_running_loop().call_soon(self._suspend)

    def _suspend(self) -> None:
        for fe in self.hm.frontends:
            for lst in fe.listeners:
                if not lst.stopped and lst.sock.fileno() not in self.shared and lst.bind.addr.is_ip:
                    stop_listening(lst.sock)

    async def resume(self) -> None:
        """SIGTTIN: listen and accept again (the event loop's listen() re-arms the socket)."""
        if self.stopping:
            return
        await self.hm.resume()
        for fe in self.hm.frontends:
            self._warn(f"Resumed {_kind(fe)} {fe.name}.", fe.name)

    async def soft_stop(self) -> None:
        """SIGUSR1: ``soft_stop()`` (the runtime's: grace, stop, hard-stop-after), then exit."""
        if self.stopping:
            return
        self.stopping = True
        self.handover.close()  # a process started from now on binds anew
        g = self.config.global_
        await self.hm.soft_stop(g.hard_stop_after / 1000 if g.hard_stop_after else None)
        self.done.set()

    def dump_states(self) -> None:
        """SIGHUP: ``sig_dump_state()``."""
        hm = self.hm
        hm.hooks.warning("SIGHUP received, dumping servers states.")
        fe_by_name = {fe.name: fe for fe in hm.frontends}
        for pxc in self.config.proxies:
            be = hm.backends.get(pxc.name)
            fe = fe_by_name.get(pxc.name)
            if be is None and fe is None:
                continue
            if be is not None:
                hm.hooks.log(
                    be, LOG_NOTICE, f"SIGHUP received, dumping servers states for proxy {pxc.name}."
                )
                for srv in be.servers:
                    up = "UP" if srv.cur_state is not SrvState.STOPPED else "DOWN"
                    self._warn(
                        f"SIGHUP: Server {srv.id} is {up}. Conn: {srv.served} act, "
                        f"{srv.nbpend} pend, {srv.counters.cum_sess} tot.",
                        pxc.name,
                        LOG_NOTICE,
                    )
            feconn, fecum = (fe.feconn, fe.counters.cum_conn) if fe else (0, 0)
            beconn, becum = (be.beconn, be.counters.cum_conn) if be else (0, 0)
            conn = f"Conn: act(FE+BE): {feconn}+{beconn}, 0 pend (0 unass), tot(FE+BE): {fecum}+{becum}."
            if be is None or not be.servers:
                text = f"SIGHUP: Proxy {pxc.name} has no servers. {conn}"
            elif be.srv_act == 0:
                what = "is running on backup servers" if be.srv_bck else "has no server available"
                text = f"SIGHUP: Proxy {pxc.name} {what} ! {conn}"
            else:
                text = (
                    f"SIGHUP: Proxy {pxc.name} has {be.srv_act} active servers and "
                    f"{be.srv_bck} backup servers available. {conn}"
                )
            self._warn(text, pxc.name, LOG_NOTICE)


def _kind(fe: Frontend) -> str:
    """``proxy_type_str()``."""
    return "proxy" if fe.cfg.kind == "listen" else "frontend"
