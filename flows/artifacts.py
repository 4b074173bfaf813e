"""What a flow run shows in the Prefect UI: a markdown summary of what changed and a table of what was checked.

The rendering functions are plain (tested without Prefect); `publish_*` hand their output to Prefect.
Everything taken from fetched data (agency names, URLs, error messages) is escaped: markdown artifacts
render in the UI, so a list cell such as "](javascript:...)" or "<img src=...>" must stay text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from notifiers.markdown import event_line, md_text
from notifiers.text import one_line, plural
from watch287g.check_loop import CheckReport

MAX_LISTED = 100  # events listed one by one in the summary; the counts always cover all of them
MAX_CELL = 300  # characters of a table cell (details and errors can be long)
CHECK_SUMMARY_KEY = "watch287g-check-summary"
CHECK_SOURCES_KEY = "watch287g-check-sources"
NOTIFY_SUMMARY_KEY = "watch287g-notify-summary"
NOTIFY_OUTBOX_KEY = "watch287g-notify-outbox"


def cell(value: Any) -> Any:
    """A table cell: numbers stay numbers, text is one line and at most MAX_CELL characters."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return one_line(value, MAX_CELL)


# -- the check flow -------------------------------------------------------------------------------------
def sources_table(checks: Iterable[CheckReport]) -> list[dict[str, Any]]:
    """One row per document fetched (page, lists, bill searches...), and one for a source that failed
    before fetching any document."""
    rows = []
    for report in checks:
        for doc in report.documents:
            rows.append(
                {
                    "source": report.source, "channel": doc.channel, "outcome": doc.outcome,
                    "http_status": doc.http_status, "bytes": doc.bytes, "ms": doc.duration_ms,
                    "events": doc.events, "detail": cell(doc.detail), "url": cell(doc.url),
                }
            )  # fmt: skip
        if report.error and not any(doc.outcome == "error" for doc in report.documents):
            rows.append(
                {
                    "source": report.source, "channel": None, "outcome": "failed", "http_status": None,
                    "bytes": 0, "ms": 0, "events": 0, "detail": cell(report.error), "url": None,
                }
            )  # fmt: skip
    return rows


def check_summary(
    checks: list[CheckReport], events: Sequence[Mapping[str, Any]], sent: dict[str, Any], started: str
) -> str:
    """The run's story: each source's outcome, new events by type and state, the alertable events with
    links to their evidence, and what was sent."""
    live = [e for e in events if not e.get("baseline")]
    baseline = len(events) - len(live)
    failed = [r for r in checks if not r.ok]
    title = f"# watch287g check: {len(live)} new events"
    if failed:
        title += f", {len(failed)} of {len(checks)} sources failed"
    lines = [title, "", f"Run started {md_text(started)} (UTC).", "", "## Sources", ""]
    if not checks:
        lines.append("No source was checked (none in the config matches this deployment's parameters).")
    for report in checks:
        outcome = "ok" if report.ok else f"**failed**: {md_text(report.error)}"
        lines.append(f"- {md_text(report.source)}: {outcome}; {plural(report.event_count, 'event')} stored")
    lines += ["", *_counts(live, baseline)]
    lines += ["", *_listing(live)]
    lines += ["", "## Alerts", "", *_sent_lines(sent)]
    return "\n".join(lines) + "\n"


def _counts(live: Sequence[Mapping[str, Any]], baseline: int) -> list[str]:
    lines = ["## Events by type and state", ""]
    if live:
        lines += ["| type | state | events |", "| --- | --- | ---: |"]
        counts = Counter((str(e["type"]), str(e.get("state") or "")) for e in live)
        for (kind, state), count in sorted(counts.items()):
            lines.append(f"| {md_text(kind)} | {md_text(state) or '–'} | {count} |")
    else:
        lines.append("No new events.")
    if baseline:
        lines += [
            "",
            f"{plural(baseline, 'baseline event')} stored (the first list of a source: never alerted).",
        ]
    return lines


def _listing(live: Sequence[Mapping[str, Any]]) -> list[str]:
    if not live:
        return []
    lines = ["## New events", ""]
    for event in live[:MAX_LISTED]:
        lines.append("- " + event_line(event))
    if len(live) > MAX_LISTED:
        lines.append(f"- … and {len(live) - MAX_LISTED} more (`watch287g events --since …` lists them all)")
    return lines


def _sent_lines(sent: dict[str, Any]) -> list[str]:
    messages, deliveries = sent.get("messages", 0), sent.get("deliveries", 0)
    lines = [f"Sent {plural(messages, 'message')} ({plural(deliveries, 'delivery', 'deliveries')})."]
    for failure in sent.get("failures") or []:
        lines.append(f"- **failed**: {md_text(failure)}")
    return lines


# -- the notify flow ------------------------------------------------------------------------------------
def notify_summary(
    sent: dict[str, Any], events: Sequence[Mapping[str, Any]], started: str, outbox: list[dict[str, Any]]
) -> str:
    pending = sum(1 for row in outbox if row.get("status") == "failed")
    lines = ["# watch287g notify", "", f"Run started {md_text(started)} (UTC).", "", "## Alerts", ""]
    lines += _sent_lines(sent)
    if pending:
        lines += ["", f"{pending} deliveries still waiting for a retry (see the outbox table)."]
    live = [e for e in events if not e.get("baseline")]
    if live:
        lines += ["", "## New operator events", ""] + ["- " + event_line(e) for e in live[:MAX_LISTED]]
    return "\n".join(lines) + "\n"


def outbox_table(rows: list[dict[str, Any]], started: str) -> list[dict[str, Any]]:
    """Deliveries sent by this run, and those still failing (with their scrubbed last error)."""
    wanted = [r for r in rows if (r.get("sent_at") or "") >= started or r.get("status") == "failed"]
    return [
        {
            "subscriber": r.get("subscriber"), "channel": r.get("label"), "status": r.get("status"),
            "event": r.get("type"), "state": r.get("state"), "agency": cell(r.get("agency")),
            "attempts": r.get("attempts"), "sent_at": r.get("sent_at"), "next_attempt_at": r.get("next_attempt_at"),
            "last_error": cell(r.get("last_error")),
        }
        for r in wanted[-500:]
    ]  # fmt: skip


# -- handing them to Prefect ----------------------------------------------------------------------------
def publish_check_artifacts(
    checks: list[CheckReport], events: Sequence[Mapping[str, Any]], sent: dict[str, Any], started: str
) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    live = sum(1 for e in events if not e.get("baseline"))
    create_markdown_artifact(
        check_summary(checks, events, sent, started),
        key=CHECK_SUMMARY_KEY,
        description=f"watch287g check: {plural(live, 'new event')}",
    )
    create_table_artifact(
        sources_table(checks),  # type: ignore[arg-type]
        key=CHECK_SOURCES_KEY,
        description="Documents fetched per source: outcome, HTTP status, size, time, events",
    )


def publish_notify_artifacts(
    sent: dict[str, Any], events: Sequence[Mapping[str, Any]], started: str, outbox: list[dict[str, Any]]
) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(
        notify_summary(sent, events, started, outbox),
        key=NOTIFY_SUMMARY_KEY,
        description=f"watch287g notify: {plural(sent.get('messages', 0), 'message')} sent",
    )
    create_table_artifact(
        outbox_table(outbox, started),  # type: ignore[arg-type]
        key=NOTIFY_OUTBOX_KEY,
        description="Deliveries sent by this run and those waiting for a retry",
    )
