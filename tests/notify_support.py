"""A real SMTP server for the notice tests and the benchmark: aiosmtpd on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collect:
    """Keeps every message received; refuses the addresses in `refuse` with 550 (a bad address)."""

    def __init__(self, refuse: set[str] = frozenset()):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = set(refuse)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        with self.lock:
            return [to for tos, _data in self.messages for to in tos]

    def parsed(self):
        with self.lock:
            return [BytesParser(policy=policy.default).parsebytes(data) for _tos, data in self.messages]


class SmtpServer:
    def __init__(self, port: int | None = None, refuse: set[str] = frozenset()):
        self.port = port or free_port()
        self.handler = Collect(refuse)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self) -> dict:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_DEFAULT_SENDER": "consult@example.org"}
