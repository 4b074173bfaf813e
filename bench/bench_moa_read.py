"""How fast the candidate PDF libraries extract text from the real MOAs, and how fast OCR reads a scan.

    .venv/bin/python bench/bench_moa_read.py [--corpus ../shared/fixtures/moa] [--repeat 3] [--ocr-pages 10]
        [--write]

Times text extraction of every page of the 23 real MOAs with pypdfium2 (chosen), pypdf and pdfminer.six
(pdfplumber is built on pdfminer.six, so it is at best as fast); the best of N passes over the corpus. Then
renders and OCRs the first --ocr-pages pages of the scans (pages without usable text) once, and times the
whole reader (`read_moa`, text pages only) per file. --write puts the tables into bench/README.md
("## Reading MOAs").
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.moa.page_ocr import ocr_image  # noqa: E402
from monitors.moa.pdf_pages import open_pdf, page_text, render_page  # noqa: E402
from monitors.moa.read_moa import read_moa  # noqa: E402
from monitors.moa.text_quality import usable_text  # noqa: E402

SECTION = "## Reading MOAs"


def with_pdfium(body: bytes) -> list[str]:
    with open_pdf(body) as document:
        return [page_text(document, i) for i in range(len(document))]


def with_pypdf(body: bytes) -> list[str]:
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)

    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(body)).pages]


def with_pdfminer(body: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(body)).split("\f")


LIBRARIES: list[tuple[str, str, str, Callable[[bytes], list[str]]]] = [
    ("pypdfium2", "pypdfium2", "Apache-2.0 / BSD-3 (PDFium)", with_pdfium),
    ("pypdf", "pypdf", "BSD-3", with_pypdf),
    ("pdfminer.six", "pdfminer.six", "MIT", with_pdfminer),
]


def best_pass(
    extract: Callable[[bytes], list[str]], bodies: list[bytes], repeat: int
) -> tuple[float, int, int]:
    """(best seconds over the corpus, pages, characters)."""
    best = float("inf")
    pages = chars = 0
    for _ in range(repeat):
        start = time.perf_counter()
        texts = [extract(body) for body in bodies]
        best = min(best, time.perf_counter() - start)
        pages = sum(len(t) for t in texts)
        chars = sum(len(p) for t in texts for p in t)
    return best, pages, chars


def ocr_rate(bodies: list[bytes], limit: int) -> tuple[int, float, float]:
    """(pages, render seconds, OCR seconds) for the first `limit` pages without usable text."""
    pages, render_s, ocr_s = 0, 0.0, 0.0
    for body in bodies:
        with open_pdf(body) as document:
            for index in range(len(document)):
                if pages >= limit or usable_text(page_text(document, index)):
                    continue
                start = time.perf_counter()
                image = render_page(document, index)
                middle = time.perf_counter()
                ocr_image(image)
                render_s += middle - start
                ocr_s += time.perf_counter() - middle
                pages += 1
    return pages, render_s, ocr_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "fixtures" / "moa")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ocr-pages", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    bodies = [p.read_bytes() for p in sorted(args.corpus.glob("*.pdf"))]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, {platform.system()}, Python "
        f"{platform.python_version()}, shared 2-core VM. `.venv/bin/python bench/bench_moa_read.py --write`",
        "",
        f"Text extraction, all {len(bodies)} real MOAs (best of {args.repeat} passes):",
        "",
        "| library | version | licence | seconds | pages/s | characters |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, dist, licence, extract in LIBRARIES:
        seconds, pages, chars = best_pass(extract, bodies, args.repeat)
        lines.append(
            f"| {name} | {metadata.version(dist)} | {licence} | {seconds:.2f} | {pages / seconds:.0f} | {chars:,} |"
        )
    pages, render_s, ocr_s = ocr_rate(bodies, args.ocr_pages)
    if pages:
        lines += ["", f"OCR (pages without usable text; Tesseract {_tesseract_version()}, 300 dpi greyscale, Tesseract's default threads, load average {os.getloadavg()[0]:.1f}): "
                  f"{pages} pages, render {render_s / pages:.2f} s/page, OCR {ocr_s / pages:.2f} s/page = "
                  f"{pages / (render_s + ocr_s):.2f} pages/s"]  # fmt: skip
    start = time.perf_counter()
    for body in bodies:
        read_moa(body, ocr=False)
    whole = time.perf_counter() - start
    lines += ["", f"Whole reader without OCR (`read_moa(..., ocr=False)`: text layers, quality check, form fields, "
              f"rules), all {len(bodies)} files: {whole:.2f} s, {whole / len(bodies) * 1000:.0f} ms/file"]  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text(encoding="utf-8")
        block = f"{SECTION}\n\n{table}\n"
        pattern = re.compile(rf"{re.escape(SECTION)}\n.*?(?=\n## |\Z)", re.DOTALL)
        text = (
            pattern.sub(lambda _: block.rstrip("\n"), text)
            if SECTION in text
            else text.rstrip("\n") + "\n\n" + block
        )
        readme.write_text(text, encoding="utf-8")


def _tesseract_version() -> str:
    import pytesseract

    return str(pytesseract.get_tesseract_version())


if __name__ == "__main__":
    main()
