"""What a parsed configuration holds: automatic server ids (spec §1.6),
``default-server`` accumulation (§1.8), ``server-template`` instances (§1.9),
namespaces (§1.5), ``defaults`` inheritance, and the parser's helpers.

The ids and weights were read from the 2.6.12 binary with ``show servers state``
(observed-2.6.12-server-lb.md §1.6-§1.9).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from configcase import FATAL_PARSE, LISTEN, case, check_herdsman, listen
from herdsman.config.diag import Diagnostics, Level
from herdsman.config.model import Config, ProxyConfig
from herdsman.config.parser import apply_modifier, parse, parse_text
from herdsman.config.validate import has_listener


def parsed(*lines: str, frame: str = LISTEN) -> Config:
    diag = Diagnostics()
    config = parse_text(frame + "".join(f"    {line}\n" for line in lines), diag, "F.cfg")
    assert config is not None, diag.texts()
    return config


def proxy(config: Config, name: str = "L") -> ProxyConfig:
    px = config.proxy(name)
    assert px is not None
    return px


def ids(config: Config, name: str = "L") -> dict[str, int]:
    return {s.name: s.puid for s in proxy(config, name).servers}


@pytest.mark.parametrize(
    ("lines", "want"),
    [
        pytest.param(
            ["server s1 127.0.0.1:80", "server s2 127.0.0.1:80 id 1", "server s3 127.0.0.1:80"],
            {"s1": 2, "s2": 1, "s3": 4},
            id="spec-example",
        ),
        pytest.param(
            [*(f"server a{i} 127.0.0.1:80" for i in range(8)), "server dupn 127.0.0.1:80 id 50"]
            + ["server dupo 127.0.0.1:80"],
            {**{f"a{i}": i + 1 for i in range(8)}, "dupn": 50, "dupo": 10},
            id="counter-moves-past-explicit-ids",
        ),
        pytest.param(
            ["server-template t 3 127.0.0.1:80 id 10", "server x 127.0.0.1:80"],
            {"t1": 10, "t2": 2, "t3": 3, "x": 4},
            id="template-id-only-on-first",
        ),
        pytest.param(
            ["server-template t 0-2 127.0.0.1:80", "server u 127.0.0.1:80"],
            {"t0": 1, "t1": 2, "t2": 3, "u": 4},
            id="template-range-in-order",
        ),
    ],
)
def test_automatic_ids(lines: list[str], want: dict[str, int]) -> None:
    """Automatic ids: the smallest free id from a counter that moves after every server."""
    assert ids(parsed(*lines)) == want


def test_same_name_allowed_with_an_explicit_id() -> None:
    """Two servers may share a name when one has an explicit id; both are kept."""
    config = parsed("server s1 127.0.0.1:19001 id 5", "server s1 127.0.0.1:19002")
    assert [(s.name, s.puid) for s in proxy(config).servers] == [("s1", 5), ("s1", 2)]


def test_default_server_lines_accumulate() -> None:
    """A server copies default-server as it stands on its own line (spec §1.8)."""
    config = parsed(
        "default-server weight 5",
        "server s1 127.0.0.1:80",
        "default-server weight 7",
        "default-server check inter 3s",
        "server s2 127.0.0.1:80",
    )
    s1, s2 = proxy(config).servers
    assert (s1.weight, s1.check, s1.inter) == (5, False, 2000)
    assert (s2.weight, s2.check, s2.inter) == (7, True, 3000)


def test_default_server_is_inherited_from_defaults() -> None:
    frame = LISTEN.replace("listen L", "    default-server weight 9\nlisten L")
    config = parsed(
        "server s1 127.0.0.1:80", "default-server weight 3", "server s2 127.0.0.1:80", frame=frame
    )
    assert [s.weight for s in proxy(config).servers] == [9, 3]


def test_weight_atol() -> None:
    """A non-numeric or missing weight is 0 (atol), not an error."""
    config = parsed("server a 127.0.0.1:80 weight abc", "server b 127.0.0.1:80 weight")
    assert [s.weight for s in proxy(config).servers] == [0, 0]


def test_disabled_and_backup() -> None:
    config = parsed(
        "default-server backup",
        "server a 127.0.0.1:80 disabled",
        "server b 127.0.0.1:80 no-backup",
    )
    a, b = proxy(config).servers
    assert (a.disabled, a.backup, b.disabled, b.backup) == (True, True, False, False)


def test_option_tcpka_sets_both_sides() -> None:
    """``option tcpka`` is clitcpka plus srvtcpka, so ``no option clitcpka`` undoes one side."""
    config = parsed("option tcpka", "no option clitcpka", "server s1 127.0.0.1:80")
    px = proxy(config)
    assert (px.option("clitcpka"), px.option("srvtcpka")) == (False, True)


def test_a_new_defaults_section_starts_from_scratch() -> None:
    """Only proxies inherit the previous defaults; a defaults section without ``from`` does not."""
    text = (
        "defaults A\n    timeout connect 7s\n    retries 9\n"
        "defaults B\n    timeout client 1s\n"
        "defaults C from A\n"
        "listen L\n    bind :18000\n    server s1 127.0.0.1:80\n"
        "listen M from A\n    bind :18001\n    server s1 127.0.0.1:80\n"
        "listen N from C\n    bind :18002\n    server s1 127.0.0.1:80\n"
    )
    diag = Diagnostics()
    config = parse_text(text, diag, "F.cfg")
    assert config is not None
    last, named, chained = (proxy(config, x) for x in "LMN")
    # L copies C (the last defaults), which copied A and not B.
    assert (last.timeouts.connect, last.retries, last.timeouts.client) == (7000, 9, None)
    assert (named.timeouts.connect, named.retries, named.timeouts.client) == (7000, 9, None)
    assert (chained.timeouts.connect, chained.retries) == (7000, 9)
    frame = "defaults A\n    retries 9\ndefaults B\n" + LISTEN[len("defaults\n") :]
    fresh = parse_text(frame + "    server s1 127.0.0.1:80\n", Diagnostics())
    assert fresh is not None
    assert proxy(fresh).retries == 3


def test_l7_hash_falls_back_to_roundrobin() -> None:
    config = parsed("balance uri", "server s1 127.0.0.1:80")
    assert proxy(config).balance.algo == "roundrobin"


@pytest.mark.parametrize(
    ("words", "want"),
    [
        (["option", "tcpka"], ("", ["option", "tcpka"])),
        (["no", "option", "tcpka"], ("no", ["option", "tcpka"])),
        (["default", "option", "tcpka"], ("default", ["option", "tcpka", "tcpka"])),
        (["no"], ("no", [""])),
        (["default"], ("default", ["default"])),
    ],
)
def test_modifiers(words: list[str], want: tuple[str, list[str]]) -> None:
    """readcfgfile()'s shift: ``default`` leaves the last word duplicated."""
    assert apply_modifier(words) == want


