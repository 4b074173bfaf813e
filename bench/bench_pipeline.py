"""Pipeline figures on the shared ICE corpus: parse_list per list, backfill throughput, database size vs raw
bytes, as-of query latency, and what a no-change check costs (304s, no parsing).

    .venv/bin/python bench/bench_pipeline.py [--corpus ../shared/fixtures/ice]

Prints a markdown table; copy the figures into bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.ice.lists import parse_list  # noqa: E402
from rules.ice_rules import Rules  # noqa: E402
from state import queries  # noqa: E402
from state.store import Store  # noqa: E402
from watch287g.backfill import ManifestRow, backfill  # noqa: E402


def manifest(corpus: Path) -> list[ManifestRow]:
    rows, slots = [], {}
    with open(corpus / "catalog.csv", newline="") as handle:
        for entry in csv.DictReader(handle):
            if entry["kind"] not in ("participating", "pending"):
                continue
            slot = slots.get((entry["kind"], entry["eff_date"]), 0)
            slots[(entry["kind"], entry["eff_date"])] = slot + 1
            when = f"{entry['eff_date']}T{12 + slot:02d}:00:00+00:00"
            rows.append(ManifestRow(when, entry["kind"], corpus / entry["series_file"]))
    return sorted(rows, key=lambda r: r.fetched_at)


def bench_parse(rows: list[ManifestRow]) -> tuple[float, float, int, float]:
    """parse_list on the largest list, interleaved with calamine alone on it (the machine's speed varies)."""
    import io

    from python_calamine import CalamineWorkbook

    largest = max((r.path for r in rows), key=lambda p: p.stat().st_size)
    data = largest.read_bytes()
    parse_list(data)  # warm caches of the normalisers, as in a long-running process
    times, calamine = [], []
    for _ in range(25):
        start = time.perf_counter()
        parsed = parse_list(data)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        calamine.append(time.perf_counter() - start)
    start = time.perf_counter()
    for row in rows:
        parse_list(row.path.read_bytes())
    total = time.perf_counter() - start
    return statistics.median(times) * 1000, total, len(parsed.records), statistics.median(calamine) * 1000


def bench_backfill(rows: list[ManifestRow], folder: Path) -> dict[str, float]:
    db_path = folder / "bench.db"
    store = Store(db_path)
    start = time.perf_counter()
    backfill(
        store, rows, source="ice-287g", url="https://www.ice.gov/identify-and-arrest/287g", rules=Rules()
    )
    elapsed = time.perf_counter() - start
    as_of = []
    for day in ("2025-03-17", "2025-05-29", "2025-07-31"):
        for _ in range(5):
            t = time.perf_counter()
            queries.agreements_as_of(store, day)
            as_of.append(time.perf_counter() - t)
    as_of_0529 = [r for r in queries.agreements_as_of(store, "2025-05-29") if r["status"] == "active"]
    active = len(as_of_0529)
    by_model = Counter(r["model"] for r in as_of_0529)
    pending = sum(r["status"] == "pending" for r in queries.pending_as_of(store, "2025-05-29"))
    # The acceptance check: after the whole corpus, the active agreements are exactly the last list's.
    last = next(r for r in reversed(rows) if r.channel == "participating")
    expected = {(r["state"], r["agency"], r["model"]) for r in parse_list(last.path.read_bytes()).records}
    final = {(r["state"], r["agency"], r["model"]) for r in queries.agreements_as_of(store, "2099-01-01")
             if r["status"] == "active"}  # fmt: skip
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    raw = sum(r.path.stat().st_size for r in rows)
    return {
        "seconds": elapsed,
        "lists_per_s": len(rows) / elapsed,
        "db_mb": db_path.stat().st_size / 2**20,
        "raw_mb": raw / 2**20,
        "as_of_ms": statistics.median(as_of) * 1000,
        "active_0529": active,
        "models_0529": dict(sorted(by_model.items())),
        "pending_0529": pending,
        "final_matches_last_list": final == expected,
        "final_active": len(final),
    }


def bench_no_change(folder: Path) -> dict[str, float]:
    """Two checks of an unchanged source on a loopback server: the second must download nothing."""
    sys.path.insert(0, str(ROOT))
    from monitors.ice.kind import Ice287gMonitor
    from tests.support.httpserver import LoopbackHTTPServer
    from tests.support.ice_site import publish
    from watch287g.check_loop import plain_fetch
    from watch287g.config import Config
    from watch287g.run import check_one

    with LoopbackHTTPServer() as server:
        url = publish(server, "participatingAgencies07152025am", "pendingAgencies07152025pm")
        config = Config(folder / "c.yaml", folder / "nochange.db", None, Rules())
        monitor = Ice287gMonitor({"name": "ice", "kind": "ice_287g", "url": url})
        store = Store(config.database)
        check_one(store, config, monitor, plain_fetch)
        parses = store.db.table("parses").count
        server.clear_requests()
        start = time.perf_counter()
        report = check_one(store, config, monitor, plain_fetch)
        elapsed = time.perf_counter() - start
        downloaded = sum(d.bytes for d in report.documents)
        statuses = sorted({r.headers.get("If-None-Match") is not None for r in server.requests})
        result = {
            "ms": elapsed * 1000,
            "requests": len(server.requests),
            "bytes": downloaded,
            "new_parses": store.db.table("parses").count - parses,
            "all_conditional": statuses == [True],
        }
        store.close()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "../shared/fixtures/ice")
    args = parser.parse_args()
    rows = manifest(args.corpus.resolve())
    median_ms, all_s, n, calamine_ms = bench_parse(rows)
    with tempfile.TemporaryDirectory() as folder:
        b = bench_backfill(rows, Path(folder))
        nc = bench_no_change(Path(folder))
    print("| measure | figure |\n| --- | --- |")
    print(f"| parse_list, largest list ({n} agreements), median of 25 | {median_ms:.1f} ms |")
    print(f"| calamine reading only the values of that list, same run | {calamine_ms:.1f} ms |")
    print(
        f"| parse_list, all {len(rows)} lists | {all_s:.2f} s ({all_s / len(rows) * 1000:.1f} ms per list) |"
    )
    print(
        f"| backfill of {len(rows)} lists (parse + rules + SQLite) | {b['seconds']:.2f} s ({b['lists_per_s']:.0f} lists/s) |"
    )
    print(f"| database after backfill vs raw xlsx | {b['db_mb']:.1f} MB vs {b['raw_mb']:.1f} MB |")
    print(f"| `agreements --as-of` query, median | {b['as_of_ms']:.1f} ms |")
    print(
        f"| active agreements as of 2025-05-29 (ICE: 635 = 100 JEM / 307 TFM / 228 WSO) | {b['active_0529']} = {b['models_0529']} |"
    )
    print(f"| pending requests as of 2025-05-29 (ICE: 68) | {b['pending_0529']} |")
    print(
        f"| active after the last list == that list's agreements | {b['final_matches_last_list']} ({b['final_active']}) |"
    )
    print(
        f"| no-change check (loopback) | {nc['ms']:.0f} ms, {nc['requests']} conditional requests: "
        f"{nc['all_conditional']}, {nc['bytes']} bytes downloaded, {nc['new_parses']} parses |"
    )


if __name__ == "__main__":
    main()
