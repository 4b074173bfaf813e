"""The Wayback Machine reader against a loopback stand-in of the CDX API and of raw (id_) captures that serves
real ICE spreadsheets from tests/fixtures/ice/."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from monitors.archive.body import ArchivedBody
from monitors.archive.cdx import CDX_FIELDS, CdxError, capture_problem, capture_time, parse_cdx
from monitors.archive.wayback import WaybackArchive, WaybackError, retry_after_seconds
from monitors.http import user_agent
from tests.support.httpserver import DEFAULT_HTML_ERROR, LoopbackHTTPServer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ice"
CONTACT = "ops@example.org"
PAGE = "https://www.ice.gov/identify-and-arrest/287g"
FOLDER = "https://www.ice.gov/doclib/about/offices/ero/287g/"
CDX_PATH = "/cdx/search/cdx"
DAILY = "timestamp:8"  # the program page: one capture a day
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


P0529 = fixture("2025-05-29_participatingAgencies05292025am.xlsx")
N0529 = fixture("2025-05-29_pendingAgencies05292025am.xlsx")
P0707 = fixture("2025-07-07_participatingAgencies07072025pm.xlsx")
N0707 = fixture("2025-07-07_pendingAgencies07072025pm.xlsx")
AT_P0529 = FOLDER + "participatingAgencies05292025am.xlsx"  # where ICE published them
AT_N0529 = FOLDER + "pendingAgencies05292025am.xlsx"
AT_P0707 = FOLDER + "participatingAgencies07072025pm.xlsx"
AT_N0707 = FOLDER + "pendingAgencies07072025pm.xlsx"


def digest(body: bytes) -> str:
    """As the archive computes it: base32 of the payload's SHA-1."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode()


class WaybackStandIn:
    """CDX answers by queried URL, and captures at /web/<timestamp>id_/<original>."""

    def __init__(self, server: LoopbackHTTPServer):
        self.server = server
        self.base = server.url("").rstrip("/")

    def cdx(
        self, url: str, rows: list[tuple[str, str, bytes]], *, prefix: bool = False, collapse: str = "digest"
    ) -> None:
        """Answer the query for `url` with rows (timestamp, original, body); the digest is the body's."""
        table = [list(CDX_FIELDS)] + [
            [ts, original, "200", XLSX, digest(body), "9999"] for ts, original, body in rows
        ]
        self.cdx_raw(url, json.dumps(table).encode(), prefix=prefix, collapse=collapse)

    def cdx_raw(self, url: str, answer: bytes, *, prefix: bool = False, collapse: str = "digest") -> None:
        from urllib.parse import urlencode

        query = [("url", url), ("output", "json"), ("fl", ",".join(CDX_FIELDS))]
        query += [("filter", "statuscode:200"), ("collapse", collapse)]
        query += [("matchType", "prefix")] if prefix else []
        self.server.route(f"{CDX_PATH}?{urlencode(query)}", answer, content_type="application/json")

    def capture(
        self, timestamp: str, original: str, body: bytes, *, content_type: str = XLSX, status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:  # fmt: skip
        path = self.path(timestamp, original)
        self.server.route(path, body, content_type=content_type, status=status, headers=headers)
        return self.base + path

    @staticmethod
    def path(timestamp: str, original: str) -> str:
        return f"/web/{timestamp}id_/{original}"

    def capture_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.startswith("/web/")]


@pytest.fixture
def archive(http_server: LoopbackHTTPServer) -> WaybackStandIn:
    stand_in = WaybackStandIn(http_server)
    stand_in.cdx(PAGE, [], collapse=DAILY)  # no page captures unless a test routes some
    return stand_in


def reader(stand_in: WaybackStandIn, **options: Any) -> WaybackArchive:
    settings: dict[str, Any] = {
        "pace": 0.0,
        "backoff": 0.0,
        "program_pages": (PAGE,),
        "list_folders": (FOLDER,),
    }
    return WaybackArchive(CONTACT, archive_base=stand_in.base, **{**settings, **options})


