"""Consent texts and consents: the current version, giving once, a newer text asking again,
withdrawing, and who may publish a text."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import consent, demo
from app.consent_models import Purpose
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import City, Role

ENERGY = Purpose.ENERGY_FEEDBACK


def test_the_current_text_is_the_latest_published_version(
    db_session, lyon, vienna, publish_energy_text
):
    assert consent.current_text(db_session, lyon.id, ENERGY) is None
    first = publish_energy_text(lyon)
    assert (first.version, first.city_id) == (1, lyon.id)
    second = publish_energy_text(lyon, {"fr": "Nouvelle version.", "en": "New version."})
    assert second.version == 2
    assert consent.current_text(db_session, lyon.id, ENERGY) == second
    assert consent.current_text(db_session, lyon.id, Purpose.RESEARCH) is None
    assert consent.current_text(db_session, vienna.id, ENERGY) is None


def test_giving_consent_records_the_version_and_twice_is_once(db_session, resident, energy_text):
    now = utcnow()
    given, created = consent.give_consent(db_session, resident, ENERGY, 1, now=now)
    assert created is True
    assert (given.user_id, given.version, given.text_id, given.method) == (
        resident.id,
        1,
        energy_text.id,
        "app",
    )
    assert given.given_at == now
    again, created = consent.give_consent(db_session, resident, ENERGY, 1, method="console")
    assert (again.id, created) == (given.id, False)
    assert consent.active_consent(db_session, resident, ENERGY) == given
    assert consent.require_consent(db_session, resident, ENERGY) == given


def test_another_version_than_the_current_one_is_a_conflict(db_session, resident, energy_text):
    for version in (0, 2):
        with pytest.raises(Conflict) as refused:
            consent.give_consent(db_session, resident, ENERGY, version)
        assert refused.value.slug == "consent-outdated"
    assert consent.active_consent(db_session, resident, ENERGY) is None


def test_without_a_text_there_is_nothing_to_consent_to(db_session, resident):
    with pytest.raises(NotFound):
        consent.give_consent(db_session, resident, ENERGY, 1)
    with pytest.raises(NotFound):
        consent.give_consent(db_session, resident, "no-such-purpose", 1)


def test_an_unknown_method_is_refused(db_session, resident, energy_text):
    with pytest.raises(Invalid) as refused:
        consent.give_consent(db_session, resident, ENERGY, 1, method="telepathy")
    assert list(refused.value.errors) == ["method"]


def test_a_residents_consent_is_for_their_own_citys_text(
    db_session, vienna, make_user, energy_text
):
    viennese = make_user(vienna)
    with pytest.raises(NotFound):
        consent.give_consent(db_session, viennese, ENERGY, 1)


def test_without_consent_it_is_required(db_session, resident, energy_text):
    with pytest.raises(Conflict) as refused:
        consent.require_consent(db_session, resident, ENERGY)
    assert refused.value.slug == "consent-required"
    assert refused.value.detail == (
        "Please read and agree to the consent text before you continue."
    )


def test_a_newer_text_asks_again(db_session, lyon, resident, energy_text, publish_energy_text):
    consent.give_consent(db_session, resident, ENERGY, 1)
    assert not consent.must_consent_again(db_session, resident, ENERGY)
    publish_energy_text(lyon, {"fr": "Nous gardons moins longtemps.", "en": "We keep less."})
    assert consent.active_consent(db_session, resident, ENERGY) is None
    assert consent.must_consent_again(db_session, resident, ENERGY)
    with pytest.raises(Conflict) as refused:
        consent.require_consent(db_session, resident, ENERGY)
    assert refused.value.slug == "consent-required"
    assert "has changed" in refused.value.detail
    with pytest.raises(Conflict):
        consent.give_consent(db_session, resident, ENERGY, 1)
    renewed, created = consent.give_consent(db_session, resident, ENERGY, 2)
    assert created and renewed.version == 2
    assert consent.active_consent(db_session, resident, ENERGY) == renewed


def test_withdrawing_ends_every_standing_consent(
    db_session, lyon, resident, energy_text, publish_energy_text
):
    old, _ = consent.give_consent(db_session, resident, ENERGY, 1)
    publish_energy_text(lyon)
    new, _ = consent.give_consent(db_session, resident, ENERGY, 2)
    later = utcnow() + timedelta(minutes=1)
    withdrawn = consent.withdraw_consent(db_session, resident, ENERGY, now=later)
    assert withdrawn == new
    assert old.withdrawn_at == later and new.withdrawn_at == later
    assert consent.active_consent(db_session, resident, ENERGY) is None
    assert consent.withdraw_consent(db_session, resident, ENERGY) is None
    # Agreeing again after withdrawing is a new record.
    again, created = consent.give_consent(db_session, resident, ENERGY, 2)
    assert created and again.id != new.id


def test_city_admins_publish_texts_others_may_not(
    db_session, lyon, vienna, make_user, city_admin, resident
):
    text = {"fr": "Texte.", "en": "Text."}
    published = consent.publish_text(db_session, city_admin, lyon, ENERGY, text)
    assert published.text == text and published.published_at is not None
    moderator = make_user(lyon, role=Role.MODERATOR)
    with pytest.raises(NotAllowed):
        consent.publish_text(db_session, moderator, lyon, ENERGY, text)
    for outsider in (resident, make_user(vienna, role=Role.ADMIN)):
        with pytest.raises(NotFound):
            consent.publish_text(db_session, outsider, lyon, ENERGY, text)
    assert consent.current_text(db_session, lyon.id, ENERGY) == published


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ({"en": "Only English."}, "A text in the city's main language is needed."),
        ({"fr": "Oui.", "de": "Ja."}, "Not a language of this city: de"),
        ({"fr": "x" * 20_001}, "Longer than the maximum length of 20000."),
        ("Un texte.", "Give a text per language."),
        ({"fr": 3}, "Give a text per language."),
    ],
)
def test_a_text_must_be_in_the_citys_languages(db_session, lyon, city_admin, text, problem):
    with pytest.raises(Invalid) as refused:
        consent.publish_text(db_session, city_admin, lyon, ENERGY, text)
    assert refused.value.errors == {"text": [problem]}
    assert consent.current_text(db_session, lyon.id, ENERGY) is None


@pytest.mark.usefixtures("in_app")
def test_the_demo_cities_ask_for_energy_consent_in_their_languages(db_session):
    from_demo = demo.load(db_session)
    assert from_demo
    for slug in ("lyon", "vienna"):
        city = db_session.scalar(sa.select(City).where(City.slug == slug))
        text = consent.current_text(db_session, city.id, ENERGY)
        assert text.version == 1 and text.published_at is not None
        assert set(text.text) == set(city.enabled_locales)
        # How long readings are kept, in every language.
        for locale in city.enabled_locales:
            assert "24" in text.text[locale]
