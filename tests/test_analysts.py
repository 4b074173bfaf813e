"""Analysts' views on a database built by the real pipeline: the bundled real ICE lists of July 2025 back-filled,
a real Maryland bill page (introduced, then enacted) checked on 127.0.0.1, and one event whose agency name is
hostile. History by old name and by bill, exports, Atom."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import REAL_LISTS
from watch287g import analysts, exports
from watch287g.backfill import ManifestRow, backfill
from watch287g.config import load_config
from watch287g.run import run_once

BILLS = Path(__file__).parent / "fixtures" / "legislation"
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '=cmd|"/c calc"!A1 <script>alert(1)</script> & Sons ]]>\x0b'
FORT_MYERS = "ice-287g:agreement:FL|fort myers police department|Task Force Model"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_database(path: Path) -> Path:
    """Every bundled real list, in time order; terminated after 2 lists and 1 day (so this one week of lists
    has a real termination); then HB 444's page twice with a subscriber whose endpoint refuses (a failed
    delivery); then a hostile agency name."""
    rows = []
    for file in sorted(REAL_LISTS.glob("*.xlsx")):
        day, name = file.name.split("_", 1)
        kind = "participating" if name.startswith("participating") else "pending"
        rows.append(ManifestRow(f"{day}T{'09' if 'am' in name else '21'}:00:00+00:00", kind, file))
    store = Store(path)
    backfill(store, rows, source="ice-287g", url="https://www.ice.gov/identify-and-arrest/287g",
             rules=Rules(absent_lists=2, absent_days=1))  # fmt: skip
    store.close()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        refused = sock.getsockname()[1]
    server = LoopbackHTTPServer().start()
    try:
        config = path.parent / "watch287g.yaml"
        config.write_text(
            f"database: {path}\nsources:\n  - name: md-hb444\n    kind: bill_page\n"
            f"    url: {server.url('/hb0444')}\n    timeout: 2\n    state: MD\n    session: 2026RS\n"
            f"    identifier: HB 444\nsubscribers:\n  - name: desk\n    notify: ['json://127.0.0.1:{refused}/']\n"
            "    events: ['bill.*']\n"
        )
        for page in ("v1_constructed", "v2_enacted_constructed"):
            server.route("/hb0444", (BILLS / f"mgaleg_MD_2026RS_HB0444_{page}.html").read_bytes())
            run_once(load_config(config))
    finally:
        server.stop()
    store = Store(path)
    store.add_events([{"type": "agreement.added", "source": "ice-287g", "detected_at": "2025-08-01T12:00:00+00:00",
                       "record_id": None, "state": "TX", "agency": HOSTILE, "model": "Task Force Model",
                       "details": {}}], None)  # fmt: skip
    store.close()
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = build_database(tmp_path_factory.mktemp("analysts") / "watch287g.db")
    opened = Store(path)
    yield opened
    opened.close()


def test_an_agency_is_found_by_its_old_name_with_its_rename_and_evidence(store):
    rows = analysts.history(store, "ft. myers police")  # the name ICE used until the 07-15 list
    assert {r["record_id"] for r in rows} == {FORT_MYERS}
    assert [(r["type"], r["version"], r["time"]) for r in rows] == [
        ("agreement.added", None, "2025-07-07T21:00:00+00:00"),
        ("version", 1, "2025-07-07T21:00:00+00:00"),
        ("agreement.renamed", None, "2025-07-15T09:00:00+00:00"),
        ("version", 2, "2025-07-15T09:00:00+00:00"),
    ]
    renamed, version = rows[2], rows[3]
    assert (renamed["before"], renamed["after"]) == (
        {"agency": "Ft. Myers Police Department"},
        {"agency": "Fort Myers Police Department"},
    )
    assert renamed["what"] == "Ft. Myers Police Department -> Fort Myers Police Department (Task Force Model)"
    assert (version["changed"], version["before"], version["after"], version["status"]) == (
        ["agency"], {"agency": "Ft. Myers Police Department"}, {"agency": "Fort Myers Police Department"}, "active"
    )  # fmt: skip
    july_15 = REAL_LISTS / "2025-07-15_participatingAgencies07152025am.xlsx"
    for row in (renamed, version):
        assert row["snapshot_sha256"] == sha256(july_15)
        assert row["url"] == f"https://www.ice.gov/identify-and-arrest/287g#{july_15.name}"
        assert row["fetched_at"] == "2025-07-15T09:00:00+00:00"
    assert rows[0]["snapshot_sha256"] == sha256(
        REAL_LISTS / "2025-07-07_participatingAgencies07072025pm.xlsx"
    )
    assert rows[0]["baseline"] is True and renamed["baseline"] is False
    assert analysts.history(store, FORT_MYERS) == rows  # by record id
    assert analysts.history(store, "Ft Myers PD") == rows  # by the canonical name
    text = analysts.format_history(rows)
    assert text.splitlines()[:2] == [
        "FL Fort Myers Police Department (Task Force Model)  [agreement]",
        f"  id: {FORT_MYERS}",
    ]
    assert "2025-07-15 09:00 UTC  agreement.renamed        Ft. Myers Police Department -> Fort Myers" in text
    assert "agency: Ft. Myers Police Department -> Fort Myers Police Department" in text
    assert f"evidence: snapshot 6, sha256 {sha256(july_15)[:16]}…, https://www.ice.gov/" in text


def test_a_typo_fix_is_found_by_the_typo_and_several_matches_are_grouped(store):
    [renamed] = [r for r in analysts.history(store, "Indiatlantic") if r["type"] == "agreement.renamed"]
    assert renamed["after"]["agency"] == "Indialantic Police Department"
    rows = analysts.history(store, "jackson county sheriff")
    groups = [r["record_id"] for r in rows]
    assert groups == sorted(groups, key=groups.index)  # each record's rows together
    assert [g.split(":", 2)[2] for g in dict.fromkeys(groups)] == [
        "FL|jackson county sheriffs office|Task Force Model",
        "KS|jackson county sheriffs office|Warrant Service Officer",
        "MI|jackson county sheriffs office|Warrant Service Officer",
        "MN|jackson county sheriffs office|Jail Enforcement Model",
        "MN|jackson county sheriffs office|Warrant Service Officer",
        "TX|jackson county sheriffs office|Jail Enforcement Model",
        "TX|jackson county sheriffs office|Warrant Service Officer",
    ]
    mn = [(r["type"], r["status"]) for r in rows if r["record_id"].endswith("MN|jackson county sheriffs office|Jail Enforcement Model")]  # fmt: skip
    assert mn == [("agreement.added", None), ("version", "active"), ("version", "missing"),
                  ("agreement.terminated", None), ("version", "terminated")]  # fmt: skip
    assert analysts.history(store, "no such agency anywhere") == []
    assert analysts.format_history([]) == ""


@pytest.mark.parametrize("term", ["MD|2026RS|HB444", "md|2026 Regular Session|HB0444", "HB 444", "H.B. 444"])
def test_a_bill_by_key_or_identifier(store, term):
    rows = analysts.history(store, term)
    assert {r["record_id"] for r in rows} == {"bill:MD|2026RS|HB444"}
    assert [(r["type"], r["status"]) for r in rows] == [
        ("bill.introduced", None), ("version", "introduced"), ("bill.enacted", None), ("version", "enacted")
    ]  # fmt: skip
    enacted = rows[3]
    assert (enacted["before"]["stage"], enacted["after"]["stage"]) == ("introduced", "enacted")
    assert (enacted["before"]["companions"], enacted["after"]["companions"]) == ([], ["SB 245"])
    assert "_text" not in rows[1]["after"] and rows[1]["after"]["identifier"] == "HB 444"
    assert rows[0]["snapshot_sha256"] == sha256(BILLS / "mgaleg_MD_2026RS_HB0444_v1_constructed.html")
    assert rows[2]["snapshot_sha256"] == sha256(BILLS / "mgaleg_MD_2026RS_HB0444_v2_enacted_constructed.html")
    assert (
        rows[0]["name"]
        == "MD HB 444 (2026RS): Public Safety - Immigration Enforcement Agreements - Prohibition"
    )


def parse_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == exports.EXPORT_COLUMNS
    return list(reader)


def test_csv_export_of_a_filter(store):
    rows = parse_csv(exports.export_events(store, "csv", type_glob="agreement.*", state="fl"))
    assert Counter(r["type"] for r in rows) == {"agreement.added": 6, "agreement.renamed": 5,
                                                "agreement.changed": 1, "agreement.moa_published": 1}  # fmt: skip
    assert {r["state"] for r in rows} == {"FL"} and {r["baseline"] for r in rows} == {"false"}
    fort_myers = next(r for r in rows if r["agency"] == "Fort Myers Police Department")
    assert (
        fort_myers["summary"]
        == "Ft. Myers Police Department -> Fort Myers Police Department (Task Force Model)"
    )
    assert (
        fort_myers["moa_url"]
        == "https://www.ice.gov/doclib/287gMOA/FortMyersPoliceDeptFL_TFM_MOA_05162025.pdf"
    )
    assert fort_myers["snapshot_sha256"] == sha256(
        REAL_LISTS / "2025-07-15_participatingAgencies07152025am.xlsx"
    )
    assert fort_myers["origin"] == "backfill" and fort_myers["bill"] == ""
    everything = parse_csv(exports.export_events(store, "csv"))
    assert len(everything) == 38 + 1 + 5 + 10 + 1 + 20 + 1 + 1 + 3  # non-baseline events only, by default
    # (the 3: the runs find Maryland's, New Mexico's and Virginia's bans in force with agreements listed)
    assert {r["state"] for r in everything if r["type"] == "policy.compliance"} == {"MD", "NM", "VA"}
    with_baseline = parse_csv(exports.export_events(store, "csv", include_baseline=True))
    assert len(with_baseline) == len(everything) + 775 + 51 + 1
    july_14 = parse_csv(exports.export_events(store, "csv", type_glob="agreement.added", since="2025-07-14"))
    assert len(july_14) == 7 + 1  # and the hostile one of August
    [hostile] = [r for r in july_14 if r["state"] == "TX" and r["detected_at"].startswith("2025-08-01")]
    assert hostile["agency"] == "'" + HOSTILE  # a formula is not a formula in a spreadsheet


def test_json_lines_export(store):
    lines = exports.export_events(store, "json", type_glob="bill.*").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [list(r) for r in rows] == [list(exports.EXPORT_COLUMNS)]
    assert (rows[0]["type"], rows[0]["bill"], rows[0]["state"], rows[0]["baseline"]) == (
        "bill.enacted", "MD|2026RS|HB444", "MD", False
    )  # fmt: skip
    hostile = json.loads(exports.export_events(store, "json", since="2025-08-01", state="TX"))
    assert hostile["agency"] == HOSTILE  # JSON is verbatim
    agreements = [
        json.loads(line) for line in exports.export_agreements(store, "2025-07-14", "json", "MN").splitlines()
    ]
    assert agreements == [{c: a[c] for c in exports.AGREEMENT_COLUMNS}
                          for a in queries.agreements_as_of(store, "2025-07-14", state="MN")]  # fmt: skip
    assert ("Jackson County Sheriff's Office", "Jail Enforcement Model", "missing") in {
        (a["agency"], a["model"], a["status"]) for a in agreements
    }


def test_atom_feed_is_valid_atom_with_stable_ids_and_escaped_data(store):
    feed = ET.fromstring(
        exports.atom_feed(store, type_glob="agreement.renamed", feed_url="https://x.test/f.xml")
    )
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "urn:watch287g:feed:agreement.renamed:ALL:all"
    assert feed.findtext(f"{ATOM}updated") == "2025-07-15T09:00:00+00:00"
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert feed.find(f"{ATOM}link").attrib == {"href": "https://x.test/f.xml", "rel": "self",
                                               "type": "application/atom+xml"}  # fmt: skip
    entries = feed.findall(f"{ATOM}entry")
    expected = queries.events(store, type_glob="agreement.renamed", include_baseline=False)
    assert len(entries) == 10 == len(expected)
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert ids == [f"urn:watch287g:event:{e['id']}" for e in reversed(expected)]  # newest first, stable
    for entry in entries:
        assert entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}updated")
        # backfilled: the list came from an archive file, not from the live page, so no link claims it did
        assert "alternate" not in [link.get("rel") for link in entry.findall(f"{ATOM}link")]
        assert "Source document: backfill file " in str(entry.findtext(f"{ATOM}content"))
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert "FL: agreement.renamed: Indiatlantic Police Department -> Indialantic Police Department (Task Force Model)" in titles  # fmt: skip
    assert (
        len(ET.fromstring(exports.atom_feed(store)).findall(f"{ATOM}entry")) == 77 + 3
    )  # baseline excluded; 3 policy.compliance
    assert len(ET.fromstring(exports.atom_feed(store, include_baseline=True)).findall(f"{ATOM}entry")) == 200
    raw = exports.atom_feed(store, state="TX", since="2025-08-01")
    assert b"<script>" not in raw and b"\x0b" not in raw
    [entry] = ET.fromstring(raw).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == (
        f"TX: agreement.added: {HOSTILE[:-1]} (Task Force Model), signed date not given"
    )
    assert [e.tag for e in entry.iter()] == [f"{ATOM}{t}" for t in ("entry", "id", "title", "updated", "category", "content")]  # fmt: skip
