"""Pure functions over the ICE 287(g) page: where the two spreadsheets are, and the text worth watching.

ICE renames the spreadsheets with every update (participatingAgencies07302025pm.xlsx, ...pm copy.xlsx,
PendingAgencies08012025AM.xlsx), so links are found by keyword in link text or file name, never by name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from monitors.html_text import text_pieces

KEYWORDS = {"participating": "participating", "pending": "pending"}

# Chrome and volatile widgets: none of this is the program's content.
_DROP_TAGS = ["script", "style", "noscript", "template", "nav", "header", "footer", "form", "button", "svg"]
_DROP_ROLES = re.compile(r"^(?:navigation|banner|contentinfo|menu|menubar|search)$", re.IGNORECASE)
_DROP_CLASS = re.compile(r"menu|breadcrumb|skip-link|visually-hidden", re.IGNORECASE)
_BLOCK_TAGS = frozenset([
    "p", "div", "section", "article", "main", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "table", "tr", "td", "th", "dl", "dt", "dd", "blockquote", "pre", "br", "hr", "figure", "figcaption",
])  # fmt: skip

_BLOCK_MARK = "\ue000"  # a private-use character: cannot occur in ICE's text

_DATE = (
    r"(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4})"
)
# "Last Reviewed/Updated: 07/30/2025", "Updated: July 30, 2025", "(updated 7/30/2025)", "as of 07/30/2025"
_VOLATILE_DATE = re.compile(
    rf"\b((?:last\s+)?(?:reviewed\s*/\s*)?(?:updated|reviewed|as\s+of)\s*:?\s*){_DATE}", re.IGNORECASE
)


@dataclass(frozen=True)
class ListLinks:
    participating: str | None  # absolute URL
    pending: str | None


def find_list_links(html: bytes, base_url: str) -> ListLinks:
    """The first spreadsheet link per list, in document order; a non-.xlsx link only if no .xlsx one."""
    soup = BeautifulSoup(html, "lxml")
    found: dict[str, list[tuple[bool, str]]] = {key: [] for key in KEYWORDS}
    for anchor in soup.find_all("a", href=True):
        url = _absolute_url(str(anchor["href"]), base_url)
        if url is None:
            continue
        key = _list_of(anchor.get_text(" "), _file_name(url))
        if key:
            found[key].append((_is_xlsx(url), url))
    return ListLinks(participating=_best(found["participating"]), pending=_best(found["pending"]))


def _list_of(link_text: str, file_name: str) -> str | None:
    """Which list a link points to; the file name wins over the link text when both say something."""
    for haystack in (file_name.lower(), " ".join(link_text.lower().split())):
        hits = [key for key, word in KEYWORDS.items() if word in haystack]
        if len(hits) == 1:
            return hits[0]
    return None


def _best(candidates: list[tuple[bool, str]]) -> str | None:
    xlsx = [url for is_xlsx, url in candidates if is_xlsx]
    if xlsx:
        return xlsx[0]
    # Without a spreadsheet, only trust a link whose *file name* names the list (not "pending" prose).
    named = [url for _, url in candidates if any(w in _file_name(url).lower() for w in KEYWORDS.values())]
    return named[0] if named else None


def _absolute_url(href: str, base_url: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
        return None
    url = urldefrag(urljoin(base_url, href)).url  # a fragment is never sent to the server
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    # "pm copy.xlsx" arrives with a raw space; quote only unsafe characters so "%20" stays as is.
    return quote(url, safe="%/:=&?~#+!$,;'@()*[]")


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _is_xlsx(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".xlsx")


def normalized_text(html: bytes) -> str:
    """Main-content text, one line per block, with chrome and review dates removed (stable across runs)."""
    soup = BeautifulSoup(html, "lxml")
    root = _content_root(soup)
    # Source line breaks are mere whitespace; only block boundaries start a new line. One pass, no tree edits.
    pieces = text_pieces(root, _chrome(root), _BLOCK_TAGS, _BLOCK_MARK)
    text = unicodedata.normalize("NFKC", "".join(pieces))  # NFKC folds NBSP and other odd spaces
    text = text.replace("\u200b", "").replace("\ufeff", "")
    lines = (" ".join(part.split()) for part in text.split(_BLOCK_MARK))
    text = "\n".join(line for line in lines if line)
    return _VOLATILE_DATE.sub(r"\1[date]", text)


def _content_root(soup: BeautifulSoup) -> Tag:
    """<main>, else an explicit main region, else the H1's container, else the whole body."""
    for selector in ("main", "[role=main]", "#main-content", "article"):
        found = soup.select_one(selector)
        if found is not None:
            return found
    heading = soup.find("h1")
    if isinstance(heading, Tag) and isinstance(heading.parent, Tag):
        return heading.parent
    return soup.body or soup


def _chrome(root: Tag) -> set[int]:
    """The ids of the chrome elements under `root`, to be skipped (not decomposed: each decompose scans its
    siblings, which is quadratic on a page of many siblings)."""
    # A <header> or <footer> holding the H1 belongs to the article itself, not to the site chrome.
    doomed = [
        el for el in root.find_all(_DROP_TAGS) if el.name not in ("header", "footer") or not el.find("h1")
    ]
    doomed += root.find_all(role=_DROP_ROLES)
    doomed += root.find_all(class_=_DROP_CLASS)
    doomed += root.find_all(id=_DROP_CLASS)
    return {id(element) for element in doomed}