def assert_every_request_polite(server: LoopbackHTTPServer) -> None:
    agents = {r.headers.get("User-Agent") for r in server.requests}
    assert agents == {user_agent(CONTACT)}
    assert CONTACT in user_agent(CONTACT)


def test_one_capture_per_digest_downloaded_oldest_first_with_provenance(archive: WaybackStandIn) -> None:
    p0529, n0529, p0707 = AT_P0529, AT_N0529, AT_P0707
    rows = [("20250529150000", p0529, P0529), ("20250601080000", p0529, P0529),  # the same bytes again
            ("20250529140000", n0529, N0529), ("20250707220000", p0707, P0707),
            ("20250530000000", FOLDER + "moa.pdf", b"%PDF")]  # fmt: skip
    archive.cdx(FOLDER, rows, prefix=True)
    for ts, original, body in rows:
        archive.capture(ts, original, body)
    messages: list[str] = []
    wayback = reader(archive, progress=messages.append)

    got = list(wayback.bodies())

    assert [(b.name, b.fetched_at) for b in got] == [
        ("pendingAgencies05292025am.xlsx", "2025-05-29T14:00:00+00:00"),
        ("participatingAgencies05292025am.xlsx", "2025-05-29T15:00:00+00:00"),
        ("participatingAgencies07072025pm.xlsx", "2025-07-07T22:00:00+00:00"),
    ]
    assert [b.body for b in got] == [N0529, P0529, P0707]
    assert got[1].provenance == {"archive": "wayback", "url": p0529, "timestamp": "20250529150000",
                                 "capture": f"{archive.base}/web/20250529150000id_/{p0529}"}  # fmt: skip
    assert archive.path("20250601080000", p0529) not in archive.capture_requests()  # the duplicate
    assert not any(path.endswith("moa.pdf") for path in archive.capture_requests())  # not a spreadsheet
    report = wayback.report
    assert (report.captures_listed, report.distinct, report.downloaded, report.retries) == (4, 3, 3, 0)
    assert messages[-1] == "wayback: 3/3 captures done (3 downloaded, 0 already known, 0 rejected)"
    assert_every_request_polite(archive.server)


def test_a_url_that_reverts_to_earlier_bytes_keeps_the_revert(archive: WaybackStandIn) -> None:
    fixed = (
        "https://www.ice.gov/doclib/about/offices/ero/287g/participatingAgencies.xlsx"  # one URL, replaced
    )
    rows = [
        ("20250529150000", fixed, P0529),
        ("20250530150000", fixed, P0529),  # a repeat: dropped
        ("20250707220000", fixed, P0707),
        ("20250708220000", fixed, P0529),
    ]  # back to A: kept
    archive.cdx(FOLDER, rows, prefix=True)
    for ts, original, body in rows:
        archive.capture(ts, original, body)
    got = list(reader(archive).bodies())
    assert [(b.provenance["timestamp"], b.body) for b in got] == [
        ("20250529150000", P0529), ("20250707220000", P0707), ("20250708220000", P0529),
    ]  # fmt: skip


def test_the_cdx_query_asks_for_json_200s_by_digest_within_the_dates(archive: WaybackStandIn) -> None:
    archive.server.route(CDX_PATH, b"[]", content_type="application/json")  # any query: nothing captured

    assert list(reader(archive).bodies(since=date(2025, 5, 1), until=date(2025, 7, 31))) == []

    queries = [parse_qs(urlsplit(r.path).query) for r in archive.server.requests_for(CDX_PATH)]
    assert [q["url"] for q in queries] == [[PAGE], [FOLDER]]
    for query in queries:
        assert query["output"] == ["json"] and query["filter"] == ["statuscode:200"]
        assert query["fl"] == ["timestamp,original,statuscode,mimetype,digest,length"]
        assert (query["from"], query["to"]) == (["20250501"], ["20250731"])
    assert [q["collapse"] for q in queries] == [[DAILY], ["digest"]]
    assert "matchType" not in queries[0] and queries[1]["matchType"] == ["prefix"]
    assert_every_request_polite(archive.server)


