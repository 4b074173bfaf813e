"""Read the kept MOA documents that have no reading yet, several at a time, and report where they disagree
with ICE's list (`watch287g moa read-kept`, the `read-moas` flow, and `watch287g run` after its checks).

Each document is one unit of work, read in a worker process (PDFium is not thread-safe, and a process keeps a
hostile PDF's memory and crashes away from the run); Tesseract runs as the worker's subprocess. Workers never
touch SQLite: this process is the single writer, committing each reading as it completes. A body that is not a
readable PDF is stored as an unreadable reading (its error), never retried for that reader version, and never
stops the others.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from monitors.base import ParseError, utc_now
from monitors.moa.page_ocr import ocr_available
from monitors.moa.read_moa import READER_VERSION, read_moa
from rules.ice_rules import Rules
from rules.moa_compare import mismatch_events
from state.readings import KeptDocument, agreements_linking, save_reading, unread_documents
from state.store import DeliveriesFor, Store

logger = logging.getLogger(__name__)

# Starts one document's reading; returns a future (concurrent.futures or Prefect) of `read_body`'s row.
Submit = Callable[[str, bytes, bool], Any]


def one_thread_per_worker() -> None:
    """A reading process's start: Tesseract (built with OpenMP) would otherwise start a thread per core in each
    worker; the documents are the parallel units, so each worker's OCR keeps to one thread."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def read_body(sha256: str, body: bytes, ocr: bool) -> dict[str, Any]:
    """The `readings` row for one body. A file that is not a readable PDF (ParseError: not a PDF, truncated,
    encrypted, too many pages, a decompression bomb) is a row with its one-line `error`, not an exception."""
    started = time.perf_counter()
    row: dict[str, Any] = {"sha256": sha256, "reader_version": READER_VERSION, "read_at": utc_now()}
    try:
        reading = read_moa(body, ocr=ocr)
    except ParseError as exc:
        row.update(pages=None, text_source=None, fields=None, text=None, error=str(exc).splitlines()[0])
    else:
        row.update(
            pages=reading.pages, text_source=reading.text_source, text=reading.text.strip() or None,
            fields=json.dumps(reading.as_dict(), ensure_ascii=False, sort_keys=True), error=None,
        )  # fmt: skip
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


@dataclass
class ReadSummary:
    """What one pass read: by how the text was obtained, unreadable files, failures (retried next time)."""

    documents: int = 0
    text: int = 0  # read from text layers only
    ocr: int = 0  # at least one page OCR'd
    none: int = 0  # a PDF without usable text (and no OCR): stored, every field empty
    unreadable: int = 0  # not a readable PDF: stored with its error
    failed: int = 0  # the reader itself failed (a crash): not stored, read again next time
    mismatches: int = 0  # new agreement.moa_mismatch events
    seconds: float = 0.0  # wall-clock time of the pass

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """`12 documents: 8 by text layer, 3 by OCR, 0 without text, 1 unreadable, 0 failed; 2 mismatches`"""
        return (
            f"{self.documents} documents: {self.text} by text layer, {self.ocr} by OCR, {self.none} without "
            f"text, {self.unreadable} unreadable, {self.failed} failed; {self.mismatches} mismatches "
            f"({self.seconds:.1f} s)"
        )


def read_kept(
    store: Store,
    rules: Rules,
    *,
    workers: int = 2,
    limit: int | None = None,
    ocr: bool | None = None,
    deliveries_for: DeliveriesFor | None = None,
    submit: Submit | None = None,
) -> ReadSummary:
    """Read the kept documents without a reading of this reader version (oldest first, at most `limit`) in
    `workers` processes, or through `submit` (the Prefect flow's task runner), and commit each as it completes.
    `ocr`: None = when Tesseract is installed. Raises only on a failure of the database or the disk."""
    started = time.perf_counter()
    use_ocr = ocr_available() if ocr is None else ocr
    todo = unread_documents(store, READER_VERSION, limit)
    summary = ReadSummary()
    if todo:
        with _pool(workers) if submit is None else _given(submit) as start:
            bodies = ((document, store.body(document.sha256) or b"") for document in todo)
            window = 2 * max(workers, 1)  # enough queued to keep workers busy; bodies are not all in memory
            for document, future in completed(bodies, lambda d, b: start(d.sha256, b, use_ocr), window):
                _commit(store, rules, document, future, summary, deliveries_for)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def completed(
    items: Iterable[tuple[KeptDocument, bytes]], start: Callable[[KeptDocument, bytes], Any], window: int
) -> Iterator[tuple[KeptDocument, Any]]:
    """(document, its finished future) in the order they finish, with at most `window` started and unfinished
    (any future with `add_done_callback`: concurrent.futures and Prefect's alike)."""
    finished: queue.SimpleQueue[tuple[KeptDocument, Any]] = queue.SimpleQueue()
    running = 0
    for document, body in items:
        if running >= window:
            yield finished.get()
            running -= 1
        start(document, body).add_done_callback(lambda future, d=document: finished.put((d, future)))
        running += 1
    for _ in range(running):
        yield finished.get()


def _commit(
    store: Store,
    rules: Rules,
    document: KeptDocument,
    future: Any,
    summary: ReadSummary,
    deliveries_for: DeliveriesFor | None,
) -> None:
    """Store one finished reading and its mismatch events (the single writer); a failed read is logged."""
    summary.documents += 1
    try:
        row = future.result()
    except Exception as exc:  # a crash of the reader or its process: this document only, read again next time
        summary.failed += 1
        logger.warning("reading %s failed: %s: %s", document.urls[0], type(exc).__name__, exc)
        return
    events = []
    if row["error"]:
        summary.unreadable += 1
    else:
        setattr(summary, row["text_source"], getattr(summary, row["text_source"]) + 1)
        events = mismatch_events(
            json.loads(row["fields"]), agreements_linking(store, document.urls), sha256=document.sha256,
            reader_version=row["reader_version"], detected_at=utc_now(), max_days=rules.moa_mismatch_days,
        )  # fmt: skip
    summary.mismatches += len(save_reading(store, row, events, deliveries_for))


@contextmanager
def _given(submit: Submit) -> Iterator[Submit]:
    yield submit


@contextmanager
def _pool(workers: int) -> Iterator[Submit]:
    """`workers` reading processes, started fresh ("spawn": no copy of this process's SQLite connection or
    threads). A worker that dies (PDFium crashing on a hostile file) breaks the pool: it is replaced, and only
    the documents it held fail."""
    context = multiprocessing.get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max(workers, 1), context, initializer=one_thread_per_worker)

    pools = [new_pool()]

    def submit(sha256: str, body: bytes, ocr: bool) -> Future[dict[str, Any]]:
        try:
            return pools[-1].submit(read_body, sha256, body, ocr)
        except BrokenProcessPool:
            pools.append(new_pool())
            return pools[-1].submit(read_body, sha256, body, ocr)

    try:
        yield submit
    finally:
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
