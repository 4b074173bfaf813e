"""Throughput of the Wayback Machine reader on loopback, with no pace: what the reader itself costs.

    .venv/bin/python bench/bench_wayback.py [--captures 200] [--repeat 3]

A loopback stand-in of the CDX API lists --captures spreadsheet captures (the real ICE files of
tests/fixtures/ice/, each at its own URL and time) and serves them raw; the reader lists, downloads and checks
them all (pace 0). Also times the byte checks alone (capture_problem). Prints a markdown table for
bench/README.md ("## Importing from the Wayback Machine").
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.archive.cdx import CDX_FIELDS, capture_problem  # noqa: E402
from monitors.archive.wayback import WaybackArchive  # noqa: E402
from tests.support import httpserver  # noqa: E402
from tests.support.httpserver import LoopbackHTTPServer  # noqa: E402

# The test server writes headers and body separately; with Nagle's algorithm on, a body under 64 KB then waits
# ~40 ms for the client's delayed ACK, which would measure TCP on loopback, not the reader.
httpserver._Handler.disable_nagle_algorithm = True

FOLDER = "https://www.ice.gov/doclib/about/offices/ero/287g/"
PAGE = "https://www.ice.gov/identify-and-arrest/287g"


def publish(server: LoopbackHTTPServer, count: int) -> list[bytes]:
    """Route `count` captures of the real fixtures (cycled) and the CDX answers listing them."""
    files = sorted((ROOT / "tests" / "fixtures" / "ice").glob("*.xlsx"))
    rows, bodies = [list(CDX_FIELDS)], []
    for number in range(count):
        body = files[number % len(files)].read_bytes()
        timestamp = f"2025{1 + number // 28 % 12:02d}{1 + number % 28:02d}{number // 336:06d}"
        original = f"{FOLDER}participatingAgencies{number:05d}.xlsx"
        server.route(f"/web/{timestamp}id_/{original}", body, content_type="application/vnd.ms-excel")
        digest = base64.b32encode(hashlib.sha1(body).digest()).decode()
        rows.append([timestamp, original, "200", "application/vnd.ms-excel", digest, str(len(body))])
        bodies.append(body)
    server.route("/cdx/search/cdx", json.dumps(rows).encode(), content_type="application/json")
    return bodies


def one_run(server: LoopbackHTTPServer, count: int) -> tuple[float, int]:
    wayback = WaybackArchive(
        "bench@example.org", archive_base=server.url(""), pace=0.0, program_pages=(), list_folders=(FOLDER,)
    )
    started = time.perf_counter()
    received = sum(len(archived.body) for archived in wayback.bodies())
    elapsed = time.perf_counter() - started
    wayback.close()
    if wayback.report.downloaded != count:
        raise SystemExit(f"expected {count} captures, got {wayback.report}")
    return elapsed, received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with LoopbackHTTPServer() as server:
        bodies = publish(server, args.captures)
        runs = [one_run(server, args.captures) for _ in range(args.repeat)]
    elapsed = statistics.median(seconds for seconds, _ in runs)
    megabytes = runs[0][1] / 1e6
    started = time.perf_counter()
    for body in bodies:
        capture_problem(body)
    checks = time.perf_counter() - started
    print(
        "| captures | MB | median s (list + download + check) | captures/s | MB/s | of which byte checks, s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.captures} | {megabytes:.1f} | {elapsed:.2f} | {args.captures / elapsed:.0f} "
        f"| {megabytes / elapsed:.1f} | {checks:.3f} |"
    )
    print(f"\nAt the real archive's pace of 1 s per request, {args.captures} captures take at least "
          f"{args.captures + 1} s: the pace, not the reader, sets the time.")  # fmt: skip


if __name__ == "__main__":
    main()
