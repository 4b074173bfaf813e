"""OCR of one rendered page with Tesseract (Apache-2.0) through pytesseract, when the machine has it.

Tesseract is a Debian package (`tesseract-ocr`, `tesseract-ocr-eng`), not a Python wheel, so it may be
missing: `ocr_available()` says so and the reader then reports the page unread instead of guessing.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from typing import Any

OCR_LANGUAGE = "eng"
# seconds for one page; a Letter page at 300 dpi takes 3-4 s on this VM (bench/README.md)
OCR_TIMEOUT = 120


def ocr_available() -> bool:
    """True when pytesseract imports and the tesseract binary has English data (WATCH287G_NO_OCR=1 says no)."""
    return os.environ.get("WATCH287G_NO_OCR", "") in ("", "0") and _tesseract_installed()


@lru_cache(maxsize=1)
def _tesseract_installed() -> bool:
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract

        return OCR_LANGUAGE in pytesseract.get_languages(config="")
    except Exception:  # a broken install (no language data, a binary that will not run) is "no OCR"
        return False


def ocr_image(image: Any) -> str:
    """Tesseract's text for a page image (layout analysis with automatic page segmentation)."""
    import pytesseract

    return str(pytesseract.image_to_string(image, lang=OCR_LANGUAGE, timeout=OCR_TIMEOUT))
