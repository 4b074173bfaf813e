"""The fields an MOA states in its text: the agency (PARTIES), its state, the support model(s), the template
revision and the addenda. Pure functions of the pages' text; a field the text does not state is None/empty.

The rules and their measured accuracy: docs/moa-spec.md.
"""

from __future__ import annotations

import re
from collections import Counter

from monitors.ice.names import MODELS, STATES, clean_text, state_code, support_model
from monitors.moa.moa_signatures import signatures

# "... Department of Homeland Security (DHS), and the Onslow County Sheriffs Office, NC , hereinafter the law
# enforcement agency (LEA)" / "... (DHS), and the Leon County Sheriffs Office ("SHERIFF"), pursuant to ...".
# OCR reads "(DHS)" as "(OHS)" and "and" as "end" (measured on the dev files): any short parenthesis after
# "Homeland Security", then "and" or its misreadings, then the agency up to ", ST", "(", "hereinafter" or "pursuant".
_PARTIES = re.compile(
    r"Homeland\s+Security\s*\(.{1,6}?\)\s*,?\s*(?:and|end|arid|aud)\s+(?:e\s+)?(?:the\s+)?(?P<agency>.{3,160}?)"
    r"\s*(?:[,|]\s*(?P<state>[A-Z]{2})\b\s*,?\s*)?(?:\(|,?\s*e?hereinafter|,\s*pursuant|\bpursuant\b)",
    re.IGNORECASE | re.DOTALL,
)
_MODEL_PHRASES = {
    "Jail Enforcement Model": re.compile(r"Jail\s+Enforcement\s+Model|\(JEM\)", re.IGNORECASE),
    "Task Force Model": re.compile(r"(?<!Tribal )Task\s+Force\s+Model|\(TFM\)", re.IGNORECASE),
    "Warrant Service Officer": re.compile(r"Warrant\s+Service\s+Officer|\(WSO\)", re.IGNORECASE),
    "Tribal Task Force Model": re.compile(r"Tribal\s+Task\s+Force", re.IGNORECASE),
}
# The 2019 WSO template never names its model; its only delegated authorities are serving warrants of
# arrest and of removal at release from custody, which is what a Warrant Service Officer is.
_WSO_AUTHORITIES = re.compile(r"serve\s+and\s+execute\s+warrants\s+of\s+arrest", re.IGNORECASE)
_REVISION = re.compile(r"\b(Rev(?:ised|\.)?)\s*(\d{1,2}/\d{1,2}/\d{2,4})")
_ADDENDUM_HEADING = re.compile(r"^\s*(ADDENDUM\b[^\n]{0,80})", re.MULTILINE)
_ZIP_STATE = re.compile(r",\s*([A-Z]{2})\s+\d{5}\b")  # "Tallahassee, FL 32301"


def parties_match(text: str) -> re.Match[str] | None:
    return _PARTIES.search(text[:8000])


def agency(text: str) -> str | None:
    """The agency as the PARTIES section names it ("Leon County Sheriffs Office"), OCR noise and all."""
    match = parties_match(text)
    if not match:
        return None
    name = clean_text(match.group("agency")).strip(" ,.;|\"'“”")
    parts = name.rsplit(",", 1)
    if len(parts) == 2 and state_code(parts[1]) is not None and len(parts[1].strip()) > 2:
        name = parts[0].strip()  # "Franklin County Sheriff's Office, Alabama": the state is its own field
    if name.lower().startswith("hereinafter"):
        return None  # the name is missing from the text (Hughes County's is printed in faint grey)
    if "_" in name or not 3 <= len(name) <= 120:
        return None  # the 2025 form's blank ("the____") when the name was typed into a form field instead
    return name


def state(text: str) -> str | None:
    """USPS code: the one after the agency in PARTIES (2025 template), else the commonest "City, ST 12345" of
    the document's addresses other than ICE's own in Washington, DC."""
    match = parties_match(text)
    if match and match.group("state") and match.group("state").upper() in STATES:
        return match.group("state").upper()
    if match:  # "the Knox County Sheriff's Office, Tennessee (KCSO)": a state's name at the agency's end
        tail = re.split(r",\s*", clean_text(match.group("agency")))
        if len(tail) > 1 and (code := state_code(tail[-1])) is not None:
            return code
    if not match:
        return None
    # The agency's own address (points of contact): a ZIP within a few lines after a mention of its name.
    # Addresses elsewhere are ICE's field offices, often in another state (Dallas for Oklahoma's agencies).
    words = re.escape(" ".join(clean_text(match.group("agency")).split()[:2]))
    codes: Counter[str] = Counter()
    for mention in re.finditer(words.replace(r"\ ", r"\s+"), text, re.IGNORECASE):
        codes.update(c for c in _ZIP_STATE.findall(text[mention.end() : mention.end() + 250]) if c in STATES)
    codes.pop("DC", None)
    return codes.most_common(1)[0][0] if codes else None


def models(text: str) -> list[str]:
    """The support models the document names, in the order of MODELS; [] when it names none."""
    named = [model for model in MODELS if _MODEL_PHRASES[model].search(text)]
    if "Tribal Task Force Model" in named and "Task Force Model" in named:
        named.remove("Task Force Model")
    if not named and _WSO_AUTHORITIES.search(text):
        named = ["Warrant Service Officer"]
    return [m for m in named if support_model(m) == m]


def revision(text: str) -> str | None:
    """The template revision its footers state ("Revised 02/12/2025"), the commonest when they differ."""
    found = Counter(f"{word} {when}" for word, when in _REVISION.findall(text))
    return found.most_common(1)[0][0] if found else None


def addenda(pages: list[str]) -> list[dict[str, object]]:
    """Each addendum that follows the MOA in the same PDF: its heading, first page (1-based) and the dates of
    its signatures (its body's dates are the MOA's it amends: "the MOA signed on March 13, 2020")."""
    found: list[dict[str, object]] = []
    for index, page in enumerate(pages):
        heading = _ADDENDUM_HEADING.search(page)
        if heading and index > 0:
            found.append({"title": clean_text(heading.group(1)), "page": index + 1, "dates": []})
    for number, item in enumerate(found):
        start = int(str(item["page"])) - 1
        end = int(str(found[number + 1]["page"])) - 1 if number + 1 < len(found) else len(pages)
        signed = signatures("\n".join(pages[start:end]))
        item["dates"] = sorted({str(s["date"]) for s in signed if s["document"] == "addendum" and s["date"]})
    return found
