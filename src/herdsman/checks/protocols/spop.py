"""``option spop-check``'s expect: ``tcpcheck_spop_expect_agenthello()`` and, from
``flt_spoe.c``, ``spoe_handle_healthcheck_response()`` (spec §7.7).

The HAPROXY-HELLO frame and the ruleset are in ``defs/protocols/spop.py``.
"""

from __future__ import annotations

from herdsman.checks.custom import CUSTOM_EXPECTS
from herdsman.checks.target import CheckResult
from herdsman.defs.protocols.spop import (
    AGENT_DISCON,
    AGENT_HELLO,
    BAD_FRAME_SIZE,
    BAD_VSN,
    ERRS,
    FLAG_FIN,
    FRAG_NOT_SUPPORTED,
    INTEGERS,
    INVALID,
    MAX_FRAME_SIZE,
    MIN_FRAME_SIZE,
    NO_FRAME_SIZE,
    NO_VSN,
    NORMAL,
    REASONS,
    T_BIN,
    T_IPV4,
    T_IPV6,
    T_STR,
    UNKNOWN,
)
from herdsman.defs.status import Status


class _Invalid(Exception):
    """A decoding error, with its SPOE_FRM_ERR_* code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Reader:
    """``decode_varint()``, ``spoe_decode_buffer()``, ``spoe_skip_data()`` on a frame."""

    def __init__(self, frame: bytes, pos: int) -> None:
        self.frame = frame
        self.pos = pos

    @property
    def more(self) -> bool:
        return self.pos < len(self.frame)

    def byte(self) -> int:
        if not self.more:
            raise _Invalid(INVALID)
        self.pos += 1
        return self.frame[self.pos - 1]

    def varint(self) -> int:
        value = self.byte()
        if value < 240:
            return value
        shift = 4
        while True:
            b = self.byte()
            value += b << shift
            shift += 7
            if b < 128:
                return value

    def string(self) -> bytes:
        size = self.varint()
        if self.pos + size > len(self.frame):
            raise _Invalid(INVALID)
        self.pos += size
        return self.frame[self.pos - size : self.pos]

    def skip(self, kind: int) -> None:
        kind &= 0x0F
        if kind in INTEGERS:
            self.varint()
        elif kind in (T_IPV4, T_IPV6):
            size = 4 if kind == T_IPV4 else 16
            if self.pos + size > len(self.frame):
                raise _Invalid(INVALID)
            self.pos += size
        elif kind in (T_STR, T_BIN):
            self.string()


def _header(frame: bytes, kind: int) -> _Reader:
    """Type, FIN flag, no stream-id nor frame-id (the metadata of both agent frames)."""
    if not frame or frame[0] != kind or len(frame) < 7:
        raise _Invalid(INVALID)
    if not int.from_bytes(frame[1:5], "big") & FLAG_FIN:
        raise _Invalid(FRAG_NOT_SUPPORTED)
    if frame[5] or frame[6]:
        raise _Invalid(INVALID)
    return _Reader(frame, 7)


def _version(text: bytes) -> int:
    """``spoe_str_to_vsn()``: "MAJOR.MINOR" as 1000 * MAJOR + MINOR, -1 if invalid."""
    major, dot, minor = text.decode("latin-1").strip(" \t\r\n\v\f").partition(".")
    digits = "0123456789"
    if not dot or not major or not minor or major.strip(digits) or minor.strip(digits):
        return -1
    if not int(major) or int(minor) > 999:
        return -1
    return int(major) * 1000 + int(minor)


def _agent_hello(frame: bytes) -> None:
    """``spoe_handle_agenthello_frame()``: raises _Invalid unless the hello is usable."""
    rd = _header(frame, AGENT_HELLO)
    vsn = max_frame_size = 0
    while rd.more:
        key = rd.string()
        if not key:
            raise _Invalid(INVALID)
        if key.startswith(b"version"):
            if rd.byte() & 0x0F != T_STR:
                raise _Invalid(INVALID)
            vsn = _version(rd.string())
            if vsn != 2000:  # the supported versions: "2.0" only
                raise _Invalid(BAD_VSN)
        elif key.startswith(b"max-frame-size"):
            if rd.byte() & 0x0F not in INTEGERS:
                raise _Invalid(INVALID)
            size = rd.varint()
            if not MIN_FRAME_SIZE <= size <= MAX_FRAME_SIZE:
                raise _Invalid(BAD_FRAME_SIZE)
            max_frame_size = size
        elif key.startswith(b"capabilities"):
            if rd.byte() & 0x0F != T_STR:
                raise _Invalid(INVALID)
            rd.string()
        else:
            rd.skip(rd.byte())  # unknown items are ignored
    if not vsn:
        raise _Invalid(NO_VSN)
    if not max_frame_size:
        raise _Invalid(NO_FRAME_SIZE)


def _agent_discon(frame: bytes) -> int:
    """``spoe_handle_agentdiscon_frame()``: the status code the agent sent (0 if none)."""
    code = NORMAL
    try:
        rd = _header(frame, AGENT_DISCON)
        while rd.more:
            key = rd.string()
            if not key:
                return INVALID
            if key.startswith(b"status-code"):
                if rd.byte() & 0x0F not in INTEGERS:
                    return INVALID
                code = rd.varint()
            elif key.startswith(b"message"):
                if rd.byte() & 0x0F != T_STR or len(rd.string()) > 255:
                    return INVALID
            else:
                rd.skip(rd.byte())
    except _Invalid as err:
        return err.code
    return code


def healthcheck_response(frame: bytes) -> str | None:
    """``spoe_handle_healthcheck_response()``: None, or the reason of the failure.

    An agent's status code that 2.6 has no text for (14 to 98) makes 2.6.12
    copy from a NULL pointer; herdsman reports "an unknown error occurred".
    """
    if frame[:1] == bytes([AGENT_DISCON]):
        code = _agent_discon(frame)
    else:
        try:
            _agent_hello(frame)
            return None
        except _Invalid as err:
            code = err.code
    if code >= ERRS:
        code = UNKNOWN
    return REASONS.get(code, REASONS[UNKNOWN])


def expect_agenthello(data: bytes, last_read: bool, last_rule: bool) -> bool | CheckResult:
    """``tcpcheck_spop_expect_agenthello()``: the 4-byte length, the whole frame, its verdict."""
    framesz = int.from_bytes(data[:4], "big")
    if not last_read and len(data) < 4 + framesz:
        return False
    reason = healthcheck_response(data[4 : 4 + framesz])
    if reason is not None:
        return CheckResult(Status.L7RSP, None, reason)
    return CheckResult(Status.L7OK, 0, "SPOA server is ok")


CUSTOM_EXPECTS["tcpcheck_spop_expect_agenthello"] = expect_agenthello
