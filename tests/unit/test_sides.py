"""proxy/sides.py without sockets: each rule of HAProxy 2.6.12 on virtual time.

A ``Recorder`` side logs the effects it is asked for; a test moves time by
calling ``expire()`` at the stream's next deadline, as the relay's timer
does. The same scenarios run against real peers and haproxy in
tests/integration/test_tcp_timeouts.py.
"""

from __future__ import annotations

import itertools

import pytest

from herdsman.proxy.sides import PROGRESS, Side, expire, next_deadline, propagate, start_tunnel


class Recorder(Side):
    __slots__ = ("log", "buffered")

    def __init__(self, is_server: bool, timeout: float | None = None) -> None:
        super().__init__(is_server)
        self.rto = self.wto = timeout
        self.log: list[str] = []
        self.buffered = 0

    def _stop_reading(self) -> None:
        self.log.append("stop reading")

    def _send_fin(self) -> None:
        self.log.append("fin")

    def _close(self, fin: bool, rst: bool, discard: bool) -> None:
        words = ["fin"] * fin + ["rst"] * rst + ["discard"] * discard
        self.log.append("close" + "".join(f" {w}" for w in words))

    def _buffered(self) -> int:
        return self.buffered


def pair(client: float | None, server: float | None) -> tuple[Recorder, Recorder]:
    return Recorder(False, client), Recorder(True, server)


def run_until(c: Recorder, s: Recorder | None, end: float) -> list[tuple[float, str, str]]:
    """Fire the timer at each deadline up to ``end``; what each side did, and when."""
    seen = {id(c): len(c.log), id(s): len(s.log) if s is not None else 0}
    out: list[tuple[float, str, str]] = []
    while (due := next_deadline(c, s)) is not None and due <= end:
        expire(c, s, due)
        for side in (c, s):
            if side is not None:
                out += [
                    (round(due, 3), "cs"[side.is_server], e) for e in side.log[seen[id(side)] :]
                ]
                seen[id(side)] = len(side.log)
    return out


class TestIdle:
    """Each direction times out on its own timer; a socket closes when both of its directions are shut."""

    def test_client_timeout_shorter(self) -> None:
        c, s = pair(0.1, 0.4)
        assert run_until(c, s, 1) == [
            (0.1, "c", "stop reading"),
            (0.1, "s", "fin"),
            (0.4, "c", "close fin"),
            (0.4, "s", "close rst"),  # its FIN was sent at 0.1; no FIN came from it
        ]

    def test_server_timeout_shorter(self) -> None:
        c, s = pair(0.4, 0.1)
        assert run_until(c, s, 1) == [
            (0.1, "c", "fin"),
            (0.1, "s", "stop reading"),
            (0.4, "c", "close"),
            (0.4, "s", "close fin rst"),
        ]

    def test_same_timeouts(self) -> None:
        c, s = pair(0.2, 0.2)
        assert run_until(c, s, 1) == [
            (0.2, "c", "stop reading"),
            (0.2, "c", "close fin"),
            (0.2, "s", "stop reading"),
            (0.2, "s", "close fin rst"),
        ]

    def test_no_timeout_no_timer(self) -> None:
        c, s = pair(None, None)
        assert next_deadline(c, s) is None

    @pytest.mark.parametrize(
        ("client", "server"), list(itertools.product([0.1, 0.2, 0.4], repeat=2))
    )
    def test_every_socket_closes_once(self, client: float, server: float) -> None:
        c, s = pair(client, server)
        run_until(c, s, 10)
        for side in (c, s):
            assert side.closed
            assert sum(e.startswith("close") for e in side.log) == 1

    def test_without_client_timeout_the_client_side_stays(self) -> None:
        c, s = pair(None, 0.1)
        assert run_until(c, s, 10) == [(0.1, "c", "fin"), (0.1, "s", "stop reading")]


class TestActivity:
    """Reads refresh a side's read timer; writes to it too, unless independent-streams."""

    def test_writes_refresh_the_read_timer(self) -> None:
        c, s = pair(0.2, 0.4)
        for t in (0.1, 0.2, 0.3, 0.4, 0.5):  # the client sends, the relay writes to the server
            c.last_read = s.last_write = t
        assert run_until(c, s, 2) == [
            (0.7, "c", "stop reading"),
            (0.7, "s", "fin"),
            (0.9, "c", "close fin"),
            (0.9, "s", "close rst"),
        ]

    def test_independent_streams(self) -> None:
        c, s = pair(0.2, 0.4)
        s.indep = True
        for t in (0.1, 0.2, 0.3):
            c.last_read = s.last_write = t
        assert run_until(c, s, 0.45) == [(0.4, "c", "fin"), (0.4, "s", "stop reading")]

    def test_paused_side_has_no_read_timer(self) -> None:
        c = Recorder(False, 0.2)
        c.pause()
        assert c.read_deadline() is None
        assert c.resume(1.0)
        assert c.read_deadline() == pytest.approx(1.2)


