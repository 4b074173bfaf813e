"""Rule-based classifier for state legislation about 287(g)-type agreements (no ML, pure, deterministic).

The phrases are in rules/classify_phrases.py; this module combines them.

Step 1 (ABOUT): is the text about 287(g)-type agreements at all?  Cues: the section however typed ("287(g)",
"287 (g)", "287-G"; not "287(g)(10)", the clause for cooperation WITHOUT an agreement), "1357(g)", "8 U.S.C. 1357"
(not 1357(d) etc.), "section 287 of the INA", ICE's models ("Warrant Service Officer", "WSO program", "Task Force
model", "Jail Enforcement model"), "immigration (law-)enforcement agreement", "delegation of authority program", the
delegated functions ("perform the functions of an immigration officer", "act as immigration agents", "designated
immigration officers", "perform federal immigration functions"), an agreement *to enforce immigration law / assist or
help ICE / identify removable aliens*, agreeing to enforce immigration law, participating in an "immigration
enforcement program", and the text's own defined term for such agreements ('"X" means any agreement ... 1357(g)').  Weak cues (an agreement or
partnership *with ICE*, deputizing for immigration) are dropped when the text names detention anywhere (news names the
jail beds a sentence or three later) unless their sentence names a delegated function, so detainers,
detention contracts, E-Verify, licences, tuition and sanctuary rules stay "not_287g".

Step 2 (EFFECT): only OPERATIVE verbs decide, so titles such as "... Agreements - Prohibition" (a noun) do not:
  ban      "may not / shall not enter into (renew, partner, join ...)", "no X shall enter into", "prohibits / prevents /
           bars / bans / precludes X from entering (being deputized ...)", "terminate an agreement (a memorandum)",
           "agreements are void", "bans / outlaws / abolishes / eliminates ... agreements", "ends ... participation",
           "abolish / discontinue / terminate the ... program", "sever ... contract",
           "wind down", "would be banned", "requires termination", "void all ... agreements", "repeal the 287(g)
           program"; classify/5, from general English (a thesaurus pass, not corpus texts): rescind, revoke,
           halt, dissolve, nullify, suspend, cease, stop, drop ... an agreement or participation (not "cancel": it
           made a cancelled jail detention contract a ban on held-out texts); withdraw
           from, pull / opt out of, exit, leave the program; "agreements are forbidden / unlawful / not permitted";
           "forbids / blocks / stops / keeps X from"; "is not authorized to", "lacks authority to", "unlawful for X
           to", "policy ... not to", "declined to renew", "neither ... nor ... shall", "would no longer", "funds
           may not be used to", "let ... expire"; "may not decline to participate" is a duty to stay (mandate);
  mandate  "shall/must enter into / request / apply / seek / sign / execute / pursue / participate (enroll) in the
           program" (also "shall: (1) Apply ...", "shall, by <date>, enter", "shall make a good-faith effort to
           enter", "must have / maintain an agreement"), "requires/directs X to apply / make an application /
           partner with", "mandating 287(g) participation", "Under the order, X will enter into ...", "may apply for a waiver" / "reapply" (marks of
           a duty), "Establish a Section 287(g) Task Force";
  restrict a ban qualified by a condition ("unless", "except", "only if", "without approval", "unilaterally"),
           or limits without a ban or a mandate (approval or review by a governing body, the governor or the
           legislature, "only the Governor may", "authorized to participate only if", public hearing, notice before
           entering, authority required before, reporting, limits on functions). A condition inside a ban phrase
           ("renewed without approval ... is void") counts too; a "power to terminate" or "may terminate" is no ban.
Negated and descriptive forms do not count: "repeals the prohibition", "nothing in this section shall require",
"existing law prohibits ...", "did not prohibit", "may not adopt a policy that prohibits ...", "a policy that
prohibits ... agreements is void", "prohibits policies that prevent X from entering", "before terminating ...",
"no agency may cancel or withdraw from ...".  Proposed and vetoed
texts ("would require", "would have required") are read for what they would do.  Sentences containing an ABOUT cue
are read first; other sentences about agreements only if those give nothing.  Ban outranks mandate, which
outranks restrict.  When no known phrase decides, the duty shape ("shall/must/requires X to <verb> ... agreement /
program", un-negated, the verb not a report, notice, approval, review or limit) reads "mandate" (classify/4: the
issue describes a mandate as a duty to enter; on the dev split no text turned on it either way).  A text about
287(g) with no operative phrase at all, not even that shape (grants-only, a repeal, a bare title) is "restrict"
with phrase == about_phrase (`residual` is True): the label set is fixed, such a text is about such agreements (so
not "not_287g") and must never raise a ban or mandate event, so it takes the weakest effect and stays visible for
review; callers tell it from a real restriction by `residual` (in --json: phrase == about).
Scope comes from the deciding sentence: state markers, local markers, or both when it only says "law
enforcement agency" generally.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from rules import classify_phrases as P

CLASSIFIER_VERSION = "classify/5"
LABELS = ("ban", "mandate", "restrict", "not_287g")
EFFECTS = LABELS[:3]  # what a text about 287(g)-type agreements does to them (subscribers filter by these)
MAX_PHRASE = 200
WINDOW = 400  # negations and conditions are looked for this many characters around a phrase (keeps it linear)


@dataclass(frozen=True)
class Classification:
    label: str  # "ban" | "mandate" | "restrict" | "not_287g"
    scope: dict[str, bool] = field(hash=False)  # {"state_agencies": ..., "local_agencies": ...}
    phrase: str  # the deciding phrase, verbatim from the text (<= 200 chars)
    about_phrase: str  # the phrase showing the text is about 287(g)-type agreements ("" for not_287g)
    version: str = CLASSIFIER_VERSION

    @property
    def residual(self) -> bool:
        """About such agreements, but no operative phrase decided: "restrict" by default, not a restriction read."""
        return self.label == "restrict" and self.phrase == self.about_phrase

    @property
    def about_287g_phrase(self) -> str:  # the name used in docs/legislation-spec.md
        return self.about_phrase


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences; abbreviations such as "U.S." or "Pub." do not end a sentence."""
    spans, start = [], 0
    for m in P.BOUNDARY.finditer(text):
        if m.group(0) == ".":
            token = re.search(r"(\S*)$", text[max(start, m.start() - 24) : m.start()])  # the word before "."
            word = token.group(1).lstrip("(\"'“‘").lower() if token else ""
            if re.fullmatch(r"(?:[a-z]\.)*[a-z]", word) or word in P.ABBREVS:
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


