"""Per-field accuracy of the MOA reader against the expected values in tests/fixtures/moa/expected.json.

    .venv/bin/python bench/moa_accuracy.py [--split dev|test|all] [--corpus ../shared/fixtures/moa]
        [--cache DIR] [--no-ocr]

Reads each real MOA as `watch287g moa read` does (OCR'ing the pages without usable text, so a full run takes
minutes); --cache keeps each file's page texts so a re-run after a rule change only re-applies the rules.
Prints a markdown table per field: correct / wrong / missing (the reader said nothing) and each miss.
The split is fixed in expected.json (by agency); rules are tuned on dev and reported on test (docs/moa-spec.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitors.ice.names import agency_key, name_similarity  # noqa: E402
from monitors.moa.form_values import form_values  # noqa: E402
from monitors.moa.page_ocr import ocr_image  # noqa: E402
from monitors.moa.read_moa import fields_of, read_pages  # noqa: E402

EXPECTED = ROOT / "tests" / "fixtures" / "moa" / "expected.json"
FIELDS = ["agency", "state", "models", "revision", "signature dates", "signature names", "addenda", "pages", "text_source"]  # fmt: skip


def surname(name: str | None) -> str:
    words = [w for w in re.findall(r"[A-Za-z]+", name or "") if w.upper() not in ("II", "III", "JR", "SR")]
    return words[-1].casefold() if words else ""


def score(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, list[str]]:
    """{field: list of outcomes}: "ok", "wrong: ...", "missing: ..." (one per value; signatures one each)."""
    out: dict[str, list[str]] = {field: [] for field in FIELDS}
    want_agency, got_agency = expected["agency"]["value"], got["agency"]
    if got_agency is None:
        out["agency"].append(f"missing: {want_agency}")
    else:  # OCR noise ("Shenff1s") is tolerated, a different agency is not
        close = name_similarity(agency_key(want_agency), agency_key(got_agency)) >= 0.8
        out["agency"].append("ok" if close else f"wrong: {got_agency!r} for {want_agency!r}")
    for field, value in (("state", got["state"]), ("models", got["models"]), ("revision", got["revision"])):
        want = expected[field]["value"]
        if want == value:
            out[field].append("ok")
        else:
            out[field].append(f"missing: {want}" if value in (None, []) else f"wrong: {value} for {want}")
    for sig in expected["signatures"]:
        same = [
            s for s in got["signatures"] if s["party"] == sig["party"] and s["document"] == sig["document"]
        ]
        if sig["date"]:
            dates = [s["date"] for s in same if s["date"]]
            label = f"{sig['document']} {sig['party']} {sig['date']}"
            out["signature dates"].append(
                "ok"
                if sig["date"] in dates
                else (f"wrong: {dates} for {label}" if dates else f"missing: {label}")
            )
        if sig["name"]:
            names = [s["name"] for s in same if s["name"]]
            label = f"{sig['document']} {sig['party']} {sig['name']}"
            hit = any(surname(n) == surname(sig["name"]) for n in names)
            out["signature names"].append(
                "ok" if hit else (f"wrong: {names} for {label}" if names else f"missing: {label}")
            )
    want_add = [(a["page"], set(a["dates"])) for a in expected["addenda"]]
    got_add = [(a["page"], set(a["dates"])) for a in got["addenda"]]
    ok_add = len(want_add) == len(got_add) and all(
        wp == gp and wd <= gd for (wp, wd), (gp, gd) in zip(want_add, got_add, strict=False)
    )
    out["addenda"].append("ok" if ok_add else f"wrong: {got_add} for {want_add}")
    out["pages"].append("ok" if got["pages"] == expected["pages"] else f"wrong: {got['pages']}")
    out["text_source"].append(
        "ok" if got["text_source"] == expected["text_source"] else f"wrong: {got['text_source']}"
    )
    return out


def read_cached(path: Path, cache: Path | None, ocr: bool) -> dict[str, Any]:
    body = path.read_bytes()
    cached = cache / (path.stem + (".json" if ocr else ".noocr.json")) if cache else None
    if cached and cached.exists():
        pages, sources = json.loads(cached.read_text())
    else:
        pages, sources = read_pages(body, ocr_image if ocr else None)
        if cached:
            cached.write_text(json.dumps([pages, sources]))
    return fields_of(pages, sources, form_values(body)).as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "fixtures" / "moa")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args()
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    totals: dict[str, list[str]] = {field: [] for field in FIELDS}
    misses: list[str] = []
    for expected in json.loads(EXPECTED.read_text())["files"]:
        if args.split != "all" and expected["split"] != args.split:
            continue
        got = read_cached(args.corpus / expected["file"], args.cache, not args.no_ocr)
        for field, outcomes in score(expected, got).items():
            totals[field] += outcomes
            misses += [f"- {expected['file']}: {field}: {o}" for o in outcomes if o != "ok"]
    print(f"| field ({args.split}) | correct | wrong | missing |\n|---|---:|---:|---:|")
    for field, outcomes in totals.items():
        ok = outcomes.count("ok")
        wrong = sum(o.startswith("wrong") for o in outcomes)
        print(f"| {field} | {ok}/{len(outcomes)} | {wrong} | {len(outcomes) - ok - wrong} |")
    print("\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
