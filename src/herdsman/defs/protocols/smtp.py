"""``option smtpchk [HELO|EHLO <domain>]`` (spec §7.4, ``proxy_parse_smtpchk_opt()``).

A 2xx greeting, HELO/EHLO and a 2xx reply (all of its lines), then QUIT and a
2xx reply: 2.6.12 has the graceful QUIT of 2.7 (HAProxy commits 2ec1ffaed
and 9a8d8a3fd, backported), which the 2.6.0 text of the spec lacks; the
success info and code are those of the reply to QUIT. The expressions are
anchored at the start of the buffer, so a multi-line greeting (``220-...``)
fails the first rule.
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

DEFAULT_COMMAND = b"HELO localhost"
_FIRST_LINE = "%[res.payload(0,0),cut_crlf]"
_TEXT = "%[res.payload(4,0),ltrim(' '),cut_crlf]"  # the reply after its code
_CODE = "res.payload(0,3)"
QUIT = b"QUIT\r\n"


def _expect(
    pattern: str,
    error: Status,
    on_error: str,
    *,
    code: bool,
    on_success: str | None = None,
    min_recv: int = 4,
) -> ExpectRule:
    return ExpectRule(
        ExpectKind.RSTRING,
        re.compile(pattern.encode()),
        pattern,
        min_recv=min_recv,
        error_status=error,
        on_error=LogFormat(on_error),
        on_success=LogFormat(on_success) if on_success is not None else None,
        status_code=_CODE if code else None,
    )


def ruleset(command: bytes = DEFAULT_COMMAND) -> Ruleset:
    """``connect default linger``, greeting, ``<command>\\r\\n``, reply, ``QUIT``, reply."""
    return Ruleset(
        RulesetKind.SMTP,
        [
            ConnectRule(default=True, linger=True),
            _expect("^[0-9]{3}[ \r]", Status.L7RSP, _FIRST_LINE, code=False),
            _expect("^2[0-9]{2}[ \r]", Status.L7STS, _TEXT, code=True),
            SendRule(SendKind.STRING, command + b"\r\n"),
            # every line of a multi-line reply; no min-recv: waits for more on a mismatch
            _expect(
                "^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]",
                Status.L7STS,
                _TEXT,
                code=True,
                on_success=_TEXT,
                min_recv=-1,
            ),
            SendRule(SendKind.STRING, QUIT),
            _expect("^2[0-9]{2}[- \r]", Status.L7STS, _TEXT, code=True, on_success=_TEXT),
        ],
        name="*smtp-check",
    )
