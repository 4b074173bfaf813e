"""`watch287g moa ...`: the MOA documents behind ICE's "link" cells (issue 12): `moa read FILE`, `moa search`,
and `moa get SHA256 -o FILE` (a kept copy's bytes, as alerts name it when no public_url links it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from monitors.base import ParseError
from state.store import Store
from watch287g.cli import _config, _fail, echo_rows, main
from watch287g.cli_params import OUTPUT, STATE, write_output

# Largest file `moa read` accepts: real MOAs are 0.3-1.3 MB; a scan bundle of several is under 20 MB.
MAX_PDF_BYTES = 50_000_000


@main.group()
def moa() -> None:
    """MOA documents (PDF): read one, read every kept one not read yet, search the kept ones, write out a
    kept copy."""


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
    echo_rows(hits, as_json, search_line, "documents")


@moa.command("get")
@click.argument("sha256")
@click.option("--output", "-o", type=OUTPUT, required=True, help="file to write the kept bytes to")
@click.pass_context
def get_command(ctx: click.Context, sha256: str, output: Path) -> None:
    """Write the kept copy of a document to FILE, whole or not at all. SHA256 is its sha256 as an alert
    shows it, or a prefix of it that names one kept body only."""
    from state import kept

    sha256 = sha256.strip().lower()
    if not sha256 or any(c not in "0123456789abcdef" for c in sha256):
        _fail("moa get: SHA256 must be hex digits (a kept document's sha256, or its start)", 2)
    store = Store(_config(ctx).database)
    try:
        found = kept.bodies_named(store, sha256)
        body = store.body(found[0]) if len(found) == 1 else None
    finally:
        store.close()
    if not found:
        _fail(f"moa get: no kept document has a sha256 starting with {sha256!r}")
    if len(found) > 1:
        _fail(f"moa get: {sha256!r} starts the sha256 of more than one kept document; give more of it")
    assert body is not None  # the row was just found
    write_output(output, body)
    click.echo(f"{output}: {len(body):,} bytes, sha256 {found[0]}", err=True)


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


@moa.command("read-kept")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="documents read at once"
)
@click.option("--limit", type=click.IntRange(1), help="read at most this many documents (oldest kept first)")
@click.option("--no-prefect", is_flag=True, help="read without Prefect (same reading, no flow run)")
@click.option("--no-ocr", is_flag=True, help="do not OCR pages without usable text (they stay unread)")
@click.pass_context
def read_kept_command(
    ctx: click.Context, workers: int, limit: int | None, no_prefect: bool, no_ocr: bool
) -> None:
    """Read the kept MOA documents that have no reading yet, in parallel, and report where one disagrees with
    ICE's list (agreement.moa_mismatch, for operators). Unreadable files are stored as such: exit 0."""
    from monitors.base import ConfigError
    from watch287g.config import load_config
    from watch287g.moa_reading import ReadSummary

    try:  # with the notify URLs' secrets: a mismatch is routed to the operators when it is stored
        config = load_config(ctx.obj["config"])
    except ConfigError as exc:
        _fail(str(exc), 2)
        return
    ocr = False if no_ocr else None
    if no_prefect:
        summary = _read_plain(config, workers, limit, ocr)
    else:
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        from flows.read_moas import read_moas_flow

        state = read_moas_flow(str(config.path), workers, limit, ocr, return_state=True)
        result = state.result(raise_on_failure=False)
        if isinstance(result, BaseException):  # the disk or the database: said in one line
            raise result
        if not isinstance(result, dict):
            _fail(str(state.message or state.name))
            return
        summary = ReadSummary(**result)
    click.echo(summary.line())


def _read_plain(config: Any, workers: int, limit: int | None, ocr: bool | None) -> Any:
    from notifiers.outbox import deliveries_for
    from state.store import Store
    from watch287g.moa_reading import read_kept

    store = Store(config.database)
    try:
        return read_kept(
            store,
            config.rules,
            workers=workers,
            limit=limit,
            ocr=ocr,
            deliveries_for=deliveries_for(config.routing),
        )
    finally:
        store.close()
