from pathlib import Path

from watch287g.importing import ArchivedBody, channel_by_name, recognise, sightings_by_bytes

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


def test_identical_bytes_are_one_body_with_every_sighting_earliest_first() -> None:
    late = ArchivedBody("2025-06-02", b"same", "b.xlsx", {"commit": "2"})
    other = ArchivedBody("2025-05-30", b"other", "c.xlsx", {"commit": "3"})
    early = ArchivedBody("2025-05-29", b"same", "a.xlsx", {"commit": "1"})
    assert sightings_by_bytes([late, other, early]) == [[early, late], [other]]


def test_import_bodies_interprets_lists_once_with_provenance_and_origin_import() -> None:
    from rules.ice_rules import Rules
    from state import queries
    from state.store import Store
    from watch287g.importing import import_bodies

    def committed(name: str, when: str, commit: str, body: bytes | None = None) -> ArchivedBody:
        data = body if body is not None else (FIXTURES / name).read_bytes()
        where = {"archive": "git", "repository": "/r", "commit": commit, "path": name}
        return ArchivedBody(when, data, name, where)

    bodies = [
        committed("2025-05-29_pendingAgencies05292025am.xlsx", "2025-05-29T16:00:00+00:00", "b"),
        committed("2025-05-29_participatingAgencies05292025am.xlsx", "2025-05-29T15:00:00+00:00", "a"),
        committed("2025-05-29_participatingAgencies05292025am.xlsx", "2025-05-30T15:00:00+00:00", "c"),
        committed("page.xlsx", "2025-05-29T17:00:00+00:00", "d", b"<html>moved</html>"),
    ]
    store = Store(None)
    summary = import_bodies(store, bodies, source="ice-287g", rules=Rules())
    assert [(i.channel, i.outcome) for i in summary.imported] == [
        ("participating", "processed"),
        ("pending", "processed"),
    ]
    assert [name for name, _ in summary.skipped] == ["page.xlsx"]
    events = queries.events(store)
    assert events and {e["origin"] for e in events} == {"import"}
    assert {e["url"] for e in events if e["type"] == "pending.added"} == {
        "/r@b:2025-05-29_pendingAgencies05292025am.xlsx"
    }
    again = import_bodies(store, bodies, source="ice-287g", rules=Rules())
    assert {i.outcome for i in again.imported} == {"unchanged"}  # the same bytes as the last list
    assert len(queries.events(store)) == len(events)
