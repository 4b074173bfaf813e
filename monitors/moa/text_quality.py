"""Whether a page's text layer can be believed, measured rather than assumed.

Real MOAs carry text layers of every quality: clean Word exports, OCR'd scans with noise, scans with no text,
and a file whose fonts map to garbage ("dƞ7 g.ƞ$ƞŦCƞ7"). English prose, even noisy OCR of it, is about
a third common short words ("the", "of", "and", "to", "shall"); garbage and glued text ("forerelease
ofeinformation") has almost none. A page is usable when it has enough characters and enough of them.
"""

from __future__ import annotations

import re

# The commonest English words plus the commonest words of these agreements; lower case.
COMMON_WORDS = frozenset(
    "a about above after all also an and any are as at be been before between both but by can each for from "
    "has have he her herein his if in into is it its may must no not of on only or other our shall she "
    "should such than that the their them then there these they this those to under until upon was we were "
    "what when where which while who will with within would you your agreement agency authority county "
    "date enforcement ice immigration law lea memorandum moa office officer parties party personnel "
    "program purpose sheriff state signature title training".split()
)
_WORD = re.compile(r"[A-Za-z]+")
MIN_CHARS = 120  # a page of an MOA has 500-3,500 characters; fewer is a signature image or a blank page
MIN_COMMON_SHARE = 0.15  # dev pages: prose >= 0.25, garbage and glued text <= 0.08 (docs/moa-spec.md)


def common_word_share(text: str) -> float:
    """Share of the page's whitespace-separated tokens that are common words (0 when there are none)."""
    tokens = text.split()
    if not tokens:
        return 0.0
    hits = sum(
        1
        for token in tokens
        if _WORD.fullmatch(token.strip(".,;:()\"'")) and token.strip(".,;:()\"'").lower() in COMMON_WORDS
    )
    return hits / len(tokens)


def usable_text(text: str) -> bool:
    """True when a text layer reads as prose; False for no text, a few words, or garbage fonts."""
    return len(text.strip()) >= MIN_CHARS and common_word_share(text) >= MIN_COMMON_SHARE
