"""A real SMTP server on loopback (aiosmtpd) whose answers a test can script."""

import asyncio
import logging
import re
import socket
import threading
from collections import Counter
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP line at INFO; the tests assert on what it received instead.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """Records what the server accepted, and how many connections it served.

    `data_replies`: answers to give to DATA, in order (e.g. ["451 4.3.0 Try later"]); when
    used up the server accepts. `refuse_rcpt`: addresses answered 550 at RCPT TO.
    `delay_before` / `delay_after`: seconds to stall before / after taking the message — after
    is the RFC 1047 window: the server holds the message but the client has no 250 yet.
    """

    def __init__(self, *, keep_messages: bool = True):
        # keep_messages=False keeps only Message-IDs: holding thousands of messages in the
        # server's process slows its event loop down as they pile up (seen in the benchmark).
        self.keep_messages = keep_messages
        self.lock = threading.Lock()
        self._raw: list[bytes] = []
        self.connections = 0
        self.data_started = 0  # DATA commands answered by the default path, stored or not
        self.data_replies: list[str] = []
        self.refuse_rcpt: set[str] = set()
        self.delay_before = 0.0
        self.delay_after = 0.0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # One EHLO per client connection (no STARTTLS here); the controller's readiness probe
        # connects without one, so it is not counted.
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            scripted = self.data_replies.pop(0) if self.data_replies else None
        if scripted:
            return scripted
        with self.lock:
            self.data_started += 1
        if self.delay_before:
            await asyncio.sleep(self.delay_before)
        with self.lock:
            # Raw bytes: parsing here would hold the GIL in the server thread, slowing the sender
            # this server shares a process with.
            self._raw.append(envelope.content if self.keep_messages else _message_id(envelope))
        if self.delay_after:
            await asyncio.sleep(self.delay_after)
        return "250 2.0.0 Queued"

    @property
    def messages(self) -> list[EmailMessage]:
        if not self.keep_messages:
            return []  # only Message-IDs were kept
        with self.lock:
            raw = list(self._raw)
        return [message_from_bytes(content, policy=policy.default) for content in raw]

    def message_ids(self) -> Counter:
        if not self.keep_messages:
            with self.lock:
                return Counter(self._raw)
        return Counter(str(message["Message-ID"]).strip() for message in self.messages)

    def count(self) -> int:
        with self.lock:
            return len(self._raw)

    def clear(self) -> None:
        with self.lock:
            self._raw.clear()
            self.connections = self.data_started = 0


def _message_id(envelope) -> str:
    found = re.search(rb"^Message-ID:\s*(<[^>]+>)", envelope.content, re.IGNORECASE | re.MULTILINE)
    return found.group(1).decode() if found else ""


@contextmanager
def smtp_sink(*, keep_messages: bool = True):
    """Start the server on a free loopback port; yields (sink, port)."""
    sink = Sink(keep_messages=keep_messages)
    port = free_port()
    # server_hostname: otherwise every connection waits on socket.getfqdn() for its greeting.
    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class SinkProcess:
    """The same sink in a process of its own, as a real mail server is: the benchmark's figure
    then measures the sender, not a server thread competing with it for the interpreter."""

    def __init__(self, port: int, out_path: str):
        import subprocess
        import sys

        self.port, self.out_path = port, out_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.notifications.smtp", str(port), out_path]
        )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                import time

                time.sleep(0.05)
        raise RuntimeError("the SMTP sink process did not start")

    def stop(self) -> dict:
        """Stop the server; returns {"connections": n, "message_ids": [...]}."""
        import json
        import signal

        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        with open(self.out_path) as handle:
            return json.load(handle)


def _serve(port: int, out_path: str) -> None:
    import json
    import signal

    sink = Sink(keep_messages=False)
    controller = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()
    with open(out_path, "w") as handle:
        json.dump({"connections": sink.connections, "message_ids": list(sink._raw)}, handle)


if __name__ == "__main__":
    import sys

    _serve(int(sys.argv[1]), sys.argv[2])
