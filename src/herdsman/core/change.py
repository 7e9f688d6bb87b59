"""A server's weight or maxconn changed from text, as an agent or the runtime API sends it
(``server.c`` 2.6: ``server_parse_weight_change_request()``,
``server_parse_maxconn_change_request()``; spec §9.2, §13.3, §13.4).

Each returns None when the change was applied (through ``core/transitions.py``)
or HAProxy's message when it was refused, character for character: some end
with a newline, which an agent's "agent warns : ..." info then carries
(logged as ``<0A>``).
"""

from __future__ import annotations

from herdsman.core import transitions
from herdsman.core.backend import Server
from herdsman.core.events import Cause

_LONG_MAX = (1 << 63) - 1
_SPACES = " \t\n\v\f\r"


def strtol(text: str) -> tuple[int, str]:
    """C ``strtol(text, &end, 10)``: the value and the rest; no digits leaves the whole text."""
    i = len(text) - len(text.lstrip(_SPACES))
    sign = 1
    if text[i : i + 1] in ("+", "-"):
        sign = -1 if text[i] == "-" else 1
        i += 1
    j = i
    while j < len(text) and "0" <= text[j] <= "9":
        j += 1
    if j == i:
        return 0, text
    value = sign * int(text[i:j])
    return max(-_LONG_MAX - 1, min(_LONG_MAX, value)), text[j:]


def weight_change(srv: Server, text: str, cause: Cause = Cause.OPERATOR) -> str | None:
    """``server_parse_weight_change_request()``: ``N`` (absolute) or ``N%`` (of the initial weight)."""
    if not text:
        return "Require <weight> or <weight%>.\n"
    w, end = strtol(text)
    if end == text:
        return "Empty weight string empty or preceded by garbage"
    if end == "%":
        if w < 0:
            return "Relative weight must be positive.\n"
        w = min(256, srv.iweight * min(w, 25600) // 100)
    elif w < 0 or w > 256:
        return "Absolute weight can only be between 0 and 256 inclusive.\n"
    elif end:
        return "Trailing garbage in weight string"
    if w and w != srv.iweight and not srv.backend.algo.dynamic:
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    transitions.set_weight(srv, w, cause)
    return None


def maxconn_change(srv: Server, text: str, cause: Cause = Cause.OPERATOR) -> str | None:
    """``server_parse_maxconn_change_request()``: a new maxconn (an unsigned int, as in C)."""
    if not text:
        return "Require <maxconn>.\n"
    v, end = strtol(text)
    if end == text:
        return "maxconn string empty or preceded by garbage"
    if end:
        return "Trailing garbage in maxconn string"
    transitions.set_maxconn(srv, v & 0xFFFFFFFF, cause)
    return None
