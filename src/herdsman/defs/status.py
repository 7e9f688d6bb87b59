"""Check statuses, character for character as ``src/check.c check_statuses[]``.

The order of the enum matters: HAProxy compares statuses numerically, e.g.
"status >= L57DATA" means "layer 5-7 data is available, a numeric code is
meaningful" (spec §4.8), and agent failures only count at or above it (§4.3).
"""

from __future__ import annotations

import enum


class Result(enum.Enum):
    """``CHK_RES_*``: what a finished check means for the health counter."""

    UNKNOWN = "unknown"
    NEUTRAL = "neutral"
    FAILED = "failed"
    PASSED = "passed"
    CONDPASS = "condpass"


class Status(enum.IntEnum):
    """``enum healthcheck_status`` (``include/haproxy/check-t.h``)."""

    UNKNOWN = 0
    INI = 1
    START = 2
    CHECKED = 3
    HANA = 4
    SOCKERR = 5
    L4OK = 6
    L4TOUT = 7
    L4CON = 8
    L6OK = 9
    L6TOUT = 10
    L6RSP = 11
    L7TOUT = 12
    L7RSP = 13
    L57DATA = 14
    L7OK = 15  # HCHK_STATUS_L7OKD
    L7OKC = 16  # HCHK_STATUS_L7OKCD
    L7STS = 17
    PROCERR = 18
    PROCTOUT = 19
    PROCOK = 20

    @property
    def result(self) -> Result:
        return _TABLE[self][0]

    @property
    def short(self) -> str:
        """The short text shown in stats (``check_status``)."""
        return _TABLE[self][1]

    @property
    def description(self) -> str:
        """The long text used as ``reason:`` in log lines."""
        return _TABLE[self][2]

    @property
    def has_code(self) -> bool:
        """Statuses above L57DATA carry a numeric code (HTTP status, exit code...)."""
        return self > Status.L57DATA

    @classmethod
    def parse(cls, short: str) -> Status:
        """Look a status up by its short text (``ok-status L7OKC`` etc.)."""
        for st, (_, text, _) in _TABLE.items():
            if text == short:
                return st
        raise KeyError(short)


_TABLE: dict[Status, tuple[Result, str, str]] = {
    Status.UNKNOWN: (Result.UNKNOWN, "UNK", "Unknown"),
    Status.INI: (Result.UNKNOWN, "INI", "Initializing"),
    Status.START: (Result.UNKNOWN, "", ""),
    Status.CHECKED: (Result.NEUTRAL, "CHECKED", "No status change"),
    Status.HANA: (Result.FAILED, "HANA", "Health analyze"),
    Status.SOCKERR: (Result.FAILED, "SOCKERR", "Socket error"),
    Status.L4OK: (Result.PASSED, "L4OK", "Layer4 check passed"),
    Status.L4TOUT: (Result.FAILED, "L4TOUT", "Layer4 timeout"),
    Status.L4CON: (Result.FAILED, "L4CON", "Layer4 connection problem"),
    Status.L6OK: (Result.PASSED, "L6OK", "Layer6 check passed"),
    Status.L6TOUT: (Result.FAILED, "L6TOUT", "Layer6 timeout"),
    Status.L6RSP: (Result.FAILED, "L6RSP", "Layer6 invalid response"),
    Status.L7TOUT: (Result.FAILED, "L7TOUT", "Layer7 timeout"),
    Status.L7RSP: (Result.FAILED, "L7RSP", "Layer7 invalid response"),
    Status.L57DATA: (Result.UNKNOWN, "", ""),
    Status.L7OK: (Result.PASSED, "L7OK", "Layer7 check passed"),
    Status.L7OKC: (Result.CONDPASS, "L7OKC", "Layer7 check conditionally passed"),
    Status.L7STS: (Result.FAILED, "L7STS", "Layer7 wrong status"),
    Status.PROCERR: (Result.FAILED, "PROCERR", "External check error"),
    Status.PROCTOUT: (Result.FAILED, "PROCTOUT", "External check timeout"),
    Status.PROCOK: (Result.PASSED, "PROCOK", "External check passed"),
}


class HanaEvent(enum.IntEnum):
    """Passive health events (``analyze_statuses[]``, spec §4.7)."""

    UNKNOWN = 0
    L4_OK = 1
    L4_ERR = 2
    HTTP_OK = 3
    HTTP_STS = 4
    HTTP_HDRRSP = 5
    HTTP_RSP = 6
    HTTP_READ_ERROR = 7
    HTTP_READ_TIMEOUT = 8
    HTTP_BROKEN_PIPE = 9

    @property
    def description(self) -> str:
        return _HANA[self][0]

    def effect(self, layer: int) -> int:
        """0 ignore, 1 error, 2 OK, for ``observe layer4`` (4) or ``layer7`` (7)."""
        return _HANA[self][1][0 if layer == 4 else 1]


_HANA: dict[HanaEvent, tuple[str, tuple[int, int]]] = {
    HanaEvent.UNKNOWN: ("Unknown", (0, 0)),
    HanaEvent.L4_OK: ("L4 successful connection", (2, 0)),
    HanaEvent.L4_ERR: ("L4 unsuccessful connection", (1, 1)),
    HanaEvent.HTTP_OK: ("Correct http response", (0, 2)),
    HanaEvent.HTTP_STS: ("Wrong http response", (0, 1)),
    HanaEvent.HTTP_HDRRSP: ("Invalid http response (headers)", (0, 1)),
    HanaEvent.HTTP_RSP: ("Invalid http response", (0, 1)),
    HanaEvent.HTTP_READ_ERROR: ("Read error (http)", (0, 1)),
    HanaEvent.HTTP_READ_TIMEOUT: ("Read timeout (http)", (0, 1)),
    HanaEvent.HTTP_BROKEN_PIPE: ("Close from server (http)", (0, 1)),
}
