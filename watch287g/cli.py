"""`watch287g` command line: thin; every command calls plain functions and exits non-zero on failure."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from events.event import StoredEvent
from monitors.base import ConfigError
from notifiers.headline import event_line
from notifiers.text import plural
from notifiers.wording import events_phrase
from state import queries
from state.store import Store
from watch287g.cli_params import DATE, OUTPUT, STATE
from watch287g.config import DEFAULT_CONFIG, NOT_WATCHED, Config, load_config, watches_legislation
from watch287g.terminal import agreement_line


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def nothing_matches(what: str) -> None:
    """A command with nothing to show says so (on stderr, so --json output stays empty)."""
    click.echo(f"no {what} match", err=True)


def echo_rows(rows: list[Any], as_json: bool, line: Callable[[Any], str], what: str) -> None:
    """One line per row (one JSON object with --json), or say that nothing matches."""
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True) if as_json else line(row))
    if not rows:
        nothing_matches(what)


def _config(ctx: click.Context) -> Config:
    try:  # only the commands that send resolve the notify URLs' secrets; the others only read the database
        return load_config(ctx.obj["config"], secrets=ctx.command.name in ("run", "notify"))
    except ConfigError as exc:
        _fail(str(exc), 2)
        raise  # unreachable; keeps type checkers content


def _config_after_command(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """`watch287g events --config FILE` means the same as `watch287g --config FILE events`."""
    if value is not None:
        ctx.ensure_object(dict)["config"] = value


class _Commands(click.Group):
    """The command group: every command also takes --config after its name, and whatever escapes a command
    is one line `error: …` (see watch287g/cli_errors.py), never a traceback."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.append(
            click.Option(["--config", "config_path"], type=click.Path(path_type=Path), expose_value=False,
                         callback=_config_after_command, help="config file (also accepted before the command)")
        )  # fmt: skip
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        from watch287g.cli_errors import debugging, describe

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a bad value or option: one line, as for every other bad input
            command = exc.ctx.info_name if exc.ctx is not None and exc.ctx.parent is not None else None
            _fail(f"{command + ': ' if command else ''}{exc.format_message()}", 2)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if debugging():
                raise
            message, code = describe(exc, ctx.invoked_subcommand or "watch287g")
            _fail(message, code)


@click.group(cls=_Commands)
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True
)
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Watch ICE's 287(g) agreement lists and turn their changes into events."""
    from watch287g.terminal import guard_terminal

    guard_terminal()  # nothing read from a document may drive the terminal (escape sequences, bidi)
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
    from monitors.base import utc_now
    from state.lock import Busy
    from watch287g.run import run_events

    started, names = utc_now(), [m.name for m in config.monitors]
    stored_before = {e["id"] for e in run_events(config.database, started, utc_now(), names)}  # same second
    try:
        summary, failures = _run_plain(config, source) if no_prefect else _run_prefect(config, source)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except Busy as exc:  # another run is at work: this one exits cleanly, having done nothing
        click.echo(f"skipped: {exc}", err=True)
        return
    stored = [
        e for e in run_events(config.database, started, utc_now(), names) if e["id"] not in stored_before
    ]
    for report in summary.get("sources", []):
        _print_check(report, stored)
    if summary.get("reading"):
        click.echo(f"MOA reading: {summary['reading']['line']}")
    if not source and not watches_legislation(config):
        click.echo(NOT_WATCHED)  # a note, not an error: the exit status stays the checks'
    sent = summary.get("sent") or {}
    if sent.get("messages"):
        deliveries = plural(sent["deliveries"], "delivery", "deliveries")
        click.echo(f"sent {plural(sent['messages'], 'message')} ({deliveries})")
    if failures:
        _fail("; ".join(failures))


def _print_check(report: dict[str, Any], stored: list[StoredEvent]) -> None:
    baseline = sum(1 for e in stored if e["source"] == report["source"] and e["baseline"])
    click.echo(f"{report['source']}: {events_phrase(report['events'], baseline)}")
    for doc in report["documents"]:  # each followed MOA only when it failed; the others are counted below
        if not doc["channel"].startswith("moa:") or doc["outcome"] == "error":
            detail = f" ({doc['detail']})" if doc["detail"] else ""
            click.echo(f"  {doc['channel']:<13} {doc['outcome']:<12} {doc['url']}{detail}")
    if report.get("followed"):
        click.echo(f"  MOA documents: {followed_phrase(report)}")


def followed_phrase(report: dict[str, Any]) -> str:
    """The followed documents of one check in one line: outcomes counted, then what is left for later."""
    outcomes = Counter(d["outcome"] for d in report["documents"] if d["channel"].startswith("moa:"))
    counted = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    return f"{counted or 'none asked'}; {report['followed']}"


