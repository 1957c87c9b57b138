"""Languages: catalogs complete and compiling, locale negotiation, translated content."""

import shutil

import pytest
from flask import g

from i18n import LOCALES, catalogs, select_locale
from i18n.content import fallback_chain, missing_locales, pick
from i18n.validation import translate_message


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return catalogs.extract(tmp_path_factory.mktemp("pot") / "messages.pot")


def test_every_catalog_translates_every_string(template):
    incomplete = {
        row.locale: row.missing[:5] for row in catalogs.completeness(template) if row.missing
    }
    assert incomplete == {}, "run `flask i18n update` and translate these"


def test_every_catalog_compiles_without_problems(tmp_path):
    copy = tmp_path / "translations"
    shutil.copytree(catalogs.TRANSLATIONS, copy)
    assert catalogs.compile_all(copy) == []
    assert all((copy / loc / "LC_MESSAGES" / "messages.mo").stat().st_size > 0 for loc in LOCALES)


def test_the_committed_template_is_current(template):
    """i18n/messages.pot must be regenerated (`flask i18n update`) when strings change."""
    assert catalogs.message_ids(catalogs.TEMPLATE) == catalogs.message_ids(template)


@pytest.mark.parametrize(
    ("accept", "user_locale", "expected"),
    [
        ("de-AT,de;q=0.9", None, "de"),
        ("pt-BR", None, "fr"),  # nothing offered matches: the city's default
        ("", None, "fr"),
        ("uk", "ja", "ja"),  # the person's own setting wins
        ("gl-ES", None, "gl"),
    ],
)
def test_locale_negotiation(app, lyon, make_user, accept, user_locale, expected):
    user = make_user(lyon, locale=user_locale)
    with app.test_request_context(headers={"Accept-Language": accept}):
        g.user = user
        assert select_locale() == expected


def test_without_a_city_the_fallback_is_english(app):
    with app.test_request_context(headers={"Accept-Language": "pt"}):
        assert select_locale() == "en"


def test_translated_content_fallback_chain():
    value = {"fr": "Bonjour", "de": "Hallo"}
    assert fallback_chain("ja", "fr") == ["ja", "fr", "en"]
    assert pick(value, "de", "fr") == ("Hallo", "de")
    assert pick(value, "ja", "fr") == ("Bonjour", "fr")
    assert pick({"it": "Ciao"}, "ja", "fr") == ("Ciao", "it")  # any language before nothing
    assert pick({}, "ja", "fr") == ("", None)
    assert missing_locales({"fr": "x", "en": "  "}, ["fr", "en"]) == ["en"]


def test_library_messages_are_translated_with_their_values(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("de"):
        translated = translate_message("Longer than maximum length 100.")
    assert "100" in translated and translated != "Longer than maximum length 100."
    assert translate_message("Something of our own.") == "Something of our own."
