"""Reading the kept MOA documents (watch287g/moa_reading.py, state/readings.py) and checking them against ICE's
list (rules/moa_compare.py): real MOAs from tests/fixtures/moa kept in a real SQLite file under the URLs of
the real rows of ICE's 2025-07-15 list, read by 2 worker processes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitors.base import Snapshot
from monitors.moa.read_moa import READER_VERSION, read_moa
from monitors.source import document_channel
from notifiers.outbox import deliveries_for
from notifiers.subscribers import OPERATOR_EVENTS, OPERATORS, Operators, Routing, Subscriber, Target
from rules.ice_rules import Rules
from rules.moa_compare import disagreements, document_signed, same_agency
from state import readings
from state.store import DocumentCommit, Store
from tests.test_moa_read import BAD_FILES, fixture
from watch287g.cli import main
from watch287g.moa_reading import read_body, read_kept
from watch287g.pipeline import process_list

LIST = Path(__file__).parent / "fixtures" / "ice" / "2025-07-15_participatingAgencies07152025am.xlsx"
MOA = "https://www.ice.gov/doclib/287gMOA/"
CALHOUN_JEM = MOA + "287gJEM_CalhounCoTX_03-13-2020.pdf"  # TX Calhoun County, JEM, signed 2020-03-13
CALHOUN_WSO = MOA + "CalhounCo_WSO_MOA_022425.pdf"  # TX Calhoun County, WSO, signed 2025-02-24
MANATEE_WSO = MOA + "287gWSO_ManateeCoFl2019-05-06.pdf"  # FL Manatee County, WSO, signed 2019-05-06
CHATTAHOOCHEE = MOA + "ChattahoocheePoliceDept_TFM_MOA_02.28.25.pdf"  # FL, TFM, signed 2025-02-28
KENNETH_CITY = MOA + "KennethCityPoliceDeptFL_TFM_MOA_02.27.2025.pdf"  # FL, TFM, signed 2025-02-28
NOBLE = MOA + "NobleCountyIN_WSO_MOA_031225.pdf"  # IN Noble County, WSO, signed 2025-03-26
KEPT = {
    CALHOUN_JEM: "calhoun-2020-jem-addendum-p1-7-12.pdf",
    MANATEE_WSO: "manatee-2019-wso-p1-7-8.pdf",
    CHATTAHOOCHEE: "chattahoochee-2025-tfm-form.pdf",
    KENNETH_CITY: "kennethcity-2025-tfm-scan-p1.pdf",  # a scan: no text without OCR
    NOBLE: "noble-2025-wso-garbled-p1.pdf",  # fonts that extract as garbage
}
MISMATCH = "agreement.moa_mismatch"
OPERATOR = Subscriber(OPERATORS, (Target("json://127.0.0.1:9/", "json://127.0.0.1"),), OPERATOR_EVENTS)
ROUTING = Routing((), Operators(OPERATOR))


def keep(store: Store, url: str, body: bytes, at: str = "2025-07-16T12:00:00+00:00") -> str:
    sha256 = hashlib.sha256(body).hexdigest()
    store.commit_document(
        DocumentCommit(source="ice", channel=document_channel(url), url=url, sha256=sha256, body=body,
                       fetched_at=at, origin="live", outcome="document")
    )  # fmt: skip
    return sha256


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite file holding ICE's 2025-07-15 list (811 agreements) and the fixture MOAs kept under the
    links of their real rows."""
    opened = Store(tmp_path / "watch287g.db")
    snapshot = Snapshot(
        "ice", "participating", MOA + "list.xlsx", "2025-07-15T12:00:00+00:00", LIST.read_bytes()
    )
    assert process_list(opened, snapshot, origin="live", rules=Rules()).outcome == "processed"
    for url, name in KEPT.items():
        keep(opened, url, fixture(name))
    yield opened
    opened.close()


def mismatches(store: Store) -> list[dict[str, Any]]:
    rows = store.db.query("select * from events where type = ? order by record_id", [MISMATCH])
    return [{**row, "details": json.loads(row["details"])} for row in rows]


def read(store: Store, **options: Any) -> Any:
    return read_kept(store, Rules(), workers=2, ocr=False, deliveries_for=deliveries_for(ROUTING), **options)


