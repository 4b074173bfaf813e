"""A ban bill's whole life, replayed on 127.0.0.1: Open States (then LegiScan) and ICE's page with the real
2025-05-29 lists, one `run_once` per step at a chosen clock, with a seed that does not know the ban (so the
bill is news). Each step asserts the exact new events and the `states` view; every search also returns real
immigration bills that are not about 287(g), which must never raise an event.

_fixture note: the step payloads are edits of the samples in tests/fixtures/legislation/: the Maryland HB 444
records (Open States v3 and LegiScan getBill, built from the APIs' schemas; see their `_fixture` notes) cut to
the actions of each step, with two edits for the replay: a "Presented to the Governor" action (2026-02-14)
and an effective date of June 1, 2026 stated at signing (the real act took effect on signing), so that the
effective date falls after the enactment. The noise is verbatim: the New York Open States search sample and
the Alaska LegiScan bills (HB 1, HB 3 of 2011). ICE's lists are the real 2025-05-29 files; later lists are
the same file without Maryland's rows (and one unrelated row less each time, so that each is a new list).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

import rules.policy
from monitors.ice.lists import parse_list
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import publish
from tests.support.xlsx_edit import drop_rows
from watch287g.cli import main
from watch287g.config import Config, load_config
from watch287g.run import run_once
from watch287g.states import state_table

FIXTURES = Path(__file__).parent / "fixtures"
LEGISLATION = FIXTURES / "legislation"
PARTICIPATING, PENDING = "participatingAgencies05292025am", "pendingAgencies05292025am"
KEY = "test-key-7d41e0"
NOTE = "ban in force since 2026-06-01; {listed} agreements still listed{missing}, {ended} terminated since"

# (clock of the run, how many of HB 444's actions the API shows then)
BILL_STEPS = [
    ("2026-01-23T12:00:00+00:00", 1, "bill.introduced", "introduced"),
    ("2026-02-04T12:00:00+00:00", 2, "bill.advanced", "passed_chamber"),
    ("2026-02-13T12:00:00+00:00", 3, "bill.advanced", "passed_legislature"),
    ("2026-02-15T12:00:00+00:00", 4, "bill.advanced", "sent_to_governor"),
]
SIGNED_AT = "2026-02-18T12:00:00+00:00"


def sample(name: str) -> Any:
    return json.loads((LEGISLATION / name).read_text())["payload"]


def maryland_rows(body: bytes) -> list[int]:
    return [r["row"] for r in parse_list(body).records if r["state"] == "MD"]


@pytest.fixture
def stand(http_server: LoopbackHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """ICE's page with the real May lists (`ice` republishes the participating one), a seed that knows no
    policy, and the API keys."""
    seed = tmp_path / "seed.csv"
    seed.write_text(rules.policy.SEED.read_text().splitlines()[0] + "\n")  # header only: no known policy
    monkeypatch.setattr(rules.policy, "SEED", seed)
    monkeypatch.setenv("OPENSTATES_API_KEY", KEY)
    monkeypatch.setenv("LEGISCAN_API_KEY", KEY)
    may = (FIXTURES / "ice" / f"2025-05-29_{PARTICIPATING}.xlsx").read_bytes()
    pending = (FIXTURES / "ice" / f"2025-05-29_{PENDING}.xlsx").read_bytes()

    def ice(participating: bytes) -> None:
        publish(http_server, PARTICIPATING, PENDING, bodies={PARTICIPATING: participating, PENDING: pending})

    ice(may)
    yield http_server, ice, may


def replay_config(tmp_path: Path, server: LoopbackHTTPServer, legislation: str) -> Config:
    (tmp_path / "watch287g.yaml").write_text(
        f"database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n"
        f"    url: {server.url('/identify-and-arrest/287g')}\n    timeout: 2\n{legislation}"
    )
    return load_config(tmp_path / "watch287g.yaml")


class Replay:
    """One run per step at the step's clock; `step` returns the events that run added (baseline included)."""

    def __init__(self, cfg: Config):
        self.cfg, self.seen = cfg, set[str]()

    def step(self, at: str) -> list[dict[str, Any]]:
        assert not run_once(self.cfg, now=lambda: at).failures
        store = Store(self.cfg.database)
        try:
            found = queries.events(store, include_baseline=True)
        finally:
            store.close()
        new = [e for e in found if e["id"] not in self.seen]  # in order of detection
        self.seen |= {e["id"] for e in new}
        # ICE's real lists are of 2025 and the clock is in 2026: the operators' source.stale is right, not ours
        return [e for e in new if e["type"] != "source.stale"]

    def view(self, at: str) -> dict[str, Any]:
        """Maryland's row of the `states` view on day `at` (also checked as `watch287g states` prints it)."""
        store = Store(self.cfg.database)
        try:
            row = {row["state"]: row for row in state_table(store, at)}.get("MD", {})
        finally:
            store.close()
        shown = CliRunner().invoke(main, ["--config", str(self.cfg.path), "states", "--as-of", at[:10]])
        assert shown.exit_code == 0, shown.output
        [line] = [line for line in shown.output.splitlines() if "Maryland" in line]
        assert row.get("note", "") in line and (
            row.get("note") or "ban" not in line
        )  # no ban before its time
        return row


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [
        (e["type"], (e["details"] or {}).get("stage") or (e["details"] or {}).get("phase")) for e in events
    ]


