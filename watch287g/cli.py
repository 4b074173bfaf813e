"""`watch287g` command line: thin; every command calls plain functions and exits non-zero on failure."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from monitors.base import ConfigError
from state import queries
from state.store import Store
from watch287g.config import DEFAULT_CONFIG, Config, load_config
from watch287g.render import agreement_line, event_line


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _config(ctx: click.Context) -> Config:
    try:
        return load_config(ctx.obj["config"])
    except ConfigError as exc:
        _fail(str(exc), 2)
        raise  # unreachable; keeps type checkers content


@click.group()
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True
)
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Watch ICE's 287(g) agreement lists and turn their changes into events."""
    ctx.obj = {"config": config_path}


@main.command()
@click.option("--source", help="check only this source (by name)")
@click.option(
    "--no-prefect", is_flag=True, help="run the same check without Prefect (no retries, no flow run)"
)
@click.pass_context
def run(ctx: click.Context, source: str | None, no_prefect: bool) -> None:
    """One check of every source (the main job; a Prefect flow with retries on network I/O)."""
    config = _config(ctx)
    if source:
        try:
            config.monitor(source)
        except ConfigError as exc:
            _fail(str(exc), 2)
    from watch287g.lock import Busy

    try:
        summary, failures = _run_plain(config, source) if no_prefect else _run_prefect(config, source)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except Busy as exc:  # another run is at work: this one exits cleanly, having done nothing
        click.echo(f"skipped: {exc}", err=True)
        return
    for report in summary.get("sources", []):
        click.echo(f"{report['source']}: {report['events']} new events")
        for doc in report["documents"]:
            detail = f" ({doc['detail']})" if doc["detail"] else ""
            click.echo(f"  {doc['channel']:<13} {doc['outcome']:<12} {doc['url']}{detail}")
    sent = summary.get("sent") or {}
    if sent.get("messages"):
        click.echo(f"sent {sent['messages']} messages ({sent['deliveries']} deliveries)")
    if failures:
        _fail("; ".join(failures))


def _run_prefect(config: Config, source: str | None) -> tuple[dict[str, Any], list[str]]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.check import check_flow

    state = check_flow(str(config.path), source, return_state=True)
    summary = state.result(raise_on_failure=False)
    if state.is_completed() and isinstance(summary, dict):
        return summary, []
    return (summary if isinstance(summary, dict) else {}), [str(state.message or state.name)]


def _run_plain(config: Config, source: str | None) -> tuple[dict[str, Any], list[str]]:
    from watch287g.run import run_once

    result = run_once(config, source)
    return result.summary(), result.failures


def _deliver_and_report(config: Config) -> bool:
    """Send what is due; print a line per failed message. True when everything due went out."""
    from watch287g.deliver import deliver

    store = Store(config.database)
    try:
        report = deliver(store, config)
    finally:
        store.close()
    if report.messages:
        click.echo(f"sent {report.messages} messages ({report.deliveries} deliveries)")
    for failure in report.failures:
        click.echo(f"error: delivery failed: {failure}", err=True)
    return report.ok


@main.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="the source the archive belongs to (default: the first ice_287g source)")
@click.pass_context
def backfill(ctx: click.Context, manifest: Path, source: str | None) -> None:
    """Feed archived lists (CSV: fetched_at,list,path) through the pipeline, in time order; sends no alerts."""
    from watch287g.backfill import backfill as run_backfill
    from watch287g.backfill import read_manifest

    config = _config(ctx)
    try:
        monitor = config.monitor(source) if source else config.monitors[0]
        rows = read_manifest(manifest)
    except ConfigError as exc:
        _fail(str(exc), 2)
    store = Store(config.database)
    try:
        results = run_backfill(
            store, rows, source=monitor.name, url=str(monitor.config["url"]), rules=config.rules
        )
    finally:
        store.close()
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    events = sum(len(r.event_ids) for r in results)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    click.echo(f"{len(results)} files: {summary}; {events} events stored")
    for row, result in zip(rows, results, strict=True):
        if result.outcome == "quarantined":
            click.echo(f"  quarantined {row.path.name}: {result.detail}")


@main.command()
@click.option("--since", help="only events detected on or after this date (YYYY-MM-DD)")
@click.option("--type", "type_glob", help="event type glob, e.g. 'agreement.*'")
@click.option("--state", help="USPS state code, e.g. TX")
@click.option("--no-baseline", is_flag=True, help="hide the events of each source's first check")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def events(
    ctx: click.Context,
    since: str | None,
    type_glob: str | None,
    state: str | None,
    no_baseline: bool,
    as_json: bool,
) -> None:
    """Stored events, oldest first."""
    store = Store(_config(ctx).database)
    try:
        rows = queries.events(
            store.db, since=since, type_glob=type_glob, state=state, include_baseline=not no_baseline
        )
    finally:
        store.close()
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True) if as_json else event_line(row))


