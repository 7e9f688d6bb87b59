"""The ``herdsman`` command: haproxy's command line, so scripts and units can swap it in.

Flags follow ``haproxy.c`` of 2.6, quirks included:

* ``copy_argv()`` runs first: an option among ``-C -n -m -N -L -f -p -S``
  (recognised by its first letter) without its value makes haproxy say
  "failed to copy argv." and exit 1, before anything else is looked at.
* ``init_args()`` then recognises a flag by its first letters (``-db``,
  ``-dr``, ``-vv``...); an unknown flag, a word that is not a flag or a flag
  without its value prints the version on stdout, the usage on stderr and
  exits 1; ``--`` starts a list of configuration files.
* ``init()`` changes directory (``-C``), evaluates ``-cc``, reads the files,
  and ``-c`` stops there: 0 when valid, 2 when nothing listens, 1 on errors.

Running the configuration is ``herdsman.process`` (standalone, daemon) and
``herdsman.mworker`` (master-worker).
"""

from __future__ import annotations

import os
import platform
import re
import signal
import socket
import ssl
import sys
from typing import TYPE_CHECKING

from herdsman.config.diag import Diagnostics, Level
from herdsman.startup import ENV_CONFIG_SHOWN, ENV_IPC, ENV_TAKEOVER, Options, Startup
from herdsman.version import FEATURES, HAPROXY_COMPAT, RELEASE_DATE, VERSION

if TYPE_CHECKING:
    from herdsman.config.model import Config


class Usage(Exception):
    """Print the version and the usage, exit 1 (``usage()``)."""