def live_through_enactment(
    replay: Replay, serve: Callable[[int], None], first_at: str = "2026-01-20T12:00:00+00:00"
) -> None:
    """Before the bill exists, then each stage, then the signature: the exact new events of each run."""
    serve(0)  # noise only: the search's first run, and ICE's first lists (baseline)
    first = replay.step(first_at)
    assert first and all(e["baseline"] for e in first)
    assert not [e for e in first if not e["type"].startswith(("agreement.", "pending."))]
    for at, actions, kind, stage in BILL_STEPS:
        serve(actions)
        new = replay.step(at)
        assert kinds(new) == [(kind, stage)], at
        assert not new[0]["baseline"] and new[0]["details"]["effect"] == "ban"
    serve(5)
    new = replay.step(SIGNED_AT)
    assert kinds(new) == [("bill.enacted", "enacted"), ("policy.ban_enacted", None)]
    [ban] = [e for e in new if e["type"] == "policy.ban_enacted"]
    assert ban["state"] == "MD" and ban["details"]["instruments"][0]["effective"] == "2026-06-01"
    # Enacted, not yet in force: no compliance yet, and the view shows no ban on that day.
    assert replay.view(SIGNED_AT).get("note", "") == ""


def after_effect_and_terminations(replay: Replay, ice: Callable[[bytes], None], may: bytes) -> None:
    # The day before the effective date: nothing yet. Then it passes with the 7 agreements listed: told once.
    assert replay.step("2026-05-31T12:00:00+00:00") == []
    assert replay.view("2026-05-31").get("note", "") == ""
    [told] = replay.step("2026-06-02T12:00:00+00:00")
    assert (told["type"], told["details"]["phase"], told["details"]["listed"]) == ("policy.compliance",
                                                                                 "still_listed", 7)  # fmt: skip
    assert replay.view("2026-06-02")["note"] == NOTE.format(listed=7, missing="", ended=0)
    # ICE drops them: missing for two lists, terminated at the third (10 days after the first absence).
    without = drop_rows(may, maryland_rows(may))
    for number, at in enumerate(("2026-06-03T12:00:00+00:00", "2026-06-08T12:00:00+00:00")):
        without = drop_rows(without, [2]) if number else without
        ice(without)
        assert replay.step(at) == []  # missing is a state, not an event
    assert replay.view("2026-06-08")["note"] == NOTE.format(listed=0, missing=", 7 missing", ended=0)
    ice(drop_rows(without, [3]))
    new = replay.step("2026-06-14T12:00:00+00:00")
    ended = [e for e in new if e["type"] == "agreement.terminated" and e["state"] == "MD"]
    assert len(ended) == 7
    assert {(e["details"]["policy"]["instrument"], e["details"]["policy"]["effective"]) for e in ended} == {
        ("HB 444 (2026RS)", "2026-06-01")
    }
    [gone] = [e for e in new if e["type"] == "policy.compliance"]
    assert gone["details"]["phase"] == "all_ended"
    assert len(new) == len(ended) + 1  # nothing else: the unrelated rows dropped are only missing
    summary = NOTE.format(listed=0, missing="", ended=7)
    assert gone["details"]["summary"] == summary == replay.view("2026-06-14")["note"]
    # A repeat run: nothing new.
    assert replay.step("2026-06-20T12:00:00+00:00") == []


# ---- Open States -----------------------------------------------------------------------------------------


