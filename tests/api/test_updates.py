"""Residents' news: their city's updates and those of campaigns they follow, paged, cached."""

from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import Role
from campaigns import service as campaigns
from tests.api.helpers import assert_problem
from updates import publishing, service

UPDATE_FIELDS = {
    "id",
    "title",
    "body",
    "excerpt",
    "image_url",
    "image_alt",
    "campaign",
    "published_at",
    "language",
}


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, role=Role.STAFF)


@pytest.fixture
def make_campaign(db_session, moderator):
    def make(slug, publish=True, city=None, actor=None):
        city = city or moderator.city
        title = {city.default_locale: f"Titre {slug}", "en": f"Title {slug}"}
        campaign = campaigns.create_campaign(
            db_session, actor or moderator, city, slug=slug, title=title
        )
        if publish:
            campaigns.publish_campaign(db_session, actor or moderator, campaign)
        db_session.commit()
        return campaign

    return make


@pytest.fixture
def make_update(app, db_session, staff):
    """An update made through the services; ``published`` moments order the feed."""

    def make(name="Travaux", campaign=None, published=None, city=None, actor=None, **values):
        city = city or staff.city
        actor = actor or staff
        values.setdefault("title", {city.default_locale: name, "en": f"{name} (en)"})
        update = service.create_update(
            db_session,
            actor,
            city,
            campaign_id=campaign.id if campaign else None,
            **values,
        )
        if published is not None:
            session = db_session()  # the test's own session, holding the update and actor
            with app.app_context():  # publishing renders notifications
                publishing.publish_update(session, actor, update, published)
        db_session.commit()
        return update

    return make


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon, locale="en")


def _follow(db_session, user, campaign):
    campaigns.follow_campaign(db_session, user, campaign.slug)
    db_session.commit()


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.json["items"]]


def test_the_feed_holds_city_news_and_followed_campaigns_only(
    client, db_session, staff, vienna, make_user, resident, bearer, make_campaign, make_update
):
    followed, other = make_campaign("followed"), make_campaign("other")
    _follow(db_session, resident, followed)
    now = utcnow()
    make_update("Ville", published=now - timedelta(minutes=3))
    make_update("Suivie", campaign=followed, published=now - timedelta(minutes=2))
    make_update("Autre", campaign=other, published=now - timedelta(minutes=1))
    make_update("Brouillon")
    scheduled = make_update("Bientôt")
    publishing.schedule_update(db_session, staff, scheduled, now + timedelta(days=1))
    db_session.commit()
    wien_staff = make_user(vienna, role=Role.STAFF)
    make_update("Wien", city=vienna, actor=wien_staff, published=now)

    response = client.get("/api/v1/updates", headers=bearer(resident))
    assert _titles(response) == ["Suivie (en)", "Ville (en)"]
    item = response.json["items"][0]
    assert set(item) == UPDATE_FIELDS
    assert item["campaign"] == {"slug": "followed", "title": "Title followed"}
    assert item["language"] == "en"
    assert response.json["items"][1]["campaign"] is None
    assert response.json["next_cursor"] is None


def test_items_carry_sanitised_html_an_excerpt_and_the_image(client, resident, bearer, make_update):
    make_update(
        body={
            "fr": "<p>Texte</p>",
            "en": "<p>The <strong>street</strong> closes.</p><script>alert(1)</script>"
            '<a href="https://lyon.fr" onclick="x()">Map</a>',
        },
        image_url="https://images.example.org/street.jpg",
        image_alt={"fr": "La rue", "en": "The street"},
        published=utcnow(),
    )
    (item,) = client.get("/api/v1/updates", headers=bearer(resident)).json["items"]
    assert item["body"] == (
        "<p>The <strong>street</strong> closes.</p>"
        '<a href="https://lyon.fr" rel="noopener noreferrer">Map</a>'
    )
    assert item["excerpt"] == "The street closes. Map"
    assert item["image_url"] == "https://images.example.org/street.jpg"
    assert item["image_alt"] == "The street"
    assert item["published_at"].endswith("+00:00")


def test_texts_fall_back_to_the_citys_language(client, make_user, lyon, bearer, make_update):
    make_update(
        title={"fr": "Seulement en français"}, body={"fr": "<p>Bonjour</p>"}, published=utcnow()
    )
    german = make_user(lyon, locale="de")
    (item,) = client.get("/api/v1/updates", headers=bearer(german)).json["items"]
    assert item["title"] == "Seulement en français" and item["language"] == "fr"
    assert item["excerpt"] == "Bonjour"


