"""Read one MOA: PDF bytes -> MoaReading. Pure apart from running Tesseract on pages without usable text.

Each page's text layer is used when it reads as prose (monitors/moa/text_quality.py); otherwise the page is
OCR'd, or, without OCR, left unread (`pages_unread`). `text_source` says how the document's text was
obtained: "text" (text layers only), "ocr" (at least one page OCR'd), "none" (no page gave usable text:
every field is then empty, never guessed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pypdfium2 as pdfium

from monitors.base import ParseError
from monitors.moa import READER_VERSION, moa_fields, moa_signatures
from monitors.moa.form_values import form_agency, form_signatures, form_state, form_values
from monitors.moa.page_ocr import ocr_available, ocr_image
from monitors.moa.pdf_pages import open_pdf, page_text, render_page
from monitors.moa.text_quality import usable_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoaReading:
    agency: str | None
    state: str | None
    model: str | None
    models: list[str]
    signatures: list[dict[str, str | None]]
    revision: str | None
    addenda: list[dict[str, object]]
    pages: int
    text_source: str  # "text" | "ocr" | "none"
    pages_ocr: list[int] = field(default_factory=list)  # 1-based pages whose text came from OCR
    pages_unread: list[int] = field(default_factory=list)  # pages with no usable text layer and no OCR
    reader: str = READER_VERSION
    # The whole text as read (pages joined), for full-text search of kept MOAs; not one of the fields, so
    # `as_dict` (what `moa read --json` prints and a reading's `fields` hold) leaves it out.
    text: str = field(default="", repr=False)

    def as_dict(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["text"]
        return fields


def read_moa(body: bytes, *, ocr: bool | None = None, ocr_pages: int | None = None) -> MoaReading:
    """The fields of the MOA in `body` (ParseError when it is not a readable PDF). `ocr`: None = when
    Tesseract is installed; `ocr_pages`: OCR at most this many pages (tests), the rest stay unread."""
    use_ocr = ocr_available() if ocr is None else ocr
    pages, sources = read_pages(body, ocr_image if use_ocr else None, ocr_pages)
    return fields_of(pages, sources, form_values(body))


def read_pages(
    body: bytes, ocr: Callable[[Any], str] | None, ocr_pages: int | None = None
) -> tuple[list[str], list[str]]:
    """Each page's text and where it came from ("text", "ocr", "none")."""
    texts: list[str] = []
    sources: list[str] = []
    with open_pdf(body) as document:
        for index in range(len(document)):
            try:
                text = page_text(document, index)
            except pdfium.PdfiumError as exc:  # a page object PDFium cannot load: the file is broken
                raise ParseError(f"broken PDF: page {index + 1}: {exc}") from None
            if usable_text(text):
                texts.append(text)
                sources.append("text")
            elif ocr is not None and (ocr_pages is None or sources.count("ocr") < ocr_pages):
                recognised = _ocr_page(document, index, ocr)
                texts.append(recognised or "")
                sources.append("none" if recognised is None else "ocr")
            else:
                texts.append("")
                sources.append("none")
    return texts, sources


def _ocr_page(document: Any, index: int, ocr: Callable[[Any], str]) -> str | None:
    """The page's OCR text, or None when rendering or Tesseract fails (a timeout, a crash): the page is then
    unread, like a page without OCR; the document's other pages still count."""
    try:
        return ocr(render_page(document, index))
    except (pdfium.PdfiumError, RuntimeError, OSError) as exc:  # pytesseract's errors are RuntimeErrors
        logger.warning("OCR of page %d failed: %s", index + 1, exc)
        return None


def with_form_dates(
    from_text: list[dict[str, str | None]], from_form: list[dict[str, str | None]]
) -> list[dict[str, str | None]]:
    """The text's signatures, and the form's for a party whose date the text did not give (the 2025 form)."""
    dated = {(s["document"], s["party"]) for s in from_text if s["date"]}
    kept = [s for s in from_text if s["date"] or s["name"]]
    return kept + [s for s in from_form if (s["document"], s["party"]) not in dated]


def fields_of(pages: list[str], sources: list[str], form: dict[str, str] | None = None) -> MoaReading:
    """The reading of pages whose text is known, and of the values typed into the PDF's form (the 2025
    fillable template); pure (tests and the bench feed it text directly)."""
    text, form = "\n".join(pages), form or {}
    if all(source == "none" for source in sources):
        return MoaReading(
            None,
            None,
            None,
            [],
            [],
            None,
            [],
            len(pages),
            "none",
            [],
            list(range(1, len(pages) + 1)),
            text=text,
        )
    named = moa_fields.models(text)
    return MoaReading(
        agency=moa_fields.agency(text) or form_agency(form),
        state=moa_fields.state(text) or form_state(form),
        model=named[0] if len(named) == 1 else None,
        models=named,
        signatures=with_form_dates(moa_signatures.signatures(text), form_signatures(form)),
        revision=moa_fields.revision(text),
        addenda=moa_fields.addenda(pages),
        pages=len(pages),
        text_source="ocr" if "ocr" in sources else "text",
        pages_ocr=[n for n, source in enumerate(sources, start=1) if source == "ocr"],
        pages_unread=[n for n, source in enumerate(sources, start=1) if source == "none"],
        text=text,
    )
