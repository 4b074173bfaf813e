"""Open a PDF's bytes safely and give each page's text layer; render a page for OCR.

pypdfium2 (PDFium, Apache-2.0/BSD) was the fastest text extractor measured on the real MOAs
(bench/bench_moa_read.py) and renders pages without poppler. Everything that makes a file unreadable
becomes a ParseError with one line a person can act on.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pypdfium2 as pdfium

from monitors.base import ParseError

# A real MOA has 10-14 pages (appendices and addenda included); 300 leaves room for bundles of several, and
# keeps a 2,000-page file from tying up a worker for an hour of OCR.
MAX_PAGES = 300
# Rendering is capped in pixels, not only in dpi: a page declared 200 inches wide must not allocate gigabytes.
OCR_DPI = 300
MAX_RENDER_PIXELS = 12_000_000  # a Letter page at 300 dpi is 8.4 Mpx
# PDFium inflates a whole stream when it reads a page (a 300 KB file of one 300 MB stream took 640 MB of
# memory), so compressed streams are measured first, in bounded steps. The real MOAs inflate to at most 31 MB.
MAX_INFLATED_BYTES = 256_000_000
_STREAM_START = re.compile(rb"stream\r?\n")
_STEP = 1 << 20


def check_pdf_bytes(body: bytes) -> None:
    """ParseError unless `body` starts like a PDF (the header may follow a little junk, as readers allow)."""
    if not body:
        raise ParseError("not a PDF: the file is empty")
    if b"%PDF-" not in body[:1024]:
        raise ParseError("not a PDF: no %PDF- header in its first 1,024 bytes")
    inflated = inflated_size(body, MAX_INFLATED_BYTES)
    if inflated > MAX_INFLATED_BYTES:
        raise ParseError(f"decompression bomb: its streams inflate to more than {MAX_INFLATED_BYTES:,} bytes")


def inflated_size(body: bytes, limit: int) -> int:
    """Bytes the zlib (FlateDecode) streams of `body` inflate to, counted up to just past `limit`. A stream
    that is not zlib data (images, other filters) counts as nothing; it costs PDFium no inflation either."""
    total = 0
    for start in _STREAM_START.finditer(body):
        inflater = zlib.decompressobj()
        position, pending = start.end(), b""
        try:
            while not inflater.eof:
                if not pending:
                    pending = body[position : position + _STEP]
                    position += _STEP
                    if not pending:
                        break
                total += len(inflater.decompress(pending, _STEP))
                pending = inflater.unconsumed_tail
                if total > limit:
                    return total
        except zlib.error:
            continue
    return total


@contextmanager
def open_pdf(body: bytes) -> Iterator[Any]:
    """The PDFium document for `body`, closed on exit; ParseError when it cannot be read."""
    check_pdf_bytes(body)
    try:
        document = pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ParseError("encrypted PDF: it needs a password to open") from None
        raise ParseError(f"broken PDF: {reason}") from None
    try:
        pages = len(document)
        if pages == 0:
            raise ParseError("broken PDF: it has no pages")
        if pages > MAX_PAGES:
            raise ParseError(f"too many pages: {pages:,} (an MOA has 10-14; at most {MAX_PAGES} are read)")
        yield document
    finally:
        document.close()


def page_text(document: Any, index: int) -> str:
    """The text layer of one page ('' when the page has none)."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()
    finally:
        page.close()


def render_page(document: Any, index: int) -> Any:
    """One page as a greyscale PIL image at OCR_DPI, or smaller when that would exceed MAX_RENDER_PIXELS."""
    page = document[index]
    try:
        width, height = page.get_size()  # in points (1/72 inch)
        scale = OCR_DPI / 72
        pixels = width * scale * height * scale
        if pixels > MAX_RENDER_PIXELS:
            scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
        # the image shares the bitmap's buffer, so the bitmap is left to the garbage collector, not closed
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()
