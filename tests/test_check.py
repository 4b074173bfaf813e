"""A live check end to end: real ICE lists behind a real HTTP server on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitors.ice_287g import Ice287gMonitor
from monitors.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.ice_site import FOLDER, PAGE_PATH, publish
from watch287g.check import Check, check_ice, check_source
from watch287g.config import Config

P07, P08 = "participatingAgencies07072025pm", "participatingAgencies07082025pm"
Q07, Q08 = "pendingAgencies07072025pm", "pendingAgencies07082025pm"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "w.db")


def _config(tmp_path: Path) -> Config:
    return Config(tmp_path / "watch287g.yaml", tmp_path / "w.db", "tests@example.org", Rules())


def _check(store: Store, url: str, tmp_path: Path, at: str = "2025-07-07T21:00:00+00:00"):  # type: ignore[no-untyped-def]
    monitor = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": url, "timeout": 2})
    client = monitor.client("tests@example.org")

    def fetch(u: str, etag: str | None, modified: str | None, headers: object = None):  # type: ignore[no-untyped-def]
        return client.get(u, etag=etag, last_modified=modified)

    try:
        return check_ice(Check(store, monitor, fetch, Rules(), now=lambda: at))
    finally:
        client.close()


def _count(store: Store, table: str) -> int:
    return store.db.table(table).count


def test_first_check_is_a_baseline_and_logs_every_request(http_server, store, tmp_path):
    url = publish(http_server, P07, Q07)
    report = _check(store, url, tmp_path)
    assert report.ok, report.error
    assert [(d.channel, d.outcome) for d in report.documents] == [
        ("page", "page"),
        ("participating", "processed"),
        ("pending", "processed"),
    ]
    events = queries.events(store.db)
    assert Counter(e["type"] for e in events) == {"agreement.added": 775, "pending.added": 51}
    assert all(e["baseline"] for e in events)
    assert _count(store, "fetches") == 3
    assert store.health("ice")["consecutive_failures"] == 0
    assert "tests@example.org" in http_server.requests_for(PAGE_PATH)[0].headers["User-Agent"]


def test_unchanged_source_downloads_nothing_and_stores_nothing(http_server, store, tmp_path):
    url = publish(http_server, P07, Q07)
    _check(store, url, tmp_path)
    snapshots, events = _count(store, "snapshots"), _count(store, "events")
    http_server.clear_requests()
    report = _check(store, url, tmp_path, at="2025-07-07T21:30:00+00:00")
    assert [d.outcome for d in report.documents] == ["not_modified"] * 3
    assert all(r.headers.get("If-None-Match") for r in http_server.requests)  # conditional, one per URL
    assert len(http_server.requests) == 3
    assert (_count(store, "snapshots"), _count(store, "events")) == (snapshots, events)
    assert _count(store, "fetches") == 6


def test_new_lists_give_alertable_events_with_pending_history(http_server, store, tmp_path):
    _check(store, publish(http_server, P07, Q07), tmp_path)
    report = _check(store, publish(http_server, P08, Q08), tmp_path, at="2025-07-08T21:00:00+00:00")
    assert report.ok
    new = [e for e in queries.events(store.db, since="2025-07-08") if not e["baseline"]]
    added = [e for e in new if e["type"] == "agreement.added"]
    assert len(added) == 31  # ICE's +32 rows include one duplicate row
    converted = [e for e in added if e["details"]["was_pending"]]
    assert len(converted) == 29
    assert all(e["details"]["pending_since"] == "2025-07-07T21:00:00+00:00" for e in converted)
    assert not [e for e in new if e["type"] in ("agreement.terminated", "pending.withdrawn")]
    assert all(e["snapshot_sha256"] and e["url"].startswith("http://127.0.0.1") for e in new)


def test_same_bytes_under_a_new_file_name_are_not_parsed_or_stored_again(http_server, store, tmp_path):
    from tests.support.ice_site import real_list

    _check(store, publish(http_server, P07, Q07), tmp_path)
    bodies, parses = _count(store, "bodies"), _count(store, "parses")
    url = publish(http_server, "participatingAgencies07072025pm_copy", Q07, bodies={
        "participatingAgencies07072025pm_copy": real_list(P07)})  # fmt: skip
    report = _check(store, url, tmp_path, at="2025-07-08T09:00:00+00:00")
    assert report.documents[1].outcome == "unchanged"
    # Only the page's bytes are new (its link changed); the list is neither stored again nor re-parsed.
    assert (_count(store, "bodies"), _count(store, "parses")) == (bodies + 1, parses)
    assert not queries.events(store.db, since="2025-07-08")


def test_a_blocked_request_fails_loudly_and_changes_nothing(http_server, store, tmp_path):
    _check(store, publish(http_server, P07, Q07), tmp_path)
    before = (store.channel("ice", "participating"), _count(store, "records"), _count(store, "events"))
    http_server.fault(PAGE_PATH, "status", code=403)
    report = _check(store, http_server.url(PAGE_PATH), tmp_path, at="2025-07-08T09:00:00+00:00")
    assert not report.ok
    assert "403" in str(report.error)
    assert (
        store.channel("ice", "participating"),
        _count(store, "records"),
        _count(store, "events"),
    ) == before
    health = store.health("ice")
    assert (health["consecutive_failures"], "403" in health["last_error"]) == (1, True)


def test_a_page_without_spreadsheet_links_is_a_failure(http_server, store, tmp_path):
    url = publish(http_server, P07, None)
    report = _check(store, url, tmp_path)
    assert report.error and "no longer links a pending spreadsheet" in report.error
    assert _count(store, "records") == 0


def test_an_html_error_page_instead_of_a_list_is_quarantined(http_server, store, tmp_path):
    _check(store, publish(http_server, P07, Q07), tmp_path)
    records = store.db.execute("select id, status, hash from records order by id").fetchall()
    error_page = b"<html><body><h1>Access Denied</h1></body></html>"
    url = publish(http_server, P08, Q07, bodies={P08: error_page})
    report = _check(store, url, tmp_path, at="2025-07-08T21:00:00+00:00")
    assert report.documents[1].outcome == "quarantined"
    events = queries.events(store.db, since="2025-07-08")
    assert [e["type"] for e in events] == ["list.quarantined"]
    assert "looks like HTML" in events[0]["details"]["reason"]
    assert store.db.execute("select id, status, hash from records order by id").fetchall() == records
    # The next good list is compared with the last good one: exactly the real differences appear.
    _check(store, publish(http_server, P08, Q07), tmp_path, at="2025-07-09T09:00:00+00:00")
    added = queries.events(store.db, since="2025-07-09", type_glob="agreement.added")
    assert len(added) == 31


def test_check_source_without_prefect_uses_the_configured_url(http_server, tmp_path):
    url = publish(http_server, P07, Q07)
    config = _config(tmp_path)
    monitor = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": url})
    store = Store(config.database)
    report = check_source(store, monitor, config)
    assert report.ok and report.event_count == 826
    assert http_server.requests_for(FOLDER + P07 + ".xlsx")


def test_a_list_fetched_by_a_clock_behind_the_history_waits_for_a_later_check(http_server, store, tmp_path):
    """Issue 9: a live list stamped earlier than the last list interpreted on its channel is already seen, not
    interpreted against newer state, and its ETag is not kept: the next check fetches and interprets it."""
    _check(store, publish(http_server, P07, Q07), tmp_path, at="2025-07-08T21:00:00+00:00")
    url = publish(http_server, P08, Q08)
    behind = _check(store, url, tmp_path, at="2025-07-08T20:00:00+00:00")
    assert [(d.channel, d.outcome) for d in behind.documents[1:]] == [
        ("participating", "already_seen"),
        ("pending", "already_seen"),
    ]
    assert behind.documents[1].detail == (
        "fetched 2025-07-08T20:00:00+00:00, not after the list interpreted at 2025-07-08T21:00:00+00:00"
    )
    assert queries.events(store.db, include_baseline=False) == []
    later = _check(store, url, tmp_path, at="2025-07-08T22:00:00+00:00")
    assert [(d.channel, d.outcome) for d in later.documents[1:]] == [
        ("participating", "processed"),
        ("pending", "processed"),
    ]
    assert len(queries.events(store.db, include_baseline=False)) == 35
