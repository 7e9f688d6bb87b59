"""What a stream tells its traffic log (HAProxy's ``struct strm_logs`` and the
termination flags of ``stream-t.h``), as plain data.

The data path fills one ``StreamLog`` per logged stream (a TCP connection,
an HTTP transaction) only when its frontend has a log format, and hands it to
the frontend's logger when the stream ends; ``admin/trafficlog.py`` turns it
into the line. Times are milliseconds since the accept, -1 when the step was
not reached, as HAProxy keeps them (``tv_ms_elapsed()``); the line's ``%Tw``,
``%Tc``... are differences of these.

Termination state (``%ts``, spec §2.6): the first character says what ended
the stream (``sess_term_cond[]``), the second in which phase
(``sess_fin_state[]``); each is set once, by the first event that explains
the end (``set_term()``), as HAProxy's ``if (!(s->flags & SF_ERR_MASK))``.
"""

from __future__ import annotations

from herdsman.core.backend import Backend, Server

# SF_ERR_* as sess_term_cond[] prints them
ERR_NONE = "-"
ERR_LOCAL = "L"  # answered by the proxy itself (stats page, monitor-uri)
ERR_CLITO = "c"  # client timeout
ERR_CLICL = "C"  # client closed or reset
ERR_SRVTO = "s"  # server timeout
ERR_SRVCL = "S"  # server closed, reset or refused
ERR_PRXCOND = "P"  # the proxy refused (bad request, deny)
ERR_RESOURCE = "R"
ERR_INTERNAL = "I"
ERR_DOWN = "D"  # the server went down (on-marked-down shutdown-sessions)
ERR_KILLED = "K"  # killed by an operator (shutdown sessions)
ERR_UP = "U"  # on-marked-up shutdown-backup-sessions
# SF_FINST_* as sess_fin_state[] prints them
FIN_NONE = "-"
FIN_R = "R"  # waiting for the request
FIN_C = "C"  # connecting to the server
FIN_H = "H"  # waiting for the response head
FIN_D = "D"  # data phase
FIN_L = "L"  # last data sent to the client
FIN_Q = "Q"  # in a queue
FIN_T = "T"  # tarpit
# the causes after which a line is an error (strm_log(): "> SF_ERR_LOCAL")
ERRORS = frozenset("cCsSPRIDKU")


class StreamLog:
    """One stream's log facts. ``accept_wall`` is the Unix time of the accept (for
    the dates), the ``t_*`` fields milliseconds since the accept."""

    __slots__ = (
        "accept_wall",
        "t_idle",
        "t_handshake",
        "t_request",
        "t_queue",
        "t_connect",
        "t_data",
        "t_close",
        "bytes_in",
        "bytes_out",
        "status",
        "uri",
        "err",
        "fin",
        "retries",
        "redispatched",
        "srv_queue_pos",
        "prx_queue_pos",
        "client",
        "local",
        "server_addr",
        "luid",
        "backend",
        "server",
        "target",
        "req_caps",
        "rsp_caps",
        "in_stream",
        "txn",
        "cookie",
        "cookies",
    )

    def __init__(self, accept_wall: float, client: object, local: object, luid: int) -> None:
        self.accept_wall = accept_wall
        self.t_idle = -1
        self.t_handshake = 0
        self.t_request = -1
        self.t_queue = -1
        self.t_connect = -1
        self.t_data = -1
        self.t_close = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.status = 0  # HTTP status (0: none, -1: aborted)
        self.uri: str | None = None  # the request line as logged ("GET / HTTP/1.1")
        self.err = ERR_NONE
        self.fin = FIN_NONE
        self.retries = 0
        self.redispatched = False
        # %tsc's last two: the persistence cookie the client sent and what the
        # response did with it (TX_CK_*, TX_SCK_*), "--" when the backend has none
        self.cookie = "--"
        self.cookies: tuple[str | None, str | None] = (None, None)  # %CC, %CS
        self.srv_queue_pos = 0
        self.prx_queue_pos = 0
        self.client = client  # the client's address (a sockaddr tuple, or a UNIX path)
        self.local = local  # the address the client connected to
        self.server_addr: object = None  # where the server connection went
        self.luid = luid  # the listener's id (%cp of a UNIX client)
        self.backend: Backend | None = None
        self.server: Server | None = None
        self.target = ""  # %s of a stream answered by an applet ("<STATS>"), else ""
        self.req_caps: list[str | None] | None = None
        self.rsp_caps: list[str | None] | None = None
        self.in_stream = True  # False: a connection error logged without a stream (sess_log())
        self.txn: object = None  # the rules' transaction (sample/txn.py): what %[...] reads

    def set_term(self, err: str, fin: str) -> None:
        """Record why and where the stream ended, unless already known."""
        if self.err == ERR_NONE:
            self.err = err
        if self.fin == FIN_NONE:
            self.fin = fin

    @property
    def is_error(self) -> bool:
        """``strm_log()``'s ``err``, the test of ``log-separate-errors`` and
        ``dontlog-normal`` (2.6.12 compares the retries with 0)."""
        return (
            self.redispatched
            or self.err in ERRORS
            or (self.err == ERR_NONE and self.retries != 0)
            or self.status >= 500
        )
