"""herdsman's own commands, beyond HAProxy's (docs/runtime.md):

* ``show servers history [<b>/<s>]``: each server's last check and agent
  results and its state transitions with their causes (``admin/history.py``);
* ``check now <b>/<s> [verbose]``: run one health check at once and print
  each of its steps and its verdict, without applying the result.
"""

from __future__ import annotations

from collections.abc import Callable

from herdsman.admin.api.cli import PERMISSION_DENIED, Command, Later, Level, Session, arg
from herdsman.admin.api.context import Api


def _history(api: Api, session: Session, args: list[str], payload: str | None) -> str:
    spec = arg(args, 3)
    if spec:
        srv = api.find_server(spec)
        if isinstance(srv, str):
            return srv
        return api.history.render(srv.backend.name, srv.name)
    return "".join(
        api.history.render(be.name, srv.name)
        for px in api.proxies()
        if (be := api.registry.backends.get(px.name)) is not None
        for srv in be.servers
    )


def _check_now(api: Api, session: Session, args: list[str], payload: str | None) -> str | Later:
    if not session.allows(Level.OPER):
        return PERMISSION_DENIED
    srv = api.find_server(arg(args, 2))
    if isinstance(srv, str):
        return srv
    if srv.check is None:
        return "Health check was not configured on this server.\n"
    verbose = arg(args, 3) == "verbose"
    server = srv

    def start(done: Callable[[str], None]) -> None:
        api.operator.check_now(
            server, verbose, lambda steps: done("".join(f"{s}\n" for s in steps))
        )

    return Later(start)


COMMANDS: list[Command[Api]] = [
    Command(
        ("show", "servers", "history"),
        "show servers history [<bk>/<srv>]       : herdsman: last check results and state "
        "changes of each server",
        _history,
    ),
    Command(
        ("check", "now"),
        "check now <bk>/<srv> [verbose]          : herdsman: run a health check now and show "
        "its steps",
        _check_now,
    ),
]
