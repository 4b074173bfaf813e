"""What settling compliance costs a backfill: the lists of a manifest backfilled into a new SQLite file, in
turn with settling after every list (the loop the backfill ran before) and with `backfill` (which settles
only when something could change), in one process; prints per round the seconds of each, the number of
settles and the seconds spent in them.

    .venv/bin/python bench/make_manifest.py --out /tmp/corpus.csv
    .venv/bin/python bench/bench_compliance_settle.py --manifest /tmp/corpus.csv --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import watch287g.compliance_settling as compliance
from monitors.base import Snapshot
from rules.ice_rules import Rules
from state.store import Store
from watch287g.backfill import ManifestRow, backfill, read_manifest
from watch287g.pipeline import load_known, process_list

URL, SOURCE = "https://www.ice.gov/identify-and-arrest/287g", "ice-287g"


def every_list(store: Store, rows: list[ManifestRow]) -> None:
    known = load_known(store, SOURCE)
    for row in rows:
        snapshot = Snapshot(
            SOURCE, row.channel, f"{URL}#{row.path.name}", row.fetched_at, row.path.read_bytes()
        )
        if (
            process_list(store, snapshot, origin="backfill", rules=Rules(), known=known).outcome
            != "already_seen"
        ):
            compliance.settle_compliance(store, row.fetched_at, None, "backfill")


def only_when_due(store: Store, rows: list[ManifestRow]) -> None:
    backfill(store, rows, source=SOURCE, url=URL, rules=Rules())


def timed(
    run: Callable[[Store, list[ManifestRow]], None], rows: list[ManifestRow], db: Path
) -> tuple[float, ...]:
    """(total seconds, settles, seconds in settle_compliance) of one backfill into a new database."""
    for old in db.parent.glob(f"{db.name}*"):
        old.unlink()
    spent, calls, settle = [0.0], [0], compliance.settle_compliance

    def counted(*args: Any, **kwargs: Any) -> list[str]:
        start = time.perf_counter()
        try:
            return settle(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
            calls[0] += 1

    compliance.settle_compliance = counted  # both paths look it up in the module at call time
    store = Store(db)
    try:
        start = time.perf_counter()
        run(store, rows)
        return time.perf_counter() - start, calls[0], spent[0]
    finally:
        store.close()
        compliance.settle_compliance = settle


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = read_manifest(args.manifest)
    results: dict[str, list[tuple[float, ...]]] = {"every list": [], "only when due": []}
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.rounds):
            order = [("every list", every_list), ("only when due", only_when_due)]
            for name, run in order if index % 2 == 0 else order[::-1]:
                results[name].append(timed(run, rows, Path(tmp) / "w.db"))
            print(index + 1, {name: tuple(round(x, 2) for x in runs[-1]) for name, runs in results.items()})
    for name, runs in results.items():
        total = statistics.median(r[0] for r in runs)
        settles, spent = runs[-1][1], statistics.median(r[2] for r in runs)
        print(f"{name}: median {total:.2f} s for {len(rows)} lists; {settles} settles, {spent:.2f} s in them")
    ratios = [b[0] / a[0] for a, b in zip(results["every list"], results["only when due"], strict=True)]
    print(f"only when due / every list, median of rounds: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
