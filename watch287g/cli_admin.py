"""Commands for operators: notify, deliveries, doctor, backup."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import click

from monitors.base import ConfigError
from state.store import Store
from watch287g.cli import _config, _fail, main, nothing_matches, plural
from watch287g.cli_params import OUTPUT, write_output
from watch287g.config import Config


def _deliver_and_report(config: Config) -> bool:
    """Send what is due; print a line per failed message. True when everything due went out."""
    from watch287g.deliver import deliver

    store = Store(config.database)
    try:
        report = deliver(store, config)
    finally:
        store.close()
    if report.messages:
        click.echo(
            f"sent {plural(report.messages, 'message')} ({plural(report.deliveries, 'delivery', 'deliveries')})"
        )
    if report.skipped:
        click.echo(f"skipped: {report.skipped}; what is due stays pending", err=True)
    for failure in report.failures:
        click.echo(f"error: delivery failed: {failure}", err=True)
    return report.ok


@main.command()
@click.option("--test", "test_subscriber", metavar="SUBSCRIBER", help="send a test message to one subscriber")
@click.option("--preview", "preview_subscriber", metavar="SUBSCRIBER",
              help="print the title and text of what one subscriber would get now (its due deliveries, else its "
                   "20 latest matching events); sends nothing, changes nothing")  # fmt: skip
@click.option("--html", "html_file", type=OUTPUT, help="with --preview: write the e-mail's HTML part to FILE")
@click.pass_context
def notify(
    ctx: click.Context, test_subscriber: str | None, preview_subscriber: str | None, html_file: Path | None
) -> None:
    """Send every due delivery now (digests, retries); with --test, a test message to one subscriber; with
    --preview, show what one subscriber would get without sending it."""
    if html_file is not None and preview_subscriber is None:
        raise click.UsageError("--html goes with --preview SUBSCRIBER")
    if test_subscriber is not None and preview_subscriber is not None:
        raise click.UsageError("--test and --preview are two different things: give one")
    config = _config(ctx)
    if preview_subscriber is not None:
        _preview(config, preview_subscriber, html_file)
        return
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


def _preview(config: Config, name: str, html_file: Path | None) -> None:
    """The title and text part on stdout; which events they are on stderr; the HTML part to `html_file`."""
    from notifiers.preview import html_document
    from watch287g.deliver import preview_for

    try:
        shown = preview_for(config, name)
    except ConfigError as exc:
        _fail(str(exc), 2)
    if shown.message is None:  # like every command with nothing to show: said on stderr, exit 0
        click.echo(shown.what, err=True)
        return
    click.echo(f"preview for {name}, nothing sent: {shown.what}", err=True)
    click.echo(f"{shown.message.title}\n\n{shown.message.text}", nl=False)
    if html_file is not None:
        write_output(html_file, html_document(shown.message).encode())
        click.echo(f"wrote the HTML part to {html_file}", err=True)


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
    if not rows:
        nothing_matches("deliveries")


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the database: integrity, foreign keys, WAL mode; report migrations, backlog and last checks."""
    from state.maintenance import doctor as run_doctor

    database = Path(_config(ctx).database)
    if not database.is_file():  # opening it would create an empty database and call it healthy
        _fail(f"database {database} does not exist (run `watch287g run` or `backfill` first)")
    try:
        store = Store(database)
    except sqlite3.DatabaseError as exc:
        _fail(f"{database} is not a readable SQLite database ({exc})")
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
@click.argument("target", type=OUTPUT)
@click.pass_context
def backup(ctx: click.Context, target: Path) -> None:
    """A consistent copy of the database, safe while runs are writing (restore: see README)."""
    from state.maintenance import backup as run_backup

    try:
        run_backup(_config(ctx).database, target)
    except (FileExistsError, RuntimeError) as exc:
        _fail(str(exc))
    except (OSError, sqlite3.Error) as exc:  # disk full, file too large...: nothing is left under that name
        _fail(f"backup to {target} failed: {exc}")
    click.echo(f"backed up to {target}")
