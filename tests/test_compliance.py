"""Compliance with state bans and mandates, on the real 2025 ICE lists and the reviewed seed: the policy view
as of a date (effective dates, a rescinded order), what became of the agreements a ban concerns, the policy
attached to a termination, and `policy.compliance` told once per phase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitors.ice.lists import parse_list
from notifiers.outbox import deliveries_for
from notifiers.subscribers import OPERATOR_EVENTS, OPERATORS, Operators, Routing, Subscriber, Target
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.xlsx_edit import drop_rows
from watch287g.backfill import backfill, read_manifest
from watch287g.cli import main
from watch287g.compliance_settling import settle_compliance
from watch287g.report import build_report
from watch287g.states import state_table

ICE = Path(__file__).parent / "fixtures" / "ice"
MAY = ["2025-05-29_participatingAgencies05292025am.xlsx", "2025-05-29_pendingAgencies05292025am.xlsx"]
JULY = "2025-07-15_participatingAgencies07152025am.xlsx"
URL = "https://www.ice.gov/identify-and-arrest/287g"


def feed(folder: Path, store: Store, lines: list[tuple[str, str, Path]]) -> list[str]:
    manifest = folder / f"manifest-{len(list(folder.glob('manifest-*')))}.csv"
    manifest.write_text(
        "fetched_at,list,path\n" + "".join(f"{at},{kind},{path}\n" for at, kind, path in lines)
    )
    results = backfill(store, read_manifest(manifest), source="ice-287g", url=URL, rules=Rules())
    return [r.outcome for r in results]


@pytest.fixture
def may_2025(tmp_path: Path) -> Any:
    """The real lists of 2025-05-29 (635 agreements: 7 in Maryland, 3 Virginia state agencies)."""
    store = Store(tmp_path / "w.db")
    (tmp_path / "watch287g.yaml").write_text(
        "database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n"
    )
    assert feed(tmp_path, store, [("2025-05-29T15:17:33+00:00", "participating", ICE / MAY[0]),
                                  ("2025-05-29T15:17:34+00:00", "pending", ICE / MAY[1])]) == ["processed"] * 2  # fmt: skip
    yield store
    store.close()


def rows_by_state(store: Store, as_of: str) -> dict[str, dict[str, Any]]:
    return {row["state"]: row for row in state_table(store, as_of)}


def test_the_policy_view_of_may_2025_shows_no_2026_instrument(may_2025, tmp_path):
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "watch287g.yaml"), "states", "--as-of",
                                       "2025-05-29", "--json"], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {row["state"]: row for row in map(json.loads, result.output.splitlines())}
    shown = {e["name"] for row in rows.values() for e in row["evidence"]}
    assert not [name for name in shown if "2026" in name or "Spanberger" in name or "HB 9" in name]
    # Maryland's 2026 ban, Tennessee's 2026 mandate and Texas's SB 8 (in force 2026-01-01) are not yet law.
    for state in ("MD", "TN", "NM", "TX"):
        assert (rows[state]["state_agencies"], rows[state]["local_agencies"], rows[state]["note"]) == (
            "none",
            "none",
            "",
        )
    assert rows["MD"]["active_agreements"] == 7
    # Virginia: Youngkin's EO 47 (state agencies into 287(g)) was in force; locals had no state policy.
    virginia = rows["VA"]
    assert (virginia["state_agencies"], virginia["local_agencies"]) == ("mandate", "none")
    assert [e["name"] for e in virginia["evidence"]] == ["Executive Order 47 (Gov. Youngkin)"]
    [eo47] = virginia["compliance"]
    assert (eo47["effective"], eo47["listed"], eo47["scopes"]) == ("2025-02-27", 3, ["state_agencies"])
    assert (
        virginia["note"]
        == "mandate for state agencies in force since 2025-02-27; 3 agreements listed, 0 added since"
    )
    assert (
        rows["CA"]["note"] == "ban in force since 2018-01-01; 0 agreements still listed, 0 terminated since"
    )
    # The report's map of that date says the same.
    page = build_report(may_2025, "2025-05-29")
    for state in ("MD", "TN", "NM", "TX", "VA"):
        assert f'class="tile policy-none" data-state="{state}"' in page
    assert "despite a ban" not in page and "ban in force since 2026" not in page


def test_the_policy_view_follows_effective_and_end_dates(may_2025):
    # 2026-01-20: EO 47 rescinded (2026-01-17), Executive Directive 1 not yet signed (2026-02-04).
    assert rows_by_state(may_2025, "2026-01-20")["VA"]["state_agencies"] == "none"
    later = rows_by_state(may_2025, "2026-06-01")
    assert (later["VA"]["state_agencies"], later["VA"]["local_agencies"]) == ("ban", "restrict")
    assert (later["TN"]["local_agencies"], later["TX"]["local_agencies"]) == ("mandate", "mandate")
    assert (
        later["MD"]["note"] == "ban in force since 2026-02-17; 7 agreements still listed, 0 terminated since"
    )
    assert later["MD"]["note"] in build_report(may_2025, "2026-06-01")  # the map's tooltip and table too
    assert later["MD"]["ban_with_agreements"] and later["NM"]["ban_with_agreements"]
    assert (
        later["NM"]["note"] == "ban in force since 2026-05-20; 1 agreement still listed, 0 terminated since"
    )
    before = rows_by_state(may_2025, "2026-05-19")[
        "NM"
    ]  # signed 2026-02-05, in force 90 days after the session
    assert (before["local_agencies"], before["note"]) == ("none", "")
    # A ban whose effective date the sources do not give says so, and counts from its enactment.
    assert (
        later["NJ"]["note"]
        == "ban enacted 2018-11-29 (effective date unknown); 0 agreements still listed, 0 terminated since"
    )
    # Virginia's directive binds state agencies only: the 3 State Agency rows, not the 12 counties.
    assert later["VA"]["note"].startswith(
        "ban for state agencies in force since 2026-02-04; 3 agreements still listed"
    )


def maryland_rows(path: Path) -> list[int]:
    return [r["row"] for r in parse_list(path.read_bytes()).records if r["state"] == "MD"]


def test_instruments_whose_effective_dates_were_found_count_from_them(may_2025):
    # Delaware's HB 182 took effect on signature (2025-07-14), Oregon's HB 3265 on passage (2021-07-19),
    # Florida's SB 1808 on 2022-06-17: the seed cites the sources; no "effective date unknown" once known.
    rows = rows_by_state(may_2025, "2025-08-01")
    assert (
        rows["DE"]["note"] == "ban in force since 2025-07-14; 0 agreements still listed, 0 terminated since"
    )
    assert rows["OR"]["note"].startswith("ban in force since 2021-07-19; ")
    assert rows["FL"]["note"].startswith("mandate for local agencies in force since 2022-06-17; ")
    assert {e["effective"] for e in rows["DE"]["evidence"]} == {"2025-07-14"}
    assert "DE" not in rows_by_state(may_2025, "2025-07-13")  # not yet in force


def test_a_ban_with_agreements_still_listed_then_none_is_told_once_each(may_2025, tmp_path):
    without_md = tmp_path / "without_md.xlsx"
    without_md.write_bytes(drop_rows((ICE / JULY).read_bytes(), maryland_rows(ICE / JULY)))
    # The July list, then (re-published) after Maryland's ban took effect on 2026-02-17: still 8 agreements.
    assert feed(tmp_path, may_2025, [("2025-07-15T12:00:00+00:00", "participating", ICE / JULY),
                                     ("2026-03-01T12:00:00+00:00", "participating", ICE / JULY)]) == ["processed", "unchanged"]  # fmt: skip
    [told] = queries.events(may_2025, type_glob="policy.compliance", state="MD")
    assert (told["detected_at"], told["origin"], told["details"]["phase"]) == (
        "2026-03-01T12:00:00+00:00",
        "backfill",
        "still_listed",
    )
    assert told["details"]["listed"] == 8 and told["details"]["effective"] == "2026-02-17"
    assert told["details"]["instrument"].startswith("HB 444 / SB 245")
    # Maryland's rows leave the list (3 lists over 11 days, each with other bytes: one unrelated row less each
    # time); at the third they are terminations, each naming the ban.
    second = tmp_path / "without_md_2.xlsx"
    second.write_bytes(drop_rows(without_md.read_bytes(), [2]))
    third = tmp_path / "without_md_3.xlsx"
    third.write_bytes(drop_rows(second.read_bytes(), [3]))
    assert feed(tmp_path, may_2025, [("2026-03-02T12:00:00+00:00", "participating", without_md),
                                     ("2026-03-06T12:00:00+00:00", "participating", second)]) == ["processed"] * 2  # fmt: skip
    assert not queries.events(may_2025, type_glob="agreement.terminated", state="MD")  # not yet: 2 lists
    assert (
        len(queries.events(may_2025, type_glob="policy.compliance", state="MD")) == 1
    )  # missing is not gone
    assert feed(tmp_path, may_2025, [("2026-03-13T12:00:00+00:00", "participating", third)]) == ["processed"]
    ended = queries.events(may_2025, type_glob="agreement.terminated", state="MD")
    assert len(ended) == 8
    assert {e["details"]["policy"]["instrument"] for e in ended} == {told["details"]["instrument"]}
    assert {e["details"]["policy"]["effective"] for e in ended} == {"2026-02-17"}
    others = queries.events(may_2025, type_glob="agreement.terminated")
    assert all("policy" not in e["details"] for e in others if e["state"] not in ("MD", "VA", "NM"))
    told_md = queries.events(may_2025, type_glob="policy.compliance", state="MD")
    assert [e["details"]["phase"] for e in told_md] == ["still_listed", "all_ended"]
    assert (
        told_md[1]["details"]["summary"]
        == "ban in force since 2026-02-17; 0 agreements still listed, 8 terminated since"
    )
    assert rows_by_state(may_2025, "2026-03-13")["MD"]["note"] == told_md[1]["details"]["summary"]
    # Later runs, live or not, tell nothing again, but New Mexico's ban, in force since 2026-05-20.
    later = settle_compliance(may_2025, "2026-12-01T00:00:00+00:00", None)
    assert {
        e["state"] for e in queries.events(may_2025, type_glob="policy.compliance") if e["id"] in later
    } == {"NM"}
    assert settle_compliance(may_2025, "2026-12-02T00:00:00+00:00", None) == []
    assert len(queries.events(may_2025, type_glob="policy.compliance", state="MD")) == 2


def test_compliance_reaches_operators_and_subscribers_who_ask_for_it(may_2025):
    target = (Target("json://127.0.0.1:9/", "json://127.0.0.1"),)
    subscribers = (Subscriber("default", target),  # the default globs: not this event
                   Subscriber("policy-desk", target, ("policy.*",), frozenset({"MD"})),
                   Subscriber("bills-only", target, ("bill.*",)))  # fmt: skip
    routing = Routing(subscribers, Operators(Subscriber(OPERATORS, target, OPERATOR_EVENTS)))
    ids = settle_compliance(may_2025, "2026-06-01T00:00:00+00:00", deliveries_for(routing))
    states = {e["state"] for e in queries.events(may_2025, type_glob="policy.compliance")}
    assert len(ids) == 3 and states == {"MD", "NM", "VA"}  # the bans in force with agreements still listed
    rows = list(
        may_2025.db.query("select d.subscriber, e.state from deliveries d join events e on e.id = d.event_id")
    )
    assert sorted((r["subscriber"], r["state"]) for r in rows) == [
        ("operators", "MD"),
        ("operators", "NM"),
        ("operators", "VA"),
        ("policy-desk", "MD"),
    ]


def test_a_bill_seen_enacted_that_the_seed_holds_is_one_instrument_with_the_seed_dates():
    from rules.policy import combined, from_bills, load_seed, policies

    ban = {"label": "ban", "scope": {"state_agencies": True, "local_agencies": True}, "phrase": "may not enter into",
           "about": "immigration enforcement agreement"}  # fmt: skip
    hb444 = {"key": "MD|2026RS|HB444", "state": "MD", "identifier": "HB 444", "session": "2026RS",
             "stage": "enacted", "stage_date": "2026-02-17", "companions": ["SB 245"], "classification": ban}  # fmt: skip
    other = {
        **hb444,
        "key": "MD|2026RS|HB44",
        "identifier": "HB 44",
        "companions": [],
    }  # not the seed's HB 444
    names = [i.name for i in combined(load_seed(), from_bills([hb444, other])) if i.state == "MD"]
    assert names == ["HB 444 / SB 245 (2026RS) Public Safety - Immigration Enforcement Agreements - Prohibition",
                     "HB 44 (2026RS)"]  # fmt: skip
    view = policies(combined(load_seed(), from_bills([hb444])), "2026-03-01")["MD"]
    assert {i.effective for i in view.decided_by.values()} == {"2026-02-17"}


def test_a_bill_seen_enacted_takes_the_effective_date_it_states():
    from rules.policy import effective_from, from_bills, policies

    mandate = {"label": "mandate", "scope": {"state_agencies": False, "local_agencies": True},
               "phrase": "shall request, and as offered, enter into", "about": "287(g)"}  # fmt: skip
    # LegiScan's status line for Texas SB 8 (legiscan.com/TX/text/SB8): signed 2025-06-20, in force 2026-01-01.
    texas = {"key": "TX|89R|SB8", "state": "TX", "identifier": "SB 8", "session": "89R", "stage": "enacted",
             "stage_date": "2025-06-20", "classification": mandate,
             "actions": [{"date": "2025-06-20", "description": "Effective on 1/1/26"}]}  # fmt: skip
    assert effective_from(texas) == "2026-01-01"
    assert "TX" not in policies(from_bills([texas]), "2025-12-31")
    assert policies(from_bills([texas]), "2026-01-01")["TX"].local_agencies == "mandate"
    # Words from a tracker's summary of Wyoming HB 276 (fastdemocracy): in force on enactment.
    wyoming = {**texas, "actions": [], "stage_date": "2025-03-01",
               "abstract": "The act is set to take effect immediately upon the completion of all necessary legislative processes."}  # fmt: skip
    assert effective_from(wyoming) == "2025-03-01"
    # Two dates for parts of one act (constructed wording): unknown, not a guess.
    both = {**texas, "actions": [], "text": "This Act takes effect January 1, 2026, except Section 3, which "
            "takes effect December 1, 2026."}  # fmt: skip
    assert effective_from(both) == ""
    assert effective_from({**texas, "actions": []}) == ""


def test_a_ban_bill_enacted_with_agreements_listed_gives_one_of_each_event(
    http_server, tmp_path, monkeypatch
):
    """Replay on 127.0.0.1: the real 2025-05-29 list (7 Maryland agreements), then Maryland's HB 444 page
    introduced and enacted, with a seed that does not know the ban: the enactment is one bill.enacted, one
    policy.ban_enacted and one policy.compliance; a later run adds nothing."""
    import rules.policy
    from watch287g.config import load_config
    from watch287g.run import run_once

    empty = tmp_path / "seed.csv"
    empty.write_text(rules.policy.SEED.read_text().splitlines()[0] + "\n")
    monkeypatch.setattr(rules.policy, "SEED", empty)
    store = Store(tmp_path / "w.db")
    feed(tmp_path, store, [("2025-05-29T15:17:33+00:00", "participating", ICE / MAY[0])])
    store.close()
    pages = Path(__file__).parent / "fixtures" / "legislation"
    (tmp_path / "watch287g.yaml").write_text(
        f"database: w.db\nsources:\n  - name: md-hb444\n    kind: bill_page\n    url: {http_server.url('/hb0444')}\n"
        "    timeout: 2\n    state: MD\n    session: 2026RS\n    identifier: HB 444\n"
    )
    cfg = load_config(tmp_path / "watch287g.yaml")
    kinds = []
    for page in ("v1_constructed", "v2_enacted_constructed", "v2_enacted_constructed"):
        http_server.route("/hb0444", (pages / f"mgaleg_MD_2026RS_HB0444_{page}.html").read_bytes())
        assert not run_once(cfg).failures
        store = Store(cfg.database)
        kinds.append([e["type"] for e in queries.events(store, include_baseline=False) if e["state"] == "MD"])
        store.close()
    assert kinds == [[], ["bill.enacted", "policy.ban_enacted", "policy.compliance"]] + [kinds[1]]
    store = Store(cfg.database)
    [told] = queries.events(store, type_glob="policy.compliance")
    row = rows_by_state(store, told["detected_at"])["MD"]
    store.close()
    assert (told["details"]["instrument"], told["details"]["listed"]) == ("HB 444 (2026RS)", 7)
    assert row["note"] == told["details"]["summary"] and row["note"].endswith(
        "; 7 agreements still listed, 0 terminated since"
    )


def test_a_ban_already_in_force_when_watching_began_is_stored_not_alerted(tmp_path):
    store = Store(tmp_path / "w.db")
    try:  # the first list ever seen (a live check) comes after Maryland's ban took effect (2026-02-17)
        from monitors.base import Snapshot
        from watch287g.pipeline import process_list

        snapshot = Snapshot(
            "ice-287g", "participating", URL, "2026-03-01T12:00:00+00:00", (ICE / MAY[0]).read_bytes()
        )
        assert process_list(store, snapshot, origin="live", rules=Rules()).outcome == "processed"
        target = (Target("json://127.0.0.1:9/", "json://127.0.0.1"),)
        routing = Routing((Subscriber("desk", target, ("policy.*",)),), Operators(Subscriber(OPERATORS, target, OPERATOR_EVENTS)))  # fmt: skip
        settle_compliance(store, "2026-03-02T00:00:00+00:00", deliveries_for(routing))
        told = {e["state"]: e for e in queries.events(store, type_glob="policy.compliance")}
        assert set(told) == {"MD", "VA"} and all(e["baseline"] for e in told.values())  # NM: from 2026-05-20
        assert all(e["origin"] == "live" for e in told.values())
        assert list(store.db.query("select * from deliveries")) == []  # operators included: not news
        assert (
            settle_compliance(store, "2026-03-03T00:00:00+00:00", deliveries_for(routing)) == []
        )  # told once
        # New Mexico's ban takes effect (2026-05-20) after watching began: that one is news.
        later = settle_compliance(store, "2026-05-21T00:00:00+00:00", deliveries_for(routing))
        [new_mexico] = [e for e in queries.events(store, type_glob="policy.compliance") if e["id"] in later]
        assert new_mexico["state"] == "NM" and not new_mexico["baseline"]
    finally:
        store.close()