def test_has_listener() -> None:
    """``-c`` exits 2 when no enabled proxy listens."""
    assert has_listener(parsed("server s1 127.0.0.1:80"))
    assert not has_listener(parsed("disabled", "server s1 127.0.0.1:80"))


def test_parse_reads_files_and_stops_on_abort(tmp_path: Path) -> None:
    """ERR_ABORT ends the run after "Error(s) found", without the final line and
    without reading the next file; a missing file is reported alone."""
    first, second = tmp_path / "a.cfg", tmp_path / "b.cfg"
    first.write_text("listen\n")
    second.write_text("foo\n")
    diag = Diagnostics()
    assert parse([str(first), str(second)], diag, env={}) is None
    assert diag.texts(Level.ALERT) == [
        f"parsing [{first}:1] : 'listen' expects an <id> argument",
        f"Error(s) found in configuration file : {first}",
    ]
    diag = Diagnostics()
    assert parse([str(tmp_path / "nope.cfg")], diag, env={}) is None
    assert diag.texts() == [
        f"Cannot open configuration file/directory {tmp_path}/nope.cfg : No such file or directory"
    ]


def test_parse_sets_haproxy_cfgfiles(tmp_path: Path) -> None:
    path = tmp_path / "a.cfg"
    path.write_text(LISTEN + "    server s1 127.0.0.1:80\n")
    env: dict[str, str] = {}
    assert parse([str(path)], Diagnostics(), env=env) is not None
    assert env["HAPROXY_CFGFILES"] == str(path)


# -- namespaces (root and ``ip`` needed) -----------------------------------------------------


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace that exists for the duration of the test."""
    ip = shutil.which("ip")
    if ip is None:
        pytest.skip("no 'ip' command")
    name = f"hm{uuid.uuid4().hex[:8]}"
    made = subprocess.run([ip, "netns", "add", name], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.decode().strip()}")
    try:
        yield name
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True, check=False)


@pytest.mark.netns
def test_namespace_that_exists(netns: str, tmp_path: Path) -> None:
    """An existing namespace is accepted on server and bind lines (spec §1.5)."""
    check_herdsman(case("namespace", listen(f"server s1 127.0.0.1:80 namespace {netns}")), tmp_path)
    check_herdsman(
        case("bind-namespace", listen(f"bind :18001 namespace {netns}", "server s1 127.0.0.1:80")),
        tmp_path,
    )
    config = parsed(f"server s1 127.0.0.1:80 namespace {netns}")
    assert proxy(config).servers[0].namespace == netns


@pytest.mark.netns
def test_default_server_namespace_is_not_copied(netns: str) -> None:
    """2.6 quirk: a namespace on default-server is checked but not copied to servers."""
    config = parsed(f"default-server namespace {netns}", "server s1 127.0.0.1:80")
    assert proxy(config).servers[0].namespace is None


def test_namespace_missing(tmp_path: Path) -> None:
    check_herdsman(
        case(
            "namespace-missing",
            listen("default-server namespace hm-no-such-ns", "server s1 127.0.0.1:80"),
            "[F:8] : Cannot open namespace 'hm-no-such-ns'.",
            *FATAL_PARSE,
        ),
        tmp_path,
    )
