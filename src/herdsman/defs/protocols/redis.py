"""``option redis-check``: PING, then expect ``+PONG`` (spec §7.1, ``proxy_parse_redis_check_opt()``)."""

from __future__ import annotations

from herdsman.defs.rules import (
    ExpectKind,
    ExpectRule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat

REQUEST = b"*1\r\n$4\r\nPING\r\n"
RESPONSE = b"+PONG\r\n"


def ruleset() -> Ruleset:
    """Implicit connect, send PING, expect ``+PONG`` anywhere in the reply.

    A reply without it fails with L7STS and its first line as the info.
    """
    return Ruleset(
        RulesetKind.REDIS,
        [
            SendRule(SendKind.STRING, REQUEST),
            ExpectRule(
                ExpectKind.STRING,
                RESPONSE,
                RESPONSE.decode(),
                error_status=Status.L7STS,
                on_error=LogFormat("%[res.payload(0,0),cut_crlf]"),
                on_success=LogFormat("Redis server is ok"),
            ),
        ],
        name="*redis-check",
    )
