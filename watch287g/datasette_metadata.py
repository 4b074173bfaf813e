"""`watch287g serve`: the database in Datasette, read-only, with canned queries for analysts.

Safety: the database is served immutable (`-i`) from a consistent copy (`serving_copy`), bound to 127.0.0.1
unless asked otherwise, with a time limit per query. Datasette escapes every value and every metadata text it
renders; this metadata uses plain `description` only (never `description_html`) and no plugins are configured,
so nothing from a fetched document (agency names, bill titles) is ever rendered as HTML.
`third_party_plugins()` names installed Datasette plugins (a `render_cell` plugin could render data as HTML):
`serve` refuses to start while there are any.

Datasette runs in this module (`python -m watch287g.datasette_metadata serve ...`), which sets limits on
every SQLite connection Datasette opens before handing over to Datasette's own command line. The time limit
is enforced by a progress handler that runs *between* SQLite's steps, and `randomblob(1e9)` or
`hex(randomblob(4e8))` is one step (measured: 3-4.5 s past a 3 s limit, 2 GB of memory for one query), so the
length of any one value is capped (`MAX_VALUE_BYTES`, 3x the largest real MOA: larger cells are not
served) and with it every step's time and memory; so is one answer's total, and SQLite's own heap.
Errors are answered without tracebacks (Datasette prints them, with local variables, to the console), and
cells are shown without control or format characters.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from state import history, maintenance, moa_search
from state.connection import limit_served, register_functions
from watch287g.terminal import printable

SQL_TIME_LIMIT_MS = 3000
# Longest string or blob one SQL value may be: 3x the largest real MOA (1.3 MB), whose kept copy alerts link
# (the real lists are ~110 KB).
MAX_VALUE_BYTES = 4_000_000
MAX_ANSWER_BYTES = 4_000_000  # text and blob bytes one query may return (Datasette's JSON of 250 MB of blobs
# took 25 s and 7.6 GB after the query itself had finished in 0.2 s: rendering is outside the time limit)
SQLITE_HEAP_BYTES = 256 * 1024 * 1024  # SQLite's own allocations (sorts, temporary tables), per process
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

QUERIES: dict[str, dict[str, str]] = {
    "new_agreements": {
        "sql": history.NEW_AGREEMENTS,
        "title": "New agreements between two dates",
        "description": "Agreements that appeared on ICE's list from :start to :end (YYYY-MM-DD, both days "
        "included, UTC), with the signed date, whether they were on the pending list, the MOA and the "
        "spreadsheet they were read from. The first list watch287g saw (the baseline) is not counted as new.",
    },
    "terminations": {
        "sql": history.TERMINATIONS,
        "title": "Terminated agreements",
        "description": "Agreements confirmed gone: absent from several consecutive lists for several days "
        "(see the rules in the README), newest first, with when they were last seen.",
    },
    "agreements_by_state_and_model": {
        "sql": history.AGREEMENTS_BY_STATE_MODEL,
        "title": "Agreements per state and model on a date",
        "description": "Agreements in force at the end of :as_of (YYYY-MM-DD; or a full ISO timestamp; empty "
        "for now), counted per state and support model: active, and missing (absent from the latest lists "
        "but not yet a confirmed termination). The same figures as `watch287g agreements --as-of`.",
    },
    "agreement_history": {
        "sql": history.AGREEMENT_HISTORY,
        "title": "Full history of an agreement (or a bill)",
        "description": "Every version and event of the agreements, pending requests and bills whose name (now "
        "or in the past: renamed agencies are found by their old name) or key contains :agency. Each row "
        "links the snapshot (stored spreadsheet) it came from.",
    },
    "bills_by_stage": {
        "sql": history.BILLS_BY_STAGE,
        "title": "287(g) bills by stage",
        "description": "State bills about 287(g)-type agreements, furthest stage first (enacted, sent to the "
        "governor, passed the legislature, passed one chamber, introduced, then vetoed or failed), with "
        "their classification (ban, mandate, restrict).",
    },
    "moa_search": {
        "sql": moa_search.CANNED_SEARCH,
        "title": "MOA full-text search",
        "description": "The kept MOA documents (PDFs behind the lists' links, as read by the current reader) "
        "containing :phrase as a phrase (any case; word endings folded: signatures finds signature; quotes, "
        "parentheses, * or NEAR are plain words), best match first (100 at most): the agreements linking "
        "each document, its URL, the passage with the match between « », and the stored bytes' sha256.",
    },
    "failed_deliveries": {
        "sql": history.FAILED_DELIVERIES,
        "title": "Alerts that failed to send",
        "description": "Deliveries whose last attempt failed, with the (scrubbed) reason and when they will "
        "be retried.",
    },
}

TABLES: dict[str, dict[str, Any]] = {
    "events": {"description": "Every event (see the README, Events); before / after / details are JSON."},
    "records": {"description": "Each agreement, pending request and bill as it is now."},
    "record_versions": {"description": "Each version of a record: status and content from valid_from on."},
    "snapshots": {"description": "Each fetched document that was new for its channel: the evidence."},
    "fetches": {"description": "Every HTTP request, even unchanged ones."},
    "deliveries": {"description": "The alert outbox: one row per (event, subscriber, channel)."},
    "readings": {"description": "What the MOA reader made of each kept document: fields (JSON) and text."},
    "bodies": {"hidden": True},
    "parses": {"hidden": True},
    "_sqlite_migrations": {"hidden": True},
}


def database_name(db_path: str | Path) -> str:
    """The name Datasette gives a database file: its stem."""
    return Path(db_path).stem


def datasette_metadata(db_path: str | Path) -> dict[str, Any]:
    """Datasette metadata (0.65): titles, plain-text descriptions and the canned queries."""
    return {
        "title": "watch287g",
        "description": "ICE 287(g) agreements, pending requests, state bills and the events between their "
        "versions, each with the stored document it was read from. Read-only.",
        "source": "ICE 287(g) program page",
        "source_url": "https://www.ice.gov/identify-and-arrest/287g",
        "databases": {
            database_name(db_path): {
                "queries": {name: {**query, "sql": query["sql"].strip()} for name, query in QUERIES.items()},
                "tables": TABLES,
            }
        },
    }


def write_metadata(db_path: str | Path, metadata_path: str | Path) -> Path:
    path = Path(metadata_path)
    path.write_text(json.dumps(datasette_metadata(db_path), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def serving_copy(db_path: str | Path, directory: str | Path) -> Path:
    """A consistent copy of the database (SQLite's backup API, safe while a run writes) to serve immutable:
    the live file in WAL mode may change under Datasette and `-i` would not see the WAL. Same file name,
    so the Datasette database name (and the canned queries' URLs) stay the same."""
    target = Path(directory) / Path(db_path).name
    maintenance.backup(db_path, target)
    return target


def third_party_plugins() -> list[str]:
    """Installed Datasette plugins (entry points in the `datasette` group)."""
    return sorted({ep.name for ep in entry_points(group="datasette")})


def serve_command(
    db_path: str | Path,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    metadata_path: str | Path | None = None,
) -> list[str]:
    """The Datasette command line: immutable database, metadata file (written now, beside the database
    unless `metadata_path` is given), query time limit, loopback by default."""
    db = Path(db_path)
    metadata = write_metadata(db, metadata_path or db.with_name(f"{db.stem}.datasette.json"))
    return [
        sys.executable, "-m", "watch287g.datasette_metadata", "serve", "-i", str(db), "--metadata", str(metadata),
        "--host", host, "--port", str(port), "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS),
    ]  # fmt: skip


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_until_stopped(command: list[str]) -> int:
    """Run Datasette in its own process group until it exits or this process is told to stop (Ctrl-C,
    SIGTERM, SIGHUP); then stop the whole group, so nothing keeps the port or the copy open."""
    process = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        if not stopping:  # a second signal must not interrupt the clean-up below
            stopping.append(signum)
            raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        return process.wait()
    except _Stopped:
        return 0
    finally:
        stopping.append(0)
        _stop_group(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _die_with_parent() -> None:
    """In the child, before Datasette starts (Linux): SIGTERM when `serve` dies, even by SIGKILL, which no
    handler can catch."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the signal handlers above still stop it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class _Stopped(Exception):
    pass


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return  # the group is gone
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class _Limits:
    """Datasette hook implementations registered by this process (not a plugin: nothing is installed)."""

    @staticmethod
    def prepare_connection(conn: Any) -> None:
        limit_served(conn, value_bytes=MAX_VALUE_BYTES, heap_bytes=SQLITE_HEAP_BYTES)
        register_functions(conn)  # the canned queries' agency_key
        conn.row_factory = _budgeted(conn.row_factory or (lambda _cursor, row: row), MAX_ANSWER_BYTES)

    @staticmethod
    def handle_exception(request: Any, exception: Exception) -> Any:
        """An unexpected error (not Datasette's own 4xx, which it answers itself): one line on the console,
        a plain answer without traceback or internals."""
        from datasette import Response
        from datasette.utils.asgi import Base400
        from datasette.views.base import DatasetteError

        if isinstance(exception, Base400 | DatasetteError):
            return None
        status = 500 if request.method in ("GET", "HEAD") else 400
        print(f"error: {request.method} {request.path}: {type(exception).__name__}", file=sys.stderr)
        return Response.text(f"Error {status}: the request could not be handled\n", status=status)

    @staticmethod
    def render_cell(value: Any) -> Any:
        """Text holding control or format characters (a bidi override shows "fdp.exe" as "exe.pdf") is shown
        without them, escaped; any other value is left to Datasette (which escapes it)."""
        from markupsafe import escape

        if isinstance(value, str) and printable(value) != value:
            return escape(printable(value))
        return None


def _budgeted(make_row: Any, limit: int) -> Any:
    """A row factory that refuses (as an SQLite error, shown like any failed query) once the rows fetched by
    one cursor hold more than `limit` bytes of text and blobs."""
    import sqlite3
    import weakref

    spent: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def row(cursor: Any, values: tuple[Any, ...]) -> Any:
        total = spent.get(cursor, 0) + sum(len(v) for v in values if isinstance(v, str | bytes))
        if total > limit:
            raise sqlite3.OperationalError(
                f"the answer is larger than {limit:,} bytes; select fewer rows or columns"
            )
        spent[cursor] = total
        return make_row(cursor, values)

    return row


def run_datasette(argv: list[str]) -> None:
    """Datasette's command line with `_Limits` registered and its rich tracebacks off."""
    from datasette import handle_exception as default_errors
    from datasette import hookimpl
    from datasette.cli import cli
    from datasette.plugins import pm

    default_errors.rich = None  # type: ignore[attr-defined]  # would print every local variable
    hooks = type("watch287g_limits", (), {
        "prepare_connection": staticmethod(hookimpl(_Limits.prepare_connection)),
        "handle_exception": staticmethod(hookimpl(tryfirst=True)(_Limits.handle_exception)),
        "render_cell": staticmethod(hookimpl(_Limits.render_cell)),
    })  # fmt: skip
    pm.register(hooks, name="watch287g_limits")
    cli.main(args=argv, prog_name="datasette")


if __name__ == "__main__":
    run_datasette(sys.argv[1:])
