"""Rule-based classifier for state legislation about 287(g)-type agreements (no ML, pure, deterministic).

Step 1 (ABOUT): is the text about 287(g)-type agreements at all?  Cues: "287(g)", "1357(g)", "8 U.S.C. 1357"
(not 1357(d) etc.), "section 287 of the INA", "immigration (law) enforcement agreement", "delegated authority
program", "perform the functions of an immigration officer", an agreement/memorandum with immigration
authorities *to perform/enforce/assist with immigration enforcement*.  Detainers, detention contracts, E-Verify,
licences, tuition and sanctuary funding do not match, so they are "not_287g".

Step 2 (EFFECT): only OPERATIVE verbs decide, so titles such as "... Agreements - Prohibition" (a noun) do not:
  ban      "may not / shall not enter into (or renew ...)", "no X shall enter into", "prohibits X from entering",
           "bans/bars ... agreements", "requires/directs ... termination", "void all ... agreements";
  mandate  "shall/must enter into / request / apply / seek / participate in the program",
           "requires/directs X to enter into / apply / request";
  restrict a ban qualified by a condition ("unless", "except", "only if", "without approval", "unilaterally"),
           or limits without a ban or a mandate (approval of a governing body, public hearing, reporting, ...).
Negated and descriptive forms do not count: "repeals the prohibition", "nothing in this section shall require",
"existing law prohibits ...", "may not adopt a policy that prohibits ...".  Sentences containing an ABOUT cue
are read first; other sentences about agreements only if those give nothing.  Ban outranks mandate, which
outranks restrict.  A text about 287(g) with no operative phrase at all (grants-only, a repeal, a bare title)
is "restrict" with phrase == about_phrase: the weakest effect, kept visible for review rather than dropped.
Scope comes from the deciding sentence: state markers, local markers, or both when it only says "law
enforcement agency" generally.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

CLASSIFIER_VERSION = "classify/1"
LABELS = ("ban", "mandate", "restrict", "not_287g")
MAX_PHRASE = 200
WINDOW = 400  # negations and conditions are looked for this many characters around a phrase (keeps it linear)
_F = re.IGNORECASE | re.DOTALL


@dataclass(frozen=True)
class Classification:
    label: str  # "ban" | "mandate" | "restrict" | "not_287g"
    scope: dict[str, bool] = field(hash=False)  # {"state_agencies": ..., "local_agencies": ...}
    phrase: str  # the deciding phrase, verbatim from the text (<= 200 chars)
    about_phrase: str  # the phrase showing the text is about 287(g)-type agreements ("" for not_287g)
    version: str = CLASSIFIER_VERSION

    @property
    def about_287g_phrase(self) -> str:  # the name used in docs/legislation-spec.md
        return self.about_phrase


# Regex fragments, spliced into the patterns below as <NAME> (keeps one pattern per line).
_PARTS = {
    # Functions delegated by a 287(g) agreement (never "detain"/"house": those are detention contracts).
    "OFFICER": r"(?:perform\w*|exercis\w*|carr(?:y|ies|ying)\s+out)\s+(?:the\s+|a\s+|any\s+|certain\s+|specified\s+)?"
    r"(?:functions?|powers?|duties|authority)\s+of\s+(?:an?\s+)?(?:federal\s+)?immigration\s+officers?"
    r"|immigration[-\s]officer\s+functions?",
    "ENFORCE": r"(?:enforce\w*|enforcement\s+of)\s+(?:federal\s+)?(?:civil\s+)?immigration(?:\s+and\s+customs)?\s+laws?"
    r"|assist\w*\s+(?:with|in)\s+(?:federal\s+)?immigration\s+enforcement"
    r"|federal\s+(?:civil\s+)?immigration\s+enforcement\s+(?:powers|authority|functions)",
    # Verbs a ban forbids.
    "ENTER": r"(?:enter\w*\s+into|enter\b|renew\w*|extend\w*|sign\w*|execut\w*|remain\w*\s+(?:in|a\s+party)|"
    r"participat\w*|perform\w*|exercis\w*|continu\w*|maintain\w*|engag\w*|be\s+(?:a\s+)?party)",
    # Verbs a mandate requires ("request approval" and "apply to all agreements" are not mandates).
    "MANDATE": r"(?:enter\w*\s+into|enter\b|(?:request|seek)\w*(?!\s+(?:the\s+|prior\s+|written\s+)*(?:approval|consent|"
    r"authori[sz]ation|permission))|apply\b(?!\s+to\s+(?:all|any|each|every|this|these|those|such|agreements?)\b)|"
    r"negotiat\w*|ask\w*\s+for|(?:participat\w*|join\w*)\s+(?:in\s+)?(?:the\s+|a\s+|an\s+|any\s+)?"
    r"(?:[\w()\-]+\s+){0,3}?(?:programs?|agreements?|models?))",
    # Verbs that impose (verb forms only: "Directive 1" and "Order 47" are names, not verbs).
    "REQUIRE": r"(?:requir(?:e|es|ed|ing)|mandat(?:e|es|ed|ing)|direct(?:s|ed|ing)?|order(?:s|ed|ing)|compel\w*|oblig\w*)",
    "AGREEMENT": r"(?:agreements?|memorand\w*|contracts?|arrangements?|understandings?)\b",
}


def _rx(pattern: str) -> re.Pattern[str]:
    for name in ("AGREEMENT", "OFFICER", "ENFORCE", "ENTER", "MANDATE", "REQUIRE"):
        pattern = pattern.replace(f"<{name}>", f"(?:{_PARTS[name]})")
    return re.compile(pattern, _F)


def _rxs(*patterns: str) -> list[re.Pattern[str]]:
    return [_rx(p) for p in patterns]


# ---- Step 1: ABOUT cues --------------------------------------------------------------------------------------
_ABOUT = _rxs(
    r"\b287\s*\(\s*g\s*\)|\b287g\b|\b1357\s*\(\s*g\s*\)",
    r"\b8\s*U\.?\s?S\.?\s?C\.?\s*(?:§+|s\.|sec(?:tion)?\.?)?\s*1357\b(?!\s*\((?!\s*g\s*\)))",  # not 1357(d)
    r"\bsection\s+287\b(?![.\d(])(?=\s+(?:of\s+the\s+(?:federal\s+)?(?:immigration\s+and\s+nationality\s+act|INA)\b|agreements?|programs?))",
    r"\bINA\s+(?:§|section)\s*287\b(?![.\d])",
    r"\bimmigration\s+(?:law\s+)?enforcement\s+agreements?",
    r"\bdelegated\s+authority\s+program|\bdelegation\s+of\s+immigration\s+authority",
    r"<OFFICER>",
    r"<AGREEMENT>.{0,250}?(?:<OFFICER>|<ENFORCE>)",
)
# Weak cue: dropped in a sentence about detention that names no delegated function.
_ABOUT_WEAK = _rx(r"\bmemorand\w*\s+of\s+(?:agreement|understanding)\b.{0,200}?\bimmigration\b")
_DETENTION = _rx(r"\bdetain\w*|\bdetention\b|\bdetainers?\b|\bhous(?:e|es|ing)\b|\bbed\s+space")
_FUNCTION_RX = _rx(r"<OFFICER>|<ENFORCE>")
_AGREEMENTISH = _rx(r"\bagreement|\bmemorand|\bprogram\b|\b287\b|\bcontract")

# ---- Step 2: OPERATIVE phrases -------------------------------------------------------------------------------
_BAN = _rxs(
    r"\b(?:shall|may|must|will|can)\s*(?:not|no\s+longer)\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\bno\s+(?!later\b|earlier\b|sooner\b|less\b|more\b|fewer\b).{0,160}?\b(?:shall|may)\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\bprohibit(?:s|ed|ing)?\b.{0,250}?\bfrom\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\bprohibit(?:s|ed|ing)?\s+(?:[\w()'’\-]+\s+){0,6}(?:agreements?|participation|contracts?)\b",
    r"\b(?:bans|banned|banning|bars|barred|barring)\s+(?:[\w()'’/\-]+\s+){0,6}(?:agreements?|participation|contracts?|new\s+ones)\b",
    r"\b<REQUIRE>\b.{0,150}?\bterminat\w*\b.{0,80}?\b(?:agreements?|contracts?|participation|partnerships?)",
    r"\b(?:shall|must|will)\s+(?:\w+\s+){0,2}?terminate\s+(?:all|any|each|every|its|their|existing|such|the)\b.{0,80}?\b(?:agreements?|contracts?|participation)",
    r"\bterminat(?:es|ed|ing)\s+(?:[\w()'’\-]+\s+){0,4}?(?:agreements?|contracts?)\b",
    r"\b(?:agreements?|contracts?)\b.{0,80}?\b(?:shall|must)\s+be\s+(?:terminated|void|ended|rescinded|cancell?ed)",
    r"\bvoid(?:s|ing)?\s+(?:all|any|every|each|existing)\b",
)
# A colon-introduced list, matched across sentences: "shall not: (1) ... (G) Perform the functions of ...".
_BAN_LIST = _rx(
    r"\b(?:shall|may|must)\s+not\s*:.{0,3000}?(?P<p>perform\w*\s+the\s+functions\s+of\s+an\s+immigration\s+officers?[^.;]{0,120})"
)
_MANDATE = _rxs(
    r"\b(?:shall|must)\s+(?!not\b)(?:(?!not\b)\w+\s+){0,3}?<MANDATE>",
    r"\b<REQUIRE>\b(?:(?!\bto\b)[^;]){0,200}?\bto\s+(?:\w+\s+){0,2}?<MANDATE>",
    r"\bmandat\w*\s+that\s+.{0,150}?\b(?:ask|request|apply|seek|enter|participat)\w*",
    r"\b(?:shall|may|must)\s+not\s+(?:\w+\s+){0,2}?(?:terminat\w*|withdraw\w*|cancel\w*|rescind\w*)\b",  # must keep them
)
_RESTRICT = _rxs(
    r"\bmay\s+(?:\w+\s+){0,3}?(?:enter\w*\s+into|enter\b|renew\w*|participat\w*|perform\w*)\b.{0,250}?\bonly\s+(?:if|when|after|upon|with|where|within)\b",
    r"\b(?:approv\w*|consent|authori[sz]\w*)\s+(?:of|by)\s+(?:the\s+)?(?:county\s+board|board\s+of\s+(?:county\s+)?(?:commissioners|supervisors)|governing\s+body|city\s+council|county\s+council|legislative\s+body|attorney\s+general|governor)",
    r"\bpublic\s+hearing\b",
    r"\b(?:shall|must)\s+(?:\w+\s+){0,3}?(?:report|publish|post|disclose|submit|collect)\w*",
    r"\b(?:limit\w*|restrict\w*)\s+(?:\w+\s+){0,4}?(?:functions|scope|duties|authority|participation|agreements?)",
)
# Text before a ban phrase in its sentence that makes it not a ban (repeal, saving clause, description, ...).
_NEG_BAN = _rx(
    r"\bnothing\b|\brepeal\w*|\bstrik(?:e|es|ing)\b|\bremov\w*\s+(?:the\s+)?(?:prohibition|ban)|\blift\w*\s+(?:the\s+)?ban"
    r"|\bno\s+longer\s+(?:prohibit|bar|ban)|\b(?:existing|current|prior)\s+law\b|\bunder\s+(?:existing|current)\s+law"
    r"|\bnot\s+be\s+construed|\bdoes\s+not\s+(?:prohibit|bar|ban)|\b(?:shall|may|must)\s+not\s+(?:\w+\s+){0,6}$"
    r"|\b(?:polic(?:y|ies)|ordinances?|rules?|practices?)\s+(?:that|which)\s+$"
)
# Text after a ban or mandate phrase in its sentence that undoes it: "Section 3, which prohibits ..., is repealed."
_REPEALED_AFTER = _rx(r"\b(?:is|are)\s+(?:hereby\s+)?(?:repealed|struck|stricken|deleted|rescinded)\b")
# Text up to the end of a mandate phrase that makes it not a mandate.
_NEG_MANDATE = _rx(
    r"\bnothing\b|\bnot\s+(?:be\s+)?(?:required|mandated|obligated)|\bneither\b|\bmay,?\s+but\s+(?:is|are|shall)\s+not"
    r"|\bdoes\s+not\s+(?:require|mandate)|\bwithout\s+requiring|\brepeal\w*|\bstrik(?:e|es|ing)\b"
    r"|\beliminat\w*\s+the\s+requirement|\b(?:existing|current|prior)\s+law\b|\bunder\s+(?:existing|current)\s+law"
)
# A condition after a ban phrase turns it into a restriction; "unilaterally" anywhere in the phrase does too.
_CONDITION = _rx(
    r"\bunless\b|\bexcept\b|\bonly\s+(?:if|when|after|upon|with|where|to\s+the\s+extent)\b|\bprovided\s+that\b"
    r"|\bwithout\s+(?:first\s+)?(?:obtaining\s+)?(?:the\s+)?(?:(?:prior|express|written)\s+)*(?:approval|consent|authori[sz]ation|certification)\b"
)
_UNILATERAL = _rx(r"\bunilateral\w*")

# ---- Scope ---------------------------------------------------------------------------------------------------
_STATE = _rx(
    r"\bstate\s+(?:agenc\w*|police|patrol|law[-\s]enforcement|government|entit\w*|departments?|correctional|prisons?|officers?)"
    r"|\b(?:agenc\w*|agents?|officers?|employees?|units?)\s+of\s+the\s+(?:state|commonwealth)\b"
    r"|(?<!in )(?<!within )(?<!throughout )(?<!across )(?<!of )\bthe\s+(?:state|commonwealth)\b(?!\s+of\s+\w+\s+(?:code|law))"
    r"|\bstate\s*(?:,|and|or|/)\s*(?:county|local|municipal)|\bexecutive\s+(?:branch\s+)?agenc\w*"
    r"|\bdepartment\s+of\s+(?:corrections?|public\s+safety|state\s+police)|\bdivision\s+of\s+correction\w*|\bhighway\s+patrol"
)
_LOCAL = _rx(
    r"\blocal\b|\bcount(?:y|ies)\b|\bsheriffs?\b|\bmunicipal\w*|\bcit(?:y|ies)\b|\blocalit(?:y|ies)\b"
    r"|\bpolitical\s+subdivisions?\b|\btowns?\b|\bparish\w*"
)
_NEG_LOCAL = _rx(
    r"\b(?:local\w*|sheriffs?|count(?:y|ies)|municipal\w*)\b[^.;]{0,60}?\b(?:(?:are|is)\s+)?(?:unaffected|not\s+affected|excluded|exempt\w*)"
    r"|\bdoes\s+not\s+(?:affect|apply\s+to)\s+(?:\w+\s+){0,2}?local\w*(?:\s+\w+){0,3}"
)

# ---- Sentences -----------------------------------------------------------------------------------------------
_BOUNDARY = re.compile(  # case-sensitive: a sentence starts with a capital letter or "(b) "
    r"[.!?](?=[\"'”’)\]]*\s+(?:[\"'“‘]?[A-Z]|\([a-zA-Z0-9]{1,4}\)\s))|\n[ \t]*\n|\n(?=[ \t]*(?:[-•*]\s|\|))"
)
_ABBREV_WORDS = (
    "no nos sec secs ch chap art gov't gov stat stats pub rep reps sen del mr mrs ms dr st dept div co inc comp ann"
    " cf vs v jr sr et al ss par subd supp rev gen fla tex ill cal calif colo conn md va ga ore wash mass mich minn"
    " tenn okla ariz ark ind kan ky la miss mo mont neb nev pa vt wis wyo ala"
)
_ABBREVS = set(_ABBREV_WORDS.split())  # a "." after these does not end a sentence


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences; abbreviations such as "U.S." or "Pub." do not end a sentence."""
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0) == ".":
            token = re.search(r"(\S*)$", text[max(start, m.start() - 24) : m.start()])  # the word before "."
            word = token.group(1).lstrip("(\"'“‘").lower() if token else ""
            if re.fullmatch(r"(?:[a-z]\.)*[a-z]", word) or word in _ABBREVS:
                continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, a: int, b: int) -> str:
    """text[a:b] without surrounding whitespace, cut at a word boundary to at most MAX_PHRASE characters."""
    phrase = text[a:b].strip()
    if len(phrase) > MAX_PHRASE:
        cut = phrase.rfind(" ", 0, MAX_PHRASE + 1)
        phrase = phrase[: cut if cut > 0 else MAX_PHRASE].rstrip()
    return phrase


