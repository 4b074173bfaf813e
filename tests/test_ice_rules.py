"""The pure domain rules (interpret) on records parsed from ICE's real lists: no store, no clock."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from monitors.ice.lists import ParsedList, parse_list
from notifiers.subscribers import Subscriber
from rules.ice_rules import Context, Outcome, Rules, Tracked, interpret, plausibility

FIXTURES = Path(__file__).parent / "fixtures" / "ice"
P0308 = "2025-03-08_participatingAgencies-20250308103021.xlsx"
P0707 = "2025-07-07_participatingAgencies07072025pm.xlsx"
P0715 = "2025-07-15_participatingAgencies07152025am.xlsx"
N0707 = "2025-07-07_pendingAgencies07072025pm.xlsx"
N0708 = "2025-07-08_pendingAgencies07082025pm.xlsx"
N0711 = "2025-07-11_pendingAgencies07112025pm.xlsx"
P0317 = "2025-03-17_participatingAgencies-20250317231040.xlsx"

ETOWAH = "ice:agreement:AL|etowah county sheriffs office|Jail Enforcement Model"


@cache
def parsed(name: str) -> ParsedList:
    return parse_list((FIXTURES / name).read_bytes())


def without(name: str, *agencies: str) -> ParsedList:
    """The real list with the rows of these agencies (all models) left out."""
    original = parsed(name)
    kept = [r for r in original.records if r["agency"] not in agencies]
    assert len(kept) < len(original.records)
    return dataclasses.replace(original, records=kept)


class Feed:
    """Feeds lists to interpret() the way the pipeline does: known records, baseline, previous list time."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.known: dict[str, Tracked] = {}
        self.valid_at: dict[str, str] = {}
        self.rules = rules or Rules()

    def __call__(self, kind: str, parsed_list: ParsedList, at: str) -> Outcome:
        ctx = Context("ice", at, kind not in self.valid_at, self.rules, self.valid_at.get(kind))
        outcome = interpret(kind, parsed_list, self.known, ctx)
        if outcome.quarantine is None:
            self.known.update((t.id, t) for t in outcome.updated)
            self.valid_at[kind] = at
        return outcome

    def status(self, record_id: str) -> str:
        return self.known[record_id].status


def day(n: int) -> str:
    return f"2025-03-{8 + n:02d}T12:00:00+00:00"


def types(outcome: Outcome) -> list[str]:
    return [e["type"] for e in outcome.events]


# -- baseline, plausibility ----------------------------------------------------------------------------------


def test_first_list_is_a_baseline() -> None:
    feed = Feed()
    first = feed("participating", parsed(P0308), day(0))
    assert types(first) == ["agreement.added"] * 318
    assert {e["baseline"] for e in first.events} == {True}
    assert {e["details"]["was_pending"] for e in first.events} == {False}
    assert {(t.status, t.first_seen, t.kind) for t in first.updated} == {("active", day(0), "agreement")}
    second = feed("participating", parsed(P0308), day(1))
    assert (second.events, second.updated) == ([], [])  # the same records again: nothing at all


def test_wrong_list_behind_the_link() -> None:
    pending, participating = parsed(N0708), parsed(P0308)
    assert plausibility("participating", pending, Rules()) == (
        "wrong list: the participating link serves a pending-shaped list (columns "
        "['STATE', 'LAW ENFORCEMENT AGENCY', 'TYPE', 'COUNTY', 'SUPPORT TYPE'])"
    )
    assert plausibility("pending", participating, Rules()).startswith(
        "wrong list: the pending link serves a participating-shaped list"
    )
    outcome = Feed()("participating", pending, day(0))
    assert (outcome.events, outcome.updated) == ([], [])
    assert outcome.quarantine.startswith("wrong list")


def test_empty_list_is_implausible() -> None:
    empty = dataclasses.replace(parsed(P0308), records=[])
    assert plausibility("participating", empty, Rules()) == "empty list: no agreements in the spreadsheet"


