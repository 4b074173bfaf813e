"""`import git` throughput on the shared ICE corpus, and what dominates it.

Builds a scraper-like git repository from ../shared/fixtures/ice (each list committed over
participatingAgencies.xlsx or pendingAgencies.xlsx at its catalog time, as a daily scraper would), then times
each stage on its own: walking the history and reading the blobs (git log + cat-file), parsing every body
(parse_list), and the whole import (import_bodies on a fresh SQLite file), with a cProfile of the import.

    .venv/bin/python bench/bench_import.py [--corpus ../shared/fixtures/ice]

Prints a markdown table and the profile's top entries; copy the figures into bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.archive.body import ArchivedBody  # noqa: E402
from monitors.archive.git_history import git_bodies  # noqa: E402
from monitors.ice.lists import parse_list  # noqa: E402
from rules.ice_rules import Rules  # noqa: E402
from state.store import Store  # noqa: E402
from watch287g.importing import ImportSummary, import_bodies  # noqa: E402

T = TypeVar("T")


def build_repository(corpus: Path, repo: Path) -> int:
    """One commit per list of the catalog, at its catalog time (files of one day an hour apart from noon)."""
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    slots: dict[tuple[str, str], int] = {}
    with open(corpus / "catalog.csv", newline="") as handle:
        entries = [e for e in csv.DictReader(handle) if e["kind"] in ("participating", "pending")]
    timed = []
    for entry in entries:
        slot = slots.get((entry["kind"], entry["eff_date"]), 0)
        slots[(entry["kind"], entry["eff_date"])] = slot + 1
        timed.append((f"{entry['eff_date']}T{12 + slot:02d}:00:00+00:00", entry))
    for when, entry in sorted(timed, key=lambda t: t[0]):
        target = repo / f"{entry['kind']}Agencies.xlsx"
        target.write_bytes((corpus / entry["series_file"]).read_bytes())
        env = dict(os.environ, GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
        git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.org"]
        subprocess.run([*git, "add", "-A"], check=True, env=env)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", when], check=True, env=env)
    return len(timed)


def timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "../shared/fixtures/ice")
    parser.add_argument("--repeat", type=int, default=3, help="timed imports, each on a fresh database")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "catalog.csv").is_file():
        print(f"skipped: no shared corpus at {corpus}")
        return
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "scraper"
        print(f"{build_repository(corpus, repo)} commits")
        walk, bodies = timed(lambda: list(git_bodies(str(repo))))
        parse, _ = timed(lambda: [parse_list(b.body) for b in bodies])
        runs = [timed(partial(import_into, Path(folder) / f"{n}.db", bodies)) for n in range(args.repeat)]
        profile = cProfile.Profile()
        profile.runcall(import_into, Path(folder) / "profiled.db", bodies)
    per = len(bodies)
    best = min(seconds for seconds, _ in runs)  # the run least disturbed by the shared machine
    median = statistics.median(seconds for seconds, _ in runs)
    print(f"{per} file versions: {Counter(i.outcome for i in runs[0][1].imported)}\n")
    print("| stage | seconds | per list |\n| --- | ---: | ---: |")
    for label, seconds in [
        ("walk history + read blobs (git log, 2 cat-file per file)", walk),
        ("parse_list of every body, alone", parse),
        (f"import_bodies (keep + parse + rules + SQLite), best of {args.repeat}", best),
        (f"import_bodies, median of {args.repeat}", median),
    ]:
        print(f"| {label} | {seconds:.2f} | {seconds / per * 1000:.1f} ms |")
    print(f"| end to end (walk + best import) | {walk + best:.2f} | {per / (walk + best):.1f} lists/s |\n")
    print_profile(profile)


def print_profile(profile: cProfile.Profile) -> None:
    stats = pstats.Stats(profile)
    total = cumulative(stats, "import_bodies")
    print("| share of import_bodies under cProfile | seconds | share |\n| --- | ---: | ---: |")
    for label, function in STAGES:
        spent = cumulative(stats, function)
        print(f"| {label} (`{function}`) | {spent:.2f} | {spent / total:.0%} |")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(24)
    print(out.getvalue())


# What import_bodies spends its time on (cumulative, so nested stages are not added up).
STAGES = [
    ("keep every sighting first (its body and provenance, SQLite)", "keep_bodies"),
    ("parse the spreadsheet", "parse_list"),
    ("interpret it against the records in force (rules)", "interpret"),
    ("write snapshot, records and events (SQLite)", "commit_document"),
    ("settle compliance after each list", "after_list"),
]


def import_into(database: Path, bodies: list[ArchivedBody]) -> ImportSummary:
    store = Store(database)
    try:
        return import_bodies(store, bodies, source="ice-287g", rules=Rules())
    finally:
        store.close()


def cumulative(stats: pstats.Stats, function: str) -> float:
    """Cumulative seconds of the named function (every definition of that name, summed)."""
    table = stats.stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, tt, ct, callers)
    return float(sum(row[3] for (_, _, name), row in table.items() if name == function))


if __name__ == "__main__":
    main()
