"""The command line: haproxy's flags, texts and exit codes, checked against haproxy 2.6.

Every case runs ``python -m herdsman`` as a process (and the real haproxy
beside it where the two must agree): the exit code, stdout, and stderr with
pids and the two NOTICE lines naming the program normalised.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess

import proc_helpers
import pytest
from proc_helpers import DEFAULTS, HAPROXY, Runner, needs_haproxy, normalise

from herdsman.config.diag import Diagnostics
from herdsman.config.parser import parse
from herdsman.core.states import SrvAdmin, SrvState

proc_dir = proc_helpers.proc_dir  # fixtures
proc_runner = proc_helpers.proc_runner

VALID = DEFAULTS + "listen l1\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:9\n"
WARNS = "defaults\n    mode tcp\nlisten l1\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:9\n"
FATAL = DEFAULTS + "listen l1\n    bind 127.0.0.1:{port}\n    bogus_kw foo\n"
NOLISTEN = DEFAULTS + "backend b1\n    server s1 127.0.0.1:9\n"
VERSION_LINE = re.compile(
    r"HAProxy version 2\.6\.12-herdsman-\S+ \d{4}/\d\d/\d\d - https://haproxy\.org/"
)


def both(runner: Runner, args: list[str]) -> tuple[tuple[int, str, list[str]], ...]:
    """(exit code, stdout, normalised stderr) of herdsman, then of haproxy."""
    out = []
    for program in (None, [HAPROXY or "haproxy"]):
        r = runner.run(args, program)
        out.append((r.returncode, r.stdout, normalise(r.stderr)))
    return tuple(out)


# -- usage, version ----------------------------------------------------------------


@needs_haproxy
@pytest.mark.parametrize(
    "args",
    [[], ["-Z"], ["foo.cfg"], ["-c"], ["-q", "-V"], ["-s", "x"], ["-sf", "0", "-f", "x"]],
    ids=["nothing", "unknown-flag", "not-a-flag", "no-f", "no-files", "bad-two-args", "pid-0"],
)
def test_usage_on_stderr_version_on_stdout_exit_1(proc_runner: Runner, args: list[str]) -> None:
    """An unknown flag, a word that is not a flag, or no -f: usage on stderr, version on stdout, 1."""
    (rc, out, err), (hrc, hout, herr) = both(proc_runner, args)
    assert rc == hrc == 1
    assert VERSION_LINE.fullmatch(out.splitlines()[0])
    assert len(out.splitlines()) == len(hout.splitlines()) == 4
    assert [x.split(":")[0] for x in out.splitlines()[1:]] == ["Status", "Known bugs", "Running on"]
    assert err[0].startswith("Usage : herdsman [-f <cfgfile|cfgdir>]* [ -vdVD ]")
    # the same usage, but for the program name and -dL (haproxy built with dump-libs)
    assert err[1:] == [x for x in herr[1:] if not x.lstrip().startswith("-dL")]


@needs_haproxy
@pytest.mark.parametrize("args", [["-f"], ["-n"], ["-S"], ["-Z", "-p"], ["-c", "-f", "a", "-C"]])
def test_option_without_its_value(proc_runner: Runner, args: list[str]) -> None:
    """copy_argv() runs first: an option that needs a value and lacks it fails at once."""
    mine, theirs = both(proc_runner, args)
    assert mine == theirs == (1, "", ["[ALERT]    (pid) : failed to copy argv."])


@needs_haproxy
@pytest.mark.parametrize(
    ("args", "alert"),
    [
        (["-sf", "12x"], "-sf option: some bytes unconsumed in PID list {x}"),
        (["-st", "1", "  7 z"], "-st option: some bytes unconsumed in PID list {z}"),
    ],
)
def test_bad_pid_list(proc_runner: Runner, args: list[str], alert: str) -> None:
    mine, theirs = both(proc_runner, args)
    assert mine == theirs == (1, "", [f"[ALERT]    (pid) : {alert}"])


def test_version_and_build_options(proc_runner: Runner) -> None:
    """-v prints haproxy's four lines; -vv adds the build sections in haproxy's order."""
    v = proc_runner.run(["-v"])
    assert v.returncode == 0
    assert v.stderr == ""
    lines = v.stdout.splitlines()
    assert VERSION_LINE.fullmatch(lines[0])
    assert [x.split(":")[0] for x in lines[1:]] == ["Status", "Known bugs", "Running on"]
    vv = proc_runner.run(["-vv"])
    assert vv.returncode == 0
    assert vv.stdout.startswith(v.stdout)
    heads = [x for x in vv.stdout.splitlines() if x and not x.startswith((" ", "\t", "("))]
    assert heads[4:] == [
        "Build options :",
        heads[5],
        "Default settings :",
        f"Built with OpenSSL version : {ssl.OPENSSL_VERSION}",
        f"Running on OpenSSL version : {ssl.OPENSSL_VERSION}",
        "OpenSSL library supports TLS extensions : yes",
        "OpenSSL library supports SNI : yes",
        "OpenSSL library supports : TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3",
        "Built with the Prometheus exporter as a service",
        "Built with network namespace support.",
        "Available polling systems :",
        "Total: 1 (1 usable), will use epoll.",
        "Available multiplexer protocols :",
        "Available services : prometheus-exporter",
        "Available filters :",
    ]
    assert heads[5].startswith("Feature list : ")
    assert "+PROMEX" in heads[5].split()


@needs_haproxy
def test_exporter_listed_as_haproxy_lists_it(proc_runner: Runner) -> None:
    """Debian's 2.6.12 is built with USE_PROMEX=1: -vv names the exporter in the same
    three places (feature list, build line, services)."""
    theirs = subprocess.run([HAPROXY, "-vv"], capture_output=True, text=True, check=True).stdout
    mine = proc_runner.run(["-vv"]).stdout

    def promex(text: str) -> list[str]:
        feats = next(x for x in text.splitlines() if x.startswith("Feature list : ")).split()
        lines = [x for x in text.splitlines() if "Prometheus" in x or "services" in x]
        return ["+PROMEX" if "+PROMEX" in feats else "-PROMEX", *lines]

    assert (
        promex(mine)
        == promex(theirs)
        == [
            "+PROMEX",
            "Built with the Prometheus exporter as a service",
            "Available services : prometheus-exporter",
        ]
    )


# -- -c ----------------------------------------------------------------------------


@needs_haproxy
@pytest.mark.parametrize(
    ("text", "rc"),
    [(VALID, 0), (WARNS, 0), (FATAL, 1), (NOLISTEN, 2)],
    ids=["valid", "warnings", "fatal", "no-listener"],
)
@pytest.mark.parametrize("quiet", [False, True], ids=["", "q"])
def test_check_mode(proc_runner: Runner, text: str, rc: int, quiet: bool) -> None:
    """-c: exit 0 (valid, with or without warnings), 1 (errors), 2 (nothing listens); -q silences all."""
    proc_runner.write("h.cfg", text.format(port=8))
    args = ["-c", *(["-q"] if quiet else []), "-f", "h.cfg"]
    mine, theirs = both(proc_runner, args)
    assert mine == theirs
    assert mine[0] == rc
    if quiet:
        assert mine[1:] == ("", [])
    elif rc == 0:
        assert mine[1].endswith("Configuration file is valid\n")
        assert ("Warnings were found." in mine[1]) == (text is WARNS)


@needs_haproxy
@pytest.mark.parametrize("args", [["-dW"], ["-q", "-dW"]], ids=["dW", "q-dW"])
def test_zero_warning(proc_runner: Runner, args: list[str]) -> None:
    """-dW: a warning is fatal ("Some warnings were found and 'zero-warning' is set")."""
    proc_runner.write("h.cfg", WARNS.format(port=8))
    mine, theirs = both(proc_runner, ["-c", *args, "-f", "h.cfg"])
    assert mine == theirs
    assert mine[0] == 1
    if "-q" not in args:
        assert mine[2][-1].endswith("Some warnings were found and 'zero-warning' is set. Aborting.")


# -- -cc ---------------------------------------------------------------------------


@needs_haproxy
@pytest.mark.parametrize(
    ("expr", "rc"),
    [
        ("1", 0),
        ("0", 1),
        ("", 1),
        ("defined(HOME)", 0),
        ("defined(HERDSMAN_NOPE)", 1),
        ('streq("${HOME}",x) || 1', 0),
        ("version_atleast(2.6)", 0),
        ("version_before(2.6.5)", 1),
        ("!1", 1),
        ("(1", 2),
        ("a b c", 2),
        ("foo(1)", 2),
        ("'abc", 2),
        ("\\x1", 2),
    ],
)
def test_check_condition(proc_runner: Runner, expr: str, rc: int) -> None:
    """-cc: 0 when true, 1 when false, 2 with haproxy's alert when malformed."""
    mine, theirs = both(proc_runner, ["-cc", expr])
    assert mine == theirs
    assert mine[0] == rc
    assert bool(mine[2]) == (rc == 2)


