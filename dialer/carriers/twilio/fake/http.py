"""The fake's socket side: a threaded HTTP/1.1 handler that hands each request to ``FakeTwilio.handle`` with the
time it reached this host (the kernel's receive stamp), so a busy test process does not make a dialer's calls look
later than they were sent, and answers in one write."""

from __future__ import annotations

import io
import json
import socket
import struct
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from dialer.carriers.twilio.fake.server import FakeTwilio

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; Python does not name it


class DropConnection(Exception):
    """Raised while handling a request: the connection closes with no answer at all (lost on the server's side)."""


class StampedReader(io.RawIOBase):
    """A connection's bytes, with the kernel's receive time (wall clock) of the first segment read since the last
    ``take()``: when a request reached this host, however late a busy process gets round to reading it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.first: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n, ancillary, _flags, _addr = self.sock.recvmsg_into([b], socket.CMSG_SPACE(16))
        if self.first is None:
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                    sec, ns = struct.unpack("qq", data[:16])
                    self.first = sec + ns / 1e9
        return n

    def take(self) -> float | None:
        first, self.first = self.first, None
        return first


def handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        stamped: StampedReader | None = None

        def setup(self) -> None:
            super().setup()
            try:  # Twilio counts a call when its request arrives: read the kernel's receive time, not our own
                self.connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                return
            self.stamped = StampedReader(self.connection)
            self.rfile = io.BufferedReader(self.stamped)

        def _arrival(self) -> float:
            """Monotonic time the request arrived (its first segment's kernel timestamp when there is one)."""
            now, wall = time.monotonic(), time.time()
            first = self.stamped.take() if self.stamped is not None else None
            return now if first is None else now - max(0.0, wall - first)

        # one write per answer would still meet Nagle's algorithm and the peer's delayed ACK (~40 ms) whenever a
        # response leaves in two segments: send every segment at once
        disable_nagle_algorithm = True

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            arrived = self._arrival()
            if len(raw) < length:  # the sender died mid-request: nothing of it is applied, nobody to answer
                fake.refused["partial"] += 1
                self.close_connection = True
                return
            path, _, query = self.path.partition("?")
            form = parse_qs(raw.decode() if method == "POST" else query, keep_blank_values=True)
            try:
                status, payload = fake.handle(method, path, self.headers.get("Authorization"), form, arrived)
            except DropConnection:  # lost on the server's side: the peer hears nothing, the socket just closes
                self.close_connection = True
                return
            data = json.dumps(payload).encode()
            head = (f"{self.protocol_version} {status} {HTTPStatus(status).phrase}\r\n"
                    f"Server: fake-twilio\r\nDate: {self.date_time_string()}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
            self.wfile.write(head + data)  # headers and body in one write

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args) -> None:  # quiet: tests and the bench post thousands
            return

    return Handler
