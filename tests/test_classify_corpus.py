"""The classifier on real texts it was not written against: tests/fixtures/legislation/classify_corpus.jsonl.

The corpus is split by instrument (README next to it): `dev` texts may be used to write phrases, `test` texts
only to measure. The figures asserted here are computed, and docs/legislation-spec.md must report the same ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from rules.classify import LABELS, classify

HERE = Path(__file__).parent
CORPUS = HERE / "fixtures" / "legislation" / "classify_corpus.jsonl"
SPEC = HERE.parent / "docs" / "legislation-spec.md"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
EFFECTS = ("ban", "mandate", "restrict")
# Floors set from the measured figures (classify/5: test 117/146 = 0.80, dev 195/197 = 0.99) minus a small margin.
TEST_ACCURACY_FLOOR = 0.78
DEV_ACCURACY_FLOOR = 0.95


def confusion(split: str) -> Counter[tuple[str, str]]:
    return Counter((r["label"], classify(r["text"]).label) for r in ROWS if r["split"] == split)


def figures(split: str) -> dict[str, tuple[int, int, int]]:
    """{label: (right, predicted as label, labelled label)}: precision = right/predicted, recall = right/labelled."""
    conf = confusion(split)
    out = {}
    for label in LABELS:
        predicted = sum(n for (_, got), n in conf.items() if got == label)
        labelled = sum(n for (want, _), n in conf.items() if want == label)
        out[label] = (conf[(label, label)], predicted, labelled)
    return out


def dev_text(instrument: str, needle: str) -> str:
    """A dev text (never a test one: those only measure)."""
    (row,) = [r for r in ROWS if r["instrument"] == instrument and needle in r["text"]]
    assert row["split"] == "dev", row
    return str(row["text"])


# ---- the corpus itself ---------------------------------------------------------------------------------------


def test_corpus_is_large_labelled_and_sourced() -> None:
    assert len(ROWS) >= 150
    assert {r["label"] for r in ROWS} == set(LABELS)
    for r in ROWS:
        assert r["text"].strip() and r["instrument"].strip(), r
        assert r["source"].startswith(("http://", "https://")), r
        assert r["label"] in LABELS and r["split"] in {"dev", "test"}, r
    # hard negatives: detainers, detention contracts, sanctuary rules, E-Verify, licences
    assert sum(r["label"] == "not_287g" for r in ROWS) >= 50


def test_split_is_by_instrument_and_follows_the_fixed_rule() -> None:
    """Batches 1, 2 and 4: seen instruments are dev; the others, grouped by main effect and ordered by sha256,
    every third is test. Batches 3, 5 and 6 were collected after a version was frozen (classify/2, classify/3,
    classify/5): every unseen instrument is test."""
    splits = defaultdict(set)
    for r in ROWS:
        splits[r["instrument"]].add(r["split"])
    assert all(len(s) == 1 for s in splits.values())  # one instrument, one split
    assert all(r["split"] == ("dev" if r["seen"] else "test") for r in ROWS if r["batch"] in {3, 5, 6})
    for batch in {r["batch"] for r in ROWS} - {3, 5, 6}:
        labels = defaultdict(list)
        for r in ROWS:
            if r["batch"] == batch and not r["seen"]:
                labels[r["instrument"]].append(r["label"])
        groups = defaultdict(list)
        for inst, labs in labels.items():
            effects = [label for label in labs if label != "not_287g"]
            groups[Counter(effects or labs).most_common(1)[0][0]].append(inst)
        for insts in groups.values():
            insts.sort(key=lambda i: hashlib.sha256(i.encode()).hexdigest())
            for k, inst in enumerate(insts):
                assert splits[inst] == {"test" if k % 3 == 0 else "dev"}, inst
    assert all(splits[r["instrument"]] == {"dev"} for r in ROWS if r["seen"])
    test_rows = [r for r in ROWS if r["split"] == "test"]
    assert {r["label"] for r in test_rows} == set(LABELS) and len(test_rows) >= len(ROWS) // 5


# ---- the figures ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("split", "floor"), [("test", TEST_ACCURACY_FLOOR), ("dev", DEV_ACCURACY_FLOOR)])
def test_accuracy_floor(split: str, floor: float) -> None:
    conf = confusion(split)
    right, total = sum(n for (want, got), n in conf.items() if want == got), sum(conf.values())
    assert right / total >= floor, (split, right, total, sorted(conf.items()))


@pytest.mark.parametrize("split", ["test", "dev"])
def test_no_text_outside_287g_is_ever_a_ban_or_a_mandate(split: str) -> None:
    wrong = {
        r["instrument"]
        for r in ROWS
        if r["split"] == split
        and r["label"] == "not_287g"
        and classify(r["text"]).label in {"ban", "mandate"}
    }
    assert wrong == set()


# Recall floors on the test split, from the measured figures (ban 32/43, mandate 15/21, restrict 9/16) minus a margin.
RECALL_FLOORS = {"ban": 0.7, "mandate": 0.6, "restrict": 0.45}


def test_every_effect_is_found_on_the_test_split() -> None:
    """Each effect is found at its floor at least, and a ban or a mandate (each raises an event) is rarely wrong."""
    table = figures("test")
    for label in EFFECTS:
        right, _, labelled = table[label]
        assert labelled and right / labelled >= RECALL_FLOORS[label], (label, right, labelled)
    for label in ("ban", "mandate"):
        right, predicted, _ = table[label]
        assert right / predicted >= 0.8, (label, right, predicted)


def test_the_spec_reports_the_computed_figures() -> None:
    """docs/legislation-spec.md's table rows `| split | label | right/predicted | right/labelled |` are true."""
    table = re.findall(
        r"^\| (dev|test) \| (\w+) \| (\d+)/(\d+) \| (\d+)/(\d+) \|", SPEC.read_text(), re.MULTILINE
    )
    assert len(table) == 8
    for split, label, r1, pred, r2, lab in table:
        assert figures(split)[label] == (int(r1), int(pred), int(lab)) and r1 == r2, (split, label)


