"""Rename / typo-fix matching (rename_score, match_renames) on records from ICE's real lists."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from monitors.ice_lists import parse_list
from monitors.ice_match import distinctive, match_renames, rename_score

FIXTURES = Path(__file__).parent / "fixtures" / "ice"
P0308 = "2025-03-08_participatingAgencies-20250308103021.xlsx"
P0317 = "2025-03-17_participatingAgencies-20250317231040.xlsx"
P0714 = "2025-07-14_participatingAgencies07142025am.xlsx"
P0715 = "2025-07-15_participatingAgencies07152025am.xlsx"


@cache
def records(name: str) -> tuple[dict, ...]:
    return tuple(parse_list((FIXTURES / name).read_bytes()).records)


def record(name: str, state: str, agency: str, model: str) -> dict:
    found = [r for r in records(name) if (r["state"], r["agency"], r["model"]) == (state, agency, model)]
    assert len(found) == 1, found
    return found[0]


def gone_and_arrived(old: str, new: str) -> tuple[list[dict], list[dict]]:
    """What a key-based differ sees: records whose key left, and records whose key is new."""
    old_keys, new_keys = {r["key"] for r in records(old)}, {r["key"] for r in records(new)}
    return [r for r in records(old) if r["key"] not in new_keys], [
        r for r in records(new) if r["key"] not in old_keys
    ]


def summary(pairs: list[tuple[dict, dict]]) -> set[tuple[str, str, str, str, str]]:
    return {(o["state"], o["agency"], n["state"], n["agency"], o["model"]) for o, n in pairs}


def test_renames_of_2025_07_15() -> None:
    gone, arrived = gone_and_arrived(P0714, P0715)
    # "Ft. Myers" -> "Fort Myers" keeps its key (ft = fort), so a key differ sees 8 pairs, not ICE's 9.
    assert (len(gone), len(arrived)) == (8, 8)
    pairs = match_renames(gone, arrived)
    TFM, WSO = "Task Force Model", "Warrant Service Officer"
    assert summary(pairs) == {
        ("FL", "Boca Raton Police Department", "FL", "Boca Raton Police Services Department", TFM),
        ("FL", "Okaloosa County Department of Corrections", "FL", "Okaloosa County Corrections", WSO),
        ("PA", "Quarryville Police Department", "PA", "Quarryville Borough Police Department", TFM),
        ("FL", "Indiatlantic Police Department", "FL", "Indialantic Police Department", TFM),
        ("NH", "New Hampshire State Police", "NH", "New Hampshire State Police Department", TFM),
        ("ID", "Idaho State Police", "ID", "Idaho State Police Department", TFM),
        ("LA", "Louisiana State Patrol", "LA", "Louisiana State Police Department", TFM),
    }
    # The Fish and Wildlife Commission is not the Department of Environmental Protection.
    paired_old, paired_new = {id(o) for o, _ in pairs}, {id(n) for _, n in pairs}
    assert [r["agency"] for r in gone if id(r) not in paired_old] == [
        "Florida Fish and Wildlife Conservation Commission"
    ]
    assert [r["agency"] for r in arrived if id(r) not in paired_new] == [
        "Florida Department of Environmental Protection, Division of Law Enforcement"
    ]


def test_ft_myers_is_the_same_key_as_fort_myers() -> None:
    old = record(P0714, "FL", "Ft. Myers Police Department", "Task Force Model")
    new = record(P0715, "FL", "Fort Myers Police Department", "Task Force Model")
    assert old["key"] == new["key"] == "FL|fort myers police department|Task Force Model"


def test_renames_of_2025_03_17() -> None:
    gone, arrived = gone_and_arrived(P0308, P0317)
    assert (len(gone), len(arrived)) == (10, 52)
    TFM, WSO = "Task Force Model", "Warrant Service Officer"
    assert summary(match_renames(gone, arrived)) == {
        ("MT", "Cass County Sheriff's Office", "MN", "Cass County Sheriff's Office", TFM),  # state fixed
        ("TX", "Office of the Attorney General", "TX", "Texas Office of the Attorney General", TFM),
        ("FL", "Indian River Shores DPS", "FL", "Indian River Shores Department of Public Safety", TFM),
        ("AK", "Department of Corrections", "AK", "Alaska Department of Corrections", WSO),
        ("VA", "Department of State Police", "VA", "Virginia Department of State Police", TFM),
        ("MT", "MT Dept of Justice", "MT", "Montana Department of Justice", TFM),
        (
            "VA",
            "Department of Corrections",
            "VA",
            "Virginia Department of Corrections",
            "Jail Enforcement Model",
        ),
        ("FL", "Pasco County BOCC", "FL", "Pasco County Board of County Commissioners", WSO),
        ("FL", "Pasco County BOCC", "FL", "Pasco County Sheriff's Office", TFM),
        ("FL", "Gulf County BOCC", "FL", "Gulf County Board of County Commissioners", WSO),
    }


@pytest.mark.parametrize(
    ("old", "new", "score"),
    [
        ("Quarryville Police Department", "Quarryville Borough Police Department", 1.0),
        ("Indiatlantic Police Department", "Indialantic Police Department", 0.957),  # misspelt place name
        ("Louisiana State Patrol", "Louisiana State Police Department", 0.691),  # all generic words
    ],
)
def test_rename_score_of_real_pairs(old: str, new: str, score: float) -> None:
    before = next(r for r in records(P0714) if r["agency"] == old)
    after = next(r for r in records(P0715) if r["agency"] == new)
    assert rename_score(before, after) == pytest.approx(score, abs=0.001)


def test_all_generic_names_need_the_same_signed_date() -> None:
    before = record(P0714, "LA", "Louisiana State Patrol", "Task Force Model")
    after = record(P0715, "LA", "Louisiana State Police Department", "Task Force Model")
    assert distinctive(before["agency"]) == distinctive(after["agency"]) == frozenset()
    assert rename_score(before, {**after, "signed": "2025-05-21"}) is None
    assert rename_score({**before, "signed": None}, after) is None  # unknown date: not enough evidence


def test_rename_score_refuses_different_model_or_date() -> None:
    before = record(P0714, "PA", "Quarryville Police Department", "Task Force Model")
    after = record(P0715, "PA", "Quarryville Borough Police Department", "Task Force Model")
    assert rename_score(before, {**after, "model": "Warrant Service Officer"}) is None
    assert rename_score(before, {**after, "signed": "2025-07-08"}) is None
    assert (
        rename_score(before, {**after, "signed": None}) == 1.0
    )  # a date known on one side only is no conflict


def test_generic_words_do_not_make_unrelated_agencies_alike() -> None:
    jackson = record(P0715, "FL", "Jackson County Sheriff's Office", "Task Force Model")
    lafayette = record(P0715, "FL", "Lafayette County Sheriff's Office", "Task Force Model")
    assert jackson["signed"] == lafayette["signed"] == "2025-02-26"
    assert rename_score(jackson, lafayette) is None
    assert match_renames([jackson], [lafayette]) == []


def test_same_name_in_another_state_is_a_state_fix() -> None:
    before = record(P0308, "MT", "Cass County Sheriff's Office", "Task Force Model")
    after = record(P0317, "MN", "Cass County Sheriff's Office", "Task Force Model")
    assert rename_score(before, after) == 1.0
    other = record(P0317, "MN", "Itasca County Sheriff's Office", "Task Force Model")
    assert rename_score(before, other) is None  # another state and another name


def test_match_renames_is_one_to_one_best_first() -> None:
    idaho = record(P0714, "ID", "Idaho State Police", "Task Force Model")
    new_hampshire = record(P0714, "NH", "New Hampshire State Police", "Task Force Model")
    idaho_new = record(P0715, "ID", "Idaho State Police Department", "Task Force Model")
    nh_new = record(P0715, "NH", "New Hampshire State Police Department", "Task Force Model")
    assert summary(match_renames([new_hampshire, idaho], [idaho_new, nh_new])) == {
        ("ID", "Idaho State Police", "ID", "Idaho State Police Department", "Task Force Model"),
        (
            "NH",
            "New Hampshire State Police",
            "NH",
            "New Hampshire State Police Department",
            "Task Force Model",
        ),
    }
    # Two candidates for one old record: the better one wins, the other stays unpaired.
    quarry_old = record(P0714, "PA", "Quarryville Police Department", "Task Force Model")
    quarry_new = record(P0715, "PA", "Quarryville Borough Police Department", "Task Force Model")
    near = {**quarry_new, "agency": "Quarryville Township Police Department", "key": "PA|x|Task Force Model"}
    pairs = match_renames([quarry_old], [near, quarry_new])
    assert len(pairs) == 1 and pairs[0][0] is quarry_old
    assert rename_score(quarry_old, near) == rename_score(quarry_old, quarry_new) == 1.0
    assert pairs[0][1] is near  # equal scores: the first arrival wins, deterministically


# Real pairs from the 2025 lists: is a pending request (no signed date) the same agency as an agreement?
SAME_AGENCY = [
    ("PA", "Damascus County Constable", "Damascus Township Constable", True),
    ("PA", "Unity Township Constable, PA", "Constable Unity Township", True),
    ("FL", "New Port Richey Polce Department", "New Port Richey Police Department", True),
    ("PA", "Lower Burrell Fourth Ward Constable's Office", "Lower Burrell Fourth Ward Constable", True),
    ("FL", "City of St. Cloud Police Department", "St. Cloud Police Department", True),
    ("AR", "Arkansas State Police", "Arkansas State Police Department", True),
    ("FL", "Florida Department of Environmental Protection",
     "Florida Department of Environmental Protection, Division of Law Enforcement", True),
    ("FL", "West Palm Beach Police Department", "Palm Beach Police Department", False),
    ("FL", "Alachua Police Department", "Alachua County Sheriff's Office", False),
    ("FL", "Sarasota Police Department", "Sarasota County Sheriff's Office", False),
    ("FL", "University of Florida Police Department", "University of North Florida Police Department", False),
    ("PA", "New Sewickley Township Police Department", "Sewickley Township Constable's Office", False),
    ("FL", "Indian Creek Village Department of Public Safety", "Indian River County Sheriff's Office", False),
]  # fmt: skip


@pytest.mark.parametrize(("state", "a", "b", "expected"), SAME_AGENCY)
def test_same_agency_on_real_pairs(state: str, a: str, b: str, expected: bool) -> None:
    from monitors.ice_match import same_agency

    model = "Task Force Model"
    left, right = {"agency": a, "state": state, "model": model}, {"agency": b, "state": state, "model": model}
    assert same_agency(left, right) is expected
    assert same_agency(right, left) is expected
    assert not same_agency(left, {**right, "state": "TX" if state != "TX" else "OK"})
    assert not same_agency(left, {**right, "model": "Warrant Service Officer"})
