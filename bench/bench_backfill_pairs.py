"""Whole-process `watch287g backfill` of one manifest by two installs (e.g. main's and a branch's), run in
alternated pairs into new databases: prints each pair, the medians and the median of the per-pair ratios
(after/before), and whether both stored the same events (ids of every type).

    .venv/bin/python bench/make_manifest.py --out /tmp/corpus.csv
    .venv/bin/python bench/bench_backfill_pairs.py --before ../main/.venv/bin/watch287g \\
        --after .venv/bin/watch287g --manifest /tmp/corpus.csv --pairs 5
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def one_run(command: str, manifest: Path, folder: Path, name: str) -> tuple[float, list[tuple[str, str]]]:
    """Seconds of one backfill into a new database, and the (type, id) of the events it stored."""
    database = folder / f"{name}.db"
    for old in folder.glob(f"{name}.db*"):
        old.unlink()
    config = folder / f"{name}.yaml"
    config.write_text(
        f"database: {database}\nsources:\n  - name: ice-287g\n    kind: ice_287g\n"
        "    url: https://www.ice.gov/identify-and-arrest/287g\n"
    )
    start = time.perf_counter()
    subprocess.run(
        [command, "--config", str(config), "backfill", str(manifest)], check=True, capture_output=True
    )
    seconds = time.perf_counter() - start
    with sqlite3.connect(database) as db:
        events = db.execute("select type, id from events order by type, id").fetchall()
    return seconds, events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="the watch287g executable to compare against")
    parser.add_argument("--after", required=True, help="the watch287g executable measured")
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=5, help="counted pairs, after one warm-up pair")
    args = parser.parse_args()
    before, after, ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index in range(args.pairs + 1):
            order = [("before", args.before), ("after", args.after)]
            if index % 2:
                order.reverse()  # alternate which one runs first
            runs = {name: one_run(command, args.manifest.resolve(), folder, name) for name, command in order}
            if runs["before"][1] != runs["after"][1]:
                raise SystemExit("error: the two installs stored different events")
            if index == 0:
                print(f"warm-up: before {runs['before'][0]:.2f} s, after {runs['after'][0]:.2f} s")
                continue
            before.append(runs["before"][0])
            after.append(runs["after"][0])
            ratios.append(after[-1] / before[-1])
            print(f"pair {index}: before {before[-1]:.2f} s, after {after[-1]:.2f} s, ratio {ratios[-1]:.2f}")
        events = len(runs["after"][1])
    print(
        f"median before {statistics.median(before):.2f} s, after {statistics.median(after):.2f} s; "
        f"after/before median of pairs {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}); "
        f"same {events} events in both"
    )


if __name__ == "__main__":
    main()
