"""Is a record that left a list the same agreement as one that arrived (a rename or typo fix)?

Measured on the real 2025 lists: generic words ("County Sheriff's Office") make unrelated agencies look alike
(Walworth vs Jackson County scores 0.82 on the whole name), so we compare the *distinctive* words (place and
body names) and require the same support model and the same signed date. See tests/test_ice_match.py.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from monitors.ice_names import STATES, agency_key, name_similarity

_GENERIC = {
    "agency", "and", "authority", "board", "borough", "bureau", "center", "city", "college", "commission",
    "commissioners", "constable", "constables", "corrections", "correction", "county", "department",
    "detention", "district", "division", "enforcement", "facility", "highway", "jail", "law", "marshal",
    "marshals", "metro", "municipal", "of", "office", "parish", "patrol", "police", "public", "regional",
    "safety", "school", "services", "sheriff", "sheriffs", "state", "the", "town", "township", "tribal",
    "unit", "university", "village",
}  # fmt: skip
_ORGANISATIONAL = frozenset(_GENERIC)  # words that name a kind of body, never a place
_TYPO_TARGETS = sorted(word for word in _ORGANISATIONAL if len(word) >= 6)  # "unity" is not "unit"
_GENERIC |= {word for name in STATES.values() for word in name.lower().split()}


@lru_cache(maxsize=65536)
def distinctive(name: str) -> frozenset[str]:
    return frozenset(
        token for token in agency_key(name).split() if token not in _GENERIC and not token.isdigit()
    )


def _ratio(a: Iterable[str], b: Iterable[str]) -> float:
    return difflib.SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(b))).ratio()


def rename_score(old: dict[str, Any], new: dict[str, Any]) -> float | None:
    """A score in (0, 1] when `new` can be `old` renamed, else None. Pure; dates compared when both known."""
    if old["model"] != new["model"]:
        return None
    same_signed = bool(old.get("signed")) and old.get("signed") == new.get("signed")
    if old.get("signed") and new.get("signed") and not same_signed:
        return None
    if old["state"] != new["state"] and agency_key(old["agency"]) != agency_key(new["agency"]):
        return None
    old_words, new_words = distinctive(old["agency"]), distinctive(new["agency"])
    if old_words and new_words:
        if old_words & new_words:
            return 0.5 + 0.5 * _ratio(old_words, new_words)
        ratio = _ratio(old_words, new_words)  # a misspelt place name: "Indiatlantic" -> "Indialantic"
        return ratio if ratio >= 0.8 else None
    # One side is all generic words ("Louisiana State Patrol" -> "... State Police Department"):
    # accept only with the same signed date and a close whole name.
    full = name_similarity(agency_key(old["agency"]), agency_key(new["agency"]))
    return full if same_signed and full >= 0.6 else None


# The kind of body a name names: "Alachua Police Department" and "Alachua County Sheriff's Office" share their
# place but are different agencies.
_KINDS = {
    "police": "police", "patrol": "police", "sheriff": "sheriff", "sheriffs": "sheriff", "constable": "constable",
    "constables": "constable", "corrections": "corrections", "correction": "corrections", "jail": "corrections",
    "detention": "corrections", "marshal": "marshal", "marshals": "marshal", "board": "government",
    "commissioners": "government",
}  # fmt: skip
_STATE_CODES = frozenset(code.lower() for code in STATES)


@lru_cache(maxsize=65536)
def _place_and_kind(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """Place words (state-name words such as "West" kept: West Palm Beach is not Palm Beach) and kinds.
    A misspelt organisational word ("Polce", "Departent", "Constbales") counts as that word."""
    place, kinds = set(), set()
    for token in agency_key(name).split():
        if token not in _ORGANISATIONAL and token not in _STATE_CODES and not token.isdigit():
            close = difflib.get_close_matches(token, _TYPO_TARGETS, n=1, cutoff=0.85)
            token = close[0] if close else token
        if token in _KINDS:
            kinds.add(_KINDS[token])
        elif token not in _ORGANISATIONAL and token not in _STATE_CODES:
            place.add(token)
    return frozenset(place), frozenset(kinds)


def same_agency(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Strictly the same agency, for matches no signed date can confirm (duplicate rows; pending requests
    becoming agreements): same state and model, the same place words, and compatible kinds of body."""
    if a["model"] != b["model"] or a["state"] != b["state"]:
        return False
    place_a, kinds_a = _place_and_kind(a["agency"])
    place_b, kinds_b = _place_and_kind(b["agency"])
    return bool(place_a) and place_a == place_b and (not kinds_a or not kinds_b or bool(kinds_a & kinds_b))


def match_renames(
    gone: list[dict[str, Any]], arrived: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One-to-one pairs (old, new), best scores first; everything else stays unpaired."""
    # Only same-model pairs in the same state (or with the same name) can match: index them first.
    by_model_state: dict[tuple[str, str], list[int]] = {}
    by_model_name: dict[tuple[str, str], list[int]] = {}
    for j, new in enumerate(arrived):
        by_model_state.setdefault((new["model"], new["state"]), []).append(j)
        by_model_name.setdefault((new["model"], agency_key(new["agency"])), []).append(j)
    scored = []
    for i, old in enumerate(gone):
        candidates = set(by_model_state.get((old["model"], old["state"]), ()))
        candidates.update(by_model_name.get((old["model"], agency_key(old["agency"])), ()))
        for j in candidates:
            score = rename_score(old, arrived[j])
            if score is not None:
                scored.append((score, i, j))
    pairs, used_old, used_new = [], set(), set()
    for _score, i, j in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((gone[i], arrived[j]))
    return pairs
