"""Parse a big lead file in a second process while this one scrubs and writes: an import uses both cores.

Reading, normalizing, de-duplicating and building rows is pure Python and takes about as long as the inserts, so
one process cannot overlap them (the GIL). A child process runs ``RowProcessor`` without a scrubber and sends
finished batches through a pipe; the parent scrubs them (the scrubber reads through the import's own transaction)
and writes them. The pipe's buffer bounds how far ahead the child runs, so memory stays flat. The parent owns the
transaction: if it fails or is killed, nothing is stored, and the child stops at its next send.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from campaigns.leadimport.mapping import ColumnMap
from campaigns.leadimport.rows import Counts, RowProcessor, Target
from dnc import settings
from dnc.errors import UserError

MIN_BYTES = 16 << 20  # below ~200,000 rows the child's start-up (~1 s) costs more than the overlap gains


@dataclass
class Batch:
    """One parsed batch and how far the child has read."""

    leads: list[tuple]
    rejects: list[tuple]
    rows: int
    bytes_done: int


class ChildParser:
    """Iterate the child's batches; afterwards ``counts`` and ``blank`` hold its totals.

    The child is ``python -m campaigns.leadimport.parallel``: its job arrives pickled on stdin, batches leave
    pickled on stdout (a pipe, so the child blocks once it is a few batches ahead). A plain subprocess rather
    than ``multiprocessing``: nothing of the calling program (a console, a worker, a test runner) is re-imported.
    """

    def __init__(self, path: Path, display: str, columns: ColumnMap, target: Target, existing: set[int],
                 batch: int) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the child, closed in close()
        self._proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=_child_env())
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._out: BinaryIO = self._proc.stdout
        try:
            pickle.dump((str(path), display, columns, target, existing, batch), self._proc.stdin, protocol=5)
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died at start: reading its output says why
        self.counts = Counts()
        self.blank = 0

    def __iter__(self) -> Iterator[Batch]:
        while True:
            try:
                kind, payload = pickle.load(self._out)
            except (EOFError, pickle.UnpicklingError):
                raise RuntimeError(f"the import's parser process ended unexpectedly (exit code "
                                   f"{self._proc.wait()}): {self._last_error_line()}") from None
            if kind == "batch":
                yield Batch(*payload)
            elif kind == "done":
                counts, self.blank = payload
                self.counts = Counts(**counts)
                return
            elif kind == "user_error":
                raise UserError(payload)
            else:
                raise RuntimeError(f"the import's parser process failed: {payload}")

    def close(self) -> None:
        """Stop the child if it still runs (the parent failed or finished early) and reap it."""
        self._out.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def _last_error_line(self) -> str:
        self._stderr.seek(0)
        lines = [x for x in self._stderr.read().decode("utf-8", "replace").splitlines() if x.strip()]
        return lines[-1] if lines else "no message"


def _child_env() -> dict[str, str]:
    """The child imports our packages from wherever this process did (an installed or a source checkout)."""
    env = settings.child_environ()
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(x for x in (root, env.get("PYTHONPATH", "")) if x)
    return env


def _child(job: tuple, out: BinaryIO) -> None:
    """The parser: the same rows the parent sampled, through the same per-row rules, batch by batch (as plain
    tuples: this module runs as ``__main__`` here, so its own classes would not unpickle in the parent)."""
    from itertools import islice

    from campaigns.leadimport.reader import open_table
    from campaigns.leadimport.service import NonBlank, gc_paused

    path, display, columns, target, existing, batch = job
    processor = None
    try:
        table = open_table(path, display)
        try:
            rows = NonBlank(table.rows)
            if columns.has_header:
                next(rows, None)
            processor = RowProcessor(target, columns, existing, None)
            with gc_paused():
                while chunk := list(islice(rows, batch)):
                    leads, rejects = processor.process(chunk)
                    _send(out, ("batch", (leads, rejects, processor.counts.rows, table.bytes_done())))
            c = processor.counts
            _send(out, ("done", ({k: v for k, v in asdict(c).items() if k != "suppressed_by"}, rows.blank)))
        finally:
            table.close()
    except BrokenPipeError:
        return  # the parent is gone (failed, interrupted or killed): nothing to tell
    except UserError as e:
        _report(out, "user_error", str(e))
    except Exception as e:  # handed to the parent, which owns the transaction and the message
        _report(out, "error", f"{type(e).__name__}: {e}")
    finally:
        if processor is not None:
            processor.close()


def _send(out: BinaryIO, message: tuple) -> None:
    pickle.dump(message, out, protocol=5)
    out.flush()


def _report(out: BinaryIO, kind: str, message: str) -> None:
    with contextlib.suppress(OSError):
        _send(out, (kind, message))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends us
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing but messages on the pipe
    _child(pickle.load(sys.stdin.buffer), out)
    with contextlib.suppress(OSError):
        out.close()


if __name__ == "__main__":
    main()
