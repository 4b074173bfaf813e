"""A backfill settles compliance only when it could change (watch287g.compliance_settling.BackfillSettler), and stores
exactly the `policy.compliance` events that settling after every list stores: same ids, types, times and
details. The reference is the loop the backfill ran before, written out here."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitors.base import Snapshot
from monitors.ice.lists import parse_list
from rules.ice_rules import Rules
from rules.policy import load_seed
from state import queries
from state.store import Store
from tests.support.xlsx_edit import drop_rows
from watch287g.backfill import ManifestRow, backfill, read_manifest
from watch287g.compliance_settling import settle_compliance
from watch287g.pipeline import load_known, process_list

ICE = Path(__file__).parent / "fixtures" / "ice"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "ice"
MAY = ICE / "2025-05-29_participatingAgencies05292025am.xlsx"
URL = "https://www.ice.gov/identify-and-arrest/287g"
SOURCE = "ice-287g"


def settle_after_every_list(store: Store, rows: list[ManifestRow]) -> None:
    """The backfill as it was: process each list, then settle compliance at its time."""
    known = load_known(store, SOURCE)
    for row in rows:
        snapshot = Snapshot(
            SOURCE, row.channel, f"{URL}#{row.path.name}", row.fetched_at, row.path.read_bytes()
        )
        if (
            process_list(store, snapshot, origin="backfill", rules=Rules(), known=known).outcome
            != "already_seen"
        ):
            settle_compliance(store, row.fetched_at, None, "backfill")


def told(store: Store) -> list[tuple[Any, ...]]:
    return [
        (e["id"], e["type"], e["detected_at"], e["state"], e["baseline"], e["origin"], e["details"])
        for e in queries.events(store, type_glob="policy.compliance")
    ]


def both_ways(folder: Path, rows: list[ManifestRow]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The compliance events of a backfill of `rows`, and of the reference loop, each in its own database."""
    fast, reference = Store(folder / "fast.db"), Store(folder / "reference.db")
    try:
        backfill(fast, rows, source=SOURCE, url=URL, rules=Rules())
        settle_after_every_list(reference, rows)
        return told(fast), told(reference)
    finally:
        fast.close()
        reference.close()


def manifest(folder: Path, lines: list[tuple[str, str, Path]]) -> list[ManifestRow]:
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("fetched_at", "list", "path"), *lines])
    return read_manifest(path)


def shifted(source: Path, folder: Path, days: int) -> list[ManifestRow]:
    """A real manifest's lists, `days` later (into the months when 2026's bans took effect)."""
    lines = []
    with open(source, newline="") as handle:
        for row in csv.DictReader(handle):
            moment = datetime.fromisoformat(row["fetched_at"]) + timedelta(days=days)
            lines.append((moment.isoformat(), row["list"], source.parent / row["path"]))
    return manifest(folder, lines)


def test_the_real_lists_moved_into_2026_tell_the_same_compliance_as_settling_every_list(tmp_path):
    # 2025-03-08 .. 2025-07-31 become 2026-02-01 .. 2026-06-26: Virginia's ban takes effect between the first
    # two lists, Maryland's between the second and third, New Mexico's (2026-05-20) and Tennessee's mandate later.
    fast, reference = both_ways(tmp_path, shifted(ICE / "manifest_all.csv", tmp_path, 330))
    assert fast == reference
    assert {(state, details["phase"]) for _, _, _, state, _, _, details in reference} >= {
        ("MD", "still_listed"),
        ("NM", "still_listed"),
        ("VA", "still_listed"),
    }


def rows_of(path: Path, keep: Any) -> list[int]:
    return [r["row"] for r in parse_list(path.read_bytes()).records if keep(r)]


def test_a_ban_taking_effect_between_lists_that_change_nothing_in_its_state_is_still_told(tmp_path):
    """Maryland's ban takes effect (2026-02-17) between two lists that write nothing in Maryland; then its
    agreements leave the list and are terminated at the third absence, between dates of no instrument."""
    with_instrument = {i.state for i in load_seed()}
    unbound = sorted({r["state"] for r in parse_list(MAY.read_bytes()).records} - with_instrument)
    assert "MD" in with_instrument and len(unbound) >= 4
    lists = [MAY]
    for step, state in enumerate(unbound[:4]):  # each list one unrelated state less (new bytes, no MD change)
        previous = lists[-1].read_bytes()
        drop = rows_of(lists[-1], lambda r, s=state: r["state"] == s)
        if step == 1:  # and from the third on, no Maryland
            drop += rows_of(lists[-1], lambda r: r["state"] == "MD")
        lists.append(tmp_path / f"list{step}.xlsx")
        lists[-1].write_bytes(drop_rows(previous, drop))
    times = ["2026-02-10", "2026-02-20", "2026-02-21", "2026-02-25", "2026-03-05"]
    rows = manifest(
        tmp_path,
        [(f"{day}T12:00:00+00:00", "participating", path) for day, path in zip(times, lists, strict=True)],
    )
    fast, reference = both_ways(tmp_path, rows)
    assert fast == reference
    maryland = [(at, details["phase"]) for _, _, at, state, _, _, details in reference if state == "MD"]
    assert maryland == [
        ("2026-02-20T12:00:00+00:00", "still_listed"),
        ("2026-03-05T12:00:00+00:00", "all_ended"),
    ]


@pytest.mark.skipif(not (SHARED / "catalog.csv").is_file(), reason="the shared ICE corpus is absent")
def test_the_whole_shared_corpus_tells_the_same_compliance_as_settling_every_list(tmp_path):
    out = tmp_path / "corpus.csv"
    bench = Path(__file__).resolve().parents[1] / "bench" / "make_manifest.py"
    subprocess.run([sys.executable, str(bench), "--corpus", str(SHARED), "--out", str(out)], check=True)
    fast, reference = both_ways(tmp_path, shifted(out, tmp_path, 330))
    assert fast == reference and fast


def test_a_backfill_settles_only_on_its_first_list_and_when_a_ban_starts(tmp_path, monkeypatch):
    """The 21 real lists of 2025 at their own times: settled on the first, and on the first list after
    Delaware's ban took effect (2025-07-14); no list writes agreements of a state with a ban in force then
    (California, Illinois, Oregon, Washington, New Jersey), so no other settle is needed."""
    import watch287g.backfill as backfill_module
    import watch287g.compliance_settling as compliance

    settled: list[str] = []
    settle = compliance.settle_compliance

    def recorded(store: Store, at: str, *args: Any) -> list[str]:
        settled.append(at)
        return settle(store, at, *args)

    monkeypatch.setattr(compliance, "settle_compliance", recorded)
    monkeypatch.setattr(backfill_module, "settle_compliance", recorded, raising=False)  # if imported by name
    rows = read_manifest(ICE / "manifest_all.csv")
    store = Store(tmp_path / "w.db")
    try:
        backfill(store, rows, source=SOURCE, url=URL, rules=Rules())
    finally:
        store.close()
    assert settled == [rows[0].fetched_at, "2025-07-14T12:00:00+00:00"]