def test_kept_documents_are_read_once_and_agree_with_their_rows(store: Store) -> None:
    summary = read(store)
    assert (summary.documents, summary.text, summary.none, summary.unreadable, summary.failed) == (
        5,
        3,
        2,
        0,
        0,
    )
    assert summary.mismatches == 0 and mismatches(store) == []  # each real MOA agrees with its real row
    calhoun = readings.reading(store, hashlib.sha256(fixture(KEPT[CALHOUN_JEM])).hexdigest(), READER_VERSION)
    assert calhoun is not None and calhoun["error"] is None and calhoun["text_source"] == "text"
    assert calhoun["fields"]["agency"] == "Calhoun County Sheriffs Office" and "text" not in calhoun["fields"]
    assert "ADDENDUM TO MODIFY MEMORANDUM OF AGREEMENT" in calhoun["text"]
    found = list(store.db.query("select rowid from readings_fts where readings_fts match 'addendum'"))
    assert len(found) == 1  # the text is searchable
    assert store.db.execute("select count(*) from readings").fetchone()[0] == 5
    again = read(store)
    assert again.documents == 0 and store.db.execute("select count(*) from readings").fetchone()[0] == 5


def test_unreadable_bodies_are_stored_as_such_and_do_not_stop_the_others(store: Store) -> None:
    for case, (make, _) in BAD_FILES.items():
        keep(store, f"{MOA}bad-{case.replace(' ', '-').replace(',', '')}.pdf", make())
    summary = read(store)
    assert (summary.documents, summary.text, summary.unreadable, summary.failed) == (11, 3, 6, 0)
    errors = [row["error"] for row in store.db.query("select error from readings where error is not null")]
    assert len(errors) == len(BAD_FILES) and all("\n" not in error for error in errors)
    for case, (_, reason) in BAD_FILES.items():
        assert any(error.startswith(reason) for error in errors), case
    assert read(store).documents == 0  # never retried for this reader version


def test_a_disagreement_is_one_event_for_the_operators_once(store: Store) -> None:
    # Crafted: the Calhoun County JEM document also served under the link of Calhoun County's WSO row, and
    # Manatee's WSO document under Kenneth City's TFM link (same bytes: read once, checked against both rows).
    keep(store, CALHOUN_WSO, fixture(KEPT[CALHOUN_JEM]))
    keep(store, KENNETH_CITY, fixture(KEPT[MANATEE_WSO]), at="2025-07-17T12:00:00+00:00")
    summary = read(store)
    assert summary.documents == 5 and summary.mismatches == 2
    calhoun, kenneth = sorted(mismatches(store), key=lambda e: e["agency"])
    assert (calhoun["state"], calhoun["agency"], calhoun["model"]) == (
        "TX", "Calhoun County Sheriff's Office", "Warrant Service Officer")  # fmt: skip
    assert calhoun["details"]["disagreements"] == [
        {"field": "model", "list": "Warrant Service Officer", "document": "Jail Enforcement Model"}
    ]
    assert calhoun["details"]["url"] == CALHOUN_WSO and calhoun["details"]["reader_version"] == READER_VERSION
    assert kenneth["details"]["disagreements"] == [
        {"field": "model", "list": "Task Force Model", "document": "Warrant Service Officer"},
        {
            "field": "agency",
            "list": "Kenneth City Police Department",
            "document": "Manatee County Sheriffs Office",
        },
    ]
    routed = [row["subscriber"] for row in store.db.query("select subscriber from deliveries")]
    assert routed == [OPERATORS, OPERATORS]
    listed = store.db.execute("select model from records where agency = 'Kenneth City Police Department'")
    assert listed.fetchone()[0] == "Task Force Model"  # the list's value is kept
    # Re-reading (a reading deleted, as a new reader version would) reports nothing new.
    with store.transaction() as db:
        db.execute("delete from readings")
    assert read(store).mismatches == 0 and len(mismatches(store)) == 2


