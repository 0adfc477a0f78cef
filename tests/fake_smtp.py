"""A minimal SMTP server for tests that send through Django's real SMTP backend (worker
processes cannot share the test's locmem outbox). Plain SMTP, no TLS or auth; it keeps every
message it accepts in ``received`` (envelope recipients and the raw message)."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    parsed: Message = field(init=False)

    def __post_init__(self) -> None:
        self.parsed = message_from_bytes(self.raw)


class FakeSmtp:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.received: list[Received] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def _reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())
                self.wfile.flush()

            def handle(self) -> None:
                sender, recipients = "", []
                self._reply("220 fake-smtp ready")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode(errors="replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self._reply("250-fake-smtp")
                        self._reply("250 8BITMIME")
                    elif verb == "HELO":
                        self._reply("250 fake-smtp")
                    elif verb == "MAIL":
                        sender, recipients = command.partition(":")[2].strip(" <>"), []
                        self._reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.partition(":")[2].strip(" <>"))
                        self._reply("250 OK")
                    elif verb == "DATA":
                        self._reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        with fake.lock:
                            fake.received.append(Received(sender, recipients, b"".join(lines)))
                        self._reply("250 OK queued")
                    elif verb == "QUIT":
                        self._reply("221 Bye")
                        return
                    elif verb in ("RSET", "NOOP"):
                        self._reply("250 OK")
                    else:
                        self._reply("502 Command not implemented")

        self.server = socketserver.ThreadingTCPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> FakeSmtp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
