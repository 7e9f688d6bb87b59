"""HAProxy 2.6's default error pages, and whether they fit ``tune.bufsize`` and
``tune.http.maxhdr``.

At start-up HAProxy converts each page of ``http_err_msgs[]`` (``src/http.c``)
to its internal HTX form (``http_htx_init()``, a post-parser, run after the
per-proxy checks and before the per-server ones) and refuses to start when
one does not fit; ``tune.bufsize`` and ``tune.http.maxhdr`` decide it, in
any configuration since the internal HTTP client proxy always exists.
herdsman prints the same alerts, from the same conversion as the pages of
``errorfile`` and ``errorloc`` (``http/errorfile.py``): too many headers for
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

from herdsman.http.errorfile import HTX_HEADER, convert
from herdsman.http.errors import MESSAGES

__all__ = ["DEFAULT_PAGES", "http_size_alerts"]

MAX_BUFSIZE = 256 << 20  # "must be below 256 MB when HTTP is in use"

# http_err_msgs[] in http_err_codes[] order: the HTTP engine's (byte-identical to 2.6.12's)
DEFAULT_PAGES: dict[int, bytes] = MESSAGES


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
