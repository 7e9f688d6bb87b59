"""``option ldap-check``: an anonymous LDAPv3 bind (spec §7.5).

``proxy_parse_ldap_check_opt()`` and ``tcpcheck_ldap_expect_bindrsp()``.
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
from herdsman.sample.logformat import LogFormat

# BindRequest, messageID 1, version 3, empty name, simple authentication, empty password
REQUEST = bytes.fromhex("300C020101600702010304008000")
NOT_LDAP = "Not LDAPv3 protocol"
RFC_RESULT = "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"


def ruleset() -> Ruleset:
    """Implicit connect, the bind, a BER SEQUENCE of 14 bytes or more, the BindResponse."""
    return Ruleset(
        RulesetKind.LDAP,
        [
            SendRule(SendKind.BINARY, REQUEST),
            ExpectRule(
                ExpectKind.RBINARY,
                re.compile(b"^30"),
                "^30",
                min_recv=14,
                on_error=LogFormat(NOT_LDAP),
            ),
            ExpectRule(ExpectKind.CUSTOM, custom="tcpcheck_ldap_expect_bindrsp"),
        ],
        name="*ldap-check",
    )
