import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitors.archive.body import ArchivedBody
from rules.ice_rules import Rules
from state import queries, sightings
from state.store import Store
from watch287g.importing import (
    already_imported,
    channel_by_name,
    import_bodies,
    provenance_url,
    recognise,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ice"


def test_file_names_announce_their_list() -> None:
    assert channel_by_name("participatingAgencies07072025pm.xlsx") == "participating"
    assert channel_by_name("docs/287g/pendingAgencies05292025.xlsx") == "pending"
    assert channel_by_name("2025-02-19_ParticipatingEntities-20250219163339.xlsx") == "participating"
    assert channel_by_name("report.xlsx") is None


def test_archived_body_keeps_its_provenance() -> None:
    body = ArchivedBody("2025-05-29T12:00:00+00:00", b"x", "a.xlsx", {"archive": "git", "commit": "abc"})
    assert body.provenance["commit"] == "abc"


def test_lists_are_told_by_their_columns_when_the_name_says_nothing() -> None:
    pending = (FIXTURES / "2025-05-29_pendingAgencies05292025am.xlsx").read_bytes()
    assert recognise(ArchivedBody("2025-05-29", pending, "download.xlsx", {})) == ("pending", "columns")
    channel, reason = recognise(ArchivedBody("2025-05-29", b"<html>moved</html>", "x.xlsx", {}))
    assert channel is None and reason.startswith("not an ICE list")


def committed(name: str, when: str, commit: str, body: bytes | None = None) -> ArchivedBody:
    """A file as a git repository kept it: a real ICE list from tests/fixtures unless `body` is given."""
    data = body if body is not None else (FIXTURES / name).read_bytes()
    return ArchivedBody(
        when, data, name, {"archive": "git", "repository": "/r", "commit": commit, "path": name}
    )


MAY_PARTICIPATING = "2025-05-29_participatingAgencies05292025am.xlsx"
MAY_PENDING = "2025-05-29_pendingAgencies05292025am.xlsx"
JUNE_PARTICIPATING = "2025-06-17_participatingAgencies06172025pm.xlsx"


def test_import_bodies_interprets_lists_in_time_order_with_provenance_and_origin_import() -> None:
    bodies = [
        committed(MAY_PENDING, "2025-05-29T16:00:00+00:00", "b"),
        committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a"),
        committed(MAY_PARTICIPATING, "2025-05-30T15:00:00+00:00", "c"),
        committed("page.xlsx", "2025-05-29T17:00:00+00:00", "d", b"<html>moved</html>"),
    ]
    store = Store(None)
    summary = import_bodies(store, bodies, source="ice-287g", rules=Rules())
    assert [(i.channel, i.outcome, i.where) for i in summary.imported] == [
        ("participating", "processed", f"/r@a:{MAY_PARTICIPATING}"),
        ("pending", "processed", f"/r@b:{MAY_PENDING}"),
        ("participating", "unchanged", f"/r@c:{MAY_PARTICIPATING}"),  # the same bytes again: nothing new
    ]
    assert [name for name, _ in summary.skipped] == ["page.xlsx"]
    events = queries.events(store)
    assert events and {e["origin"] for e in events} == {"import"}
    assert {e["url"] for e in events if e["type"] == "pending.added"} == {f"/r@b:{MAY_PENDING}"}
    assert store.db.execute("select count(*) from deliveries").fetchone()[0] == 0
    again = import_bodies(store, bodies, source="ice-287g", rules=Rules())
    assert again.imported == [] and again.skipped == []  # every sighting is kept: nothing is read twice
    assert len(queries.events(store)) == len(events)


def test_identical_bytes_are_one_body_with_every_sighting_kept() -> None:
    store = Store(None)
    first = committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a")
    later = committed(MAY_PARTICIPATING, "2025-06-02T15:00:00+00:00", "c")
    import_bodies(store, [later, first], source="ice-287g", rules=Rules())
    sha = hashlib.sha256(first.body).hexdigest()
    assert store.db.execute("select count(*) from bodies where sha256 = ?", [sha]).fetchone()[0] == 1
    assert store.db.execute("select count(*) from snapshots where sha256 = ?", [sha]).fetchone()[0] == 1
    seen = sightings.of_body(store, sha)
    assert [(s["fetched_at"], s["where"], s["outcome"]) for s in seen] == [
        ("2025-05-29T15:00:00+00:00", f"/r@a:{MAY_PARTICIPATING}", "processed"),
        ("2025-06-02T15:00:00+00:00", f"/r@c:{MAY_PARTICIPATING}", "unchanged"),
    ]
    assert (
        json.loads(store.db.execute("select provenance from sightings limit 1").fetchone()[0])["repository"]
        == "/r"
    )


def test_a_revert_to_earlier_bytes_is_a_change() -> None:
    store = Store(None)
    bodies = [
        committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a"),
        committed(JUNE_PARTICIPATING, "2025-06-17T15:00:00+00:00", "b"),
        committed(MAY_PARTICIPATING, "2025-06-18T15:00:00+00:00", "c"),
    ]
    summary = import_bodies(store, bodies, source="ice-287g", rules=Rules())
    assert [i.outcome for i in summary.imported] == ["processed", "processed", "processed"]
    channel = store.channel("ice-287g", "participating") or {}
    assert channel["current_sha256"] == hashlib.sha256(bodies[0].body).hexdigest()


def test_a_late_list_rederives_an_archive_only_history_as_one_ordered_run_would() -> None:
    may, june = (committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a"),
                 committed(JUNE_PARTICIPATING, "2025-06-17T15:00:00+00:00", "b"))  # fmt: skip
    store = Store(None)
    import_bodies(store, [june], source="ice-287g", rules=Rules())
    late = import_bodies(store, [may], source="ice-287g", rules=Rules())
    assert late.rederived and late.refused_because == []
    assert [(i.where, i.outcome) for i in late.imported] == [
        (f"/r@a:{MAY_PARTICIPATING}", "processed"),
        (f"/r@b:{JUNE_PARTICIPATING}", "processed"),
    ]
    in_order = Store(None)
    import_bodies(in_order, [may, june], source="ice-287g", rules=Rules())
    assert sorted(e["id"] for e in queries.events(store)) == sorted(e["id"] for e in queries.events(in_order))
    assert queries.events(store) and len(queries.events(store)) == len(queries.events(in_order))


def test_a_late_list_is_refused_once_a_live_check_stored_anything() -> None:
    from monitors.base import Snapshot
    from watch287g.pipeline import process_list

    store = Store(None)
    june = (FIXTURES / JUNE_PARTICIPATING).read_bytes()
    live = Snapshot(
        "ice-287g", "participating", "https://www.ice.gov/x.xlsx", "2025-06-17T15:00:00+00:00", june
    )
    process_list(store, live, origin="live", rules=Rules())
    before = [e["id"] for e in queries.events(store)]
    late = import_bodies(store, [committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a")],
                         source="ice-287g", rules=Rules())  # fmt: skip
    assert not late.rederived and late.refused_because == ["live"]
    assert [(i.outcome, i.detail) for i in late.imported] == [
        (
            "already_seen",
            "fetched 2025-05-29T15:00:00+00:00, before the list interpreted at 2025-06-17T15:00:00+00:00",
        )
    ]
    assert [e["id"] for e in queries.events(store)] == before
    outcome = store.db.execute("select outcome from sightings where key like '%@a:%'").fetchone()[0]
    assert outcome == "already_seen"


def test_a_rederive_killed_half_way_leaves_the_history_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    import watch287g.importing as importing

    store = Store(None)
    import_bodies(store, [committed(JUNE_PARTICIPATING, "2025-06-17T15:00:00+00:00", "b")], source="ice-287g",
                  rules=Rules())  # fmt: skip
    before = sorted(e["id"] for e in queries.events(store))
    calls = []
    real = importing.process_list

    def dies_on_the_second_list(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "process_list", dies_on_the_second_list)
    with pytest.raises(KeyboardInterrupt):
        import_bodies(store, [committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a")], source="ice-287g",
                      rules=Rules())  # fmt: skip
    assert sorted(e["id"] for e in queries.events(store)) == before
    assert [s.fetched_at for s in sightings.waiting(store, "ice-287g")] == ["2025-05-29T15:00:00+00:00"]
    monkeypatch.setattr(importing, "process_list", real)
    assert import_bodies(store, [], source="ice-287g", rules=Rules()).rederived  # the next run finishes it


def test_an_interrupted_import_resumes_and_ends_as_one_run_would(tmp_path: Path) -> None:
    bodies = [
        committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a"),
        committed(MAY_PENDING, "2025-05-29T16:00:00+00:00", "b"),
        committed(JUNE_PARTICIPATING, "2025-06-17T15:00:00+00:00", "c"),
    ]

    def killed_after_two() -> Iterator[ArchivedBody]:
        yield from bodies[:2]
        raise KeyboardInterrupt  # the operator's ^C while the third file downloads

    store = Store(tmp_path / "resumed.db")
    with pytest.raises(KeyboardInterrupt):
        import_bodies(store, killed_after_two(), source="ice-287g", rules=Rules())
    assert queries.events(store) == []  # nothing interpreted yet: the two files wait, kept
    assert [s.key for s in sightings.waiting(store, "ice-287g")] == [provenance_url(b) for b in bodies[:2]]
    known = already_imported(store, "ice-287g")
    assert [known(provenance_url(b)) for b in bodies] == [True, True, False]
    resumed = import_bodies(store, [b for b in bodies if not known(provenance_url(b))], source="ice-287g",
                            rules=Rules())  # fmt: skip
    assert [i.outcome for i in resumed.imported] == ["processed", "processed", "processed"]
    whole = Store(None)
    import_bodies(whole, bodies, source="ice-287g", rules=Rules())
    assert [e["id"] for e in queries.events(store)] == [e["id"] for e in queries.events(whole)]


def test_a_rederive_keeps_backfilled_lists_in_their_place_and_origin() -> None:
    from watch287g.backfill import ManifestRow, backfill

    store = Store(None)
    row = ManifestRow("2025-06-17T15:00:00+00:00", "participating", FIXTURES / JUNE_PARTICIPATING)
    backfill(store, [row], source="ice-287g", url="https://www.ice.gov/287g", rules=Rules())
    late = import_bodies(store, [committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a")],
                         source="ice-287g", rules=Rules())  # fmt: skip
    assert late.rederived
    assert [(i.where, i.outcome) for i in late.imported] == [
        (f"/r@a:{MAY_PARTICIPATING}", "processed"),
        (f"https://www.ice.gov/287g#{JUNE_PARTICIPATING}", "processed"),
    ]
    origins = {(e["url"], e["origin"]) for e in queries.events(store) if e["type"].startswith("agreement.")}
    assert origins == {
        (f"/r@a:{MAY_PARTICIPATING}", "import"),
        (f"https://www.ice.gov/287g#{JUNE_PARTICIPATING}", "backfill"),
    }


def test_an_event_imported_from_git_names_its_commit_instead_of_a_link() -> None:
    from notifiers.headline import backfill_source

    commit = "0123456789abcdef0123456789abcdef01234567"
    git = {"origin": "import", "url": f"https://github.com/o/r@{commit}:lists/participatingAgencies.xlsx"}
    assert backfill_source(git) == f"git https://github.com/o/r@{commit}:lists/participatingAgencies.xlsx"
    capture = "https://web.archive.org/web/20250529120000id_/https://www.ice.gov/doclib/x.xlsx"
    assert backfill_source({"origin": "import", "url": capture}) is None  # a capture is a real link
    assert backfill_source({"origin": "live", "url": f"https://x@{commit}:y"}) is None


def test_a_remembered_page_capture_is_never_taken_for_a_list_even_when_history_is_re_derived() -> None:
    from watch287g.importing import RememberedPages

    store = Store(None)
    pages = RememberedPages(store, "ice-287g")
    capture = "https://web.archive.org/web/20250601000000id_/https://www.ice.gov/identify-and-arrest/287g"
    pages.remember(capture, "2025-06-01T00:00:00+00:00", b"<html>page</html>", ["https://www.ice.gov/a.xlsx"])
    assert pages.recall(capture) == ["https://www.ice.gov/a.xlsx"] and pages.recall(capture + "x") is None
    assert already_imported(store, "ice-287g")(capture)
    import_bodies(store, [committed(JUNE_PARTICIPATING, "2025-06-17T15:00:00+00:00", "b")], source="ice-287g",
                  rules=Rules())  # fmt: skip
    late = import_bodies(store, [committed(MAY_PARTICIPATING, "2025-05-29T15:00:00+00:00", "a")],
                         source="ice-287g", rules=Rules())  # fmt: skip
    assert late.rederived and [i.channel for i in late.imported] == ["participating", "participating"]
    assert pages.recall(capture) == ["https://www.ice.gov/a.xlsx"]  # still a page, not replayed nor waiting
