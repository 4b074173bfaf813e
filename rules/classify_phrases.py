"""The phrases rules/classify.py reads (regular expressions only; the logic is in classify.py).

Each list is one family of phrases; the module docstring of classify.py says how they are combined. Patterns are
written against real bill titles, digests, sections, executive orders and news descriptions of bills
(tests/fixtures/legislation/classify_corpus.jsonl, its `dev` split) and keep to the words of the law rather than
to any one bill: the statute cited, ICE's model names, what such an agreement delegates, and the verbs that ban,
require or condition it.
"""

from __future__ import annotations

import re

F = re.IGNORECASE | re.DOTALL

# Regex fragments, spliced into the patterns below as <NAME> (keeps one pattern per line).
_PARTS = {
    # "287(g)", "287 (g)", "287-G", "287g": the section, however typed; not "287(g)(10)", the clause that lets
    # officers cooperate WITHOUT an agreement.
    "S287": r"\b287\s*(?:\(\s*g\s*\)|-\s*g\b|g\b)(?!\s*\(\s*10\s*\))",
    # Functions delegated by a 287(g) agreement (never "detain"/"house": those are detention contracts).
    "OFFICER": r"(?:perform\w*|exercis\w*|carr(?:y|ies|ying)\s+out)\s+(?:the\s+|a\s+|any\s+|certain\s+|specified\s+)?"
    r"(?:functions?|powers?|duties|authority)\s+of\s+(?:an?\s+)?(?:federal\s+)?immigration\s+officers?"
    r"|immigration[-\s]officer\s+functions?|immigration\s+officers?[’']?\s+(?:responsibilities|functions|duties|powers)"
    r"|exercis\w*\s+(?:federal\s+)?(?:civil\s+)?immigration\s+(?:enforcement\s+)?(?:authority|powers)"
    r"|act\s+as\s+(?:federal\s+)?(?:immigration\s+(?:agents?|officers?)|ICE\s+agents?)"
    r"|designated\s+immigration\s+officers?"
    r"|perform\w*\s+(?:\w+\s+){0,2}?(?:federal\s+)?(?:civil\s+)?immigration\s+(?:enforcement\s+)?functions",
    "ENFORCE": r"(?:enforce\w*|enforcement\s+of)\s+(?:(?:certain\s+)?aspects\s+of\s+)?(?:federal\s+)?(?:civil\s+)?immigration(?:\s+and\s+customs)?\s+laws?"
    r"|assist\w*\s+(?:with|in)\s+(?:federal\s+)?immigration\s+enforcement"
    r"|(?:assist\w*|help\w*)\s+(?:U\.?S\.?\s+)?(?:Immigration\s+and\s+Customs\s+Enforcement|ICE)\b"
    r"|federal\s+(?:civil\s+)?immigration\s+enforcement\s+(?:powers|authority|functions)"
    r"|(?:identify|identification\s+of|apprehen\w*)\s+(?:\w+\s+){0,3}?(?:undocumented|illegal|removable)\s+(?:immigrants|aliens)",
    # Who an agreement is made with, when the program is not named.
    "ICE": r"(?:U\.?S\.?\s+|federal\s+)?Immigration\s+and\s+Customs\s+Enforcement|\bICE\b"
    r"|federal\s+immigration\s+(?:authorities|agencies|officials)",
    # Verbs a ban forbids.
    "ENTER": r"(?:enter\w*|renew\w*|extend\w*|sign\w*|execut\w*|remain\w*\s+(?:in|a\s+party)|"
    r"participat\w*|perform\w*|exercis\w*|continu\w*|maintain\w*|engag\w*|be\s+(?:a\s+)?party|"
    r"partner\w*|join\w*|assist\w*|aid\w*|cooperat\w*|work\w*\s+with|deputiz\w*)",
    # Verbs a mandate requires ("request approval" and "apply to all agreements" are not mandates).
    "MANDATE": r"(?:enter\w*\s+into|enter\b|(?:request|seek)\w*(?!\s+(?:the\s+|prior\s+|written\s+)*(?:approval|consent|"
    r"authori[sz]ation|permission))|apply\b(?!\s+to\s+(?:all|any|each|every|this|these|those|such|agreements?)\b)|"
    r"negotiat\w*|ask\w*\s+for|sign\b|partner\s+with|(?:make|submit|file)\s+an?\s+application|execute\b|pursue\b|"
    r"(?:participat\w*|join\w*|enrol\w*)\s+(?:in\s+)?(?:the\s+|a\s+|an\s+|any\s+)?"
    r"(?:[\w()\-]+\s+){0,3}?(?:programs?|agreements?|models?))",
    # Verbs that impose (verb forms only: "Directive 1" and "Order 47" are names, not verbs).
    "REQUIRE": r"(?:requir(?:e|es|ed|ing)|mandat(?:e|es|ed|ing)|direct(?:s|ed|ing)?|order(?:s|ed|ing)|compel\w*|oblig\w*|forc(?:e|es|ed|ing))",
    "AGREEMENT": r"(?:agreements?|memorand\w*|contracts?|arrangements?|understandings?|partnerships?)\b",
    # Verbs of leaving or staying out: negated ("may not decline to participate") they are a duty to stay in.
    "STAYOUT": r"(?:terminat|withdr[ae]w|cancel|rescind|declin|refus|fail|ceas|stop|quit|opt\w*\s+out|end\b)",
    # Any text but a local rule ("prohibits sanctuary policies that prevent X from entering" bans the policy).
    "NOPOLICY": r"(?:(?!\b(?:polic(?:y|ies)|ordinances?|rules?|practices?|resolutions?)\b).)",
    # What a ban ends.
    "ENDED": r"(?:agreements?|participation|partnerships?|contracts?|program|ability)\b",
    # Modifiers between a verb that ends something and its object: no preposition, no "grant" before "program".
    "MODS": r"(?:(?!(?:to|of|on|for|against|with|about|over|from|by|grant|funding)\b)[\w()'’.\-]+\s+){0,5}?",
}


