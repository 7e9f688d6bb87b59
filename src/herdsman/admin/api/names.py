"""The names and descriptions of the stats fields, as HAProxy 2.6.12 prints them.

Read from ``show stat typed desc`` and ``show info typed desc`` of the binary:
103 static ``show stat`` fields (``agg_server_status`` and ``agg_check_status``
were added in 2.6.x after ``agg_server_check_status``), then the fields of the
stats modules in registration order: ssl (3), h2 (13), h1 (8). In CSV a ``-``
column separates the two parts. ``show info`` fields keep their positions
(the typed form prints them).
"""

from __future__ import annotations

STAT_FIELDS: tuple[tuple[str, str], ...] = (
    ("pxname", "Proxy name"),
    ("svname", "Server name"),
    ("qcur", "Number of current queued connections"),
    ("qmax", "Highest value of queued connections encountered since process started"),
    ("scur", "Number of current sessions on the frontend, backend or server"),
    ("smax", "Highest value of current sessions encountered since process started"),
    ("slim", "Frontend/listener/server's maxconn, backend's fullconn"),
    ("stot", "Total number of sessions since process started"),
    ("bin", "Total number of request bytes since process started"),
    ("bout", "Total number of response bytes since process started"),
    ("dreq", "Total number of denied requests since process started"),
    ("dresp", "Total number of denied responses since process started"),
    ("ereq", "Total number of invalid requests since process started"),
    ("econ", "Total number of failed connections to server since the worker process started"),
    ("eresp", "Total number of invalid responses since the worker process started"),
    ("wretr", "Total number of server connection retries since the worker process started"),
    (
        "wredis",
        "Total number of server redispatches due to connection failures since the worker process started",
    ),
    (
        "status",
        "Frontend/listen status: OPEN/WAITING/FULL/STOP; backend: UP/DOWN; server: last check status",
    ),
    (
        "weight",
        "Server's effective weight, or sum of active servers' effective weights for a backend",
    ),
    ("act", "Total number of active UP servers with a non-zero weight"),
    ("bck", "Total number of backup UP servers with a non-zero weight"),
    (
        "chkfail",
        "Total number of failed individual health checks per server/backend, since the worker process started",
    ),
    (
        "chkdown",
        "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started",
    ),
    ("lastchg", "How long ago the last server state changed, in seconds"),
    ("downtime", "Total time spent in DOWN state, for server or backend"),
    ("qlimit", "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
    ("pid", "Relative worker process number (1)"),
    ("iid", "Frontend or Backend numeric identifier ('id' setting)"),
    ("sid", "Server numeric identifier ('id' setting)"),
    (
        "throttle",
        "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)",
    ),
    (
        "lbtot",
        "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)",
    ),
    ("tracked", "Name of the other server this server tracks for its state"),
    ("type", "Type of the object (Listener, Frontend, Backend, Server)"),
    (
        "rate",
        "Total number of sessions processed by this object over the last second (sessions for listeners/frontends, requests for backends/servers)",
    ),
    (
        "rate_lim",
        "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)",
    ),
    ("rate_max", "Highest value of sessions per second observed since the worker process started"),
    (
        "check_status",
        "Status report of the server's latest health check, prefixed with '*' if a check is currently in progress",
    ),
    ("check_code", "HTTP/SMTP/LDAP status code reported by the latest server health check"),
    ("check_duration", "Total duration of the latest server health check, in milliseconds"),
    (
        "hrsp_1xx",
        "Total number of HTTP responses with status 100-199 returned by this object since the worker process started",
    ),
    (
        "hrsp_2xx",
        "Total number of HTTP responses with status 200-299 returned by this object since the worker process started",
    ),
    (
        "hrsp_3xx",
        "Total number of HTTP responses with status 300-399 returned by this object since the worker process started",
    ),
    (
        "hrsp_4xx",
        "Total number of HTTP responses with status 400-499 returned by this object since the worker process started",
    ),
    (
        "hrsp_5xx",
        "Total number of HTTP responses with status 500-599 returned by this object since the worker process started",
    ),
    (
        "hrsp_other",
        "Total number of HTTP responses with status <100, >599 returned by this object since the worker process started (error -1 included)",
    ),
    (
        "hanafail",
        "Total number of failed checks caused by an 'on-error' directive after an 'observe' condition matched",
    ),
    ("req_rate", "Number of HTTP requests processed over the last second on this object"),
    ("req_rate_max", "Highest value of http requests observed since the worker process started"),
    (
        "req_tot",
        "Total number of HTTP requests processed by this object since the worker process started",
    ),
    (
        "cli_abrt",
        "Total number of requests or connections aborted by the client since the worker process started",
    ),
    (
        "srv_abrt",
        "Total number of requests or connections aborted by the server since the worker process started",
    ),
    (
        "comp_in",
        "Total number of bytes submitted to the HTTP compressor for this object since the worker process started",
    ),
    (
        "comp_out",
        "Total number of bytes emitted by the HTTP compressor for this object since the worker process started",
    ),
    (
        "comp_byp",
        "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)",
    ),
    (
        "comp_rsp",
        "Total number of HTTP responses that were compressed for this object since the worker process started",
    ),
    (
        "lastsess",
        "How long ago some traffic was seen on this object on this worker process, in seconds",
    ),
    (
        "last_chk",
        "Short description of the latest health check report for this server (see also check_desc)",
    ),
    (
        "last_agt",
        "Short description of the latest agent check report for this server (see also agent_desc)",
    ),
    (
        "qtime",
        "Time spent in the queue, in milliseconds, averaged over the 1024 last requests (backend/server)",
    ),
    (
        "ctime",
        "Time spent waiting for a connection to complete, in milliseconds, averaged over the 1024 last requests (backend/server)",
    ),
    (
        "rtime",
        "Time spent waiting for a server response, in milliseconds, averaged over the 1024 last requests (backend/server)",
    ),
    (
        "ttime",
        "Total request+response time (request+queue+connect+response+processing), in milliseconds, averaged over the 1024 last requests (backend/server)",
    ),
    (
        "agent_status",
        "Status report of the server's latest agent check, prefixed with '*' if a check is currently in progress",
    ),
    ("agent_code", "Status code reported by the latest server agent check"),
    ("agent_duration", "Total duration of the latest server agent check, in milliseconds"),
    ("check_desc", "Textual description of the latest health check report for this server"),
    ("agent_desc", "Textual description of the latest agent check report for this server"),
    (
        "check_rise",
        "Number of successful health checks before declaring a server UP (server 'rise' setting)",
    ),
    (
        "check_fall",
        "Number of failed health checks before declaring a server DOWN (server 'fall' setting)",
    ),
    ("check_health", "Current server health check level (0..fall-1=DOWN, fall..rise-1=UP)"),
    (
        "agent_rise",
        "Number of successful agent checks before declaring a server UP (server 'rise' setting)",
    ),
    (
        "agent_fall",
        "Number of failed agent checks before declaring a server DOWN (server 'fall' setting)",
    ),
    ("agent_health", "Current server agent check level (0..fall-1=DOWN, fall..rise-1=UP)"),
    (
        "addr",
        "Server's address:port, shown only if show-legends is set, or at levels oper/admin for the CLI",
    ),
    (
        "cookie",
        "Backend's cookie name or Server's cookie value, shown only if show-legends is set, or at levels oper/admin for the CLI",
    ),
    ("mode", "'mode' setting (tcp/http/health/cli)"),
    (
        "algo",
        "Backend's load balancing algorithm, shown only if show-legends is set, or at levels oper/admin for the CLI",
    ),
    (
        "conn_rate",
        "Number of new connections accepted over the last second on the frontend for this worker process",
    ),
    (
        "conn_rate_max",
        "Highest value of connections per second observed since the worker process started",
    ),
    (
        "conn_tot",
        "Total number of new connections accepted on this frontend since the worker process started",
    ),
    (
        "intercepted",
        "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started",
    ),
    (
        "dcon",
        "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
    ),
    (
        "dses",
        "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started",
    ),
    ("wrew", "Total number of failed HTTP header rewrites since the worker process started"),
    (
        "connect",
        "Total number of outgoing connection attempts on this backend/server since the worker process started",
    ),
    (
        "reuse",
        "Total number of reused connection on this backend/server since the worker process started",
    ),
    (
        "cache_lookups",
        "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started",
    ),
    (
        "cache_hits",
        "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started",
    ),
    ("srv_icur", "Current number of idle connections available for reuse on this server"),
    (
        "src_ilim",
        "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)",
    ),
    ("qtime_max", "Maximum observed time spent in the queue, in milliseconds (backend/server)"),
    (
        "ctime_max",
        "Maximum observed time spent waiting for a connection to complete, in milliseconds (backend/server)",
    ),
    (
        "rtime_max",
        "Maximum observed time spent waiting for a server response, in milliseconds (backend/server)",
    ),
    (
        "ttime_max",
        "Maximum observed total request+response time (request+queue+connect+response+processing), in milliseconds (backend/server)",
    ),
    ("eint", "Total number of internal errors since process started"),
    ("idle_conn_cur", "Current number of unsafe idle connections"),
    ("safe_conn_cur", "Current number of safe idle connections"),
    ("used_conn_cur", "Current number of connections in use"),
    ("need_conn_est", "Estimated needed number of connections"),
    ("uweight", "Server's user weight, or sum of active servers' user weights for a backend"),
    ("agg_server_status", "Backend's aggregated gauge of servers' status"),
    ("agg_server_check_status", "Backend's aggregated gauge of servers' state check status"),
    ("agg_check_status", "Backend's aggregated gauge of servers' state check status"),
    ("ssl_sess", "Total number of ssl sessions established"),
    ("ssl_reused_sess", "Total number of ssl sessions reused"),
    ("ssl_failed_handshake", "Total number of failed handshake"),
    ("h2_headers_rcvd", "Total number of received HEADERS frames"),
    ("h2_data_rcvd", "Total number of received DATA frames"),
    ("h2_settings_rcvd", "Total number of received SETTINGS frames"),
    ("h2_rst_stream_rcvd", "Total number of received RST_STREAM frames"),
    ("h2_goaway_rcvd", "Total number of received GOAWAY frames"),
    ("h2_detected_conn_protocol_errors", "Total number of connection protocol errors"),
    ("h2_detected_strm_protocol_errors", "Total number of stream protocol errors"),
    ("h2_rst_stream_resp", "Total number of RST_STREAM sent on detected error"),
    ("h2_goaway_resp", "Total number of GOAWAY sent on detected error"),
    ("h2_open_connections", "Count of currently open connections"),
    ("h2_backend_open_streams", "Count of currently open streams"),
    ("h2_total_connections", "Total number of connections"),
    ("h2_backend_total_streams", "Total number of streams"),
    ("h1_open_connections", "Count of currently open connections"),
    ("h1_open_streams", "Count of currently open streams"),
    ("h1_total_connections", "Total number of connections"),
    ("h1_total_streams", "Total number of streams"),
    ("h1_bytes_in", "Total number of bytes received"),
    ("h1_bytes_out", "Total number of bytes send"),
    ("h1_spliced_bytes_in", "Total number of bytes received using kernel splicing"),
    ("h1_spliced_bytes_out", "Total number of bytes sendusing kernel splicing"),
)
STATIC_FIELDS = 103  # ST_F_TOTAL_FIELDS of 2.6.12

# (position, name, description) of "show info", 2.6.12's order and positions
INFO_FIELDS: tuple[tuple[int, str, str], ...] = (
    (0, "Name", "Product name"),
    (1, "Version", "Product version"),
    (2, "Release_date", "Date of latest source code update"),
    (3, "Nbthread", "Number of started threads (global.nbthread)"),
    (4, "Nbproc", "Number of started worker processes (historical, always 1)"),
    (5, "Process_num", "Relative worker process number (1)"),
    (6, "Pid", "This worker process identifier for the system"),
    (7, "Uptime", "How long ago this worker process was started (days+hours+minutes+seconds)"),
    (8, "Uptime_sec", "How long ago this worker process was started (seconds)"),
    (9, "Memmax_MB", "Worker process's hard limit on memory usage in MB (-m on command line)"),
    (10, "PoolAlloc_MB", "Amount of memory allocated in pools (in MB)"),
    (11, "PoolUsed_MB", "Amount of pool memory currently used (in MB)"),
    (12, "PoolFailed", "Number of failed pool allocations since this worker was started"),
    (13, "Ulimit-n", "Hard limit on the number of per-process file descriptors"),
    (14, "Maxsock", "Hard limit on the number of per-process sockets"),
    (
        15,
        "Maxconn",
        "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)",
    ),
    (
        16,
        "Hard_maxconn",
        "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)",
    ),
    (17, "CurrConns", "Current number of connections on this worker process"),
    (18, "CumConns", "Total number of connections on this worker process since started"),
    (19, "CumReq", "Total number of requests on this worker process since started"),
    (
        20,
        "MaxSslConns",
        "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited",
    ),
    (21, "CurrSslConns", "Current number of SSL endpoints on this worker process (front+back)"),
    (
        22,
        "CumSslConns",
        "Total number of SSL endpoints on this worker process since started (front+back)",
    ),
    (23, "Maxpipes", "Hard limit on the number of pipes for splicing, 0=unlimited"),
    (24, "PipesUsed", "Current number of pipes in use in this worker process"),
    (25, "PipesFree", "Current number of allocated and available pipes in this worker process"),
    (
        26,
        "ConnRate",
        "Number of front connections created on this worker process over the last second",
    ),
    (27, "ConnRateLimit", "Hard limit for ConnRate (global.maxconnrate)"),
    (
        28,
        "MaxConnRate",
        "Highest ConnRate reached on this worker process since started (in connections per second)",
    ),
    (29, "SessRate", "Number of sessions created on this worker process over the last second"),
    (30, "SessRateLimit", "Hard limit for SessRate (global.maxsessrate)"),
    (
        31,
        "MaxSessRate",
        "Highest SessRate reached on this worker process since started (in sessions per second)",
    ),
    (
        32,
        "SslRate",
        "Number of SSL connections created on this worker process over the last second",
    ),
    (33, "SslRateLimit", "Hard limit for SslRate (global.maxsslrate)"),
    (
        34,
        "MaxSslRate",
        "Highest SslRate reached on this worker process since started (in connections per second)",
    ),
    (
        35,
        "SslFrontendKeyRate",
        "Number of SSL keys created on frontends in this worker process over the last second",
    ),
    (
        36,
        "SslFrontendMaxKeyRate",
        "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)",
    ),
    (
        37,
        "SslFrontendSessionReuse_pct",
        "Percent of frontend SSL connections which did not require a new key",
    ),
    (
        38,
        "SslBackendKeyRate",
        "Number of SSL keys created on backends in this worker process over the last second",
    ),
    (
        39,
        "SslBackendMaxKeyRate",
        "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)",
    ),
    (
        40,
        "SslCacheLookups",
        "Total number of SSL session ID lookups in the SSL session cache on this worker since started",
    ),
    (
        41,
        "SslCacheMisses",
        "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started",
    ),
    (
        42,
        "CompressBpsIn",
        "Number of bytes submitted to the HTTP compressor in this worker process over the last second",
    ),
    (
        43,
        "CompressBpsOut",
        "Number of bytes emitted by the HTTP compressor in this worker process over the last second",
    ),
    (
        44,
        "CompressBpsRateLim",
        "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled",
    ),
    (
        45,
        "ZlibMemUsage",
        "Amount of memory currently used by HTTP compression on the current worker process (in bytes)",
    ),
    (
        46,
        "MaxZlibMemUsage",
        "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)",
    ),
    (47, "Tasks", "Total number of tasks in the current worker process (active + sleeping)"),
    (48, "Run_queue", "Total number of active tasks+tasklets in the current worker process"),
    (49, "Idle_pct", "Percentage of last second spent waiting in the current worker thread"),
    (50, "node", "Node name (global.node)"),
    (51, "description", "Node description (global.description)"),
    (52, "Stopping", "1 if the worker process is currently stopping, otherwise zero"),
    (
        53,
        "Jobs",
        "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)",
    ),
    (
        54,
        "Unstoppable Jobs",
        "Current number of unstoppable jobs on the current worker process (master connections)",
    ),
    (55, "Listeners", "Current number of active listeners on the current worker process"),
    (
        56,
        "ActivePeers",
        "Current number of verified active peers connections on the current worker process",
    ),
    (
        57,
        "ConnectedPeers",
        "Current number of peers having passed the connection step on the current worker process",
    ),
    (58, "DroppedLogs", "Total number of dropped logs for current worker process since started"),
    (
        59,
        "BusyPolling",
        "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)",
    ),
    (
        60,
        "FailedResolutions",
        "Total number of failed DNS resolutions in current worker process since started",
    ),
    (61, "TotalBytesOut", "Total number of bytes emitted by current worker process since started"),
    (
        62,
        "TotalSplicdedBytesOut",
        "Total number of bytes emitted by current worker process through a kernel pipe since started",
    ),
    (63, "BytesOutRate", "Number of bytes emitted by current worker process over the last second"),
    (
        64,
        "DebugCommandsIssued",
        "Number of debug commands issued on this process (anything > 0 is unsafe)",
    ),
    (
        65,
        "CumRecvLogs",
        "Total number of log messages received by log-forwarding listeners on this worker process since started",
    ),
    (66, "Build info", "Build info"),
    (
        67,
        "Memmax_bytes",
        "Worker process's hard limit on memory usage in byes (-m on command line)",
    ),
    (68, "PoolAlloc_bytes", "Amount of memory allocated in pools (in bytes)"),
    (69, "PoolUsed_bytes", "Amount of pool memory currently used (in bytes)"),
    (70, "Start_time_sec", "Start time in seconds"),
    (71, "Tainted", "Experimental features used"),
)
