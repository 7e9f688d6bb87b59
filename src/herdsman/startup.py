"""What the command line hands to the process: its options and its message printer.

Shared by ``cli`` (which fills them), ``process`` (one serving process) and
``mworker`` (the master), so none of those imports another to get them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from herdsman.config.diag import Diagnostics, Level, Message

# Internal environment of a worker started by the master (haproxy passes the
# equivalent as HAPROXY_MWORKER_REEXEC, HAPROXY_PROCESSES and "-x sockpair@").
ENV_IPC = "HERDSMAN_MWORKER_IPC"  # fd of the worker's end of its socketpair with the master
ENV_TAKEOVER = "HERDSMAN_TAKEOVER"  # pids to take listening sockets from, comma separated
# set for a master's first worker: the master has just printed the configuration's
# notices and warnings, the worker prints only alerts (haproxy parses once)
ENV_CONFIG_SHOWN = "HERDSMAN_CONFIG_SHOWN"


class Startup(Diagnostics):
    """The process's message printer: ``ha_alert()``/``ha_warning()``/``ha_notice()``.

    Configuration messages carry the ``config :`` context (``alert``,
    ``warning``); the command line and the process life cycle do not
    (``say``). Both print the two NOTICE lines naming the program before the
    first alert or warning, once per process, as ``print_message()`` does.
    """

    def say(self, level: Level, text: str) -> None:
        self._emit(Message(level, text, context=False))


@dataclass
class Options:
    cfgfiles: list[str] = field(default_factory=list)
    check: bool = False
    explain: str = ""  # -c --explain[=json]: "text" or "json"
    check_cond: bool = False  # -cc seen (its expression may be missing)
    check_condition: str | None = None
    daemon: bool = False
    mworker: bool = False
    systemd: bool = False
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    foreground: bool = False
    diag: bool = False
    zero_warning: bool = False
    dont_fail_resolve: bool = False
    no_reuseport: bool = False
    maxconn: int = 0
    maxpconn: int = 0
    memmax: int = 0
    pidfile: str | None = None
    chdir: str | None = None
    localpeer: str | None = None
    oldpids: list[int] = field(default_factory=list)
    oldsig: int = 0
    master_cli: list[str] = field(default_factory=list)
    old_unixsocket: str | None = None
    kwd_dump: str | None = None
    version: int = 0  # 1 for -v, 2 for -vv
    progname: str = "herdsman"  # argv[0], as "[%s.main()]" alerts print it
    ipc_fd: int = -1  # worker of a master: its end of the IPC socketpair
    takeover: list[int] = field(default_factory=list)  # worker: pids holding our sockets
    config_shown: bool = False  # worker: the master printed the notices and warnings

    @property
    def silent(self) -> bool:
        """MODE_QUIET without MODE_VERBOSE: ``-q`` silences, ``-V`` wins."""
        return self.quiet and not self.verbose