@pytest.mark.parametrize(("bad", "reason"), [(2, None), (3, "3 of 20 rows could not be read")])
def test_unreadable_rows_share(bad: int, reason: str | None) -> None:
    good = parsed(N0708).records[bad:]
    warnings = [f"row {n + 2}: unknown state 'NOWHERE'; row skipped" for n in range(bad)]
    assert plausibility(
        "pending", dataclasses.replace(parsed(N0708), records=good, warnings=warnings), Rules()
    ) == (reason)


@pytest.mark.parametrize(("gone", "quarantined"), [(63, False), (64, True)])
def test_mass_removal_threshold(gone: int, quarantined: bool) -> None:
    feed = Feed()
    feed("participating", parsed(P0308), day(0))
    truncated = dataclasses.replace(parsed(P0308), records=parsed(P0308).records[gone:])
    outcome = feed("participating", truncated, day(1))
    # limit: more than max(10, 20% of 318 = 63.6) agreements gone at once
    if quarantined:
        assert outcome.quarantine == "mass removal: 64 of 318 agreements gone at once"
        assert (outcome.events, outcome.updated) == ([], [])
        assert {t.status for t in feed.known.values()} == {"active"}
    else:
        assert outcome.quarantine is None and outcome.events == []
        assert sorted(t.status for t in outcome.updated) == ["missing"] * 63


def test_mass_removal_counts_only_newly_gone_agreements() -> None:
    feed = Feed(Rules(mass_removal_min=10, mass_removal_share=0.0))
    feed("participating", parsed(P0308), day(0))
    first_ten = dataclasses.replace(parsed(P0308), records=parsed(P0308).records[10:])
    assert feed("participating", first_ten, day(1)).quarantine is None  # 10 is not more than 10
    next_ten = dataclasses.replace(parsed(P0308), records=parsed(P0308).records[20:])
    assert feed("participating", next_ten, day(2)).quarantine is None  # 10 already missing + 10 new
    assert sum(t.status == "missing" for t in feed.known.values()) == 20
    eleven = dataclasses.replace(parsed(P0308), records=parsed(P0308).records[31:])
    assert (
        feed("participating", eleven, day(3)).quarantine == "mass removal: 31 of 318 agreements gone at once"
    )


@pytest.mark.parametrize(
    ("kind", "first", "second"), [("participating", P0308, P0317), ("pending", N0708, N0711)]
)
def test_mass_addition_threshold(kind: str, first: str, second: str) -> None:
    """Real growth is believed by the defaults (N0711: 24 new requests on 20); more new records than
    max(mass_addition_min, mass_addition_share of those in force) is quarantined, with nothing applied."""

    def second_list(rules: Rules) -> Outcome:
        feed = Feed(rules)
        feed(kind, parsed(first), day(0))
        return feed(kind, parsed(second), day(1))

    believed = second_list(Rules())
    added = sum(t.endswith(".added") for t in types(believed))
    assert believed.quarantine is None and added == (42 if kind == "participating" else 24)
    assert second_list(Rules(mass_addition_min=added, mass_addition_share=0.0)).quarantine is None
    refused = second_list(Rules(mass_addition_min=added - 1, mass_addition_share=0.0))
    noun = "agreements" if kind == "participating" else "pending requests"
    assert refused.quarantine == (
        f"mass addition: {added} new {noun} at once, against {len(parsed(first).records)} in force"
        f" (limit: more than max({added - 1}, 0%))"
    )
    assert (refused.events, refused.updated) == ([], [])


def test_pending_lists_are_never_mass_removal_quarantined() -> None:
    feed = Feed()
    feed("pending", parsed(N0707), day(0))
    outcome = feed("pending", parsed(N0708), day(1))  # 51 -> 20 requests: a real batch of approvals
    assert outcome.quarantine is None and outcome.events == []
    assert sum(t.status == "missing" for t in feed.known.values()) == 31


