"""Does the MOA mismatch check cry wolf? Each real MOA against ICE's row that links it, and against the rows of
other agreements of its state (which it must contradict).

    .venv/bin/python bench/moa_mismatch.py [--corpus ../shared/fixtures/moa] [--cache DIR] [--no-ocr]

The row linking a file is found by ICE's file name (the corpus names files `<STATE>__<ICE's file name>`) in the
latest real list of tests/fixtures/ice that links it. --cache is bench/moa_accuracy.py's page-text cache (a full
OCR pass takes minutes). Prints each disagreement with its own row (a false alarm unless the document really
differs) and, per field, how many wrong rows of the same state the check told apart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.moa_accuracy import read_cached  # noqa: E402
from monitors.ice.lists import parse_list  # noqa: E402
from rules.ice_rules import Rules  # noqa: E402
from rules.moa_compare import disagreements  # noqa: E402

LISTS = ROOT / "tests" / "fixtures" / "ice"


def rows_by_file() -> dict[str, dict[str, Any]]:
    """ICE's file name -> the agreement row linking it (the latest list wins)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(LISTS.glob("*participating*.xlsx")):
        for record in parse_list(path.read_bytes()).records:
            for link in ("moa_url", "addendum_url"):
                if record.get(link):
                    found[record[link].rsplit("/", 1)[-1]] = {**record, "link": link}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "fixtures" / "moa")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args()
    rows, days = rows_by_file(), Rules().moa_mismatch_days
    own_alarms, compared, told_apart = 0, 0, {"model": 0, "agency": 0, "signed": 0, "any": 0}
    wrong_pairs = 0
    files = sorted(args.corpus.glob("*.pdf"))
    for path in files:
        fields = read_cached(path, args.cache, not args.no_ocr)
        row = rows.get(path.name.split("__", 1)[1])
        if row is None:
            print(f"- {path.name}: no list row links it")
            continue
        compared += 1
        found = disagreements(fields, row, row["link"], days)
        own_alarms += bool(found)
        for item in found:
            print(
                f"- {path.name} vs its own row: {item['field']}: list {item['list']!r}, document {item['document']!r}"
            )
        others = [r for r in rows.values() if r["state"] == row["state"] and r["agency"] != row["agency"]]
        for other in others:
            wrong_pairs += 1
            fields_found = {item["field"] for item in disagreements(fields, other, other["link"], days)}
            for name in fields_found:
                told_apart[name] += 1
            told_apart["any"] += bool(fields_found)
    print(f"\n{compared} of {len(files)} MOAs compared with their own row: {own_alarms} with a disagreement")
    print(f"{wrong_pairs} pairs (MOA, another agency's row of its state): told apart by " + ", ".join(
        f"{name} {count} ({count / max(wrong_pairs, 1):.0%})" for name, count in told_apart.items()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
