"""Commands for analysts: history, export, feed, serve (Datasette), report, states, classify."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from state.store import Store
from watch287g.cli import _config, _fail, main, nothing_matches
from watch287g.cli_params import DATE, OUTPUT, STATE, write_output


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--as-of", "as_of", type=DATE, help="policy and agreements in force then (default: now)")
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
                   f"{row['active_agreements']:>7}  {evidence}{_note(row)}")  # fmt: skip


def _note(row: dict[str, Any]) -> str:
    """The compliance summary; "!" when a ban is in force with agreements still listed."""
    return f"  {'!' if row['ban_with_agreements'] else '-'} {row['note']}" if row["note"] else ""


@main.command()
@click.argument("file", default="-", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="label, scope, deciding phrase and classifier version")
def classify(file: Any, as_json: bool) -> None:
    """Classify a bill's title/abstract/text (FILE or - for stdin): ban, mandate, restrict or not_287g."""
    from rules.classify import classify as run_classifier

    result = run_classifier(file.read())
    if as_json:
        click.echo(json.dumps({"label": result.label, "scope": result.scope, "phrase": result.phrase,
                               "about": result.about_phrase, "version": result.version}, ensure_ascii=False))  # fmt: skip
    else:
        click.echo(f"{result.label}\t{result.phrase}")


@main.command()
@click.option("--html", "html_path", required=True, type=OUTPUT,
              help="write the report (one self-contained HTML page) to this file")  # fmt: skip
@click.option("--as-of", "as_of", type=DATE, help="date or ISO timestamp (default: now)")
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
@click.argument("term")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def history(ctx: click.Context, term: str, as_json: bool) -> None:
    """Everything that happened to an agreement or bill: TERM is an agency name (current or past, any part,
    any case), a bill key (MD|2026RS|HB444) or identifier (HB 444), or a record id."""
    from watch287g.analysts import format_history
    from watch287g.analysts import history as record_history

    store = Store(_config(ctx).database)
    try:
        rows = record_history(store, term)
    finally:
        store.close()
    if not rows:
        _fail(f"no agreement, pending request or bill matches {term!r}")
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(format_history(rows))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="CSV with a header, or JSON lines")  # fmt: skip
@click.option("--type", "type_glob", help="event type glob, e.g. 'agreement.*'")
@click.option("--state", type=STATE, help="USPS state code, e.g. TX (or the state's name)")
@click.option("--since", type=DATE, help="only events detected on or after this date (YYYY-MM-DD)")
@click.option("--baseline", is_flag=True, help="include the events of each source's first check")
@click.option(
    "--as-of", "as_of", type=DATE, help="export the agreements in force at this date instead of events"
)
@click.option("--output", "-o", type=OUTPUT, help="file (default stdout)")
@click.pass_context
def export(ctx: click.Context, fmt: str, type_glob: str | None, state: str | None, since: str | None,
           baseline: bool, as_of: str | None, output: Path | None) -> None:  # fmt: skip
    """Events (one row per event; columns documented in watch287g/exports.py), or agreements with --as-of."""
    from watch287g.exports import export_agreements, export_events

    store = Store(_config(ctx).database)
    try:
        if as_of:
            text = export_agreements(store, as_of, fmt, state)
        else:
            text = export_events(store, fmt, type_glob=type_glob, state=state, since=since,
                                 include_baseline=baseline)  # fmt: skip
    finally:
        store.close()
    if output:
        write_output(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)
    if not text.strip() or (fmt == "csv" and text.count("\n") <= 1):  # nothing, or a CSV header alone
        nothing_matches("agreements" if as_of else "events")


@main.command()
@click.option("--type", "type_glob", help="event type glob, e.g. 'agreement.*'")
@click.option("--state", type=STATE, help="USPS state code, e.g. TX (or the state's name)")
@click.option("--since", type=DATE, help="only events detected on or after this date (YYYY-MM-DD)")
@click.option("--baseline", is_flag=True, help="include the events of each source's first check")
@click.option("--url", "feed_url", help="the URL the feed will be published at (its rel=self link)")
@click.option("--output", "-o", type=OUTPUT, help="file (default stdout)")
@click.pass_context
def feed(ctx: click.Context, type_glob: str | None, state: str | None, since: str | None, baseline: bool,
         feed_url: str | None, output: Path | None) -> None:  # fmt: skip
    """An Atom feed of the newest 200 events matching the filters (stable entry ids, links to the evidence)."""
    from watch287g.exports import atom_feed

    store = Store(_config(ctx).database)
    try:
        data = atom_feed(store, type_glob=type_glob, state=state, since=since, feed_url=feed_url,
                         include_baseline=baseline)  # fmt: skip
    finally:
        store.close()
    if output:
        write_output(output, data)
    else:
        click.echo(data.decode("utf-8"), nl=False)
    if b"<entry>" not in data:  # a valid, empty feed: still say so
        nothing_matches("events")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", default=8001, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the database in Datasette, read-only (a consistent copy, served immutable), with canned queries."""
    import tempfile

    from watch287g.datasette_metadata import (
        is_loopback,
        run_until_stopped,
        serve_command,
        serving_copy,
        third_party_plugins,
    )

    config = _config(ctx)
    if not Path(config.database).is_file():
        _fail(f"no database at {config.database}; run `watch287g run` or `backfill` first", 2)
    plugins = third_party_plugins()
    if plugins:
        _fail(f"Datasette plugins are installed ({', '.join(plugins)}); serve runs without any", 2)
    if not is_loopback(host):
        click.echo(f"warning: --host {host}: the whole history (events, deliveries, snapshots) is visible to "
                   "anyone who can reach this machine on that address", err=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="watch287g-serve-") as folder:
        command = serve_command(serving_copy(config.database, folder), host, port)
        click.echo(f"serving a copy of {config.database} taken now at http://{host}:{port}/ (Ctrl-C stops)")
        code = run_until_stopped(command)
    if code:
        sys.exit(code)