def _rx(pattern: str) -> re.Pattern[str]:
    for name in (
        "STAYOUT",
        "NOPOLICY",
        "MODS",
        "AGREEMENT",
        "OFFICER",
        "ENFORCE",
        "ENTER",
        "MANDATE",
        "REQUIRE",
        "S287",
        "ICE",
        "ENDED",
    ):
        pattern = pattern.replace(f"<{name}>", f"(?:{_PARTS[name]})")
    return re.compile(pattern, F)


def _rxs(*patterns: str) -> list[re.Pattern[str]]:
    return [_rx(p) for p in patterns]


# ---- Step 1: ABOUT cues --------------------------------------------------------------------------------------
ABOUT = _rxs(
    r"<S287>|\b1357\s*\(\s*g\s*\)(?!\s*\(\s*10\s*\))",
    # not 1357(d), not 1357(g)(10)
    r"\b8\s*U\.?\s?S\.?\s?C\.?\s*(?:§+|s\.|sec(?:tion)?\.?)?\s*1357\b(?!\s*\((?!\s*g\s*\)))(?!\s*\(\s*g\s*\)\s*\(\s*10\s*\))",
    r"\bsection\s+287\b(?![.\d(])(?=\s+(?:of\s+the\s+(?:federal\s+)?(?:immigration\s+and\s+nationality\s+act|INA)\b|agreements?|programs?))",
    r"\bINA\s+(?:§|section)\s*287\b(?![.\d])",
    r"\bimmigration[-\s]+(?:law[-\s]+)?enforcement\s+agreements?|\bimmigration\s+agreements?\b",
    r"\bdelegat\w*\s+(?:of\s+)?(?:immigration\s+)?authority\s+program|\bdelegation\s+of\s+immigration\s+authority",
    r"\bdelegat\w*\s+(?:\w+\s+){0,3}?immigration\s+(?:enforcement\s+|officer\s+)?(?:functions|authority|powers|duties)",
    r"\bwarrant\s+service\s+officers?\b|\bWSO\s+program|\btask\s+force\s+model\b|\bjail\s+enforcement\s+model\b",
    r"<OFFICER>",
    r"<AGREEMENT>.{0,250}?(?:<OFFICER>|<ENFORCE>)",
    r"\bagree(?:s|d|ing)?\s+to\s+(?:help\s+)?enforce\s+(?:federal\s+)?(?:civil\s+)?immigration\s+laws?",
    r"\bparticipat\w*\s+in\s+(?:an?\s+|the\s+|any\s+)?(?:[\w().\-]+\s+){0,8}?immigration\s+enforcement\s+programs?",
)
# Weak cues: dropped in a sentence about detention that names no delegated function.
ABOUT_WEAK = _rxs(
    r"\bmemorand\w*\s+of\s+(?:agreement|understanding)\b.{0,200}?\bimmigration\b",
    r"\b<AGREEMENT>\s+(?:\w+\s+){0,2}?with\s+(?:the\s+)?(?:<ICE>)",  # "agreements with U.S. Immigration and ..."
    r"\b(?:partner\w*|cooperat\w*)\s+(?:\w+\s+){0,2}?with\s+(?:the\s+)?(?:<ICE>)\s+(?:through|under|via)\b",
    r"\b<AGREEMENT>\s+(?:related\s+to|for|concerning|regarding)\s+(?:federal\s+)?(?:civil\s+)?immigration\s+enforcement\b",
    r"\bdeputiz\w*\b(?:[^.;]|(?<=\b[A-Z])\.){0,80}?\b(?:immigration|ICE)\b|\b(?:immigration|ICE)\b[^.;]{0,80}?\bdeputiz\w*",
)
# "house" or "hold" as a verb ("to house detainees", "to hold some prisoners"), never the chamber ("House Bill 659").
DETENTION = _rx(
    r"\bdetain\w*|\bdetention\b|\bdetainers?\b|\bbed\s+space|\bhousing\b"
    r"|\b(?:hous(?:e|es|ed)|hold(?:s|ing)?|held)\s+(?:\w+\s+){0,4}?(?:individuals|detainees|persons|people|immigrants|aliens|inmates|prisoners|noncitizens)\b"
)
FUNCTION_RX = _rx(r"<OFFICER>|<ENFORCE>")
AGREEMENTISH = _rx(r"\bagreement|\bmemorand|\bprogram\b|\b287\b|\bcontract|\bpartnership")
# An own defined term: '"Immigration enforcement agreement" means ...' or 'Immigration enforcement agreement: any
# contract ...'; the term counts as an ABOUT cue when its definition holds one.
DEFINITION = re.compile(
    r"[\"“‘']([A-Za-z][\w \-]{2,60}?)[\"”’']\s+(?:means|includes|refers\s+to|shall\s+mean)\b(?P<body>[^;]{0,400})"
    r"|^[ \t\-•*]*([A-Z][\w \-]{2,60}?):\s+(?=(?:any|an?|the)\s)(?P<body2>[^\n]{0,400})",
    re.MULTILINE,
)