class Exit(Exception):
    """Leave at once with this status; the alert is already out."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# Options whose value copy_argv() copies, whatever it looks like.
_VALUED = "CnmNLfpS"


def check_argv(argv: list[str]) -> None:
    """``copy_argv()``: Exit(1) when an option lacks its value."""
    i, n = 0, len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            continue
        flag = arg[1:]
        if flag == "-":
            return
        first = flag[:1]
        if first == "s" and flag[1:2] in ("f", "t"):
            while i < n and not argv[i].startswith("-"):
                i += 1
        elif first == "x":
            i = min(i + 1, n)
        elif first and first in _VALUED:
            if i >= n:
                raise Usage("copy_argv")
            i += 1


def _strtol_pid(text: str, flag: str, diag: Startup) -> int:
    """One pid of ``-sf``/``-st``, read as ``strtol()`` reads it."""
    m = re.match(r"[ \t\n\v\f\r]*[+-]?[0-9]+", text)
    value, rest = (int(m.group()), text[m.end() :]) if m else (0, text)
    if not -(2**63) <= value < 2**63:
        diag.say(
            Level.ALERT,
            f"-{flag} option: failed to parse {{{text}}}: Numerical result out of range",
        )
        raise Exit(1)
    rest = rest.lstrip(" \t\n\v\f\r")
    if rest:
        diag.say(Level.ALERT, f"-{flag} option: some bytes unconsumed in PID list {{{rest}}}")
        raise Exit(1)
    if value <= 0:
        raise Usage
    return value


def parse_args(argv: list[str], diag: Startup | None = None) -> Options:
    """``copy_argv()`` then ``init_args()``: raises Usage or Exit as haproxy would stop."""
    diag = diag or Startup(stream=sys.stderr)
    try:
        check_argv(argv)
    except Usage:
        diag.say(Level.ALERT, "failed to copy argv.")
        raise Exit(1) from None
    opts = Options()
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        if not arg.startswith("-"):
            raise Usage
        flag = arg[1:]
        two = flag[:2]
        if flag.startswith("v"):
            opts.version = 2 if flag[1:2] == "v" else 1
            return opts
        if two in ("de", "dp", "dk", "dv", "dS", "dG", "dV", "dM", "dL"):
            pass  # pollers, splice, resolver, SSL verify, memory debugging: nothing to do here
        elif two == "dR":
            opts.no_reuseport = True
        elif flag.startswith("V"):
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
            opts.check_cond = True
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
                diag.say(Level.ALERT, "Unix socket path expected with the -x flag\n")
                raise Usage
            if opts.old_unixsocket:
                diag.say(Level.WARNING, "-x option already set, overwriting the value")
            opts.old_unixsocket = argv[i + 1]
            i += 1
        elif flag.startswith("S"):
            opts.master_cli.append(argv[i + 1])  # check_argv() saw its value
            i += 1
        elif two in ("sf", "st"):
            opts.oldsig = signal.SIGUSR1 if two == "sf" else signal.SIGTERM
            while i + 1 < n and not argv[i + 1].startswith("-"):
                i += 1
                opts.oldpids.append(_strtol_pid(argv[i], flag, diag))
        elif flag in ("-explain", "-explain=text", "-explain=json"):
            # beyond haproxy: with -c, how the limits and check schedule come out
            opts.explain = "json" if flag.endswith("json") else "text"
        elif flag == "-":
            opts.cfgfiles.extend(argv[i + 1 :])
            break
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


def _atol(text: str) -> int:
    """``atol()``: leading digits, 0 when there are none."""
    m = re.match(r"[ \t\n\v\f\r]*[+-]?[0-9]+", text)
    return int(m.group()) if m else 0


def version_text() -> str:
    """``display_version()``: HAProxy's first line, so that version-parsing scripts and
    HAProxy's reg-test runner read 2.6.12, with herdsman named in the version suffix
    (as distributions add theirs, e.g. ``2.6.12-1+deb12u4``)."""
    uname = platform.uname()
    return (
        f"HAProxy version {HAPROXY_COMPAT}-herdsman-{VERSION} {RELEASE_DATE} - "
        "https://haproxy.org/\n"
        f"Status: herdsman {VERSION}, a load balancer in Python behaving as HAProxy "
        f"{HAPROXY_COMPAT}; development release.\n"
        "Known bugs: see the project's issue list\n"
        f"Running on: {uname.system} {uname.release} {uname.version} {uname.machine}\n"
    )


def build_options_text() -> str:
    """``display_build_opts()``: the sections of ``haproxy -vv``, in its order."""
    from importlib.metadata import version

    feats = " ".join(("+" if on else "-") + name for name, on in sorted(FEATURES.items()))
    tls_versions = " ".join(
        name
        for name, present in (
            ("SSLv3", ssl.HAS_SSLv3),
            ("TLSv1.0", ssl.HAS_TLSv1),
            ("TLSv1.1", ssl.HAS_TLSv1_1),
            ("TLSv1.2", ssl.HAS_TLSv1_2),
            ("TLSv1.3", ssl.HAS_TLSv1_3),
        )
        if present
    )
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
        f"Built with OpenSSL version : {ssl.OPENSSL_VERSION}\n"
        f"Running on OpenSSL version : {ssl.OPENSSL_VERSION}\n"
        "OpenSSL library supports TLS extensions : yes\n"
        "OpenSSL library supports SNI : yes\n"
        f"OpenSSL library supports : {tls_versions}\n"
        "Built with the Prometheus exporter as a service\n"
        "Built with network namespace support.\n"
        "\n"
        "Available polling systems :\n"
        "      epoll : pref=300,  test result OK\n"
        "Total: 1 (1 usable), will use epoll.\n"
        "\n"
        "Available multiplexer protocols :\n"
        "(protocols marked as <default> cannot be specified using 'proto' keyword)\n"
        "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n"
        "\n"
        # list_services(): the use-service names; list_filters() prints nothing
        "Available services : prometheus-exporter\n"
        "\n"
        "Available filters :\n"
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
    """``usage()``: the version on stdout, the usage on stderr, status 1."""
    sys.stdout.write(version_text())
    sys.stdout.flush()
    sys.stderr.write(USAGE.format(name=name))
    return 1


def check_condition(opts: Options, diag: Startup) -> int:
    """``-cc``: 0 if true, 1 if false, 2 on error (``init()``)."""
    from herdsman.config import cond

    if opts.check_condition is None:
        return usage(opts.progname)
    status, text = cond.check_condition(opts.check_condition, os.environ)
    if text is not None:
        diag.alert(text)  # usermsgs_clr("config") ran: the alert has the config context
    return status


def load_config(opts: Options, diag: Diagnostics) -> Config | None:
    """Read and validate the files as ``init()`` does; None when haproxy would exit 1."""
    from herdsman.config.parser import parse

    # init_early() sets it to the host name, overwriting the environment;
    # init_args() sets it again for -L.
    os.environ["HAPROXY_LOCALPEER"] = opts.localpeer or socket.gethostname()
    config = parse(opts.cfgfiles, diag, os.environ, opts.dont_fail_resolve)
    if config is None:
        return None
    if (opts.zero_warning or config.global_.zero_warning) and diag.warned:
        diag.alert("Some warnings were found and 'zero-warning' is set. Aborting.")
        return None
    return config


def _progname(argv0: str) -> str:
    if not argv0 or argv0.endswith("__main__.py") or argv0 == "-c":
        return "herdsman"
    return argv0


def _take_worker_env(opts: Options) -> None:
    """A worker started by the master: read, then hide, the master's internal variables."""
    ipc = os.environ.pop(ENV_IPC, None)
    takeover = os.environ.pop(ENV_TAKEOVER, None)
    opts.config_shown = os.environ.pop(ENV_CONFIG_SHOWN, None) == "1"
    if ipc is not None:
        opts.ipc_fd = int(ipc)
        opts.takeover = [int(p) for p in (takeover or "").split(",") if p]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    progname = _progname(sys.argv[0] if sys.argv else "")
    diag = Startup(stream=sys.stderr, version=f"{VERSION} (HAProxy {HAPROXY_COMPAT} compatible)")
    try:
        opts = parse_args(args, diag)
    except Usage:
        return usage(progname)
    except Exit as exc:
        return exc.status
    opts.progname = progname
    _take_worker_env(opts)
    if opts.version:
        sys.stdout.write(version_text())
        if opts.version == 2:
            sys.stdout.write(build_options_text())
        return 0
    if opts.localpeer:
        os.environ["HAPROXY_LOCALPEER"] = opts.localpeer
    if opts.chdir:
        try:
            os.chdir(opts.chdir)
        except OSError as exc:
            diag.say(Level.ALERT, f"Could not change to directory {opts.chdir} : {exc.strerror}")
            return 1
    if opts.check_cond:
        return check_condition(opts, diag)
    if opts.kwd_dump is not None:
        from herdsman.config.docs import dump_keywords

        sys.stdout.write(dump_keywords(opts.kwd_dump))
        return 0
    if not opts.cfgfiles:
        return usage(progname)
    diag.quiet = opts.silent
    diag.alerts_only = opts.config_shown
    diag.diag_mode = opts.diag
    config = load_config(opts, diag)
    if config is None:
        return 1
    if opts.check:
        return _check_mode(config, opts, diag)
    if opts.old_unixsocket and opts.ipc_fd < 0:
        diag.say(
            Level.ALERT,
            f"-x {opts.old_unixsocket}: herdsman does not fetch listening sockets from a "
            "stats socket; a process started with -sf/-st (or a master-worker reload) "
            "takes them over from the old process by itself. Remove -x.",
        )
        return 1
    # haproxy leaves SIGINT to its default action; Python would raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if (opts.mworker or config.global_.master_worker) and opts.ipc_fd < 0:
        from herdsman.mworker import run_master

        return run_master(config, opts, diag)
    from herdsman.process import run

    return run(config, opts, diag)


