"""A server inside a network namespace, reached through ``namespace <name>`` (spec §1.5).

The test creates its own namespace with ``ip netns`` (root is available in CI),
brings its loopback up and starts a server inside it. The same address is not
reachable from the test's own namespace, so a successful relay proves that
herdsman connected from inside the namespace (and so did its health check).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from herdsman.core.states import SrvState
from herdsman.testing import free_port, running, wait_for_async

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


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2")
    name = f"hmtest{os.getpid()}"
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
