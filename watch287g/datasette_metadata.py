"""`watch287g serve`: the database in Datasette, read-only, with canned queries for analysts.

Safety: the database is served immutable (`-i`) from a consistent copy (`serving_copy`), bound to 127.0.0.1
unless asked otherwise, with a time limit per query. Datasette escapes every value and every metadata text it
renders; this metadata uses plain `description` only (never `description_html`) and no plugins are configured,
so nothing from a fetched document (agency names, bill titles) is ever rendered as HTML.
`third_party_plugins()` names installed Datasette plugins (a `render_cell` plugin could render data as HTML):
`serve` refuses to start while there are any.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from state import history, maintenance

SQL_TIME_LIMIT_MS = 3000
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
        sys.executable, "-m", "datasette", "serve", "-i", str(db), "--metadata", str(metadata),
        "--host", host, "--port", str(port), "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS),
    ]  # fmt: skip
