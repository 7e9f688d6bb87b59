"""The cases of the differential harness: raw request bytes and scripted backend replies.

Sources: RFC 9112/9110 edge cases; request smuggling research (CL.TE, TE.CL,
TE.TE obfuscations as catalogued by PortSwigger and "HTTP Desync Attacks",
chunk-size tricks, bare LF); HAProxy's own reg-tests under
reg-tests/http-messaging/ (h1_to_h1, http_transfer_encoding, websocket,
protocol_upgrade, http_bodyless_response); and what exploring the 2.6.12
binary turned up (docs/http.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backend import Reply


@dataclass(frozen=True)
class Case:
    name: str
    request: bytes
    replies: tuple[Reply, ...] = field(default=())


def _req(
    line: bytes = b"GET / HTTP/1.1", headers: bytes = b"Host: a\r\n", body: bytes = b""
) -> bytes:
    return line + b"\r\n" + headers + b"\r\n" + body


def _post(headers: bytes, body: bytes = b"", line: bytes = b"POST / HTTP/1.1") -> bytes:
    return _req(line, b"Host: a\r\n" + headers, body)


CHUNKS = b"3\r\nabc\r\n0\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n"
WS_KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
WS_REQ = b"Connection: upgrade\r\nUpgrade: websocket\r\n"
OK = b"HTTP/1.1 200 OK\r\nx-backend: 1\r\n"

REQUEST_LINE = [
    Case("simple", _req()),
    Case("no-host-1.1", _req(headers=b"")),
    Case("http10", _req(b"GET / HTTP/1.0")),
    Case("http10-no-headers", _req(b"GET / HTTP/1.0", b"")),
    Case("http10-keepalive", _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n")),
    Case("lowercase-method", _req(b"get / HTTP/1.1")),
    Case("unknown-method", _req(b"FOO / HTTP/1.1")),
    Case("method-with-at", _req(b"G@T / HTTP/1.1")),
    Case("method-tchars", _req(b"M!#$%&'*+-.^_`|~1 / HTTP/1.1")),
    Case("pri-method", _req(b"PRI * HTTP/1.1")),
    Case("pri-lowercase", _req(b"pri * HTTP/1.1")),
    Case("pri-http10", _req(b"PRI * HTTP/1.0", b"")),
    Case("double-space-after-method", _req(b"GET  / HTTP/1.1")),
    Case("tab-separators", _req(b"GET\t/\tHTTP/1.1")),
    Case("space-before-version", _req(b"GET /  HTTP/1.1")),
    Case("trailing-space-after-version", _req(b"GET / HTTP/1.1 ")),
    Case("leading-space", _req(b" GET / HTTP/1.1")),
    Case("version-lowercase", _req(b"GET / http/1.1")),
    Case("version-1.2", _req(b"GET / HTTP/1.2")),
    Case("version-2.0", _req(b"GET / HTTP/2.0")),
    Case("version-3.0", _req(b"GET / HTTP/3.0")),
    Case("version-0.9-explicit", _req(b"GET / HTTP/0.9")),
    Case("version-1.10", _req(b"GET / HTTP/1.10")),
    Case("version-1", _req(b"GET / HTTP/1")),
    Case("version-xttp", _req(b"GET / XTTP/1.1")),
    Case("version-extra-token", _req(b"GET / HTTP/1.1 x")),
    Case("http09-with-headers", _req(b"GET /")),
    Case("http09-bare", b"GET /\r\n\r\n"),
    Case("http09-method-only", b"GET\r\n\r\n"),
    Case("fragment-in-uri", _req(b"GET /a#b HTTP/1.1")),
    Case("uri-quote", _req(b'GET /a"b HTTP/1.1')),
    Case("uri-bang", _req(b"GET /!a HTTP/1.1")),
    Case("uri-control", _req(b"GET /a\x01b HTTP/1.1")),
    Case("uri-nul", _req(b"GET /a\x00b HTTP/1.1")),
    Case("uri-cr-inside", _req(b"GET /a\rb HTTP/1.1")),
    Case("empty-uri-double-space", _req(b"GET  HTTP/1.1")),
    Case("asterisk-get", _req(b"GET * HTTP/1.1")),
    Case("asterisk-options", _req(b"OPTIONS * HTTP/1.1")),
    Case("long-uri-ok", _req(b"GET /" + b"a" * 8000 + b" HTTP/1.1")),
    Case("uri-too-long-htx", _req(b"GET /" + b"a" * 15251 + b" HTTP/1.1")),
    Case("uri-at-htx-limit", _req(b"GET /" + b"a" * 15250 + b" HTTP/1.1")),
    Case("tls-client-hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
    Case("binary-garbage", b"\x00\x01\x02\x03\r\n\r\n"),
]

# bytes the URI's 4-byte skip loop lets through, or not, by position
URI_BYTES = [
    Case(
        f"uri-byte-{c:02x}-at-{pos}", _req(b"GET /" + b"a" * pos + bytes([c]) + b"bcdefg HTTP/1.1")
    )
    for c in (0x7F, 0x80, 0xA3, 0xA4, 0xFF, 0x22, 0x23)
    for pos in (0, 1, 2, 3)
]

ABSOLUTE = [
    Case("absolute-same-host", _req(b"GET http://a/b HTTP/1.1")),
    Case("absolute-default-port", _req(b"GET http://a:80/b HTTP/1.1")),
    Case("absolute-default-port-both", _req(b"GET http://a:80/b HTTP/1.1", b"Host: a:80\r\n")),
    Case("absolute-https-default-port", _req(b"GET https://a:443/b HTTP/1.1")),
    Case("absolute-https-port-80", _req(b"GET https://a:80/b HTTP/1.1")),
    Case("absolute-empty-port", _req(b"GET http://a:/b HTTP/1.1")),
    Case("absolute-other-port", _req(b"GET http://a:8080/b HTTP/1.1", b"Host: a:8080\r\n")),
    Case("absolute-port-mismatch", _req(b"GET http://a:8080/b HTTP/1.1")),
    Case("absolute-host-mismatch", _req(b"GET http://b/b HTTP/1.1")),
    Case("absolute-host-case", _req(b"GET http://A/b HTTP/1.1")),
    Case("absolute-no-path", _req(b"GET http://a HTTP/1.1")),
    Case("absolute-userinfo", _req(b"GET http://u:p@a/b HTTP/1.1")),
    Case("absolute-userinfo-port", _req(b"GET http://u@a:80/b HTTP/1.1")),
    Case("absolute-no-host-header", _req(b"GET http://a:80/b HTTP/1.1", b"")),
    Case("absolute-two-hosts", _req(b"GET http://a:80/b HTTP/1.1", b"Host: a\r\nHost: a\r\n")),
    Case("absolute-host-with-port-80", _req(b"GET http://a/b HTTP/1.1", b"Host: a:80\r\n")),
    Case("absolute-ftp-scheme", _req(b"GET ftp://a/b HTTP/1.1")),
    Case("absolute-ftp-mismatch", _req(b"GET ftp://b/b HTTP/1.1")),
    Case("authority-form-get", _req(b"GET a:443 HTTP/1.1")),
    Case("authority-form-get-no-host", _req(b"GET a:443 HTTP/1.1", b"")),
    Case("connect-no-port", _req(b"CONNECT a HTTP/1.1")),
    Case("connect-path", _req(b"CONNECT /a HTTP/1.1")),
    Case("connect-host-mismatch", _req(b"CONNECT a:443 HTTP/1.1", b"Host: b:443\r\n")),
    Case("connect-host-other-port", _req(b"CONNECT a:8443 HTTP/1.1", b"Host: a:8443\r\n")),
    Case("connect-host-no-port-nondefault", _req(b"CONNECT a:8443 HTTP/1.1", b"Host: a\r\n")),
    Case("connect-empty-port", _req(b"CONNECT a: HTTP/1.1", b"Host: a\r\n")),
]

HEADERS = [
    Case("value-nul", _post(b"X: a\x00b\r\n")),
    Case("value-del", _post(b"X: a\x7fb\r\n")),
    Case("value-ctl", _post(b"X: a\x01b\r\n")),
    Case("value-high-bytes", _post(b"X: caf\xc3\xa9\r\n")),
    Case("value-bare-cr", _post(b"X: a\rb\r\n")),
    Case("value-trailing-cr", _post(b"X: a\r\r\n")),
    Case("name-at", _post(b"X@Y: a\r\n")),
    Case("name-space", _post(b"X Y: a\r\n")),
    Case("name-del", _post(b"X\x7fY: a\r\n")),
    Case("name-high", _post(b"X\x80Y: a\r\n")),
    Case("name-nul", _post(b"X\x00Y: a\r\n")),
    Case("empty-name", _post(b": a\r\n")),
    Case("no-colon", _post(b"X\r\n")),
    Case("obs-fold-space", _post(b"X: a\r\n b\r\n")),
    Case("obs-fold-tab", _post(b"X: a\r\n\tb\r\n")),
    Case("obs-fold-empty-first", _post(b"X:\r\n b\r\n")),
    Case("obs-fold-multi", _post(b"X: a\r\n b\r\n  c\r\n")),
    Case("obs-fold-bare-lf", _post(b"X: a\n b\r\n")),
    Case("fold-of-host", _req(headers=b"Host: a\r\n X: b\r\n")),
    Case("first-line-starts-with-space", _req(headers=b" X: a\r\nHost: a\r\n")),
    Case("no-space-after-colon", _post(b"X:a\r\n")),
    Case("blanks-around-value", _post(b"X:   a  \t \r\n")),
    Case("empty-value", _post(b"X: \r\n")),
    Case("empty-value-no-space", _post(b"X:\r\n")),
    Case("space-before-colon", _post(b"X : a\r\n")),
    Case("tab-before-colon", _post(b"X\t: a\r\n")),
    Case("bare-lf-everywhere", b"GET / HTTP/1.1\nHost: a\nX: b\n\n"),
    Case("bare-lf-end", b"GET / HTTP/1.1\r\nHost: a\n\r\n"),
    Case("bare-lf-request-line", b"GET / HTTP/1.1\nHost: a\r\n\r\n"),
    Case("bare-cr-line-end", b"GET / HTTP/1.1\rHost: a\r\n\r\n"),
    Case("leading-crlf", b"\r\n" + _req()),
    Case("leading-lf-lf", b"\n\n" + _req()),
    Case("leading-cr-only", b"\rGET / HTTP/1.1\r\n\r\n"),
    Case("many-headers-100", _req(headers=b"".join(b"X%d: 1\r\n" % i for i in range(100)))),
    Case("many-headers-101", _req(headers=b"".join(b"X%d: 1\r\n" % i for i in range(101)))),
    Case(
        "100-headers-plus-dup-host",
        _req(
            headers=b"Host: a\r\n" + b"".join(b"X%d: 1\r\n" % i for i in range(99)) + b"Host: a\r\n"
        ),
    ),
    Case("header-at-htx-limit", _req(headers=b"Host: a\r\nX: " + b"a" * 15241 + b"\r\n")),
    Case("header-over-htx-limit", _req(headers=b"Host: a\r\nX: " + b"a" * 15242 + b"\r\n")),
    Case("head-at-buffer-limit", _req(headers=b"Host: a\r\nX: a" + b" " * 16287 + b"\r\n")),
    Case("head-over-buffer-limit", _req(headers=b"Host: a\r\nX: a" + b" " * 16288 + b"\r\n")),
    Case("host-duplicate-same", _req(headers=b"Host: a\r\nHost: a\r\n")),
    Case("host-duplicate-case", _req(headers=b"Host: a\r\nHost: A\r\n")),
    Case("host-duplicate-different", _req(headers=b"Host: a\r\nHost: b\r\n")),
    Case("host-duplicate-blanks", _req(headers=b"Host: a\r\nHost:  a \r\n")),
    Case("host-empty", _req(headers=b"Host:\r\n")),
    Case("host-uppercase-name", _req(headers=b"HOST: a\r\n")),
    Case(
        "proxy-connection",
        _req(headers=b"Host: a\r\nProxy-Connection: keep-alive\r\nKeep-Alive: 300\r\n"),
    ),
    Case("te-trailers", _req(headers=b"Host: a\r\nTE: trailers\r\n")),
    Case("te-gzip-trailers", _req(headers=b"Host: a\r\nTE: gzip, trailers\r\n")),
    Case("te-trailers-gzip", _req(headers=b"Host: a\r\nTE: trailers, gzip\r\n")),
    Case("te-header-gzip", _req(headers=b"Host: a\r\nTE: gzip\r\n")),
    Case("te-trailersx", _req(headers=b"Host: a\r\nTE: trailersx\r\n")),
    Case("te-xtrailers", _req(headers=b"Host: a\r\nTE: xtrailers\r\n")),
    Case("te-Trailers", _req(headers=b"Host: a\r\nTE: Trailers\r\n")),
    Case("expect-100", _post(b"Expect: 100-continue\r\nContent-Length: 3\r\n", b"abc")),
    Case("expect-100-no-body", _req(headers=b"Host: a\r\nExpect: 100-continue\r\n")),
]

CONNECTION = [
    Case("conn-keep-alive", _req(headers=b"Host: a\r\nConnection: keep-alive\r\n")),
    Case("conn-Keep-Alive-caps", _req(headers=b"Host: a\r\nConnection: Keep-Alive\r\n")),
    Case("conn-close", _req(headers=b"Host: a\r\nConnection: close\r\n")),
    Case("conn-CLOSE", _req(headers=b"Host: a\r\nConnection: CLOSE\r\n")),
    Case("conn-foo-close", _req(headers=b"Host: a\r\nConnection: foo, close\r\n")),
    Case("conn-close-foo", _req(headers=b"Host: a\r\nConnection: close, foo\r\n")),
    Case("conn-foo-close-bar", _req(headers=b"Host: a\r\nConnection: foo,close,bar\r\n")),
    Case("conn-two-headers", _req(headers=b"Host: a\r\nConnection: foo\r\nConnection: close\r\n")),
    Case("conn-keepalive-close", _req(headers=b"Host: a\r\nConnection: keep-alive, close\r\n")),
    Case("conn-blanks", _req(headers=b"Host: a\r\nConnection:  foo ,  bar  \r\n")),
    Case("conn-commas", _req(headers=b"Host: a\r\nConnection: ,\r\n")),
    Case("conn-quoted", _req(headers=b'Host: a\r\nConnection: "close", foo\r\n')),
    Case("conn-http10-keepalive", _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n")),
    Case("conn-http10-foo", _req(b"GET / HTTP/1.0", b"Connection: foo\r\n")),
    Case("conn-http10-close", _req(b"GET / HTTP/1.0", b"Connection: close\r\n")),
    Case("conn-upgrade-h2c", _req(headers=b"Host: a\r\nConnection: upgrade\r\nUpgrade: h2c\r\n")),
    Case("upgrade-without-conn", _req(headers=b"Host: a\r\nUpgrade: websocket\r\n" + WS_KEY)),
    Case("ws-no-key", _req(headers=b"Host: a\r\n" + WS_REQ)),
    Case("ws-key-short", _req(headers=b"Host: a\r\n" + WS_REQ + b"Sec-WebSocket-Key: abc\r\n")),
    Case(
        "ws-key-25",
        _req(headers=b"Host: a\r\n" + WS_REQ + b"Sec-WebSocket-Key: " + b"a" * 25 + b"\r\n"),
    ),
    Case(
        "ws-two-keys-second-ok",
        _req(headers=b"Host: a\r\n" + WS_REQ + b"Sec-WebSocket-Key: x\r\n" + WS_KEY),
    ),
    Case(
        "ws-upgrade-close",
        _req(headers=b"Host: a\r\nConnection: Upgrade, close\r\nUpgrade: WebSocket\r\n" + WS_KEY),
    ),
    Case("ws-with-body", _post(WS_REQ + b"Content-Length: 3\r\n" + WS_KEY, b"abc")),
    Case("ws-with-body-no-key", _post(WS_REQ + b"Content-Length: 3\r\n", b"abc")),
    Case(
        "upgrade-h2c-with-body",
        _post(b"Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n", b"abc"),
    ),
    Case("ws-http10", _req(b"GET / HTTP/1.0", WS_REQ)),
    Case("ws-two-upgrade-headers", _req(headers=b"Host: a\r\n" + WS_REQ + b"Upgrade: h2c\r\n")),
]

CONTENT_LENGTH = [
    Case("cl", _post(b"Content-Length: 3\r\n", b"abc")),
    Case("cl-zero", _post(b"Content-Length: 0\r\n")),
    Case("cl-duplicate-same", _post(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc")),
    Case("cl-duplicate-different", _post(b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd")),
    Case("cl-list-same", _post(b"Content-Length: 3, 3\r\n", b"abc")),
    Case("cl-list-three", _post(b"Content-Length: 3,3,3\r\n", b"abc")),
    Case("cl-list-different", _post(b"Content-Length: 3, 4\r\n", b"abcd")),
    Case("cl-list-then-header", _post(b"Content-Length: 3, 3\r\nContent-Length: 03\r\n", b"abc")),
    Case("cl-plus", _post(b"Content-Length: +3\r\n", b"abc")),
    Case("cl-minus", _post(b"Content-Length: -3\r\n", b"abc")),
    Case("cl-leading-zero", _post(b"Content-Length: 03\r\n", b"abc")),
    Case("cl-trailing-space", _post(b"Content-Length: 3 \r\n", b"abc")),
    Case("cl-letters", _post(b"Content-Length: 3a\r\n", b"abc")),
    Case("cl-hex", _post(b"Content-Length: 0x3\r\n", b"abc")),
    Case("cl-trailing-comma", _post(b"Content-Length: 3,\r\n", b"abc")),
    Case("cl-leading-comma", _post(b"Content-Length: ,3\r\n", b"abc")),
    Case("cl-empty", _post(b"Content-Length:\r\n")),
    Case("cl-blank", _post(b"Content-Length:  \r\n")),
    Case("cl-two-numbers", _post(b"Content-Length: 3 3\r\n", b"abc")),
    Case("cl-huge", _post(b"Content-Length: 99999999999999999999999\r\n", b"abc")),
    Case("cl-llong-max", _post(b"Content-Length: 9223372036854775807\r\n", b"abc")),
    Case("cl-ullong-max", _post(b"Content-Length: 18446744073709551615\r\n", b"abc")),
    Case("cl-ullong-max-plus-one", _post(b"Content-Length: 18446744073709551616\r\n", b"abc")),
    Case("cl-shorter-than-body", _post(b"Content-Length: 1\r\n", b"abc")),
    Case("cl-longer-than-body", _post(b"Content-Length: 10\r\n", b"abc")),
    Case("cl-space-before-colon", _post(b"Content-Length : 3\r\n", b"abc")),
    Case("cl-name-case", _post(b"content-LENGTH: 3\r\n", b"abc")),
    Case("cl-obs-fold", _post(b"Content-Length:\r\n 3\r\n", b"abc")),
    Case("cl-on-get-http10", _req(b"GET / HTTP/1.0", b"Content-Length: 3\r\n", b"abc")),
    Case("cl-zero-on-get-http10", _req(b"GET / HTTP/1.0", b"Content-Length: 0\r\n")),
    Case("cl-on-head-http10", _req(b"HEAD / HTTP/1.0", b"Content-Length: 3\r\n", b"abc")),
    Case("cl-on-delete-http10", _req(b"DELETE / HTTP/1.0", b"Content-Length: 3\r\n", b"abc")),
    Case("cl-on-lowercase-get-http10", _req(b"get / HTTP/1.0", b"Content-Length: 3\r\n", b"abc")),
    Case("cl-on-get-http11", _req(headers=b"Host: a\r\nContent-Length: 3\r\n", body=b"abc")),
    Case(
        "cl-on-connect",
        _req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443\r\nContent-Length: 3\r\n", b"abc"),
    ),
]

TRANSFER_ENCODING = [
    Case("te-chunked", _post(TE, CHUNKS)),
    Case("te-Chunked", _post(b"Transfer-Encoding: Chunked\r\n", CHUNKS)),
    Case("te-CHUNKED", _post(b"Transfer-Encoding: CHUNKED\r\n", CHUNKS)),
    Case("te-chunked-chunked", _post(b"Transfer-Encoding: chunked, chunked\r\n", CHUNKS)),
    Case("te-gzip-chunked", _post(b"Transfer-Encoding: gzip, chunked\r\n", CHUNKS)),
    Case("te-chunked-gzip", _post(b"Transfer-Encoding: chunked, gzip\r\n", CHUNKS)),
    Case("te-gzip", _post(b"Transfer-Encoding: gzip\r\n", CHUNKS)),
    Case("te-identity", _post(b"Transfer-Encoding: identity\r\n", CHUNKS)),
    Case("te-identity-chunked", _post(b"Transfer-Encoding: identity, chunked\r\n", CHUNKS)),
    Case("te-xchunked", _post(b"Transfer-Encoding: xchunked\r\n", CHUNKS)),
    Case("te-chunkedx", _post(b"Transfer-Encoding: chunkedx\r\n", CHUNKS)),
    Case("te-two-headers-chunked", _post(TE + TE, CHUNKS)),
    Case("te-gzip-then-chunked-headers", _post(b"Transfer-Encoding: gzip\r\n" + TE, CHUNKS)),
    Case("te-chunked-then-gzip-headers", _post(TE + b"Transfer-Encoding: gzip\r\n", CHUNKS)),
    Case("te-chunked-then-empty-header", _post(TE + b"Transfer-Encoding: \r\n", CHUNKS)),
    Case("te-empty", _post(b"Transfer-Encoding: \r\n", CHUNKS)),
    Case("te-leading-comma", _post(b"Transfer-Encoding: ,chunked\r\n", CHUNKS)),
    Case("te-trailing-comma", _post(b"Transfer-Encoding: chunked,\r\n", CHUNKS)),
    Case("te-double-comma", _post(b"Transfer-Encoding: gzip,,chunked\r\n", CHUNKS)),
    Case("te-params", _post(b"Transfer-Encoding: chunked;q=1\r\n", CHUNKS)),
    Case("te-quoted", _post(b'Transfer-Encoding: "chunked"\r\n', CHUNKS)),
    Case("te-tab", _post(b"Transfer-Encoding:\tchunked\r\n", CHUNKS)),
    Case("te-vtab", _post(b"Transfer-Encoding:\x0bchunked\r\n", CHUNKS)),
    Case("te-space-before-colon", _post(b"Transfer-Encoding : chunked\r\n", CHUNKS)),
    Case("te-fold", _post(b"Transfer-Encoding:\r\n chunked\r\n", CHUNKS)),
    Case("te-fold-of-other", _post(b"X: y\r\n Transfer-Encoding: chunked\r\n", CHUNKS)),
    Case("te-newline-in-name", _post(b"Transfer-Encoding\n : chunked\r\n", CHUNKS)),
    Case("te-underscore", _post(b"Transfer_Encoding: chunked\r\n", CHUNKS)),
    Case("te-http10", _post(TE, CHUNKS, b"POST / HTTP/1.0")),
    Case(
        "te-http10-keepalive", _post(TE + b"Connection: keep-alive\r\n", CHUNKS, b"POST / HTTP/1.0")
    ),
    Case("te-on-get-http10", _req(b"GET / HTTP/1.0", TE, b"0\r\n\r\n")),
    Case("te-on-get-http11", _req(headers=b"Host: a\r\n" + TE, body=CHUNKS)),
    Case("te-on-connect", _req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443\r\n" + TE, CHUNKS)),
    Case("te-with-te-trailers", _post(b"TE: trailers\r\n" + TE, CHUNKS)),
    # smuggling: CL.TE / TE.CL
    Case("cl-te", _post(b"Content-Length: 6\r\n" + TE, b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n")),
    Case("te-cl", _post(TE + b"Content-Length: 3\r\n", b"8\r\nSMUGGLED\r\n0\r\n\r\n")),
    Case("te-cl-http10", _post(TE + b"Content-Length: 3\r\n", CHUNKS, b"POST / HTTP/1.0")),
    Case("te-gzip-cl", _post(b"Transfer-Encoding: gzip\r\nContent-Length: 3\r\n", b"abc")),
    Case(
        "te-obfuscated-cl", _post(b"Transfer-Encoding: xchunked\r\nContent-Length: 3\r\n", b"abc")
    ),
    Case(
        "cl-then-invalid-te",
        _post(b"Content-Length: 3\r\nTransfer-Encoding: chunked, x\r\n", b"abc"),
    ),
    Case("te-cl-list", _post(TE + b"Content-Length: 3, 4\r\n", CHUNKS)),
    Case(
        "get-cl-smuggle",
        _req(headers=b"Host: a\r\nContent-Length: 5\r\n", body=b"0\r\n\r\nGET /s HTTP/1.1\r\n\r\n"),
    ),
]

CHUNKED = [
    Case("chunk-ext", _post(TE, b"3;ext=1\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-ext-quoted", _post(TE, b'3;a="b;c"\r\nabc\r\n0\r\n\r\n')),
    Case("chunk-ext-nul", _post(TE, b"3;a\x00b\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-ext-bare-cr", _post(TE, b"3;a\rb\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-ext-bare-lf", _post(TE, b"3;a\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-space", _post(TE, b"3 \r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-tab", _post(TE, b"3\t\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-space-ext", _post(TE, b"3 ;ext\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-leading-space", _post(TE, b" 3\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-0x", _post(TE, b"0x3\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-plus", _post(TE, b"+3\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-minus", _post(TE, b"-3\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-underscore", _post(TE, b"1_0\r\n" + b"a" * 16 + b"\r\n0\r\n\r\n")),
    Case("chunk-size-letter", _post(TE, b"3g\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-space-letter", _post(TE, b"3 g\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-uppercase", _post(TE, b"A\r\n0123456789\r\n0\r\n\r\n")),
    Case("chunk-size-lowercase", _post(TE, b"a\r\n0123456789\r\n0\r\n\r\n")),
    Case("chunk-size-leading-zeros", _post(TE, b"00000000000000003\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-size-13-digits", _post(TE, b"fffffffffffff\r\nabc")),
    Case("chunk-size-14-digits", _post(TE, b"10000000000000\r\nabc")),
    Case("chunk-size-empty", _post(TE, b"\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-bare-lf", _post(TE, b"3\nabc\n0\n\n")),
    Case("chunk-bare-lf-after-data", _post(TE, b"3\r\nabc\n0\r\n\r\n")),
    Case("chunk-cr-cr-lf", _post(TE, b"3\r\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-data-too-long", _post(TE, b"3\r\nabcX\r\n0\r\n\r\n")),
    Case("chunk-data-too-short", _post(TE, b"3\r\nab\r\n0\r\n\r\n")),
    Case("chunk-missing-last", _post(TE, b"3\r\nabc\r\n\r\n")),
    Case("chunk-last-with-ext", _post(TE, b"3\r\nabc\r\n0;e\r\n\r\n")),
    Case("chunk-last-000", _post(TE, b"3\r\nabc\r\n000\r\n\r\n")),
    Case("chunk-trailer", _post(TE, b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n")),
    Case("chunk-trailers-two", _post(TE, b"3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n")),
    Case("chunk-trailer-no-colon", _post(TE, b"3\r\nabc\r\n0\r\nXT\r\n\r\n")),
    Case("chunk-trailer-empty-name", _post(TE, b"3\r\nabc\r\n0\r\n: 1\r\n\r\n")),
    Case("chunk-trailer-fold", _post(TE, b"3\r\nabc\r\n0\r\nX-T: 1\r\n 2\r\n\r\n")),
    Case("chunk-trailer-bare-lf", _post(TE, b"3\r\nabc\r\n0\r\nX-T: 1\n\n")),
    Case("chunk-trailer-cl", _post(TE, b"3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n")),
    Case("chunk-trailer-bad-cl", _post(TE, b"3\r\nabc\r\n0\r\nContent-Length: x\r\n\r\n")),
    Case(
        "chunk-many",
        _post(TE, b"".join(b"1\r\n%c\r\n" % (97 + i % 26) for i in range(200)) + b"0\r\n\r\n"),
    ),
    Case("chunk-big", _post(TE, b"2000\r\n" + b"x" * 0x2000 + b"\r\n0\r\n\r\n")),
    Case("chunk-incomplete", _post(TE, b"3\r\nabc\r\n")),
    Case("chunk-ext-at-buffer-limit", _post(TE, b"3;" + b"x" * 16316 + b"\r\nabc\r\n0\r\n\r\n")),
    Case("chunk-ext-over-buffer-limit", _post(TE, b"3;" + b"x" * 16317 + b"\r\nabc\r\n0\r\n\r\n")),
    Case(
        "chunk-trailer-at-htx-limit",
        _post(TE, b"3\r\nabc\r\n0\r\nX: " + b"y" * 15294 + b"\r\n\r\n"),
    ),
    Case(
        "chunk-trailer-over-htx-limit",
        _post(TE, b"3\r\nabc\r\n0\r\nX: " + b"y" * 15295 + b"\r\n\r\n"),
    ),
    Case(
        "chunk-trailers-101",
        _post(TE, b"3\r\nabc\r\n0\r\n" + b"".join(b"X%d: 1\r\n" % i for i in range(101)) + b"\r\n"),
    ),
    Case("chunk-then-pipelined", _post(TE, CHUNKS) + _req()),
]

PIPELINES = [
    Case("pipeline-two", _req() + _req()),
    Case(
        "pipeline-three-close-middle",
        _req() + _req(headers=b"Host: a\r\nConnection: close\r\n") + _req(),
    ),
    Case("pipeline-then-invalid", _req() + b"G@T / HTTP/1.1\r\n\r\n"),
    Case("pipeline-then-incomplete", _req() + b"GET /"),
    Case("pipeline-http10-first", _req(b"GET / HTTP/1.0") + _req()),
    Case("pipeline-post-cl", _post(b"Content-Length: 3\r\n", b"abc") + _req()),
    Case("pipeline-leading-crlf-between", _req() + b"\r\n" + _req()),
    Case("pipeline-head", _req(b"HEAD / HTTP/1.1") + _req()),
    Case("pipeline-bad-second-cl", _req() + _post(b"Content-Length: x\r\n")),
    Case("incomplete-line", b"GET /"),
    Case("incomplete-bad-prefix", b"G@T /"),
    Case("incomplete-head", b"GET / HTTP/1.1\r\nHost: a\r\n"),
    Case("only-crlf", b"\r\n"),
    Case("only-crlf-crlf", b"\r\n\r\n"),
    Case("only-cr", b"\r"),
    Case("incomplete-bad-cl", b"POST / HTTP/1.1\r\nContent-Length: x\r\nHost"),
]

# HAProxy's reg-tests/http-messaging (v2.6.0): the requests of h1_to_h1.vtc and friends
REGTESTS = [
    Case("reg-h1-get-cl0", _req(b"GET /test2.html HTTP/1.1", b"content-length: 0\r\n")),
    Case(
        "reg-h1-get-body",
        _req(
            b"GET /test3.html HTTP/1.1",
            b"content-length: 38\r\n",
            b"this must be delivered, like it or not",
        ),
    ),
    Case(
        "reg-h1-head-body",
        _req(
            b"HEAD /test3.html HTTP/1.1",
            b"content-length: 38\r\n",
            b"this must be delivered, like it or not",
        ),
    ),
    Case("reg-h1-post-nobody", _req(b"POST /test1.html HTTP/1.1", b"")),
    Case("reg-h1-post-cl0", _req(b"POST /test2.html HTTP/1.1", b"content-length: 0\r\n")),
    Case(
        "reg-h1-post-body",
        _req(b"POST /test3.html HTTP/1.1", b"content-length: 12\r\n", b"this is sent"),
    ),
    Case(
        "reg-h1-cl-comma",
        _req(b"GET /test31.html HTTP/1.1", b"content-length: 0,\r\nconnection: close\r\n"),
    ),
    Case(
        "reg-h1-cl-empty",
        _req(b"GET /test41.html HTTP/1.1", b"content-length:\r\nconnection: close\r\n"),
    ),
    Case(
        "reg-te-cl-smuggle",
        _req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked\r\nContent-Length: 31\r\n",
            b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        ),
    ),
    Case("reg-te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    Case(
        "reg-te-te-trailers",
        _req(b"GET /1 HTTP/1.1", b"TE: trailers\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    ),
    Case(
        "reg-te-te-trailers-gzip",
        _req(b"GET /2 HTTP/1.1", b"TE: gzip\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    ),
    Case(
        "reg-ws-ok",
        _req(
            b"GET /ws HTTP/1.1",
            b"Host: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n" + WS_KEY,
        ),
    ),
    Case(
        "reg-upgrade-h2c",
        _req(
            b"GET / HTTP/1.1",
            b"Connection: upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n",
        ),
    ),
]


RESPONSES_RAW: list[tuple[str, bytes, bool, bytes | None]] = [
    ("resp-cl", OK + b"Content-Length: 3\r\n\r\nabc", False, None),
    ("resp-close-delimited", OK + b"\r\nabc", True, None),
    ("resp-http10-close-delimited", b"HTTP/1.0 200 OK\r\nx-backend: 1\r\n\r\nabc", True, None),
    (
        "resp-http10-cl",
        b"HTTP/1.0 200 OK\r\nx-backend: 1\r\nContent-Length: 3\r\n\r\nabc",
        False,
        None,
    ),
    ("resp-chunked", OK + TE + b"\r\n" + CHUNKS, False, None),
    ("resp-chunked-ext", OK + TE + b"\r\n3;x=y\r\nabc\r\n0\r\n\r\n", False, None),
    ("resp-chunked-bare-lf", OK + TE + b"\r\n3\nabc\n0\n\n", False, None),
    ("resp-chunked-bad-size", OK + TE + b"\r\nzz\r\nabc\r\n0\r\n\r\n", True, None),
    ("resp-chunked-trailer", OK + TE + b"\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", False, None),
    ("resp-te-gzip", OK + b"Transfer-Encoding: gzip\r\n\r\nabc", True, None),
    (
        "resp-te-gzip-chunked",
        OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + CHUNKS,
        False,
        None,
    ),
    ("resp-te-chunked-gzip", OK + b"Transfer-Encoding: chunked, gzip\r\n\r\nabc", True, None),
    (
        "resp-te-chunked-chunked",
        OK + b"Transfer-Encoding: chunked, chunked\r\n\r\n" + CHUNKS,
        False,
        None,
    ),
    ("resp-cl-conflict", OK + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", False, None),
    ("resp-cl-dup-same", OK + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", False, None),
    ("resp-cl-invalid", OK + b"Content-Length: x\r\n\r\nabc", True, None),
    ("resp-cl-te", OK + b"Content-Length: 3\r\n" + TE + b"\r\n" + CHUNKS, False, None),
    ("resp-te-http10", b"HTTP/1.0 200 OK\r\nx-backend: 1\r\n" + TE + b"\r\n" + CHUNKS, False, None),
    (
        "resp-204-cl-body",
        b"HTTP/1.1 204 No Content\r\nx-backend: 1\r\nContent-Length: 3\r\n\r\nabc",
        True,
        None,
    ),
    ("resp-204", b"HTTP/1.1 204 No Content\r\nx-backend: 1\r\n\r\n", False, None),
    ("resp-204-te", b"HTTP/1.1 204 No Content\r\nx-backend: 1\r\n" + TE + b"\r\n", False, None),
    (
        "resp-304-cl",
        b"HTTP/1.1 304 Not Modified\r\nx-backend: 1\r\nContent-Length: 3\r\n\r\n",
        False,
        None,
    ),
    ("resp-head-cl", OK + b"Content-Length: 3\r\n\r\n", False, _req(b"HEAD / HTTP/1.1")),
    ("resp-head-chunked", OK + TE + b"\r\n", False, _req(b"HEAD / HTTP/1.1")),
    (
        "resp-100-then-200",
        b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 3\r\n\r\nabc",
        False,
        None,
    ),
    (
        "resp-103-then-200",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK + b"Content-Length: 3\r\n\r\nabc",
        False,
        None,
    ),
    (
        "resp-102-cl",
        b"HTTP/1.1 102 Processing\r\nContent-Length: 0\r\n\r\n" + OK + b"Content-Length: 0\r\n\r\n",
        False,
        None,
    ),
    ("resp-101-no-upgrade-request", b"HTTP/1.1 101 Switching Protocols\r\n\r\n", True, None),
    ("resp-no-reason", b"HTTP/1.1 200\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n", False, None),
    (
        "resp-empty-reason",
        b"HTTP/1.1 200 \r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-reason-blanks",
        b"HTTP/1.1  200  OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-status-2000",
        b"HTTP/1.1 2000 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-status-600",
        b"HTTP/1.1 600 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-status-letters",
        b"HTTP/1.1 abc OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        True,
        None,
    ),
    ("resp-status-2x", b"HTTP/1.1 2x0 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n", True, None),
    (
        "resp-version-2.0",
        b"HTTP/2.0 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-version-1.2",
        b"HTTP/1.2 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-version-xttp",
        b"XTTP/1.1 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        None,
    ),
    (
        "resp-version-lowercase",
        b"http/1.1 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        True,
        None,
    ),
    (
        "resp-version-1.10",
        b"HTTP/1.10 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        True,
        None,
    ),
    ("resp-no-status", b"HTTP/1.1\r\nx-backend: 1\r\n\r\n", True, None),
    ("resp-name-space", OK + b"X Y: 1\r\nContent-Length: 0\r\n\r\n", True, None),
    ("resp-value-nul", OK + b"X: a\x00b\r\nContent-Length: 0\r\n\r\n", False, None),
    ("resp-obs-fold", OK + b"X: a\r\n b\r\nContent-Length: 0\r\n\r\n", False, None),
    ("resp-bare-lf", b"HTTP/1.1 200 OK\nx-backend: 1\nContent-Length: 0\n\n", False, None),
    ("resp-empty", b"", True, None),
    ("resp-status-line-only", b"HTTP/1.1 200 OK\r\n", True, None),
    ("resp-garbage", b"garbage\r\n\r\n", True, None),
    ("resp-truncated-body", OK + b"Content-Length: 5\r\n\r\nabc", True, None),
    (
        "resp-connection-close",
        OK + b"Connection: close\r\nContent-Length: 3\r\n\r\nabc",
        False,
        None,
    ),
    (
        "resp-connection-keepalive",
        OK + b"Connection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
        False,
        None,
    ),
    ("resp-connection-foo", OK + b"Connection: foo\r\nContent-Length: 0\r\n\r\n", False, None),
    (
        "resp-connection-upgrade-200",
        OK + b"Connection: upgrade\r\nContent-Length: 0\r\n\r\n",
        False,
        _req(b"GET / HTTP/1.0"),
    ),
    ("resp-te-header", OK + b"TE: gzip\r\nContent-Length: 0\r\n\r\n", False, None),
    (
        "resp-http10-to-http10-client",
        b"HTTP/1.0 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        _req(b"GET / HTTP/1.0"),
    ),
    (
        "resp-http11-to-http10-keepalive",
        OK + b"Content-Length: 0\r\n\r\n",
        False,
        _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n"),
    ),
    (
        "resp-http10-to-http10-keepalive",
        b"HTTP/1.0 200 OK\r\nx-backend: 1\r\nContent-Length: 0\r\n\r\n",
        False,
        _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n"),
    ),
    (
        "resp-close-delimited-http10-client",
        OK + b"\r\nabc",
        True,
        _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n"),
    ),
    ("resp-502-http10-client", b"garbage\r\n\r\n", True, _req(b"GET / HTTP/1.0")),
    (
        "resp-502-http10-keepalive",
        b"garbage\r\n\r\n",
        True,
        _req(b"GET / HTTP/1.0", b"Connection: keep-alive\r\n"),
    ),
    ("resp-502-close-client", b"garbage\r\n\r\n", True, _req(headers=b"Connection: close\r\n")),
    (
        "resp-many-headers",
        OK + b"".join(b"X%d: 1\r\n" % i for i in range(101)) + b"\r\n",
        True,
        None,
    ),
    (
        "resp-header-too-big",
        OK + b"X: " + b"a" * 16000 + b"\r\nContent-Length: 0\r\n\r\n",
        True,
        None,
    ),
    (
        "resp-ws-101-no-accept",
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        True,
        _req(headers=b"Host: a\r\n" + WS_REQ + WS_KEY),
    ),
]

RESPONSES = [
    Case(name, request or _req(), (Reply(data, close),))
    for name, data, close, request in RESPONSES_RAW
]

REQUESTS = (
    REQUEST_LINE
    + URI_BYTES
    + ABSOLUTE
    + HEADERS
    + CONNECTION
    + CONTENT_LENGTH
    + TRANSFER_ENCODING
    + CHUNKED
    + PIPELINES
    + REGTESTS
)
ALL = REQUESTS + RESPONSES
