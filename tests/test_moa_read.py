"""Reading real 287(g) MOAs (monitors/moa/) and `watch287g moa read`.

The PDFs in tests/fixtures/moa/ are real MOAs of the shared MOA fixtures (whole in corpus/, or a few of their
pages cut out with PDFium); expected.json holds values a person read on the pages. OCR is slow, so only one
page is OCR'd here (bench/moa_accuracy.py reads the whole set).
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from monitors.base import ParseError
from monitors.moa.moa_dates import find_dates
from monitors.moa.moa_signatures import signatures
from monitors.moa.page_ocr import ocr_available
from monitors.moa.pdf_pages import MAX_PAGES
from monitors.moa.read_moa import read_moa, read_pages
from monitors.moa.text_quality import common_word_share, usable_text
from watch287g.cli import main

HERE = Path(__file__).parent / "fixtures" / "moa"
CORPUS = HERE / "corpus"  # the 23 real MOAs, whole
EXPECTED = {f["file"]: f for f in json.loads((HERE / "expected.json").read_text(encoding="utf-8"))["files"]}
needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract not installed (scripts/check.sh installs it)"
)


def fixture(name: str) -> bytes:
    return (HERE / name).read_bytes()


def test_2025_fillable_template_reads_the_form_fields() -> None:
    """Chattahoochee's agency and signature dates are typed into form fields, not the page text."""
    reading = read_moa(fixture("chattahoochee-2025-tfm-form.pdf"), ocr=False)
    assert reading.agency == "Chattahoochee Police Department"
    assert (reading.model, reading.models) == ("Task Force Model", ["Task Force Model"])
    assert reading.revision == "Revised 02/12/2025"
    assert (reading.pages, reading.text_source, reading.pages_unread) == (14, "text", [])
    assert [(s["party"], s["date"]) for s in reading.signatures] == [
        ("LEA", "2028-02-28"),
        ("ICE", "2025-02-28"),
    ]
    assert reading.state is None  # the document never says Florida: not guessed from the city of ICE's office


def test_2020_jem_with_addendum_and_digital_signature() -> None:
    reading = read_moa(fixture("calhoun-2020-jem-addendum-p1-7-12.pdf"), ocr=False)
    assert reading.agency == "Calhoun County Sheriffs Office"
    assert reading.model == "Jail Enforcement Model"
    assert reading.revision is None  # the 2020 template has no revision footer
    assert [(a["page"], a["title"]) for a in reading.addenda] == [
        (3, "ADDENDUM TO MODIFY MEMORANDUM OF AGREEMENT")
    ]
    assert "2020-06-24" in reading.addenda[0]["dates"]  # the digital stamp "2020.06.24 10:01:06"
    addendum_ice = [s for s in reading.signatures if s["document"] == "addendum" and s["party"] == "ICE"]
    assert [s["date"] for s in addendum_ice] == ["2020-06-24"]


def test_2019_wso_template_model_from_its_authorities() -> None:
    """The 2019 WSO title is only "MEMORANDUM OF AGREEMENT": the model comes from the authorities delegated."""
    reading = read_moa(fixture("manatee-2019-wso-p1-7-8.pdf"), ocr=False)
    assert reading.agency == "Manatee County Sheriffs Office"
    assert reading.models == ["Warrant Service Officer"]
    assert reading.revision is None


def test_garbled_fonts_are_not_text() -> None:
    """Noble County's fonts extract as symbols: not usable text, so without OCR nothing is read or guessed."""
    body = fixture("noble-2025-wso-garbled-p1.pdf")
    with pdfium.PdfDocument(body) as document:
        garbage = document[0].get_textpage().get_text_range()
    assert len(garbage) > 2000 and common_word_share(garbage) < 0.05 and not usable_text(garbage)
    reading = read_moa(body, ocr=False)
    assert (reading.text_source, reading.agency, reading.state, reading.models) == ("none", None, None, [])
    assert reading.signatures == [] and reading.pages_unread == [1]


def test_scan_without_ocr_is_unread_not_guessed() -> None:
    reading = read_moa(fixture("kennethcity-2025-tfm-scan-p1.pdf"), ocr=False)
    assert (reading.text_source, reading.agency, reading.model, reading.pages) == ("none", None, None, 1)


@needs_ocr
def test_scan_is_read_by_ocr() -> None:
    reading = read_moa(fixture("kennethcity-2025-tfm-scan-p1.pdf"))
    assert (reading.text_source, reading.pages_ocr) == ("ocr", [1])
    assert reading.agency == "Kenneth City Police Department"
    assert reading.model == "Task Force Model"
    assert reading.state in (None, "FL")  # this page's OCR loses the faint ", FL"; never another state


def test_usable_text_measure() -> None:
    prose = (
        "This Memorandum of Agreement constitutes an agreement between ICE and the LEA, pursuant to which "
        * 3
    )
    assert usable_text(prose)
    assert not usable_text("dƞ7 g.ƞ$ƞŦCƞ7,2ƞ?.ƞƞ-ƞƞéXYƞÚŏ &ŷċƞƞ " * 20)
    assert not usable_text("March 3, 2025 Caleb Vitello Acting Director")  # a signature page's few words


