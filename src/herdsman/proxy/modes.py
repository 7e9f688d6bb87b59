"""Which stream serves a frontend's connections, by ``mode`` (the frontend does not know).

HTTP mode plugs in here without touching the TCP relay.
"""

from __future__ import annotations

from herdsman.config.model import Mode
from herdsman.proxy.frontend import StreamFactory
from herdsman.proxy.tcp import TcpStream

STREAMS: dict[Mode, StreamFactory] = {Mode.TCP: TcpStream}


def stream_factory(mode: Mode) -> StreamFactory | None:
    """The stream class for ``mode``, or None when herdsman does not serve it yet."""
    return STREAMS.get(mode)
