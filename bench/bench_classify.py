"""Time `rules.classify.classify` on the whole labelled corpus, and print its figures per split.

    .venv/bin/python bench/bench_classify.py [--repeat 20]

The corpus: tests/fixtures/legislation/classify_corpus.jsonl (real texts, split dev/test by instrument) and the
47 files of tests/fixtures/legislation/classify/. The table printed is the one docs/legislation-spec.md carries
(tests/test_classify_corpus.py checks that the spec's figures are the computed ones).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from rules.classify import CLASSIFIER_VERSION, LABELS, classify

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "legislation"


def corpus() -> tuple[list[dict[str, str]], list[str]]:
    rows = [
        json.loads(line) for line in (FIXTURES / "classify_corpus.jsonl").read_text().splitlines() if line
    ]
    files = []
    for path in sorted((FIXTURES / "classify").glob("*.txt")):
        files.append("\n".join(ln for ln in path.read_text().splitlines() if not ln.startswith("#")))
    return rows, files


def timed(texts: list[str], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            classify(text)
        runs.append(time.perf_counter() - start)
    return runs


def table(rows: list[dict[str, str]]) -> list[str]:
    lines = ["| split | label | precision (right/predicted) | recall (right/labelled) |", "|---|---|---|---|"]
    for split in ("test", "dev"):
        conf = Counter((r["label"], classify(r["text"]).label) for r in rows if r["split"] == split)
        for label in LABELS:
            predicted = sum(n for (_, got), n in conf.items() if got == label)
            labelled = sum(n for (want, _), n in conf.items() if want == label)
            right = conf[(label, label)]
            lines.append(f"| {split} | {label} | {right}/{predicted} | {right}/{labelled} |")
        total = sum(conf.values())
        right = sum(n for (want, got), n in conf.items() if want == got)
        lines.append(f"<!-- {split}: {right}/{total} right -->")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows, files = corpus()
    texts = [r["text"] for r in rows] + files
    chars = sum(len(t) for t in texts)
    runs = timed(texts, args.repeat)
    big = "\n\n".join(texts) * 10  # one long document: the classifier must stay linear in its length
    big_runs = timed([big], max(3, args.repeat // 5))
    print(f"classifier {CLASSIFIER_VERSION}: {len(texts)} texts, {chars} characters")
    print(f"whole corpus: median {statistics.median(runs) * 1000:.1f} ms, min {min(runs) * 1000:.1f} ms")
    print(f"per text: {statistics.median(runs) / len(texts) * 1e6:.0f} µs median")
    print(f"one document of {len(big)} characters: median {statistics.median(big_runs) * 1000:.1f} ms")
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