def _about(sentence: str) -> re.Match[str] | None:
    """Earliest ABOUT cue in a sentence (weak cues need a delegated function or no detention context)."""
    found = [m for rx in _ABOUT if (m := rx.search(sentence))]
    weak = _ABOUT_WEAK.search(sentence)
    if weak and not (_DETENTION.search(sentence) and not _FUNCTION_RX.search(sentence)):
        found.append(weak)
    return min(found, key=lambda m: m.start(), default=None)


def _scope(sentence: str) -> dict[str, bool]:
    cleaned = _NEG_LOCAL.sub(" ", sentence)
    state, local = bool(_STATE.search(cleaned)), bool(_LOCAL.search(cleaned))
    if not state and not local:  # "law enforcement agency", "public body": both
        state = local = True
    return {"state_agencies": state, "local_agencies": local}


# A candidate: (kind, phrase start, phrase end, sentence index) with offsets into the whole text.
_Cand = tuple[str, int, int, int]


def _candidates(text: str, sents: list[tuple[int, int]], chosen: set[int]) -> list[_Cand]:
    out: list[_Cand] = []
    ban_spans: list[tuple[int, int]] = []
    starts = [s for s, _ in sents]

    def ban(m: re.Match[str], idx: int) -> None:
        s, e = sents[idx]
        ban_spans.append((m.start(), m.end()))
        if _NEG_BAN.search(text[max(s, m.start() - WINDOW) : m.start()]) or _REPEALED_AFTER.search(
            text, m.end(), min(e, m.end() + WINDOW)
        ):
            return
        a, b = (m.start("p"), m.end("p")) if "p" in m.groupdict() else (m.start(), m.end())
        cond = _CONDITION.search(text, m.end(), min(e, m.end() + WINDOW))
        if _UNILATERAL.search(text, m.start(), m.end()):
            out.append(("restrict", a, b, idx))
        elif cond:  # the condition clause is what decides
            semicolon = text.find(";", cond.start(), e)
            out.append(("restrict", cond.start(), semicolon if semicolon >= 0 else e, idx))
        else:
            out.append(("ban", a, b, idx))

    for m in _BAN_LIST.finditer(text):
        idx = bisect.bisect_right(starts, m.start("p")) - 1
        if idx in chosen:
            ban(m, idx)
    for rx in _BAN:
        for idx in sorted(chosen):
            s, e = sents[idx]
            for m in rx.finditer(text, s, e):
                ban(m, idx)
    for idx in sorted(chosen):
        s, e = sents[idx]
        for rx in _MANDATE:
            for m in rx.finditer(text, s, e):
                overlaps = any(m.start() < be and bs < m.end() for bs, be in ban_spans)
                negated = _NEG_MANDATE.search(
                    text[max(s, m.start() - WINDOW) : m.end()]
                ) or _REPEALED_AFTER.search(text, m.end(), min(e, m.end() + WINDOW))
                if not overlaps and not negated:
                    out.append(("mandate", m.start(), m.end(), idx))
        for rx in _RESTRICT:
            for m in rx.finditer(text, s, e):
                out.append(("restrict", m.start(), m.end(), idx))
    return out


