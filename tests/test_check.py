"""A live check end to end: real ICE lists behind a real HTTP server on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitors.base import ConfigError, sha256_hex
from monitors.ice.kind import Ice287gMonitor
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import FOLDER, PAGE_PATH, publish, real_list
from watch287g.check_loop import Check, plain_fetch, run_check
from watch287g.config import Config
from watch287g.run import check_one

P07, P08 = "participatingAgencies07072025pm", "participatingAgencies07082025pm"
Q07, Q08 = "pendingAgencies07072025pm", "pendingAgencies07082025pm"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "w.db")


def _config(tmp_path: Path) -> Config:
    return Config(tmp_path / "watch287g.yaml", tmp_path / "w.db", "tests@example.org", Rules())


def _check(store: Store, url: str, tmp_path: Path, at: str = "2025-07-07T21:00:00+00:00", **options):  # type: ignore[no-untyped-def]
    monitor = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": url, "timeout": 2, **options})
    client = monitor.client("tests@example.org")

    def fetch(u: str, etag: str | None, modified: str | None, headers: object = None, max_bytes=None):  # type: ignore[no-untyped-def]
        return client.get(u, etag=etag, last_modified=modified, max_bytes=max_bytes)

    try:
        return run_check(Check(store, monitor, fetch, Rules(), now=lambda: at))
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
    events = queries.events(store)
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
    new = [e for e in queries.events(store, since="2025-07-08") if not e["baseline"]]
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
    assert not queries.events(store, since="2025-07-08")


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
    events = queries.events(store, since="2025-07-08")
    assert [e["type"] for e in events] == ["list.quarantined"]
    assert "looks like HTML" in events[0]["details"]["reason"]
    assert store.db.execute("select id, status, hash from records order by id").fetchall() == records
    # The next good list is compared with the last good one: exactly the real differences appear.
    _check(store, publish(http_server, P08, Q07), tmp_path, at="2025-07-09T09:00:00+00:00")
    added = queries.events(store, since="2025-07-09", type_glob="agreement.added")
    assert len(added) == 31


def test_check_source_without_prefect_uses_the_configured_url(http_server, tmp_path):
    url = publish(http_server, P07, Q07)
    config = _config(tmp_path)
    monitor = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": url})
    store = Store(config.database)
    report = check_one(store, config, monitor, plain_fetch)
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
        "fetched 2025-07-08T20:00:00+00:00, before the list interpreted at 2025-07-08T21:00:00+00:00"
    )
    assert queries.events(store, include_baseline=False) == []
    later = _check(store, url, tmp_path, at="2025-07-08T22:00:00+00:00")
    assert [(d.channel, d.outcome) for d in later.documents[1:]] == [
        ("participating", "processed"),
        ("pending", "processed"),
    ]
    assert len(queries.events(store, include_baseline=False)) == 35


# ---- only what we mean to fetch (issue 9, items 5 and 8) -----------------------------------------------


@pytest.fixture
def other_server():  # type: ignore[no-untyped-def]
    """Another origin: another port of 127.0.0.1, serving a real list that must never be fetched."""
    with LoopbackHTTPServer() as server:
        server.route("/x/participatingAgencies.xlsx", real_list(P07), content_type="application/vnd.ms-excel")
        yield server


def _page_linking(server: LoopbackHTTPServer, participating: str) -> str:
    """The program page with a participating link as given and the pending list on the page's server."""
    server.route(FOLDER + Q07 + ".xlsx", real_list(Q07), content_type="application/vnd.ms-excel")
    html = f"""<html><body><main><h1>287(g)</h1>
        <p><a href="{participating}">Participating Agencies</a></p>
        <p><a href="{FOLDER}{Q07}.xlsx">Pending Agencies</a></p></main></body></html>"""
    return server.route(PAGE_PATH, html)


