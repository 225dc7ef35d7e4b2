"""Read and validate a file in chunks, with no database access; at most a few chunks are in memory at once.

Parsing (JSON, UTF-8, hashing, token counts) is CPU-bound Python; writing is the database's work. For files
above ``PARALLEL_MIN_BYTES`` the parsing runs in a child process (a fresh interpreter, so no database
connection or thread is inherited) that sends validated chunks through a pipe while this process
de-duplicates and writes: the two use both cores. A write blocks while the pipe is full, so memory stays
flat; if this process dies (even by SIGKILL) the child's next write fails with a broken pipe and it exits.

(A background *thread* was measured and dropped: SQLite releases the GIL on every row it steps, and with a
CPU-bound parser thread each re-acquisition waits for the switch interval, which halved the throughput.)
"""

import contextlib
import gc
import operator
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from annotator.corpus.importing.errors import ImportFileError, RowError, row_error
from annotator.corpus.importing.parsers import ArticleRow, RowRejected, parse_row
from annotator.corpus.importing.readers import Reader

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PARSER_PROCESS = Path(__file__).with_name("parser_process.py")  # the child's entry point
# Below this size the ~0.3 s start of a child process costs more than it saves.
PARALLEL_MIN_BYTES = int(os.environ.get("IMPORT_PARALLEL_MIN_BYTES", str(8 * 1024 * 1024)))
# Allocations of container objects between two collections of the youngest generation during an import (Python's
# default: 700), see fewer_gc_collections.
IMPORT_GC_THRESHOLD = 100_000


@contextlib.contextmanager
def fewer_gc_collections() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while rows stream through this process; restored after.

    An import allocates a few container objects per row (the parsed dict, the row, its tuple) that live until their
    chunk is written and are then freed by reference counting; they form no cycles. With the default threshold a
    collection ran every ~150 rows and found nothing, yet each one traversed the chunk's live rows, and every tenth
    and hundredth traversed older generations, Django's modules included: 3 µs per article in the parser process
    (~4 % of its CPU). With the threshold above a chunk's objects are freed before a collection sees them; cycles,
    if any, are still collected, only later. (Not gc.disable(): a reader or a library that does make cycles must not
    make memory grow with the file.)"""
    previous = gc.get_threshold()
    gc.set_threshold(IMPORT_GC_THRESHOLD, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@dataclass(slots=True)
class ParsedChunk:
    rows_read: int
    bytes_read: int
    rows: list[ArticleRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _parse_chunks(reader: Reader, size: int, default_outlet: str, utf8: bool = False) -> Iterator[ParsedChunk]:
    raw_rows = reader.rows()
    while raw_chunk := list(islice(raw_rows, size)):
        chunk = ParsedChunk(rows_read=len(raw_chunk), bytes_read=reader.bytes_read)
        for raw in raw_chunk:
            try:
                chunk.rows.append(parse_row(raw, default_outlet=default_outlet, utf8=utf8))
            except RowRejected as exc:
                chunk.errors.append(row_error(raw.source, raw.line, str(exc)))
        yield chunk


def parsed_chunks(
    reader: Reader, *, size: int, default_outlet: str = "", parallel: bool | None = None
) -> Iterator[ParsedChunk]:
    """Chunks of at most ``size`` raw rows, validated; an ImportFileError from the reader is raised here.

    ``parallel``: parse in a child process (default: when the file is large and there is more than one CPU).
    """
    if parallel is None:
        parallel = reader.bytes_total >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
    if not parallel:
        return _parse_chunks(reader, size, default_outlet)
    return _parse_in_child(reader, size, default_outlet)


_as_tuple = operator.attrgetter(*ArticleRow.__slots__)  # ArticleRow → its fields as a tuple, in C


def _child_main() -> None:
    """The parser process (started by parser_process.py): job from stdin, pickled chunks to stdout (see
    _parse_in_child)."""
    out = sys.stdout.buffer
    reader, size, default_outlet = pickle.load(sys.stdin.buffer)
    try:
        with fewer_gc_collections():
            _send_chunks(out, reader, size, default_outlet)
        message: tuple[str, str] = ("done", "")
    except ImportFileError as exc:
        message = ("file-error", exc.message)
    except (BrokenPipeError, ConnectionResetError):  # the importing process is gone
        return
    except Exception:
        message = ("crash", traceback.format_exc())
    try:
        pickle.dump(message, out)
        out.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass


def _send_chunks(out: BinaryIO, reader: Reader, size: int, default_outlet: str) -> None:
    for chunk in _parse_chunks(reader, size, default_outlet, utf8=True):  # texts as UTF-8 bytes
        # Plain tuples: pickling slotted dataclasses goes through Python-level __getstate__, 5x slower.
        rows = [_as_tuple(row) for row in chunk.rows]
        pickle.dump((chunk.rows_read, chunk.bytes_read, rows, chunk.errors), out, pickle.HIGHEST_PROTOCOL)
        out.flush()


def _parse_in_child(reader: Reader, size: int, default_outlet: str) -> Iterator[ParsedChunk]:
    # A plain subprocess, not multiprocessing: spawn re-imports the caller's main module, which breaks
    # scripts without a __main__ guard; fork would inherit database connections and threads.
    child = subprocess.Popen(
        [sys.executable, str(PARSER_PROCESS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PROJECT_ROOT
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        pickle.dump((reader, size, default_outlet), child.stdin)
        child.stdin.close()
        while True:
            try:
                item = pickle.load(child.stdout)
            except EOFError:
                raise RuntimeError(f"the import parser process died (exit code {child.poll()})") from None
            if len(item) == 4:
                rows_read, bytes_read, rows, errors = item
                yield ParsedChunk(rows_read, bytes_read, [ArticleRow(*row) for row in rows], errors)
                continue
            kind, message = item
            if kind == "file-error":
                raise ImportFileError(message)
            if kind == "crash":
                raise RuntimeError(f"the import parser process failed:\n{message}")
            return
    finally:
        child.stdout.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