def openstates_bill(actions: int) -> dict[str, Any]:
    """HB 444 as the API shows it after its first `actions` actions (with the replay's two edits)."""
    bill = copy.deepcopy(sample("openstates_v3_bill_MD_2026_HB444_constructed.json"))
    executive = bill["actions"][3]["organization"]
    presented = {"organization": executive, "description": "Presented to the Governor",
                 "date": "2026-02-14T00:00:00+00:00", "classification": ["executive-receipt"], "order": 4}  # fmt: skip
    signed = {
        **bill["actions"][3],
        "description": "Approved by the Governor - Effective June 1, 2026",
        "order": 5,
    }
    bill["actions"] = [*bill["actions"][:3], presented, signed][:actions]
    last = bill["actions"][-1]
    bill["latest_action_date"], bill["latest_action_description"] = last["date"][:10], last["description"]
    bill["updated_at"] = f"{last['date'][:10]}T06:00:00.000000+00:00"
    passages = [a["date"][:10] for a in bill["actions"] if "passage" in a["classification"]]
    bill["latest_passage_date"] = passages[-1] if passages else None
    return bill


OS_NOISE = "openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json"


def openstates_stand(server: LoopbackHTTPServer, *extra: dict[str, Any]) -> tuple[str, Callable[[int], None]]:
    """The source's config and `serve(actions)`: one search page, HB 444 (if introduced) before the noise."""
    noise = sample(OS_NOISE)["results"]

    def serve(actions: int) -> None:
        results = ([openstates_bill(actions), *extra] if actions else []) + noise
        page = {"results": results, "pagination": {"per_page": 20, "page": 1, "max_page": 1,
                                                   "total_items": len(results)}}  # fmt: skip
        server.route("/bills", json.dumps(page), content_type="application/json")

    source = (
        f"  - name: os\n    kind: openstates\n    states: all\n    queries: ['\"287(g)\"']\n"
        f"    base_url: {server.url('')}\n    timeout: 2\n"
    )
    return source, serve


def test_a_ban_bill_through_open_states_from_introduction_to_effect(stand, tmp_path):
    server, ice, may = stand
    source, serve = openstates_stand(server)
    replay = Replay(replay_config(tmp_path, server, source))
    live_through_enactment(replay, serve)
    after_effect_and_terminations(replay, ice, may)
    assert_noise_read(replay, len(sample(OS_NOISE)["results"]))


def assert_noise_read(replay: Replay, count: int) -> None:
    store = Store(replay.cfg.database)
    labels = {r["key"]: r["record"]["classification"]["label"] for r in store.tracked_of_kind("bill")}
    store.close()
    assert labels.pop("MD|2026RS|HB444") == "ban"
    assert len(labels) == count and set(labels.values()) == {"not_287g"}  # read, stored, no event


# ---- LegiScan --------------------------------------------------------------------------------------------

LEGISCAN_PATH = "/legiscan/"


def legiscan_bill(actions: int) -> dict[str, Any]:
    """getBill for HB 444 after its first `actions` history entries (progress and status to match)."""
    response = copy.deepcopy(sample("legiscan_getBill_MD_2026_HB444_constructed.json"))
    bill = response["bill"]
    presented = {**bill["history"][3], "date": "2026-02-14", "action": "Presented to the Governor"}
    signed = {**bill["history"][3], "action": "Approved by the Governor - Effective June 1, 2026"}
    bill["history"] = [*bill["history"][:3], presented, signed][:actions]
    reached = {1: 2, 2: 3, 3: 4, 4: 4, 5: 5}[actions]  # progress events known by then (1, 9, 2, 3, 4)
    bill["progress"] = bill["progress"][:reached]
    status = [p["event"] for p in bill["progress"] if p["event"] in (1, 2, 3, 4)][-1]
    bill["status"], bill["status_date"] = status, bill["history"][-1]["date"]
    bill["change_hash"] = f"{actions:032x}"
    return response


LS_NOISE = [sample(f"legiscan_bill_AK_HB{n}_2011_dataset.json") for n in (1, 3)]


def get_bill(bill_id: int) -> str:
    return LEGISCAN_PATH + "?" + urlencode({"key": KEY, "op": "getBill", "id": str(bill_id)})


def legiscan_stand(server: LoopbackHTTPServer) -> tuple[str, Callable[[int], None]]:
    """The source's config and `serve(actions)`: the search's hits (HB 444 first) and each getBill."""
    for bill in LS_NOISE:
        server.route(get_bill(bill["bill"]["bill_id"]), json.dumps({"status": "OK", **bill}),
                     content_type="application/json")  # fmt: skip

    def serve(actions: int) -> None:
        bills = ([legiscan_bill(actions)] if actions else []) + LS_NOISE
        hits = {str(n): {"relevance": 100 - n, "bill_id": b["bill"]["bill_id"],
                         "change_hash": b["bill"]["change_hash"]} for n, b in enumerate(bills)}  # fmt: skip
        summary = {"page": "1 of 1", "range": f"1 - {len(bills)}", "relevancy": "100% - 98%",
                   "count": len(bills), "page_current": 1, "page_total": 1}  # fmt: skip
        search = {"status": "OK", "searchresult": {"summary": summary, **hits}}
        server.route(LEGISCAN_PATH, json.dumps(search), content_type="application/json")
        if actions:
            server.route(get_bill(9000444), json.dumps(bills[0]), content_type="application/json")

    source = f"  - name: ls\n    kind: legiscan\n    states: all\n    base_url: {server.url(LEGISCAN_PATH)}\n    timeout: 2\n"
    return source, serve