# -- absence: missing, back, terminated ----------------------------------------------------------------------


def test_absent_agreement_is_missing_then_back_without_events() -> None:
    feed = Feed()
    feed("participating", parsed(P0308), day(0))
    for n in (1, 2):
        outcome = feed("participating", without(P0308, "Etowah County Sheriff's Office"), day(n))
        assert outcome.events == []
        etowah = feed.known[ETOWAH]
        assert (etowah.status, etowah.missing_lists, etowah.missing_since) == ("missing", n, day(1))
        assert etowah.last_seen == day(0)
    back = feed("participating", parsed(P0308), day(3))
    assert back.events == []
    etowah = feed.known[ETOWAH]
    assert (etowah.status, etowah.missing_lists, etowah.missing_since) == ("active", 0, None)


@pytest.mark.parametrize(
    ("days", "terminated_at"),
    [
        ((1, 2, 3, 4), None),  # four lists, but only 3 days
        ((1, 12), None),  # 11 days, but only two lists
        ((1, 5, 11), 11),  # third absent list, exactly 10 days after the first absence
        ((1, 2, 3, 4, 12), 12),
    ],
)
def test_termination_needs_three_lists_and_ten_days(days: tuple[int, ...], terminated_at: int | None) -> None:
    feed = Feed()
    feed("participating", parsed(P0308), day(0))
    events = []
    for n in days:
        outcome = feed("participating", without(P0308, "Etowah County Sheriff's Office"), day(n))
        events += [(n, e) for e in outcome.events]
    if terminated_at is None:
        assert events == [] and feed.status(ETOWAH) == "missing"
        return
    assert [(n, e["type"], e["agency"]) for n, e in events] == [
        (terminated_at, "agreement.terminated", "Etowah County Sheriff's Office")
    ]
    event = events[0][1]
    assert event["details"] == {
        "absent_lists": days.index(terminated_at) + 1,
        "absent_since": day(1),
        "last_seen": day(0),
    }
    assert (event["before"]["key"], event["after"], event["baseline"]) == (
        event["record_id"][14:],
        None,
        False,
    )
    assert feed.status(ETOWAH) == "terminated"
    later = feed("participating", without(P0308, "Etowah County Sheriff's Office"), day(30))
    assert later.events == []  # terminated once


@pytest.mark.parametrize(
    ("back_on", "signed", "expected"),
    [
        (12, None, "event.corrected"),  # absent 11 days < 2 x 10: the termination was a long dropout
        (20, None, "event.corrected"),  # 19 days
        (21, None, "agreement.added"),  # 20 days: a real end, then a return
        (12, "2025-03-19", "agreement.added"),  # re-signed: a new agreement, not a correction
    ],
)
def test_terminated_agreement_that_returns(back_on: int, signed: str | None, expected: str) -> None:
    """Decision (issue 9, item 17): back with the same signed date within the hold-back window of its
    termination, an agreement was never terminated: `event.corrected`, not a new `agreement.added`."""
    feed = Feed()
    feed("participating", parsed(P0308), day(0))
    for n in (1, 5, 11):
        feed("participating", without(P0308, "Etowah County Sheriff's Office"), day(n))
    assert feed.status(ETOWAH) == "terminated"
    records = [
        {**r, "signed": signed or r["signed"]} if r["agency"] == "Etowah County Sheriff's Office" else r
        for r in parsed(P0308).records
    ]
    back = feed("participating", dataclasses.replace(parsed(P0308), records=records), day(back_on))
    if expected == "agreement.added":
        assert [
            (e["type"], e["record_id"], e["details"]) for e in back.events if e["type"] != "agreement.changed"
        ] == [("agreement.added", ETOWAH, {"was_pending": False, "re_added_after": "terminated"})]
    else:
        assert [(e["type"], e["record_id"], e["details"], e["agency"]) for e in back.events] == [
            (
                "event.corrected",
                ETOWAH,
                {"corrects": None, "was": "agreement.terminated", "now": "active", "by": ETOWAH,
                 "absent_since": day(1)},
                "Etowah County Sheriff's Office",
            )
        ]  # fmt: skip
        # It reaches whoever wanted the termination, in that state and model, and nobody else.
        [correction] = back.events
        assert Subscriber("ends", (), ("agreement.terminated",), states=frozenset({"AL"})).wants(correction)
        assert not Subscriber("ends-tx", (), ("agreement.terminated",), states=frozenset({"TX"})).wants(
            correction
        )
        assert not Subscriber("new", (), ("agreement.added", "pending.*")).wants(correction)
    assert feed.status(ETOWAH) == "active"
    assert feed.known[ETOWAH].first_seen == day(0)


