"""Request body limits, enforced before anything reads the body.

A WSGI middleware, so it holds for every route of the app it wraps: a request whose declared length is over its
route's limit is answered 413 at once, without a byte of the body read; a body without a declared length (chunked)
is read through a counter that stops at the limit. The connection is closed after a refusal, so the server does
not have to drain what the client is still sending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from werkzeug.exceptions import RequestEntityTooLarge

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class Limit:
    pattern: str  # a regular expression the path must match from its start; the first matching limit wins
    max_bytes: int


class LimitExceeded(RequestEntityTooLarge):
    """A body without a declared length ran past its limit (Flask answers 413)."""


class _CountingInput:
    """``wsgi.input`` that refuses to hand over more than ``limit`` bytes in all."""

    def __init__(self, stream, limit: int) -> None:
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise LimitExceeded
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit + 1 - self.read_bytes
        return self._count(self.stream.read(min(size, self.limit + 1 - self.read_bytes)))

    def readline(self, size: int = -1) -> bytes:
        cap = self.limit + 1 - self.read_bytes
        return self._count(self.stream.readline(cap if size is None or size < 0 else min(size, cap)))

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class BodyLimits:
    """Wrap a WSGI app; ``limits`` by path, in order; ``default`` for every other path."""

    def __init__(self, app: Callable, default: int, limits: Iterable[Limit] = ()) -> None:
        self.app, self.default = app, default
        self.limits = [(re.compile(x.pattern), x.max_bytes) for x in limits]

    def limit_for(self, path: str) -> int:
        for pattern, max_bytes in self.limits:
            if pattern.match(path):
                return max_bytes
        return self.default

    def __call__(self, environ: dict, start_response: Callable):
        limit = self.limit_for(environ.get("PATH_INFO", ""))
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return _refuse(start_response, "400 Bad Request", "The request's Content-Length is not a number.")
            if length > limit:
                return _refuse(start_response, "413 Request Entity Too Large", _too_large(limit))
        elif environ.get("wsgi.input") is not None and environ.get("REQUEST_METHOD") in ("POST", "PUT", "PATCH"):
            environ["wsgi.input"] = _CountingInput(environ["wsgi.input"], limit)
        try:
            return self.app(environ, start_response)
        except LimitExceeded:
            return _refuse(start_response, "413 Request Entity Too Large", _too_large(limit))


def _too_large(limit: int) -> str:
    size = f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"
    return f"The request is larger than this address accepts ({size})."


def _refuse(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                            ("Connection", "close")])
    return [body]
