"""Values typed into a PDF's form fields (AcroForm): the 2025 Task Force template is a fillable form whose
agency name, dates and titles live there, not in the page text ("and the____________________, pursuant").

Read with pypdf (BSD, pure Python): PDFium can only reach field values through its low-level form API.
"""

from __future__ import annotations

import io
import logging
import re

from monitors.ice.names import STATES, clean_text, state_code
from monitors.moa.moa_dates import find_dates

MAX_FIELDS = 500  # a template has ~20; a file with thousands is not an MOA form


def form_values(body: bytes) -> dict[str, str]:
    """{field name: value} of the filled text fields; {} when there is no form or it cannot be read (a
    broken form is not a broken document: the page text is still read)."""
    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns about every oddity of real files
    try:
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            return {}
        fields = reader.get_fields() or {}
    except Exception:  # pypdf raises many types on malformed forms; the reader goes on without them
        return {}
    values: dict[str, str] = {}
    for name, field in list(fields.items())[:MAX_FIELDS]:
        value = field.get("/V") if hasattr(field, "get") else None
        if isinstance(value, str) and clean_text(value):
            values[clean_text(name)] = clean_text(value)
    return values


# Field names of ICE's 2025 fillable template (the same in every filled copy seen).
_AGENCY_FIELD = "name of LEA"  # "Name of LEA" (capital N) is the short name used in the body
_DATE_FIELDS = (("Date", "LEA"), ("Date_2", "ICE"))  # under "For the LEA:" and "For ICE:", left to right


def form_agency(values: dict[str, str]) -> str | None:
    """The agency typed into the PARTIES blank, without its abbreviation ('Pasco Sheriff's Office ("PSO")')."""
    name = values.get(_AGENCY_FIELD, "")
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip() or None


def form_state(values: dict[str, str]) -> str | None:
    """USPS code of an address typed into the form ("New Port Richey, FL 34654"), or of a "County, State"."""
    for value in values.values():
        match = re.search(r",\s*([A-Z]{2})\s+\d{5}\b", value)
        if match and match.group(1) in STATES and match.group(1) != "DC":
            return match.group(1)
    place = values.get("in theName of LEA", "")
    return state_code(place.rsplit(",", 1)[1]) if "," in place else None


def form_signatures(values: dict[str, str]) -> list[dict[str, str | None]]:
    """The signature dates typed into the form (the signatures are images; no name is printed)."""
    found: list[dict[str, str | None]] = []
    for field, party in _DATE_FIELDS:
        dates = find_dates(values.get(field, ""))
        if dates:
            found.append({"document": "MOA", "party": party, "name": None, "date": dates[0][1]})
    return found