# ---- the kinds of wording, on dev texts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "needle", "label"),
    [
        # the text never says "287(g)": a statute, a model name, a description of what such agreements do
        ("WY|2025|fastdemocracy WYB00005474", "each county sheriff in Wyoming", "mandate"),
        ("AR|2025|Act 654", "Warrant Service Officer model", "mandate"),
        ("MO|2026|fastdemocracy MOB00027027", "Missouri Department of Corrections", "mandate"),
        ("TX|89R|SB 8", "help identify undocumented immigrants", "mandate"),
        ("NJ|AG Directive 2019-1 amendments", "end their cooperation agreements", "ban"),
        ("US|116|PROTECT Immigration Act", "repeal the 287(g) provision", "ban"),
        ("OR|ORS 181A.829 (2021 HB 3265)", "related to federal immigration enforcement", "ban"),
        # bans worded with other verbs than "prohibit"
        ("MD|2026RS|HB 444", "ban 287-G agreements", "ban"),
        ("MD|2026RS|HB 444", "outlawed 287(g)", "ban"),
        ("MD|2026RS|HB 444", "from partnering with ICE", "ban"),
        ("MD|2026RS|HB 444", "would prevent state agencies", "ban"),
        ("MD|2026RS|HB 444", "end active ICE partnerships", "ban"),
        ("MA|194|Safe Communities Act", "would be banned", "ban"),
        ("MA|194|Safe Communities Act", "No more 287(g) agreements", "ban"),
        ("CO|2019|HB19-1124", "eliminating contractual agreements", "ban"),
        ("NJ|AG Directive 2019-1 amendments", "wind down your agreements", "ban"),
        ("DE|153|HB 182", "may not enter into, modify, renew, or extend", "ban"),
        # mandates as a duty to apply, seek, sign, partner or participate; with a deadline or a way out
        ("ID|2026|HB 659", "make an application", "mandate"),
        ("ID|2026|HB 659", "apply to partner with ICE under the federal 287-G program", "mandate"),
        ("ID|2026|HB 659", "mandating all local law enforcement agencies apply", "mandate"),
        ("VA|EO 47 (2025)", "to partner with ICE through formal Section 287 agreements", "mandate"),
        ("VA|EO 47 (2025)", "to sign Section 287(g) agreements", "mandate"),
        ("VA|EO 47 (2025)", "Under Executive Order 47", "mandate"),
        ("SC|126|H 4764", "or annually demonstrate a good faith effort", "mandate"),
        ("TN|114|SB 2223", "mandating 287(g) participation", "mandate"),
        ("MS|2025|SB 2511", "By January 1, 2026", "mandate"),
        ("SC|125|S 1149", "TO DIRECT THE STATE LAW ENFORCEMENT DIVISION", "mandate"),
        # batch 4 (classify/2 missed these): a numbered duty list, a waiver, a program to establish
        ("MO|2026|fastdemocracy MOB00027027", "shall: 7 (1) Apply to participate", "mandate"),
        ("MO|2026|fastdemocracy MOB00027027", "can apply for a waiver", "mandate"),
        ("VA|EO 47 (2025)", "Establish a Section 287(g) VSP Task Force", "mandate"),
        # batch 4 bans: "banning X from entering", "prevent ... from being deputized", "voted to terminate",
        # a duty to terminate agreements "to perform federal immigration functions"
        ("article|Blue States Terminate ICE Agreements (2026-02-10)", "banning their police", "ban"),
        ("NY|2026|Local Cops, Local Crimes Act", "from being deputized by U.S.", "ban"),
        ("CA|Los Angeles County|2015 Board vote", "voted to terminate an agreement", "ban"),
        ("VA|2026|HB 1438", "to terminate such written agreement", "ban"),
        # batch 5 (classify/3 missed these): "enroll in", "preclude ... from", "sever", "abolish / discontinue the
        # program", "terminate the ... Memorandum"
        ("TX|89R|SB 8", "to enroll in a federal program", "mandate"),
        ("FL|2022|SB 1808", "to apply for the 287(g) program", "mandate"),
        ("IL|101|PA 101-0019", "It would preclude local Illinois", "ban"),
        ("CA|Los Angeles County|2015 Board vote", "to sever the county's contract", "ban"),
        ("CA|Los Angeles County|2015 Board vote", "to abolish the program known as 287(g)", "ban"),
        ("CA|Los Angeles County|2015 Board vote", "to discontinue the immigration enforcement", "ban"),
        ("CA|Los Angeles County|2015 Board vote", "to terminate the 287(g) Memorandum", "ban"),
        ("VA|ED 1 (2026)", "terminate any and all Section 287(g)", "ban"),
        # restrictions: approval, review, notice
        ("NJ|AG Directive 2018-6", "did not prohibit 287(g) agreements", "restrict"),
        ("NJ|AG Directive 2018-6", "seek Grewal's written approval", "restrict"),
        ("VT|2017|S.79", "the governor alone may enter", "restrict"),
        ("TN|TCA|7-68-105", "notice of the agreement must be submitted", "restrict"),
        (
            "NE|105|notice before immigration enforcement agreements (Vargas)",
            "before they agree to enforce",
            "restrict",
        ),
        ("CA|2016|AB 2792 (TRUTH Act)", "only if it enters into a memorandum", "restrict"),
        ("NH|2026|HB 1570", "continuing power to terminate the agreement", "restrict"),
        # immigration texts that are not about such agreements
        ("MN|94|SF 3653", "provide facilities to receive a person into custody", "not_287g"),
        ("NM|2024|SB 145", "agreements that allow for the detention", "not_287g"),
        ("CO|2023|HB23-1100", "agreements to house or detain", "not_287g"),
        ("NC|2023|HB 10", "mandate all North Carolina sheriffs cooperate", "not_287g"),
        ("AZ|2007|HB 2779", "Basic Pilot Program", "not_287g"),
        ("MT|2021|DHS agreement", "The agreement bound Montana officials", "not_287g"),
        ("NC|Alamance County|IGSA with ICE", "for the detention and care of aliens", "not_287g"),
        ("WA|2025-2026|fastdemocracy WAB00023881", "immigration detention agreements", "not_287g"),
        ("MO|2025|HB 1578", "memorandum of understanding", "not_287g"),
        ("WA|2026|HB 2641 (ICE Out Act)", "would’ve prohibited bringing on officers", "not_287g"),
    ],
)
def test_kind_of_wording(instrument: str, needle: str, label: str) -> None:
    text = dev_text(instrument, needle)
    c = classify(text)
    assert c.label == label, (c.label, c.phrase, c.about_phrase)
    assert c.phrase in text and c.about_phrase in text