def test_check_condition_without_expression(proc_runner: Runner) -> None:
    r = proc_runner.run(["-cc"])
    assert r.returncode == 1
    assert r.stderr.startswith("Usage : herdsman")


# -- files -------------------------------------------------------------------------


@needs_haproxy
def test_chdir_then_relative_files(proc_runner: Runner) -> None:
    """-C changes directory before the files are read; a missing directory is an alert."""
    (proc_runner.dir / "conf").mkdir()
    proc_runner.write("conf/h.cfg", VALID.format(port=8))
    mine, theirs = both(proc_runner, ["-c", "-C", "conf", "-f", "h.cfg"])
    assert mine == theirs == (0, "Configuration file is valid\n", [])
    mine, theirs = both(proc_runner, ["-c", "-C", "nope", "-f", "h.cfg"])
    assert mine == theirs
    assert mine[2] == [
        "[ALERT]    (pid) : Could not change to directory nope : No such file or directory"
    ]


@needs_haproxy
def test_directory_files_in_lexical_order_and_double_dash(proc_runner: Runner) -> None:
    """-f dir reads its *.cfg files in lexical order; "--" starts a list of files."""
    d = proc_runner.dir / "d"
    d.mkdir()
    for name in ("20-b.cfg", "10-a.cfg", "c.txt", ".hidden.cfg", "3.cfg"):
        (d / name).write_text(f'.notice "{name}"\n')
    proc_runner.write("z.cfg", VALID.format(port=8))
    mine, theirs = both(proc_runner, ["-c", "-f", "d", "-f", "z.cfg"])
    assert mine == theirs
    notices = [line.rsplit(": ", 1)[1] for line in mine[2] if "NOTICE" in line]
    assert notices == ["'10-a.cfg'.", "'20-b.cfg'.", "'3.cfg'."]
    mine, theirs = both(proc_runner, ["-c", "--", "d/3.cfg", "z.cfg", "d/10-a.cfg"])
    assert mine == theirs
    assert mine[0] == 0
    assert [line.rsplit(": ", 1)[1] for line in mine[2]] == ["'3.cfg'.", "'10-a.cfg'."]