def test_a_ban_bill_through_legiscan_from_introduction_to_effect(stand, tmp_path):
    server, ice, may = stand
    source, serve = legiscan_stand(server)
    replay = Replay(replay_config(tmp_path, server, source))
    live_through_enactment(replay, serve)
    after_effect_and_terminations(replay, ice, may)
    assert_noise_read(replay, len(LS_NOISE))
    # getBill only when the change_hash moved: the noise once each, HB 444 once per stage.
    fetched = [r.path for r in server.requests_for(LEGISCAN_PATH) if "getBill" in r.path]
    assert sorted(fetched) == sorted([get_bill(230084), get_bill(230086)] + [get_bill(9000444)] * 5)


def test_both_apis_at_once_one_a_step_behind_give_each_event_once(stand, tmp_path):
    """Open States and LegiScan watch the same bill (one key): LegiScan shows each stage a run later, and at
    the signature Open States also shows the cross-filed SB 245 enacted. Still one event per stage (the
    lagging source adds nothing) and one policy.ban_enacted for the two companions."""
    server, ice, may = stand
    senate = {**openstates_bill(5), "id": "ocd-bill/00000000-0000-4000-8000-000000000245", "identifier": "SB 245",
              "related_bills": [{"identifier": "HB 444", "legislative_session": "2026", "relation_type": "companion"}]}  # fmt: skip
    os_source, os_serve = openstates_stand(server)
    ls_source, ls_serve = legiscan_stand(server)
    replay = Replay(replay_config(tmp_path, server, os_source + ls_source))
    behind = 0

    def serve(actions: int) -> None:
        nonlocal behind
        os_serve(actions)
        ls_serve(behind)
        behind = actions

    live_through_enactment(replay, serve)
    assert replay.step("2026-02-19T12:00:00+00:00") == []  # LegiScan shows the signature now
    os_source_with_senate, serve_with_senate = openstates_stand(server, senate)
    serve_with_senate(5)
    new = replay.step("2026-02-20T12:00:00+00:00")
    assert kinds(new) == [("bill.enacted", "enacted")] and new[0]["details"]["bill"] == "MD|2026RS|SB245"
    after_effect_and_terminations(replay, ice, may)


def test_two_apis_whose_texts_say_different_things_tell_the_enactment_once(stand, tmp_path):
    """Open States' search result without its abstract (the title alone names the agreements but not what the
    bill does), LegiScan's with the synopsis, both changing every run (other bills on the search page; a new
    change_hash): the bill is classified on what both say, so the ban is told once, not again every time the
    synopsis comes back."""
    server, ice, may = stand
    os_source, os_serve = openstates_stand(server)
    ls_source, ls_serve = legiscan_stand(server)
    replay = Replay(replay_config(tmp_path, server, os_source + ls_source))
    os_serve(0), ls_serve(0)
    replay.step("2026-01-20T12:00:00+00:00")
    noise = sample(OS_NOISE)["results"]
    for day in range(18, 22):
        titled = {**openstates_bill(5), "abstracts": []}
        moved = {**noise[0], "updated_at": f"2026-02-{day}T06:00:00.000000+00:00"}  # another bill moved
        page = {"results": [moved, titled], "pagination": {"per_page": 20, "page": 1, "max_page": 1}}
        server.route("/bills", json.dumps(page), content_type="application/json")
        signed = legiscan_bill(5)
        signed["bill"]["change_hash"] = f"{day:032x}"
        server.route(get_bill(9000444), json.dumps(signed), content_type="application/json")
        ls_serve_hash = {"status": "OK", "searchresult": {"0": {"relevance": 100, "bill_id": 9000444,
                                                                "change_hash": f"{day:032x}"}}}  # fmt: skip
        server.route(LEGISCAN_PATH, json.dumps(ls_serve_hash), content_type="application/json")
        new = replay.step(f"2026-02-{day}T12:00:00+00:00")
        if day == 18:
            assert kinds(new) == [("bill.enacted", "enacted"), ("policy.ban_enacted", None)]
        else:
            assert new == [], day