def test_captures_that_are_error_pages_or_cut_short_are_reported_not_yielded(archive: WaybackStandIn) -> None:
    good, page, cut = AT_P0529, AT_N0529, AT_P0707
    archive.cdx(FOLDER, [("20250529150000", good, P0529), ("20250529160000", page, N0529),
                         ("20250707220000", cut, P0707)], prefix=True)  # fmt: skip
    archive.capture("20250529150000", good, P0529)
    error_page = archive.capture("20250529160000", page, DEFAULT_HTML_ERROR, content_type="text/html")
    truncated = archive.capture("20250707220000", cut, P0707[: len(P0707) // 2])
    wayback = reader(archive)

    assert [b.body for b in wayback.bodies()] == [P0529]

    assert wayback.report.error_pages == [(error_page, "an HTML page, not a spreadsheet")]
    assert [capture for capture, _ in wayback.report.truncated] == [truncated]
    assert "does not open" in wayback.report.truncated[0][1]
    assert wayback.report.downloaded == 1
    assert wayback.report.lines() == [
        "wayback: 3 captures listed, 3 distinct, 0 page captures read; 1 downloaded, 0 already imported; "
        "1 error pages, 1 truncated, 0 failed; 0 retries",
        f"  error page: {error_page}: an HTML page, not a spreadsheet",
        f"  truncated: {truncated}: {wayback.report.truncated[0][1]}",
    ]
    assert_every_request_polite(archive.server)


@pytest.mark.parametrize(("status", "retry_after", "expected_wait"), [(429, "0", 0.0), (503, None, 7.0)])
def test_a_429_or_503_is_retried_after_the_wait_the_server_asks(
    archive: WaybackStandIn, status: int, retry_after: str | None, expected_wait: float
) -> None:
    original = FOLDER + "participatingAgencies05292025am.xlsx"
    archive.cdx(FOLDER, [("20250529150000", original, P0529)], prefix=True)
    headers = {"Retry-After": retry_after} if retry_after else {}
    archive.server.respond_sequence(
        archive.path("20250529150000", original), [status, 200], P0529, XLSX, headers
    )
    waits: list[float] = []
    wayback = reader(archive, backoff=7.0, sleep=waits.append)  # without Retry-After: the backoff

    assert [b.body for b in wayback.bodies()] == [P0529]

    assert waits == [expected_wait]
    assert wayback.report.retries == 1
    assert len(archive.capture_requests()) == 2
    assert_every_request_polite(archive.server)


def test_retries_are_capped_and_end_as_a_reported_failure(archive: WaybackStandIn) -> None:
    original = FOLDER + "participatingAgencies05292025am.xlsx"
    archive.cdx(FOLDER, [("20250529150000", original, P0529)], prefix=True)
    capture_path = archive.path("20250529150000", original)
    archive.server.respond_sequence(capture_path, [503], b"busy", headers={"Retry-After": "3600"})
    waits: list[float] = []
    wayback = reader(archive, max_attempts=3, max_retry_wait=60.0, sleep=waits.append)

    assert list(wayback.bodies()) == []

    assert waits == [60.0, 60.0]  # an hour asked, a minute waited
    assert len(archive.server.requests_for(capture_path)) == 3
    [(capture, reason)] = wayback.report.failures
    assert capture == archive.base + capture_path and "HTTP 503" in reason
    assert_every_request_polite(archive.server)


def test_a_body_shorter_than_its_content_length_is_retried_then_reported(archive: WaybackStandIn) -> None:
    original = FOLDER + "participatingAgencies05292025am.xlsx"
    archive.cdx(FOLDER, [("20250529150000", original, P0529)], prefix=True)
    capture_path = archive.path("20250529150000", original)
    archive.server.fault(capture_path, "reset", after_headers=True)  # 1,000 of 100,000 bytes, then RST
    wayback = reader(archive, max_attempts=2)

    assert list(wayback.bodies()) == []

    assert len(archive.server.requests_for(capture_path)) == 2
    assert "connection reset" in wayback.report.failures[0][1]
    assert wayback.report.retries == 1
    assert_every_request_polite(archive.server)


def test_a_capture_redirecting_off_the_archive_is_refused(archive: WaybackStandIn) -> None:
    original = FOLDER + "participatingAgencies05292025am.xlsx"
    archive.cdx(FOLDER, [("20250529150000", original, P0529)], prefix=True)
    archive.capture("20250529150000", original, b"", status=302, headers={"Location": "http://example.com/x"})
    wayback = reader(archive)

    assert list(wayback.bodies()) == []

    assert "refused example.com" in wayback.report.failures[0][1]
    assert_every_request_polite(archive.server)


def test_links_on_captured_pages_lead_to_their_list_captures(archive: WaybackStandIn) -> None:
    elsewhere = "https://www.ice.gov/sites/default/files/documents/participatingAgencies05292025am.xlsx"
    in_folder = FOLDER + "pendingAgencies05292025am.xlsx"
    html = (f'<html><body><main><h1>287(g)</h1><a href="{elsewhere}">Participating Agencies</a>'
            f'<a href="{in_folder}">Pending Agencies</a></main></body></html>').encode()  # fmt: skip
    archive.cdx(PAGE, [("20250529120000", PAGE, html)], collapse=DAILY)
    archive.server.route(archive.path("20250529120000", PAGE), html)
    archive.cdx(FOLDER, [("20250529140000", in_folder, N0529)], prefix=True)
    archive.cdx(elsewhere, [("20250529150000", elsewhere, P0529)])
    archive.capture("20250529140000", in_folder, N0529)
    archive.capture("20250529150000", elsewhere, P0529)
    wayback = reader(archive)

    got = list(wayback.bodies())

    assert [(b.provenance["url"], b.body) for b in got] == [(in_folder, N0529), (elsewhere, P0529)]
    asked = [parse_qs(urlsplit(r.path).query)["url"][0] for r in archive.server.requests_for(CDX_PATH)]
    assert asked == [PAGE, FOLDER, elsewhere]  # the link in the folder is covered by the folder's query
    assert wayback.report.pages_read == 1
    assert_every_request_polite(archive.server)


class Pages:
    """A PageMemory in a dict, as the store keeps it."""

    def __init__(self) -> None:
        self.read: dict[str, list[str]] = {}

    def recall(self, capture: str) -> list[str] | None:
        return self.read.get(capture)

    def remember(self, capture: str, fetched_at: str, page: bytes, links: list[str]) -> None:
        self.read[capture] = links


def test_a_page_capture_read_once_is_recalled_not_read_again(archive: WaybackStandIn) -> None:
    elsewhere = "https://www.ice.gov/sites/default/files/documents/participatingAgencies05292025am.xlsx"
    html = f'<html><body><main><a href="{elsewhere}">Participating Agencies</a></main></body></html>'.encode()
    archive.cdx(PAGE, [("20250529120000", PAGE, html)], collapse=DAILY)
    archive.server.route(archive.path("20250529120000", PAGE), html)
    archive.cdx(FOLDER, [], prefix=True)
    archive.cdx(elsewhere, [("20250529150000", elsewhere, P0529)])
    archive.capture("20250529150000", elsewhere, P0529)
    pages = Pages()
    first = reader(archive)
    assert [b.body for b in first.bodies(pages=pages)] == [P0529]
    assert pages.read == {f"{archive.base}/web/20250529120000id_/{PAGE}": [elsewhere]}
    archive.server.clear_requests()

    again = reader(archive)
    assert [b.body for b in again.bodies(pages=pages)] == [P0529]  # the link is still followed
    assert archive.path("20250529120000", PAGE) not in [r.path for r in archive.server.requests]
    assert (again.report.pages_read, again.report.pages_recalled) == (0, 1)
    assert "0 page captures read (1 more remembered);" in again.report.lines()[0]


@pytest.mark.parametrize(
    ("answer", "says"),
    [(DEFAULT_HTML_ERROR, "HTML page, not JSON"), (b"upstream timed out\n", "not JSON"),
     (b'{"error": "busy"}', "not a table"), (b'[["timestamp","original"],["2025","x"]]', "lacks the fields")],
)  # fmt: skip
def test_a_cdx_answer_that_is_not_its_json_stops_the_import_clearly(
    archive: WaybackStandIn, answer: bytes, says: str
) -> None:
    archive.cdx_raw(FOLDER, answer, prefix=True)

    with pytest.raises(WaybackError) as raised:
        list(reader(archive).bodies())

    assert f"cannot list the Wayback Machine's captures of everything under {FOLDER}" in str(raised.value)
    assert says in str(raised.value)
    assert archive.capture_requests() == []


def test_an_interrupted_run_resumed_downloads_only_what_is_missing(archive: WaybackStandIn) -> None:
    rows = [("20250529120000", AT_N0529, N0529), ("20250530120000", AT_P0529, P0529),
            ("20250707120000", AT_N0707, N0707), ("20250708120000", AT_P0707, P0707)]  # fmt: skip
    archive.cdx(FOLDER, rows, prefix=True)
    captures = [archive.capture(ts, original, body) for ts, original, body in rows]
    stored: set[str] = set()
    first = reader(archive).bodies()
    for archived in first:  # the import stops after two lists (a crash, Ctrl-C)
        stored.add(archived.provenance["capture"])
        if len(stored) == 2:
            break
    first.close()
    assert stored == set(captures[:2])
    assert len(archive.capture_requests()) == 2  # streaming: nothing downloaded ahead of the import
    archive.server.clear_requests()
    second = reader(archive)

    got = list(second.bodies(known=stored.__contains__))

    assert [b.provenance["capture"] for b in got] == captures[2:]
    assert archive.capture_requests() == [archive.path(ts, original) for ts, original, _ in rows[2:]]
    assert (second.report.skipped_known, second.report.downloaded) == (2, 2)
    assert_every_request_polite(archive.server)


def test_parse_cdx_reads_the_header_and_an_empty_answer() -> None:
    assert (
        parse_cdx(b"[]", "x")
        == parse_cdx(b"", "x")
        == parse_cdx(json.dumps([list(CDX_FIELDS)]).encode(), "x")
        == []
    )
    reordered = ["digest", "length", "original", "timestamp", "statuscode", "mimetype"]
    [row] = parse_cdx(
        json.dumps([reordered, ["ABC", "-", "https://a/b.xlsx", "20250529", "200", "x"]]).encode(), "x"
    )
    assert (row.timestamp, row.original, row.digest, row.length) == (
        "20250529",
        "https://a/b.xlsx",
        "ABC",
        None,
    )
    with pytest.raises(CdxError, match="malformed row"):
        parse_cdx(json.dumps([list(CDX_FIELDS), ["20250529"]]).encode(), "x")
    with pytest.raises(CdxError, match="malformed row"):
        parse_cdx(json.dumps([list(CDX_FIELDS), ["yesterday", "u", "200", "m", "d", "1"]]).encode(), "x")


def test_capture_bytes_are_told_apart() -> None:
    def kind(body: bytes) -> str | None:
        problem = capture_problem(body)
        return problem[0] if problem else None

    assert capture_problem(P0529) is None
    assert capture_problem(b"\n  <!DOCTYPE html><title>Wayback Machine</title>") == (
        "error page", "an HTML page, not a spreadsheet")  # fmt: skip
    assert capture_problem(b"") == ("truncated", "empty body")
    assert capture_problem(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1016)) is None  # an old .xls, whole
    assert kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000)) == "truncated"
    assert kind(P0529[:-10]) == "truncated"
    assert kind(b"%PDF-1.7") == "error page"


