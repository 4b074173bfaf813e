"""The `wa_legislature` source kind (monitors/legislation/washington.py): a GetLegislation response read into
a bill record, and a check of the kind end to end against a real HTTP server on 127.0.0.1 (run_once, the bill
rules, SQLite). The fixture is constructed from real values (tests/fixtures/legislation/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitors.base import ConfigError, ParseError, monitor_for
from monitors.legislation.washington import parse_wa_legislation
from state import history, queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from watch287g.config import Config, load_config
from watch287g.run import run_once

FIXTURE = (
    Path(__file__).parent
    / "fixtures"
    / "legislation"
    / "wslwebservices_WA_2025-26_HB2402_GetLegislation_constructed.xml"
)
SERVICE = "/LegislationService.asmx/GetLegislation"

# Keep Washington Working (2019-20 E2SSB 5497, Laws of 2019 ch. 440) in the fixture's shape, constructed: the
# original and the passed substitute (whose IntroducedDate was not found, so it has none). Values from
# washingtonvotes.org (introduced 2019-01-23, the title), the WA Attorney General's FAQ and
# tests/fixtures/legislation/state-policy-2026.md (ch. 440, signed 2019-05-21); "Governor signed." as Washington's histories word a
# signature; the status code in the pattern of the published "C 167 L 26".
KWW = b"""<ArrayOfLegislation xmlns="http://WSLWebServices.leg.wa.gov/">
<Legislation><Biennium>2019-20</Biennium><BillId>SB 5497</BillId><BillNumber>5497</BillNumber>
<Active>false</Active><IntroducedDate>2019-01-23T00:00:00</IntroducedDate></Legislation>
<Legislation><Biennium>2019-20</Biennium><BillId>E2SSB 5497</BillId><BillNumber>5497</BillNumber>
<Active>true</Active>
<CurrentStatus><BillId>E2SSB 5497</BillId><HistoryLine>Governor signed.</HistoryLine>
<ActionDate>2019-05-21T00:00:00</ActionDate><Status>C 440 L 19</Status></CurrentStatus>
<LongDescription>Establishing a statewide policy supporting Washington state's economy and immigrants' role in the workplace.</LongDescription>
</Legislation></ArrayOfLegislation>"""


def test_the_active_version_gives_the_bill_record() -> None:
    record = parse_wa_legislation(FIXTURE.read_bytes(), source_url="https://wslwebservices.leg.wa.gov/x")
    assert (record["key"], record["identifier"], record["state"]) == ("WA|2025-2026|HB2402", "HB 2402", "WA")
    assert (record["title"], record["status"]) == ("Phthalates/medical equipment", "H Rules R")
    assert (
        record["abstract"]
        == "AN ACT Relating to phthalates in medical equipment used for intravenous purposes;"
    )
    assert [(a["date"], a["description"], a["stage"]) for a in record["actions"]] == [
        ("2026-02-04", "Introduced", "introduced"), ("2026-02-04", "Referred to Rules 2 Review.", None)
    ]  # fmt: skip
    assert (record["stage"], record["stage_date"]) == ("introduced", "2026-02-04")
    assert record["sources"] == [
        "https://wslwebservices.leg.wa.gov/x", "https://app.leg.wa.gov/billsummary?BillNumber=2402&Year=2025"
    ]  # fmt: skip
    assert (record["source_kind"], record["source_id"]) == ("wa_legislature", "2025-26/2402")


def test_a_substitute_is_the_bill_and_its_signature_enacts_it() -> None:
    record = parse_wa_legislation(KWW)
    assert (record["key"], record["identifier"]) == ("WA|2019-2020|SB5497", "SB 5497")  # "E2SSB" is a version
    assert [(a["date"], a["stage"]) for a in record["actions"]] == [
        ("2019-01-23", "introduced"),
        ("2019-05-21", "enacted"),
    ]
    assert (record["stage"], record["stage_date"], record["status"]) == (
        "enacted",
        "2019-05-21",
        "C 440 L 19",
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html><body>Service Unavailable</body></html>", "not a GetLegislation response"),
        (b'<ArrayOfLegislation xmlns="http://WSLWebServices.leg.wa.gov/" />', "no bill"),
        (b"<ArrayOfLegislation", "not XML"),
        (
            b'<ArrayOfLegislation xmlns="http://WSLWebServices.leg.wa.gov/"><Legislation><BillId>SHB 2402</BillId>'
            b"</Legislation></ArrayOfLegislation>",
            "GetLegislation 'SHB 2402' of '': empty session",
        ),
        (
            b'<!DOCTYPE x [<!ENTITY a "aa">]><ArrayOfLegislation xmlns="http://WSLWebServices.leg.wa.gov/"/>',
            "DOCTYPE",
        ),
    ],
)
def test_what_is_not_a_bill_is_refused(body: bytes, says: str) -> None:
    with pytest.raises(ParseError, match=says):
        parse_wa_legislation(body)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"biennium": "2025"}, "biennium"),
        ({"bills": ["HB 2402"]}, "bill numbers"),
        ({"bills": []}, "bill numbers"),
    ],
)
def test_the_config_names_the_biennium_and_bill_numbers(extra: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        monitor_for({"name": "wa", "kind": "wa_legislature", "biennium": "2025-26", "bills": [2402], **extra})


def wa_config(server: LoopbackHTTPServer, tmp_path: Path) -> Config:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        "database: w.db\nsources:\n"
        f"  - name: wa\n    kind: wa_legislature\n    biennium: 2025-26\n    bills: [2402]\n"
        f"    base_url: {server.url('')}\n    timeout: 2\n"
    )
    return load_config(path)


def test_a_check_stores_the_bill_and_the_classifier_decides_its_events(http_server, tmp_path) -> None:
    http_server.route(SERVICE, FIXTURE.read_bytes(), content_type="text/xml; charset=utf-8")
    cfg = wa_config(http_server, tmp_path)
    report = run_once(cfg)
    assert not report.failures
    assert [(d.channel, d.outcome, d.events) for d in report.checks[0].documents] == [
        ("bill:2402", "processed", 0)
    ]
    [request] = http_server.requests_for(SERVICE)
    assert request.path == f"{SERVICE}?biennium=2025-26&billNumber=2402"
    store = Store(cfg.database)
    try:
        [bill] = history.bills(store)
        assert (bill["key"], bill["status"]) == ("WA|2025-2026|HB2402", "introduced")
        assert bill["record"]["classification"]["label"] == "not_287g"  # phthalates: stored, no event
        assert queries.events(store) == []
    finally:
        store.close()
    again = run_once(cfg)  # the same bytes again: unchanged, still no event
    assert [(d.outcome, d.events) for d in again.checks[0].documents] == [("unchanged", 0)]
    store = Store(cfg.database)
    try:
        assert queries.events(store) == []
    finally:
        store.close()
