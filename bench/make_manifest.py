"""Write a backfill manifest (fetched_at,list,path) for the shared ICE corpus from its catalog.

The catalog gives an effective date per file; files of one date keep the catalog's order (am before pm, the
re-published "__v2" after the first), one hour apart from noon UTC.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus", type=Path, default=Path(__file__).resolve().parents[1] / "../shared/fixtures/ice"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kinds", default="participating,pending")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    kinds = args.kinds.split(",")
    per_day: Counter[tuple[str, str]] = Counter()
    rows = []
    with open(corpus / "catalog.csv", newline="") as handle:
        for entry in csv.DictReader(handle):
            if entry["kind"] not in kinds:
                continue
            slot = per_day[(entry["kind"], entry["eff_date"])]
            per_day[(entry["kind"], entry["eff_date"])] += 1
            rows.append(
                (
                    f"{entry['eff_date']}T{12 + slot:02d}:00:00+00:00",
                    entry["kind"],
                    corpus / entry["series_file"],
                )
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["fetched_at", "list", "path"])
        for fetched_at, kind, path in sorted(rows, key=lambda r: r[0]):
            writer.writerow([fetched_at, kind, path])
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()
