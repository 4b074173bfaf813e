"""How long monitors.ice.page.normalized_text takes on a large synthetic program page (is it linear?).

    .venv/bin/python bench/bench_page.py [--mb 3] [--repeat 3]

The page repeats the shape of ICE's program page (sections, paragraphs with links, lists, a table) until it
is about --mb megabytes, and also times a quarter and a half of it: seconds per MB about level means linear.
Also times building the tree alone (the floor). Prints a markdown table for bench/README.md ("## Page text").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402

from monitors.ice.page import normalized_text  # noqa: E402

SECTION = (  # flat, as a long page is: thousands of siblings under <main>
    "<h2>287(g) Program Models {n}</h2><p>The <a href='/doclib/{n}.xlsx'>Jail Enforcement Model</a>"
    " is designed to identify and process removable aliens.\n Updated: 07/30/2025</p>"
    "<ul><li>Task Force Model {n}</li><li>Warrant Service Officer {n}</li></ul>"
    "<table><tr><td>State</td><td>Agency {n}</td><td>Signed 01/02/2025</td></tr></table>"
    "<div><span>Last Reviewed/Updated:</span>&nbsp;07/30/2025<br>Contact the program office.</div>\n"
)


def synthetic_page(megabytes: float) -> bytes:
    sections: list[str] = []
    size, n = 0, 0
    while size < megabytes * 1_000_000:
        sections.append(SECTION.format(n=n))
        size += len(sections[-1])
        n += 1
    return f"<html><body><main><h1>287(g)</h1>{''.join(sections)}</main></body></html>".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        "| page | bytes | normalized_text median s | s per MB | of which parsing (BeautifulSoup + lxml) s |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for share in (0.25, 0.5, 1.0):
        page = synthetic_page(args.mb * share)
        whole = statistics.median(timed(lambda page=page: normalized_text(page), args.repeat))
        parse = statistics.median(timed(lambda page=page: BeautifulSoup(page, "lxml"), args.repeat))
        mb = len(page) / 1e6
        print(
            f"| synthetic, {args.mb * share:g} MB | {len(page)} | {whole:.2f} | {whole / mb:.2f} | {parse:.2f} |"
        )


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