# ---- Step 2: OPERATIVE phrases -------------------------------------------------------------------------------
BAN = _rxs(
    # "may not decline to participate" is a duty to stay in, not a ban
    r"\b(?:shall|may|must|will|can)\s*(?:not|no\s+longer)\s+(?:(?!<STAYOUT>)\w+\s+){0,2}?<ENTER>",
    r"\bno\s+(?!later\b|earlier\b|sooner\b|less\b|more\b|fewer\b).{0,160}?\b(?:shall|may)\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\b(?:prohibit|prevent|bar|ban|preclud)(?:s|ed|ing|red|ring|ned|ning|e|es)?\b<NOPOLICY>{0,250}?\bfrom\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\bprohibit(?:s|ed|ing)?\s+(?:[\w()'’\-]+\s+){0,6}(?:agreements?|participation|contracts?)\b",
    r"\b(?:bans?|banned|banning|bars|barred|barring|outlaw\w*|abolish\w*|eliminat\w*)\s+(?:[\w()'’/\-]+\s+){0,6}(?:agreements?|participation|contracts?|partnerships?|new\s+ones)\b",
    r"\b(?:abolish\w*|discontinu\w*|terminat(?:e|es|ed|ing))\s+(?:the|a|its|their|this)\s+(?:[\w()'’\-]+\s+){0,3}?(?<!grant )program\b",
    r"\bsever(?:s|ed|ing)?\s+(?:[\w()'’\-]+\s+){0,4}?(?:agreements?|contracts?|partnerships?|ties)\b",
    r"\bend(?:s|ed|ing)?\s+(?:[\w()'’\-]+\s+){0,6}?<ENDED>",
    r"\bwind(?:s|ing)?\s+down\s+(?:\w+\s+){0,3}?<AGREEMENT>",
    r"\bno\s+more\s+(?:[\w()'’\-]+\s+){0,3}?<AGREEMENT>",
    r"\brepeal(?:s|ed|ing)?\s+(?:the\s+)?(?:section\s+)?<S287>\s+(?:provision|program)",
    r"\b<REQUIRE>\b.{0,150}?\bterminat\w*\b.{0,80}?\b(?:agreements?|contracts?|participation|partnerships?)",
    r"\b(?:shall|must|will)\s+(?:(?!not\b)\w+\s+){0,2}?terminate\s+(?:all|any|each|every|its|their|existing|such|the)\b.{0,80}?\b(?:agreements?|contracts?|participation)",
    r"\bterminat(?:e|es|ed|ing)\s+(?:[\w()'’\-]+\s+){0,4}?(?:agreements?|contracts?|memorand\w*|MO[AU]s?)\b",
    r"\bvoid(?:s|ing)?\s+(?:all|any|every|each|existing)\b|\bvoid(?:s|ing)?\s+(?:[\w()'’\-]+\s+){0,4}?<AGREEMENT>",
    # classify/5, from general English rather than from corpus texts: the verbs that end, undo or forbid a thing,
    # with the agreement, program or participation as their object ("rescinded the county's 287(g) agreement");
    # the words between are modifiers, never a preposition ("dropped its opposition to ... agreements" is no ban).
    r"\b(?:rescind|revok|discontinu|halt|dissolv|nullif|invalidat|forb[ia]d|disallow|abrogat|annul|repudiat"
    r"|scrap|ditch|drop|stop|suspend|cease|phas\w*\s+out|wind\w*\s+down)\w*\s+<MODS>(?:<ENDED>|<AGREEMENT>|MO[AU]s?\b)"
    r"|\b(?:end(?:s|ed|ing)?|quit(?:s|ting)?|terminat(?:e|es|ed|ing))\s+<MODS>(?:<ENDED>|<AGREEMENT>|MO[AU]s?\b)",
    # leaving: "withdraw (the state) from", "pull out of", "opt out of", "exit", "leave the ... program"
    r"\b(?:withdr[ae]w\w*(?:\s+\w+){0,3}?\s+from|(?:pull|opt|back|drop|get|got|bow)\w*(?:\s+\w+){0,3}?\s+out\s+of"
    r"|exit\w*(?:\s+from)?|cut\w*\s+ties\s+with|quit(?:s|ting)?)\s+<MODS>(?:<ENDED>|<AGREEMENT>|<ICE>)"
    r"|\b(?:leav(?:e|es|ing)|left)\s+<MODS>program\b",
    # passive and adjectival: "agreements are forbidden", "participation in ... is prohibited", "... is unlawful"
    r"\b(?:agreements?|contracts?|partnerships?|participation|memorand\w*|MO[AU]s?)\b.{0,160}?\b(?:(?:shall|must|would|will|are|is)\s+(?:\w+\s+)?be|are|is)\s+(?:hereby\s+|automatically\s+|declared\s+)*"
    r"(?:terminated|void|null|ended|rescinded|cancell?ed|banned|prohibited|outlawed|barred|abolished|eliminated"
    r"|forbidden|disallowed|revoked|invalid(?:ated)?|nullified|dissolved|discontinued|unlawful|illegal|not\s+(?:permitted|allowed|authori[sz]ed))\b",
    # forbidding someone: "would block counties from entering", "stop police from partnering", "forbids X from"
    r"\b(?:forb[ia]d\w*|block\w*|stop\w*|keep\w*|kept|restrain\w*|disallow\w*|prohibit\w*|bar(?:s|red|ring)?|ban(?:s|ned|ning)?)\b<NOPOLICY>{0,120}?\bfrom\s+(?:\w+\s+){0,2}?<ENTER>",
    # no power: "is not authorized to enter", "lacks authority to", "it is unlawful for X to", "policy ... not to"
    r"\b(?:(?:is|are|be)\s+not\s+(?:authori[sz]ed|permitted|allowed|empowered)|lack\w*\s+(?:the\s+)?(?:legal\s+|statutory\s+)?(?:authority|power)"
    r"|ha(?:s|ve)\s+no\s+(?:legal\s+|statutory\s+)?(?:authority|power)|(?:unlawful|illegal)\s+for\b.{0,120}?)\s+to\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\b(?:policy\s+of\s+.{0,60}?|decid\w*|decision|vot\w*|chose|choos\w*|elect\w*|opt\w*|agree\w*)\s+not\s+to\s+(?:\w+\s+){0,2}?<ENTER>",
    r"(?<!who\s)(?<!that\s)\b(?:declin|refus)(?:e|es|ed|ing)\s+to\s+(?:\w+\s+){0,2}?(?:enter|renew|extend|sign|join|participat)\w*",
    r"\bneither\b.{0,160}?\bnor\b.{0,200}?\b(?:shall|may|will|can|must)\s+(?:\w+\s+){0,2}?<ENTER>",
    r"\b(?:would|could|should)\s+no\s+longer\s+(?:\w+\s+){0,2}?<ENTER>|\b(?:is|are|was|were)\s+no\s+longer\s+(?:<ENTER>|part\s+of)",
    r"\b(?:funds?|moneys?|monies|resources|appropriations?)\b.{0,80}?\b(?:shall|may|must)\s+not\s+be\s+(?:used|expended|spent)\s+(?:to|for)\s+(?:\w+\s+){0,3}?(?:implement|enter|administer|carry|participat|support|negotiat|fund|perform)\w*",
    r"\b(?:let|allow\w*)\s+(?:[\w()'’\-]+\s+){0,5}?(?:agreements?|memorand\w*|MO[AU]s?|contracts?)\s+(?:to\s+)?(?:expire|lapse)",
    r"\b(?:revok|rescind|withdr[ae]w|remov|strip|eliminat)\w*\s+(?:the\s+)?(?:authority|power|ability)\s+(?:of\s+[\w\s]{0,40}?)?to\s+(?:\w+\s+){0,2}?<ENTER>",
)
# A colon-introduced list, matched across sentences: "shall not: (1) ... (G) Perform the functions of ...".
BAN_LIST = _rx(
    r"\b(?:shall|may|must)\s+not\s*:.{0,3000}?(?P<p>perform\w*\s+the\s+functions\s+of\s+an\s+immigration\s+officers?[^.;]{0,120})"
)
MANDATE = _rxs(
    # a clause may stand between "shall" and the duty: "shall, by January 1, 2027, enter"
    r"\b(?:shall|must)(?:\s+|\s*:\s*(?:\d+\s+)?(?:\(\w{1,3}\)\s+)?|\s*,(?:[^,;.]{1,40},){1,2}\s*)(?!not\b)(?:(?!not\b)\w+\s+){0,3}?<MANDATE>",
    r"\b(?:shall|must)\s+(?:\w+\s+)?(?:make|use|demonstrate)\s+(?:a\s+|its\s+|their\s+)?(?:good[-\s]faith|best)\s+efforts?\s+to\s+(?:\w+\s+){0,2}?<MANDATE>",
    # "must have an agreement in place", "shall maintain a 287(g) agreement"
    r"\b(?:shall|must)\s+(?:\w+\s+)?(?:have|maintain|keep)\s+(?:in\s+(?:place|effect)\s+)?(?:an?|the|its|their|such)\s+(?:[\w()\-]+\s+){0,4}?(?:agreements?|memorand\w*)\b",
    r"\b(?:shall|must|will|can|may)\s+(?:\w+\s+){0,2}?(?:re-?apply\b|apply\s+for\s+(?:a\s+)?waiver\b)",
    r"\b(?:establish|creat|form|implement)\w*\s+(?:a|an|the)\s+(?:section\s+)?<S287>\s+(?:(?!grant|reimburs|fund|account)[\w-]+\s+){0,4}?(?:task\s+force|program|unit|model)\b",
    # "requires X (with regard to Y) to: (1) enter ...": the "to" of a compound preposition is not the duty's
    r"\b<REQUIRE>\b(?:(?!(?<!regard )(?<!respect )(?<!pursuant )(?<!prior )(?<!according )(?<!subject )\bto\b)[^;]){0,200}?"
    r"\bto:?\s+(?:\(\w{1,3}\)\s+)?(?:\w+\s+){0,2}?<MANDATE>",
    r"\bmandat(?:e|es|ed|ing)\s+(?:that\s+)?(?:(?!\b(?:before|until|unless|prior\s+to|without)\b).){0,150}?\b(?:ask|request|apply|seek|enter|participat|sign|join|partner)\w*",
    r"\bmandat(?:es|ed|ing)\s+(?:[\w()'’\-]+\s+){0,3}?(?:participation|agreements?|partnerships?)\b",
    r"\bunder\s+(?:the\s+|this\s+)?(?:[\w.\-]+\s+){0,3}?(?:order|act|law|bill|directive|statute)\b[^.;]{0,120}?\b(?:will|would)\s+(?:\w+\s+){0,2}?<MANDATE>",
    r"\b(?:shall|may|must)\s+not\s+(?:\w+\s+){0,2}?(?:<STAYOUT>)\w*",  # must keep them
)
RESTRICT = _rxs(
    r"\b(?:may|authoriz\w*\s+(?:[\w-]+\s+){0,6}?to)\s+(?:\w+\s+){0,3}?(?:enter\w*\s+into|enter\b|renew\w*|participat\w*|perform\w*)\b.{0,250}?\bonly\s+(?:if|when|after|upon|with|where|within)\b",
    r"\bnotice\b.{0,100}?\b(?:before|prior\s+to)\s+(?:\w+\s+){0,4}?(?:enter|agree|sign|renew|execut)\w*",
    r"\b(?:grant|give|obtain)\w*\s+(?:\w+\s+)?(?:permission|approval|consent)\b",
    r"\b(?:approv\w*|consent|authori[sz]\w*|review|permission)\s+(?:of|by|from)\s+(?:the\s+)?(?:county\s+board|board\s+of\s+(?:county\s+)?(?:commissioners|supervisors)|governing\s+body|city\s+council|county\s+council|legislative\s+body|attorney\s+general|governor|general\s+assembly|legislature|AG\b)",
    r"\b(?:require|seek)\w*\s+(?:\w+\s+){0,3}?(?:written\s+|prior\s+)?(?:approval|review)\b",
    r"\b(?:only|alone)\b.{0,80}?\b(?:may|can|is\s+authorized\s+to|should\s+have\s+the\s+ability\s+to)\s+(?:\w+\s+){0,2}?(?:enter|strike|sign|approve)\w*",
    r"\bpublic\s+hearing\b",
    r"\b(?:requir|need)\w*\s+(?:\w+\s+){0,3}?(?:authori[sz]ation|authority|approval|consent|vote)\s+before\b",
    r"\b(?:shall|must)\s+(?:\w+\s+){0,3}?(?:report|publish|post|disclose|submit|collect|include|be\s+submitted)\w*",
    r"\b(?:limit\w*|restrict\w*)\s+(?:\w+\s+){0,4}?(?:functions|scope|duties|authority|participation|agreements?)",
)
# The duty shape, read only when no known phrase decided: "shall/must <verb> ... agreement/program" or "requires X to
# <verb> ... agreement/program", with a verb that joins (not a report, notice, review or limit on an existing agreement).
_NOT_JOIN = (
    r"(?:be|report\w*|notify|submit|publish|post|disclose|provide|include|approve|review|consent|authoriz\w*|terminat\w*"
    r"|cancel\w*|withdraw|end|limit|restrict|specify|describe|document|contain|state|list|comply|follow|abide|pay|fund)\b"
)
DUTY = _rx(
    r"\b(?:shall|must|(?:is|are)\s+required\s+to|<REQUIRE>\b[^.;]{0,120}?\bto)\s+(?!not\b)(?!"
    + _NOT_JOIN
    + r")\w+"
    r"(?:\s+(?!not\b)[\w()'’\-]+){0,8}?\s+(?:agreements?|memorand\w*|programs?)\b"
)
# Text before a ban phrase in its sentence that makes it not a ban (repeal, saving clause, description, ...).
NEG_BAN = _rx(
    r"\bnothing\b|\brepeal\w*|\bstrik(?:e|es|ing)\b|\bremov\w*\s+(?:the\s+)?(?:prohibition|ban)|\blift\w*\s+(?:the\s+)?ban"
    r"|\bno\s+longer\s+(?:prohibit|bar|ban)|\b(?:existing|current|prior)\s+law\b|\bunder\s+(?:existing|current)\s+law"
    r"|\bnot\s+be\s+construed|\b(?:does|did|do|would|will)\s+not\s+(?:\w+\s+)?$|\b(?:shall|may|must)\s+not\s+(?:\w+\s+){0,6}$"
    r"|\b(?:polic(?:y|ies)|ordinances?|rules?|practices?)\s+(?:that|which)\s+$"
    r"|\b(?:power|authority|right|ability|option|discretion)\s+to\s+$|\b(?:may|can|could)\s+$"
    r"|\b(?:before|after|upon|prior\s+to|when|until)\s+$"
    r"|\bno\s+(?:\w+\s+){1,4}(?:shall|may|must|can)\s+(?:[\w,]+\s+){0,4}$"  # "no agency may cancel or withdraw from"  # "notify the board before terminating ..."
    # a local rule that limits such agreements, itself the subject: "a policy that prohibits ... agreements is void"
    r"|\b(?:polic(?:y|ies)|ordinances?|rules?|practices?|resolutions?|regulations?)\s+(?:that\s+|which\s+)?"
    r"(?:would\s+)?(?:prohibit|limit|restrict|bar|ban|prevent|imped|obstruct|interfer)\w*\b(?:(?!\band\b)[^.;]){0,120}$"
)
# Text after a ban or mandate phrase in its sentence that undoes it: "Section 3, which prohibits ..., is repealed."
REPEALED_AFTER = _rx(r"\b(?:is|are)\s+(?:hereby\s+)?(?:repealed|struck|stricken|deleted|rescinded)\b")
# Text up to the end of a mandate phrase that makes it not a mandate.
NEG_MANDATE = _rx(
    r"\bnothing\b|\bnot\s+(?:be\s+)?(?:required|mandated|obligated)|\bneither\b|\bmay,?\s+but\s+(?:is|are|shall)\s+not"
    r"|\bdoes\s+not\s+(?:require|mandate)|\bwithout\s+requiring|\brepeal\w*|\bstrik(?:e|es|ing)\b"
    r"|\beliminat\w*\s+the\s+requirement|\b(?:existing|current|prior)\s+law\b|\bunder\s+(?:existing|current)\s+law"
)
# A condition after a ban phrase turns it into a restriction; "unilaterally" anywhere in the phrase does too.
CONDITION = _rx(
    r"\bunless\b|\bexcept\b|\bonly\s+(?:if|when|after|upon|with|where|to\s+the\s+extent)\b|\bprovided\s+that\b"
    r"|\bwithout\s+(?:first\s+)?(?:obtaining\s+)?(?:the\s+)?(?:(?:prior|express|written)\s+)*(?:approval|consent|authori[sz]ation|certification)\b"
)
UNILATERAL = _rx(r"\bunilateral\w*")

