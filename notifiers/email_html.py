"""The e-mail's HTML: a summary line, then per state a small table (agency and model, what happened, date),
links with words, quiet provenance, terminations / bans / corrections marked by a coloured left border AND a
word; then every linked URL in full (small, grey) and the footer.

Made for mail clients: inline styles only (the one <style> block is a dark-mode refinement that may be
stripped), tables for layout, nothing wider than 375 px (the card is fluid up to 640 px), no scripts, no remote
images, explicit text and background colours. Apprise makes the e-mail's text/plain part from this HTML and
drops every href, so the URL list at the end is what keeps the full URLs in that part.
"""

from __future__ import annotations

import re
from typing import Any

from notifiers.audience import Audience
from notifiers.formats import HtmlFormat
from notifiers.headline import headline
from notifiers.items import diff_lines, document_lines, evidence, source_words, standout
from notifiers.wording import kind_of, sections, summary

QUIET = "color:#6b7280;font-size:12px"
CELL = "padding:8px 6px;border-top:1px solid #e5e7eb;vertical-align:top;overflow-wrap:anywhere;word-break:break-word"
_DARK = ("@media (prefers-color-scheme: dark){.w-bg{background:#030712 !important}"
         ".w-card{background:#111827 !important;color:#e5e7eb !important}.w-card a{color:#93c5fd !important}"
         ".w-quiet{color:#9ca3af !important}.w-item td{border-top-color:#374151 !important}}")  # fmt: skip
LABELS = {"agreement.added": "New agreement", "pending.added": "Pending request", "agreement.renamed": "Renamed",
          "agreement.changed": "Changed", "agreement.moa_published": "MOA published",
          "agreement.moa_restored": "MOA back", "agreement.moa_mismatch": "MOA disagrees",
          "page.changed": "Page changed"}  # fmt: skip


def _quiet(text: str) -> str:
    return f'<span class="w-quiet" style="{QUIET}">{text}</span>'


def _who(fmt: HtmlFormat, event: dict[str, Any]) -> tuple[str, str]:
    """(agency, model) as the row shows them; the source's name for events about no agency."""
    subject = event.get("after") or event.get("before") or {}
    agency = subject.get("agency") or event.get("agency")
    model = subject.get("model") or event.get("model")
    return fmt.data(str(agency or event.get("source") or "—")), fmt.data(str(model)) if model else ""


def _what(fmt: HtmlFormat, event: dict[str, Any], agency: str, model: str) -> str:
    """What happened, without the agency and model its own columns show."""
    told = headline(event, fmt.data)
    who = f"{agency} ({model})" if model else agency
    rest = told[len(who) :].lstrip(":;, ") if who and told.startswith(who) else told
    if event.get("type") == "agreement.added" and _signed(event):  # the date column says when it was signed
        rest = re.sub(r"^signed [^;]*;? *", "", rest)
    elif event.get("type") == "agreement.renamed" and model:  # the model is in its own line
        rest = rest.removesuffix(f" ({model})")
    label = standout(event) or (
        LABELS.get(str(event.get("type")), kind_of(str(event.get("type"))).heading),
        "",
    )
    word, colour = label
    shown = f'<strong class="w-label" style="color:{colour}">{word}</strong>' if colour else word
    return shown if rest.casefold() in ("", word.casefold()) else f"{shown}: {rest}"


def _signed(event: dict[str, Any]) -> str | None:
    signed = (event.get("after") or {}).get("signed")
    return str(signed)[:10] if signed else None


def _date(event: dict[str, Any], fmt: HtmlFormat) -> str:
    signed = _signed(event) if event.get("type") == "agreement.added" else None
    if signed:
        return f"{_quiet('signed')}<br>{fmt.data(signed)}"
    return f"{_quiet('seen')}<br>{fmt.data(str(event.get('detected_at') or '')[:10])}"


def _row(fmt: HtmlFormat, event: dict[str, Any], audience: Audience) -> str:
    agency, model = _who(fmt, event)
    marked = standout(event)
    border = f"border-left:4px solid {marked[1]};" if marked else "border-left:4px solid transparent;"
    links = document_lines(fmt, event)
    history = audience.history_url(event)
    if history:
        links.append(fmt.link("history", history))
    what = [_what(fmt, event, agency, model)]
    if event.get("type") == "page.changed":
        what += [
            _quiet(line) for line in diff_lines(fmt, str((event.get("details") or {}).get("diff") or ""))
        ]
    what += [f'<span style="font-size:13px">{" · ".join(links)}</span>'] if links else []
    what.append(_quiet(evidence(fmt, event, source_words(event))))
    classes = "w-item w-standout" if marked else "w-item"
    return (f'<tr class="{classes}"><td style="{CELL};{border}"><strong>{agency}</strong>'
            f'{"<br>" + _quiet(model) if model else ""}</td>'
            f'<td style="{CELL}">{"<br>".join(what)}</td>'
            f'<td style="{CELL};font-size:12px;white-space:nowrap">{_date(event, fmt)}</td></tr>')  # fmt: skip


