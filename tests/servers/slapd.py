"""OpenLDAP's slapd (Debian package slapd): a minimal slapd.conf and no database, which
is all an anonymous bind needs; ``anonymous=False`` adds ``disallow bind_anon``."""

from __future__ import annotations

from servers import Server, require


class Slapd(Server):
    name = "slapd"

    def __init__(self, anonymous: bool = True) -> None:
        super().__init__()
        self.anonymous = anonymous

    def prepare(self) -> None:
        self.write(
            "slapd.conf",
            "include /etc/ldap/schema/core.schema\n"
            f"pidfile {self.dir}/slapd.pid\n"
            f"argsfile {self.dir}/slapd.args\n"
            + ("" if self.anonymous else "disallow bind_anon\n"),
        )

    def command(self) -> list[str]:
        # -d 0: stay in the foreground
        url = f"ldap://{self.addr}/"
        return [require("slapd", "slapd"), "-f", str(self.dir / "slapd.conf"), "-h", url, "-d", "0"]
