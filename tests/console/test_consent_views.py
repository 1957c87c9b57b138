"""Consent texts in the console: the versions of each purpose with the consents standing, a new
version written in every language side by side, previewed, then published with a warning that
everyone is asked again; only the city's administrators, and nothing changes otherwise."""

from html import unescape

import pytest
import sqlalchemy as sa

from app import consent
from app.audit import AuditEntry
from app.consent_models import ConsentText, Purpose
from app.models import User
from tests.console.helpers import html, post_form

LIST = "/console/lyon/consents"
NEW = f"{LIST}/energy_feedback/new"
V1 = {"fr": "Vos relevés servent à vos conseils.", "en": "Your readings give you feedback."}


def _texts(db_session, purpose=Purpose.ENERGY_FEEDBACK) -> list[tuple[int, dict]]:
    db_session.expire_all()
    return [
        tuple(row)
        for row in db_session.execute(
            sa.select(ConsentText.version, ConsentText.text)
            .where(ConsentText.purpose == purpose.value)
            .order_by(ConsentText.version)
        )
    ]


@pytest.fixture
def agreed(db_session, people, lyon, make_person, publish_energy_text):
    """Version 1 with two consents, one withdrawn; version 2 with one consent."""
    publish_energy_text(lyon, V1)
    first, second, third = (
        make_person(lyon, f"{name}@lyon.example") for name in ("ada", "ben", "chloe")
    )
    for person in (first, second):
        consent.give_consent(db_session, person, Purpose.ENERGY_FEEDBACK, 1)
    consent.withdraw_consent(db_session, second, Purpose.ENERGY_FEEDBACK)
    publish_energy_text(lyon, {"fr": "Version deux.", "en": "Version two."})
    consent.give_consent(db_session, third, Purpose.ENERGY_FEEDBACK, 2)
    db_session.commit()
    return first


def test_the_versions_of_each_purpose_with_the_consents_standing(as_person, agreed):
    page = html(as_person("admin").get(LIST))
    assert "Consent texts of Lyon" in page
    for purpose in ("Account", "Energy feedback", "Research", "Being contacted for studies"):
        assert f">{purpose}</h2>" in page
    energy = page.split('id="purpose-energy_feedback"')[1].split("</section>")[0]
    rows = energy.split("<tr>")[2:]
    assert ">current</span>" in rows[0] and ">current</span>" not in rows[1]
    # Ada still stands by version 1 (and is asked again); Ben withdrew.
    assert "asked to agree to the current version" in rows[1]
    assert "Version two." in rows[0] and "Vos relevés servent à vos conseils." in rows[1]
    research = page.split('id="purpose-research"')[1].split("</section>")[0]
    assert "No version is published yet" in research


def _standing(page: str) -> list[str]:
    energy = page.split('id="purpose-energy_feedback"')[1].split("</section>")[0]
    return [
        row.split('data-label="Consents standing">')[1].split("<")[0].strip()
        for row in energy.split("<tr>")[2:]
    ]


def test_counts_are_per_version(as_person, agreed):
    assert _standing(html(as_person("admin").get(LIST))) == ["1", "1"]


def test_the_form_starts_from_the_current_text_side_by_side(as_person, agreed):
    page = html(as_person("admin").get(NEW))
    assert 'id="text-fr"' in page and 'id="text-en"' in page
    assert "Version deux.</textarea>" in page
    assert "Everyone will be asked again." in page
    assert "Publish version 3" in page


def test_a_preview_shows_the_formatting_and_stores_nothing(as_person, agreed, db_session):
    client = as_person("admin")
    response = post_form(
        client,
        NEW,
        {
            "action": "preview",
            "text-fr": "Vos relevés **restent** à vous.\n\n<script>alert(1)</script>",
            "text-en": "Your readings *stay* yours.",
        },
    )
    assert response.status_code == 200
    page = html(response)
    assert "Preview: what residents will read" in page
    assert "<strong>restent</strong>" in page and "<em>stay</em>" in page
    assert "<script>alert(1)</script>" not in page
    assert len(_texts(db_session)) == 2


def test_publishing_asks_to_confirm_then_everyone_is_asked_again(as_person, agreed, db_session):
    client = as_person("admin")
    form = {"action": "publish", "text-fr": "Troisième version.", "text-en": "Third version."}
    refused = post_form(client, NEW, form)
    assert refused.status_code == 422
    assert "Confirm that everyone who agreed before will be asked again." in html(refused)
    assert len(_texts(db_session)) == 2
    response = post_form(client, NEW, {**form, "confirm": "1"})
    assert response.status_code == 303
    assert response.location.endswith(LIST)
    assert _texts(db_session)[-1] == (3, {"fr": "Troisième version.", "en": "Third version."})
    assert consent.must_consent_again(db_session, agreed, Purpose.ENERGY_FEEDBACK)
    entry = db_session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "consent.publish")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    assert entry.actor_id == agreed_admin_id(db_session)
    assert entry.details == {"purpose": "energy_feedback", "version": 3}
    assert "Version 3 of “Energy feedback” is published." in html(client.get(LIST))


def agreed_admin_id(db_session) -> int:
    return db_session.scalar(sa.select(User.id).where(User.email == "admin@lyon.example"))


def test_the_first_version_needs_no_confirmation(as_person, people, db_session):
    client = as_person("admin")
    response = post_form(
        client,
        f"{LIST}/research/new",
        {"action": "publish", "text-fr": "Recherche anonyme.", "text-en": ""},
    )
    assert response.status_code == 303
    assert _texts(db_session, Purpose.RESEARCH) == [(1, {"fr": "Recherche anonyme."})]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"text-en": "Only English."}, "A text in the city's main language is needed."),
        ({"text-fr": "x" * 20_001}, "Longer than the maximum length of %(max)d."),
    ],
)
def test_a_text_that_cannot_be_published_is_refused(
    as_person, people, db_session, translate, form, message, new_client, open_session
):
    client = open_session(new_client(), people["admin"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    response = post_form(client, f"{LIST}/contact/new", {"action": "publish", **form})
    assert response.status_code == 422
    assert translate("fr", message, max=20_000) in unescape(html(response))
    assert _texts(db_session, Purpose.CONTACT) == []


def test_an_unknown_purpose_is_not_found(as_person, people):
    assert as_person("admin").get(f"{LIST}/marketing/new").status_code == 404


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("moderator", 403),
        ("staff", 403),
        ("researcher", 403),
        ("other_moderator", 404),
        ("resident", 404),
    ],
)
def test_only_administrators_see_or_publish_them(as_person, people, db_session, actor, status):
    client = as_person(actor)
    assert client.get(LIST).status_code == status
    form = {"action": "publish", "text-fr": "Nouveau.", "confirm": "1"}
    assert post_form(client, NEW, form).status_code == status
    assert _texts(db_session) == []


def test_the_platform_admin_may_and_the_navigation_links_there(as_person, people):
    page = html(as_person("platform_admin").get("/console/lyon/campaigns"))
    assert f'href="{LIST}"' in page
    assert f'href="{LIST}"' not in html(as_person("staff").get("/console/lyon/campaigns"))


def test_without_the_csrf_token_nothing_is_published(as_person, people, db_session):
    response = as_person("admin").post(NEW, data={"action": "publish", "text-fr": "Nouveau."})
    assert response.status_code == 400
    assert _texts(db_session) == []