def _defined_terms(text: str) -> list[re.Pattern[str]]:
    """A text's own names for such agreements: terms whose definition holds an ABOUT cue."""
    terms = []
    for m in P.DEFINITION.finditer(text):
        term, body = (m.group(1), m.group("body")) if m.group(1) else (m.group(3), m.group("body2"))
        if any(rx.search(body) for rx in (*P.ABOUT, *P.ABOUT_WEAK)):
            terms.append(re.compile(r"\b" + re.escape(term.strip()) + r"s?\b", re.IGNORECASE))
    return terms


def _about(sentence: str, terms: list[re.Pattern[str]], detention_near: bool) -> re.Match[str] | None:
    """Earliest ABOUT cue in a sentence. Weak cues ("a contract with ICE", "deputized") need a delegated
    function in the sentence, or no detention in it or next to it: news names the jail beds a sentence away."""
    found = [m for rx in (*P.ABOUT, *terms) if (m := rx.search(sentence))]
    if not detention_near or P.FUNCTION_RX.search(sentence):
        found += [m for rx in P.ABOUT_WEAK if (m := rx.search(sentence))]
    return min(found, key=lambda m: m.start(), default=None)


def _abouts(
    text: str, sents: list[tuple[int, int]], terms: list[re.Pattern[str]]
) -> dict[int, re.Match[str]]:
    """ABOUT cues by sentence index."""
    detention = bool(P.DETENTION.search(text))
    return {i: m for i, (s, e) in enumerate(sents) if (m := _about(text[s:e], terms, detention)) is not None}


def _scope(sentence: str) -> dict[str, bool]:
    cleaned = P.NEG_LOCAL.sub(" ", sentence)
    state, local = bool(P.STATE.search(cleaned)), bool(P.LOCAL.search(cleaned))
    if not state and not local:  # "law enforcement agency", "public body": both
        state = local = True
    return {"state_agencies": state, "local_agencies": local}


# A candidate: (kind, phrase start, phrase end, sentence index) with offsets into the whole text.
_Cand = tuple[str, int, int, int]


def _candidates(text: str, sents: list[tuple[int, int]], chosen: set[int]) -> list[_Cand]:
    """Every ban, mandate and restrict phrase of the `chosen` sentences, in the order found."""
    bans, ban_spans = _ban_candidates(text, sents, chosen)
    return bans + _mandate_and_restrict_candidates(text, sents, chosen, ban_spans)


