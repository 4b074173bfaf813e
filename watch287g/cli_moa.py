"""`watch287g moa ...`: the MOA documents behind ICE's "link" cells (issue 12): `moa read FILE`, `moa search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitors.base import ParseError
from state.store import Store
from watch287g.cli import _config, _fail, main, nothing_matches
from watch287g.cli_params import STATE

# Largest file `moa read` accepts: real MOAs are 0.3-1.3 MB; a scan bundle of several is under 20 MB.
MAX_PDF_BYTES = 50_000_000


@main.group()
def moa() -> None:
    """MOA documents (PDF): read one, search the kept ones."""


@moa.command("read")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object")
@click.option("--no-ocr", is_flag=True, help="do not OCR pages without usable text (they stay unread)")
def read_command(pdf: Path, as_json: bool, no_ocr: bool) -> None:
    """Read one MOA: agency, state, support model(s), template revision, signatures, addenda, pages, and
    how the text was obtained (text layer, OCR, or none)."""
    from monitors.moa.read_moa import read_moa

    if pdf.stat().st_size > MAX_PDF_BYTES:
        _fail(f"{pdf}: too large for an MOA ({pdf.stat().st_size:,} bytes; at most {MAX_PDF_BYTES:,})")
    try:
        reading = read_moa(pdf.read_bytes(), ocr=False if no_ocr else None).as_dict()
    except ParseError as exc:
        _fail(f"{pdf}: {exc}")
        return
    click.echo(json.dumps(reading, ensure_ascii=False) if as_json else describe_reading(reading))


@moa.command("search")
@click.argument("phrase")
@click.option("--state", type=STATE, help="only documents of this state (USPS code or name)")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="at most this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per document")
@click.pass_context
def search_command(ctx: click.Context, phrase: str, state: str | None, limit: int, as_json: bool) -> None:
    """Find a phrase in every kept MOA (full text, any case, word endings folded: "signatures" finds
    "signature"), best match first: state, agency, URL and the passage, the match between « »."""
    from watch287g.moa_views import search_hits, search_line

    store = Store(_config(ctx).database)
    try:
        hits = search_hits(store, phrase, state, limit)
    finally:
        store.close()
    for hit in hits:
        click.echo(json.dumps(hit, ensure_ascii=False, sort_keys=True) if as_json else search_line(hit))
    if not hits:
        nothing_matches("documents")


def describe_reading(reading: dict[str, Any]) -> str:
    """The reading as lines a person reads; an unknown field says so instead of being left out."""
    unknown = "(not stated)"
    source = {"text": "text layer", "ocr": "OCR", "none": "none: no usable text layer and no OCR"}
    lines = [
        f"agency:     {reading['agency'] or unknown}",
        f"state:      {reading['state'] or unknown}",
        f"model:      {reading['model'] or ', '.join(reading['models']) or unknown}",
        f"revision:   {reading['revision'] or unknown}",
        f"pages:      {reading['pages']} (text from {source[reading['text_source']]}"
        + (f"; OCR'd pages {_pages(reading['pages_ocr'])}" if reading["pages_ocr"] else "")
        + (f"; unread pages {_pages(reading['pages_unread'])}" if reading["pages_unread"] else "")
        + ")",
    ]
    for signature in reading["signatures"]:
        lines.append(
            f"signed:     {signature['party'] or 'unknown party'} ({signature['document']}) "
            f"{signature['name'] or '(name not printed)'}, {signature['date'] or '(no date)'}"
        )
    if not reading["signatures"]:
        lines.append(f"signed:     {unknown}")
    for addendum in reading["addenda"]:
        dates = ", ".join(addendum["dates"]) or "no date"
        lines.append(f"addendum:   {addendum['title']} (page {addendum['page']}; {dates})")
    return "\n".join(lines)


def _pages(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
