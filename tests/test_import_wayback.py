"""`watch287g import wayback` end to end: a loopback stand-in of the Wayback Machine (CDX API and raw captures of
real ICE lists), the command's output, a second run, and a CDX API answering garbage."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitors.archive.wayback import PROGRAM_PAGES
from state import queries
from state.store import Store
from tests.support.httpserver import DEFAULT_HTML_ERROR, LoopbackHTTPServer
from tests.support.smtpserver import LoopbackSMTPServer
from tests.test_wayback import AT_N0529, AT_P0529, DAILY, FOLDER, N0529, P0529, WaybackStandIn
from watch287g.cli import main

MAY_30 = FOLDER + "participatingAgencies05302025am.xlsx"


PAGE_HTML = f'<html><body><main><a href="{AT_P0529}">Participating Agencies</a></main></body></html>'.encode()


def _archive(server: LoopbackHTTPServer) -> WaybackStandIn:
    stand_in = WaybackStandIn(server)
    for page in PROGRAM_PAGES[1:]:  # older addresses: no captures
        stand_in.cdx(page, [], collapse=DAILY)
    stand_in.cdx(PROGRAM_PAGES[0], [("20250529100000", PROGRAM_PAGES[0], PAGE_HTML)], collapse=DAILY)
    stand_in.server.route(stand_in.path("20250529100000", PROGRAM_PAGES[0]), PAGE_HTML)
    rows = [("20250529150000", AT_P0529, P0529), ("20250529160000", AT_N0529, N0529),
            ("20250601080000", AT_P0529, P0529),  # the same bytes again at the same URL: not downloaded
            ("20250530120000", MAY_30, DEFAULT_HTML_ERROR)]  # fmt: skip
    stand_in.cdx(FOLDER, rows, prefix=True)
    for timestamp, original, body in rows[:3]:
        stand_in.capture(timestamp, original, body)
    stand_in.capture("20250530120000", MAY_30, DEFAULT_HTML_ERROR, content_type="text/html")
    return stand_in


def _config(tmp_path: Path, smtp_server: LoopbackSMTPServer) -> str:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        "database: w.db\ncontact: ops@example.org\n"
        f'subscribers:\n  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
        "sources:\n  - name: ice-287g\n    kind: ice_287g\n    url: https://www.ice.gov/identify-and-arrest/287g\n"
    )
    return str(path)


def _import(settings: str, base: str) -> tuple[int, str, str]:
    args = ["--config", settings, "import", "wayback", "--pace", "0", "--archive-url", base]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_import_wayback_imports_each_distinct_capture_once_never_alerted(
    http_server: LoopbackHTTPServer, smtp_server: LoopbackSMTPServer, tmp_path: Path
) -> None:
    archive, settings = _archive(http_server), _config(tmp_path, smtp_server)
    code, out, err = _import(settings, archive.base)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("wayback: 4 captures listed, 3 distinct, 1 page captures read;")
    assert "2 downloaded" in lines[0]
    assert "1 error pages" in lines[0]
    assert (
        lines[1]
        == f"  error page: {archive.base}/web/20250530120000id_/{MAY_30}: an HTML page, not a spreadsheet"
    )
    assert lines[2:6] == [
        "2 lists imported, 0 files skipped",
        "  2025 participating: 1 processed",
        "  2025 pending: 1 processed",
        "check against ICE's press figures:",
    ]
    assert lines[6:] == [
        "  2025-05-29 agreements: ICE 635 (ICE's 287(g) page, as of May 29, 2025), imported 635: matches",
        "  2025-05-29 pending: ICE 68 (ICE's 287(g) page, as of May 29, 2025), imported 68: matches",
    ]
    assert "wayback: 3/3 captures done" in err
    assert "interpreted 2/2 lists (up to 2025-05-29)" in err
    store = Store(tmp_path / "w.db")
    try:
        events = queries.events(store)
        assert events and {e["origin"] for e in events} == {"import"}
        assert {e["url"] for e in events if e["type"] == "pending.added"} == {
            f"{archive.base}/web/20250529160000id_/{AT_N0529}"
        }
        assert store.db.execute("select count(*) from deliveries").fetchone()[0] == 0
    finally:
        store.close()

    downloads = len(archive.capture_requests())
    code, again, err = _import(settings, archive.base)  # everything kept: nothing downloaded again
    assert code == 0, err
    assert len(archive.capture_requests()) == downloads + 1  # only the error page, which is never kept
    assert "0 lists imported, 0 files skipped" in again.splitlines()
    assert (
        "0 page captures read (1 more remembered);" in again.splitlines()[0]
    )  # its links kept from the first
    assert "2 already imported" in again.splitlines()[0]


def test_a_cdx_api_answering_garbage_fails_loudly_and_imports_nothing(
    http_server: LoopbackHTTPServer, smtp_server: LoopbackSMTPServer, tmp_path: Path
) -> None:
    archive, settings = _archive(http_server), _config(tmp_path, smtp_server)
    archive.cdx_raw(FOLDER, b"<html><body>Service Unavailable</body></html>", prefix=True)
    code, out, err = _import(settings, archive.base)
    assert code == 1
    assert err.splitlines()[-1].startswith("error: ") and "HTML" in err.splitlines()[-1]
    assert archive.capture_requests() == [archive.path("20250529100000", PROGRAM_PAGES[0])]  # no spreadsheet
    store = Store(tmp_path / "w.db")
    try:
        kept = store.db.execute("select outcome, count(*) from sightings group by outcome").fetchall()
        assert kept == [("page", 1)]  # the page read before the failure is remembered for the next run
        assert queries.events(store) == []
    finally:
        store.close()


def test_a_bad_archive_address_is_a_usage_error_before_anything_opens(
    smtp_server: LoopbackSMTPServer, tmp_path: Path
) -> None:
    settings = _config(tmp_path, smtp_server)
    for bad in (
        "ftp://archive.example",
        "archive.example",
        "http://user:pw@127.0.0.1:9",
        "http://a.example/?q=1",
    ):
        code, out, err = _import(settings, bad)
        assert (code, out) == (2, "") and "--archive-url" in err, bad
    assert not (tmp_path / "w.db").exists()