@pytest.mark.parametrize(
    ("link", "host"),
    [
        ("http://127.0.0.1:{other}/x/participatingAgencies.xlsx", "127.0.0.1"),  # another port
        ("http://2130706433:{other}/x/participatingAgencies.xlsx", "2130706433"),  # loopback, in decimal
        ("http://[::1]:{other}/x/participatingAgencies.xlsx", "::1"),  # IPv6 loopback
        ("http://0x7f.1:{own}/x/participatingAgencies.xlsx", "0x7f.1"),  # the page's own server, spelt in hex
        ("http://user:pass@127.0.0.1:{other}/x/participatingAgencies.xlsx", "127.0.0.1"),
        (
            "http://user:pass@127.0.0.1:{own}/x/participatingAgencies.xlsx",
            "127.0.0.1",
        ),  # own server, Basic auth
    ],
)
def test_a_link_to_another_origin_is_refused_and_nothing_of_it_is_stored(
    http_server, other_server, store, tmp_path, link, host
):
    http_server.route(
        "/x/participatingAgencies.xlsx", real_list(P07), content_type="application/vnd.ms-excel"
    )
    url = _page_linking(http_server, link.format(other=other_server.port, own=http_server.port))
    report = _check(store, url, tmp_path)
    assert report.error is not None and report.error.startswith(f"refused {host}: ")
    assert other_server.requests == []
    assert http_server.requests_for("/x/participatingAgencies.xlsx") == []
    assert [d.outcome for d in report.documents] == ["page", "error"]
    stored = {row[0] for row in store.db.execute("select sha256 from bodies").fetchall()}
    assert sha256_hex(real_list(P07)) not in stored
    assert not queries.events(store, type_glob="list.quarantined")
    assert store.health("ice")["last_error"] == report.error


def test_a_redirect_to_another_origin_is_refused(http_server, other_server, store, tmp_path):
    target = other_server.url("/x/participatingAgencies.xlsx")
    http_server.route(FOLDER + "p.xlsx", b"", status=302, headers={"Location": target})
    report = _check(store, _page_linking(http_server, FOLDER + "p.xlsx"), tmp_path)
    assert (
        report.error
        == "refused 127.0.0.1: not the page's own server nor an allowed host (ice.gov, www.ice.gov; see allowed_hosts)"
    )
    assert other_server.requests == []
    assert _count(store, "records") == 0


def test_links_resolve_against_the_final_url_and_the_final_url_is_stored(http_server, store, tmp_path):
    """ICE moves the page (a redirect) and links relatively; a list moves too: events name where it is."""
    new_page = "/identify-and-arrest/2026/287g"
    http_server.route("/287g", b"", status=301, headers={"Location": new_page})
    http_server.route(
        "/identify-and-arrest/2026/lists/p.xlsx", b"", status=302, headers={"Location": "/doclib/p.xlsx"}
    )
    http_server.route("/doclib/p.xlsx", real_list(P07), content_type="application/vnd.ms-excel")
    http_server.route(
        "/identify-and-arrest/2026/lists/q.xlsx", real_list(Q07), content_type="application/vnd.ms-excel"
    )
    http_server.route(
        new_page,
        b"""<main><h1>287(g)</h1><a href="lists/p.xlsx">Participating Agencies</a>
        <a href="lists/q.xlsx">Pending Agencies</a></main>""",
        etag='"moved-v1"',
    )
    report = _check(store, http_server.url("/287g"), tmp_path)
    assert report.ok, report.error
    urls = dict(store.db.execute("select channel, url from snapshots").fetchall())
    assert urls == {
        "page": http_server.url(new_page),
        "participating": http_server.url("/doclib/p.xlsx"),
        "pending": http_server.url("/identify-and-arrest/2026/lists/q.xlsx"),
    }
    assert {e["url"] for e in queries.events(store, type_glob="agreement.*")} == {
        http_server.url("/doclib/p.xlsx")
    }
    # the next check gets a 304 for the page and still resolves its links against where it is
    again = _check(store, http_server.url("/287g"), tmp_path, at="2025-07-08T09:00:00+00:00")
    assert again.ok, again.error
    assert [d.outcome for d in again.documents] == ["not_modified", "unchanged", "unchanged"]


def test_an_oversize_page_is_a_clear_failure(http_server, store, tmp_path):
    url = publish(http_server, P07, Q07, intro="x" * 5000)
    report = _check(store, url, tmp_path, max_page_bytes=4000)
    assert report.error is not None
    assert report.error.startswith(f"response too large for {url}: cap is 4000 bytes")
    assert _count(store, "snapshots") == 0
    assert Ice287gMonitor({"name": "ice", "kind": "ice_287g"}).max_page_bytes == 2_000_000


def test_allowed_hosts_must_be_host_names():
    with pytest.raises(ConfigError, match="allowed_hosts must be a list of host names"):
        Ice287gMonitor({"name": "ice", "kind": "ice_287g", "allowed_hosts": ["https://www.ice.gov/"]})