class TestHalfClose:
    """A side shut for writing switches to its -fin timeout, restarted then."""

    def test_client_fin_applies_after_the_server_fin(self) -> None:
        c, s = pair(1.0, 1.0)
        c.hcto = 0.2
        s.read0()  # at 0.1
        propagate(c, s, 0.1)
        assert c.log == ["fin"]
        assert run_until(c, s, 2) == [(0.3, "c", "close"), (0.3, "s", "close")]

    def test_client_fin_not_after_the_client_fin(self) -> None:
        c, s = pair(1.0, 0.4)
        c.hcto = 0.1
        c.read0()
        propagate(c, s, 0.1)
        assert s.log == ["fin"]
        assert run_until(c, s, 2) == [(0.4, "c", "close"), (0.4, "s", "close rst")]

    def test_server_fin(self) -> None:
        c, s = pair(1.0, 1.0)
        s.hcto = 0.2
        c.read0()
        propagate(c, s, 0.1)
        assert run_until(c, s, 2) == [(0.3, "c", "close"), (0.3, "s", "close rst")]

    def test_both_fins(self) -> None:
        c, s = pair(None, None)
        c.read0()
        propagate(c, s, 0.1)
        s.read0()
        propagate(c, s, 0.2)
        # the server's FIN came: no reset; the client's came first: no shutdown()
        assert (c.log, s.log) == (["close"], ["fin", "close"])


class TestTunnel:
    def test_idle_tunnel_ends_by_write_timeouts(self) -> None:
        c, s = pair(0.1, 0.1)
        start_tunnel(c, s, 0.4, None, None, 0.0)
        assert run_until(c, s, 1) == [
            (0.4, "c", "stop reading"),
            (0.4, "c", "close discard"),
            (0.4, "s", "close rst discard"),
        ]

    def test_io_clears_the_tunnel_write_timer(self) -> None:
        c, s = pair(0.1, 0.1)
        start_tunnel(c, s, 0.4, None, None, 0.0)
        c.last_read = s.last_write = 0.1
        assert run_until(c, s, 1) == [
            (0.5, "c", "stop reading"),
            (0.5, "c", "close fin"),
            (0.5, "s", "stop reading"),
            (0.5, "s", "close fin rst"),
        ]

    def test_fin_timeouts_of_directions_already_shut(self) -> None:
        c, s = pair(1.0, 1.0)
        c.read0()
        s.shutw(0.0)
        start_tunnel(c, s, 0.4, 0.1, 0.2, 0.0)
        assert (c.wto, s.rto, c.rto, s.wto) == (0.1, 0.2, 0.4, 0.4)


class TestCloses:
    def test_client_reset_aborts_the_server(self) -> None:
        c, s = pair(1.0, 1.0)
        c.fail()
        propagate(c, s, 0.1)
        assert s.log == ["close rst"]

    def test_server_reset_closes_the_client(self) -> None:
        c, s = pair(1.0, 1.0)
        s.fail()
        propagate(c, s, 0.1)
        assert c.log == ["stop reading", "close fin"]

    def test_backend_nolinger_aborts_at_the_first_shutdown(self) -> None:
        c, s = pair(1.0, 1.0)
        s.nolinger = True
        c.read0()
        propagate(c, s, 0.1)
        assert (c.log, s.log) == (["close"], ["close rst"])

    def test_nolinger_after_the_server_fin_is_a_plain_close(self) -> None:
        c, s = pair(1.0, 1.0)
        s.nolinger = True
        s.read0()
        propagate(c, s, 0.1)
        c.read0()
        propagate(c, s, 0.2)
        assert s.log == ["close"]


class TestWriteTimeout:
    """A stuck output times out unless the kernel takes some of it meanwhile."""

    def test_stuck_server(self) -> None:
        c, s = pair(1.0, 0.3)
        s.buffered = 1000
        c.pause()  # not read: the server's output is full
        s.stuck(0.1)
        s.last_write = 0.1
        assert run_until(c, s, 2) == [
            (0.4, "c", "stop reading"),
            (0.4, "c", "close fin"),
            (0.4, "s", "close rst discard"),
        ]

    def test_progress_restarts_it(self) -> None:
        c, s = pair(1.0, 0.32)
        s.buffered = 1000
        c.pause()
        s.stuck(0.0)
        step = 0.32 * PROGRESS
        expire(c, s, step)
        s.buffered = 500  # the kernel took some between 0.02 and 0.04
        expire(c, s, 2 * step)
        assert s.w_since == pytest.approx(2 * step)
        assert run_until(c, s, 2)[-1] == (pytest.approx(2 * step + 0.32), "s", "close rst discard")

    def test_drained(self) -> None:
        s = Recorder(True, 0.3)
        s.stuck(0.1)
        s.unstuck()
        assert s.write_deadline() is None


def test_connecting_only_the_client_read_timer() -> None:
    c = Recorder(False, 0.1)
    assert run_until(c, None, 1) == [(0.1, "c", "stop reading")]
    assert not c.closed


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=6)))
def test_one_pass_of_propagate_is_enough(flags: tuple[bool, ...]) -> None:
    """Whatever the flags, a second pass finds nothing left to do."""
    c, s = pair(1.0, 1.0)
    c.shut_r, c.shut_w, s.shut_r, s.shut_w, c.failed, s.eof = flags
    propagate(c, s, 0.0)
    before = (c.log[:], s.log[:], c.shut_r, c.shut_w, s.shut_r, s.shut_w)
    propagate(c, s, 0.0)
    assert (c.log, s.log, c.shut_r, c.shut_w, s.shut_r, s.shut_w) == before