def test_pending_request_withdrawn_after_the_hold_back() -> None:
    feed = Feed()
    feed("pending", parsed(N0708), day(0))
    highspire = "ice:pending:PA|highspire police department|Task Force Model"
    seen = []
    for n in (1, 5, 11):
        outcome = feed("pending", without(N0708, "Highspire Police Department"), day(n))
        seen.append((types(outcome), feed.status(highspire)))
    assert seen == [([], "missing"), ([], "missing"), (["pending.withdrawn"], "withdrawn")]


def test_duplicate_agreement_deleted_is_merged_not_terminated() -> None:
    # 07-29: ICE dropped "Florida Department of Environmental Protection" and kept "..., Division of Law
    # Enforcement" (same state, model and distinctive words): nothing ended.
    feed = Feed()
    feed("participating", parsed(P0715), day(0))
    outcomes = [
        feed("participating", without(P0715, "Florida Department of Environmental Protection"), day(n))
        for n in (1, 5, 11)
    ]
    assert [o.events for o in outcomes] == [[], [], []]
    assert (
        feed.status("ice:agreement:FL|florida department of environmental protection|Task Force Model")
        == "merged"
    )


def test_agreement_with_a_namesake_is_still_terminated() -> None:
    feed = Feed()
    feed("participating", parsed(P0715), day(0))
    terminated = []
    for n in (1, 5, 11):
        terminated += feed("participating", without(P0715, "Sarasota Police Department"), day(n)).events
    assert [(e["type"], e["agency"]) for e in terminated] == [
        ("agreement.terminated", "Sarasota Police Department")
    ]


# -- renames and pending requests ----------------------------------------------------------------------------


def test_rename_keeps_the_record_id() -> None:
    feed = Feed()
    feed("participating", parsed(P0308), day(0))
    renamed = [
        {**r, "agency": "Etowah County Sheriffs Department", "key": "AL|etowah county sheriffs department|x"}
        if r["agency"] == "Etowah County Sheriff's Office"
        else r
        for r in parsed(P0308).records
    ]
    outcome = feed("participating", dataclasses.replace(parsed(P0308), records=renamed), day(1))
    assert [(e["type"], e["record_id"], e["details"]) for e in outcome.events] == [
        (
            "agreement.renamed",
            ETOWAH,
            {"changed": ["agency"], "evidence": ["same model", "same signed date", "shared name word"]},
        )
    ]
    assert feed.known[ETOWAH].key == "AL|etowah county sheriffs department|x"
    assert feed.status(ETOWAH) == "active"


def test_unrelated_agreements_do_not_convert_pending_requests() -> None:
    feed = Feed()
    feed("pending", parsed(N0707), day(0))
    feed("participating", parsed(P0707), day(0))
    assert {
        feed.status("ice:pending:FL|west palm beach police department|Task Force Model"),
        feed.status("ice:pending:FL|indian creek village department of public safety|Task Force Model"),
        feed.status("ice:pending:TN|franklin county sheriffs office|Jail Enforcement Model"),
    } == {"pending"}
