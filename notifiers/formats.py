"""The three formats of a message (plain text, e-mail HTML, Slack mrkdwn) as values that make data safe and links.

Everything taken from a fetched page or spreadsheet (or from the config) is data, never markup: HTML-escaped;
in mrkdwn stripped of every character Slack, or apprise's Slack plugin (which restores `<!channel>`, `<@user>`
and `<url|text>` in bodies), would read as markup; control characters become spaces and format characters
(bidi overrides, zero-width) go, everywhere; one value shows at most 300 characters. Only http(s) URLs without
user:password@ become links (`link_url`). Links carry words ("MOA", "ICE's list of 8 July 2025"): the text
format writes "words: URL", HTML and Slack link the words, and the HTML format remembers what it linked so the
e-mail can list every URL in full (apprise makes the e-mail's text/plain part from the HTML, without hrefs).
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

from notifiers.text import one_line

# Characters a link may keep as they are; anything else is percent-encoded (so no "|", "<", ">", "@", "!",
# quote or space can reach a Slack link, an HTML attribute or apprise's pattern restoring).
_URL_SAFE = "-._~:/?#$&()+,;=%"
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
# Slack mrkdwn: "<", ">" open and close links and mentions, "|" splits them, the others format text.
_SLACK = str.maketrans({"<": "‹", ">": "›", "|": "¦", "*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


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


class TextFormat:
    """Plain text: data as one line, a link as "words: URL" (the full URL stays readable)."""

    shows_urls = True  # a link's words are followed by its URL (else the words alone must say what it is)

    def data(self, value: str) -> str:
        return one_line(value)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)
        return f"{label}: {target}" if target else self.not_a_link(label, url)

    def not_a_link(self, label: str, url: object) -> str:
        return f"{label} (not a web link): {self.data(str(url))}"


class HtmlFormat(TextFormat):
    """E-mail HTML: data escaped, a link is its words; `linked` keeps (words, URL) in order for the list of
    full URLs at the end of the e-mail. One instance per rendering."""

    shows_urls = False

    def __init__(self) -> None:
        self.linked: dict[str, str] = {}  # URL -> the words it was first linked with

    def data(self, value: str) -> str:
        return html.escape(one_line(value), quote=True)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)
        if not target:
            return self.not_a_link(label, url)
        self.linked.setdefault(target, label)
        return f'<a href="{html.escape(target, quote=True)}" style="color:#1d4ed8">{label}</a>'


class SlackFormat(TextFormat):
    """Slack mrkdwn: data stripped of markup characters, a link is <URL|words>."""

    shows_urls = False

    def data(self, value: str) -> str:
        return one_line(value).translate(_SLACK)

    def link(self, label: str, url: object) -> str:
        target = link_url(url)  # no "|", ">", "@", "!" or space left: it can only be this link
        return f"<{target}|{label}>" if target else self.not_a_link(label, url)
