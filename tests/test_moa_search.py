"""Issue 12: `watch287g moa search`, serve's "MOA full-text search" and the documents in `history`, on a real
SQLite file: ICE's real participating list of 2025-07-15 back-filled (its rows link the real MOA URLs; no
record is rewritten), and real MOAs from tests/fixtures/moa/ kept under the URLs those rows link, each with
its reading (monitors.moa.read_moa, no OCR) inserted as the production writer would.

One edit: in the list of 2025-07-14 (back-filled first), Kenneth City Police Department's link points at
another URL (OLD_KENNETH_CITY, not a real one), so that its agreement has linked two documents.
Chattahoochee's MOA changes under its URL: the first kept version is the real PDF without its last page
(cut with PDFium), the second the real PDF. Noble County's link starts answering 404 (gone_since)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from monitors.moa.read_moa import READER_VERSION, read_moa, read_pages
from monitors.source import document_channel
from rules.ice_rules import Rules
from state.store import DocumentCommit, Store
from tests.support.ice_site import REAL_LISTS
from tests.support.xlsx_edit import replace_hyperlink
from tests.test_datasette import free_port
from watch287g import analysts
from watch287g.backfill import ManifestRow, backfill
from watch287g.cli import main
from watch287g.datasette_metadata import serve_command, serving_copy
from watch287g.moa_views import search_hits, search_line

MOA = Path(__file__).parent / "fixtures" / "moa"
SOURCE, PAGE = "ice-287g", "https://www.ice.gov/identify-and-arrest/287g"
LIST = REAL_LISTS / "2025-07-15_participatingAgencies07152025am.xlsx"
FOLDER = "https://www.ice.gov/doclib/287gMOA/"
MANATEE = FOLDER + "287gWSO_ManateeCoFl2019-05-06.pdf"  # Manatee County Sheriff's Office, FL, WSO
CALHOUN_TX = FOLDER + "287gJEM_CalhounCoTX_03-13-2020.pdf"  # Calhoun County Sheriff's Office, TX, JEM
CHATTAHOOCHEE = FOLDER + "ChattahoocheePoliceDept_TFM_MOA_02.28.25.pdf"
NOBLE = FOLDER + "NobleCountyIN_WSO_MOA_031225.pdf"
KENNETH_CITY = FOLDER + "KennethCityPoliceDeptFL_TFM_MOA_02.27.2025.pdf"
OLD_KENNETH_CITY = FOLDER + "KennethCityPD_TFM_MOA_edited-for-tests.pdf"
HOSTILE_PHRASES = [
    "", "   ", '"', '""', '"unterminated', "287(g)", "(", ")", "*", "sign*", "NEAR", "NEAR(a b, 3)", "-", "- office",
    "a OR b", "AND", "NOT", "text:agreement", "^memorandum", "{text}: x", "'; drop table readings; --", "\x00",
    "x\x00y", "\udcff", "\u202e\x1b[31m", "a" * 10_000, "memorandum " * 1_000,
]  # fmt: skip


def without_last_page(body: bytes) -> bytes:
    source, cut = pdfium.PdfDocument(body), pdfium.PdfDocument.new()
    cut.import_pages(source, list(range(len(source) - 1)))
    out = io.BytesIO()
    cut.save(out)
    return out.getvalue()


def keep(store: Store, url: str, body: bytes, fetched_at: str) -> str:
    """A kept document as the fetcher stores one, and its reading as the reader stores one."""
    sha = hashlib.sha256(body).hexdigest()
    store.commit_document(DocumentCommit(
        source=SOURCE, channel=document_channel(url), url=url, sha256=sha, body=body, fetched_at=fetched_at,
        origin="live", outcome="document", content_type="application/pdf", channel_update={"checked_at": fetched_at},
    ))  # fmt: skip
    started = time.monotonic()
    pages, _ = read_pages(body, None)
    reading = read_moa(body, ocr=False)
    with store.transaction() as db:  # test-only: state/readings.py is the production writer
        db.table("readings").upsert({
            "sha256": sha, "reader_version": READER_VERSION, "read_at": fetched_at, "pages": reading.pages,
            "text_source": reading.text_source, "fields": json.dumps(reading.as_dict()),
            "text": "\n".join(pages), "error": None, "seconds": time.monotonic() - started,
        }, pk=("sha256", "reader_version"))  # fmt: skip
    return sha


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("moa_search") / "w.db"
    earlier = path.with_name("2025-07-14_edited.xlsx")
    earlier.write_bytes(replace_hyperlink(
        (REAL_LISTS / "2025-07-14_participatingAgencies07142025am.xlsx").read_bytes(), KENNETH_CITY, OLD_KENNETH_CITY
    ))  # fmt: skip
    store = Store(path)
    manifest = [ManifestRow("2025-07-14T09:00:00+00:00", "participating", earlier),
                ManifestRow("2025-07-15T09:00:00+00:00", "participating", LIST)]  # fmt: skip
    backfill(store, manifest, source=SOURCE, url=PAGE, rules=Rules())
    scan = (MOA / "kennethcity-2025-tfm-scan-p1.pdf").read_bytes()
    keep(store, OLD_KENNETH_CITY, scan, "2025-07-14T10:00:00+00:00")
    keep(store, MANATEE, (MOA / "manatee-2019-wso-p1-7-8.pdf").read_bytes(), "2025-07-16T10:00:00+00:00")
    keep(store, CALHOUN_TX, (MOA / "calhoun-2020-jem-addendum-p1-7-12.pdf").read_bytes(), "2025-07-16T10:01:00+00:00")  # fmt: skip
    whole = (MOA / "chattahoochee-2025-tfm-form.pdf").read_bytes()
    keep(store, CHATTAHOOCHEE, without_last_page(whole), "2025-07-16T10:02:00+00:00")
    keep(store, CHATTAHOOCHEE, whole, "2025-08-01T10:02:00+00:00")  # other bytes under the same URL
    keep(store, KENNETH_CITY, scan, "2025-07-16T10:03:00+00:00")
    keep(store, NOBLE, (MOA / "noble-2025-wso-garbled-p1.pdf").read_bytes(), "2025-07-16T10:04:00+00:00")
    store.update_channel(SOURCE, document_channel(NOBLE),
                         {"gone_since": "2025-08-02T10:04:00+00:00", "checked_at": "2025-08-03T10:04:00+00:00"})  # fmt: skip
    store.close()
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store(db_path)
    yield opened
    opened.close()


def cli(db_path: Path, *args: str) -> Any:
    config = db_path.parent / "watch287g.yaml"
    config.write_text(f"database: {db_path}\nsources:\n  - name: {SOURCE}\n    kind: ice_287g\n")
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_a_phrase_finds_its_document_with_the_agreement_linking_it(store: Store) -> None:
    hits = search_hits(store, "Manatee County Sheriffs Office", None, 20)
    assert [hit["url"] for hit in hits] == [MANATEE]
    (hit,) = hits
    assert [(a["state"], a["agency"], a["model"], a["status"], a["document"]) for a in hit["agreements"]] == [
        ("FL", "Manatee County Sheriff's Office", "Warrant Service Officer", "active", "moa")
    ]
    assert "the «Manatee County Sheriffs Office» (MCSO)" in hit["snippet"] and "\r" not in hit["snippet"]
    assert hit["reading"]["models"] == ["Warrant Service Officer"] and hit["current"]
    assert search_hits(store, "287(g) Jail Enforcement Model", None, 20)[0]["url"] == CALHOUN_TX


def test_word_endings_are_folded_and_results_are_ranked(store: Store) -> None:
    """No kept MOA says "signatures"; the porter stemmer finds "signature" in each one with a text layer."""
    hits = search_hits(store, "signatures", None, 20)
    assert {hit["url"] for hit in hits} == {MANATEE, CALHOUN_TX, CHATTAHOOCHEE}
    assert all("«signature" in hit["snippet"].casefold() for hit in hits)
    assert [hit["rank"] for hit in hits] == sorted(hit["rank"] for hit in hits)  # bm25: best (lowest) first
    assert len(search_hits(store, "signatures", None, 2)) == 2
    assert {hit["url"] for hit in search_hits(store, "SIGNATURE", "TX", 20)} == {CALHOUN_TX}


def test_both_versions_of_a_changed_document_are_searchable_and_the_old_one_says_so(store: Store) -> None:
    hits = search_hits(store, "287(g) Task Force Model", None, 20)
    assert [hit["url"] for hit in hits] == [CHATTAHOOCHEE, CHATTAHOOCHEE]
    assert sorted(hit["current"] for hit in hits) == [False, True]


@pytest.mark.parametrize("phrase", HOSTILE_PHRASES)
def test_no_phrase_is_fts_syntax(store: Store, phrase: str) -> None:
    hits = search_hits(store, phrase, None, 5)
    assert isinstance(hits, list)
    if phrase in ("287(g)", "- office", "sign*"):  # punctuation is not syntax: these are words to find
        assert hits


def test_the_command_prints_one_line_per_document(db_path: Path) -> None:
    result = cli(db_path, "moa", "search", "signatures", "--state", "florida", "--limit", "5")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3  # Manatee, and both versions of Chattahoochee
    manatee = next(line for line in lines if "Manatee" in line)
    assert manatee.startswith(f"FL Manatee County Sheriff's Office  {MANATEE}  ") and "«signature»" in manatee
    assert any(line.startswith(f"FL Chattahoochee Police Department  {CHATTAHOOCHEE} (an earlier version)  ")
               for line in lines)  # fmt: skip
    as_json = cli(db_path, "moa", "search", "287(g) Jail Enforcement Model", "--json")
    (row,) = [json.loads(line) for line in as_json.output.splitlines()]
    assert (row["url"], row["agreements"][0]["agency"]) == (CALHOUN_TX, "Calhoun County Sheriff’s Office")


def test_a_document_no_agreement_links_is_named_by_its_own_words(store: Store) -> None:
    (hit,) = search_hits(store, "Manatee County Sheriffs Office", None, 20)
    unlinked = {
        **hit,
        "agreements": [],
        "reading": {**hit["reading"], "agency": "Manatee\x1b[2J Co\u202e", "state": "FL"},
    }
    assert search_line(unlinked).startswith(f"FL Manatee\ufffd[2J Co (no agreement links it)  {MANATEE}  … ")


@pytest.mark.parametrize("phrase", ['"', "NEAR(", "-", "*", "", "\u202e\x1b[31mx", "a" * 10_000])
def test_the_command_says_no_match_and_exits_0(db_path: Path, phrase: str) -> None:
    result = cli(db_path, "moa", "search", phrase)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "no documents match\n")


def test_history_shows_a_changed_documents_two_versions(store: Store) -> None:
    rows = analysts.history(store, "Chattahoochee Police")
    documents = [row for row in rows if row["type"] == "document"]
    assert rows[-1] is documents[-1]  # after the agreement's events and versions
    (document,) = documents
    assert (document["url"], document["document"], document["gone_since"]) == (CHATTAHOOCHEE, "moa", None)
    whole = hashlib.sha256((MOA / "chattahoochee-2025-tfm-form.pdf").read_bytes()).hexdigest()
    assert [(v["fetched_at"], v["current"]) for v in document["versions"]] == [
        ("2025-07-16T10:02:00+00:00", False), ("2025-08-01T10:02:00+00:00", True)
    ]  # fmt: skip
    assert document["versions"][1]["sha256"] == whole
    assert document["versions"][1]["size"] == (MOA / "chattahoochee-2025-tfm-form.pdf").stat().st_size
    reading = document["versions"][1]["reading"]
    assert (reading["agency"], reading["models"], reading["signed"], reading["text_source"]) == (
        "Chattahoochee Police Department", ["Task Force Model"], ["2028-02-28", "2025-02-28"], "text"
    )  # fmt: skip
    text = analysts.format_history(rows)
    assert "  document  MOA: 2 versions kept" in text
    assert f"2025-08-01 10:02 UTC  sha256 {whole[:16]}…  309,806 bytes, HTTP 200  (current)" in text
    assert (
        "read (text): Chattahoochee Police Department, --; Task Force Model; signed 2028-02-28, 2025-02-28"
        in text
    )


def test_history_says_since_when_a_document_is_gone(db_path: Path) -> None:
    result = cli(db_path, "history", "Noble County Sheriff")
    assert result.exit_code == 0, result.output
    assert "  document  MOA: 1 version kept; gone since 2025-08-02 10:04 UTC" in result.output
    assert "read: no usable text (a scan without OCR)" in result.output  # its fonts extract as garbage
    rows = [
        json.loads(line)
        for line in cli(db_path, "history", "Noble County Sheriff", "--json").output.splitlines()
    ]
    (document,) = [row for row in rows if row["type"] == "document"]
    assert (document["url"], document["gone_since"], len(document["versions"])) == (
        NOBLE, "2025-08-02T10:04:00+00:00", 1
    )  # fmt: skip


def test_history_shows_every_document_the_agreement_ever_linked(store: Store) -> None:
    rows = analysts.history(store, "Kenneth City Police")
    documents = [(r["url"], r["first_linked"], len(r["versions"])) for r in rows if r["type"] == "document"]
    assert documents == [
        (OLD_KENNETH_CITY, "2025-07-14T09:00:00+00:00", 1), (KENNETH_CITY, "2025-07-15T09:00:00+00:00", 1)
    ]  # fmt: skip
    assert analysts.format_history(rows).count("read: no usable text (a scan without OCR)") == 2


def test_an_agreement_whose_document_was_never_asked_shows_none(store: Store) -> None:
    rows = analysts.history(store, "Sarasota Manatee Airport")  # links an MOA nobody fetched here
    assert rows and not [row for row in rows if row["type"] == "document"]


def test_the_canned_query_in_a_real_datasette(db_path: Path, tmp_path: Path) -> None:
    copy = serving_copy(db_path, tmp_path)
    port = free_port()
    process = subprocess.Popen(serve_command(copy, port=port), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}/w/moa_search.json?"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "Datasette did not start"
                time.sleep(0.1)

        def query(phrase: str) -> list[dict[str, Any]]:
            params = urllib.parse.urlencode({"phrase": phrase, "_shape": "array"})
            with urllib.request.urlopen(base + params, timeout=10) as response:
                assert response.status == 200
                return list(json.loads(response.read()))

        (row,) = query("Manatee County Sheriffs Office")
        assert (row["agency"], row["state"], row["url"]) == ("Manatee County Sheriff's Office", "FL", MANATEE)
        assert "«Manatee County Sheriffs Office»" in row["snippet"] and len(row["sha256"]) == 64
        assert {r["url"] for r in query("signatures")} == {MANATEE, CALHOUN_TX, CHATTAHOOCHEE}
        for phrase in ['"', 'x" OR "y', "NEAR(", "*", "-", "", "x\x00y", "a" * 10_000]:
            assert isinstance(query(phrase), list)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
