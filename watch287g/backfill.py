"""Feed archived lists through the same path as a live check, in time order, as if fetched then."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from monitors.base import ConfigError, Snapshot, instant
from monitors.ice.kind import LIST_CHANNELS
from rules.ice_rules import Rules
from state.store import Store
from watch287g.compliance_settling import BackfillSettler
from watch287g.pipeline import Processed, load_known, process_list


@dataclass(frozen=True)
class ManifestRow:
    fetched_at: str
    channel: str
    path: Path


def read_manifest(path: Path) -> list[ManifestRow]:
    """Rows of `fetched_at,list,path` (paths relative to the manifest), sorted by time, stable for ties."""
    rows = []
    lines: dict[tuple[str, str], int] = {}  # (fetched_at, list) -> the line that gave it
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"fetched_at", "list", "path"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(
                f"{path}: manifest needs columns fetched_at,list,path; missing {', '.join(sorted(missing))}"
            )
        for number, row in enumerate(reader, start=2):
            if row["list"] not in LIST_CHANNELS:
                raise ConfigError(
                    f"{path}:{number}: list must be one of {', '.join(LIST_CHANNELS)}, got {row['list']!r}"
                )
            file = (path.parent / row["path"]).resolve()
            if not file.is_file():
                raise ConfigError(f"{path}:{number}: no such file {row['path']!r}")
            rows.append(ManifestRow(_timestamp(row["fetched_at"], path, number), row["list"], file))
            # Two lists of one kind at one instant: which was in force is unknowable (and a resumed run
            # would skip the second as already seen), so the manifest is refused.
            first = lines.setdefault((rows[-1].fetched_at, row["list"]), number)
            if first != number:
                raise ConfigError(
                    f"{path}:{number}: a second {row['list']} list at {rows[-1].fetched_at} (line {first}); "
                    "give each list its own time"
                )
    return sorted(rows, key=lambda r: r.fetched_at)


def _timestamp(value: str, path: Path, number: int) -> str:
    try:
        moment = instant(value.strip())
    except ValueError:
        raise ConfigError(f"{path}:{number}: fetched_at {value!r} is not an ISO date or timestamp") from None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def backfill(
    store: Store, rows: list[ManifestRow], *, source: str, url: str, rules: Rules, origin: str = "backfill"
) -> list[Processed]:
    """Process every archived file; events carry the archive's time as detected_at and are never alerted."""
    results = []
    known = load_known(store, source)
    settler = BackfillSettler(store, origin)
    for row in rows:
        snapshot = Snapshot(
            source, row.channel, f"{url}#{row.path.name}", row.fetched_at, row.path.read_bytes()
        )
        results.append(process_list(store, snapshot, origin=origin, rules=rules, known=known))
        if results[-1].outcome != "already_seen":  # its compliance was settled when it was first seen
            settler.after_list(row.fetched_at, results[-1].states)
    return results
