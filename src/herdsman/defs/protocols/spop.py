"""``option spop-check``: a SPOP HAPROXY-HELLO with ``healthcheck`` (spec §7.7).

``proxy_parse_spop_check_opt()``, ``tcpcheck_spop_expect_agenthello()`` and,
from ``flt_spoe.c``, ``spoe_prepare_healthcheck_request()`` and
``spoe_handle_healthcheck_response()``: the agent must answer an AGENT-HELLO
with a supported version (2.0) and a max-frame-size it may use; a
disconnection or an invalid frame fails with L7RSP and SPOE's reason text.
"""

from __future__ import annotations

from herdsman.defs.rules import (
    ExpectKind,
    ExpectRule,
    Ruleset,
    RulesetKind,
    SendKind,
    SendRule,
)
from herdsman.sample.logformat import BUFSIZE

MAX_FRAME_SIZE = BUFSIZE - 4  # global.tune.bufsize - 4
MIN_FRAME_SIZE = 256
HAPROXY_HELLO, AGENT_HELLO, AGENT_DISCON = 1, 101, 102
FLAG_FIN = 1
T_BOOL, T_INT32, T_UINT32, T_INT64, T_UINT64, T_IPV4, T_IPV6, T_STR, T_BIN = range(1, 10)
INTEGERS = (T_INT32, T_UINT32, T_INT64, T_UINT64)
FL_TRUE = 0x10

# spoe_frm_err_reasons[], by SPOE_FRM_ERR_* code
NORMAL, IO, TOUT, TOO_BIG, INVALID, NO_VSN, NO_FRAME_SIZE, NO_CAP = range(8)
BAD_VSN, BAD_FRAME_SIZE, FRAG_NOT_SUPPORTED, INTERLACED, FRAMEID_NOTFOUND, RES = range(8, 14)
UNKNOWN, ERRS = 99, 100
REASONS = {
    NORMAL: "normal",
    IO: "I/O error",
    TOUT: "a timeout occurred",
    TOO_BIG: "frame is too big",
    INVALID: "invalid frame received",
    NO_VSN: "version value not found",
    NO_FRAME_SIZE: "max-frame-size value not found",
    NO_CAP: "capabilities value not found",
    BAD_VSN: "unsupported version",
    BAD_FRAME_SIZE: "max-frame-size too big or too small",
    FRAG_NOT_SUPPORTED: "fragmentation not supported",
    INTERLACED: "invalid interlaced frames",
    FRAMEID_NOTFOUND: "frame-id not found",
    RES: "resource allocation error",
    UNKNOWN: "an unknown error occurred",
}


def varint(i: int) -> bytes:
    """``encode_varint()``: 7 bits per byte after a first byte of 4 (values >= 240)."""
    if i < 240:
        return bytes([i])
    out = bytearray([(i & 0xFF) | 240])
    i = (i - 240) >> 4
    while i >= 128:
        out.append((i & 0xFF) | 128)
        i = (i - 128) >> 7
    out.append(i)
    return bytes(out)


def _string(text: bytes) -> bytes:
    """``spoe_encode_buffer()``: varint length, then the bytes."""
    return varint(len(text)) + text


def request() -> bytes:
    """The HAPROXY-HELLO frame of a health check, with its 4-byte length."""
    frame = (
        bytes([HAPROXY_HELLO])
        + FLAG_FIN.to_bytes(4, "big")
        + b"\x00\x00"  # no stream-id, no frame-id
        + _string(b"supported-versions")
        + bytes([T_STR])
        + _string(b"2.0")
        + _string(b"max-frame-size")
        + bytes([T_UINT32])
        + varint(MAX_FRAME_SIZE)
        + _string(b"capabilities")
        + bytes([T_STR])
        + _string(b"")
        + _string(b"healthcheck")
        + bytes([T_BOOL | FL_TRUE])
    )
    return len(frame).to_bytes(4, "big") + frame


def ruleset() -> Ruleset:
    """Implicit connect, the hello, the agent's answer (4 bytes at least)."""
    return Ruleset(
        RulesetKind.SPOP,
        [
            SendRule(SendKind.BINARY, request()),
            ExpectRule(ExpectKind.CUSTOM, min_recv=4, custom="tcpcheck_spop_expect_agenthello"),
        ],
        name="*spop-check",
    )
