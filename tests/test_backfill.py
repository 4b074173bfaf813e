"""Backfill of archived lists (read_manifest, backfill) and the history it leaves, checked against ICE's figures."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitors.base import ConfigError
from monitors.ice.lists import parse_list
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from watch287g.backfill import ManifestRow, backfill, read_manifest

FIXTURES = Path(__file__).parent / "fixtures" / "ice"
MANIFEST = FIXTURES / "manifest_small.csv"
MANIFEST_ALL = FIXTURES / "manifest_all.csv"  # the 21 lists of tests/fixtures/ice from 03-08 to 07-31
SOURCE, URL = "ice-287g", "https://www.ice.gov/identify-and-arrest/287g"


def run(rows: list[ManifestRow]) -> tuple[Store, list[Any]]:
    store = Store(None)
    return store, backfill(store, rows, source=SOURCE, url=URL, rules=Rules())


@pytest.fixture(scope="module")
def history() -> tuple[Store, list[Any]]:
    return run(read_manifest(MANIFEST))


def test_read_manifest_sorts_by_time_and_resolves_paths() -> None:
    rows = read_manifest(MANIFEST)
    assert [(r.fetched_at, r.channel, r.path.name) for r in rows] == [
        (
            "2025-03-08T10:30:21+00:00",
            "participating",
            "2025-03-08_participatingAgencies-20250308103021.xlsx",
        ),
        (
            "2025-03-17T23:10:40+00:00",
            "participating",
            "2025-03-17_participatingAgencies-20250317231040.xlsx",
        ),
        # the same instant written in two time zones: a tie, kept in file order
        ("2025-05-29T15:17:33+00:00", "participating", "2025-05-29_participatingAgencies05292025am.xlsx"),
        ("2025-05-29T15:17:33+00:00", "pending", "2025-05-29_pendingAgencies05292025am.xlsx"),
        ("2025-06-18T02:32:04+00:00", "participating", "2025-06-17_participatingAgencies06172025pm.xlsx"),
        ("2025-06-21T15:15:20+00:00", "participating", "2025-06-20_participatingAgencies06202025am.xlsx"),
        ("2025-06-23T15:18:27+00:00", "participating", "2025-06-23_participatingAgencies06232025am.xlsx"),
    ]
    assert all(r.path.is_absolute() and r.path.parent == FIXTURES.resolve() for r in rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("when,list,path\n", "manifest needs columns fetched_at,list,path; missing fetched_at"),
        (
            "fetched_at,list,path\n2025-05-29,agreements,x.xlsx\n",
            ":2: list must be one of participating, pending, got 'agreements'",
        ),
        ("fetched_at,list,path\n2025-05-29,pending,nowhere.xlsx\n", ":2: no such file 'nowhere.xlsx'"),
        (
            "fetched_at,list,path\n2025-05-29T12:00Z,pending,{pending}\n2025-05-29T08:00-04:00,pending,{pending}\n",
            ":3: a second pending list at 2025-05-29T12:00:00+00:00 (line 2); give each list its own time",
        ),
        (
            "fetched_at,list,path\n2025-05-29,pending,{pending}\n29/05/2025,pending,{pending}\n",
            ":3: fetched_at '29/05/2025' is not an ISO date or timestamp",
        ),
    ],
    ids=["columns", "list", "file", "same_time", "timestamp"],
)
def test_read_manifest_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    pending = tmp_path / "2025-05-29_pendingAgencies05292025am.xlsx"
    pending.write_bytes((FIXTURES / pending.name).read_bytes())
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(content.format(pending=pending.name), encoding="utf-8")
    expected = f"{manifest}{message}" if message.startswith(":") else f"{manifest}: {message}"
    with pytest.raises(ConfigError) as error:
        read_manifest(manifest)
    assert str(error.value) == expected


def test_backfill_outcomes_and_event_times(history: tuple[Store, list[Any]]) -> None:
    store, results = history
    assert [(r.channel, r.outcome) for r in results] == [("participating", "processed")] * 3 + [
        ("pending", "processed")
    ] + [("participating", "processed")] * 3
    events = queries.events(store)
    assert {e["origin"] for e in events} == {"backfill"}
    by_time = Counter((e["detected_at"], e["type"], e["baseline"]) for e in events)
    assert by_time[("2025-03-08T10:30:21+00:00", "agreement.added", True)] == 318
    assert by_time[("2025-05-29T15:17:33+00:00", "pending.added", True)] == 68
    assert by_time[("2025-06-21T15:15:20+00:00", "agreement.added", False)] == 13
    assert not [e for e in events if e["detected_at"] == "2025-06-23T15:18:27+00:00"]
    assert {e["url"] for e in events if e["detected_at"] == "2025-06-21T15:15:20+00:00"} == {
        URL + "#2025-06-20_participatingAgencies06202025am.xlsx"
    }
    # Kansas Bureau of Investigation (WSO) left the lists on 04-29 and never came back: absent from the 05-29,
    # 06-17 and 06-20 lists, 23 days: terminated once, when the third absent list was seen.
    (terminated,) = queries.events(store, type_glob="agreement.terminated")
    assert (terminated["detected_at"], terminated["state"], terminated["agency"], terminated["model"]) == (
        "2025-06-21T15:15:20+00:00",
        "KS",
        "Kansas Bureau Of Investigation",
        "Warrant Service Officer",
    )
    assert terminated["details"] == {
        "absent_lists": 3,
        "absent_since": "2025-05-29T15:17:33+00:00",
        "last_seen": "2025-03-17T23:10:40+00:00",
    }


def test_press_figures_of_may_29(history: tuple[Store, list[Any]]) -> None:
    """ICE, "as of May 29, 2025": 635 agreements (100 JEM / 307 TFM / 228 WSO) and 68 pending (7 / 43 / 18)."""
    store, _ = history
    agreements = queries.agreements_as_of(store, "2025-05-29")
    active = [a for a in agreements if a["status"] == "active"]
    assert len(active) == 635
    assert Counter(a["model"] for a in active) == {
        "Jail Enforcement Model": 100,
        "Task Force Model": 307,
        "Warrant Service Officer": 228,
    }
    # In force but absent from the May 29 list (since 03-17): missing, not yet terminated.
    assert [(a["state"], a["agency"], a["model"]) for a in agreements if a["status"] != "active"] == [
        ("KS", "Kansas Bureau Of Investigation", "Warrant Service Officer")
    ]
    pending = queries.pending_as_of(store, "2025-05-29")
    assert len(pending) == 68 and {r["status"] for r in pending} == {"pending"}
    assert Counter(r["model"] for r in pending) == {
        "Jail Enforcement Model": 7,
        "Task Force Model": 43,
        "Warrant Service Officer": 18,
    }
    # The day before, the pending list had not been seen yet; the 03-17 list was in force.
    assert queries.pending_as_of(store, "2025-05-28") == []
    assert len(queries.agreements_as_of(store, "2025-05-28")) == 360


def test_active_agreements_after_the_last_list_are_that_list(history: tuple[Store, list[Any]]) -> None:
    store, _ = history
    last = parse_list((FIXTURES / "2025-06-23_participatingAgencies06232025am.xlsx").read_bytes())
    agreements = queries.agreements_as_of(store, "2025-06-23T15:18:27+00:00")
    active = {(a["state"], a["agency"], a["model"]) for a in agreements if a["status"] == "active"}
    assert active == {(r["state"], r["agency"], r["model"]) for r in last.records}
    assert len(active) == 719
    # Butler County (PA, WSO) left on 06-17: missing for three lists but only 5 days, so not yet terminated.
    assert [
        (a["state"], a["agency"], a["model"], a["status"]) for a in agreements if a["status"] != "active"
    ] == [("PA", "Butler County Sheriff's Office", "Warrant Service Officer", "missing")]


def history_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a backfill writes, table by table, in a stable order (ids included: they must match)."""
    tables = {
        "events": "select * from events order by id",
        "records": "select * from records order by id",
        "record_versions": "select * from record_versions order by id",
        "snapshots": "select * from snapshots order by id",
        "channels": "select * from channels order by source, channel",
        "bodies": "select sha256, first_seen from bodies order by sha256",
    }
    return {name: [tuple(row) for row in store.db.execute(sql).fetchall()] for name, sql in tables.items()}