def test_dates_as_moas_write_them() -> None:
    text = "Date: OCT 1 5 2019 ... Date: 2020.06.08 10:05:20 ... March 3, 2025 ... 02/19/25 ... 5-4-2020 ... 13/45/2025"
    assert [iso for _, iso in find_dates(text)] == [
        "2019-10-15",
        "2020-06-08",
        "2025-03-03",
        "2025-02-19",
        "2020-05-04",
    ]


def pdf_with_stream(content: bytes) -> bytes:
    """A one-page PDF whose content stream is `content`, Flate-compressed."""
    data = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(fixture("kennethcity-2025-tfm-scan-p1.pdf")))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def many_pages(count: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(count):
        document.new_page(612, 792)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


BAD_FILES = {
    "empty": (lambda: b"", "not a PDF: the file is empty"),
    "html": (lambda: b"<html><body>Not found</body></html>", "not a PDF"),
    "truncated": (lambda: fixture("manatee-2019-wso-p1-7-8.pdf")[:60_000], "broken PDF"),
    "encrypted": (encrypted_pdf, "encrypted PDF"),
    "2,000 pages": (
        lambda: many_pages(2000),
        f"too many pages: 2,000 (an MOA has 10-14; at most {MAX_PAGES}",
    ),
    "decompression bomb": (lambda: pdf_with_stream(b" " * 300_000_000), "decompression bomb"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_unreadable_files_are_a_clear_parse_error(case: str, tmp_path: Path) -> None:
    make, reason = BAD_FILES[case]
    body = make()
    with pytest.raises(ParseError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        read_moa(body, ocr=False)
    path = tmp_path / "moa.pdf"
    path.write_bytes(body)
    result = CliRunner().invoke(main, ["moa", "read", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {path}: {reason[:12]}")


def test_cli_json_has_the_fields(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["moa", "read", "--json", str(HERE / "chattahoochee-2025-tfm-form.pdf")]
    )
    assert result.exit_code == 0, result.output
    reading = json.loads(result.stdout)
    keys = {"agency", "state", "model", "models", "signatures", "revision", "addenda", "pages", "text_source"}
    assert keys <= set(reading)
    assert (reading["agency"], reading["model"], reading["text_source"]) == (
        "Chattahoochee Police Department", "Task Force Model", "text")  # fmt: skip
    text = CliRunner().invoke(
        main, ["moa", "read", "--no-ocr", str(HERE / "kennethcity-2025-tfm-scan-p1.pdf")]
    )
    assert (
        text.exit_code == 0 and "agency:     (not stated)" in text.stdout and "unread pages 1" in text.stdout
    )


def test_every_real_moa_reads_and_text_layers_give_their_model() -> None:
    """All 23 real MOAs open; those with a text layer give the model a person read (no OCR: fast)."""
    assert len(EXPECTED) == 23
    for name, expected in EXPECTED.items():
        body = (CORPUS / name).read_bytes()
        assert hashlib.sha256(body).hexdigest() == expected["sha256"], name  # the copy is the document read
        reading = read_moa(body, ocr=False)
        assert reading.pages == expected["pages"], name
        if expected["text_source"] == "text":
            assert reading.models == expected["models"]["value"], name


def test_signature_layouts_of_the_templates() -> None:
    """The three layouts, as OCR and text layers of dev files give them (Onslow, Lee, Leon County)."""
    columns = (
        "By signing this MOA, each party ...\nFor the LEA: For ICE:\n"
        "Date: Maech JA ANS Date: March 25, 2025, P\nName: Christopher D. Thomas Name: __ Todd M. Lyons\n"
    )
    assert signatures(columns) == [
        {"document": "MOA", "party": "LEA", "name": "Christopher D. Thomas", "date": None},
        {"document": "MOA", "party": "ICE", "name": "Todd M. Lyons", "date": "2025-03-25"},
    ]
    one_after_the_other = (
        "By signing this MOA, each party ...\nFor the LEA:\nDate: GQ. 4,\nName: Carmine Marceno\nTitle: Sheriff\n"
        "For ICE:\nDate: March 3, 2025\nName: Caleb Vitello\nTitle: Acting Director\nRevised 02/15/2025\n"
    )
    assert [(s["party"], s["name"], s["date"]) for s in signatures(one_after_the_other)] == [
        ("LEA", "Carmine Marceno", None),
        ("ICE", "Caleb Vitello", "2025-03-03"),
    ]
    stacked = (
        "By signing this MOA, each party ...\nDate: OCT 1 5 2019\nTimothy S. Robbins\n"
        "Acting Executive Associate Director\nEnforcement and Removal Operations\n"
        "U.S. Immigration and Customs Enforcement\n7\nAPPENDIX A\nDate: 01/01/2020\n"
    )
    assert signatures(stacked) == [
        {"document": "MOA", "party": "ICE", "name": "Timothy S. Robbins", "date": "2019-10-15"}
    ]


def test_a_failing_ocr_leaves_the_page_unread() -> None:
    def broken_ocr(image: object) -> str:
        raise RuntimeError("Tesseract process timeout")

    texts, sources = read_pages(fixture("kennethcity-2025-tfm-scan-p1.pdf"), broken_ocr)
    assert (texts, sources) == ([""], ["none"])
