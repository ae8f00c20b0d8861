"""A small SMTP server of the tests' own, on a free loopback port, that can misbehave on purpose.

`SMTPServer(before_reply=…)` accepts every message; once it holds the whole DATA it calls
`before_reply(message)` (sleep past a time limit, stop a database…) and only then answers
`reply` (250 by default). `messages` is what it accepted, whether the client heard the answer
or not; `drop_after_data=True` closes the connection instead of answering.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import Message


class SMTPServer:
    def __init__(self, *, before_reply: Callable[[bytes], None] | None = None, reply: bytes = b"250 2.0.0 Ok: queued",
                 drop_after_data: bool = False) -> None:
        self.before_reply = before_reply
        self.reply = reply
        self.drop_after_data = drop_after_data
        self.messages: list[bytes] = []
        self.aborted = 0  # connections that ended in the middle of DATA
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer._session(self.rfile, self.wfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def parsed(self) -> list[Message]:
        return [message_from_bytes(m, policy=policy.default) for m in self.messages]

    def _session(self, rfile, wfile) -> None:
        def say(line: bytes) -> None:
            wfile.write(line + b"\r\n")
            wfile.flush()

        say(b"220 test-smtp ESMTP")
        while True:
            line = rfile.readline()
            if not line:
                return
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                say(b"250-test-smtp")
                say(b"250 SIZE 10485760")
            elif command.startswith((b"MAIL", b"RCPT", b"RSET", b"NOOP")):
                say(b"250 2.1.0 Ok")
            elif command == b"DATA":
                say(b"354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    chunk = rfile.readline()
                    if not chunk:
                        self.aborted += 1  # no final ".": the transaction is discarded
                        return
                    if chunk in (b".\r\n", b".\n"):
                        break
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                data = b"".join(lines)
                self.messages.append(data)
                if self.before_reply:
                    self.before_reply(data)
                if self.drop_after_data:
                    return
                say(self.reply)
            elif command == b"QUIT":
                say(b"221 2.0.0 Bye")
                return
            else:
                say(b"502 5.5.2 Error: command not recognized")
