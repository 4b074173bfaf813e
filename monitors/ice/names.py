"""Canonical forms of what ICE writes by hand: states, support models, agency names, dates, MOA links.

Everything here is pure and total: unknown input gives None (or the cleaned text), never an exception,
so the caller decides whether an unknown value makes a list implausible.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qs, quote, unquote, urlsplit

STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico", "GU": "Guam",
    "VI": "U.S. Virgin Islands", "AS": "American Samoa", "MP": "Northern Mariana Islands",
}  # fmt: skip
_STATE_BY_NAME = {name.upper(): code for code, name in STATES.items()}

MODELS = ("Jail Enforcement Model", "Task Force Model", "Warrant Service Officer", "Tribal Task Force Model")

# Agency-name tokens ICE abbreviates or expands between lists ("PD" -> "Police Department").
_ABBREVIATIONS = {
    "pd": "police department", "so": "sheriffs office", "dept": "department", "dep": "department",
    "co": "county", "cnty": "county", "ft": "fort", "mt": "mount", "st": "saint", "twp": "township",
    "hwy": "highway", "doc": "department of corrections", "corr": "corrections", "le": "law enforcement",
    "ofc": "office", "off": "office", "pol": "police", "univ": "university", "&": "and",
}  # fmt: skip


# Characters that are never content in a cell and can deceive a reader or a terminal: control characters
# (C0 and C1: escape sequences, carriage returns) become spaces; format characters (Unicode category Cf:
# bidi overrides such as U+202E that show "fdp.exe" as "exe.pdf", zero-width spaces and joiners, soft
# hyphens) are removed. Output uses the same classes (watch287g/terminal.py), as a second line of defence.
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"
FORMAT_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
_FORMAT = re.compile(f"[{FORMAT_CHARS}]")


@lru_cache(maxsize=65536)
def clean_text(value: object) -> str:
    """Cell text with NBSP, odd spaces and line breaks folded, control and format characters removed (see
    CONTROL_CHARS) and the ends trimmed."""
    return visible_text(unicodedata.normalize("NFKC", str(value or "")))


def visible_text(value: str | None) -> str:
    """One line: control characters become spaces, format characters go, runs of whitespace are one space."""
    return " ".join(_FORMAT.sub("", _CONTROL.sub(" ", value or "")).split())


@lru_cache(maxsize=4096)
def state_code(value: object) -> str | None:
    """USPS code for a state written any way ICE has written it (case, spaces, one-letter typos)."""
    text = clean_text(value).upper().replace(".", "")
    if text in STATES:
        return text
    if text in _STATE_BY_NAME:
        return _STATE_BY_NAME[text]
    close = difflib.get_close_matches(text, list(_STATE_BY_NAME), n=1, cutoff=0.85)
    return _STATE_BY_NAME[close[0]] if close else None


@lru_cache(maxsize=1024)
def support_model(value: object) -> str | None:
    """One of MODELS for the spellings seen ("Warrant Services Officer", "Jail Enforcment Model"...)."""
    text = re.sub(r"[^a-z ]", "", clean_text(value).lower())
    if not text:
        return None
    if "tribal" in text:
        return "Tribal Task Force Model"
    if text.startswith(("jail", "jem")) or "jail" in text:
        return "Jail Enforcement Model"
    if text.startswith(("warrant", "wso")) or "warrant" in text:
        return "Warrant Service Officer"
    if "task" in text or text == "tfm":
        return "Task Force Model"
    close = difflib.get_close_matches(text, [m.lower() for m in MODELS], n=1, cutoff=0.75)
    return MODELS[[m.lower() for m in MODELS].index(close[0])] if close else None


@lru_cache(maxsize=65536)
def agency_key(name: object) -> str:
    """Canonical agency name: case, punctuation, apostrophes, whitespace and abbreviations folded."""
    text = clean_text(name).casefold().replace("&", " & ")
    text = re.sub(r"[’'`´]", "", text)
    tokens = re.sub(r"[^\w&]+", " ", text).split()
    return " ".join(_ABBREVIATIONS.get(token, token) for token in tokens)


def name_similarity(a: str, b: str) -> float:
    """Similarity of two canonical agency names, 0..1 (token-aware, so word order matters little)."""
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    ta, tb = set(a.split()), set(b.split())
    overlap = len(ta & tb) / max(len(ta | tb), 1)
    return max(ratio, overlap)


_EXCEL_EPOCH = date(1899, 12, 30)


@lru_cache(maxsize=16384)
def signed_date(value: object) -> tuple[str | None, str | None]:
    """(ISO date, None) when the SIGNED cell is a plausible date, else (None, the raw text) for the record."""
    iso, text = _signed_date(value)
    if iso and not 1990 <= int(iso[:4]) <= 2100:  # ICE typed "5025-07-07" once: keep it as text, not a date
        return None, iso
    return iso, text


def _signed_date(value: object) -> tuple[str | None, str | None]:
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 < value < 80000:
        return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat(), None
    text = clean_text(value)
    if not text:
        return None, None
    parsed = _parse_date_text(text)
    return (parsed, None) if parsed else (None, text)


def _parse_date_text(text: str) -> str | None:
    """ISO dates, m/d/yyyy, and the broken forms seen in ICE files ("05/082025", "7/72025")."""
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    broken = re.fullmatch(r"(\d{1,2})/(\d{1,2})(\d{4})", text)
    if broken:
        month, day, year = (int(g) for g in broken.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return None
    return None


@lru_cache(maxsize=65536)
def unwrap_url(url: str | None) -> str | None:
    """The real target of an MOA hyperlink: Outlook safelinks unwrapped, `https:/www` mended, spaces decoded."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.netloc.endswith("safelinks.protection.outlook.com"):
        inner = parse_qs(parts.query).get("url")
        if inner:
            url = inner[0]
    url = re.sub(r"^https?://web\.archive\.org/web/\d+[a-z_]*/", "", url, flags=re.IGNORECASE)
    url = re.sub(r"^(https?):/+(?=[^/])", r"\1://", url, flags=re.IGNORECASE)
    # One spelling for "a b.pdf", "a%20b.pdf": decode, then quote what must be quoted in a URL.
    return quote(unquote(url).strip(), safe=":/?&=#%~+,;@!$'()*[]") or None
