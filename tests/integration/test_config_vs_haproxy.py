"""``herdsman -c`` against ``haproxy -c`` (2.6.12) on every configuration case.

Two kinds of cases:

* the tables of tests/unit/test_config_*.py, whose expected texts are
  checked here against the binary (so the unit tests cannot drift from it),
  and whose herdsman output must equal haproxy's unless the case records a
  deliberate divergence (a refused keyword, with its reason);
* ``SAME`` below: more configurations without recorded texts, where herdsman
  must simply print what haproxy prints.

haproxy runs once per configuration, from its own temporary directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from configcase import (
    Case,
    assert_same,
    listen,
    params,
    run_haproxy,
    run_herdsman,
    section,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

import test_config_errfiles
import test_config_global
import test_config_http
import test_config_proto_checks
import test_config_proxy
import test_config_refused
import test_config_routing
import test_config_sections
import test_config_server
import test_config_tls

pytestmark = pytest.mark.haproxy

TABLES: list[Case] = [
    *test_config_server.ALL,
    *test_config_sections.ALL,
    *test_config_global.ALL,
    *test_config_proxy.ALL,
    *test_config_refused.ALL,
    *test_config_proto_checks.ALL,
    *test_config_http.ALL,
    *test_config_errfiles.ALL,
    *test_config_routing.ALL,
    *test_config_tls.ALL,
]


@pytest.mark.parametrize("c", params(TABLES, herdsman=False))
def test_tables_against_haproxy(c: Case, tmp_path: Path) -> None:
    """The texts and exit code a table records are haproxy's; herdsman prints the same,
    except in the recorded divergences (checked by the unit tests)."""
    c.write_files(tmp_path)
    theirs = run_haproxy(tmp_path, c.text, c.args)
    if c.lines is None:
        assert theirs.rc == c.rc, theirs.lines
    else:
        assert_same(theirs, c.outcome(herdsman=False), "haproxy", "recorded")
    if c.diverges:
        return
    mine = run_herdsman(tmp_path, c.text, c.args)
    if not c.pending:
        assert_same(mine, theirs, "herdsman", "haproxy")
        return
    # A strict expected failure that still checked the haproxy side above.
    try:
        assert_same(mine, theirs, "herdsman", "haproxy")
    except AssertionError:
        pytest.xfail(c.pending)
    pytest.fail(f"{c.id} passes now: drop its 'pending' ({c.pending})")


# -- configurations compared without recorded texts --------------------------------------

L = listen
S = "server s1 127.0.0.1:80"
B = "backend B\n    server s1 127.0.0.1:80\n"


def _typos() -> list[tuple[str, str]]:
    """Misspelt keywords everywhere a "did you mean" is computed."""
    glob = "deamon maxcon nbthred pidfille spread-check usr grup chroott ulimitn setenvv log-tg "
    glob += "hard-stop-afte tune.bufsiz tune.foo descripton quit zero-warnings profiling.memory "
    glob += "stat lua-lod ssl-engine xyzzy master-workr gracee"
    prox = "balanse timout servr bnd mod opton default-backend use-backend usebackend retrie "
    prox += "maxconnn fullcon hash-typ log-tg descr disable tcp-chek http-chek stick-tabl "
    prox += "errorfil acll id2 backlg monitor-nett source2 persists cookies"
    opts = "tcpkaa redispatc httpchek tcp-chek allbackup log-health-check nolinge "
    opts += "independant-streams srvtcpk clitcpk httplg dontlog-null forwardfo orignalto"
    srv = "chek backp inerr rize fal prot addrr trak observ init-adr namespce idd disable "
    srv += "maxcon slowstrt agent-chek send-proxi ssll weigth errorlimit on-eror"
    bind = "maxconnn nam backlg v6onl transparant interfce namespce defer-accep tfoo mod ui "
    bind += "accept-prox ssl2"
    out = [(f"global-{t}", f"global\n    {t} 1\n" + L(S)) for t in glob.split()]
    out += [(f"listen-{t}", L(f"{t} 1", S)) for t in prox.split()]
    out += [(f"option-{t}", L(f"option {t}", S)) for t in opts.split()]
    out += [(f"server-{t}", L(f"{S} {t} 1")) for t in srv.split()]
    out += [(f"default-server-{t}", L(f"default-server {t} 1", S)) for t in srv.split()[:6]]
    out += [(f"bind-{t}", L(f"bind :18001 {t} 1", S)) for t in bind.split()]
    return out


SAME: list[tuple[str, str, tuple[str, ...]]] = [
    *[(name, text, ()) for name, text in _typos()],
    # traffic logs (config/kw_logs.py)
    ("log-tcplog-no-target", L("option tcplog", S), ()),
    ("log-httplog-in-tcp", L("log 127.0.0.1 local0", "option httplog", S), ()),
    ("log-httplog-clf-in-tcp", L("log 127.0.0.1 local0", "option httplog clf", S), ()),
    ("log-httplog-bad-arg", L("option httplog xx", S), ()),
    ("log-httplog-clf-extra", L("option httplog clf x", S), ()),
    ("log-tcplog-extra", L("option tcplog x", S), ()),
    ("log-format-no-arg", L("log-format", S), ()),
    ("log-format-two-args", L("log-format %ci %cp", S), ()),
    ("log-format-unknown-var", L("log 127.0.0.1 local0", 'log-format "%ci %zz"', S), ()),
    ("log-format-http-var-in-tcp", L("log 127.0.0.1 local0", 'log-format "%r"', S), ()),
    ("log-format-digit", L("log 127.0.0.1 local0", 'log-format "100%5"', S), ()),
    ("log-format-truncated", L("log 127.0.0.1 local0", 'log-format "%{+Q"', S), ()),
    ("log-format-arg-alone", L("log 127.0.0.1 local0", 'log-format "%{+Q} x"', S), ()),
    ("log-format-backend", B.replace("backend B\n", "backend B\n    log-format %ci\n") + L(S), ()),
    ("log-tcplog-backend", B.replace("backend B\n", "backend B\n    option tcplog\n") + L(S), ()),
    (
        "log-defaults-overrides",
        "defaults\n    option httplog\n    option tcplog\n    log-format %ci\n"
        "    option httplog clf\n" + L(S),
        (),
    ),
    # the stats page (config/kw_statspage.py)
    ("stats-tcp", L("stats enable", S), ()),
    ("stats-bad", L("mode http", "stats foo", S), ()),
    ("stats-missing", L("mode http", "stats", S), ()),
    ("stats-uri-missing", L("mode http", "stats uri", S), ()),
    ("stats-realm-missing", L("mode http", "stats realm", S), ()),
    ("stats-auth-missing", L("mode http", "stats auth", S), ()),
    ("stats-auth-dup", L("mode http", "stats auth a:b", "stats auth a:c", S), ()),
    ("stats-scope-missing", L("mode http", "stats scope", S), ()),
    ("stats-refresh-bad", L("mode http", "stats refresh 5x", S), ()),
    ("stats-refresh-ok", L("mode http", "stats refresh 5s", S), ()),
    ("stats-node-bad", L("mode http", "stats show-node a@b", S), ()),
    ("stats-desc-none", L("mode http", "stats show-desc", S), ()),
    ("stats-admin-no-cond", L("mode http", "stats admin", S), ()),
    ("stats-admin-true", L("mode http", "stats admin if TRUE", S), ()),
    ("stats-admin-defaults", "defaults\n    mode http\n    stats admin if TRUE\n" + L(S), ()),
    ("capture-ok", L("mode http", "capture request header Host len 10", S), ()),
    ("capture-no-len", L("mode http", "capture request header Host", S), ()),
    ("capture-bad", L("mode http", "capture foo", S), ()),
    ("capture-extra", L("mode http", "capture response header X len 3 y", S), ()),
    ("capture-in-defaults", "defaults\n    capture request header Host len 10\n" + L(S), ()),
    (
        "capture-in-backend",
        B.replace("backend B\n", "backend B\n    capture request header A len 2\n") + L(S),
        (),
    ),
    ("bind-range", L("bind :18001-18003", S), ()),
    ("bind-bad-range", L("bind :18003-18001", S), ()),
    ("bind-list", L("bind :18001,:18002", S), ()),
    ("bind-port-0", L("bind :0", S), ()),
    ("bind-no-port", L("bind 127.0.0.1", S), ()),
    ("bind-unresolvable", L("bind nonexistent.invalid:80", S), ()),
    ("bind-localhost", L("bind localhost:18001", S), ()),
    ("bind-unix", L("bind /tmp/hx.sock", S), ()),
    ("bind-unix-too-long", L("bind /tmp/" + "a" * 100, S), ()),
    ("bind-abns", L("bind abns@foo", S), ()),
    ("bind-fd", L("bind fd@99", S), ()),
    ("bind-udp", L("bind udp@:18001", S), ()),
    ("bind-empty-env", L("bind ${NOPE}", S), ()),
    ("bind-maxconn-missing", L("bind :18001 maxconn", S), ()),
    ("bind-name-missing", L("bind :18001 name", S), ()),
    ("bind-id", L("bind :18001 id 5", S), ()),
    ("bind-id-0", L("bind :18001 id 0", S), ()),
    ("bind-id-range", L("bind :18001-18002 id 5", S), ()),
    ("bind-mode", L("bind /tmp/hx2.sock mode 600", S), ()),
    ("bind-mode-bad", L("bind /tmp/hx2.sock mode x", S), ()),
    ("bind-user-unknown", L("bind /tmp/hx2.sock user nopeuser", S), ()),
    ("bind-namespace-missing", L("bind :18001 namespace nope", S), ()),
    ("bind-interface", L("bind :18001 interface lo", S), ()),
    ("bind-v4v6", L("bind :::18001 v4v6", S), ()),
    (
        "order-tcp-mode",
        "frontend F\n    default_backend B\n    balance uri\nbackend B\n    balance url_param x\n"
        "    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81\n",
        (),
    ),
    (
        "order-servers",
        "listen L\n    bind :18000\n    balance hdr(x)\n    default_backend B\n"
        "    server s1 127.0.0.1:80 cookie a\n    server s2 127.0.0.1:80 redir /x\n"
        "    server s1 127.0.0.1:81\n" + B,
        (),
    ),
    (
        "order-unused-tcp-check",
        "listen L\n    bind :18000\n    tcp-check connect\n    " + S + "\n",
        (),
    ),
    (
        "order-unused-http-check",
        "listen L\n    bind :18000\n    http-check send meth GET\n    " + S + "\n",
        (),
    ),
    (
        "order-references",
        "listen L\n    bind :18000\n    default_backend nope\n    use_backend nope2\n"
        "    server s1 127.0.0.1 check\n    server s2 127.0.0.1:80 track nope/s1\n",
        (),
    ),
    (
        "disabled-proxy-is-not-checked",
        "listen M\n    disabled\n    balance uri\n    server s1 127.0.0.1:80\n"
        "    server s1 127.0.0.1:80\n" + L(S),
        (),
    ),
    (
        "disabled-proxy-check-port",
        L(S) + "listen M\n    disabled\n    bind :18001\n    server s1 127.0.0.1 check\n",
        (),
    ),
    (
        "disabled-proxy-not-resolved",
        L(S) + "listen M\n    disabled\n    bind :18001\n    server s1 nonexistent.invalid:80\n",
        (),
    ),
    ("track-by-id", L("server s1 127.0.0.1:80 check id 7", "server s2 127.0.0.1:80 track #7"), ()),
    ("track-self", L("server s1 127.0.0.1:80 track s1"), ()),
    ("track-missing-argument", L("server s2 127.0.0.1:80 track"), ()),
    ("check-addr-unresolvable", L("server s1 127.0.0.1:80 check addr nonexistent.invalid"), ()),
    ("check-addr-missing", L("server s1 127.0.0.1:80 check addr"), ()),
    ("check-addr-with-port", L("server s1 127.0.0.1 check addr 127.0.0.2:81"), ()),
    ("check-port-missing", L("server s1 127.0.0.1:80 check port"), ()),
    ("check-port-not-a-number", L("server s1 127.0.0.1 check port x"), ()),
    (
        "check-in-backend-twice",
        section("frontend F", "bind :18000", "default_backend B")
        + "backend B\n    server s1 127.0.0.1:80 check check\n",
        (),
    ),
    ("template-agent", L("server-template t 2 127.0.0.1:80 agent-check"), ()),
    ("template-ids", L("server-template t 3 127.0.0.1:80 id 10", "server x 127.0.0.1:80"), ()),
    ("observe-layer4", L(S + " observe layer4"), ()),
    ("observe-missing", L(S + " observe"), ()),
    ("on-error-unknown", L(S + " on-error foo"), ()),
    ("error-limit-0", L(S + " error-limit 0"), ()),
    ("on-marked-down-unknown", L(S + " on-marked-down foo"), ()),
    ("weight-twice", L(S + " weight 2 weight 300"), ()),
    ("rise-not-a-number", L(S + " rise x"), ()),
    ("fall-missing", L(S + " check fall"), ()),
    ("fastinter-bad-char", L(S + " check fastinter 1y"), ()),
    ("downinter-overflow", L(S + " check downinter 30d"), ()),
    ("inter-zero", L(S + " check inter 0"), ()),
    ("default-server-namespace-missing", L("default-server namespace nope", S), ()),
    ("ipv6-localhost", L("server s1 ipv6@localhost:80"), ()),
    ("five-dots", L("server s1 1.2.3.4.5:80"), ()),
    ("open-bracket", L("server s1 [::1"), ()),
    ("offset-not-a-number", L("server s1 127.0.0.1:+x"), ()),
    ("log-missing", L("log", S), ()),
    ("log-global", L("log global", S), ()),
    ("log-unknown-facility", L("log 127.0.0.1:514 foo", S), ()),
    ("log-target", L("log 127.0.0.1:514 local0 info", S), ()),
    ("no-log-extra", L("no log x", S), ()),
    ("log-tag-missing", L("log-tag", S), ()),
    ("many-errors", L("foo", "bar 1", "server s1", S + " wieght 1", "timeout connect x"), ()),
    ("quiet-flag-valid", L(S), ("-q",)),
    ("quiet-flag-error", L("foo", S), ("-q",)),
    ("diag-flag", L(S + " weight 0", "timeout connect 0"), ("-dD",)),
    ("zero-warning-flag", L("timeout connect 0", S), ("-dW",)),
    (
        "frontend-with-check-rules",
        section(
            "frontend F", "bind :18000", "option httpchk", "tcp-check connect", "default_backend B"
        )
        + B,
        (),
    ),
    ("directive-alert-aborts", L(S) + ".alert 'stop here'\n", ()),
    ("directive-warning", L(S) + ".warning 'careful'\n", ()),
    ("unterminated-if", L(S) + ".if defined(HOME)\n", ()),
    ("too-many-fatal-errors", L(*["foo"] * 55), ()),
    ("fe-be-pair", section("frontend F", "bind :18000", "default_backend B") + B, ()),
    (
        "backend-used-twice",
        section("frontend F", "bind :18000", "use_backend B", "default_backend B") + B,
        (),
    ),
]


@pytest.mark.parametrize(("name", "text", "args"), SAME, ids=[s[0] for s in SAME])
def test_same_output(name: str, text: str, args: tuple[str, ...], tmp_path: Path) -> None:
    """herdsman -c prints exactly what haproxy -c prints, and exits alike."""
    theirs = run_haproxy(tmp_path, text, args)
    assert_same(run_herdsman(tmp_path, text, args), theirs, "herdsman", "haproxy")