def _distance(c: _Cand, sents: list[tuple[int, int]], abouts: dict[int, re.Match[str]]) -> tuple[int, int]:
    """Sort key: the phrase nearest an ABOUT cue of its sentence first, then the earliest."""
    m = abouts.get(c[3])
    if m is None:
        return (1 << 30, c[1])
    a0, a1 = sents[c[3]][0] + m.start(), sents[c[3]][0] + m.end()
    return (max(0, a0 - c[2], c[1] - a1) // 40, c[1])  # within ~40 characters counts as "at the cue"


def classify(text: str) -> Classification:
    """Classify a bill's text (title, abstract, synopsis or operative text) as ban/mandate/restrict/not_287g."""
    text = text if isinstance(text, str) else str(text)
    sents = _sentences(text)
    abouts = {i: m for i, (s, e) in enumerate(sents) if (m := _about(text[s:e])) is not None}
    if not abouts:
        return Classification("not_287g", {"state_agencies": False, "local_agencies": False}, "", "")
    first = min(abouts)
    about_s = sents[first][0]
    about_phrase = _trim(text, about_s + abouts[first].start(), about_s + abouts[first].end())
    # Tier 1: sentences with an ABOUT cue; tier 2: other sentences about agreements, not about detention.
    tier2 = {
        i
        for i, (s, e) in enumerate(sents)
        if i not in abouts and _AGREEMENTISH.search(text[s:e]) and not _DETENTION.search(text[s:e])
    }
    for tier in (set(abouts), tier2):
        cands = _candidates(text, sents, tier)
        for kind in ("ban", "mandate", "restrict"):
            mine = [c for c in cands if c[0] == kind]
            if not mine:
                continue
            _, a, b, idx = min(mine, key=lambda c: _distance(c, sents, abouts))
            s, e = sents[idx]
            cue = abouts.get(idx)
            if (
                kind != "restrict"
                and cue is not None
                and a <= s + cue.start()
                and b < s + cue.end() <= a + MAX_PHRASE
            ):
                b = s + cue.end()  # "may not enter into ... 287(g)": show what is banned or required
            return Classification(kind, _scope(text[s:e]), _trim(text, a, b), about_phrase)
    s, e = sents[first]
    return Classification("restrict", _scope(text[s:e]), about_phrase, about_phrase)