def test_the_comparison_on_real_readings() -> None:
    chattahoochee = read_moa(fixture(KEPT[CHATTAHOOCHEE]), ocr=False).as_dict()
    row = {"agency": "Chattahoochee Police Department", "model": "Task Force Model", "signed": "2025-02-28"}
    # its agency side typed 2028 for 2025; ICE signs last, so ICE's date is the document's
    assert [str(d) for d in document_signed(chattahoochee["signatures"])] == ["2025-02-28", "2028-02-28"]
    assert disagreements(chattahoochee, row, "moa_url", 7) == []
    assert disagreements(chattahoochee, {**row, "signed": "2025-02-21"}, "moa_url", 7) == []  # 7 days
    late = disagreements(chattahoochee, {**row, "signed": "2025-02-20"}, "moa_url", 7)
    assert late == [{"field": "signed", "list": "2025-02-20", "document": "2025-02-28"}]
    early = disagreements(chattahoochee, {**row, "signed": "2025-03-08"}, "moa_url", 7)
    assert early == [{"field": "signed", "list": "2025-03-08", "document": "2025-02-28"}]
    assert disagreements(chattahoochee, {**row, "signed": "2025-02-20"}, "addendum_url", 7) == []
    assert same_agency("Sheriff's Office of Calhoun County", "Calhoun County Sheriff's Office")
    assert same_agency("Calhoun County Sheriffs Office", "Calhoun County Sheriff’s Office")
    assert not same_agency("Calhoun County Sheriff's Office", "Jackson County Sheriff's Office")
    assert same_agency("Law Comaly Shuntts Ofn", "Lee County Sheriff's Office")  # OCR noise, not a name
    # Only ICE's date is compared both ways: an agency signs first, so its date contradicts only a later one.
    agency_only = {
        **chattahoochee,
        "signatures": [s for s in chattahoochee["signatures"] if s["party"] != "ICE"],
    }
    assert (
        disagreements({**agency_only, "signatures": []}, {**row, "signed": "2019-01-01"}, "moa_url", 7) == []
    )
    taylor = {
        **agency_only,
        "signatures": [{"document": "MOA", "party": "LEA", "name": None, "date": "2019-06-20"}],
    }
    assert disagreements(taylor, {**row, "signed": "2019-10-15"}, "moa_url", 7) == []
    assert disagreements(taylor, {**row, "signed": "2019-06-01"}, "moa_url", 7)[0]["field"] == "signed"
    unread = read_moa(fixture(KEPT[KENNETH_CITY]), ocr=False).as_dict()  # a field not stated never disagrees
    assert disagreements(unread, {**row, "agency": "Kenneth City Police Department"}, "moa_url", 7) == []


def test_read_body_never_raises_on_a_bad_file() -> None:
    make, reason = BAD_FILES["truncated"]
    row = read_body("0" * 64, make(), False)
    assert row["error"].startswith(reason) and row["fields"] is None and row["seconds"] >= 0


def test_a_reader_crash_fails_that_document_only_and_it_is_read_next_time(store: Store) -> None:
    from concurrent.futures import Future

    manatee = hashlib.sha256(fixture(KEPT[MANATEE_WSO])).hexdigest()

    def crashing(sha256: str, body: bytes, ocr: bool) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        if sha256 == manatee:  # as a worker process killed mid-reading reports it
            future.set_exception(RuntimeError("A process in the process pool was terminated abruptly"))
        else:
            future.set_result(read_body(sha256, body, ocr))
        return future

    summary = read(store, submit=crashing)
    assert (summary.documents, summary.failed, summary.text) == (5, 1, 2)
    assert readings.reading(store, manatee, READER_VERSION) is None
    again = read(store)
    assert (again.documents, again.failed, again.text) == (1, 0, 1)


def test_read_kept_command_without_prefect(store: Store, tmp_path: Path) -> None:
    config = tmp_path / "watch287g.yaml"
    config.write_text(
        f"database: watch287g.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {MOA}\n"
    )
    result = CliRunner().invoke(
        main, ["--config", str(config), "moa", "read-kept", "--no-prefect", "--no-ocr", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 documents: 2 by text layer, 0 by OCR, 0 without text, 0 unreadable")


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness  # costs ~2.6 s: import only here

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.mark.prefect
def test_the_flow_fans_out_and_commits(store: Store, tmp_path: Path, prefect_server: None) -> None:
    from flows.read_moas import read_moas_flow

    keep(store, CALHOUN_WSO, fixture(KEPT[CALHOUN_JEM]))
    config = tmp_path / "watch287g.yaml"
    config.write_text(
        f"database: watch287g.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {MOA}\n"
    )
    state = read_moas_flow(str(config), workers=2, ocr=False, return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert (summary["documents"], summary["text"], summary["none"], summary["mismatches"]) == (5, 3, 2, 1)
    assert read_moas_flow(str(config), workers=2, ocr=False)["documents"] == 0
