"""The ``herdsman`` command: haproxy's command line, so scripts and units can swap it in.

Flags follow ``haproxy.c init_args()`` of 2.6, including its quirks: a flag
is recognised by its first letters (``-db``, ``-dr``, ``-vv``...), an
unknown flag prints the version and the usage on stderr and exits 1, ``--``
starts a list of configuration files.

Signals (standalone process or worker): SIGUSR1 soft stop (stop accepting,
let connections finish, exit), SIGTERM/SIGINT stop now, SIGTTOU pause the
listeners, SIGTTIN resume them (``-sf``/``-st`` of a new process use these),
SIGHUP logs the servers' states. In master-worker mode (``-W``/``-Ws``) the
master handles SIGUSR2 (reload) as described in ``herdsman.mworker``.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import sys
from dataclasses import dataclass, field

from herdsman.config.diag import Diagnostics, Level, Message
from herdsman.version import FEATURES, HAPROXY_COMPAT, RELEASE_DATE, VERSION


class Usage(Exception):
    """Print the usage and exit 1."""


@dataclass
class Options:
    cfgfiles: list[str] = field(default_factory=list)
    check: bool = False
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
    ready_fd: int = -1  # internal: the master's readiness pipe (worker mode)


def _atol(text: str) -> int:
    from herdsman.config.keywords import parse_int

    return parse_int(text)


def parse_args(argv: list[str]) -> Options:
    """``init_args()``: raises Usage for anything haproxy would refuse."""
    opts = Options()
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        if not arg.startswith("-"):
            raise Usage
        flag = arg[1:]
        if flag.startswith("v"):
            opts.version = 2 if flag[1:2] == "v" else 1
            return opts
        two = flag[:2]
        if two in ("de", "dp", "dk", "dv", "dS", "dG", "dV", "dM", "dL"):
            pass  # poller, splice, resolver and debugging switches: no effect here
        elif two == "dR":
            opts.no_reuseport = True
        elif flag == "V" or flag.startswith("V"):
            opts.verbose = True
        elif two == "db":
            opts.foreground = True
        elif two == "dD":
            opts.diag = True
        elif two == "dW":
            opts.zero_warning = True
        elif two == "dr":
            opts.dont_fail_resolve = True
        elif two == "dK":
            opts.kwd_dump = flag[2:]
        elif flag.startswith("d"):
            opts.debug = True
        elif two == "cc":
            i += 1
            opts.check_condition = argv[i] if i < n else None
        elif flag.startswith("c"):
            opts.check = True
        elif flag.startswith("D"):
            opts.daemon = True
        elif two == "Ws":
            opts.mworker = opts.foreground = opts.systemd = True
        elif flag.startswith("W"):
            opts.mworker = True
        elif flag.startswith("q"):
            opts.quiet = True
        elif flag.startswith("x"):
            if i + 1 >= n:
                _alert("Unix socket path expected with the -x flag\n")
                raise Usage
            opts.old_unixsocket = argv[i + 1]
            i += 1
        elif flag.startswith("S"):
            if i + 1 >= n:
                _alert("Socket and optional bind parameters expected with the -S flag")
                raise Usage
            opts.master_cli.append(argv[i + 1])
            i += 1
        elif two in ("sf", "st"):
            opts.oldsig = signal.SIGUSR1 if two == "sf" else signal.SIGTERM
            while i + 1 < n and not argv[i + 1].startswith("-"):
                i += 1
                text = argv[i].strip()
                try:
                    pid = int(text)
                except ValueError:
                    _alert(f"-{flag[:2]} option: some bytes unconsumed in PID list {{{argv[i]}}}")
                    raise SystemExit(1) from None
                if pid <= 0:
                    raise Usage
                opts.oldpids.append(pid)
        elif flag == "-":
            opts.cfgfiles.extend(argv[i + 1 :])
            break
        elif flag == "__worker":  # internal: run as a worker of a master process
            i += 1
            opts.ready_fd = int(argv[i])
        else:
            i += 1
            if i >= n:
                raise Usage
            value = argv[i]
            c = flag[:1]
            if c == "C":
                opts.chdir = value
            elif c == "n":
                opts.maxconn = _atol(value)
            elif c == "m":
                opts.memmax = _atol(value)
            elif c == "N":
                opts.maxpconn = _atol(value)
            elif c == "L":
                opts.localpeer = value
            elif c == "f":
                opts.cfgfiles.append(value)
            elif c == "p":
                opts.pidfile = value
            else:
                raise Usage
        i += 1
    return opts


def _alert(text: str) -> None:
    sys.stderr.write(Message(Level.ALERT, text, context=False).render(os.getpid()) + "\n")


def version_text() -> str:
    uname = platform.uname()
    return (
        f"herdsman version {VERSION} {RELEASE_DATE} - HAProxy {HAPROXY_COMPAT} compatible\n"
        "Status: development release.\n"
        "Known bugs: see the project's issue list\n"
        f"Running on: {uname.system} {uname.release} {uname.version} {uname.machine}\n"
    )


def build_options_text() -> str:
    feats = " ".join(("+" if on else "-") + name for name, on in sorted(FEATURES.items()))
    from importlib.metadata import version

    return (
        "Build options :\n"
        f"  TARGET  = python{sys.version_info.major}.{sys.version_info.minor}\n"
        f"  CPU     = {platform.machine()}\n"
        f"  CC      = {platform.python_implementation()} {platform.python_version()}\n"
        f"  OPTIONS = uvloop {version('uvloop')} httptools {version('httptools')}\n"
        "\n"
        f"Feature list : {feats}\n"
        "\n"
        "Default settings :\n"
        "  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n"
        "\n"
        "Built with network namespace support.\n"
        "\n"
        "Available polling systems :\n"
        "      epoll : pref=300,  test result OK (through uvloop)\n"
        "Total: 1 (1 usable), will use epoll.\n"
        "\n"
        "Available multiplexer protocols :\n"
        "(protocols marked as <default> cannot be specified using 'proto' keyword)\n"
        "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n"
        "\n"
        "Available services : none\n"
        "\n"
        "Available filters : none\n"
        "\n"
    )


USAGE = """Usage : {name} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -m limits the usable amount of memory (in MB)
        -N sets the default, per-proxy maximum # of connections (0)
        -L set local peer name (default to hostname)
        -p writes pids of all children to this file
        -de disables epoll() usage even when available
        -dp disables poll() usage even when available
        -dS disables splice usage (broken on old kernels)
        -dG disables getaddrinfo() usage
        -dR disables SO_REUSEPORT usage
        -dK{{class[,...]}} dump registered keywords (use 'help' for list)
        -dr ignores server address resolution failures
        -dV disables SSL verify on servers side
        -dW fails if any warning is emitted
        -dD diagnostic mode : warn about suspicious configuration statements
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI

"""


def usage(name: str) -> int:
    sys.stdout.write(version_text())
    sys.stdout.flush()
    sys.stderr.write(USAGE.format(name=name))
    return 1


def check_condition(expr: str | None, name: str) -> int:
    """``-cc``: 0 if true, 1 if false, 2 on error."""
    from herdsman.config.cond import CondError, eval_condition
    from herdsman.config.lexer import LexError, tokenize

    if expr is None:
        return usage(name)
    try:
        words = tokenize(expr, os.environ)
    except LexError as err:
        _alert(f"Syntax Error in condition: {err}")
        return 2
    try:
        return 0 if eval_condition(words, os.environ) else 1
    except CondError as err:
        _alert(f"Failed to evaluate condition: {err}")
        return 2


def load_config(opts: Options, stream: object = None) -> tuple[object | None, Diagnostics]:
    """Parse and validate the configuration files as ``haproxy -c`` would."""
    from herdsman.config.parser import ConfigParser
    from herdsman.config.validate import validate

    diag = Diagnostics(
        stream=sys.stderr if stream is None else stream,  # type: ignore[arg-type]
        quiet=opts.quiet and not opts.verbose,
        diag_mode=opts.diag,
        version=f"{VERSION} (HAProxy {HAPROXY_COMPAT} compatible)",
    )
    os.environ.setdefault("HAPROXY_LOCALPEER", opts.localpeer or socket.gethostname())
    if opts.localpeer:
        os.environ["HAPROXY_LOCALPEER"] = opts.localpeer
    parser = ConfigParser(diag, os.environ)
    ok = parser.feed_paths(opts.cfgfiles)
    os.environ["HAPROXY_CFGFILES"] = ";".join(parser.config.files)
    if not ok or diag.fatal:
        diag.alert("Fatal errors found in configuration.")
        return None, diag
    config = validate(parser.config, diag, opts.dont_fail_resolve)
    if config is not None and (opts.zero_warning or config.global_.zero_warning) and diag.warned:
        diag.alert("Some warnings were found and 'zero-warning' is set. Aborting.")
        return None, diag
    return config, diag


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "herdsman"
    if name == "__main__.py":
        name = "herdsman"
    try:
        opts = parse_args(args)
    except Usage:
        return usage(name)
    if opts.version:
        sys.stdout.write(version_text())
        if opts.version == 2:
            sys.stdout.write(build_options_text())
        return 0
    if opts.check_condition is not None or "-cc" in args:
        return check_condition(opts.check_condition, name)
    if opts.kwd_dump is not None:
        from herdsman.config.docs import dump_keywords

        sys.stdout.write(dump_keywords(opts.kwd_dump))
        return 0
    if opts.chdir:
        try:
            os.chdir(opts.chdir)
        except OSError as exc:
            _alert(f"Could not change to directory {opts.chdir} : {exc.strerror}")
            return 1
    if not opts.cfgfiles:
        return usage(name)
    if opts.old_unixsocket:
        _alert("-x: fetching listening sockets from another process is not supported by herdsman.")
        return 1
    config, diag = load_config(opts)
    if config is None:
        return 1
    if opts.check:
        if not (opts.quiet and not opts.verbose):
            if diag.warned:
                print("Warnings were found.")
            print("Configuration file is valid")
        return 0
    from herdsman.process import run

    return run(config, opts, diag)  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
