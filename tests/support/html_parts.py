"""What a rendered HTML page holds, for tests: its elements, attributes, link targets and text."""

from __future__ import annotations

from html.parser import HTMLParser


class ParsedHtml(HTMLParser):
    """Every element name (`tags`), attribute (`attributes`), href of any element (`hrefs`, in order) and the
    text of a page."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.hrefs: list[str] = []
        self.text = ""
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text += data
