"""Residents' texts on idea boards: rendering the markdown subset as safe HTML, and folding.

Ideas, comments and the city's responses are stored as typed (plain text). On output a small
markdown subset becomes HTML: paragraphs, line breaks, **bold**, *italic*, lists and links to
http/https addresses. Raw HTML is never interpreted (it shows as text), and what markdown
produces still goes through the sanitiser of ``app.richtext``, so a parser quirk cannot let
markup through that the rest of the product would refuse.
"""

import unicodedata

from markdown_it import MarkdownIt

from app.richtext import sanitize

#: Inline and block rules on top of markdown-it's "zero" preset (paragraphs and text only).
RULES = ["list", "newline", "escape", "emphasis", "link", "autolink", "entity"]
LINK_SCHEMES = ("http://", "https://")
#: Japanese voicing marks: they change the kana, unlike accents on Latin or Cyrillic letters.
KEPT_MARKS = frozenset({"\u3099", "\u309a"})


def _only_web_links(url: str) -> bool:
    return url.strip().lower().startswith(LINK_SCHEMES)


def _parser() -> MarkdownIt:
    # html=False: "<script>" in a body is text, escaped by the renderer. breaks=True: a single
    # line break typed on a phone is a line break, not a space.
    parser = MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False})
    parser.enable(RULES)
    parser.validateLink = _only_web_links
    return parser


_markdown = _parser()


def render(body: str | None) -> str:
    """A resident's text as safe HTML (p, br, strong, em, ul, ol, li, a)."""
    if not body or not body.strip():
        return ""
    return sanitize(_markdown.render(body.replace("\r\n", "\n")))


def fold(text: str | None) -> str:
    """Lower-cased, accents removed, white space collapsed: what search and similarity compare.

    "Crèche  École" and "creche ecole" fold alike; full-width letters become their usual forms.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(
        char for char in decomposed if char in KEPT_MARKS or not unicodedata.combining(char)
    )
    return " ".join(unicodedata.normalize("NFKC", stripped).split())