@main.command()
@click.option("--as-of", "as_of", help="date or ISO timestamp (default: now)")
@click.option("--state", help="USPS state code")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def agreements(ctx: click.Context, as_of: str | None, state: str | None, as_json: bool) -> None:
    """Agreements in force at a time: active, or missing while an absence is not yet a termination."""
    from monitors.base import utc_now

    store = Store(_config(ctx).database)
    try:
        rows = queries.agreements_as_of(store.db, as_of or utc_now(), state=state)
    except ValueError:
        _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD) or ISO timestamp", 2)
    finally:
        store.close()
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True) if as_json else agreement_line(row))
    if not as_json:
        active = sum(r["status"] == "active" for r in rows)
        click.echo(f"{active} active, {len(rows) - active} missing")


@main.command()
@click.option("--test", "test_subscriber", metavar="SUBSCRIBER", help="send a test message to one subscriber")
@click.pass_context
def notify(ctx: click.Context, test_subscriber: str | None) -> None:
    """Send every due delivery now (digests, retries); with --test, a test message to one subscriber."""
    config = _config(ctx)
    if test_subscriber is None:
        if not _deliver_and_report(config):
            sys.exit(1)
        return
    from watch287g.deliver import send_test

    try:
        results = send_test(config, test_subscriber)
    except ConfigError as exc:
        _fail(str(exc), 2)
    for label, reason in results:
        click.echo(f"{test_subscriber} via {label}: {'sent' if reason is None else 'FAILED: ' + reason}")
    failed = [label for label, reason in results if reason is not None]
    if failed:
        _fail(f"test message to {test_subscriber} failed on {', '.join(failed)}")


@main.command()
@click.option(
    "--status", type=click.Choice(["pending", "failed", "sent"]), help="only deliveries in this state"
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def deliveries(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """The outbox: every (event, subscriber, channel) with its status, attempts and last error."""
    from state.deliveries import listing

    store = Store(_config(ctx).database)
    try:
        rows = listing(store, status)
    finally:
        store.close()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        else:
            error = f"  ({row['last_error']})" if row["last_error"] else ""
            click.echo(f"{row['id']:>6} {row['status']:<8} {row['subscriber']:<20} {row['label']:<28} "
                       f"{row['type']:<24} {row['state'] or '--':<3}{row['agency'] or ''}{error}")  # fmt: skip


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--as-of", "as_of", help="count agreements active at this date (default: now)")
@click.pass_context
def states(ctx: click.Context, as_json: bool, as_of: str | None) -> None:
    """Each state's 287(g) policy (state / local agencies), its active agreements, and the evidence."""
    from monitors.base import utc_now
    from watch287g.states import state_table

    store = Store(_config(ctx).database)
    try:
        rows = state_table(store, as_of or utc_now())
    finally:
        store.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"{'state':<16}{'state agencies':<16}{'local agencies':<16}{'active':>7}  evidence")
    for row in rows:
        evidence = "; ".join(f"{e['name']} ({e['effect']})" for e in row["evidence"]) or "-"
        click.echo(f"{row['name']:<16}{row['state_agencies']:<16}{row['local_agencies']:<16}"
                   f"{row['active_agreements']:>7}  {evidence}{'  ! ' + row['note'] if row['note'] else ''}")  # fmt: skip


@main.command()
@click.argument("file", default="-", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="label, scope, deciding phrase and classifier version")
def classify(file: Any, as_json: bool) -> None:
    """Classify a bill's title/abstract/text (FILE or - for stdin): ban, mandate, restrict or not_287g."""
    from monitors.classify import classify as run_classifier

    result = run_classifier(file.read())
    if as_json:
        click.echo(json.dumps({"label": result.label, "scope": result.scope, "phrase": result.phrase,
                               "about": result.about_phrase, "version": result.version}, ensure_ascii=False))  # fmt: skip
    else:
        click.echo(f"{result.label}\t{result.phrase}")


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the database: integrity, foreign keys, WAL mode; report migrations, backlog and last checks."""
    from state.maintenance import doctor as run_doctor

    store = Store(_config(ctx).database)
    try:
        problems, facts = run_doctor(store)
    finally:
        store.close()
    for key, value in facts.items():
        click.echo(f"{key}: {value}")
    if problems:
        _fail("; ".join(problems))
    click.echo("ok")


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, target: Path) -> None:
    """A consistent copy of the database, safe while runs are writing (restore: see README)."""
    from state.maintenance import backup as run_backup

    store = Store(_config(ctx).database)
    try:
        run_backup(store, target)
    except (FileExistsError, RuntimeError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    click.echo(f"backed up to {target}")


@main.command()
@click.option("--html", "html_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="write the report (one self-contained HTML page) to this file")  # fmt: skip
@click.option("--as-of", "as_of", help="date or ISO timestamp (default: now)")
@click.pass_context
def report(ctx: click.Context, html_path: Path, as_of: str | None) -> None:
    """An HTML report: agreements over time by model, a map of the states by policy, the latest events."""
    from monitors.base import utc_now
    from watch287g.report import write_report

    store = Store(_config(ctx).database)
    try:
        write_report(store, html_path, as_of or utc_now())
    except ValueError:
        _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD) or ISO timestamp", 2)
    except OSError as exc:
        _fail(f"cannot write {html_path}: {exc.strerror or exc}")
    finally:
        store.close()
    click.echo(f"wrote {html_path}")


@main.command()
def demo() -> None:
    """Replay bundled real ICE lists through the whole pipeline on a throwaway database."""
    from watch287g.demo import run_demo

    run_demo(click.echo)
