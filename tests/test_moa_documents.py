"""MOA documents as follow-up requests of the participating list, end to end: a real ICE list whose MOA links
point at a loopback site serving real MOA PDFs that change, vanish and come back; a real SQLite file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitors.base import sha256_hex
from monitors.ice.kind import Ice287gMonitor
from monitors.source import document_channel
from notifiers.headline import describe
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import publish, real_list
from tests.support.xlsx_edit import keep_rows, replace_hyperlink
from watch287g.check_loop import Check, CheckReport, run_check
from watch287g.cli import main

P07, Q07 = "participatingAgencies07072025pm", "pendingAgencies07072025pm"
MOA = Path(__file__).parent / "fixtures" / "moa"
# Three real rows of the 07-07 list and the real MOA each links (on ice.gov; here on the loopback site).
LINKS = {
    "cowley": "/doclib/287gMOA/CowleyCountySO_WSO_MOA_030425.pdf",
    "crenshaw": "/doclib/287gMOA/CrenshawCoAL_WSO_MOA_04.16.2025.pdf",
    "elmore": "/doclib/287gMOA/ElmoreCountyAL_JEM_MOA_030625.pdf",
}
# Stand-in bytes: real MOAs from tests/fixtures/moa (the rows' own PDFs are not in the repository).
PDFS = {name: (MOA / file).read_bytes() for name, file in (
    ("cowley", "manatee-2019-wso-p1-7-8.pdf"), ("crenshaw", "kennethcity-2025-tfm-scan-p1.pdf"),
    ("elmore", "calhoun-2020-jem-addendum-p1-7-12.pdf"))}  # fmt: skip
DAY = "2025-07-{:02d}T21:00:00+00:00"


def site(server: LoopbackHTTPServer) -> str:
    """The page, the real lists with three MOA links moved to the loopback site, and those three PDFs."""
    listed = real_list(P07)
    for path in LINKS.values():
        listed = replace_hyperlink(listed, "https://www.ice.gov" + path, server.url(path))
    for name in LINKS:
        serve(server, name, PDFS[name])
    return publish(server, P07, Q07, bodies={P07: listed})


def serve(server: LoopbackHTTPServer, name: str, body: bytes) -> None:
    server.route(LINKS[name], body, content_type="application/pdf", etag=f'"{name}-{len(body)}"')


def check(store: Store, url: str, at: str, sleeps: list[float] | None = None, **options: Any) -> CheckReport:
    config = {"name": "ice", "kind": "ice_287g", "url": url, "timeout": 5, "moa_pace": 0.05, **options}
    monitor = Ice287gMonitor(config)
    client = monitor.client("tests@example.org")

    def fetch(u: str, etag: str | None, modified: str | None, headers: object = None, max_bytes=None):  # type: ignore[no-untyped-def]
        return client.get(u, etag=etag, last_modified=modified, max_bytes=max_bytes)

    sleep = sleeps.append if sleeps is not None else (lambda seconds: None)
    try:
        report = run_check(Check(store, monitor, fetch, Rules(), now=lambda: at, sleep=sleep))
    finally:
        client.close()
    assert report.ok, report.error
    return report


def moa_outcomes(report: CheckReport) -> Counter[str]:
    return Counter(d.outcome for d in report.documents if d.channel.startswith("moa:"))


def moa_events(store: Store) -> list[dict[str, Any]]:
    return [e for e in queries.events(store) if e["type"].startswith("agreement.moa_") and
            e["type"] != "agreement.moa_published"]  # fmt: skip


def moa_requests(server: LoopbackHTTPServer) -> list[Any]:
    return [r for r in server.requests if r.path.startswith("/doclib/287gMOA/")]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "w.db")


def test_documents_are_kept_then_rechecked_slowly_and_changes_are_events(http_server, store):
    url = site(http_server)
    first = check(store, url, DAY.format(7))
    # The lists' own events first (the baseline), then each linked document kept once, without an event.
    assert [d.channel for d in first.documents[:3]] == ["page", "participating", "pending"]
    assert moa_outcomes(first) == {"kept": 3} and moa_events(store) == []
    assert Counter(e["type"] for e in queries.events(store))["agreement.added"] == 775
    for name, path in LINKS.items():
        channel = store.channel("ice", document_channel(http_server.url(path)))
        assert channel is not None and store.body(channel["current_sha256"]) == PDFS[name]
        assert channel["checked_at"] == DAY.format(7) and channel["gone_since"] is None
    assert first.followed == "3 asked, 0 not due yet, 0 left for the next checks"

    # An hour later: the lists answer 304 and lead to their documents again, but none is due (7 days).
    http_server.clear_requests()
    later = check(store, url, "2025-07-07T22:00:00+00:00")
    assert (
        moa_requests(http_server) == []
        and later.followed == "0 asked, 3 not due yet, 0 left for the next checks"
    )

    # A week later each is asked conditionally: 304, no body, nothing stored.
    http_server.clear_requests()
    snapshots = store.db.table("snapshots").count
    week = check(store, url, DAY.format(14))
    assert moa_outcomes(week) == {"not_modified": 3}
    assert all(r.headers.get("If-None-Match") for r in moa_requests(http_server))
    assert [d.bytes for d in week.documents if d.channel.startswith("moa:")] == [0, 0, 0]
    assert store.db.table("snapshots").count == snapshots

    # Cowley's document changes under its URL; Crenshaw's link starts answering 404.
    serve(http_server, "cowley", PDFS["elmore"])
    http_server.route(LINKS["crenshaw"], "<h1>Page not found</h1>", status=404)
    changed = check(store, url, DAY.format(21))
    assert moa_outcomes(changed) == {"changed": 1, "gone": 1, "not_modified": 1}
    events = {e["type"]: e for e in moa_events(store)}
    assert set(events) == {"agreement.moa_changed", "agreement.moa_removed"}
    moved = events["agreement.moa_changed"]
    assert (moved["state"], moved["agency"], moved["model"]) == ("KS", "Cowley County Sheriff's Office",
                                                                 "Warrant Service Officer")  # fmt: skip
    before, after = moved["before"], moved["after"]
    assert store.body(before["sha256"]) == PDFS["cowley"] and store.body(after["sha256"]) == PDFS["elmore"]
    assert (before["size"], after["size"]) == (len(PDFS["cowley"]), len(PDFS["elmore"]))
    gone = events["agreement.moa_removed"]
    assert gone["agency"] == "Crenshaw County Sheriff's Office" and gone["details"]["http_status"] == 404
    assert store.body(gone["details"]["last_sha256"]) == PDFS["crenshaw"]  # the last copy stays kept

    # Still gone a week later: not announced twice. Then it comes back with the bytes it had.
    check(store, url, DAY.format(28))
    assert Counter(e["type"] for e in moa_events(store)) == {
        "agreement.moa_changed": 1,
        "agreement.moa_removed": 1,
    }
    serve(http_server, "crenshaw", PDFS["crenshaw"])
    back = check(store, url, "2025-08-05T21:00:00+00:00")
    assert moa_outcomes(back)["restored"] == 1
    restored = [e for e in moa_events(store) if e["type"] == "agreement.moa_restored"]
    assert len(restored) == 1 and restored[0]["details"]["same_bytes"] is True
    assert store.channel("ice", document_channel(http_server.url(LINKS["crenshaw"])))["gone_since"] is None

    # Their words, from the events as stored (not made up for the test).
    words = {e["type"]: describe(e) for e in moa_events(store)}
    assert words["agreement.moa_changed"].startswith(
        "Cowley County Sheriff's Office (Warrant Service Officer)"
    )
    assert "MOA changed under the same link" in words["agreement.moa_changed"]
    assert "404" in words["agreement.moa_removed"] and "back" in words["agreement.moa_restored"]
    assert all(http_server.url("/doclib/287gMOA/") in text for text in words.values())

    # Repeating a check adds nothing.
    count = store.db.table("events").count
    check(store, url, "2025-08-05T21:00:00+00:00")
    assert store.db.table("events").count == count


def test_a_backlog_is_spread_over_checks_paced_and_resumed_longest_unasked_first(http_server, store):
    url = site(http_server)
    sleeps: list[float] = []
    first = check(store, url, DAY.format(7), sleeps, moa_per_check=2, moa_pace=0.5)
    assert moa_outcomes(first) == {"kept": 2}
    assert first.followed == "2 asked, 0 not due yet, 1 left for the next checks"
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.5  # the second request to the host waited for the pace
    second = check(store, url, "2025-07-07T22:00:00+00:00", moa_per_check=2)
    assert moa_outcomes(second) == {"kept": 1}  # the one left over, not the two just asked
    kept = {r["channel"] for r in store.db.query("select channel from channels where channel like 'moa:%'")}
    assert kept == {document_channel(http_server.url(path)) for path in LINKS.values()}


def test_a_failing_document_is_its_own_failure_and_the_lists_events_stand(http_server, store):
    url = site(http_server)
    http_server.fault(LINKS["cowley"], "status", code=500)
    http_server.fault(LINKS["elmore"], "huge", size=60_000_000)
    report = check(store, url, DAY.format(7))
    assert report.ok and store.health("ice")["consecutive_failures"] == 0
    assert moa_outcomes(report) == {"error": 2, "kept": 1}
    errors = [d.detail for d in report.documents if d.outcome == "error"]
    assert any("500" in str(e) for e in errors) and any(
        "50,000,000" in str(e) or "bytes" in str(e) for e in errors
    )
    assert Counter(e["type"] for e in queries.events(store))["agreement.added"] == 775
    # Failed documents are asked again at the next check (not after a week).
    serve(http_server, "cowley", PDFS["cowley"])
    serve(http_server, "elmore", PDFS["elmore"])
    again = check(store, url, "2025-07-07T22:00:00+00:00")
    assert moa_outcomes(again) == {"kept": 2}


def test_run_prints_failed_documents_and_one_line_for_the_others(http_server, tmp_path):
    url = site(http_server)
    http_server.fault(LINKS["cowley"], "status", code=503)
    config = tmp_path / "watch287g.yaml"
    config.write_text(
        "database: w.db\ncontact: tests@example.org\nsources:\n  - name: ice\n    kind: ice_287g\n"
        f"    url: {url}\n    timeout: 2\n    moa_pace: 0.01\n"
    )
    result = CliRunner().invoke(
        main, ["--config", str(config), "run", "--no-prefect"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr  # a document's failure is not the run's
    lines = result.stdout.splitlines()
    [failed] = [line for line in lines if line.strip().startswith("moa:")]
    assert "error" in failed and http_server.url(LINKS["cowley"]) in failed and "503" in failed
    assert "  MOA documents: 1 error, 2 kept; 3 asked, 0 not due yet, 0 left for the next checks" in lines
    # The run read what it kept (text layer; the scan by OCR where Tesseract is installed), and said so.
    [reading] = [line for line in lines if line.startswith("MOA reading: ")]
    assert reading.startswith("MOA reading: 2 documents: ") and "0 unreadable, 0 failed" in reading
    store = Store(tmp_path / "w.db")
    rows = list(store.db.query("select sha256, error from readings"))
    assert sorted(r["sha256"] for r in rows) == sorted(sha256_hex(PDFS[n]) for n in ("crenshaw", "elmore"))
    assert all(r["error"] is None for r in rows)


def test_a_slow_host_cannot_hold_the_check_past_moa_minutes(http_server, store):
    url = site(http_server)
    http_server.fault(LINKS["cowley"], "delay", seconds=0.6, body=PDFS["cowley"])  # asked first (URL order)
    report = check(store, url, DAY.format(7), moa_minutes=0.005)  # 0.3 s
    assert moa_outcomes(report) == {"kept": 1}
    assert report.followed == "1 asked, 0 not due yet, 2 left for the next checks"
    assert moa_outcomes(check(store, url, "2025-07-07T22:00:00+00:00")) == {
        "kept": 2
    }  # the next check goes on


def test_a_list_not_believed_leads_to_no_document_even_when_it_answers_304(http_server, store):
    url = site(http_server)
    assert moa_outcomes(check(store, url, DAY.format(7), moa_recheck_days=0.5)) == {"kept": 3}
    listed = real_list(P07)
    for path in LINKS.values():
        listed = replace_hyperlink(listed, "https://www.ice.gov" + path, http_server.url(path))
    publish(http_server, P07, Q07, bodies={P07: keep_rows(listed, 120)})  # 119 of 775 rows: mass removal
    http_server.clear_requests()
    second = check(store, url, DAY.format(8), moa_recheck_days=0.5)  # Crenshaw's and Elmore's rows remain
    assert ("participating", "quarantined") in [(d.channel, d.outcome) for d in second.documents]
    third = check(store, url, DAY.format(9), moa_recheck_days=0.5)
    assert ("participating", "not_modified") in [(d.channel, d.outcome) for d in third.documents]
    assert moa_outcomes(second) == moa_outcomes(third) == {} and moa_requests(http_server) == []


@pytest.mark.parametrize(
    "group", [("truncated", "2,000 pages", "decompression bomb"), ("html", "encrypted", "empty")]
)
def test_hostile_documents_are_kept_unreadable_and_never_stop_the_lists_events(http_server, tmp_path, group):
    from tests.test_moa_read import BAD_FILES

    url = site(http_server)
    for name, case in zip(LINKS, group, strict=True):
        serve(http_server, name, BAD_FILES[case][0]())
    config = tmp_path / "watch287g.yaml"
    config.write_text(
        f"database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {url}\n    moa_pace: 0.01\n"
    )
    result = CliRunner().invoke(
        main, ["--config", str(config), "run", "--no-prefect"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "MOA reading: 3 documents: 0 by text layer, 0 by OCR, 0 without text, 3 unreadable, 0 failed"
        in result.stdout
    )
    store = Store(tmp_path / "w.db")
    assert Counter(e["type"] for e in queries.events(store))["agreement.added"] == 775
    errors = sorted(r["error"] for r in store.db.query("select error from readings"))
    expected = sorted(BAD_FILES[case][1] for case in group)
    assert [e[: len(x)] for e, x in zip(errors, expected, strict=True)] == expected
