"""`watch287g import ...` (issue 13): ICE's lists from public archives through the backfill path, never alerted.

`import git REPO` reads a git repository's history of spreadsheets. The parts every `import` command shares
(the source option, the run lock, the summary) are small functions here so each archive's command reuses them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import partial
from typing import Any

import click

from monitors.archive.body import ArchivedBody
from monitors.base import ConfigError
from notifiers.text import plural
from state.store import Store
from watch287g.cli import BACKFILL_WAIT_SECONDS, _config, _fail, main
from watch287g.cli_params import DATE
from watch287g.config import Config, base_url
from watch287g.importing import ImportSummary

# Progress on stderr every this many files read (a scraping repository holds thousands of versions).
PROGRESS_EVERY = 50


@main.group("import")
def import_group() -> None:
    """Import ICE's lists from public archives (the Wayback Machine, a git repository's history), in time
    order, as if checked then; events are origin import and never alerted."""


def source_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--source: the ICE source the archive belongs to (its events and state), as for `backfill`."""
    return click.option(
        "--source", help="the source the archive belongs to (default: the first ice_287g source)"
    )(command)


def import_source(config: Config, source: str | None) -> str:
    """The named source, else the first one (as `backfill`); exit 2 naming the sources when unknown."""
    try:
        return (config.monitor(source) if source else config.monitors[0]).name
    except (ConfigError, IndexError) as exc:
        _fail(str(exc) if isinstance(exc, ConfigError) else "no source configured", 2)
        raise  # unreachable; keeps type checkers content


def locked_import(config: Config, feed: Callable[[Store], ImportSummary]) -> list[str]:
    """Run `feed` on the database under the run lock, as `backfill` does (waiting for a run in progress; a
    run started meanwhile is skipped); the summary's lines, computed while the store is open."""
    from state.lock import Busy, run_lock
    from watch287g.import_report import in_force, summary_lines

    waiting = f"waiting: another watch287g run is using {config.database}"
    try:
        with run_lock(config.database, BACKFILL_WAIT_SECONDS, lambda: click.echo(waiting, err=True)):
            store = Store(config.database)
            try:
                summary = feed(store)
                return summary_lines(summary, partial(in_force, store))
            finally:
                store.close()
    except Busy as exc:
        _fail(str(exc))
        raise  # unreachable


def print_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


def progress_line(line: str) -> None:
    click.echo(line, err=True)


@import_group.command("git")
@click.argument("repository")
@click.option(
    "--glob",
    "globs",
    multiple=True,
    help="file name (or path) pattern to read, repeatable (default: *.xlsx and *.xls)",
)
@source_option
@click.pass_context
def import_git(ctx: click.Context, repository: str, globs: tuple[str, ...], source: str | None) -> None:
    """Every spreadsheet version in a git repository's history (a URL is cloned into a temporary folder,
    or a local path): one list per commit and file, the commit time as its time, identical bytes once."""
    from monitors.archive.git_history import GitError, check_repository_argument, git_bodies
    from watch287g.importing import already_imported, import_bodies

    config = _config(ctx)
    name = import_source(config, source)
    try:
        check_repository_argument(repository)  # refused before the lock is taken or the database opened
    except GitError as exc:
        _fail(str(exc))
    skipped: list[tuple[str, str]] = []

    def feed(store: Store) -> ImportSummary:
        bodies = git_bodies(
            repository,
            list(globs) or None,
            known=already_imported(store, name),  # a second run reads only what is missing
            progress=progress_line,
            skipped=lambda path, why: skipped.append((path, why)),
        )
        summary = import_bodies(
            store, counted(bodies), source=name, rules=config.rules, origin="import", progress=progress_line
        )
        summary.skipped[:0] = skipped
        return summary

    try:
        print_lines(locked_import(config, feed))
    except GitError as exc:
        _fail(str(exc))


def _archive_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An http(s) address without user:password@, query or fragment: a usage error before anything opens."""
    url = base_url(value)
    if url is None:
        raise click.BadParameter(
            f"{value!r} is not an http(s) address without user:password@, query or fragment"
        )
    return url


@import_group.command("wayback")
@click.option("--since", type=DATE, help="captures from this day on (YYYY-MM-DD)")
@click.option("--until", type=DATE, help="captures up to this day, inclusive")
@click.option("--pace", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="seconds between two requests to the archive (be polite: it rate-limits)")  # fmt: skip
@click.option("--archive-url", default="https://web.archive.org", show_default=True, callback=_archive_url,
              help="the Wayback Machine's address (a mirror; the tests' stand-in)")  # fmt: skip
@source_option
@click.pass_context
def import_wayback(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    pace: float,
    archive_url: str,
    source: str | None,
) -> None:
    """ICE's lists as the Wayback Machine captured them: the program page's captures (for the links they
    carried) and every spreadsheet under ICE's 287(g) folder, each distinct capture downloaded raw, oldest
    first, at a pace; a second run downloads only what is missing."""
    from monitors.archive.wayback import WaybackArchive, WaybackError
    from watch287g.importing import RememberedPages, already_imported, import_bodies

    config = _config(ctx)
    name = import_source(config, source)
    first, last = _day(since), _day(until)
    report_lines: list[str] = []

    def feed(store: Store) -> ImportSummary:
        with WaybackArchive(
            config.contact, archive_base=archive_url, pace=pace, progress=progress_line
        ) as archive:
            try:
                known, pages = already_imported(store, name), RememberedPages(store, name)
                bodies = archive.bodies(first, last, known=known, pages=pages)
                return import_bodies(
                    store, bodies, source=name, rules=config.rules, origin="import", progress=progress_line
                )
            finally:
                report_lines.extend(archive.report.lines())

    try:
        lines = locked_import(config, feed)
    except WaybackError as exc:
        print_lines(report_lines)
        _fail(str(exc))
    print_lines([*report_lines, *lines])


def _day(value: str | None) -> date | None:
    """A --since/--until value as the day it names (a timestamp names its day)."""
    if value is None:
        return None
    return datetime.fromisoformat(value).date()


def counted(bodies: Iterable[ArchivedBody]) -> Iterator[ArchivedBody]:
    """The same items, saying on stderr how many were read every PROGRESS_EVERY."""
    read = 0
    for read, body in enumerate(bodies, start=1):
        if read % PROGRESS_EVERY == 0:
            progress_line(f"read {read} files")
        yield body
    progress_line(f"read {plural(read, 'file')}; interpreting the lists in time order")