@needs_haproxy
def test_localpeer_and_cfgfiles_in_the_configuration(
    proc_runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HAPROXY_LOCALPEER is the host name or -L; HAPROXY_CFGFILES is set once files are read."""
    # not inherited from this process: parses at collection time set them here
    monkeypatch.delenv("HAPROXY_CFGFILES", raising=False)
    monkeypatch.delenv("HAPROXY_LOCALPEER", raising=False)
    proc_runner.write("e.cfg", '.notice "peer=${HAPROXY_LOCALPEER} cfg=${HAPROXY_CFGFILES}"\n')
    proc_runner.write("h.cfg", VALID.format(port=8))
    mine, theirs = both(proc_runner, ["-c", "-f", "e.cfg", "-f", "h.cfg"])
    assert mine == theirs
    assert mine[2] == [
        f"[NOTICE]   (pid) : config : parsing [e.cfg:1]: 'peer={socket.gethostname()} cfg='."
    ]
    mine, theirs = both(proc_runner, ["-c", "-L", "p1", "-f", "e.cfg", "-f", "h.cfg"])
    assert mine == theirs
    assert "'peer=p1 cfg='." in mine[2][0]


@needs_haproxy
def test_dont_fail_resolve(proc_runner: Runner) -> None:
    """-dr: a server whose name does not resolve starts in maintenance instead of failing."""
    text = DEFAULTS + (
        "listen l1\n    bind 127.0.0.1:8\n    server s1 nonexistent.invalid:80\n"
        "    server s2 127.0.0.1:9\n"
    )
    path = proc_runner.write("h.cfg", text)
    mine, theirs = both(proc_runner, ["-c", "-f", "h.cfg"])
    assert mine[0] == theirs[0] == 1
    assert mine[2] == theirs[2]
    mine, theirs = both(proc_runner, ["-c", "-dr", "-f", "h.cfg"])
    assert mine == theirs
    assert mine[0] == 0
    from herdsman.runtime import Herdsman

    config = parse([str(path)], Diagnostics(), {}, dont_fail_resolve=True)
    assert config is not None
    hm = Herdsman(config, stderr=None)
    s1, s2 = hm.server("l1/s1"), hm.server("l1/s2")
    assert s1.cur_admin & SrvAdmin.RMAINT
    assert s1.cur_state is SrvState.STOPPED
    assert not s2.cur_admin
    assert s2.is_up


def test_x_is_refused(proc_runner: Runner) -> None:
    """-x: herdsman takes sockets over by itself; it says so instead of ignoring the flag."""
    proc_runner.write("h.cfg", VALID.format(port=8))
    r = proc_runner.run(["-db", "-x", "/run/haproxy.sock", "-f", "h.cfg"])
    assert r.returncode == 1
    alert = normalise(r.stderr)
    assert len(alert) == 1
    assert alert[0].startswith("[ALERT]    (pid) : -x /run/haproxy.sock: ")
    assert "Remove -x." in alert[0]
    r = proc_runner.run(["-x"])
    assert r.returncode == 1
    assert normalise(r.stderr)[:2] == [
        "[ALERT]    (pid) : Unix socket path expected with the -x flag",
        "",
    ]


def test_no_listener_at_run_time(proc_runner: Runner) -> None:
    """Running a configuration that binds nothing: haproxy's alert, exit 1."""
    proc_runner.write("h.cfg", NOLISTEN)
    r = proc_runner.run(["-db", "-f", "h.cfg"])
    assert r.returncode == 1
    assert normalise(r.stderr) == [
        "[ALERT]    (pid) : [herdsman.main()] No enabled listener found (check for 'bind' directives) ! Exiting."
    ]


def test_parse_args_cases() -> None:
    """init_args() corner cases, in-process."""
    from herdsman.cli import Options, parse_args

    opts = parse_args(
        ["-Ws", "-n", "5", "-N", "7", "-L", "me", "-sf", "3", "4", "-f", "a", "--", "b"]
    )
    assert isinstance(opts, Options)
    assert (opts.mworker, opts.systemd, opts.foreground) == (True, True, True)
    assert (opts.maxconn, opts.maxpconn, opts.localpeer) == (5, 7, "me")
    assert opts.oldpids == [3, 4]
    assert opts.cfgfiles == ["a", "b"]
    assert parse_args(["-f", "-dash.cfg"]).cfgfiles == ["-dash.cfg"]
    assert parse_args(["-dbx", "-dr", "-qq"]).foreground
