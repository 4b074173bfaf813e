"""One `run`: check every source, then deliver what is due. Shared by the Prefect flow and `--no-prefect`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.event import OPERATOR_SOURCE, StoredEvent
from monitors.base import Monitor, utc_now
from monitors.http import HttpClient
from monitors.moa import READER_VERSION
from notifiers.outbox import SendReport, deliveries_for
from state.lock import run_lock
from state.queries import events as stored_events
from state.readings import unread_documents
from state.store import Store
from watch287g.check_loop import CheckReport, Fetch, plain_fetch, run_check
from watch287g.compliance_settling import settle_compliance
from watch287g.config import Config
from watch287g.deliver import deliver


@dataclass
class RunResult:
    checks: list[CheckReport] = field(default_factory=list)
    sent: SendReport = field(default_factory=SendReport)
    reading: dict[str, Any] | None = None  # the kept MOAs read after the checks (ReadSummary.as_dict)

    @property
    def failures(self) -> list[str]:
        """One line per problem: failed checks first, then failed deliveries."""
        return [str(r.error) for r in self.checks if not r.ok] + [
            f"delivery failed: {f}" for f in self.sent.failures
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "sources": [
                {"source": r.source, "ok": r.ok, "error": r.error, "events": r.event_count,
                 "documents": [vars(d) for d in r.documents], "followed": r.followed}
                for r in self.checks
            ],
            "sent": {"messages": self.sent.messages, "deliveries": self.sent.deliveries,
                     "failures": self.sent.failures},
            "reading": self.reading,
        }  # fmt: skip


def check_one(
    store: Store,
    config: Config,
    monitor: Monitor,
    fetch_for: Callable[[HttpClient], Fetch],
    now: Callable[[], str] | None = None,
) -> CheckReport:
    """One source's check, through its own client (closed after)."""
    client = monitor.client(config.contact)
    try:
        fetch = fetch_for(client)
        check = (
            config.check(store, monitor, fetch)
            if now is None
            else config.check(store, monitor, fetch, now=now)
        )
        return run_check(check)
    finally:
        client.close()


def run_once(
    config: Config,
    source: str | None = None,
    fetch_for: Callable[[HttpClient], Fetch] = plain_fetch,
    now: Callable[[], str] | None = None,
) -> RunResult:
    """Check each source (its failure does not stop the others), then send what is due, failures included:
    the operators hear about a failed source even when the check failed. `now` is the run's clock (ISO UTC):
    snapshots are stamped with it and compliance is settled at it, so a replay can step through time (None: the
    config's own clock for checks, which is the wall clock unless a test's Config says otherwise)."""
    monitors = [config.monitor(source)] if source else config.monitors
    result = RunResult()
    with run_lock(config.database):  # raises Busy when another run holds it: nothing is done twice
        store = Store(config.database)
        try:
            for monitor in monitors:
                result.checks.append(check_one(store, config, monitor, fetch_for, now))
            result.reading = read_new_documents(store, config)
            # a ban's effective date may have passed, or its last agreement ended: policy.compliance
            settle_compliance(store, (now or utc_now)(), deliveries_for(config.routing))
            result.sent = deliver(store, config)
        finally:
            store.close()
    return result


def read_new_documents(store: Store, config: Config) -> dict[str, Any] | None:
    """Read up to `moa_read_per_run` kept MOAs not read yet (two processes), so a document is read in the run
    that kept it and its disagreement with the list (`agreement.moa_mismatch`) is delivered with the run's
    alerts. None when there was nothing to read."""
    if not config.moa_read_per_run or not unread_documents(store, READER_VERSION, 1):
        return None
    from watch287g.moa_reading import read_kept  # the PDF libraries load only when there is a PDF to read

    summary = read_kept(store, config.rules, workers=min(2, os.cpu_count() or 1), limit=config.moa_read_per_run,
                        deliveries_for=deliveries_for(config.routing))  # fmt: skip
    return summary.as_dict() | {"line": summary.line()}


def run_events(database: Path, since: str, until: str, sources: Iterable[str]) -> list[StoredEvent]:
    """Live events of these sources detected in [since, until] (ISO times, as `detected_at` is stored):
    what one run stored. Backfill and demo events carry older times or another origin and are left out."""
    wanted = {*sources, OPERATOR_SOURCE}
    store = Store(database)
    try:
        rows = stored_events(store, since=since)
    finally:
        store.close()
    return [
        row
        for row in rows
        if row["source"] in wanted and row.get("origin") == "live" and str(row["detected_at"]) <= until
    ]
