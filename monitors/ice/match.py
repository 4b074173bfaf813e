"""Is a record that left a list the same agreement as one that arrived (a rename or typo fix)?

Measured on the real 2025 lists: generic words ("County Sheriff's Office") make unrelated agencies look alike
(Walworth vs Jackson County scores 0.82 on the whole name), so we compare the *distinctive* words (place and
body names) and require the same support model and the same signed date. See tests/test_ice_match.py.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from monitors.ice.names import STATES, agency_key, name_similarity

_GENERIC = {
    "agency", "and", "authority", "board", "borough", "bureau", "center", "city", "college", "commission",
    "commissioners", "constable", "constables", "corrections", "correction", "county", "department",
    "detention", "district", "division", "enforcement", "facility", "highway", "jail", "law", "marshal",
    "marshals", "metro", "municipal", "of", "office", "parish", "patrol", "police", "public", "regional",
    "safety", "school", "services", "sheriff", "sheriffs", "state", "the", "town", "township", "tribal",
    "unit", "university", "village", "precinct", "ward", "trustees",
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


@lru_cache(maxsize=65536)
def _numbers(name: str) -> frozenset[str]:
    """Numbers in a name ("Precinct 4", "6th Ward"): a different number is a different body."""
    return frozenset(token for token in agency_key(name).split() if any(ch.isdigit() for ch in token))


def rename_evidence(old: dict[str, Any], new: dict[str, Any]) -> tuple[float, tuple[str, ...], bool] | None:
    """(score, reasons, needs_unique) when `new` can be `old` renamed, else None. Pure.

    Strong evidence (a shared distinctive word, or a close spelling of all of them) pairs best-first.
    Weak evidence (`needs_unique`: a longer typo in the place word, or another place name for a numbered body)
    pairs only when it is the one candidate of its state, model and signed date in this list."""
    if old["model"] != new["model"]:
        return None
    reasons = ["same model"]
    same_signed = bool(old.get("signed")) and old.get("signed") == new.get("signed")
    if old.get("signed") and new.get("signed") and not same_signed:
        return None
    if same_signed:
        reasons.append("same signed date")
    if old["state"] != new["state"] and agency_key(old["agency"]) != agency_key(new["agency"]):
        return None
    numbers_old, numbers_new = _numbers(old["agency"]), _numbers(new["agency"])
    if numbers_old and numbers_new and numbers_old != numbers_new:
        return None  # Precinct 4 is not Precinct 5
    old_words, new_words = distinctive(old["agency"]), distinctive(new["agency"])
    if old_words and new_words:
        ratio = _ratio(old_words, new_words)
        if old_words & new_words and (same_signed or _same_places(old, new)):
            if _places_nested(old, new):
                return 0.5 + 0.5 * ratio, (*reasons, "shared name word"), False
            return _weak_evidence(old, new, reasons)  # "Highland Beach" / "Indian Harbour Beach"
        if not same_signed:  # undated: "West" counts ("Melbourne" is not "West Melbourne")
            ratio = _ratio(_place_and_kind(old["agency"])[0], _place_and_kind(new["agency"])[0])
        if ratio >= 0.8:  # a misspelt place name: "Indiatlantic" -> "Indialantic"
            return ratio, (*reasons, f"close spelling ({ratio:.2f})"), False
        return _weak_evidence(old, new, reasons) if same_signed else None
    return _generic_name_evidence(old, new, reasons, same_signed)


def _generic_name_evidence(
    old: dict[str, Any], new: dict[str, Any], reasons: list[str], same_signed: bool
) -> tuple[float, tuple[str, ...], bool] | None:
    """One side is all generic words ("Louisiana State Patrol" -> "... State Police Department"): accept only
    with the same signed date and a close whole name. State-name words count as places here: "Columbia
    County SO" is not "Clay County SO"."""
    raw_old, raw_new = _place_and_kind(old["agency"])[0], _place_and_kind(new["agency"])[0]
    place_old, place_new = _own_places(old), _own_places(new)
    if place_old != place_new and (raw_old and raw_new or (place_old | place_new) & _DIRECTIONS):
        return None  # "University of Florida" is not "University of West Florida"; Kane is not Utah County
    full = name_similarity(agency_key(old["agency"]), agency_key(new["agency"]))
    if same_signed and full >= 0.6:
        return full, (*reasons, f"close generic name ({full:.2f})"), False
    return None


def rename_score(old: dict[str, Any], new: dict[str, Any]) -> float | None:
    """A score in (0, 1] when `new` can be `old` renamed, else None (see rename_evidence)."""
    evidence = rename_evidence(old, new)
    return evidence[0] if evidence else None


WEAK_SCORE = 0.4  # below every strong pairing, so a strong candidate always wins


