"""A server inside a network namespace, reached through ``namespace <name>`` (spec §1.5).

The test creates its own namespace with ``ip netns`` (root is available in CI),
brings its loopback up and starts a server inside it. The same address is not
reachable from the test's own namespace, so a successful relay proves that
herdsman connected from inside the namespace (and so did its health check).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest

from herdsman.core.states import SrvState
from herdsman.defs.proxyproto import PP2_SIGNATURE
from herdsman.testing import Haproxy, free_port, running, wait_for_async

pytestmark = pytest.mark.netns

SERVER = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        c.sendall(b"inside")
    except OSError:  # health checks reset their connections
        pass
    c.close()
"""


_SEQ = itertools.count()


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2")
    # a name of its own per test: the process's namespace store keeps what it opened
    name = f"hmtest{os.getpid()}_{next(_SEQ)}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


async def test_server_in_a_namespace_is_reached_through_it(netns: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c", SERVER, str(port)],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        # not reachable from here: the address only exists inside the namespace
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
        front = free_port()
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    bind 127.0.0.1:{front}\n"
            f"    server s 127.0.0.1:{port} namespace {netns} check inter 100ms\n"
        )
        async with running(text) as hm:
            srv = hm.server("L/s")
            chk = srv.check
            assert chk is not None
            await wait_for_async(lambda: chk.health == chk.rise + chk.fall - 1)
            assert srv.cur_state is SrvState.RUNNING
            reader, writer = await asyncio.open_connection("127.0.0.1", front)
            assert await asyncio.wait_for(reader.read(), 5) == b"inside"
            writer.close()
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


ECHO = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    try:
        got = b""
        while not got.endswith(b"hi"):  # the header may come in a segment of its own
            more = c.recv(4096)
            if not more:
                break
            got += more
        c.sendall(b"inside " + got.hex().encode())
    except OSError:
        pass
    c.close()
"""


def _v2(*tlvs: tuple[int, bytes]) -> bytes:
    body = bytes((9, 9, 9, 9, 8, 8, 8, 8)) + struct.pack("!HH", 1234, 80)
    body += b"".join(bytes((k,)) + struct.pack("!H", len(v)) + v for k, v in tlvs)
    return PP2_SIGNATURE + bytes((0x21, 0x11)) + struct.pack("!H", len(body)) + body


@pytest.mark.haproxy
async def test_netns_tlv_picks_the_namespace_of_star_servers_as_haproxy(netns: str) -> None:
    """``server ... namespace *`` connects from the namespace a PROXY header's NETNS
    TLV names, when the configuration names it too (the last such TLV wins), else
    from the bind line's (here the default one, where nothing listens: the
    connection fails); ``send-proxy-v2`` sends it on. The same bytes as 2.6.12."""
    port = free_port()
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c", ECHO, str(port)],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        plain, v2 = free_port(), free_port()
        text = (
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            f"    timeout server 5s\nlisten L\n    bind 127.0.0.1:{plain} accept-proxy\n"
            f"    server s 127.0.0.1:{port} namespace *\n"
            f"listen V\n    bind 127.0.0.1:{v2} accept-proxy\n"
            f"    server s 127.0.0.1:{port} namespace * send-proxy-v2\n"
            f"backend names\n    server n 127.0.0.1:1 namespace {netns} disabled\n"
        )
        name = netns.encode()
        headers = [
            _v2(),
            _v2((0x30, name)),
            _v2((0x30, b"nosuch")),
            _v2((0x30, name), (0x30, b"nosuch")),
            _v2((0x30, b"nosuch"), (0x30, name)),
        ]

        async def answers() -> list[bytes]:
            out = []
            for front in (plain, v2):
                for header in headers:
                    reader, writer = await asyncio.open_connection("127.0.0.1", front)
                    writer.write(header + b"hi")
                    out.append(await asyncio.wait_for(reader.read(), 5))
                    writer.close()
            return out

        async with running(text):
            mine = await answers()
        with Haproxy(text).start(plain):
            theirs = await answers()
        assert mine == theirs
        assert mine[:5] == [b"", b"inside 6869", b"", b"inside 6869", b"inside 6869"]
        # send-proxy-v2: the client's addresses, then the NETNS TLV
        assert mine[6].endswith(
            b"3000" + f"{len(name):02x}".encode() + name.hex().encode() + b"6869"
        )
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