def test_the_house_of_representatives_is_not_a_detention_house() -> None:
    """'An Idaho House ... committee' once hid a weak cue as if the sentence were about housing detainees."""
    c = classify(dev_text("ID|2026|HB 659", "BOISE, ID"))
    assert c.label == "mandate" and "Immigration and Customs Enforcement" in c.about_phrase


def test_a_texts_own_defined_term_is_a_cue() -> None:
    """Constructed (the real example, Minnesota HF 3413, is in the test split): the term is defined once by what
    it delegates, then used alone in the operative sentence."""
    text = (
        '"Cooperation compact" means an agreement under which a local officer performs the functions of an '
        "immigration officer.\n\nNo county may enter into a cooperation compact."
    )
    c = classify(text)
    assert (c.label, c.phrase) == ("ban", "No county may enter into a cooperation compact")
    assert classify("No county may enter into a cooperation compact.").label == "not_287g"


def test_the_cooperation_clause_287g10_is_not_an_agreement() -> None:
    """8 U.S.C. 1357(g)(10) lets officers cooperate without an agreement: citing it is not about agreements."""
    c = classify(
        "All law enforcement agencies shall, in accordance with 8 U.S.C. § 1357(g)(10), communicate with ICE."
    )
    assert c.label == "not_287g"
    assert classify("Each sheriff shall enter into an agreement under 8 U.S.C. § 1357(g).").label == "mandate"


def test_void_and_its_conditions() -> None:
    """Constructed: "is void" bans; a condition inside the phrase ("renewed without approval ... is void") makes it
    a restriction; a power to terminate is not a ban."""
    assert classify("Any existing 287(g) agreement is void.").label == "ban"
    c = classify(
        "An immigration enforcement agreement renewed without approval of the governing body is void."
    )
    assert c.label == "restrict" and c.phrase.startswith("without approval")
    c = classify("The county board may terminate a 287(g) agreement at any time.")
    assert c.label != "ban"
