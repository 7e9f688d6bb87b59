"""What a check run has read (``check->bi``), for the tcp-check interpreter
(``tcpcheck.py``): one input buffer of ``tune.bufsize`` (16384) bytes, raw for
tcp-check or fed to an HTTP response parser for an HTTP check.

The buffer is shared by consecutive expects and emptied by each send and
connect. Data beyond a full buffer is kept aside, as HAProxy leaves it in the
socket, and becomes readable once a send empties the buffer.
"""

from __future__ import annotations

from herdsman.checks.http_response import ResponseParser
from herdsman.sample.logformat import BUFSIZE

_NO_RESPONSE = ResponseParser()  # stands for the parser of non-HTTP checks: never fed


class InputBuffer:
    """One run's input: ``raw`` (tcp-check) or ``resp`` (HTTP), plus what did not fit."""

    __slots__ = ("http", "raw", "resp", "_backlog", "_got")

    def __init__(self, http: bool) -> None:
        self.http = http
        self.raw = bytearray()
        self.resp = _NO_RESPONSE  # an HTTP response parser per request, HTTP only
        self._backlog = bytearray()
        self._got = 0  # bytes added to the buffer since the last read (cur_read)

    def connecting(self) -> None:
        """A new connection: nothing read, nothing kept aside."""
        self._backlog.clear()
        self._restart(False)

    def sending(self, head_request: bool) -> None:
        """A send empties the buffer; what a full buffer kept aside is readable now."""
        self._restart(head_request)
        self._fill()

    def _restart(self, head_request: bool) -> None:
        self.raw.clear()
        if self.http:
            self.resp = ResponseParser(head_request=head_request)
        self._got = 0

    def received(self, data: bytes) -> None:
        self._backlog += data
        self._fill()

    def eof(self) -> None:
        if self.http:
            self.resp.eof()

    def _fill(self) -> None:
        """Move data kept aside into the buffer, up to its size."""
        if not self._backlog:
            return
        room = BUFSIZE - self._used()
        if room <= 0:
            return
        chunk = bytes(self._backlog[:room])
        del self._backlog[:room]
        if self.http:
            self.resp.feed(chunk)
        else:
            self.raw += chunk
        self._got += len(chunk)

    def _used(self) -> int:
        return self.resp.received if self.http else len(self.raw)

    def took(self) -> int:
        """Bytes added since the last call (``tcpcheck_eval_recv()``'s read)."""
        got, self._got = self._got, 0
        return got

    def buffered(self) -> bool:
        return bool(self._used())

    def full(self) -> bool:
        return self._used() >= BUFSIZE

    def room(self) -> int:
        """How many more bytes are worth reading now: HAProxy reads no further
        than a full buffer, the rest waits in the socket."""
        return max(BUFSIZE - self._used() - len(self._backlog), 0)


__all__ = ["InputBuffer"]