def test_a_manifest_run_twice_stores_exactly_the_events_of_one_run(tmp_path: Path) -> None:
    """Issue 9: the second run replayed every earlier list against newer state (false terminations,
    withdrawals, quarantined lists). Now every row is already seen and nothing changes."""
    rows = read_manifest(MANIFEST_ALL)
    assert len(rows) == 21
    store = Store(tmp_path / "w.db")
    first = backfill(store, rows, source=SOURCE, url=URL, rules=Rules())
    assert Counter(r.outcome for r in first) == {"processed": 21}
    once = history_rows(store)
    again = backfill(store, rows, source=SOURCE, url=URL, rules=Rules())
    # Each channel's last list is the one in force (same instant, same bytes): unchanged; the rest are older.
    assert Counter(r.outcome for r in again) == {"already_seen": 19, "unchanged": 2}
    assert again[0].detail == (
        "fetched 2025-03-08T12:00:00+00:00, before the list interpreted at 2025-07-15T12:00:00+00:00"
    )
    assert history_rows(store) == once
    store.close()


def test_a_backfill_resumed_after_any_list_equals_one_clean_run() -> None:
    rows = read_manifest(MANIFEST_ALL)
    clean, _ = run(rows)
    expected = history_rows(clean)
    for done in (1, 4, 10, 17):  # the run stopped after `done` lists; the same manifest is run again
        store, _ = run(rows[:done])
        resumed = backfill(store, rows, source=SOURCE, url=URL, rules=Rules())
        assert {r.outcome for r in resumed[:done]} <= {"already_seen", "unchanged"}
        assert history_rows(store) == expected, f"resumed after {done} lists"


def test_an_archive_older_than_the_history_is_not_interpreted_against_it() -> None:
    """History only moves forward: lists older than the last one interpreted on their channel are skipped."""
    rows = read_manifest(MANIFEST_ALL)
    store, _ = run([r for r in rows if r.fetched_at.startswith("2025-07-15")])
    before = history_rows(store)
    older = [r for r in rows if r.channel == "participating" and r.fetched_at < "2025-07-15"]
    results = backfill(store, older, source=SOURCE, url=URL, rules=Rules())
    assert {r.outcome for r in results} == {"already_seen"}
    assert history_rows(store) == before


def test_press_figures_do_not_depend_on_file_order() -> None:
    rows = read_manifest(MANIFEST)
    rows[2], rows[3] = rows[3], rows[2]  # pending 05-29 first
    assert [r.channel for r in rows[2:4]] == ["pending", "participating"]
    store, _ = run(rows[:4])
    converted = {
        r["agency"] for r in store.tracked(SOURCE) if r["kind"] == "pending" and r["status"] == "converted"
    }
    # Longboat Key PD (FL, TFM) is on both May 29 lists: converting it is defensible, the others are not.
    assert converted <= {"Longboat Key Police Department"}
    assert len(queries.pending_as_of(store, "2025-05-29")) >= 67
