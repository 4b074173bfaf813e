"""Messages for subscribers: an alert for a batch of events, a daily or weekly digest, a test message.

A message is a plain-text title and three bodies (HTML for email, plain text, Slack mrkdwn) made by one layout
over three formats. Everything taken from a fetched page or spreadsheet (or from the config) is data, never
markup: HTML-escaped; in mrkdwn stripped of every character Slack, or apprise's Slack plugin (which restores
`<!channel>`, `<@user>` and `<url|text>` in bodies), would read as markup; control characters become spaces
and format characters (bidi overrides, zero-width) go, everywhere; one value shows at most 300 characters, one
message at most MAX_ITEMS events and MAX_BYTES per format. Only http(s) URLs without user:password@ become
links, and every HTML link shows its URL as its text (apprise makes an email's text/plain part from the HTML).
Pure functions; the wording of each event is notifiers/headline.py's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from notifiers.headline import DOCUMENT_EVENTS, document_of, headline
from notifiers.text import one_line, plural, utc
from notifiers.wording import TITLE_LIMIT, clean, digest_title, kind_of, sections, span, summary, title_for

__all__ = ["Message", "render_alert", "render_digest", "render_test", "title_for", "link_url", "utc"]

ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
DIFF_LINES = 20  # changed lines of a page.changed diff shown in a message
# One message lists at most MAX_ITEMS events and is at most MAX_BYTES in each format (99,000 invented
# agreements made one 51.5 MB e-mail); the rest are counted ("and N more") and their source lists linked.
# The busiest real week (July 7-15, 2025: 74 events, 32 KB of HTML) is still listed whole.
MAX_ITEMS = 100
MAX_BYTES = 200_000
SOURCE_LINKS = 3  # source lists linked for the events not listed
# Characters a link may keep as they are; anything else is percent-encoded (so no "|", "<", ">", "@", "!",
# quote or space can reach a Slack link, an HTML attribute or apprise's pattern restoring).
_URL_SAFE = "-._~:/?#$&()+,;=%"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
# Slack mrkdwn: "<", ">" open and close links and mentions, "|" splits them, the others format text.
_SLACK = str.maketrans({"<": "‹", ">": "›", "|": "¦", "*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


@dataclass(frozen=True)
class Message:
    title: str  # one line, plain text, <= 200 characters
    html: str  # email; every URL is also the visible text of its link
    text: str  # plain text
    markdown: str  # Slack mrkdwn


def link_url(value: object) -> str | None:
    """The URL to link to (percent-encoded where needed) if `value` is an http(s) URL with a plain host (no
    user:password@): the one test for every link made from data (messages, report, feed)."""
    if not isinstance(value, str):
        return None
    url = quote(value.strip(), safe=_URL_SAFE)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        return None
    return url


class _Text:
    def data(self, value: str) -> str:
        return one_line(value)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)
        return f"{label}: {target}" if target else f"{label} (not a web link): {self.data(str(url))}"

    def section(self, text: str) -> str:
        return f"== {text} =="

    def heading(self, text: str) -> str:
        return f"{text}:"

    def para(self, text: str) -> str:
        return text

    def items(self, items: list[list[str]]) -> str:
        return "\n".join("- " + "\n".join(lines).replace("\n", "\n  ") for lines in items)

    def join(self, blocks: list[str]) -> str:
        return "\n\n".join(blocks) + "\n"


class _Html(_Text):
    def data(self, value: str) -> str:
        return html.escape(one_line(value), quote=True)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)
        if not target:
            return f"{label} (not a web link): {self.data(str(url))}"
        shown = html.escape(target, quote=True)
        return f'{label}: <a href="{shown}">{shown}</a>'

    def section(self, text: str) -> str:
        return f"<h2>{text}</h2>"

    def heading(self, text: str) -> str:
        return f"<h3>{text}</h3>"

    def para(self, text: str) -> str:
        return f"<p>{text}</p>"

    def items(self, items: list[list[str]]) -> str:
        return "<ul>\n" + "\n".join("<li>" + "<br>\n".join(lines) + "</li>" for lines in items) + "\n</ul>"

    def join(self, blocks: list[str]) -> str:
        return "<div>\n" + "\n".join(blocks) + "\n</div>\n"


class _Slack(_Text):
    def data(self, value: str) -> str:
        return one_line(value).translate(_SLACK)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)  # no "|", ">", "@", "!" or space left: it can only be this link
        return f"<{target}|{label}>" if target else f"{label} (not a web link): {self.data(str(url))}"

    def section(self, text: str) -> str:
        return f"*{text}*"

    def heading(self, text: str) -> str:
        return f"_{text}_"

    def items(self, items: list[list[str]]) -> str:
        return "\n".join("• " + "\n".join(lines).replace("\n", "\n      ") for lines in items)


_FORMATS = (_Html(), _Text(), _Slack())


def _evidence(fmt: _Text, event: dict[str, Any]) -> str:
    """Where and when it was seen: the source link, the snapshot and its sha256, the time."""
    provenance = []
    if event.get("snapshot_id") is not None:
        sha = str(event.get("snapshot_sha256") or "")[:12] or "unknown"
        provenance.append(f"snapshot #{fmt.data(str(event['snapshot_id']))}, sha256 {fmt.data(sha)}")
    provenance.append(f"seen {fmt.data(utc(event.get('detected_at')))}")
    if event.get("baseline"):
        provenance.append("baseline")
    if event.get("url"):
        return f"{fmt.link('Source', event['url'])} ({', '.join(provenance)})"
    return f"Evidence: {', '.join(provenance)}"


def _diff_lines(fmt: _Text, diff: str) -> list[str]:
    """A page.changed diff as "Added: ..." / "Removed: ..." sentences (no diff headers or context)."""
    words = {"+": "Added", "-": "Removed"}
    changed = [line for line in diff.splitlines() if line[:1] in words and line[:3] not in ("+++", "---")]
    shown = [f"{words[line[0]]}: {fmt.data(line[1:])}" for line in changed[:DIFF_LINES]]
    if len(changed) > DIFF_LINES:
        shown.append(f"({plural(len(changed) - DIFF_LINES, 'more changed line')})")
    return shown


def _kept(fmt: _Text, copy: dict[str, Any]) -> str:
    """One kept copy (watch287g's own, in its database): a link when the database is served at a public URL,
    else its sha256 and the command that writes it out."""
    sha256, size, at = fmt.data(str(copy.get("sha256"))), copy.get("size"), copy.get("fetched_at")
    facts = [
        f"{size:,} bytes" if isinstance(size, int) else None,
        f"kept {fmt.data(utc(at))}" if at else None,
    ]
    label = str(copy.get("label") or "kept copy")
    if link_url(copy.get("url")):
        shown = ", ".join(fact for fact in [*facts, f"sha256 {sha256[:12]}"] if fact)
        return f"{fmt.link(label, copy['url'])} ({shown})"
    shown = "".join(f", {fact}" for fact in facts if fact)
    return f"{label}: sha256 {sha256}{shown}; write it out with: watch287g moa get {sha256} -o FILE"


def _document_lines(fmt: _Text, event: dict[str, Any], subject: dict[str, Any]) -> list[str]:
    """The links of an event's documents: the agreement's MOA and addendum at ICE and, for an event about a
    document, that document and (when delivery found them, `kept_copies`) the copies watch287g keeps."""
    name, url = document_of(event)
    kept = [_kept(fmt, copy) for copy in event.get("kept_copies") or [] if isinstance(copy, dict)]
    lines = []
    for label, field in (("MOA", "moa_url"), ("Addendum", "addendum_url")):
        if subject.get(field) and not (kept and f"{name}_url" == field and subject[field] == url):
            lines.append(fmt.link(label, subject[field]))
    if url and (kept or event.get("type") in DOCUMENT_EVENTS):
        label = "Addendum" if name == "addendum" else "MOA"
        lines.append(" · ".join([fmt.link(f"{label} (ICE)", url), *kept]))
    return lines


def _item(fmt: _Text, event: dict[str, Any]) -> list[str]:
    details = event.get("details") or {}
    subject = event.get("after") or event.get("before") or {}
    lines = [headline(event, fmt.data), *_document_lines(fmt, event, subject)]
    other_link = event.get("type") not in DOCUMENT_EVENTS  # else its document's URL is in the lines above
    if other_link and details.get("url") and details["url"] != event.get("url"):
        lines.append(fmt.link("Link", details["url"]))
    if event.get("type") == "page.changed":
        lines.extend(_diff_lines(fmt, str(details.get("diff") or "")))
    lines.append(_evidence(fmt, event))
    return lines


def _body(fmt: _Text, intro: str, events: list[dict[str, Any]], footer: str, left_out: list[dict[str, Any]]) -> str:  # fmt: skip
    blocks = [fmt.para(intro)]
    for state, groups in sections(events):
        everything = [e for _, group in groups for e in group]
        place = fmt.data(state) if state else "Not tied to a state"
        blocks.append(fmt.section(f"{place}: {', '.join(summary(everything))}"))
        for event_type, group in groups:
            blocks.append(fmt.heading(f"{kind_of(event_type).heading} ({len(group)})"))
            blocks.append(fmt.items([_item(fmt, e) for e in group]))
    if left_out:
        blocks.append(fmt.para(_more(fmt, len(events), left_out)))
    blocks.append(fmt.para(footer))
    return fmt.join(blocks)


def _more(fmt: _Text, shown: int, left_out: list[dict[str, Any]]) -> str:
    """ "...and N more": where the events not listed can be read (their source lists, the feed, the report)."""
    urls = list(dict.fromkeys(str(e["url"]) for e in left_out if e.get("url")))
    links = [fmt.link("Source list", url) for url in urls[:SOURCE_LINKS]]
    if len(urls) > SOURCE_LINKS:
        links.append(f"and {plural(len(urls) - SOURCE_LINKS, 'other source')}")
    where = f" They are in: {'; '.join(links)}." if links else ""
    return (f"…and {plural(len(left_out), 'more event')} not listed here (this message lists {shown}: "
            f"{', '.join(summary(left_out))} left out).{where} watch287g's feed and report list every event.")  # fmt: skip


def _message(title: str, intro: str, events: list[dict[str, Any]], subscriber: str) -> Message:
    def bodies(shown: int) -> list[str]:
        return [
            _body(fmt, intro, events[:shown], f"Sent to {fmt.data(subscriber)} by watch287g. Times are UTC.",
                  events[shown:])
            for fmt in _FORMATS
        ]  # fmt: skip

    shown = min(len(events), MAX_ITEMS)
    rendered = bodies(shown)
    while shown > 1 and max(len(body.encode()) for body in rendered) > MAX_BYTES:
        shown //= 2  # halving: a handful of renderings at most, whatever the events hold
        rendered = bodies(shown)
    return Message(one_line(title, TITLE_LIMIT), *rendered)


def _counted(events: list[dict[str, Any]]) -> str:
    return f"{plural(len(events), 'event')}: {', '.join(summary(events))}."


def render_alert(events: list[dict[str, Any]], subscriber: str) -> Message:
    """An immediate alert for one or more events: grouped by state, then by type, each with its evidence."""
    intro = _counted(events) if events else "No events."
    return _message(title_for(events), intro, events, subscriber)


def render_digest(
    events: list[dict[str, Any]], subscriber: str, period: str, start: str, end: str
) -> Message:
    """One message for a period ("daily" or "weekly"): counts, then the events by state and type."""
    label = f"{clean(period).capitalize() or 'Periodic'} digest of 287(g) changes, {span(start, end)}"
    intro = f"{label}: {_counted(events)}" if events else f"{label}: no changes."
    return _message(digest_title(events, period, start, end), intro, events, subscriber)


def render_test(
    subscriber: str, now: str, sources: Sequence[tuple[str, str | None]] = (("", ICE_PAGE),)
) -> Message:
    """`watch287g notify --test`: proves the channel works, naming the configured sources (name, URL if any)
    with a link each, to check links arrive."""

    def body(fmt: _Text) -> str:
        return fmt.join(
            [
                fmt.para(
                    f"This is a test message from watch287g to {fmt.data(subscriber)}, sent "
                    f"{fmt.data(utc(now))}. If you can read it, 287(g) alerts will reach you here."
                ),
                *(
                    fmt.para(
                        fmt.link(f"Watching {fmt.data(name)}".strip(), url)
                        if url
                        else f"Watching {fmt.data(name)}"
                    )
                    for name, url in sources
                ),  # fmt: skip
            ]
        )

    title = one_line(f"watch287g test message for {subscriber}", TITLE_LIMIT)
    return Message(title, *(body(fmt) for fmt in _FORMATS))