def _state(
    fmt: HtmlFormat, place: str, events: list[dict[str, Any]], audience: Audience, counts: bool, first: bool
) -> str:
    """One state's heading (with its counts when the summary line names several states) and table. Only the
    first table has the column names: the others line up under them (fixed widths), and the text/plain part
    apprise derives from the HTML would otherwise repeat "Agency / What happened / Date" under every state."""
    counted = f" {_quiet('· ' + ', '.join(summary(events)))}" if counts else ""
    head = f'<h2 style="margin:20px 0 6px;font-size:16px;line-height:1.3">{place}{counted}</h2>'

    header = "".join(
        f'<th align="left" style="padding:4px 6px;{QUIET};font-weight:600;text-align:left"{width}>{name}</th>'
        for name, width in (("Agency", ' width="34%"'), ("What happened", ""), ("Date", ' width="84"'))
    )
    header = f"<tr>{header}</tr>\n" if first else ""
    rows = "\n".join(_row(fmt, event, audience) for event in events)
    table = ('<table role="presentation" class="w-state" width="100%" cellpadding="0" cellspacing="0" '
             'style="width:100%;border-collapse:collapse;table-layout:fixed">')  # fmt: skip
    return f"{head}\n{table}\n{header}{rows}\n</table>"


def url_list(*formats: HtmlFormat) -> str:
    """Every URL linked through `formats` in full, once: for readers of the text/plain part apprise derives
    from this HTML."""
    linked = {url: label for fmt in reversed(formats) for url, label in fmt.linked.items()}
    if not linked:
        return ""
    ordered = dict.fromkeys(url for fmt in formats for url in fmt.linked)
    lines = "<br>\n".join(f"{linked[url]}: {url}" for url in ordered)
    return (f'<p class="w-quiet w-urls" style="{QUIET};margin:20px 0 0;word-break:break-all">'
            f"Links in this message:<br>\n{lines}</p>")  # fmt: skip


def html_body(fmt: HtmlFormat, lead: str, events: list[dict[str, Any]], more: str, footer: list[str],
              audience: Audience, tail: HtmlFormat) -> str:  # fmt: skip
    """The whole HTML document: `lead` (the summary line), the state tables, `more` ("…and N more", may be
    empty), the URL list (the tables' links, then those of `tail`, the format `more` and `footer` were made
    with) and the `footer` lines."""
    blocks = [f'<p class="w-summary" style="margin:0 0 8px;font-size:15px;font-weight:600">{lead}</p>']
    states = sections(events)
    for number, (state, groups) in enumerate(states):
        place = fmt.data(state) if state else "Not tied to a state"
        events_there = [e for _, group in groups for e in group]
        blocks.append(_state(fmt, place, events_there, audience, len(states) > 1, number == 0))
    if more:
        blocks.append(f'<p style="margin:16px 0 0">{more}</p>')
    blocks.append(url_list(fmt, tail))
    foot = "<br>\n".join(footer)
    blocks.append(f'<p class="w-quiet w-footer" style="{QUIET};margin:20px 0 0">{foot}</p>')
    return page("\n".join(block for block in blocks if block))


def page(content: str) -> str:
    """`content` in the e-mail's frame: a grey background and a white card at most 640 px wide."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="color-scheme" content="light dark"><style>{_DARK}</style></head>\n'
        '<body class="w-bg" style="margin:0;padding:0;background:#f3f4f6">\n'
        '<table role="presentation" class="w-bg" width="100%" cellpadding="0" cellspacing="0" '
        'style="width:100%;border-collapse:collapse;background:#f3f4f6"><tr><td align="center" style="padding:12px 6px">\n'
        '<table role="presentation" class="w-card" width="100%" cellpadding="0" cellspacing="0" '
        'style="width:100%;max-width:640px;border-collapse:collapse;background:#ffffff;color:#111827;'
        "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45\">"
        f'<tr><td align="left" style="padding:16px 12px;text-align:left">\n{content}\n</td></tr></table>\n'
        "</td></tr></table>\n</body></html>\n"
    )