def _check_mode(config: Config, opts: Options, diag: Startup) -> int:
    """``-c``: "Configuration file is valid", or exit 2 when nothing would listen."""
    from herdsman.config.validate import has_listener

    # qfprintf(): MODE_QUIET comes from -q or from the global "quiet" keyword
    quiet = opts.silent or (config.global_.quiet and not opts.verbose)
    out = None if quiet else sys.stdout
    if diag.warned and out:
        out.write("Warnings were found.\n")
    if has_listener(config):
        if opts.explain == "json":
            sys.stdout.write(_explanation(config, opts))  # only JSON: the status says "valid"
        elif out:
            out.write("Configuration file is valid\n")
            if opts.explain:
                out.write(_explanation(config, opts))
        return 0
    if out:
        out.write("Configuration file has no error but will not start (no listener) => exit(2).\n")
    return 2


def _explanation(config: Config, opts: Options) -> str:
    """``-c --explain[=json]``: docs/limits.md."""
    import resource

    from herdsman.config.explain import explain, render_json, render_text
    from herdsman.config.limits import default_maxconn, reserved_fds

    g = config.global_
    if opts.maxconn:
        maxconn, source = opts.maxconn, "-n on the command line"
    elif g.maxconn:
        loc = g.keywords.get("maxconn")
        where = f" at {loc.file}:{loc.line}" if loc is not None else ""
        maxconn, source = g.maxconn, f"global 'maxconn'{where}"
    else:
        # what the process computes after raising its descriptor limit to the hard one
        nofile = g.ulimit_n or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        maxconn = default_maxconn(config, nofile)
        origin = "global 'ulimit-n'" if g.ulimit_n else "the hard RLIMIT_NOFILE"
        source = (
            f"computed: max(100, 2 * ({nofile} descriptors from {origin} - "
            f"{reserved_fds(config)} for listeners and checks) / 5)"
        )
    report = explain(config, maxconn, source)
    return render_json(report) if opts.explain == "json" else render_text(report)


if __name__ == "__main__":
    raise SystemExit(main())
