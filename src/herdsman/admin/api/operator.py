"""What the runtime API needs from the rest of the process, given at construction.

``admin/`` may not import the data path (``proxy/``) or the checks
(``checks/``): the few commands that act on them (creating the checks of an
added server, pausing a frontend's listeners, listing live streams, running
a check now) reach them through one ``Operator`` the runtime builds. Without
a runtime (tests of the command layer, embedders) ``NullOperator`` answers
that nothing is there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from herdsman.core.backend import Server


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One live client stream, as ``show sess`` prints it."""

    ident: int  # the session id ("0x..." in show sess)
    proto: str  # tcpv4, tcpv6, unix_stream
    src: str  # "ip:port", or "unix:<listener id>"
    frontend: str
    backend: str  # "<NONE>" when there is none
    server: str  # "<none>" before a server was chosen
    age_s: int


class Operator(Protocol):
    """The runtime's side of the commands that touch checks, listeners and streams."""

    def attach_checks(self, srv: Server) -> None:
        """``add server``: create the server's configured checks, disabled, first run one
        interval from now (``start_check_task(..., 0, 1, 1)``)."""
        ...

    def detach_checks(self, srv: Server) -> None:
        """``del server``: stop and forget the server's checks."""
        ...

    def pause_frontend(self, name: str) -> None:
        """``disable frontend``: stop accepting (the backlog is kept)."""
        ...

    def resume_frontend(self, name: str) -> None:
        """``enable frontend``, or a raised ``maxconn``: accept again."""
        ...

    def stop_frontend(self, name: str) -> None:
        """``shutdown frontend``: close its listeners for good; live streams go on."""
        ...

    def streams(self) -> list[StreamInfo]:
        """Every live client stream, oldest first (``show sess``)."""
        ...

    def kill_stream(self, ident: int) -> bool:
        """``shutdown session``: abort one stream; False when it does not exist."""
        ...

    def check_now(self, srv: Server, verbose: bool, report: Callable[[list[str]], None]) -> None:
        """Run one check of ``srv`` at once; ``report`` gets its steps when it ends."""
        ...


class NullOperator:
    """No runtime behind the commands: no checks to create, no listeners, no streams."""

    def attach_checks(self, srv: Server) -> None:
        pass

    def detach_checks(self, srv: Server) -> None:
        pass

    def pause_frontend(self, name: str) -> None:
        pass

    def resume_frontend(self, name: str) -> None:
        pass

    def stop_frontend(self, name: str) -> None:
        pass

    def streams(self) -> list[StreamInfo]:
        return []

    def kill_stream(self, ident: int) -> bool:
        return False

    def check_now(self, srv: Server, verbose: bool, report: Callable[[list[str]], None]) -> None:
        report(["no check runner in this process"])
