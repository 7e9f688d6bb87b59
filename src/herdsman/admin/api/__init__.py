"""The runtime API: HAProxy's CLI commands over a sans-IO protocol (``cli.py``).

``make_cli(api)`` assembles the command table; the stats socket server
(``admin/stats_socket.py``) feeds each connection's bytes to a
``Conversation`` built on it.
"""

from __future__ import annotations

from herdsman.admin.api import dynamic, extensions, info, process, servers, ssl, stat, state
from herdsman.admin.api.cli import Cli, Command
from herdsman.admin.api.context import Api


def make_cli(api: Api) -> Cli[Api]:
    commands: list[Command[Api]] = [
        *process.COMMANDS,
        *info.COMMANDS,
        *stat.COMMANDS,
        *state.COMMANDS,
        *servers.COMMANDS,
        *dynamic.COMMANDS,
        *ssl.COMMANDS,
        *extensions.COMMANDS,
    ]
    return Cli(api, commands)


__all__ = ["Api", "make_cli"]
