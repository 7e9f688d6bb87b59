"""``openssl s_server`` (Debian package openssl) with a throw-away certificate."""

from __future__ import annotations

from servers import Server, require


class OpenSSLServer(Server):
    name = "openssl"

    def prepare(self) -> None:
        self.run(
            [
                require("openssl", "openssl"),
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=herdsman.test",
                "-keyout", "key.pem", "-out", "cert.pem",
            ]
        )  # fmt: skip

    def command(self) -> list[str]:
        return [
            require("openssl", "openssl"),
            "s_server", "-accept", self.addr, "-cert", "cert.pem", "-key", "key.pem", "-quiet",
        ]  # fmt: skip
