"""redis-server (Debian package redis-server), with or without ``requirepass``."""

from __future__ import annotations

from servers import Server, require


class Redis(Server):
    name = "redis"

    def __init__(self, password: str | None = None) -> None:
        super().__init__()
        self.password = password

    def command(self) -> list[str]:
        argv = [
            require("redis-server", "redis-server"),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "no",
            "--logfile", "",
        ]  # fmt: skip
        if self.password is not None:
            argv += ["--requirepass", self.password]
        return argv
