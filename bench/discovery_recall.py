"""Which default search finds which instrument: recall of discovery on real texts, and the classifier as the gate.

    .venv/bin/python bench/discovery_recall.py

Texts: tests/fixtures/legislation/discovery/ (verbatim excerpts, each citing its source) and the real samples
in ../shared/fixtures/legislation (Maryland, Tennessee, Virginia, South Carolina, and the New York noise).
Open States and LegiScan search in PostgreSQL-like full text: words stemmed, stop words dropped, a quoted
phrase needs its words in order, unquoted words must all occur. This script imitates that (a crude stemmer,
English stop words), so a figure here says what the query words can find in the words a source holds, not
what a live API returned.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.legislation.kinds import DEFAULT_QUERIES  # noqa: E402
from rules.classify import classify  # noqa: E402

DISCOVERY = ROOT / "tests" / "fixtures" / "legislation" / "discovery"
SHARED = ROOT.parent / "shared" / "fixtures" / "legislation"
STOP = set("a an and are as at be by for from in into is it of on or that the this to under with".split())
SUFFIXES = ("izing", "ized", "izes", "ize", "ations", "ation", "ing", "ed", "es", "s")


def stem(word: str) -> str:
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def positions(text: str) -> list[tuple[int, str]]:
    """(position, stem) of each non-stop word; stop words keep their place, as in a tsvector."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [(i, stem(w)) for i, w in enumerate(words) if w not in STOP]


def matches(query: str, text: str) -> bool:
    words = positions(text)
    where: dict[str, set[int]] = {}
    for at, word in words:
        where.setdefault(word, set()).add(at)
    for phrase in re.findall(r'"([^"]+)"', query):
        wanted = positions(phrase)
        if not wanted or not any(
            all(start + at - wanted[0][0] in where.get(word, ()) for at, word in wanted)
            for start in where.get(wanted[0][1], ())
        ):
            return False
    bare = re.sub(r'"[^"]*"', " ", query)
    return all(word in where for _, word in positions(bare))


def samples() -> list[tuple[str, str, str]]:
    """(instrument, label, text) for every real text."""
    found = []
    for path in sorted(DISCOVERY.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        head = dict(re.findall(r"^# (\w+): (.*)$", "\n".join(lines), flags=re.M))
        text = "\n".join(line for line in lines if not line.startswith("#"))
        found.append((f"{head['instrument']} [{head.get('kind', '')}]", head["label"], text))
    if SHARED.is_dir():
        found += _shared()
    return found


def _shared() -> list[tuple[str, str, str]]:
    def body(name: str) -> str:
        return "\n".join(
            line
            for line in (SHARED / name).read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")
        )

    tn = json.loads((SHARED / "openstates_v3_bill_TN_114_SB2223_287g_mandate.json").read_text())["payload"]
    ny = json.loads(
        (SHARED / "openstates_v3_bills_search_NY_2025-2026_q-immigration_subset.json").read_text()
    )
    rows = [
        ("MD HB 444 (2026RS) [bill page]", "ban", body("mgaleg_MD_2026RS_HB0444_details_snapshot.txt")),
        ("TN SB 2223 (114) [Open States record]", "mandate", tn.get("title", "")),
        ("VA SB 783 (2026) [tracker page]", "restrict", body("legilist_VA_2026_SB783_enacted.txt")),
        (
            "SC H. 4764 (2025-2026) [status page]",
            "mandate",
            body("scstatehouse_SC_H4764_2025-2026_status.txt"),
        ),
    ]
    for bill in ny["payload"]["results"]:
        text = "\n".join([bill["title"], *(a["abstract"] for a in bill.get("abstracts") or [])])
        rows.append((f"NY {bill['identifier']} [Open States record]", "not_287g", text))
    return rows


def main() -> None:
    texts = samples()
    positives = [t for t in texts if t[1] != "not_287g"]
    instruments = sorted({name.split(" [")[0] for name, _, _ in positives})
    print(f"{len(texts)} texts: {len(positives)} about 287(g) ({len(instruments)} instruments), "
          f"{len(texts) - len(positives)} not")  # fmt: skip
    print("\n| query | texts about 287(g) found | instruments found | other texts found (noise) |")
    print("|---|---:|---:|---:|")
    union: set[str] = set()
    for query in DEFAULT_QUERIES:
        hits = [t for t in texts if matches(query, t[2])]
        good = [t for t in hits if t[1] != "not_287g"]
        union |= {t[0] for t in good}
        found = {t[0].split(" [")[0] for t in good}
        print(f"| `{query}` | {len(good)} / {len(positives)} | {len(found)} / {len(instruments)} | "
              f"{len(hits) - len(good)} |")  # fmt: skip
    found_instruments = {name.split(" [")[0] for name in union}
    print(f"| **all queries** | **{len(union)} / {len(positives)}** | **{len(found_instruments)} / "
          f"{len(instruments)}** | |")  # fmt: skip
    print("\n| text | label | found by | classifier (the gate) |")
    print("|---|---|---|---|")
    for name, label, text in texts:
        by = [str(i + 1) for i, q in enumerate(DEFAULT_QUERIES) if matches(q, text)]
        verdict = classify(text).label
        print(f"| {name} | {label} | {', '.join(by) or '**none**'} | {verdict} |")
    noise_events = [n for n, label, t in texts if label == "not_287g" and classify(t).label != "not_287g"]
    print(f"\nnoise texts the classifier would let through as ban/mandate/restrict: {noise_events or 'none'}")


if __name__ == "__main__":
    main()