def test_an_archived_campaigns_updates_leave_the_feed(
    client, db_session, moderator, resident, bearer, make_campaign, make_update
):
    campaign = make_campaign("ending")
    _follow(db_session, resident, campaign)
    update = make_update("Fin", campaign=campaign, published=utcnow())
    headers = bearer(resident)
    assert _titles(client.get("/api/v1/updates", headers=headers)) == ["Fin (en)"]
    campaigns.archive_campaign(db_session, moderator, campaign)
    db_session.commit()
    assert _titles(client.get("/api/v1/updates", headers=headers)) == []
    assert_problem(client.get(f"/api/v1/updates/{update.id}", headers=headers), 404)


def test_cursor_pagination_walks_every_update_once(client, resident, bearer, make_update):
    now = utcnow()
    for i in range(7):
        make_update(f"U{i}", published=now - timedelta(minutes=10 - i))
    headers = bearer(resident)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/updates", query_string=query, headers=headers).json
        seen += [item["title"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == [f"U{i} (en)" for i in reversed(range(7))]  # newest first, each once


@pytest.mark.parametrize("query", ["limit=0", "cursor=not-a-cursor", "sort=published_at"])
def test_bad_query_parameters_are_400(client, resident, bearer, query):
    assert_problem(client.get(f"/api/v1/updates?{query}", headers=bearer(resident)), 400)


def test_etag_gives_304_until_the_feed_changes(
    client, db_session, staff, resident, bearer, make_campaign, make_update
):
    update = make_update("Ville", published=utcnow() - timedelta(minutes=5))
    headers = bearer(resident)

    def etag_now(previous):
        response = client.get("/api/v1/updates", headers={**headers, "If-None-Match": previous})
        return response.status_code, response.headers.get("ETag", previous)

    etag = client.get("/api/v1/updates", headers=headers).headers["ETag"]
    assert etag_now(etag) == (304, etag)

    campaign = make_campaign("fresh")
    make_update("Campagne", campaign=campaign, published=utcnow())
    assert etag_now(etag) == (304, etag)  # not followed: the feed is the same
    _follow(db_session, resident, campaign)
    status, followed = etag_now(etag)
    assert status == 200 and followed != etag

    service.edit_update(db_session, staff, update, title={"fr": "Ville corrigée"})
    db_session.commit()
    status, edited = etag_now(followed)
    assert status == 200 and edited != followed

    publishing.unpublish_update(db_session, staff, update)
    db_session.commit()
    status, unpublished = etag_now(edited)
    assert status == 200 and unpublished != edited


def test_unpublishing_hides_an_update_at_once(
    client, db_session, staff, resident, bearer, make_update
):
    update = make_update("Erreur", published=utcnow())
    headers = bearer(resident)
    assert client.get(f"/api/v1/updates/{update.id}", headers=headers).status_code == 200
    publishing.unpublish_update(db_session, staff, update)
    db_session.commit()
    assert _titles(client.get("/api/v1/updates", headers=headers)) == []
    assert_problem(client.get(f"/api/v1/updates/{update.id}", headers=headers), 404)


def test_detail_shows_any_published_update_of_my_city(
    client, resident, bearer, make_campaign, make_update
):
    campaign = make_campaign("not-followed")
    update = make_update("Chantier", campaign=campaign, published=utcnow())
    response = client.get(
        f"/api/v1/updates/{update.id}", headers=bearer(resident, **{"Accept-Language": "fr"})
    )
    assert response.status_code == 200
    assert set(response.json) == UPDATE_FIELDS
    assert response.json["title"] == "Chantier (en)"  # the person's own language wins
    etag = response.headers["ETag"]
    again = client.get(
        f"/api/v1/updates/{update.id}", headers=bearer(resident, **{"If-None-Match": etag})
    )
    assert again.status_code == 304


def test_detail_is_404_for_drafts_other_cities_and_unknown_ids(
    client, vienna, make_user, resident, bearer, make_campaign, make_update
):
    draft = make_update("Brouillon")
    hidden_campaign = make_campaign("hidden", publish=False)
    waiting = make_update("Attente", campaign=hidden_campaign)
    wien_staff = make_user(vienna, role=Role.STAFF)
    wien = make_update("Wien", city=vienna, actor=wien_staff, published=utcnow())
    headers = bearer(resident)
    for update_id in (draft.id, waiting.id, wien.id, 999_999):
        assert_problem(client.get(f"/api/v1/updates/{update_id}", headers=headers), 404)
    # Staff of the city see drafts in the console, not through the app.
    staff_headers = bearer(make_user(resident.city, role=Role.STAFF))
    assert_problem(client.get(f"/api/v1/updates/{draft.id}", headers=staff_headers), 404)
    # Vienna's people see Vienna's update.
    vienna_headers = bearer(make_user(vienna))
    assert client.get(f"/api/v1/updates/{wien.id}", headers=vienna_headers).status_code == 200


def test_updates_need_a_token(client):
    assert_problem(client.get("/api/v1/updates"), 401)
    assert_problem(client.get("/api/v1/updates/1"), 401)
