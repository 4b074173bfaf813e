"""Legislation end to end: Open States, LegiScan and a bill page served on 127.0.0.1, through the real
check, bill rules, policy view and SQLite. Fixtures are the real samples (or, where no real sample of a shape
exists, built from the API's documented schema, as each fixture says)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rules.policy import load_seed
from state import queries
from state.store import Store
from tests.support.httpserver import LoopbackHTTPServer
from watch287g.config import Config, load_config
from watch287g.run import run_once

FIXTURES = Path(__file__).parent / "fixtures" / "legislation"
KEY = "test-key-3f9c2a"


def payload(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    return data.get("payload", data) if isinstance(data, dict) else data


def config(tmp_path: Path, sources: str, extra: str = "") -> Config:
    path = tmp_path / "watch287g.yaml"
    path.write_text(f"database: w.db\nsources:\n{sources}{extra}")
    return load_config(path)


def events(cfg: Config, **filters: Any) -> list[dict[str, Any]]:
    store = Store(cfg.database)
    try:
        return queries.events(store, **filters)
    finally:
        store.close()


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENSTATES_API_KEY", KEY)
    monkeypatch.setenv("LEGISCAN_API_KEY", KEY)
    return KEY


def openstates_source(server: LoopbackHTTPServer, states: str = "[NY]") -> str:
    return (
        f"  - name: os\n    kind: openstates\n    states: {states}\n    queries: ['\"287(g)\"']\n"
        f"    base_url: {server.url('')}\n    timeout: 2\n"
    )


def test_a_noisy_search_result_gives_no_events(http_server, tmp_path, api_key):
    noisy = payload("openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json")
    http_server.route("/bills", json.dumps(noisy), content_type="application/json")
    cfg = config(tmp_path, openstates_source(http_server))
    assert not run_once(cfg).failures
    assert events(cfg) == []  # seven immigration bills, none about 287(g): not even baseline events
    store = Store(cfg.database)
    bills = {r["key"]: r["record"]["classification"]["label"] for r in store.tracked_of_kind("bill")}
    store.close()
    assert len(bills) == 7 and set(bills.values()) == {"not_287g"}
    # The next result moves one of them forward: still nothing, because it is not about 287(g).
    noisy["results"][0]["latest_passage_date"] = "2026-06-30"
    noisy["results"][0]["latest_action_description"] = "passed assembly"
    http_server.route("/bills", json.dumps(noisy), content_type="application/json")
    assert not run_once(cfg).failures
    assert events(cfg) == []
    request = http_server.requests_for("/bills")[0]
    assert request.headers["X-API-KEY"] == KEY and '"287(g)"' in request.path.replace("%22", '"').replace(
        "%28", "("
    ).replace("%29", ")")


def test_the_tennessee_mandate_is_a_mandate_and_a_baseline(http_server, tmp_path, api_key):
    bill = payload("openstates_v3_bill_TN_114_SB2223_287g_mandate.json")
    http_server.route(
        "/bills", json.dumps({"results": [bill], "pagination": {}}), content_type="application/json"
    )
    cfg = config(tmp_path, openstates_source(http_server, "[TN]"))
    assert not run_once(cfg).failures
    [event] = events(cfg)
    assert (event["type"], event["state"], event["baseline"]) == ("bill.enacted", "TN", True)
    assert event["details"]["bill"] == "TN|114|SB2223"
    assert (
        event["details"]["effect"] == "mandate" and event["details"]["classification"]["label"] == "mandate"
    )


def bill_page_source(server: LoopbackHTTPServer) -> str:
    return (
        f"  - name: md-hb444\n    kind: bill_page\n    url: {server.url('/hb0444')}\n    timeout: 2\n"
        "    state: MD\n    session: 2026RS\n    identifier: HB 444\n"  # a loopback URL does not say them
    )


def test_the_maryland_page_status_change_gives_the_stage_event(http_server, tmp_path):
    http_server.route("/hb0444", (FIXTURES / "mgaleg_MD_2026RS_HB0444_v1_constructed.html").read_bytes())
    cfg = config(tmp_path, bill_page_source(http_server))
    assert not run_once(cfg).failures
    [first] = events(cfg)
    assert (first["type"], first["baseline"], first["details"]["stage"]) == (
        "bill.introduced",
        True,
        "introduced",
    )
    assert first["details"]["effect"] == "ban"
    http_server.route(
        "/hb0444", (FIXTURES / "mgaleg_MD_2026RS_HB0444_v2_enacted_constructed.html").read_bytes()
    )
    assert not run_once(cfg).failures
    new = [e for e in events(cfg) if not e["baseline"]]
    # Maryland's ban is already in the reviewed seed, so the enactment changes no policy: one bill event.
    assert [(e["type"], e["state"], e["details"]["stage"], e["details"]["previous_stage"]) for e in new] == [
        ("bill.enacted", "MD", "enacted", "introduced")
    ]


def test_an_enactment_outside_the_seed_changes_the_state_policy(http_server, tmp_path, monkeypatch):
    import rules.policy

    empty = tmp_path / "seed.csv"
    empty.write_text((rules.policy.SEED.read_text().splitlines()[0]) + "\n")
    monkeypatch.setattr(rules.policy, "SEED", empty)
    assert load_seed() == []
    http_server.route("/hb0444", (FIXTURES / "mgaleg_MD_2026RS_HB0444_v1_constructed.html").read_bytes())
    cfg = config(tmp_path, bill_page_source(http_server))
    run_once(cfg)
    http_server.route(
        "/hb0444", (FIXTURES / "mgaleg_MD_2026RS_HB0444_v2_enacted_constructed.html").read_bytes()
    )
    run_once(cfg)
    policy = [e for e in events(cfg) if e["type"].startswith("policy.")]
    assert [(e["type"], e["state"], e["baseline"]) for e in policy] == [("policy.ban_enacted", "MD", False)]
    details = policy[0]["details"]
    assert (details["state_agencies"], details["local_agencies"], details["previous"]) == (
        "ban",
        "ban",
        ["none", "none"],
    )
    assert details["instruments"][0]["name"].startswith("HB 444")


def test_legiscan_fetches_a_bill_only_when_its_change_hash_moves(http_server, tmp_path, api_key):
    from urllib.parse import urlencode

    from monitors.legislation.kinds import DEFAULT_LEGISCAN_QUERY

    search = payload("legiscan_getSearchRaw_constructed.json")
    bill = payload("legiscan_getBill_MD_2026_HB444_constructed.json")
    hits = [v for k, v in search["searchresult"].items() if k != "summary"]
    search["searchresult"] = {"summary": search["searchresult"]["summary"], "0": hits[0]}  # the MD bill only

    def url(**params: str) -> str:  # LegiScan answers at one path; the operation is in the query
        return "/?" + urlencode({"key": KEY, **params})

    search_url = url(op="getSearchRaw", state="MD", query=DEFAULT_LEGISCAN_QUERY)
    bill_url = url(op="getBill", id=str(hits[0]["bill_id"]))
    http_server.route(search_url, json.dumps(search), content_type="application/json")
    http_server.route(bill_url, json.dumps(bill), content_type="application/json")
    source = f"  - name: ls\n    kind: legiscan\n    states: [MD]\n    base_url: {http_server.url('/')}\n    timeout: 2\n"
    cfg = config(tmp_path, source)
    assert not run_once(cfg).failures
    assert len(http_server.requests_for("/")) == 2  # the search, then the bill
    [event] = events(cfg)
    assert (event["type"], event["details"]["bill"], event["baseline"]) == (
        "bill.enacted",
        "MD|2026RS|HB444",
        True,
    )
    # Same change_hash: only the search is asked again.
    http_server.clear_requests()
    assert not run_once(cfg).failures
    assert [r.path for r in http_server.requests] == [search_url]
    # The hash moves: the bill is fetched again (its content is the same, so no new event).
    search["searchresult"]["0"]["change_hash"] = "0" * 32
    http_server.route(search_url, json.dumps(search), content_type="application/json")
    http_server.clear_requests()
    assert not run_once(cfg).failures
    assert [r.path for r in http_server.requests] == [search_url, bill_url]
    assert len(events(cfg)) == 1
    # The API key is masked wherever a URL is stored.
    store = Store(cfg.database)
    stored = [r["url"] for r in store.db.query("select url from fetches union all select url from snapshots")]
    store.close()
    assert stored and all(KEY not in u and "key=***" in u for u in stored)
    assert not any(KEY.encode() in p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("w.db"))


def test_a_bill_legiscan_finds_after_the_first_search_is_news_not_a_baseline(http_server, tmp_path, api_key):
    """Each getBill is its own channel, new whenever the bill is: the first search's bills are the baseline,
    a 287(g) bill found by a later search is news (it used to be stored as a baseline, never alerted)."""
    search = payload("legiscan_getSearchRaw_constructed.json")
    summary, hits = (
        search["searchresult"]["summary"],
        [v for k, v in search["searchresult"].items() if k != "summary"],
    )
    noise, bill = (
        payload("legiscan_bill_AK_HB1_2011_dataset.json"),
        payload("legiscan_getBill_MD_2026_HB444_constructed.json"),
    )

    def serve(*found: dict[str, Any]) -> None:
        results = {str(n): hit for n, hit in enumerate(found)}
        http_server.route("/", json.dumps({"status": "OK", "searchresult": {"summary": summary, **results}}),
                          content_type="application/json")  # fmt: skip

    for hit, body in ((hits[1], {"status": "OK", **noise}), (hits[0], bill)):
        http_server.route(
            f"/?key={KEY}&op=getBill&id={hit['bill_id']}", json.dumps(body), content_type="application/json"
        )
    serve(hits[1])  # the Alaska bill (real, not about 287(g))
    source = f"  - name: ls\n    kind: legiscan\n    states: all\n    base_url: {http_server.url('/')}\n    timeout: 2\n"
    cfg = config(
        tmp_path,
        source,
        "subscribers:\n  - name: desk\n    notify: ['json://127.0.0.1:9/']\n    events: ['bill.*']\n",
    )
    assert not run_once(cfg).failures and events(cfg) == []
    serve(hits[0], hits[1])
    run_once(cfg)
    [event] = events(cfg)
    assert (event["type"], event["details"]["bill"], event["baseline"]) == (
        "bill.enacted",
        "MD|2026RS|HB444",
        False,
    )
    store = Store(cfg.database)
    deliveries = list(store.db.query("select subscriber from deliveries where event_id = ?", [event["id"]]))
    store.close()
    assert [d["subscriber"] for d in deliveries] == ["desk"]


def test_a_legiscan_error_is_quarantined_not_believed(http_server, tmp_path, api_key):
    from urllib.parse import urlencode

    from monitors.legislation.kinds import DEFAULT_LEGISCAN_QUERY

    error = payload("legiscan_error_constructed.json")
    query = urlencode({"key": KEY, "op": "getSearchRaw", "state": "MD", "query": DEFAULT_LEGISCAN_QUERY})
    http_server.route("/?" + query, json.dumps(error), content_type="application/json")
    source = f"  - name: ls\n    kind: legiscan\n    states: [MD]\n    base_url: {http_server.url('/')}\n    timeout: 2\n"
    cfg = config(tmp_path, source)
    run_once(cfg)
    [event] = events(cfg)
    assert event["type"] == "list.quarantined" and "LegiScan ERROR" in event["details"]["reason"]
    assert KEY not in json.dumps(event)


def test_subscribers_filter_policy_events_by_state_and_effect():
    from notifiers.subscribers import Subscriber, Target

    md = Subscriber(
        "md", (Target("json://x", "json://x"),), ("policy.*",), frozenset({"MD"}), effects=frozenset({"ban"})
    )
    ban_md = {"type": "policy.ban_enacted", "state": "MD", "details": {"effect": "ban"}}
    assert md.wants(ban_md)
    assert not md.wants({**ban_md, "state": "TX"})
    assert not md.wants({"type": "policy.mandate_enacted", "state": "MD", "details": {"effect": "mandate"}})
    assert not md.wants(
        {"type": "bill.enacted", "state": "MD", "details": {"effect": "ban"}}
    )  # not in its globs


def test_an_enacted_bill_without_an_operative_phrase_changes_no_policy():
    from rules.policy import from_bills

    bill = {"key": "TX|89R|HB1", "state": "TX", "identifier": "HB 1", "session": "89R", "stage": "enacted",
            "classification": {"label": "restrict", "scope": {}, "phrase": "287(g)", "about": "287(g)"}}  # fmt: skip
    assert from_bills([bill]) == []
    decided = {**bill, "classification": {**bill["classification"], "phrase": "shall not enter into"}}
    assert [i.effect for i in from_bills([decided])] == ["restrict"]


def test_a_watched_web_page_gives_page_changed_with_its_state(http_server, tmp_path):
    page = "<html><body><nav>Menu</nav><main><h1>Executive Orders</h1><p>{body}</p></main></body></html>"
    http_server.route("/eo", page.format(body="EO 2025-01: state agencies shall cooperate with ICE."))
    source = f"  - name: tx-eo\n    kind: webpage\n    url: {http_server.url('/eo')}\n    selector: main\n    state: TX\n"
    cfg = config(tmp_path, source)
    assert not run_once(cfg).failures
    assert events(cfg) == []  # the first look is a baseline: nothing changed yet
    http_server.route(
        "/eo",
        page.format(body="EO 2025-01: state agencies shall cooperate with ICE.").replace("Menu", "Home"),
    )
    run_once(cfg)
    assert events(cfg) == []  # outside the watched selector: not a change
    http_server.route(
        "/eo", page.format(body="EO 2026-02: state agencies shall enter into 287(g) agreements.")
    )
    run_once(cfg)
    [changed] = events(cfg)
    assert (changed["type"], changed["state"], changed["baseline"]) == ("page.changed", "TX", False)
    assert "EO 2026-02" in changed["details"]["diff"] and changed["details"]["url"].endswith("/eo")


def test_companion_bills_are_one_policy():
    from rules.policy import from_bills, policies, policy_events

    ban = {"label": "ban", "scope": {"state_agencies": True, "local_agencies": True}, "phrase": "may not enter into",
           "about": "immigration enforcement agreement"}  # fmt: skip
    house = {"key": "MD|2026RS|HB444", "state": "MD", "identifier": "HB 444", "session": "2026RS", "stage": "enacted",
             "stage_date": "2026-02-17", "companions": ["SB 245"], "classification": ban}  # fmt: skip
    senate = {**house, "key": "MD|2026RS|SB245", "identifier": "SB 245", "companions": ["HB 444"]}
    assert [i.name for i in from_bills([house, senate])] == ["HB 444 (2026RS)"]
    before = policies(from_bills([house]))
    after = policies(from_bills([house, senate]))
    assert policy_events(before, after) == []  # the companion's enactment is not a second change of policy
    assert [kind for kind, _view, _old in policy_events({}, after)] == ["policy.ban_enacted"]


# -- coverage by default -------------------------------------------------------------------------------------
ICE_ONLY = "  - name: ice-287g\n    kind: ice_287g\n    url: http://127.0.0.1:9/287g\n    timeout: 2\n"


def nationwide_noise() -> dict[str, Any]:
    """A broad search's page: the real New York immigration bills (none about 287(g)), the real Tennessee
    mandate, the Maryland ban (built from its real page) and a Puerto Rico copy of a New York bill (a
    territory Open States also answers for)."""
    noise = payload("openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json")["results"]
    territory = {**noise[0], "id": "ocd-bill/pr-copy", "jurisdiction": {"id": "ocd-jurisdiction/country:us/territory:pr/government", "name": "Puerto Rico", "classification": "state"}}  # fmt: skip
    results = [*noise, payload("openstates_v3_bill_TN_114_SB2223_287g_mandate.json"),
               payload("openstates_v3_bill_MD_2026_HB444_constructed.json"), territory]  # fmt: skip
    return {"results": results, "pagination": {"per_page": 20, "page": 1, "max_page": 1, "total_items": 10}}


def test_with_a_key_the_default_config_watches_every_state_with_one_search_per_query(
    http_server, tmp_path, monkeypatch
):
    from monitors.legislation.kinds import ALL_STATES, DEFAULT_QUERIES

    monkeypatch.setenv("OPENSTATES_API_KEY", KEY)
    cfg = config(tmp_path, ICE_ONLY)
    implicit = cfg.monitor("openstates")
    assert sorted(implicit.states) == sorted(ALL_STATES) and len(ALL_STATES) == 51  # type: ignore[attr-defined]
    implicit.config["base_url"] = http_server.url("")  # the stand-in of the Open States API
    http_server.route("/bills", json.dumps(nationwide_noise()), content_type="application/json")
    result = run_once(cfg, source="openstates")
    assert not result.failures
    asked = http_server.requests_for("/bills")
    assert len(asked) == len(DEFAULT_QUERIES) >= 8  # nationwide: one request per query, not 51 per query
    assert all("jurisdiction=" not in r.path and r.headers["X-API-KEY"] == KEY for r in asked)
    # The gate: 7 immigration bills and a territory's bill, not one event; the two 287(g) bills, one each.
    found = events(cfg)
    assert sorted((e["type"], e["details"]["bill"]) for e in found) == [
        ("bill.enacted", "MD|2026RS|HB444"), ("bill.enacted", "TN|114|SB2223")
    ]  # fmt: skip
    store = Store(cfg.database)
    labels = {r["key"]: r["record"]["classification"]["label"] for r in store.tracked_of_kind("bill")}
    store.close()
    assert len(labels) == 9 and not any(k.startswith("PR|") for k in labels)
    assert sorted(k for k, label in labels.items() if label != "not_287g") == [
        "MD|2026RS|HB444",
        "TN|114|SB2223",
    ]
    # The next run moves a noise bill forward: still nothing.
    moved = nationwide_noise()
    moved["results"][0]["latest_passage_date"] = "2026-06-30"
    http_server.route("/bills", json.dumps(moved), content_type="application/json")
    assert not run_once(cfg, source="openstates").failures
    assert len(events(cfg)) == 2


def test_a_configured_legislation_source_replaces_the_implicit_one_and_legiscan_is_the_fallback(
    tmp_path, monkeypatch
):
    from monitors.legislation.kinds import LegiScanMonitor

    monkeypatch.setenv("LEGISCAN_API_KEY", KEY)
    cfg = config(tmp_path, ICE_ONLY)
    [implicit] = [m for m in cfg.monitors if m.name != "ice-287g"]
    assert isinstance(implicit, LegiScanMonitor)
    assert [r.channel for r in implicit.requests()] == ["search:ALL"]  # LegiScan's nationwide search
    monkeypatch.setenv("OPENSTATES_API_KEY", KEY)
    assert [m.name for m in config(tmp_path, ICE_ONLY).monitors] == ["ice-287g", "openstates"]
    explicit = ICE_ONLY + "  - name: md\n    kind: openstates\n    states: [MD]\n"
    assert [m.name for m in config(tmp_path, explicit).monitors] == ["ice-287g", "md"]


def test_without_a_key_run_says_in_one_line_that_legislation_is_not_watched(http_server, tmp_path):
    from click.testing import CliRunner

    from tests.support.ice_site import publish
    from watch287g.cli import main

    url = publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
    path = tmp_path / "watch287g.yaml"
    path.write_text(f"database: w.db\nsources:\n  - name: ice-287g\n    kind: ice_287g\n    url: {url}\n")
    result = CliRunner().invoke(main, ["--config", str(path), "run", "--no-prefect"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stderr == ""
    notes = [line for line in result.stdout.splitlines() if line.startswith("legislation:")]
    assert notes == [
        "legislation: not watched (set OPENSTATES_API_KEY or LEGISCAN_API_KEY to watch all 50 states and DC, "
        "or add a legislation source; see README)"
    ]


def test_a_nationwide_legiscan_search_skips_congress_and_unwatched_states(http_server, tmp_path, api_key):
    from urllib.parse import urlencode

    from monitors.legislation.kinds import DEFAULT_LEGISCAN_QUERY

    search = payload("legiscan_getSearchRaw_constructed.json")
    md_bill = payload("legiscan_getBill_MD_2026_HB444_constructed.json")
    congress = json.loads(json.dumps(md_bill))
    congress["bill"]["state"] = "US"  # what a nationwide search also returns
    hits = [v for k, v in search["searchresult"].items() if k != "summary"]

    def url(**params: str) -> str:
        return "/?" + urlencode({"key": KEY, **params})

    http_server.route(url(op="getSearchRaw", state="ALL", query=DEFAULT_LEGISCAN_QUERY), json.dumps(search),
                      content_type="application/json")  # fmt: skip
    http_server.route(
        url(op="getBill", id=str(hits[0]["bill_id"])), json.dumps(md_bill), content_type="application/json"
    )
    http_server.route(
        url(op="getBill", id=str(hits[1]["bill_id"])), json.dumps(congress), content_type="application/json"
    )
    source = f"  - name: ls\n    kind: legiscan\n    states: all\n    base_url: {http_server.url('/')}\n    timeout: 2\n"
    cfg = config(tmp_path, source)
    assert not run_once(cfg).failures
    assert [(e["type"], e["details"]["bill"]) for e in events(cfg)] == [("bill.enacted", "MD|2026RS|HB444")]


def test_a_lagging_source_does_not_drop_the_effective_date_another_source_stated():
    """Open States shows HB 444 signed with its effective date; LegiScan, a day behind, shows it passed by the
    legislature, without the signing action. The bill stays enacted and keeps the effective date (it used to
    lose it, so the ban counted from its signature: a policy.compliance months early, and a view that flapped
    with the order the sources were read in)."""
    from monitors.legislation.parsers import parse_legiscan_bill, parse_openstates
    from rules.bill_rules import interpret_bills
    from rules.ice_rules import Context
    from rules.policy import effective_from, from_bills

    signed = payload("openstates_v3_bill_MD_2026_HB444_constructed.json")
    signed["actions"][-1]["description"] = "Approved by the Governor - Effective June 1, 2026"  # edited
    lagging = payload("legiscan_getBill_MD_2026_HB444_constructed.json")
    lagging["bill"]["history"] = lagging["bill"]["history"][:3]
    lagging["bill"]["progress"], lagging["bill"]["status"] = lagging["bill"]["progress"][:4], 3
    known: dict[str, Any] = {}
    for record in (*parse_openstates(signed), parse_legiscan_bill(lagging)):
        outcome = interpret_bills([record], known, Context("w", "2026-02-18T12:00:00+00:00", baseline=False))
        known.update({t.id: t for t in outcome.updated})
    [bill] = [t.record for t in known.values()]
    assert (bill["source_kind"], bill["stage"], bill["stage_date"]) == ("legiscan", "enacted", "2026-02-17")
    assert effective_from(bill) == "2026-06-01"
    assert [i.effective for i in from_bills([bill])] == ["2026-06-01"]


def test_a_bill_is_classified_on_what_every_source_says_of_it():
    """Open States' record with the title alone (about the agreements, no operative phrase), LegiScan's with
    the synopsis (a ban), read alternately: the label stays a ban and the policy keeps its instrument (the
    label used to follow the last source read, so the ban left the view and was told again on its return)."""
    from monitors.legislation.parsers import parse_legiscan_bill, parse_openstates
    from rules.bill_rules import interpret_bills
    from rules.ice_rules import Context
    from rules.policy import from_bills

    titled = {**payload("openstates_v3_bill_MD_2026_HB444_constructed.json"), "abstracts": []}
    [title_only] = parse_openstates(titled)
    synopsis = parse_legiscan_bill(payload("legiscan_getBill_MD_2026_HB444_constructed.json"))
    known: dict[str, Any] = {}
    labels = []
    for day, record in enumerate((synopsis, title_only, synopsis, title_only), 18):
        ctx = Context("w", f"2026-02-{day}T12:00:00+00:00", baseline=False)
        outcome = interpret_bills([record], known, ctx)
        assert outcome.events == [] or day == 18
        known.update({t.id: t for t in outcome.updated})
        [bill] = [t.record for t in known.values()]
        labels.append((bill["classification"]["label"], len(from_bills([bill]))))
    assert labels == [("ban", 1)] * 4
