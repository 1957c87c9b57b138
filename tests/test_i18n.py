"""Languages: catalogs complete and compiling, locale negotiation, translated content."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from flask_babel import force_locale

from i18n import LOCALES, catalogs, format_span, select_locale
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


NNBSP, THIN, DASH = "\N{NARROW NO-BREAK SPACE}", "\N{THIN SPACE}", "\N{EN DASH}"
WAVE = "\N{FULLWIDTH TILDE}"


@pytest.mark.parametrize(
    ("locale", "same_day", "two_days"),
    [
        (
            "en",
            f"Dec 26, 2026, 6:00{THIN}{DASH}{THIN}8:00{NNBSP}PM",
            f"Dec 26, 2026, 6:00{NNBSP}PM {DASH} Dec 27, 2026, 10:00{NNBSP}AM",
        ),
        (
            "fr",
            f"26 déc. 2026, 18:00{THIN}{DASH}{THIN}20:00",
            f"26 déc. 2026, 18:00 {DASH} 27 déc. 2026, 10:00",
        ),
        ("ja", f"2026/12/26 18時00分{WAVE}20時00分", f"2026/12/26 18:00 {DASH} 2026/12/27 10:00"),
    ],
)
def test_a_span_of_time_names_its_day_once(app, lyon, locale, same_day, two_days):
    start = datetime(2026, 12, 26, 17, tzinfo=UTC)
    with app.test_request_context(), force_locale(locale):
        g.city = lyon  # times on Lyon's clock
        assert format_span(start, start + timedelta(hours=2)) == same_day
        assert format_span(start, start + timedelta(hours=16)) == two_days
