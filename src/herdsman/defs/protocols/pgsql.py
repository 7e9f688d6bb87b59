"""``option pgsql-check user <name>`` (spec §7.3, ``proxy_parse_pgsql_check_opt()``).

A StartupMessage for the user; any authentication request of an accepted
kind passes: codes 0 (ok), 2, 3, 4, 5 (MD5), 6, 7, 9 and 10 (SASL, hence
SCRAM-SHA-256, the default since PostgreSQL 14), of any length. That is
2.6.12 (HAProxy commit 0d6fb7a3e, backported); 2.6.0, which the spec
describes, accepted lengths 8 to 12 and codes 0 and 2 to 6 only, and so
failed SCRAM servers.
"""

from __future__ import annotations

import re

from herdsman.defs.rules import (
    ConnectRule,
    ExpectKind,
    ExpectRule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.defs.status import Status
from herdsman.sample.logformat import LogFormat

_AUTH_REQUEST = "^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)"


def request(user: bytes) -> bytes:
    """StartupMessage: length, protocol 3.0, ``user`` = <user>, terminator."""
    body = b"\x00\x03\x00\x00" + b"user\x00" + user + b"\x00" + b"\x00"
    return (4 + len(body)).to_bytes(4, "big") + body


def ruleset(user: bytes) -> Ruleset:
    """``connect default linger``, the StartupMessage, no ErrorResponse, an auth request."""
    return Ruleset(
        RulesetKind.PGSQL,
        [
            ConnectRule(default=True, linger=True),
            SendRule(SendKind.BINARY, request(user)),
            ExpectRule(
                ExpectKind.RSTRING,
                re.compile(b"^E"),
                "^E",
                inverse=True,
                min_recv=5,
                error_status=Status.L7RSP,
                # the first field of the ErrorResponse, as a C string: "FATAL"
                on_error=LogFormat("%[res.payload(6,0)]"),
            ),
            ExpectRule(
                ExpectKind.RBINARY,
                re.compile(_AUTH_REQUEST.encode()),
                _AUTH_REQUEST,
                min_recv=9,
                error_status=Status.L7STS,
                on_success=LogFormat("PostgreSQL server is ok"),
                on_error=LogFormat("PostgreSQL unknown error"),
            ),
        ],
        name="*pgsql-check",
    )
