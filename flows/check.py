"""Prefect flow for `watch287g run`: a thin shell over watch287g.check (plain, tested without Prefect).

Only network I/O is a task with retries (and only transient errors are retried); parsing, rules and storage
run as plain calls inside the flow. The flow run fails when any source failed, so its final state tells
the truth, and so does the CLI's exit code.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from monitors.base import ConfigError
from monitors.http import FetchResult, HttpClient, is_transient
from monitors.ice_287g import Ice287gMonitor
from state.store import Store
from watch287g.check import CheckReport, check_ice
from watch287g.config import load_config


def _retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry timeouts, resets, 5xx and 429 only; a 403 or a 404 will not change by asking again."""
    return isinstance(state.data, BaseException) and is_transient(state.data)


@task(
    name="fetch",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_retry_transient,
    cache_policy=NO_CACHE,
    task_run_name="fetch {url}",
)
def fetch_task(client: HttpClient, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
    return client.get(url, etag=etag, last_modified=last_modified)


@flow(name="watch287g-check", log_prints=False)
def check_flow(
    config_path: str = "watch287g.yaml", source: str | None = None
) -> list[dict[str, Any]] | State:
    logger = get_run_logger()
    config = load_config(config_path)
    monitors = [config.monitor(source)] if source else config.monitors
    store = Store(config.database)
    reports: list[CheckReport] = []
    try:
        for monitor in monitors:
            if not isinstance(monitor, Ice287gMonitor):
                raise ConfigError(f"source {monitor.name!r}: kind {monitor.kind!r} cannot be checked yet")
            client = monitor.client(config.contact)

            def fetch(
                url: str, etag: str | None, last_modified: str | None, client: HttpClient = client
            ) -> FetchResult:
                return fetch_task(client, url, etag, last_modified)

            report = check_ice(config.check(store, monitor, fetch))
            logger.info(
                "%s: %s, %d new events", monitor.name, "ok" if report.ok else report.error, report.event_count
            )
            reports.append(report)
    finally:
        store.close()
    summaries = [summary(r) for r in reports]
    failed = [r for r in reports if not r.ok]
    if failed:  # a failed check is an outcome, not a crash: end Failed with the reason, no traceback
        return Failed(message="; ".join(str(r.error) for r in failed), data=summaries)
    return summaries


def summary(report: CheckReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "ok": report.ok,
        "error": report.error,
        "events": report.event_count,
        "documents": [vars(d) for d in report.documents],
    }