def _run_prefect(config: Config, source: str | None) -> tuple[dict[str, Any], list[str]]:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.check import SKIPPED, CheckFailed, check_flow
    from state.lock import Busy

    state = check_flow(str(config.path), source, return_state=True)
    summary = state.result(raise_on_failure=False)
    if state.is_completed() and state.name == SKIPPED:  # said as `skipped:`, exit 0, like --no-prefect
        raise Busy(str(summary["skipped"]) if isinstance(summary, dict) else state.message)
    if state.is_completed() and isinstance(summary, dict):
        return summary, []
    if isinstance(summary, CheckFailed):  # the check ran and failed: its summary and reasons
        return summary.summary, [str(summary)]
    if isinstance(summary, BaseException):  # a crash (disk full, a locked database...): said in one line
        raise summary
    return {}, [str(state.message or state.name)]


def _run_plain(config: Config, source: str | None) -> tuple[dict[str, Any], list[str]]:
    from watch287g.run import run_once

    result = run_once(config, source)
    return result.summary(), result.failures


@main.command()
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", help="the source the archive belongs to (default: the first ice_287g source)")
@click.pass_context
def backfill(ctx: click.Context, manifest: Path, source: str | None) -> None:
    """Feed archived lists (CSV: fetched_at,list,path) through the pipeline, in time order; sends no alerts."""
    from state.lock import Busy, run_lock
    from watch287g.backfill import backfill as run_backfill
    from watch287g.backfill import read_manifest

    config = _config(ctx)
    try:
        monitor = config.monitor(source) if source else config.monitors[0]
        rows = read_manifest(manifest)
    except ConfigError as exc:
        _fail(str(exc), 2)
    waiting = f"waiting: another watch287g run is using {config.database}"
    try:  # a run is short: wait for it; a run started meanwhile is skipped (it finds the lock taken)
        with run_lock(config.database, BACKFILL_WAIT_SECONDS, lambda: click.echo(waiting, err=True)):
            store = Store(config.database)
            try:
                results = run_backfill(
                    store, rows, source=monitor.name, url=str(monitor.config["url"]), rules=config.rules
                )
            finally:
                store.close()
    except Busy as exc:
        _fail(str(exc))
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    events = sum(len(r.event_ids) for r in results)
    summary = ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in sorted(counts.items()))
    click.echo(f"{plural(len(results), 'file')}: {summary}; {plural(events, 'event')} stored")
    if counts.get("already_seen"):
        click.echo(
            "  already seen: earlier than the list last interpreted on their channel (history only moves"
            " forward; a repeated or resumed backfill skips what it already did)"
        )
    for row, result in zip(rows, results, strict=True):
        if result.outcome == "quarantined":
            click.echo(f"  quarantined {row.path.name}: {result.detail}")


BACKFILL_WAIT_SECONDS = 600.0  # a run takes seconds, minutes with retries; then give up with an error


@main.command()
@click.option("--since", type=DATE, help="only events detected on or after this date (YYYY-MM-DD)")
@click.option("--type", "type_glob", help="event type glob, e.g. 'agreement.*'")
@click.option("--state", type=STATE, help="USPS state code, e.g. TX (or the state's name)")
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
            store, since=since, type_glob=type_glob, state=state, include_baseline=not no_baseline
        )
    finally:
        store.close()
    echo_rows(rows, as_json, event_line, "events")


@main.command()
@click.option("--as-of", "as_of", type=DATE, help="date or ISO timestamp (default: now)")
@click.option("--state", type=STATE, help="USPS state code (or the state's name)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.pass_context
def agreements(ctx: click.Context, as_of: str | None, state: str | None, as_json: bool) -> None:
    """Agreements in force at a time: active, or missing while an absence is not yet a termination."""
    from monitors.base import utc_now

    store = Store(_config(ctx).database)
    try:
        rows = queries.agreements_as_of(store, as_of or utc_now(), state=state)
    finally:
        store.close()
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, sort_keys=True) if as_json else agreement_line(row))
    if not rows:
        nothing_matches("agreements")
    elif not as_json:
        active = sum(r["status"] == "active" for r in rows)
        click.echo(f"{active} active, {len(rows) - active} missing")


@main.command()
@click.option("--email", "email_file", type=OUTPUT, default="watch287g-demo-email.html", show_default=True,
              help="where to write the rendered e-mail the demo ends with")  # fmt: skip
def demo(email_file: Path) -> None:
    """Replay bundled real ICE lists through the whole pipeline on a throwaway database, then write the
    e-mail a weekly subscriber would get for it."""
    from watch287g.demo import run_demo

    run_demo(click.echo, email_file)


# Commands for operators and analysts live in their own modules; importing them registers them on `main`.
from watch287g import cli_admin, cli_analysts, cli_import, cli_moa  # noqa: E402, F401
