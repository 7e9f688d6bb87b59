"""What a case produced, summarised so that two proxies can be compared.

``Outcome.forwarded``: every request the backend read (start line, header
names in lower case and values, de-chunked body length, trailer names), in
order, or what it could not read. ``Outcome.replies``: every response the
client read; a reply the proxy made itself (no ``x-backend`` header) keeps
its exact bytes, since HAProxy's error messages are compared byte for byte.
Header names are compared in lower case on purpose: HAProxy writes them in
lower case (HTX), herdsman as received (docs/http.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .wire import Message, NeedMore, Unreadable, read_request, read_response


@dataclass(frozen=True)
class ClientReply:
    message: Message | Unreadable
    raw: bytes = b""  # the bytes of a reply the proxy generated

    @property
    def status(self) -> int:
        return int(self.message.start[1]) if isinstance(self.message, Message) else -1


@dataclass(frozen=True)
class Outcome:
    forwarded: tuple[Message | Unreadable, ...]
    replies: tuple[ClientReply, ...]

    @property
    def statuses(self) -> tuple[int, ...]:
        return tuple(r.status for r in self.replies)

    def refused_but_forwarded(self, reference: Outcome) -> bool:
        """Did this proxy forward a request the reference refused (sent fewer of)?"""
        return len(self.forwarded) > len(reference.forwarded)

    def describe(self) -> str:
        lines = [f"  replies {list(self.statuses)}"]
        lines += [f"    {r.message}" + (f" raw={r.raw!r}" if r.raw else "") for r in self.replies]
        lines += [f"  forwarded {len(self.forwarded)}"]
        lines += [f"    {m}" for m in self.forwarded]
        return "\n".join(lines)


def record_stream(data: bytes) -> list[Message | Unreadable]:
    """What the recording backend reads from one connection's bytes (it closed after them)."""
    out: list[Message | Unreadable] = []
    buf = data
    while buf:
        try:
            msg, used = read_request(buf)
        except NeedMore:
            try:
                out.append(read_request(buf, eof=True)[0])
            except (NeedMore, ValueError) as exc:
                out.append(Unreadable(f"truncated: {exc}", buf))
            break
        except ValueError as exc:
            out.append(Unreadable(str(exc), buf))
            break
        out.append(msg)
        buf = buf[used:]
    return out


def summarize_replies(data: bytes, methods: list[str]) -> tuple[ClientReply, ...]:
    """The responses in the bytes a client received before the connection closed.

    ``methods`` are the methods of the requests forwarded, in order (a HEAD
    response has no body); replies past them answer an unforwarded request.
    """
    out: list[ClientReply] = []
    buf = data
    i = 0
    while buf:
        method = methods[i] if i < len(methods) else "GET"
        try:
            msg, used = read_response(buf, method, eof=True)
        except (NeedMore, ValueError) as exc:
            out.append(ClientReply(Unreadable(str(exc), buf)))
            break
        status = int(msg.start[1])
        generated = status >= 200 and not msg.header("x-backend")
        out.append(ClientReply(msg, buf[:used] if generated else b""))
        buf = buf[used:]
        if status >= 200 or status == 101:
            i += 1
    return tuple(out)


def outcome(client_bytes: bytes, forwarded: list[Message | Unreadable]) -> Outcome:
    methods = [m.start[0] for m in forwarded if isinstance(m, Message)]
    return Outcome(tuple(forwarded), summarize_replies(client_bytes, methods))
