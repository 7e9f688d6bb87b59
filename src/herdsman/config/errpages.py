"""HAProxy 2.6's default error pages, and whether they fit ``tune.bufsize`` and
``tune.http.maxhdr``.

At start-up HAProxy converts each page of ``http_err_msgs[]`` (``src/http.c``)
to its internal HTX form (``http_htx_init()``, a post-parser, run after the
per-proxy checks and before the per-server ones) and refuses to start when
one does not fit; ``tune.bufsize`` and ``tune.http.maxhdr`` decide it, in
any configuration since the internal HTTP client proxy always exists.
herdsman prints the same alerts, from the same conversion as the pages of
``errorfile`` and ``errorloc`` (``config/htxmsg.py``): too many headers for
``tune.http.maxhdr`` fail with "unable to parse headers (error offset: N)",
a head or a body too large for ``tune.bufsize`` with "unable to add headers
into the HTX message" or "unable to add payload into the HTX message".

``tune.bufsize`` is always a multiple of 16 (``kw_tune.py``). Below 48 bytes
2.6.12 crashes (SIGSEGV) where its HTX header does not fit; herdsman refuses
the value with an alert of its own instead.

The pages are the bytes HTTP mode will send; they are data here because this
check is the first to need them.
"""

from __future__ import annotations

from herdsman.config.htxmsg import HTX_HEADER, convert

__all__ = ["DEFAULT_PAGES", "http_size_alerts"]

MAX_BUFSIZE = 256 << 20  # "must be below 256 MB when HTTP is in use"

_H = b"Cache-Control: no-cache\r\n"
_CLOSE = b"Connection: close\r\n"
_HTML = b"Content-Type: text/html\r\n\r\n"


def _page(status: bytes, length: int, text: bytes, *, close: bool = False) -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\nContent-length: %d\r\n" % length + _H
    return head + (_CLOSE if close else b"") + _HTML + text


# http_err_msgs[] in http_err_codes[] order (byte-identical in the 2.6.12 binary).
DEFAULT_PAGES: dict[int, bytes] = {
    200: _page(b"200 OK", 58, b"<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n"),
    400: _page(
        b"400 Bad request",
        90,
        b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
        b"</body></html>\n",
        close=True,
    ),
    401: _page(
        b"401 Unauthorized",
        112,
        b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access "
        b"this content.\n</body></html>\n",
    ),
    403: _page(
        b"403 Forbidden",
        93,
        b"<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n"
        b"</body></html>\n",
    ),
    404: _page(
        b"404 Not Found",
        83,
        b"<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n",
    ),
    405: _page(
        b"405 Method Not Allowed",
        146,
        b"<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a "
        b"request method not supported by that resource\n</body></html>\n",
    ),
    407: _page(
        b"407 Unauthorized",
        112,
        b"<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access "
        b"this content.\n</body></html>\n",
    ),
    408: _page(
        b"408 Request Time-out",
        110,
        b"<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request "
        b"in time.\n</body></html>\n",
        close=True,
    ),
    410: _page(
        b"410 Gone",
        114,
        b"<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be "
        b"available again.\n</body></html>\n",
    ),
    413: _page(
        b"413 Payload Too Large",
        106,
        b"<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum "
        b"allowed.\n</body></html>\n",
    ),
    421: _page(
        b"421 Misdirected Request",
        104,
        b"<html><body><h1>421 Misdirected Request</h1>\nRequest sent to a non-authoritative "
        b"server.\n</body></html>\n",
    ),
    422: _page(
        b"422 Unprocessable Content",
        116,
        b"<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the "
        b"contained instructions.\n</body></html>\n",
    ),
    425: _page(
        b"425 Too Early",
        80,
        b"<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n",
    ),
    429: _page(
        b"429 Too Many Requests",
        117,
        b"<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given "
        b"amount of time.\n</body></html>\n",
    ),
    500: _page(
        b"500 Internal Server Error",
        97,
        b"<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n"
        b"</body></html>\n",
    ),
    501: _page(
        b"501 Not Implemented",
        136,
        b"<html><body><h1>501 Not Implemented</h1>\n.The server does not support the "
        b"functionality required to fulfill the request.\n</body></html>\n",
    ),
    502: _page(
        b"502 Bad Gateway",
        107,
        b"<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete "
        b"response.\n</body></html>\n",
    ),
    503: _page(
        b"503 Service Unavailable",
        107,
        b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this "
        b"request.\n</body></html>\n",
    ),
    504: _page(
        b"504 Gateway Time-out",
        92,
        b"<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
        b"</body></html>\n",
    ),
}


def http_size_alerts(bufsize: int, maxhdr: int) -> list[str]:
    """The alerts HAProxy prints for these values, in its order (empty when they fit).

    ``bufsize`` is the stored, rounded ``tune.bufsize``.
    """
    if bufsize < HTX_HEADER:
        # 2.6.12 crashes here; refuse the value with the limit instead.
        return [
            f"global.tune.bufsize must be at least {HTX_HEADER} bytes (current value = "
            f"{bufsize}): HAProxy 2.6.12 crashes below."
        ]
    alerts = []
    if bufsize >= MAX_BUFSIZE:
        alerts.append(
            "global.tune.bufsize must be below 256 MB when HTTP is in use "
            f"(current value = {bufsize})."
        )
    for code, page in DEFAULT_PAGES.items():
        err = convert(page, bufsize, maxhdr)
        if err is not None:
            alerts.append(
                f"Internal error: invalid default message for HTTP return code {code}: {err}."
            )
    return alerts
