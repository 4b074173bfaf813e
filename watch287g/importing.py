"""Import lists from public archives: the body an archive yields, and which list a file name holds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from monitors.archive.body import ArchivedBody
from monitors.base import ParseError, Snapshot
from monitors.ice.kind import LIST_CHANNELS
from monitors.ice.lists import parse_list
from rules.ice_rules import Rules
from state.store import Store
from watch287g.compliance_settling import BackfillSettler
from watch287g.pipeline import load_known, process_list


@dataclass(frozen=True)
class Imported:
    """One distinct body fed to the pipeline: its first sighting, and what the pipeline made of it."""

    fetched_at: str
    channel: str  # participating | pending
    outcome: str  # processed | unchanged | quarantined | already_seen (older than the list in force)
    detail: str | None  # the quarantine reason, or why it came too late
    where: str  # provenance_url of the first sighting


@dataclass
class ImportSummary:
    imported: list[Imported]
    skipped: list[tuple[str, str]]  # (name, why)


def channel_by_name(name: str) -> str | None:
    """The list a file name names (participatingAgencies..., 2025-05-29_pendingAgencies...), else None."""
    base = name.rsplit("/", 1)[-1].lower()
    matches = [channel for channel in LIST_CHANNELS if channel in base]
    return matches[0] if len(matches) == 1 else None


def recognise(archived: ArchivedBody) -> tuple[str | None, str]:
    """(list, how it was told) or (None, why skipped): by file name first, else by the parsed shape."""
    by_name = channel_by_name(archived.name)
    if by_name:
        return by_name, "file name"
    try:
        return parse_list(archived.body).shape, "columns"
    except (ParseError, ValueError) as error:  # not a spreadsheet, or not one of ICE's lists
        return None, f"not an ICE list: {error}"


def sightings_by_bytes(bodies: Iterable[ArchivedBody]) -> list[list[ArchivedBody]]:
    """Identical bytes are one body seen several times: its sightings, earliest first; bodies by first sighting.

    Only the first sighting is interpreted (later ones would find nothing new); the rest are kept as provenance.
    """
    groups: dict[str, list[ArchivedBody]] = {}
    for archived in bodies:
        groups.setdefault(hashlib.sha256(archived.body).hexdigest(), []).append(archived)
    ordered = [sorted(group, key=lambda a: a.fetched_at) for group in groups.values()]
    return sorted(ordered, key=lambda group: group[0].fetched_at)


def provenance_url(archived: ArchivedBody) -> str:
    """Where the bytes came from, as the snapshot's url: repository@commit:path, or the archive's capture URL."""
    where = archived.provenance
    if where.get("archive") == "git":
        return f"{where['repository']}@{where['commit']}:{where['path']}"
    return where.get("capture") or f"{where.get('url', archived.name)}@{where.get('timestamp', '')}"


def import_bodies(
    store: Store, bodies: Iterable[ArchivedBody], *, source: str, rules: Rules, origin: str = "import"
) -> ImportSummary:
    """Archived lists through the same process_list as backfill, first sightings in time order, never alerted."""
    summary = ImportSummary([], [])
    known = load_known(store, source)
    settler = BackfillSettler(store, origin)
    for group in sightings_by_bytes(bodies):
        first = group[0]
        channel, how = recognise(first)
        if channel is None:
            summary.skipped += [(archived.name, how) for archived in group]
            continue
        snapshot = Snapshot(source, channel, provenance_url(first), first.fetched_at, first.body)
        result = process_list(store, snapshot, origin=origin, rules=rules, known=known)
        if result.outcome != "already_seen":
            settler.after_list(first.fetched_at, result.states)
        where = snapshot.url
        summary.imported.append(Imported(first.fetched_at, channel, result.outcome, result.detail, where))
    return summary
