"""Rich text that staff and residents write: an allow-list sanitiser and plain-text excerpts.

Every HTML body (update texts, later workshop minutes and idea bodies) goes through
``sanitize`` before it is stored, so what is kept can be shown as HTML anywhere. The allow-list
is small on purpose: paragraphs, emphasis, lists, headings, quotes, code and links; links may
only point to http, https or mailto addresses and always carry ``rel="noopener noreferrer"``.
Scripts, styles, images, event handlers and relative or ``javascript:`` links are dropped.
"""

import html
import re
from html.parser import HTMLParser

import nh3

TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "ul",
        "ol",
        "li",
        "a",
        "h2",
        "h3",
        "h4",
        "blockquote",
        "code",
        "pre",
    }
)
ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"
#: Removed together with their content: their text is not meant to be read.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
#: Tags after which an excerpt needs a space, so "<p>a</p><p>b</p>" reads "a b".
BLOCKS = frozenset({"p", "br", "li", "ul", "ol", "h2", "h3", "h4", "blockquote", "pre", "div"})
ELLIPSIS = "…"
#: Punctuation not left dangling before the ellipsis (incl. en and em dashes).
TRAILING = " ,;:.-\u2013\u2014"

_cleaner = nh3.Cleaner(
    tags=set(TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    # A phone has no page to resolve "/path" against: only absolute addresses are kept.
    url_relative="deny",
    link_rel=LINK_REL,
    strip_comments=True,
)
_BLANK_LINES = re.compile(r"\n\s*\n")


def sanitize(text: str | None) -> str:
    """``text`` with everything outside the allow-list removed; safe to show as HTML."""
    if not text:
        return ""
    return _cleaner.clean(text).strip()


def from_input(text: str | None) -> str:
    """What a person typed, as safe HTML.

    HTML is sanitised; plain text (no tags at all) is escaped and its blank-line-separated
    paragraphs become ``<p>``, single line breaks ``<br>``, so text typed without markup
    reads as typed.
    """
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    if nh3.is_html(text):
        return sanitize(text)
    paragraphs = (p.strip() for p in _BLANK_LINES.split(text))
    return "".join(
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p
    )


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in DROPPED_WITH_CONTENT:
            self._hidden += 1
        elif tag in BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in DROPPED_WITH_CONTENT:
            self._hidden = max(0, self._hidden - 1)
        elif tag in BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def plain_text(text: str | None) -> str:
    """The readable text of an HTML fragment on one line, entities decoded, tags gone."""
    if not text:
        return ""
    collector = _TextCollector()
    collector.feed(text)
    collector.close()
    return " ".join("".join(collector.parts).split())


def excerpt(text: str | None, max_length: int = 200) -> str:
    """The start of an HTML fragment as plain text (push bodies, listings), cut at a word."""
    words = plain_text(text)
    if len(words) <= max_length:
        return words
    limit = max_length - len(ELLIPSIS)
    # One character more than fits shows whether the cut falls between two words.
    head = words[: limit + 1]
    head = head.rsplit(" ", 1)[0] if " " in head else head[:limit]
    return head.rstrip(TRAILING) + ELLIPSIS
