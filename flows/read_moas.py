"""Prefect flow for `watch287g moa read-kept`: a thin shell over watch287g.moa_reading.read_kept (plain, tested
without Prefect).

Each unread document is one task run on a process pool (ProcessPoolTaskRunner: PDFium is not thread-safe, and
OCR is CPU work), so every document's reading shows in the UI with its own state and time. The tasks return
rows; the flow is the single writer that commits each as it completes. Several workers on the pool do not
split one run's documents: the `read-moas` deployment runs one flow at a time (concurrency limit 1), and its
`workers` parameter sets how many processes read in parallel on the worker's machine.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State
from prefect.task_runners import ProcessPoolTaskRunner

from notifiers.outbox import deliveries_for
from state.store import Store
from watch287g.cli_errors import describe
from watch287g.config import Config, load_config
from watch287g.moa_reading import ReadSummary, one_thread_per_worker, read_body, read_kept

# One document: no retry (a file unreadable once is unreadable again; a crash is read again on the next run).
read_task = task(name="read-moa", cache_policy=NO_CACHE, task_run_name="read {sha256}")(read_body)


@flow(name="watch287g-read-moas", log_prints=False)
def read_moas_flow(
    config_path: str = "watch287g.yaml", workers: int = 2, limit: int | None = None, ocr: bool | None = None
) -> dict[str, Any] | State:
    """Read the kept MOA documents that have no reading yet (at most `limit`) in `workers` processes, store
    each reading, and report where a document disagrees with ICE's list (agreement.moa_mismatch)."""
    logger = get_run_logger()
    config = load_config(config_path)
    try:
        summary = _read(config, workers, limit, ocr)
    except (OSError, sqlite3.Error) as exc:  # the disk or the database: one line, no traceback
        reason = describe(exc, "moa read-kept")[0]
        logger.error(reason)
        return Failed(message=reason, data=exc)
    logger.info("read %s", summary.line())
    return summary.as_dict()


def _read(config: Config, workers: int, limit: int | None, ocr: bool | None) -> ReadSummary:
    store = Store(config.database)
    try:
        with ProcessPoolTaskRunner(max_workers=max(workers, 1), initializer=one_thread_per_worker) as runner:

            def submit(sha256: str, body: bytes, use_ocr: bool) -> Any:
                return runner.submit(read_task, parameters={"sha256": sha256, "body": body, "ocr": use_ocr})

            return read_kept(
                store, config.rules, workers=workers, limit=limit, ocr=ocr,
                deliveries_for=deliveries_for(config.routing), submit=submit,
            )  # fmt: skip
    finally:
        store.close()