# ---- Scope ---------------------------------------------------------------------------------------------------
STATE = _rx(
    r"\bstate\s+(?:agenc\w*|police|patrol|law[-\s]enforcement|government|entit\w*|departments?|correctional|prisons?|officers?)"
    r"|\b(?:agenc\w*|agents?|officers?|employees?|units?)\s+of\s+the\s+(?:state|commonwealth)\b"
    r"|(?<!in )(?<!within )(?<!throughout )(?<!across )(?<!of )\bthe\s+(?:state|commonwealth)\b(?!\s+of\s+\w+\s+(?:code|law))"
    r"|\bstate\s*(?:,|and|or|/)\s*(?:county|local|municipal)|\bexecutive\s+(?:branch\s+)?agenc\w*"
    r"|\bdepartment\s+of\s+(?:corrections?|public\s+safety|state\s+police)|\bdivision\s+of\s+correction\w*|\bhighway\s+patrol"
)
LOCAL = _rx(
    r"\blocal\b|\bcount(?:y|ies)\b|\bsheriffs?\b|\bmunicipal\w*|\bcit(?:y|ies)\b|\blocalit(?:y|ies)\b"
    r"|\bpolitical\s+subdivisions?\b|\btowns?\b|\bparish\w*"
)
NEG_LOCAL = _rx(
    r"\b(?:local\w*|sheriffs?|count(?:y|ies)|municipal\w*)\b[^.;]{0,60}?\b(?:(?:are|is)\s+)?(?:unaffected|not\s+affected|excluded|exempt\w*)"
    r"|\bdoes\s+not\s+(?:affect|apply\s+to)\s+(?:\w+\s+){0,2}?local\w*(?:\s+\w+){0,3}"
)

# ---- Sentences -----------------------------------------------------------------------------------------------
BOUNDARY = re.compile(  # case-sensitive: a sentence starts with a capital letter or "(b) "
    r"[.!?](?=[\"'”’)\]]*\s+(?:[\"'“‘]?[A-Z]|\([a-zA-Z0-9]{1,4}\)\s))|\n[ \t]*\n|\n(?=[ \t]*(?:[-•*]\s|\|))"
)
_ABBREV_WORDS = (
    "no nos sec secs ch chap art gov't gov stat stats pub rep reps sen del mr mrs ms dr st dept div co inc comp ann"
    " cf vs v jr sr et al ss par subd supp rev gen fla tex ill cal calif colo conn md va ga ore wash mass mich minn"
    " tenn okla ariz ark ind kan ky la miss mo mont neb nev pa vt wis wyo ala"
)
ABBREVS = set(_ABBREV_WORDS.split())  # a "." after these does not end a sentence
