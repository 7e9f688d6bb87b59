"""PostgreSQL (Debian package postgresql): initdb into the test's directory, the server
on its port and with its socket there; ``hba`` maps user names to pg_hba methods
(trust, md5, scram-sha-256, reject)."""

from __future__ import annotations

import glob
import signal

from servers import Server, require


def _bin(program: str) -> str:
    # Debian keeps the server programs out of PATH, under the major version
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return require(program, "postgresql", ":".join(dirs[-1:]) or None)


class Postgres(Server):
    name = "postgres"
    ready_text = "ready to accept connections"
    stop_signal = signal.SIGINT  # fast shutdown: do not wait for clients

    def __init__(self, hba: dict[str, str]) -> None:
        super().__init__()
        self.hba = hba

    def prepare(self) -> None:
        self.run(
            [_bin("initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        )
        lines = [f"host all {user} 127.0.0.1/32 {method}\n" for user, method in self.hba.items()]
        (self.dir / "data" / "pg_hba.conf").write_text("".join(lines))

    def command(self) -> list[str]:
        return [
            _bin("postgres"),
            "-D", str(self.dir / "data"),
            "-p", str(self.port),
            "-h", "127.0.0.1",
            "-k", str(self.dir),
            "-c", "fsync=off",
        ]  # fmt: skip
