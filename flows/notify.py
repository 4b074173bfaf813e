"""Prefect flow for `watch287g notify`: look for stale sources, then send every due delivery (alerts whose
retry time came, daily and weekly digests). Deployed twice (prefect.yaml): `digests` on a schedule, and
`notify-on-event`, triggered by the Prefect events the check flow emits.

It takes the same per-database lock as a check: when a check holds it, this run does nothing (the check
sends what is due when it ends), so two processes never send one delivery twice.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from flows.artifacts import publish_notify_artifacts
from flows.check import SKIPPED, CheckFailed
from flows.prefect_events import emit_events
from monitors.base import utc_now
from notifiers.text import plural
from state import deliveries
from state.lock import Busy, run_lock
from state.store import Store
from watch287g.config import load_config
from watch287g.deliver import deliver
from watch287g.run import run_events


@flow(name="watch287g-notify", log_prints=False)
def notify_flow(config_path: str = "watch287g.yaml") -> dict[str, Any] | State:
    """Send every due delivery now (after looking for stale sources)."""
    logger = get_run_logger()
    config = load_config(config_path)
    started = utc_now()
    try:
        with run_lock(config.database):
            store = Store(config.database)
            try:
                report = deliver(store, config)
                outbox = deliveries.listing(store)
            finally:
                store.close()
    except Busy as exc:  # a check is running on this database and will send what is due when it ends
        logger.warning(str(exc))
        return Completed(name=SKIPPED, message=f"skipped: {exc}", data={"skipped": str(exc)})
    sent = {"messages": report.messages, "deliveries": report.deliveries, "failures": report.failures}
    new = run_events(config.database, started, utc_now(), [m.name for m in config.monitors])
    emitted = emit_events(new, config_path=config.path)
    publish_notify_artifacts(sent, new, started, outbox)
    count = plural(report.messages, "message"), plural(report.deliveries, "delivery", "deliveries")
    logger.info("sent %s (%s); %d Prefect events", *count, emitted)
    if report.failures:  # the reasons as an exception Prefect can raise when it resolves the state
        reasons = "; ".join(f"delivery failed: {f}" for f in report.failures)
        logger.error("notify failed: %s", reasons)
        return Failed(message=reasons, data=CheckFailed(reasons, sent))
    return sent
