"""HAProxy's CLI protocol without sockets (admin/api/cli.py): requests, prompts, payloads.

Each exchange is fed whole and byte by byte; both must give the same bytes.
The expected bytes are 2.6.12's (compared with the binary in
tests/integration/test_stats_socket.py).
"""

from __future__ import annotations

import pytest

from herdsman.admin.api.cli import (
    Cli,
    Command,
    Conversation,
    Later,
    Level,
    Session,
    split_words,
)


def echo(api: object, s: Session, args: list[str], payload: str | None) -> str:
    return " ".join(args) + (f" [{payload}]" if payload is not None else "") + "\n"


def admin_only(api: object, s: Session, args: list[str], payload: str | None) -> str:
    return "Permission denied\n" if not s.allows(Level.ADMIN) else "done\n"


def later(api: object, s: Session, args: list[str], payload: str | None) -> Later:
    return Later(lambda done: done("late\n"))


def simple(api: object, s: Session, args: list[str], payload: str | None) -> str:
    if args[0] == "prompt":
        s.prompt = not s.prompt
    else:
        s.quit = True
    return ""


COMMANDS: list[Command[object]] = [
    Command(("show", "info"), "show info [desc|json|typed|float]*      : report information", echo),
    Command(("show", "stat"), "show stat [desc|json|no-maint|typed|up]*: report counters", echo),
    Command(
        ("set", "server"), "set server <bk>/<srv> [opts]            : change a server", admin_only
    ),
    Command(("check", "now"), None, later),
    Command(("prompt",), None, simple),
    Command(("quit",), None, simple),
]


def talk(data: bytes, level: Level = Level.ADMIN, bytewise: bool = False) -> tuple[bytes, bool]:
    conv = Conversation(Cli(object(), COMMANDS), Session(level=level))
    out = b""
    closed = False
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for chunk in chunks:
        res = conv.feed(chunk)
        out += res.data
        while res.pending is not None:
            box: list[str] = []
            res.pending.start(box.append)
            res = conv.resume(box[0])
            out += res.data
        closed = closed or res.close
        if closed:
            break
    return out, closed


@pytest.mark.parametrize("bytewise", [False, True])
@pytest.mark.parametrize(
    ("request_", "answer", "closed"),
    [
        # one command, then the connection ends (non-interactive)
        (b"show info\n", b"show info\n\n", True),
        # CRLF is accepted
        (b"show info typed\r\n", b"show info typed\n\n", True),
        # ';' separates commands; both run, each followed by its LF
        (b"show info; show stat json\n", b"show info\n\nshow stat json\n\n", True),
        # an escaped ';' is part of the word
        (b"show info a\\;b\n", b"show info a;b\n\n", True),
        # interactive: "\n> " after each answer, the connection stays
        (b"prompt\nshow info\n", b"\n> show info\n\n> ", False),
        (b"prompt\nquit\n", b"\n> ", True),
        # a payload after "<<" ends with an empty line
        (b"show stat <<\nl1\nl2\n\n", b"show stat [l1\nl2]\n\n", True),
        (b"prompt\nshow stat <<\nx\n\n", b"\n> + + show stat [x]\n\n> ", False),
        # a deferred answer keeps the order
        (b"check now; show info\n", b"late\n\nshow info\n\n", True),
    ],
)
def test_exchanges(request_: bytes, answer: bytes, closed: bool, bytewise: bool) -> None:
    if bytewise and b";" in request_ and b"\\;" not in request_:
        # out of interactive mode, a command that has not arrived when the one
        # before is answered is never read (HAProxy closes on an empty buffer)
        answer = answer[: answer.index(b"\n\n") + 2]
    assert talk(request_, bytewise=bytewise) == (answer, closed)


def test_incomplete_line_at_eof_is_not_run() -> None:
    """co_getdelim() finds no LF: the command is dropped when the client shuts."""
    conv = Conversation(Cli(object(), COMMANDS), Session())
    assert conv.feed(b"show info").data == b""
    out = conv.eof()
    assert (out.data, out.close) == (b"", True)


def test_a_partial_second_command_keeps_the_connection() -> None:
    conv = Conversation(Cli(object(), COMMANDS), Session())
    out = conv.feed(b"show info\nshow st")
    assert (out.data, out.close) == (b"show info\n\n", False)
    out = conv.feed(b"at\n")
    assert (out.data, out.close) == (b"show stat\n\n", True)


def test_levels_are_checked_by_the_command() -> None:
    assert talk(b"set server b/s state maint\n", Level.USER)[0] == b"Permission denied\n\n"
    assert talk(b"set server b/s state maint\n", Level.ADMIN)[0] == b"done\n\n"


@pytest.mark.parametrize(
    ("line", "words", "payload"),
    [
        ("  show   stat  ", ["show", "stat"], False),
        ("a\\ b c", ["a b", "c"], False),
        ("a\\\\b", ["a\\b"], False),
        ("add map m <<", ["add", "map", "m"], True),
        ("x\t\ty", ["x", "y"], False),
    ],
)
def test_split_words(line: str, words: list[str], payload: bool) -> None:
    assert split_words(line) == (words, payload)


def test_help_lists_commands_sorted_then_the_fixed_three() -> None:
    out, _ = talk(b"help\n")
    assert out == (
        b"The following commands are valid at this level:\n"
        b"  set server <bk>/<srv> [opts]            : change a server\n"
        b"  show info [desc|json|typed|float]*      : report information\n"
        b"  show stat [desc|json|no-maint|typed|up]*: report counters\n"
        b"  help [<command>]                        : list matching or all commands\n"
        b"  prompt                                  : toggle interactive mode with prompt\n"
        b"  quit                                    : disconnect\n\n"
    )


def test_unknown_command_lists_the_closest() -> None:
    out, _ = talk(b"show foo\n")
    assert out.startswith(
        b"Unknown command, but maybe one of the following ones is a better match:\n"
    )
    assert b"  show info" in out
    assert b"set server" not in out


def test_empty_line_lists_everything() -> None:
    out, _ = talk(b"\n")
    assert out.startswith(b"Unknown command. Please enter one of the following commands only:\n")
    assert b"  set server" in out
