"""The stats socket against HAProxy 2.6.12, in the same test: same configuration, same
commands, the answers compared byte for byte, with only what differs by nature
masked (pids, uptimes, dates, memory, limits derived from the machine).
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Callable

import pytest

from herdsman.admin.api.names import STAT_FIELDS
from herdsman.testing import Haproxy, cli_command, free_port, running, unix_listening, wait_for

pytestmark = pytest.mark.haproxy


def config(sockdir: str, fe_port: int, dead: int, ok_port: int) -> str:
    return f"""\
global
    maxconn 1000
    stats socket {sockdir}/admin.sock level admin
    stats socket {sockdir}/oper.sock
    stats socket {sockdir}/user.sock level user
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:{fe_port}
    default_backend be
backend be
    server s1 127.0.0.1:{dead} check inter 1m
    server s2 127.0.0.1:{ok_port}
    server s3 127.0.0.1:{ok_port} disabled
    server s4 127.0.0.1:{ok_port} backup weight 5
    server s5 127.0.0.1:{ok_port} track s1
backend be2
    balance source
    server a [::1]:{ok_port} id 7
listen L
    bind 127.0.0.1:{fe_port + 1}
    server x 127.0.0.1:{ok_port}
"""


# show stat columns that differ by nature: lastchg, downtime, check_duration, need_conn_est
_MASKED_STAT = {23, 24, 38, 98}


def diff_csv(h: str, m: str) -> list[tuple[str, str, str, str, str]]:
    """(proxy, object, column, haproxy's, herdsman's) for every masked difference."""
    hr, mr = mask_csv(h), mask_csv(m)
    names = [c.lstrip("# ") for c in hr[0]]
    out = []
    for hrow, mrow in zip(hr[1:], mr[1:], strict=False):
        for i, (a, b) in enumerate(zip(hrow, mrow, strict=False)):
            if a != b:
                out.append((hrow[0], hrow[1], names[i], a, b))
    if len(hr) != len(mr):
        out.append(("rows", "", "", str(len(hr)), str(len(mr))))
    return out


def mask_csv(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        cols = line.split(",")
        if not line.startswith("#"):
            for pos in _MASKED_STAT:
                idx = pos if pos < 103 else pos + 1
                if idx < len(cols) and cols[idx]:
                    cols[idx] = "*"
        rows.append(cols)
    return rows


def mask_typed(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        m = re.match(r"^([FBSL])\.(\d+)\.(\d+)\.(\d+)\.", line)
        if m and int(m.group(4)) in _MASKED_STAT:
            line = line.rsplit(":", 1)[0] + ":*"
        out.append(line)
    return out


def mask_json(text: str) -> str:
    for pos in _MASKED_STAT:
        name = STAT_FIELDS[pos][0]
        text = re.sub(
            rf'("pos":{pos},"name":"{name}"\}},.*?"value":\{{"type":"\w+","value":)[^}}]*',
            r"\1*",
            text,
        )
    return text


def mask_state(text: str) -> list[list[str]]:
    rows = [line.split(" ") for line in text.splitlines()]
    for cols in rows[2:]:
        if len(cols) > 9:
            cols[9] = "*"  # srv_time_since_last_change
    return rows


_INFO_MASKED = {
    "Version", "Release_date", "Nbthread", "Pid", "Uptime", "Uptime_sec", "Ulimit-n", "Maxsock",
    "Maxconn", "Hard_maxconn", "PoolAlloc_MB", "PoolUsed_MB", "PoolAlloc_bytes",
    "PoolUsed_bytes", "Tasks", "Run_queue", "Idle_pct", "node", "Jobs", "Listeners",
    "TotalBytesOut", "BytesOutRate", "Build info", "Start_time_sec", "CumConns", "CumReq",
}  # fmt: skip


def mask_info(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        name, sep, _ = line.partition(": ")
        out.append(f"{name}: *" if sep and name in _INFO_MASKED else line)
    return out


class Pair:
    """The same configuration run by haproxy and by herdsman, each with its own sockets."""

    def __init__(self) -> None:
        self.hdir = tempfile.mkdtemp(prefix="hm-stats-h-")
        self.mdir = tempfile.mkdtemp(prefix="hm-stats-m-")

    def ask(self, cmd: str, sock: str = "admin") -> tuple[str, str]:
        h = cli_command(os.path.join(self.hdir, f"{sock}.sock"), cmd)
        m = cli_command(os.path.join(self.mdir, f"{sock}.sock"), cmd)
        return h, m


async def with_pair(test: Callable[[Pair], None]) -> None:
    pair = Pair()
    dead, ok_port = free_port(), free_port()
    h_port, m_port = free_port(), free_port()
    free_port()  # fe_port + 1 is the listen section's
    srv = await asyncio.start_server(lambda r, w: w.close(), "::", ok_port)
    try:
        with Haproxy(config(pair.hdir, h_port, dead, ok_port)) as hx:
            hx.start(h_port)
            async with running(config(pair.mdir, m_port, dead, ok_port)):
                # both have run s1's first check (connection refused) and marked it DOWN

                def both_down() -> None:
                    def down() -> bool:
                        h, m = pair.ask("show servers state be")
                        return all(" s1 127.0.0.1 0 " in x for x in (h, m))

                    wait_for(down)

                # in a thread: herdsman answers on this test's event loop
                await asyncio.to_thread(both_down)
                await asyncio.to_thread(test, pair)
    finally:
        srv.close()


async def test_show_stat_csv_typed_json_match_haproxy() -> None:
    def test(pair: Pair) -> None:
        h, m = pair.ask("show stat")
        assert diff_csv(h, m) == []
        assert mask_csv(m) == mask_csv(h)
        h, m = pair.ask("show stat typed")
        assert mask_typed(m) == mask_typed(h)
        h, m = pair.ask("show stat json")
        assert mask_json(m) == mask_json(h)
        for cmd in ("show stat -1 4 -1 up", "show stat be 2 -1", "show stat 3 -1 -1 no-maint"):
            h, m = pair.ask(cmd)
            assert mask_csv(m) == mask_csv(h), cmd
        # at level user, the address and algorithm legends are hidden
        h, m = pair.ask("show stat", "user")
        assert mask_csv(m) == mask_csv(h)

    await with_pair(test)


async def test_show_servers_state_and_info_match_haproxy() -> None:
    def test(pair: Pair) -> None:
        h, m = pair.ask("show servers state")
        assert mask_state(m) == mask_state(h)
        h, m = pair.ask("show servers state be2")
        assert mask_state(m) == mask_state(h)
        h, m = pair.ask("show backend")
        assert m == h
        h, m = pair.ask("show info")
        assert mask_info(m) == mask_info(h)
        # the rate limits the listeners apply, as show info reports them
        assert pair.ask("set rate-limit connections global 100") == ("\n", "\n")
        assert pair.ask("set rate-limit sessions global 7") == ("\n", "\n")
        h, m = pair.ask("show info")
        assert "ConnRateLimit: 100" in m.splitlines()
        assert "SessRateLimit: 7" in m.splitlines()
        assert mask_info(m) == mask_info(h)

    await with_pair(test)


COMMANDS = [
    ("user", "set server be/s2 state maint"),
    ("user", "clear counters"),
    ("oper", "set weight be/s2 10"),
    ("oper", "clear counters all"),
    ("admin", "set server be/s2"),
    ("admin", "set server be/s2 state foo"),
    ("admin", "set server be/s2 health foo"),
    ("admin", "set server be/s5 health up"),
    ("admin", "set server be/s2 agent up"),
    ("admin", "set server be/s2 agent-send foo"),
    ("admin", "set server be/s2 fqdn example.com"),
    ("admin", "set server be/s2 check-port 80"),
    ("admin", "set server be/s1 check-port 99999"),
    ("admin", "set server be/s1 check-addr foo"),
    ("admin", "set server bex/s2 state ready"),
    ("admin", "set server be/sx state ready"),
    ("admin", "set server be state ready"),
    ("admin", "get weight be/s4"),
    ("admin", "set weight be/s2 300"),
    ("admin", "set weight be/s2 -5%"),
    ("admin", "set weight be/s2 x"),
    ("admin", "set weight be/s2 5x"),
    ("admin", "set weight be/s2"),
    ("admin", "set weight be2/a 2"),
    ("admin", "set maxconn server be/s2 x"),
    ("admin", "set maxconn server be/s2 5x"),
    ("admin", "set maxconn frontend nope 5"),
    ("admin", "set maxconn global"),
    ("admin", "set rate-limit foo global 5"),
    ("admin", "set rate-limit connections global -1"),
    ("admin", "set rate-limit sessions global"),
    ("admin", "enable agent be/s2"),
    ("admin", "enable health be/s2"),
    ("admin", "enable frontend fe"),
    ("admin", "experimental-mode"),
    ("admin", "show servers state nope"),
    ("admin", "show stat nope 1 1"),
    ("admin", "shutdown session"),
    ("admin", "add server be2/n 127.0.0.1:80"),
    ("admin", "add server be/s2 127.0.0.1:80"),
    ("admin", "add server be/n 127.0.0.1:80 cookie c"),
    ("admin", "add server be/n"),
    ("admin", "add server be"),
    ("admin", "del server be/s2"),
    ("admin", "del server be/s1"),
    ("admin", "del server be/nope"),
    ("admin", "show cli level"),
    ("oper", "show cli level"),
    ("admin", "set server be/s2 addr 127.0.0.2 port 81"),
    ("admin", "set server be/s2 addr 127.0.0.2"),
    ("admin", "set weight be/s2 50%"),
    ("admin", "get weight be/s2"),
]


SSL_RATE_LINE = "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"


async def test_answers_match_haproxy() -> None:
    def test(pair: Pair) -> None:
        wrong = []
        for sock, cmd in COMMANDS:
            h, m = pair.ask(cmd, sock)
            # herdsman is a build without OpenSSL: no SSL rate limit to offer
            h = h.replace(SSL_RATE_LINE, "")
            if m != h:
                wrong.append((sock, cmd, h, m))
        assert wrong == []
        # every line of herdsman's help that is HAProxy's is HAProxy's, word for word
        h, m = pair.ask("help")
        extensions = [line for line in m.splitlines() if line not in h.splitlines()]
        assert all(": herdsman:" in line for line in extensions), extensions
        h, m = pair.ask("set server be/s2 state drain; show servers state be")
        assert mask_state(m) == mask_state(h)

    await with_pair(test)


async def test_a_stats_socket_alone_is_a_listener(tmp_path: object) -> None:
    """A configuration whose only listener is the stats socket starts (2.6.12: -c says
    valid, exit 0)."""
    import subprocess
    import sys

    sock = os.path.join(tempfile.mkdtemp(prefix="hm-alone-"), "s.sock")
    text = f"global\n    stats socket {sock}\nbackend b\n    server s 127.0.0.1:1\n"
    path = os.path.join(tempfile.mkdtemp(prefix="hm-alone-"), "h.cfg")
    with open(path, "w") as f:
        f.write(text)
    results = [
        subprocess.run([*prog, "-c", "-f", path], capture_output=True, text=True)
        for prog in (["haproxy"], [sys.executable, "-m", "herdsman"])
    ]
    h, m = ((r.returncode, r.stdout) for r in results)
    assert m == h == (0, "Warnings were found.\nConfiguration file is valid\n")
    proc = subprocess.Popen([sys.executable, "-m", "herdsman", "-db", "-f", path])
    try:
        wait_for(lambda: unix_listening(sock) or proc.poll() is not None, timeout=10)
        assert proc.poll() is None
        assert cli_command(sock, "show backend\n") == "# name\nb\n\n"
    finally:
        proc.terminate()
        proc.wait(5)
