"""MariaDB (Debian package mariadb-server): a fresh data directory from
mariadb-install-db, and check users without a password created at start-up
(``--init-file``)."""

from __future__ import annotations

from collections.abc import Sequence

from servers import Server, require


class MariaDB(Server):
    name = "mariadb"
    ready_text = "ready for connections"

    def __init__(self, users: Sequence[str] = ()) -> None:
        super().__init__()
        self.users = list(users)

    def prepare(self) -> None:
        (self.dir / "data").mkdir()
        self.run(
            [
                require("mariadb-install-db", "mariadb-server"),
                "--no-defaults",
                f"--datadir={self.dir / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]
        )
        hosts = ("localhost", "127.0.0.1")
        self.write(
            "init.sql", "".join(f"CREATE USER '{u}'@'{h}';\n" for u in self.users for h in hosts)
        )

    @property
    def version(self) -> str:
        """The server's version, as its handshake carries it after "5.5.5-"."""
        for text in self._log_text().splitlines():
            if text.startswith("Version: '"):
                return text.split("'")[1]
        raise AssertionError(f"no version in {self.log}")

    def command(self) -> list[str]:
        return [
            require("mariadbd", "mariadb-server"),
            "--no-defaults",
            f"--datadir={self.dir / 'data'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.dir / 'mysqld.sock'}",
            f"--pid-file={self.dir / 'mysqld.pid'}",
            f"--init-file={self.dir / 'init.sql'}",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=8M",
        ]
