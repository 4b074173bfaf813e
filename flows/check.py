"""Prefect flow for `watch287g run`: a thin shell over watch287g.run (plain, tested without Prefect).

Only network I/O is a task with retries (and only transient errors are retried); parsing, rules and storage
run as plain calls inside the flow. The flow run fails when any source failed, so its final state tells
the truth, and so does the CLI's exit code.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from flows.artifacts import publish_check_artifacts
from flows.prefect_events import emit_events
from monitors.base import MONITORS, ConfigError, FetchError, utc_now
from monitors.http import FetchResult, HttpClient, is_transient
from notifiers.text import plural
from notifiers.wording import events_phrase
from state.lock import Busy
from watch287g.check_loop import Fetch
from watch287g.cli_errors import describe
from watch287g.config import Config, load_config
from watch287g.run import RunResult, run_events, run_once


class CheckFailed(RuntimeError):
    """A check run's outcome was a failure (a source or a delivery failed): the failed state's data, so
    Prefect can raise it where it resolves the state (`state.result()`, a deployment's engine), with the
    reasons as its message and the run's summary beside them."""

    def __init__(self, reasons: str, summary: dict[str, Any] | None = None):
        super().__init__(reasons)
        self.summary = summary or {}

    def __reduce__(self) -> tuple[Any, ...]:  # results may be pickled: keep the summary
        return (CheckFailed, (str(self), self.summary))


SKIPPED = "Skipped"  # the name of a Completed state: another run held the lock, this one did nothing


class _NoFetchTraceback(logging.Filter):
    """A FetchError is a one-line, expected outcome (its message says what failed and where): Prefect's task
    log keeps that line but not the traceback it would print under it once retries are exhausted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], FetchError):
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("prefect.task_runs").addFilter(_NoFetchTraceback())


def _retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry timeouts, resets, 5xx and 429 only; a 403 or a 404 will not change by asking again."""
    return isinstance(state.data, BaseException) and is_transient(state.data)


def _fetch_run_name() -> str:
    """The task run's name without secrets: Prefect prints it on every retry and stores it (LegiScan puts
    its API key in the query, so the name is built from the redacted URL, never from the raw parameter)."""
    from prefect.runtime import task_run

    from monitors.http import redact_url

    return f"fetch {redact_url(str(task_run.parameters.get('url', '')))}"


@task(
    name="fetch",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_retry_transient,
    cache_policy=NO_CACHE,
    task_run_name=_fetch_run_name,
)
def fetch_task(
    client: HttpClient,
    url: str,
    etag: str | None,
    last_modified: str | None,
    headers: dict[str, str] | None = None,
    max_bytes: int | None = None,
) -> FetchResult:
    return client.get(url, etag=etag, last_modified=last_modified, headers=headers, max_bytes=max_bytes)


def _prefect_fetch(client: HttpClient) -> Fetch:
    def fetch(
        url: str, etag: str | None, last_modified: str | None, headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:  # fmt: skip
        return fetch_task(client, url, etag, last_modified, headers, max_bytes)

    return fetch


@flow(name="watch287g-check", log_prints=False)
def check_flow(
    config_path: str = "watch287g.yaml",
    source: str | None = None,
    kinds: list[str] | None = None,
    family: str | None = None,
) -> dict[str, Any] | State:
    """Check every source (or the one named, or those of the given kinds or family: each deployment in
    prefect.yaml checks one family), then send the alerts that are due.

    The run's new events are read back from the database once committed: emitted as Prefect events
    (`watch287g.<type>`, live and non-baseline only) and summarised in a markdown and a table artifact."""
    logger = get_run_logger()
    config = _select(load_config(config_path), kinds, family)
    if not config.monitors:
        wanted = f"family {family}" if family else f"kind {', '.join(kinds or [])}"
        logger.warning("no source of %s in %s: nothing to check", wanted, config_path)
    started = utc_now()
    try:
        result = run_once(config, source, _prefect_fetch)
    except Busy as exc:  # another run is working on the same database: this one does nothing, cleanly
        logger.warning(str(exc))
        return Completed(name=SKIPPED, message=f"skipped: {exc}", data={"skipped": str(exc)})
    except (OSError, sqlite3.Error) as exc:  # the disk or the database, not a source: one line, no traceback
        reason = describe(exc, "run")[0]
        logger.error(reason)
        return Failed(message=reason, data=exc)
    summary = result.summary()
    _report_run(logger, config, result, summary, started)
    if result.failures:  # an outcome, not a crash: end Failed with the reasons (as an exception Prefect can
        reasons = "; ".join(result.failures)  # raise when it resolves the state), logged where operators look
        logger.error("check failed: %s", reasons)
        return Failed(message=reasons, data=CheckFailed(reasons, summary))
    return summary


def _report_run(
    logger: logging.Logger | logging.LoggerAdapter[Any],
    config: Config,
    result: RunResult,
    summary: dict[str, Any],
    started: str,
) -> None:
    """The run in the flow's log, its new events as Prefect events, and its artifacts."""
    new = run_events(config.database, started, utc_now(), [r.source for r in result.checks])
    for report in result.checks:
        baseline = sum(1 for e in new if e["source"] == report.source and e["baseline"])
        outcome = "ok" if report.ok else report.error
        logger.info("%s: %s, %s", report.source, outcome, events_phrase(report.event_count, baseline))
    sent = result.sent
    logger.info(
        "sent %s (%s)", plural(sent.messages, "message"), plural(sent.deliveries, "delivery", "deliveries")
    )
    emitted = emit_events(new, config_path=config.path)
    publish_check_artifacts(result.checks, new, summary["sent"], started)
    logger.info("%d Prefect events emitted", emitted)


def _select(config: Config, kinds: list[str] | None, family: str | None = None) -> Config:
    """The config restricted to sources of these kinds and of this family (e.g. "legislation"); all if None."""
    families = sorted({cls.family for cls in MONITORS.values()})
    if family is not None and family not in families:
        raise ConfigError(f"unknown source family {family!r}; valid families: {', '.join(families)}")
    unknown = [kind for kind in kinds or [] if kind not in MONITORS]
    if unknown:
        raise ConfigError(f"unknown source kind {unknown[0]!r}; valid kinds: {', '.join(sorted(MONITORS))}")
    chosen = [m for m in config.monitors if (not kinds or m.kind in kinds) and family in (None, m.family)]
    return replace(config, monitors=chosen)
