"""Issue 9, item 12: what a spreadsheet cell holds cannot deceive a reader or drive a terminal, and cannot
become a dangerous link or a huge layout. Real ICE spreadsheets (edited), a real SQLite file, the real CLI."""

from __future__ import annotations

import json
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitors.ice.lists import parse_list
from notifiers.render import render_alert
from state.store import Store
from tests.support.ice_site import real_list
from tests.support.xlsx_edit import replace_text
from watch287g.cli import main
from watch287g.exports import atom_feed
from watch287g.report import build_report

P07 = "participatingAgencies07072025pm"
ATOM = "{http://www.w3.org/2005/Atom}"
# Right-to-left override: shows "Invoice<RLO>fdp.exe" as "Invoiceexe.pdf"; ESC [31m turns a terminal red.
DECEIVING = "Elmore County\u202e Sheriff\u200b's Office\x1b[31m\u2066"
INVISIBLE = ("\u202e", "\u200b", "\u2066", "\x1b", "\x9b", "\r")


def _event(agency: str, **extra: object) -> dict[str, object]:
    return {"type": "agreement.added", "source": "ice-287g", "detected_at": "2025-07-16T10:00:00+00:00",
            "state": "TX", "agency": agency, "model": "Task Force Model",
            "after": {"agency": agency, "state": "TX", "model": "Task Force Model"}, **extra}  # fmt: skip


def _store(tmp_path: Path, *events: dict[str, object]) -> Path:
    """A database holding events written as they are (as an older version of the parser stored them)."""
    path = tmp_path / "w.db"
    store = Store(path)
    ids = store.add_events(list(events), None)
    with (
        store.transaction() as db
    ):  # add_events (for operator events) stores no record: set it as a rule would
        for event_id, event in zip(ids, events, strict=True):
            db.execute("update events set after = ? where id = ?", [json.dumps(event["after"]), event_id])
    store.close()
    (tmp_path / "watch287g.yaml").write_text("database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n")
    return path


def test_the_character_classes_are_every_control_and_format_character():
    from monitors.ice.names import _CONTROL, _FORMAT

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cc":
            assert _CONTROL.match(char), hex(code)
        if category == "Cf":
            assert _FORMAT.match(char), hex(code)
        if _FORMAT.match(
            char
        ):  # nothing else (code points unassigned in this Python's Unicode may be listed)
            assert category in ("Cf", "Cn"), hex(code)


def test_parsing_removes_bidi_zero_width_and_control_characters():
    data = replace_text(real_list(P07), "Elmore County Sheriff's Office",
                        "Elmore County\u202e Sheriff\u200b's Office_x001B_[31m\u2066", count=1)  # fmt: skip
    (record,) = [r for r in parse_list(data).records if r["agency"].startswith("Elmore County")]
    assert record["agency"] == "Elmore County Sheriff's Office [31m"
    assert record["key"] == parse_list(real_list(P07)).records[5]["key"].replace("office", "office 31m")


def test_a_huge_agency_name_is_cut_at_parse_time_with_a_warning():
    data = replace_text(real_list(P07), "Elmore County Sheriff's Office", "Elmore " + "x" * 100_000, count=1)
    parsed = parse_list(data)
    (record,) = [r for r in parsed.records if r["agency"].startswith("Elmore ")]
    assert len(record["agency"]) == 300 and len(record["key"]) < 400
    assert [w for w in parsed.warnings if "agency longer than 300 characters, cut" in w]
    assert len(parsed.records) == len(parse_list(real_list(P07)).records)  # nothing else lost


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
     "vbscript:msgbox(1)", "https://user:pass@evil.example/x.pdf", " javascript:alert(1)"],
)  # fmt: skip
def test_the_feed_links_only_http_urls_without_credentials(tmp_path, url):
    path = _store(tmp_path, _event("Elmore County Sheriff's Office", url=url,
                                   after={"agency": "E", "moa_url": url}))  # fmt: skip
    store = Store(path)
    try:
        feed = ET.fromstring(atom_feed(store))
    finally:
        store.close()
    hrefs = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert hrefs == [], hrefs  # neither the source nor the MOA link is made


def test_the_feed_still_links_a_web_url(tmp_path):
    url = "https://www.ice.gov/doclib/x.xlsx"
    path = _store(
        tmp_path, _event("E", url=url, after={"agency": "E", "moa_url": "https://example.org/m.pdf"})
    )
    store = Store(path)
    try:
        hrefs = [link.get("href") for link in ET.fromstring(atom_feed(store)).iter(f"{ATOM}link")]
    finally:
        store.close()
    assert hrefs == [url, "https://example.org/m.pdf"]


@pytest.mark.parametrize("command", [["events"], ["events", "--json"], ["export"], ["feed"]])
def test_the_terminal_never_gets_control_or_format_characters(tmp_path, command):
    _store(tmp_path, _event(DECEIVING + "\x9b2J\r"))
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "watch287g.yaml"), *command])
    output = result.stdout + result.stderr
    assert "Elmore County" in output, output
    assert not [c for c in INVISIBLE if c in output], [hex(ord(c)) for c in INVISIBLE if c in output]


def test_the_report_and_messages_neither_show_bidi_nor_grow_with_a_huge_name(tmp_path):
    huge = "Elmore " + "\u202e" + "x" * 100_000
    path = _store(tmp_path, _event(huge), _event(DECEIVING, detected_at="2025-07-16T11:00:00+00:00"))
    store = Store(path)
    try:
        page = build_report(store, "2025-07-17")
        events = [dict(e) for e in store.db.query("select * from events")]
    finally:
        store.close()
    assert "x" * 300 not in page and "\u202e" not in page and "\x1b" not in page
    empty = tmp_path / "empty"
    empty.mkdir()
    assert len(page.encode()) < len(build_report(Store(_store(empty)), "2025-07-17").encode()) + 5_000
    from state.queries import events as stored_events

    store = Store(path)
    try:
        message = render_alert(stored_events(store), "desk")
    finally:
        store.close()
    for body in (message.html, message.text, message.markdown):
        assert len(body.encode()) < 5_000 and "x" * 300 not in body
        assert not [c for c in INVISIBLE if c in body]
    assert events


def test_a_bill_title_from_an_api_is_stripped_and_cut():
    from monitors.legislation.parsers import parse_legiscan_bill

    fixture = Path(__file__).parent / "fixtures" / "legislation" / "legiscan_bill_AK_HB3_2011_dataset.json"
    payload = json.loads(fixture.read_text())["payload"]
    payload["bill"]["title"] = "Invoice\u202efdp.exe \x1b[2J" + "x" * 100_000
    payload["bill"]["description"] = "\u200b" + "y" * 100_000
    record = parse_legiscan_bill(payload)
    assert record["title"].startswith("Invoicefdp.exe [2J") and len(record["title"]) == 1000
    assert record["abstract"].startswith("yyy") and len(record["abstract"]) == 5000
