"""Reading kept MOAs in parallel: whole-process time of `watch287g moa read-kept` with 1 and 2 workers.

    .venv/bin/python bench/bench_moa_fanout.py [--corpus ../shared/fixtures/moa] [--pairs 2] [--prefect]

The same 12 real MOAs (3 scans OCR'd page by page, 9 with text layers) are kept in a fresh SQLite file beside
ICE's real 2025-07-15 list, then read by a new `watch287g moa read-kept --no-prefect --workers N` process (OCR on),
timed from its start to its exit. Runs go in pairs, 1 then 2 workers, then 2 then 1, so the machine's load (six
engineers share two cores) weighs on both alike. Also timed in this process: the single writer's share, that is
storing one reading with its mismatch check, per document. --prefect adds one pair through the Prefect flow.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.base import Snapshot  # noqa: E402
from monitors.moa.read_moa import READER_VERSION  # noqa: E402
from monitors.source import document_channel  # noqa: E402
from rules.ice_rules import Rules  # noqa: E402
from rules.moa_compare import mismatch_events  # noqa: E402
from state import readings  # noqa: E402
from state.store import DocumentCommit, Store  # noqa: E402
from watch287g.pipeline import process_list  # noqa: E402

SCANS = [
    "FLORIDA__LeeCoSheriffsOffice_JEM_MOA_02.20.2025.pdf",
    "FLORIDA__OrlandoPoliceDeptFL_TFM_MOA_03.20.2025.pdf",
    "SOUTH_DAKOTA__HughesCountySOSD_WSO_MOA_030725.pdf",
]
TEXT = [
    "ALABAMA__FranklinCountyAL_WSO_MOA_030625.pdf",
    "ALABAMA__LawrenceCoSheriffsOfficeAL_TFM_MOA_06182025.pdf",
    "FLORIDA__287gWSO_LeonCoFl2019-10-15.pdf",
    "FLORIDA__287gWSO_ManateeCoFl2019-05-06.pdf",
    "FLORIDA__287gWSO_StJohnsCoFl2019-10-15.pdf",
    "FLORIDA__287gWSO_TaylorCoFl2019-10-15.pdf",
    "FLORIDA__ChattahoocheePoliceDept_TFM_MOA_02.28.25.pdf",
    "FLORIDA__pascoCoSheriff_TFM_MOA_02272025.pdf",
    "TEXAS__287gJEM_CalhounCoTX_03-13-2020.pdf",
]
LIST = ROOT / "tests" / "fixtures" / "ice" / "2025-07-15_participatingAgencies07152025am.xlsx"
MOA = "https://www.ice.gov/doclib/287gMOA/"


def kept_database(folder: Path, corpus: Path) -> Path:
    """watch287g.yaml + a database holding the list and the 12 MOAs kept under their ICE URLs."""
    store = Store(folder / "w.db")
    process_list(store, Snapshot("ice", "participating", MOA + "list.xlsx", "2025-07-15T12:00:00+00:00",
                                 LIST.read_bytes()), origin="live", rules=Rules())  # fmt: skip
    for name in SCANS + TEXT:
        body, url = (corpus / name).read_bytes(), MOA + name.split("__", 1)[1]
        store.commit_document(
            DocumentCommit(source="ice", channel=document_channel(url), url=url, body=body,
                           sha256=hashlib.sha256(body).hexdigest(), fetched_at="2025-07-16T12:00:00+00:00",
                           origin="live", outcome="document")
        )  # fmt: skip
    store.close()
    (folder / "watch287g.yaml").write_text("database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n")
    return folder / "watch287g.yaml"


def timed_run(corpus: Path, workers: int, prefect: bool) -> tuple[float, str, float]:
    """(seconds from process start to exit, its summary line with the documents' own reading times, load
    average at start)."""
    with tempfile.TemporaryDirectory() as folder:
        config = kept_database(Path(folder), corpus)
        command = [shutil.which("watch287g", path=str(Path(sys.executable).parent)) or "watch287g",
                   "--config", str(config), "moa", "read-kept", "--workers", str(workers)]  # fmt: skip
        if not prefect:
            command.append("--no-prefect")
        load = os.getloadavg()[0]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=folder)
        elapsed = time.perf_counter() - started
        store = Store(Path(folder) / "w.db")
        seconds = [r["seconds"] for r in store.db.query("select seconds from readings")]
        store.close()
        idle_started = time.perf_counter()  # the same command again: nothing left to read
        subprocess.run(command, capture_output=True, text=True, check=True, cwd=folder)
        idle = time.perf_counter() - idle_started
        line = f"{done.stdout.strip()}; documents' reading {sum(seconds):.1f} s in all, longest {max(seconds):.1f} s"
        return elapsed, f"{line}; again with nothing to read: {idle:.1f} s", load


def writer_share(corpus: Path) -> float:
    """Milliseconds the single writer spends per document: agreements linking it, the mismatch check, and the
    reading row with its events in one transaction (rows as a reading produces them, without the text read)."""
    with tempfile.TemporaryDirectory() as folder:
        kept_database(Path(folder), corpus)
        store = Store(Path(folder) / "w.db")
        todo = readings.unread_documents(store, READER_VERSION)
        fields = {
            "agency": "Somewhere County Sheriff's Office",
            "models": ["Task Force Model"],
            "signatures": [],
        }
        started = time.perf_counter()
        for document in todo:
            events = mismatch_events(fields, readings.agreements_linking(store, document.urls),
                                     sha256=document.sha256, reader_version=READER_VERSION,
                                     detected_at="2025-07-16T13:00:00+00:00", max_days=7)  # fmt: skip
            row = {"sha256": document.sha256, "reader_version": READER_VERSION, "read_at": "2025-07-16",
                   "pages": 12, "text_source": "text", "fields": "{}", "text": "x " * 15_000, "error": None,
                   "seconds": 1.0}  # fmt: skip
            readings.save_reading(store, row, events, None)
        elapsed = (time.perf_counter() - started) * 1000 / len(todo)
        store.close()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "fixtures" / "moa")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--prefect", action="store_true")
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}, {os.cpu_count()} cores"
    )
    print(
        f"single writer: {writer_share(args.corpus):.1f} ms per document (mismatch check + one transaction)"
    )
    ratios = []
    for pair in range(args.pairs):
        order = (1, 2) if pair % 2 == 0 else (2, 1)
        times = {}
        for workers in order:
            seconds, line, load = timed_run(args.corpus, workers, prefect=False)
            times[workers] = seconds
            print(f"pair {pair + 1}, {workers} worker(s): {seconds:6.1f} s (load {load:.1f})  {line}")
        ratios.append(times[1] / times[2])
    print("speed-up 1 -> 2 workers per pair: " + ", ".join(f"{r:.2f}" for r in ratios))
    if args.prefect:
        for workers in (1, 2):
            seconds, line, load = timed_run(args.corpus, workers, prefect=True)
            print(f"Prefect flow, {workers} worker(s): {seconds:6.1f} s (load {load:.1f})  {line}")


if __name__ == "__main__":
    main()
