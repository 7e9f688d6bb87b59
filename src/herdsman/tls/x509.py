"""What herdsman reads in an X.509 certificate, from its DER bytes (pure, no I/O).

Python's ``ssl`` module loads certificates into contexts but does not show them;
HAProxy reads a few fields of each one: the names a certificate answers for
(SNI selection, ``ckch_inst_new_load_store()``: the SAN DNS names, then every
CN), and what ``show ssl cert`` and the ``ssl_c_*`` fetches print. This reader
walks the DER tree for exactly those fields (RFC 5280 §4.1) and nothing else.

Texts are OpenSSL's as HAProxy prints them: a name is
``ssl_sock_get_dn_oneline()``'s ``/C=FR/CN=name`` (OpenSSL short names, the raw
bytes of each value), a time is ``ASN1_TIME_print()``'s ``Dec  7 02:21:26 2026
GMT``, the key ``cert_get_pkey_algo()``'s ``RSA2048``/``EC256``, the serial the
integer's bytes in upper-case hexadecimal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Certificate", "DerError", "parse_certificate"]

# OpenSSL's short names (OBJ_nid2sn()) of the attributes found in names
SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}
_CN = "2.5.4.3"
_SAN = "2.5.29.17"
_RSA = "1.2.840.113549.1.1.1"
_EC = "1.2.840.10045.2.1"
_DSA = "1.2.840.10040.4.1"
_CURVE_BITS = {
    "1.2.840.10045.3.1.7": 256,  # prime256v1
    "1.3.132.0.34": 384,  # secp384r1
    "1.3.132.0.35": 521,  # secp521r1
    "1.3.132.0.33": 224,  # secp224r1
    "1.2.840.10045.3.1.1": 192,  # prime192v1
    "1.3.36.3.3.2.8.1.1.7": 256,  # brainpoolP256r1
    "1.3.36.3.3.2.8.1.1.11": 384,  # brainpoolP384r1
    "1.3.36.3.3.2.8.1.1.13": 512,  # brainpoolP512r1
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DerError(ValueError):
    """The bytes are not a DER certificate herdsman can read."""


Name = tuple[tuple[str, bytes], ...]  # (dotted OID, raw value) in order


@dataclass(frozen=True, slots=True)
class Certificate:
    der: bytes
    serial: int
    subject: Name
    issuer: Name
    not_before: str  # ASN1_TIME_print()
    not_after: str
    key_algo: str  # "RSA", "EC", "DSA" or "Unknown"
    key_bits: int
    dns_names: tuple[str, ...]  # subjectAltName dNSName entries, in order
    san_text: str  # the extension as "DNS:a, IP Address:127.0.0.1"

    @property
    def sha1(self) -> bytes:
        return hashlib.sha1(self.der).digest()

    @property
    def serial_hex(self) -> str:
        n = self.serial
        raw = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
        return raw.hex().upper()

    @property
    def common_names(self) -> tuple[str, ...]:
        return tuple(v.decode("utf-8", "replace") for oid, v in self.subject if oid == _CN)

    @property
    def sni_names(self) -> tuple[str, ...]:
        """The names a certificate loaded without filters answers for: its SAN
        DNS names, then every CN (``ckch_inst_new_load_store()``)."""
        return self.dns_names + self.common_names

    @property
    def algorithm(self) -> str:
        """``cert_get_pkey_algo()``: "RSA2048", "EC256"."""
        return f"{self.key_algo}{self.key_bits}"

    @property
    def is_ecdsa(self) -> bool:
        return self.key_algo == "EC"


def dn_oneline(name: Name) -> str:
    """``ssl_sock_get_dn_oneline()``: ``/C=FR/O=Org/CN=name``."""
    out = []
    for oid, value in name:
        out.append(f"/{SHORT_NAMES.get(oid, oid)}={value.decode('utf-8', 'surrogateescape')}")
    return "".join(out)


# -- DER -----------------------------------------------------------------------------


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """The element at ``pos``: (tag, content start, content end)."""
    if pos + 2 > len(data):
        raise DerError("truncated element")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise DerError("truncated content")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        out.append((tag, s, e))
        pos = e
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise DerError("empty OID")
    first = raw[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


def _name(data: bytes, start: int, end: int) -> Name:
    out = []
    for _tag, s, e in _children(data, start, end):  # SET OF
        for _t, s2, e2 in _children(data, s, e):  # AttributeTypeAndValue
            parts = _children(data, s2, e2)
            if len(parts) != 2 or parts[0][0] != 0x06:
                raise DerError("bad name attribute")
            oid = _oid(data[parts[0][1] : parts[0][2]])
            out.append((oid, data[parts[1][1] : parts[1][2]]))
    return tuple(out)


def _time(data: bytes, tag: int, start: int, end: int) -> str:
    text = data[start:end].decode("ascii")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ
        yy = int(text[0:2])
        year = 1900 + yy if yy >= 50 else 2000 + yy
        rest = text[2:]
    elif tag == 0x18:  # GeneralizedTime
        year = int(text[0:4])
        rest = text[4:]
    else:
        raise DerError("bad time")
    month, day = int(rest[0:2]), int(rest[2:4])
    hh, mm, ss = rest[4:6], rest[6:8], rest[8:10]
    return f"{_MONTHS[month - 1]} {day:2d} {hh}:{mm}:{ss} {year} GMT"


def _key(data: bytes, start: int, end: int) -> tuple[str, int]:
    alg, bits = _children(data, start, end)[:2]
    alg_parts = _children(data, alg[1], alg[2])
    oid = _oid(data[alg_parts[0][1] : alg_parts[0][2]])
    if oid == _RSA:
        # BIT STRING: one byte of unused bits, then RSAPublicKey ::= SEQ { n, e }
        _t, s, e = _tlv(data, bits[1] + 1)
        modulus = _children(data, s, e)[0]
        return "RSA", int.from_bytes(data[modulus[1] : modulus[2]], "big").bit_length()
    if oid == _EC and len(alg_parts) > 1 and alg_parts[1][0] == 0x06:
        curve = _oid(data[alg_parts[1][1] : alg_parts[1][2]])
        return "EC", _CURVE_BITS.get(curve, 0)
    if oid == _DSA and len(alg_parts) > 1:
        p = _children(data, alg_parts[1][1], alg_parts[1][2])[0]
        return "DSA", int.from_bytes(data[p[1] : p[2]], "big").bit_length()
    return "Unknown", 0


def _san(data: bytes, start: int, end: int) -> tuple[tuple[str, ...], str]:
    """GeneralNames: the dNSName values, and ``ssl_sock_get_san_oneline()``'s text
    (``DNS:a, DNS:b``; another kind of name shows as nothing between its commas)."""
    dns: list[str] = []
    text: list[str] = []
    for tag, s, e in _children(data, start, end):
        if tag == 0x82:
            name = data[s:e].decode("utf-8", "replace")
            dns.append(name)
            text.append(f"DNS:{name}")
        else:
            text.append("")
    return tuple(dns), ", ".join(text)


def parse_certificate(der: bytes) -> Certificate:
    """Read the fields herdsman uses; DerError when ``der`` is not a certificate."""
    try:
        _tag, s, e = _tlv(der, 0)
        tbs_tag, ts, te = _tlv(der, s)
        if tbs_tag != 0x30:
            raise DerError("not a certificate")
        fields = _children(der, ts, te)
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        serial_t, issuer_t, validity_t, subject_t, spki_t = (
            fields[0],
            fields[2],
            fields[3],
            fields[4],
            fields[5],
        )
        serial = int.from_bytes(der[serial_t[1] : serial_t[2]], "big", signed=True)
        validity = _children(der, validity_t[1], validity_t[2])
        dns: tuple[str, ...] = ()
        san_text = ""
        for tag, xs, xe in fields[6:]:
            if tag != 0xA3:  # [3] extensions
                continue
            seq = _children(der, xs, xe)[0]
            for _t, es, ee in _children(der, seq[1], seq[2]):
                parts = _children(der, es, ee)
                if _oid(der[parts[0][1] : parts[0][2]]) == _SAN:
                    value = parts[-1]
                    _st, ss, se = _tlv(der, value[1])
                    dns, san_text = _san(der, ss, se)
        algo, bits = _key(der, spki_t[1], spki_t[2])
        return Certificate(
            der=bytes(der[:e]),
            serial=abs(serial),
            subject=_name(der, subject_t[1], subject_t[2]),
            issuer=_name(der, issuer_t[1], issuer_t[2]),
            not_before=_time(der, *validity[0]),
            not_after=_time(der, *validity[1]),
            key_algo=algo,
            key_bits=bits,
            dns_names=dns,
            san_text=san_text,
        )
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, DerError):
            raise
        raise DerError(str(exc)) from None
