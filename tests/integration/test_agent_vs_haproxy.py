"""Agent checks side by side with haproxy 2.6.12 (spec §9, §11).

A scripted agent on loopback answers each connection with the next reply of
a sequence. haproxy and herdsman check it with ``option log-health-checks``;
their log lines must be the same, and so must the server's state after each
reply (operational state, admin flags, weight, maxconn), read from
``show servers state``/``show stat`` for haproxy and ``server_state()`` for
herdsman when the agent's next connection arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from herdsman.testing import Haproxy, Syslog, free_port, normalise_duration, running

State = tuple[int, int, int, int]  # op state, admin flags, user weight, maxconn


class ScriptedAgent:
    """Reads ``request`` (what ``agent-send`` should send), answers the n-th
    connection with ``replies[n]`` (the last reply once the sequence is over),
    then closes. Records what it read and the states ``probe()`` reads when
    each connection arrives (the previous reply applied)."""

    def __init__(
        self, replies: list[bytes], probe: Callable[[], State | None], request: bytes
    ) -> None:
        self.replies = list(replies)
        self.probe = probe
        self.request = request
        self.states: list[State | None] = []
        self.received: list[bytes] = []
        self.done = asyncio.Event()
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.states.append(self.probe())
        n = len(self.states) - 1
        if n >= len(self.replies):
            # the sequence is over: the last reply again changes nothing more
            self.done.set()
            n = len(self.replies) - 1
        if self.request:
            got = await asyncio.wait_for(reader.readexactly(len(self.request)), 5)
        else:
            # without agent-send nothing comes (the agent speaks first): look
            # for 50 ms, half the check's timeout
            try:
                got = await asyncio.wait_for(reader.read(4096), 0.05)
            except TimeoutError:
                got = b""
        self.received.append(got)
        writer.write(self.replies[n])
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def config(log: int, agent: int, balance: str, extra: str = "", sock: str = "") -> str:
    stats = f"    stats socket {sock} level admin\n" if sock else ""
    return (
        f"global\n    log 127.0.0.1:{log} format raw local0\n{stats}"
        "defaults\n    mode tcp\n    log global\n    option log-health-checks\n"
        # timeout check: a reply may come late on a busy machine (the agent
        # waits 50 ms for a request that never comes) and still count
        "    timeout connect 1s\n    timeout check 2s\n"
        "    timeout client 5s\n    timeout server 5s\n"
        f"listen L\n    bind 127.0.0.1:{free_port()}\n    balance {balance}\n"
        f"    server s1 127.0.0.1:9 weight 10 maxconn 10 agent-check agent-port {agent}"
        f" agent-inter 100ms{extra}\n"
    )


def _ask(sock: str, command: str) -> str:
    data = b""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(command.encode() + b"\n")
        while chunk := s.recv(65536):
            data += chunk
    return data.decode()


def haproxy_state(sock: str) -> State | None:
    try:
        state = _ask(sock, "show servers state L").splitlines()
        stat = _ask(sock, "show stat").splitlines()
    except OSError:
        return None
    srv = next(line.split() for line in state if " s1 " in line)
    slim = next(line.split(",")[6] for line in stat if line.startswith("L,s1,"))
    return int(srv[5]), int(srv[6]), int(srv[7]), int(slim or 0)


@contextlib.asynccontextmanager
async def program(
    name: str, replies: list[bytes], balance: str, extra: str, tmp: str
) -> AsyncIterator[tuple[ScriptedAgent, Syslog]]:
    log = Syslog()
    sock = f"{tmp}/stats.sock"
    holder: list[Callable[[], State | None]] = []
    request = b"hello\n" if "agent-send" in extra else b""
    agent = ScriptedAgent(replies, lambda: holder[0]() if holder else None, request)
    await agent.start()
    try:
        if name == "haproxy":
            with Haproxy(config(log.port, agent.port, balance, extra, sock)).start():
                holder.append(lambda: haproxy_state(sock))
                yield agent, log
        else:
            async with running(config(log.port, agent.port, balance, extra)) as hm:

                def probe() -> State:
                    st = hm.server_state("L/s1")
                    return int(st.state), int(st.admin), st.uweight, st.maxconn

                holder.append(probe)
                yield agent, log
    finally:
        await agent.stop()
        log.close()


async def run(
    name: str, replies: list[bytes], balance: str, extra: str, tmp: str
) -> tuple[list[str], list[State | None], list[bytes]]:
    async with program(name, replies, balance, extra, tmp) as (agent, log):
        await asyncio.wait_for(agent.done.wait(), 20)
        # state lines only: a stray connection to the frontend (another test run on
        # this machine) would add haproxy's traffic log line "Connect from ..."
        lines = [normalise_duration(line) for line in log.poll() if not line.startswith("Connect")]
        # the first probe may run before haproxy's stats socket is up
        return lines, agent.states[1:], agent.received[: len(replies)]


SEQUENCE = [
    b"up\n",
    b"75%\n",
    b"maxconn:30\n",
    b"drain\n",
    b"ready\n",
    b"down #going away\n",
    b"up\n",
    b"maint\n",
    b"ready\n",
    b"75%,maxconn:30,maint,down\n",
    b"READY UP\n",
    b"garbage words 50%\n",
    b"50%x\n",
    b"UP # fine, thanks\n",
    b"up",  # incomplete: the previous status stays
    b"",  # nothing at all
    b"0%\n",
    b"up 100%\n",
    b"maxconn:\n",
    b"down maxconn:12x\n",
    b"up\tmaxconn:-1\r\n",
    b"fail\x00\n",  # a NUL before the end of the line: incomplete
    b"stopped 10%, drain\n",
    b"ready,up,maxconn:10 trailing # \xe9t\xe9\n",
]

STATIC = [
    b"up\n",
    b"50%\n",
    b"down 50%\n",
    b"up 0%\n",
    b"ready 100% up\n",
    b"200% up\n",
]


@pytest.mark.haproxy
@pytest.mark.parametrize(
    ("name", "replies", "balance", "extra"),
    [
        ("dynamic", SEQUENCE, "roundrobin", ""),
        ("static", STATIC, "static-rr", ' agent-send "hello\\n"'),
    ],
)
async def test_same_lines_and_states_as_haproxy(
    name: str, replies: list[bytes], balance: str, extra: str, tmp_path: str
) -> None:
    theirs = await run("haproxy", replies, balance, extra, str(tmp_path))
    mine = await run("herdsman", replies, balance, extra, str(tmp_path))
    for part, ours, haproxys in zip(("lines", "states", "received"), mine, theirs, strict=True):
        diff = difflib.unified_diff(list(map(repr, haproxys)), list(map(repr, ours)), lineterm="")
        assert ours == haproxys, f"{part}:\n" + "\n".join(diff)
