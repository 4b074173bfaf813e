"""What keeping every MOA of a list costs, and that a no-change check fetches no document body.

A loopback site serves ICE's real page shape, the real 2025-07-30 pm participating list with every plain MOA /
addendum link moved to 127.0.0.1, and behind each link a real MOA from ../shared/fixtures/moa (cycled, each
copy made distinct by a trailing PDF comment naming its URL, so no two documents share bytes). Three checks:
the first keeps every document (no pace, no per-check cap: our own cost, not the politeness), one an hour later
(nothing is due: no document request), one eight days later (every document asked conditionally: 304s).

    .venv/bin/python bench/bench_moa_keep.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.ice.kind import Ice287gMonitor  # noqa: E402
from rules.ice_rules import Rules  # noqa: E402
from state.store import Store  # noqa: E402
from tests.support.httpserver import LoopbackHTTPServer  # noqa: E402
from tests.support.ice_site import publish  # noqa: E402
from tests.support.xlsx_edit import SHEET_RELS, read_part, rewrite_parts  # noqa: E402
from watch287g.check_loop import Check, CheckReport, run_check  # noqa: E402

LIST = "ice/participating/2025-07-30_participatingAgencies07302025pm.xlsx"
PENDING = "ice/pending/2025-07-30_pendingAgencies07302025pm.xlsx"
DOCLIB = "https://www.ice.gov/doclib/"


def build_site(server: LoopbackHTTPServer, shared: Path) -> tuple[str, int]:
    listed = (shared / "fixtures" / LIST).read_bytes()
    rels = read_part(listed, SHEET_RELS)
    paths = sorted(set(re.findall(r'Target="https://www\.ice\.gov(/doclib/[^"]+)"', rels)))
    listed = rewrite_parts(
        listed, {SHEET_RELS: rels.replace(f'Target="{DOCLIB}', f'Target="{server.url("/doclib/")}')}
    )
    moas = sorted((shared / "fixtures" / "moa").glob("*.pdf"))
    total = 0
    for i, path in enumerate(paths):
        body = moas[i % len(moas)].read_bytes() + f"\n% {path}\n".encode()
        server.route(path, body, content_type="application/pdf", etag=f'"{i}-{len(body)}"')
        total += len(body)
    stem, pending = "participatingAgencies07302025pm", "pendingAgencies07302025pm"
    pending_body = (shared / "fixtures" / PENDING).read_bytes()
    return publish(server, stem, pending, bodies={stem: listed, pending: pending_body}), total


def check(store: Store, url: str, at: str) -> tuple[CheckReport, float]:
    monitor = Ice287gMonitor(
        {"name": "ice", "kind": "ice_287g", "url": url, "moa_pace": 1e-6, "moa_per_check": 100_000}
    )
    client = monitor.client("bench@example.org")

    def fetch(u, etag, modified, headers=None, max_bytes=None):  # type: ignore[no-untyped-def]
        return client.get(u, etag=etag, last_modified=modified, max_bytes=max_bytes)

    started = time.perf_counter()
    report = run_check(Check(store, monitor, fetch, Rules(), now=lambda: at))
    client.close()
    return report, time.perf_counter() - started


def moa_docs(report: CheckReport) -> list:  # type: ignore[type-arg]
    return [d for d in report.documents if d.channel.startswith("moa:")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    with LoopbackHTTPServer() as server, tempfile.TemporaryDirectory() as tmp:
        url, served = build_site(server, args.shared)
        store = Store(Path(tmp) / "w.db")
        first, seconds = check(store, url, "2025-07-30T21:00:00+00:00")
        kept = moa_docs(first)
        size = (Path(tmp) / "w.db").stat().st_size + (Path(tmp) / "w.db-wal").stat().st_size
        print(
            f"first check: {len(kept)} documents kept ({sum(d.bytes for d in kept):,} bytes served, "
            f"{served:,} routed) in {seconds:.1f} s; {len(kept) / seconds:.0f} documents/s; "
            f"median {statistics.median(d.duration_ms for d in kept)} ms per request; database {size:,} bytes"
        )
        server.clear_requests()
        hour, seconds = check(store, url, "2025-07-30T22:00:00+00:00")
        asked = [r for r in server.requests if r.path.startswith("/doclib/287gMOA/")]
        print(f"an hour later: {len(asked)} document requests ({hour.followed}) in {seconds:.1f} s")
        server.clear_requests()
        week, seconds = check(store, url, "2025-08-07T21:00:00+00:00")
        docs = moa_docs(week)
        outcomes = sorted({d.outcome for d in docs})
        print(
            f"eight days later: {len(docs)} conditional requests, outcomes {outcomes}, "
            f"{sum(d.bytes for d in docs)} body bytes, in {seconds:.1f} s"
        )
        store.close()


if __name__ == "__main__":
    main()
