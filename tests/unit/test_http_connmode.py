"""Connection modes and the Connection headers each side gets (spec §3.1).

The expectations are the 2.6.12 binary's: tests/http_diff/test_connmode_haproxy.py
runs the whole frontend x backend x pretend-keepalive matrix through it and
compares with these functions.
"""

from __future__ import annotations

import pytest

from herdsman.http import Flag, Framing, Method
from herdsman.http.connmode import (
    Mode,
    client_wants_close,
    combine,
    request_connection,
    response_connection,
    server_keeps_alive,
    server_wants_close,
)

V11 = Flag.VER_11


@pytest.mark.parametrize(
    ("fe", "be", "mode"),
    [(fe, be, max(fe, be)) for fe in Mode for be in Mode],
)
def test_table(fe: Mode, be: Mode, mode: Mode) -> None:
    assert combine(fe, be) is mode


@pytest.mark.parametrize(
    ("flags", "close"),
    [
        (V11, False),
        (Flag.NONE, True),
        (Flag.CONN_KEEPALIVE, False),
        (V11 | Flag.CONN_CLOSE, True),
        (V11 | Flag.CONN_KEEPALIVE | Flag.CONN_CLOSE, True),
    ],
)
def test_client_side(flags: Flag, close: bool) -> None:
    assert client_wants_close(flags) is close
    assert client_wants_close(flags, frontend_stopping=True)


@pytest.mark.parametrize(
    ("fe", "be", "flags", "pretend", "header"),
    [
        (Mode.KAL, Mode.KAL, V11, False, None),
        (Mode.KAL, Mode.KAL, Flag.NONE, False, b"keep-alive"),
        (Mode.KAL, Mode.SCL, V11, False, b"close"),
        (Mode.KAL, Mode.SCL, Flag.NONE, False, None),
        (Mode.SCL, Mode.KAL, V11, False, b"close"),
        (Mode.KAL, Mode.CLO, V11, True, None),
        (Mode.CLO, Mode.KAL, Flag.NONE, True, b"keep-alive"),
        (Mode.KAL, Mode.KAL, V11 | Flag.UPGRADE_TOKEN, False, None),
        (Mode.KAL, Mode.CLO, V11 | Flag.UPGRADE_TOKEN, False, None),
    ],
)
def test_request_header(
    fe: Mode, be: Mode, flags: Flag, pretend: bool, header: bytes | None
) -> None:
    close = server_wants_close(flags, fe, be)
    assert request_connection(flags, close, pretend) == header


def test_server_close_rules() -> None:
    assert not server_wants_close(V11, Mode.KAL, Mode.KAL)
    assert server_wants_close(V11, Mode.KAL, Mode.KAL, backend_stopping=True)
    assert server_wants_close(Flag.XFER_ENC, Mode.KAL, Mode.KAL)  # TE with HTTP/1.0
    assert server_wants_close(V11 | Flag.XFER_ENC, Mode.KAL, Mode.KAL, meth=Method.CONNECT)
    assert not server_wants_close(V11 | Flag.XFER_ENC, Mode.KAL, Mode.KAL)


@pytest.mark.parametrize(
    ("flags", "framing", "keeps"),
    [
        (V11, Framing.LENGTH, True),
        (Flag.NONE, Framing.LENGTH, False),
        (Flag.CONN_KEEPALIVE, Framing.LENGTH, True),
        (V11 | Flag.CONN_CLOSE, Framing.LENGTH, False),
        (V11, Framing.CLOSE, False),
    ],
)
def test_server_reuse(flags: Flag, framing: Framing, keeps: bool) -> None:
    assert server_keeps_alive(False, flags, framing) is keeps
    assert not server_keeps_alive(True, flags, framing)


@pytest.mark.parametrize(
    ("req", "resp", "framing", "fe", "result"),
    [
        (V11, V11, Framing.LENGTH, Mode.KAL, (None, False)),
        (V11, Flag.NONE, Framing.LENGTH, Mode.KAL, (b"keep-alive", False)),
        (Flag.CONN_KEEPALIVE, V11, Framing.LENGTH, Mode.KAL, (b"keep-alive", False)),
        (Flag.NONE, V11, Framing.LENGTH, Mode.KAL, (b"close", True)),
        (Flag.NONE, Flag.NONE, Framing.LENGTH, Mode.KAL, (None, True)),
        (V11, V11, Framing.CLOSE, Mode.KAL, (b"close", True)),
        (V11, Flag.NONE, Framing.CLOSE, Mode.KAL, (None, True)),
        (V11, V11, Framing.LENGTH, Mode.CLO, (b"close", True)),
        (V11, V11, Framing.LENGTH, Mode.SCL, (None, False)),
        (V11, Flag.XFER_ENC, Framing.CHUNKED, Mode.KAL, (None, True)),  # TE with HTTP/1.0
        (Flag.NONE, Flag.UPGRADE_TOKEN, Framing.LENGTH, Mode.KAL, (None, True)),
    ],
)
def test_response_header(
    req: Flag, resp: Flag, framing: Framing, fe: Mode, result: tuple[bytes | None, bool]
) -> None:
    got = response_connection(200, Method.GET, req, resp, framing, client_wants_close(req), fe)
    assert got == result


def test_informational_and_tunnels_get_no_header() -> None:
    for status in (100, 101, 103):
        assert response_connection(status, Method.GET, Flag.NONE, V11, Framing.NONE, True) == (
            None,
            False,
        )
    assert response_connection(200, Method.CONNECT, V11, V11, Framing.TUNNEL, False) == (
        None,
        False,
    )


def test_replies() -> None:
    """HAProxy's 400 says "Connection: close"; a reply to an unfinished request closes."""
    assert response_connection(
        400, Method.GET, V11, V11, Framing.LENGTH, False, reply_close=True
    ) == (b"close", True)
    assert response_connection(502, Method.GET, V11, V11, Framing.LENGTH, False) == (None, False)
    assert response_connection(
        504, Method.GET, V11, V11, Framing.LENGTH, False, request_pending=True
    ) == (b"close", True)
