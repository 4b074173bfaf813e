"""Import lists from public archives (issue 13): which list an archived file is, keeping each sighting as it
arrives, then interpreting the waiting ones in time order through the backfill path (or re-deriving an
archive-only history when one arrives late)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitors.archive.body import ArchivedBody
from monitors.archive.file_names import channel_by_name
from monitors.base import ParseError, Snapshot, instant
from monitors.ice.kind import LIST_CHANNELS
from monitors.ice.lists import parse_list
from rules.ice_rules import Rules
from state import rederive, sightings
from state.sightings import Sighting
from state.store import Store
from watch287g.compliance_settling import BackfillSettler
from watch287g.pipeline import load_known, process_list

Progress = Callable[[str], None]
PROGRESS_EVERY = 25  # lists interpreted between two progress lines (a list takes ~30 ms)


def _silent(line: str) -> None:
    """The default progress: say nothing."""


@dataclass(frozen=True)
class Imported:
    """One list fed to the pipeline (an archive's sighting, or a backfilled list re-derived), and its outcome."""

    fetched_at: str
    channel: str  # participating | pending
    outcome: str  # processed | unchanged | quarantined | already_seen (older than the list in force)
    detail: str | None  # the quarantine reason, or why it came too late
    where: str  # provenance_url of the sighting (a backfilled list: its archive name)


@dataclass
class ImportSummary:
    imported: list[Imported]
    skipped: list[tuple[str, str]]  # (name, why)
    # Set when a list earlier than the history arrived and the archive-only history was rebuilt in time order:
    # then `imported` holds every list of the source, not only this run's.
    rederived: bool = False
    # When a late list had to be refused instead: what stored since then was not an archive's (live, demo...).
    refused_because: list[str] = field(default_factory=list)


def recognise(archived: ArchivedBody) -> tuple[str | None, str]:
    """(list, how it was told) or (None, why skipped): by file name first, else by the parsed shape."""
    by_name = channel_by_name(archived.name)
    if by_name:
        return by_name, "file name"
    try:
        return parse_list(archived.body).shape, "columns"
    except (ParseError, ValueError) as error:  # not a spreadsheet, or not one of ICE's lists
        return None, f"not an ICE list: {error}"


def provenance_url(archived: ArchivedBody) -> str:
    """Where the bytes came from, as the snapshot's url: repository@commit:path, or the archive's capture URL."""
    where = archived.provenance
    if where.get("archive") == "git":
        return f"{where['repository']}@{where['commit']}:{where['path']}"
    return where.get("capture") or f"{where.get('url', archived.name)}@{where.get('timestamp', '')}"


def already_imported(store: Store, source: str) -> Callable[[str], bool]:
    """For an archive reader's `known`: is the sighting with this key (provenance_url) already kept?"""
    return lambda key: sightings.is_known(store, source, key)


class RememberedPages:
    """A Wayback reader's PageMemory in the store: a program page capture once read is a `page` sighting whose
    detail holds the links it carried, so the next import recalls them instead of reading it again."""

    def __init__(self, store: Store, source: str) -> None:
        self.store, self.source = store, source

    def recall(self, capture: str) -> list[str] | None:
        return sightings.page_links(self.store, self.source, capture)

    def remember(self, capture: str, fetched_at: str, page: bytes, links: list[str]) -> None:
        seen = Sighting(capture, "wayback", None, hashlib.sha256(page).hexdigest(), fetched_at, "program page",
                        {"archive": "wayback", "capture": capture})  # fmt: skip
        sightings.keep(self.store, self.source, seen, None, why=json.dumps(links), outcome=sightings.PAGE)


def import_bodies(
    store: Store, bodies: Iterable[ArchivedBody], *, source: str, rules: Rules, origin: str = "import",
    progress: Progress = _silent,
) -> ImportSummary:  # fmt: skip
    """Keep every archived file as it arrives, then interpret the waiting lists in time order through the same
    process_list as backfill (never alerted). Files that are not lists are kept as skipped, with the reason.

    A list earlier than the last one interpreted on its channel re-derives the source's history when that
    history is only archives' (state/rederive.py says when); otherwise it is `already_seen`, with the reason."""
    skipped = keep_bodies(store, bodies, source=source)
    summary = ImportSummary([], skipped)
    if _arrived_late(store, source):
        summary.refused_because = rederive.blocking_origins(store, source)
        if not summary.refused_because:
            summary.imported, summary.rederived = (
                rederive_history(store, source=source, rules=rules, progress=progress),
                True,
            )
            return summary
    summary.imported = interpret_waiting(store, source=source, rules=rules, origin=origin, progress=progress)
    return summary


def keep_bodies(store: Store, bodies: Iterable[ArchivedBody], *, source: str) -> list[tuple[str, str]]:
    """Keep each sighting not kept before (bytes of a list as a body); returns the files skipped as not lists."""
    skipped = []
    for archived in bodies:
        key = provenance_url(archived)
        if sightings.is_known(store, source, key):  # a reader that was not told what is known
            continue
        channel, how = recognise(archived)
        archive = archived.provenance.get("archive", "unknown")
        sha256 = hashlib.sha256(archived.body).hexdigest()
        seen = Sighting(
            key, archive, channel, sha256, archived.fetched_at, archived.name, archived.provenance
        )
        if channel is None:
            sightings.keep(store, source, seen, None, why=how)
            skipped.append((archived.name, how))
        else:
            sightings.keep(store, source, seen, archived.body)
    return skipped


def interpret_waiting(
    store: Store, *, source: str, rules: Rules, origin: str = "import", progress: Progress = _silent
) -> list[Imported]:
    """Every kept sighting not interpreted yet (this run's and an interrupted run's), oldest first.

    Each goes through process_list: the same bytes as the list in force are `unchanged` (not stored again, but
    the sighting keeps its provenance), a revert to older bytes is a change, and a list older than the last
    one interpreted on its channel is `already_seen` (history only moves forward)."""
    items = [
        rederive.ReplayItem(seen.fetched_at, seen.channel or "", seen.key, seen.sha256, origin, seen.key)
        for seen in sightings.waiting(store, source)
    ]
    return _interpret(store, items, source=source, rules=rules, progress=progress)


def rederive_history(
    store: Store, *, source: str, rules: Rules, progress: Progress = _silent
) -> list[Imported]:
    """Rebuild the source's archive-only history with every list in time order, in one transaction: a crash
    half-way leaves the history as it was, with the new sightings still waiting."""
    with store.transaction():
        items = rederive.replay_items(store, source)  # before the wipe: backfilled lists are only snapshots
        rederive.wipe_derived(store, source)
        return _interpret(store, items, source=source, rules=rules, progress=progress)


def _interpret(
    store: Store, items: list[rederive.ReplayItem], *, source: str, rules: Rules, progress: Progress
) -> list[Imported]:
    imported: list[Imported] = []
    known = load_known(store, source)
    settlers = {origin: BackfillSettler(store, origin) for origin in {item.origin for item in items}}
    for item in items:
        snapshot = Snapshot(source, item.channel, item.url, item.fetched_at, store.body(item.sha256) or b"")
        result = process_list(store, snapshot, origin=item.origin, rules=rules, known=known)
        outcome = result.outcome
        if item.key is not None:
            if outcome == "unchanged":  # or committed by a run killed before it could settle the sighting
                at = item.channel, item.key, item.sha256, item.fetched_at
                outcome = sightings.committed_as(store, source, *at) or outcome
            sightings.settle(store, source, item.key, outcome, result.detail)
        if result.outcome != "already_seen":
            settlers[item.origin].after_list(item.fetched_at, result.states)
        imported.append(Imported(item.fetched_at, item.channel, outcome, result.detail, item.url))
        if len(imported) % PROGRESS_EVERY == 0 or len(imported) == len(items):
            progress(f"interpreted {len(imported)}/{len(items)} lists (up to {item.fetched_at[:10]})")
    return imported


def _arrived_late(store: Store, source: str) -> bool:
    """Is a waiting list earlier than the last list interpreted on its channel?"""
    last = {name: (store.channel(source, name) or {}).get("updated_at") for name in LIST_CHANNELS}
    for seen in sightings.waiting(store, source):
        last_at = last.get(seen.channel or "")
        if last_at and instant(seen.fetched_at) < instant(last_at):
            return True
    return False
