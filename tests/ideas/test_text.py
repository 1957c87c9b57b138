"""Residents' texts: the markdown subset rendered as safe HTML, and folding for comparison."""

from html.parser import HTMLParser

import pytest

from ideas.text import fold, render


def test_the_markdown_subset_becomes_html():
    html = render("Un **grand** jardin, *vraiment*.\nAvec :\n\n- des bacs\n- du compost\n\n1. un\n")
    assert html == (
        "<p>Un <strong>grand</strong> jardin, <em>vraiment</em>.<br>\nAvec :</p>\n"
        "<ul>\n<li>des bacs</li>\n<li>du compost</li>\n</ul>\n<ol>\n<li>un</li>\n</ol>"
    )


def test_web_links_are_kept_and_protected():
    html = render("Voir [le plan](https://lyon.example/plan) ou <http://a.example>")
    assert '<a href="https://lyon.example/plan" rel="noopener noreferrer">le plan</a>' in html
    assert '<a href="http://a.example" rel="noopener noreferrer">http://a.example</a>' in html


class _Markup(HTMLParser):
    """The tags and attributes of an HTML fragment."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def markup_of(html: str) -> list[tuple[str, dict]]:
    parser = _Markup()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[clic](javascript:alert(1))",
        "[clic](JaVaScRiPt:alert(1))",
        "[clic](data:text/html;base64,PHNjcmlwdD4=)",
        "[clic](vbscript:msgbox(1))",
        "[clic](/relative/path)",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "[mail](mailto:a@b.example) ![image](https://evil.example/x.png)",
        '"><svg onload=alert(1)>',
        '[x](https://ok.example "title" onmouseover=alert(1))',
    ],
)
def test_markup_and_unsafe_links_never_come_out_as_markup(payload):
    for tag, attributes in markup_of(render(payload)):
        assert tag in {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
        assert set(attributes) <= {"href", "rel"}
        if tag == "a":
            assert attributes["href"].startswith(("https://", "http://"))


def test_typed_html_is_shown_as_text():
    assert (
        render("<b>gras</b> & <i>co</i>")
        == "<p>&lt;b&gt;gras&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;</p>"
    )


def test_headings_images_and_code_are_not_part_of_the_subset():
    html = render("# Titre\n\n`code`")
    assert "<h1" not in html and "<code" not in html
    assert "# Titre" in html and "`code`" in html


def test_empty_text_renders_to_nothing():
    assert render("") == render("   \n ") == render(None) == ""


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Crèche  ÉCOLE\n\tNoël", "creche ecole noel"),
        ("Straße", "strasse"),
        ("Їжак і йогурт", "іжак і иогурт"),  # noqa: RUF001
        ("ＡＢＣ　公園", "abc 公園"),  # noqa: RUF001
        ("ガーデン が ぱ", "ガーデン が ぱ"),
        (None, ""),
    ],
)
def test_folding_removes_case_accents_and_extra_space(text, folded):
    assert fold(text) == folded
