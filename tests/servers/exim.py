"""Exim (Debian package exim4-daemon-light) as an unprivileged daemon on test ports.

``exim4 -C <config> -bdf -oX <ports>`` runs from a configuration of the test
(Exim then drops its privileges, which it does not need on ports above 1024),
without reverse DNS or ident lookups, which would only slow the greeting.
One daemon serves three ports: ``port`` behaves normally, ``refusing_port``
refuses the connection with a 554 greeting, ``multiline_port`` greets with a
multi-line banner; a HELO/EHLO with the domain ``denied.test`` gets a 550.
"""

from __future__ import annotations

import grp
import os
import pwd

from herdsman.testing import free_port, listening
from servers import GROUP, USER, Server, require

HOSTNAME = "mx.herdsman.test"


class Exim(Server):
    name = "exim"

    def __init__(self) -> None:
        super().__init__()
        self.refusing_port = free_port()
        self.multiline_port = free_port()

    def prepare(self) -> None:
        (self.dir / "spool").mkdir()
        d, refusing, multi = self.dir, self.refusing_port, self.multiline_port
        # Exim's own user must be the one it runs as: it cannot switch to Debian-exim
        root = os.geteuid() == 0
        user = USER if root else pwd.getpwuid(os.geteuid()).pw_name
        group = GROUP if root else grp.getgrgid(os.getegid()).gr_name
        self.write(
            "exim.conf",
            f"""\
primary_hostname = {HOSTNAME}
exim_user = {user}
exim_group = {group}
spool_directory = {d}/spool
log_file_path = {d}/%slog
pid_file_path = {d}/exim.pid
local_interfaces = 127.0.0.1
host_lookup =
rfc1413_hosts =
never_users =
keep_environment =
tls_advertise_hosts =
smtp_banner = ${{if eq{{$received_port}}{{{multi}}}{{$smtp_active_hostname ESMTP\\nwelcome}}{{$smtp_active_hostname ESMTP Exim}}}}
acl_smtp_connect = acl_connect
acl_smtp_helo = acl_helo
acl_smtp_rcpt = acl_rcpt
begin acl
acl_connect:
  deny condition = ${{if eq{{$received_port}}{{{refusing}}}}}
  accept
acl_helo:
  deny condition = ${{if eq{{$sender_helo_name}}{{denied.test}}}}
  accept
acl_rcpt:
  deny
""",
        )

    def command(self) -> list[str]:
        ports = f"{self.port}:{self.refusing_port}:{self.multiline_port}"
        conf = str(self.dir / "exim.conf")
        return [require("exim4", "exim4-daemon-light"), "-C", conf, "-bdf", "-oX", ports]

    def _ready(self) -> bool:
        return super()._ready() and all(
            listening(p) for p in (self.refusing_port, self.multiline_port)
        )