def _ban_candidates(
    text: str, sents: list[tuple[int, int]], chosen: set[int]
) -> tuple[list[_Cand], list[tuple[int, int]]]:
    """The ban phrases (a restriction when a condition or "unilaterally" decides) and the spans of every ban
    phrase, negated or not (a mandate inside one is not a mandate)."""
    starts = [s for s, _ in sents]
    found = [
        (m, idx)
        for m in P.BAN_LIST.finditer(text)
        if (idx := bisect.bisect_right(starts, m.start("p")) - 1) in chosen
    ]
    found += [(m, idx) for rx in P.BAN for idx in sorted(chosen) for m in rx.finditer(text, *sents[idx])]
    out = [c for m, idx in found if (c := _ban_candidate(text, m, sents[idx], idx)) is not None]
    return out, [(m.start(), m.end()) for m, _ in found]


def _ban_candidate(text: str, m: re.Match[str], sent: tuple[int, int], idx: int) -> _Cand | None:
    s, e = sent
    if P.NEG_BAN.search(text[max(s, m.start() - WINDOW) : m.start()]) or P.REPEALED_AFTER.search(
        text, m.end(), min(e, m.end() + WINDOW)
    ):
        return None
    a, b = (m.start("p"), m.end("p")) if "p" in m.groupdict() else (m.start(), m.end())
    # a condition inside the phrase ("renewed without approval ... is void") or right after it
    cond = P.CONDITION.search(text, m.start(), min(e, m.end() + WINDOW))
    if P.UNILATERAL.search(text, m.start(), m.end()):
        return ("restrict", a, b, idx)
    if cond:  # the condition clause is what decides
        semicolon = text.find(";", cond.start(), e)
        return ("restrict", cond.start(), semicolon if semicolon >= 0 else e, idx)
    return ("ban", a, b, idx)


def _mandate_and_restrict_candidates(
    text: str, sents: list[tuple[int, int]], chosen: set[int], ban_spans: list[tuple[int, int]]
) -> list[_Cand]:
    out: list[_Cand] = []
    for idx in sorted(chosen):
        s, e = sents[idx]
        for rx in P.MANDATE:
            for m in rx.finditer(text, s, e):
                overlaps = any(m.start() < be and bs < m.end() for bs, be in ban_spans)
                negated = P.NEG_MANDATE.search(
                    text[max(s, m.start() - WINDOW) : m.end()]
                ) or P.REPEALED_AFTER.search(text, m.end(), min(e, m.end() + WINDOW))
                if not overlaps and not negated:
                    out.append(("mandate", m.start(), m.end(), idx))
        for rx in P.RESTRICT:
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


def _phrase_decides(
    text: str, sents: list[tuple[int, int]], abouts: dict[int, re.Match[str]], cands: list[_Cand], about: str
) -> Classification | None:
    """The first kind (ban, mandate, restrict) with a phrase, shown by its phrase nearest an ABOUT cue."""
    for kind in EFFECTS:
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
        return Classification(kind, _scope(text[s:e]), _trim(text, a, b), about)
    return None


def classify(text: str) -> Classification:
    """Classify a bill's text (title, abstract, synopsis or operative text) as ban/mandate/restrict/not_287g."""
    text = text if isinstance(text, str) else str(text)
    sents, terms = _sentences(text), _defined_terms(text)
    abouts = _abouts(text, sents, terms)
    if not abouts:
        return Classification("not_287g", {"state_agencies": False, "local_agencies": False}, "", "")
    first = min(abouts)
    about_s = sents[first][0]
    about_phrase = _trim(text, about_s + abouts[first].start(), about_s + abouts[first].end())
    # Tier 1: sentences with an ABOUT cue; tier 2: other sentences about agreements, not about detention.
    tier2 = {
        i
        for i, (s, e) in enumerate(sents)
        if i not in abouts and P.AGREEMENTISH.search(text[s:e]) and not P.DETENTION.search(text[s:e])
    }
    for tier in (set(abouts), tier2):
        found = _phrase_decides(text, sents, abouts, _candidates(text, sents, tier), about_phrase)
        if found is not None:
            return found
    for order in (sorted(abouts), sorted(tier2)):
        duty = _duty(text, sents, order)
        if duty is not None:
            a, b, idx = duty
            return Classification(
                "mandate", _scope(text[sents[idx][0] : sents[idx][1]]), _trim(text, a, b), about_phrase
            )
    s, e = sents[first]
    return Classification("restrict", _scope(text[s:e]), about_phrase, about_phrase)


def _duty(text: str, sents: list[tuple[int, int]], tier: list[int]) -> tuple[int, int, int] | None:
    """The first un-negated duty shape ("shall/must/requires X to <verb> ... agreement") in the tier's sentences."""
    for idx in tier:
        s, e = sents[idx]
        for m in P.DUTY.finditer(text, s, e):
            negated = P.NEG_MANDATE.search(text[max(s, m.start() - WINDOW) : m.end()])
            if not negated and not P.REPEALED_AFTER.search(text, m.end(), min(e, m.end() + WINDOW)):
                return m.start(), m.end(), idx
    return None