def _weak_evidence(
    old: dict[str, Any], new: dict[str, Any], reasons: list[str]
) -> tuple[float, tuple[str, ...], bool] | None:
    """Same state, model and signed date, the same kind of body and the same organisational words, and
    either a typo in the place word (edit distance) or the same number ("Precinct 4") under another place."""
    if old["state"] != new["state"]:
        return None
    place_old, kinds_old = _place_and_kind(old["agency"])
    place_new, kinds_new = _place_and_kind(new["agency"])
    if not kinds_old or kinds_old != kinds_new or _skeleton(old["agency"]) != _skeleton(new["agency"]):
        return None
    reasons = [*reasons, "same state", f"same kind of body ({', '.join(sorted(kinds_old))})",
               "same organisational words"]  # fmt: skip
    numbers = _numbers(old["agency"])
    if numbers and numbers == _numbers(new["agency"]):
        return WEAK_SCORE, (*reasons, f"same number ({', '.join(sorted(numbers))})"), True
    a, b = " ".join(sorted(place_old - place_new)), " ".join(sorted(place_new - place_old))
    longest = max(len(a), len(b))
    edits, limit = _edit_distance(a, b), 1 if longest < 6 else 2 if longest < 8 else 3  # "Freedom"/"Freeborn"
    if a and b and edits <= limit:
        return WEAK_SCORE, (*reasons, f"place word typo ({a!r} -> {b!r}, {edits} edits)"), True
    return None


def _same_places(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Without a signed date to confirm it, a shared word is not enough: pending requests "Ormond Beach
    Police Department" and "Daytona Beach Police Department" (2025-04-28) are two towns."""
    return _place_and_kind(old["agency"])[0] == _place_and_kind(new["agency"])[0]


_DIRECTIONS = frozenset({"north", "south", "east", "west", "northwest", "northeast", "southwest", "southeast",
                         "central"})  # fmt: skip


def _own_places(record: dict[str, Any]) -> frozenset[str]:
    """Place words without the record's own state ("MT Dept of Justice" = "Montana Department of Justice")."""
    code = record["state"].lower()
    own = {*STATES.get(record["state"], "").lower().split(), agency_key(code)}
    return _place_and_kind(record["agency"])[0] - own


def _places_nested(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """One name's place words contain the other's ("Pasco County BOCC" / "Pasco County Sheriff's Office")."""
    place_old, place_new = _own_places(old), _own_places(new)
    extra = place_old ^ place_new
    return (place_old <= place_new or place_new <= place_old) and not extra & _DIRECTIONS


@lru_cache(maxsize=65536)
def _skeleton(name: str) -> tuple[str, ...]:
    """The organisational words of a name, in order ("county sheriffs office"), numbers left out."""
    place, _kinds = _place_and_kind(name)
    return tuple(t for t in agency_key(name).split() if t not in place and not any(c.isdigit() for c in t))


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), two rows at a time."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


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
    return [(old, new) for old, new, _reasons in match_renames_explained(gone, arrived)]


def match_renames_explained(
    gone: list[dict[str, Any]], arrived: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]]:
    """One-to-one pairs (old, new, reasons): strong evidence best first; then weak evidence, only where the
    pair is the one record left and the one arrived (unpaired) with its state, model and signed date."""
    # Only same-model pairs in the same state (or with the same name) can match: index them first.
    by_model_state: dict[tuple[str, str], list[int]] = {}
    by_model_name: dict[tuple[str, str], list[int]] = {}
    for j, new in enumerate(arrived):
        by_model_state.setdefault((new["model"], new["state"]), []).append(j)
        by_model_name.setdefault((new["model"], agency_key(new["agency"])), []).append(j)
    strong: list[tuple[float, int, int, tuple[str, ...]]] = []
    weak: list[tuple[float, int, int, tuple[str, ...]]] = []
    for i, old in enumerate(gone):
        candidates = set(by_model_state.get((old["model"], old["state"]), ()))
        candidates.update(by_model_name.get((old["model"], agency_key(old["agency"])), ()))
        for j in candidates:
            evidence = rename_evidence(old, arrived[j])
            if evidence is not None:
                (weak if evidence[2] else strong).append((evidence[0], i, j, evidence[1]))
    pairs, used_old, used_new = [], set(), set()
    for _score, i, j, reasons in sorted(strong, key=lambda s: (-s[0], s[1], s[2])):
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((gone[i], arrived[j], reasons))

    def group(record: dict[str, Any]) -> tuple[str, str, Any]:
        return record["state"], record["model"], record.get("signed")

    left = Counter(group(gone[i]) for i in range(len(gone)) if i not in used_old)
    came = Counter(group(arrived[j]) for j in range(len(arrived)) if j not in used_new)
    for _score, i, j, reasons in sorted(weak, key=lambda s: (s[1], s[2])):
        if left[group(gone[i])] == 1 and came[group(arrived[j])] == 1:
            pairs.append((gone[i], arrived[j], (*reasons, "only candidate in this list")))
    return pairs
