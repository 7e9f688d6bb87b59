"""``option ssl-hello-chk``: an SSLv3 ClientHello; any TLS record back passes (spec §7.6).

``proxy_parse_ssl_hello_chk_opt()``. The hello carries the current time, so
it is a log-format string evaluated at each run, as in HAProxy; a server
that answers with an alert (0x15) speaks SSL as well as one that answers
with a handshake (0x16).
"""

from __future__ import annotations

import re

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

# 39 common cipher suites: 0x0001-0x001B and 0x002F-0x003A
CIPHERS = [*range(0x01, 0x1C), *range(0x2F, 0x3B)]
RANDOM = b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n"  # 28 bytes
CLIENT_HELLO = "".join(
    [
        "16",  # record: handshake
        "0300",  # SSLv3
        "0079",  # 121 bytes follow
        "01",  # ClientHello
        "000075",  # 117 bytes follow
        "0300",  # hello version 3.0
        "%[date(),htonl,hex]",  # gmt_unix_time, at each run (offset 11)
        f"%[str({RANDOM.decode()}),hex]",  # random
        "00",  # no session id
        "004E",  # 78 bytes of cipher suites
        *(f"{c:04X}" for c in CIPHERS),
        "01",  # one compression method
        "00",  # null
    ]
)


def ruleset() -> Ruleset:
    """Implicit connect, the hello, a first byte 0x15 or 0x16 (L6OK / L6RSP / L6TOUT)."""
    return Ruleset(
        RulesetKind.SSL3,
        [
            SendRule(SendKind.BINARY_LF, fmt=LogFormat(CLIENT_HELLO)),
            ExpectRule(
                ExpectKind.RBINARY,
                re.compile(b"^1[56]"),
                "^1[56]",
                min_recv=5,
                ok_status=Status.L6OK,
                error_status=Status.L6RSP,
                tout_status=Status.L6TOUT,
            ),
        ],
        name="*ssl-hello-check",
    )
