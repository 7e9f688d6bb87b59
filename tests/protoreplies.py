"""What servers answer to protocol checks: the scripted replies of the protocol check tests.

Built from the protocols' documentation and from what the real servers sent
(MariaDB 10.11, PostgreSQL 15, Exim 4.96, OpenLDAP 2.5, OpenSSL 3.0 on Debian
12); the unit tests feed them to the rulesets, the integration tests serve
them to herdsman and haproxy alike.
"""

from __future__ import annotations

from herdsman.defs.protocols import spop

# -- MySQL / MariaDB ---------------------------------------------------------------------

MARIADB_VERSION = b"5.5.5-10.11.6-MariaDB-0+deb12u1"


def mysql_packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes([seq]) + payload


def mysql_handshake(version: bytes = MARIADB_VERSION) -> bytes:
    """Protocol 10 initial handshake, as MariaDB sends it on connect."""
    payload = (
        b"\x0a"
        + version
        + b"\x00"
        + (7).to_bytes(4, "little")  # connection id
        + b"abcdefgh\x00"  # scramble, first part
        + b"\xfe\xf7"  # capabilities
        + b"\x2d"  # collation
        + b"\x02\x00"  # status
        + b"\xff\x81"  # capabilities, high bits
        + b"\x15"  # scramble length
        + bytes(6)
        + b"\x1d\x00\x00\x00"  # MariaDB capabilities
        + b"ijklmnopqrst\x00"
        + b"mysql_native_password\x00"
    )
    return mysql_packet(0, payload)


MYSQL_OK = mysql_packet(2, b"\x00\x00\x00\x02\x00\x00\x00")
MYSQL_DENIED_TEXT = b"Access denied for user 'nobody'@'localhost' (using password: NO)"
MYSQL_DENIED = mysql_packet(
    2, b"\xff" + (1045).to_bytes(2, "little") + b"#28000" + MYSQL_DENIED_TEXT
)
MYSQL_BLOCKED_TEXT = (
    b"Host '127.0.0.1' is blocked because of many connection errors; "
    b"unblock with 'mariadb-admin flush-hosts'"
)
MYSQL_BLOCKED = mysql_packet(0, b"\xff" + (1129).to_bytes(2, "little") + MYSQL_BLOCKED_TEXT)

# -- PostgreSQL -------------------------------------------------------------------------


def pg_message(kind: bytes, body: bytes) -> bytes:
    return kind + (4 + len(body)).to_bytes(4, "big") + body


PG_OK = pg_message(b"R", (0).to_bytes(4, "big"))  # AuthenticationOk (trust)
PG_MD5 = pg_message(b"R", (5).to_bytes(4, "big") + b"salt")  # AuthenticationMD5Password
PG_SASL = pg_message(b"R", (10).to_bytes(4, "big") + b"SCRAM-SHA-256\x00\x00")
PG_NO_HBA = pg_message(
    b"E",
    b"SFATAL\x00VFATAL\x00C28000\x00"
    b'Mno pg_hba.conf entry for host "127.0.0.1", user "nobody", database "nobody"\x00\x00',
)

# -- SMTP -------------------------------------------------------------------------------

SMTP_GREETING = b"220 mx.test ESMTP Exim 4.96 Mon, 07 Dec 2026 00:00:00 +0000\r\n"
SMTP_HELO_OK = b"250 mx.test Hello localhost [127.0.0.1]\r\n"
SMTP_EHLO_OK = (
    b"250-mx.test Hello localhost [127.0.0.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250 HELP\r\n"
)
SMTP_BYE = b"221 mx.test closing connection\r\n"
SMTP_REFUSED = b"554 mx.test ESMTP service not available\r\n"
SMTP_HELO_DENIED = b"550 Administrative prohibition\r\n"
SMTP_MULTILINE_GREETING = b"220-mx.test ESMTP\r\n220 welcome\r\n"

# -- LDAP -------------------------------------------------------------------------------

# BindResponse, messageID 1: resultCode, empty matchedDN and diagnosticMessage
LDAP_SUCCESS = bytes.fromhex("300c02010161070a010004000400")
LDAP_INVALID_CREDENTIALS = bytes.fromhex("300c02010161070a013104000400")  # 49
# the same in the long forms Active Directory uses (4-byte lengths)
LDAP_SUCCESS_LONG = bytes.fromhex("308400000010020101618400000007" + "0a010004000400")
LDAP_NOT_BIND = bytes.fromhex("300c02010163070a010004000400")  # a searchResDone

# -- SSL / TLS --------------------------------------------------------------------------

TLS_ALERT = bytes.fromhex("15030000020228")  # handshake_failure, as OpenSSL 3 answers SSLv3
TLS_HANDSHAKE = bytes.fromhex("160301000402000000")
HTTP_400 = b"HTTP/1.0 400 Bad Request\r\n\r\n"

# -- SPOP -------------------------------------------------------------------------------


def spop_frame(kind: int, *items: bytes) -> bytes:
    frame = bytes([kind]) + (1).to_bytes(4, "big") + b"\x00\x00" + b"".join(items)
    return len(frame).to_bytes(4, "big") + frame


def spop_str(key: bytes, value: bytes) -> bytes:
    return spop.varint(len(key)) + key + bytes([spop.T_STR]) + spop.varint(len(value)) + value


def spop_uint(key: bytes, value: int) -> bytes:
    return spop.varint(len(key)) + key + bytes([spop.T_UINT32]) + spop.varint(value)


SPOP_HELLO = spop_frame(
    spop.AGENT_HELLO,
    spop_str(b"version", b"2.0"),
    spop_uint(b"max-frame-size", 16380),
    spop_str(b"capabilities", b""),
)
SPOP_BAD_VERSION = spop_frame(
    spop.AGENT_HELLO, spop_str(b"version", b"1.0"), spop_uint(b"max-frame-size", 16380)
)
SPOP_NO_FRAME_SIZE = spop_frame(spop.AGENT_HELLO, spop_str(b"version", b"2.0"))
SPOP_DISCONNECT = spop_frame(
    spop.AGENT_DISCON, spop_uint(b"status-code", 2), spop_str(b"message", b"timeout")
)
