"""The text of an HTML element in one pass over the tree (pure).

bs4's tree edits (`insert_before`, `decompose`) find an element's place by a linear scan of its siblings, so
marking or removing many elements of a long page is quadratic (157 s for a 3 MB page). Here nothing is edited:
unwanted elements are skipped and block boundaries are emitted as marks while walking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from bs4 import NavigableString, PageElement, Tag


def text_pieces(
    root: Tag, skip: Collection[int] = (), blocks: Collection[str] = (), mark: str = ""
) -> Iterator[str]:
    """The strings `root.get_text()` would join, in order, leaving out the elements whose id() is in `skip`
    and yielding `mark` before and after every element named in `blocks`."""
    wanted = root.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES
    pending: list[tuple[Iterator[PageElement], bool]] = [(iter(root.contents), False)]
    while pending:  # an explicit stack: deep nesting must not hit the recursion limit
        children, is_block = pending[-1]
        child = next(children, None)
        if child is None:  # this element is done
            pending.pop()
            if is_block:
                yield mark
        elif isinstance(child, Tag):
            if id(child) in skip:
                continue
            opens_block = child.name in blocks
            if opens_block:
                yield mark
            pending.append((iter(child.contents), opens_block))
        elif isinstance(child, NavigableString) and _interesting(type(child), wanted):
            yield str(child)


def _interesting(kind: type, wanted: object) -> bool:
    """Which strings get_text keeps (text and CDATA, not comments or doctypes): bs4's own rule."""
    if isinstance(wanted, type):
        return kind is wanted
    return wanted is None or kind in wanted  # type: ignore[operator]