def test_times_and_retry_after() -> None:
    assert capture_time("20250529123456") == "2025-05-29T12:34:56+00:00"
    assert capture_time("2025") == "2025-01-01T00:00:00+00:00"
    from datetime import UTC, datetime

    now = datetime(2025, 5, 29, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Thu, 29 May 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("12", now) == 12.0
    assert retry_after_seconds("soon", now) is None


def test_requests_are_paced(archive: WaybackStandIn) -> None:
    archive.cdx(
        FOLDER, [("20250529150000", AT_P0529, P0529), ("20250529160000", AT_N0529, N0529)], prefix=True
    )
    archive.capture("20250529150000", AT_P0529, P0529)
    archive.capture("20250529160000", AT_N0529, N0529)
    waits: list[float] = []  # recorded, not slept: the clock does not move, so each wait is the whole pace

    assert len(list(reader(archive, pace=0.5, sleep=waits.append).bodies())) == 2

    assert len(archive.server.requests) == 4  # two CDX queries, two captures: three waits between them
    assert len(waits) == 3 and all(0.4 < wait <= 0.5 for wait in waits)
    assert_every_request_polite(archive.server)
    with WaybackArchive(CONTACT) as default:
        assert (default.pace, default.cdx_endpoint) == (1.0, "https://web.archive.org/cdx/search/cdx")


def test_what_the_reader_yields_is_imported_with_its_capture_as_provenance(
    archive: WaybackStandIn, tmp_path: Path
) -> None:
    from rules.ice_rules import Rules
    from state import queries
    from state.store import Store
    from watch287g.importing import import_bodies

    rows = [("20250529140000", AT_N0529, N0529), ("20250529150000", AT_P0529, P0529)]
    archive.cdx(FOLDER, rows, prefix=True)
    captures = [archive.capture(ts, original, body) for ts, original, body in rows]
    store = Store(tmp_path / "watch287g.db")

    summary = import_bodies(store, reader(archive).bodies(), source="ice-287g", rules=Rules())

    assert [(i.channel, i.outcome, i.where) for i in summary.imported] == [
        ("pending", "processed", captures[0]),
        ("participating", "processed", captures[1]),
    ]
    events = queries.events(store)
    assert {e["origin"] for e in events} == {"import"}
    assert {e["url"] for e in events if e["type"] == "pending.added"} == {captures[0]}
    store.close()
    assert_every_request_polite(archive.server)


def test_an_import_killed_midway_resumes_from_the_store_without_downloading_again(
    archive: WaybackStandIn, tmp_path: Path
) -> None:
    from rules.ice_rules import Rules
    from state.store import Store
    from watch287g.importing import already_imported, import_bodies

    rows = [("20250529140000", AT_N0529, N0529), ("20250529150000", AT_P0529, P0529),
            ("20250707120000", AT_N0707, N0707), ("20250707130000", AT_P0707, P0707)]  # fmt: skip
    archive.cdx(FOLDER, rows, prefix=True)
    captures = [archive.capture(ts, original, body) for ts, original, body in rows]
    database = tmp_path / "watch287g.db"

    def killed_after_two(bodies: Iterator[ArchivedBody]) -> Iterator[ArchivedBody]:
        for number, archived in enumerate(bodies, start=1):
            yield archived
            if number == 2:
                raise KeyboardInterrupt  # Ctrl-C while the third capture would be downloaded

    store = Store(database)
    with pytest.raises(KeyboardInterrupt):
        import_bodies(store, killed_after_two(reader(archive).bodies()), source="ice-287g", rules=Rules())
    store.close()
    archive.server.clear_requests()
    store = Store(database)
    second = reader(archive)

    bodies = second.bodies(known=already_imported(store, "ice-287g"))
    summary = import_bodies(store, bodies, source="ice-287g", rules=Rules())

    assert archive.capture_requests() == [urlsplit(capture).path for capture in captures[2:]]
    assert (second.report.skipped_known, second.report.downloaded) == (2, 2)
    assert [i.where for i in summary.imported] == captures  # all four interpreted, in capture order
    assert {i.outcome for i in summary.imported} == {"processed"}
    store.close()
    assert_every_request_polite(archive.server)
