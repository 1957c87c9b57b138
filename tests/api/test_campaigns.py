"""Residents' view of campaigns: their own city's published ones, paginated, cached, translated."""

from datetime import timedelta

import pytest
import time_machine

from app.db import utcnow
from app.models import Role
from campaigns import service
from tests.api.helpers import assert_problem

CAMPAIGN_FIELDS = {
    "slug",
    "title",
    "summary",
    "language",
    "cover_image_url",
    "cover_alt",
    "published_at",
    "updated_at",
    "current_phase",
    "phases",
}


@pytest.fixture
def make_campaign(db_session, moderator):
    def make(city=None, slug="block-7", publish=True, actor=None, **values):
        city = city or moderator.city
        values.setdefault("title", {city.default_locale: f"Titre {slug}", "en": f"Title {slug}"})
        now = utcnow()
        values.setdefault(
            "phases",
            [
                {
                    "title": {city.default_locale: "Phase"},
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=9),
                }
            ],
        )
        campaign = service.create_campaign(
            db_session, actor or moderator, city, slug=slug, **values
        )
        if publish:
            service.publish_campaign(db_session, actor or moderator, campaign)
        db_session.commit()
        return campaign

    return make


def test_residents_see_their_citys_published_campaigns(
    client, lyon, vienna, make_user, make_campaign, bearer
):
    make_campaign(slug="published")
    make_campaign(slug="draft", publish=False)
    archived = make_campaign(slug="archived")
    service.archive_campaign(
        client.application.extensions["sqlalchemy"].session,
        archived.city and make_user(lyon, role=Role.ADMIN),
        archived,
    )
    vienna_moderator = make_user(vienna, role=Role.MODERATOR)
    make_campaign(city=vienna, slug="wien", actor=vienna_moderator)

    resident = make_user(lyon)
    response = client.get(
        "/api/v1/campaigns", headers=bearer(resident, **{"Accept-Language": "en"})
    )
    assert response.status_code == 200
    assert [c["slug"] for c in response.json["items"]] == ["published"]
    item = response.json["items"][0]
    assert set(item) == CAMPAIGN_FIELDS
    assert item["title"] == "Title published" and item["language"] == "en"
    assert item["current_phase"]["title"] == "Phase"
    assert item["published_at"].endswith("+00:00")
    assert response.headers["Content-Language"] == "en"
    assert response.headers["Cache-Control"] == "no-store"


def test_drafts_and_other_cities_read_as_not_found(
    client, lyon, vienna, make_user, make_campaign, bearer
):
    make_campaign(slug="draft", publish=False)
    make_campaign(city=vienna, slug="wien", actor=make_user(vienna, role=Role.MODERATOR))
    headers = bearer(make_user(lyon))
    nothing = client.get("/api/v1/campaigns/does-not-exist", headers=headers)
    draft = client.get("/api/v1/campaigns/draft", headers=headers)
    other_city = client.get("/api/v1/campaigns/wien", headers=headers)
    for response in (nothing, draft, other_city):
        assert_problem(response, 404, "not-found")
    assert draft.get_json() == other_city.get_json() == nothing.get_json()


def test_detail_falls_back_to_the_city_language(client, lyon, make_user, make_campaign, bearer):
    make_campaign(
        slug="fr-only", title={"fr": "Seulement en français"}, description={"fr": "Texte"}
    )
    headers = bearer(make_user(lyon), **{"Accept-Language": "ja"})
    response = client.get("/api/v1/campaigns/fr-only", headers=headers)
    assert response.status_code == 200
    assert response.json["title"] == "Seulement en français"
    assert response.json["description"] == "Texte"
    assert response.json["language"] == "fr"
    # The interface language is what was asked for; the content says what it fell back to.
    assert response.headers["Content-Language"] == "ja"


def test_the_residents_own_language_setting_wins(client, lyon, make_user, make_campaign, bearer):
    make_campaign(slug="both")
    resident = make_user(lyon, locale="fr")
    response = client.get(
        "/api/v1/campaigns/both", headers=bearer(resident, **{"Accept-Language": "en"})
    )
    assert response.json["title"] == "Titre both"
    assert response.headers["Content-Language"] == "fr"


def test_cursor_pagination_walks_every_campaign_once(
    client, lyon, make_user, make_campaign, bearer
):
    slugs = {f"c-{i:02d}" for i in range(7)}
    for slug in sorted(slugs):
        make_campaign(slug=slug)
    headers = bearer(make_user(lyon))
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/campaigns", query_string=query, headers=headers).json
        seen += [c["slug"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and sorted(seen) == sorted(slugs) and len(seen) == len(slugs)
    # Newest first.
    assert seen == sorted(seen, reverse=True)


def test_page_size_is_capped(client, app, lyon, make_user, make_campaign, bearer):
    headers = bearer(make_user(lyon))
    response = client.get("/api/v1/campaigns?limit=1000000", headers=headers)
    assert response.status_code == 200
    app.config["API_PAGE_SIZE_MAX"], original = 2, app.config["API_PAGE_SIZE_MAX"]
    try:
        for slug in ("a", "b", "c"):
            make_campaign(slug=slug)
        page = client.get("/api/v1/campaigns?limit=1000000", headers=headers).json
        assert len(page["items"]) == 2 and page["next_cursor"]
    finally:
        app.config["API_PAGE_SIZE_MAX"] = original


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-5",
        "limit=abc",
        "cursor=not-a-cursor",
        "cursor=W10",
        "cursor=" + "A" * 300,
    ],
)
def test_bad_paging_parameters_are_400(client, lyon, make_user, bearer, query):
    body = assert_problem(
        client.get(f"/api/v1/campaigns?{query}", headers=bearer(make_user(lyon))), 400
    )
    assert set(body["errors"]) <= {"limit", "cursor"} and body["errors"]


def test_etag_gives_304_until_something_changes(
    client, db_session, lyon, moderator, make_user, make_campaign, bearer
):
    campaign = make_campaign(slug="cached")
    headers = bearer(make_user(lyon))
    first = client.get("/api/v1/campaigns", headers=headers)
    etag = first.headers["ETag"]
    again = client.get("/api/v1/campaigns", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    service.update_campaign(db_session, moderator, campaign, summary={"fr": "Nouveau résumé"})
    db_session.commit()
    changed = client.get("/api/v1/campaigns", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag

    detail = client.get("/api/v1/campaigns/cached", headers=headers)
    cached = client.get(
        "/api/v1/campaigns/cached", headers={**headers, "If-None-Match": detail.headers["ETag"]}
    )
    assert cached.status_code == 304


def test_campaigns_need_a_token(client):
    assert_problem(client.get("/api/v1/campaigns"), 401)


def test_the_list_follows_every_change_at_once(
    client, db_session, lyon, moderator, make_user, make_campaign, bearer
):
    """Answers are served from a cache; none of it may ever be stale."""
    headers = bearer(make_user(lyon), **{"Accept-Language": "en"})
    first = make_campaign(slug="first")
    assert [c["slug"] for c in client.get("/api/v1/campaigns", headers=headers).json["items"]] == [
        "first"
    ]
    make_campaign(slug="second")
    listed = client.get("/api/v1/campaigns", headers=headers).json["items"]
    assert [c["slug"] for c in listed] == ["second", "first"]
    service.update_campaign(db_session, moderator, first, title={"fr": "Neu", "en": "Renamed"})
    db_session.commit()
    listed = client.get("/api/v1/campaigns", headers=headers).json["items"]
    assert listed[1]["title"] == "Renamed"
    service.archive_campaign(db_session, moderator, first)
    db_session.commit()
    listed = client.get("/api/v1/campaigns", headers=headers).json["items"]
    assert [c["slug"] for c in listed] == ["second"]
    # Another language is another answer.
    french = client.get("/api/v1/campaigns", headers={**headers, "Accept-Language": "fr"})
    assert french.json["items"][0]["title"] == "Titre second"


def test_the_current_phase_moves_on_with_time(client, lyon, make_user, make_campaign, bearer):
    now = utcnow()
    make_campaign(
        slug="phased",
        phases=[
            {
                "title": {"fr": "Avant"},
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(hours=1),
            },
            {
                "title": {"fr": "Après"},
                "starts_at": now + timedelta(hours=1),
                "ends_at": now + timedelta(days=5),
            },
        ],
    )
    headers = bearer(make_user(lyon))
    listed = client.get("/api/v1/campaigns", headers=headers)
    detail = client.get("/api/v1/campaigns/phased", headers=headers)
    assert listed.json["items"][0]["current_phase"]["title"] == "Avant"
    assert detail.json["current_phase"]["title"] == "Avant"
    with time_machine.travel(now + timedelta(hours=2)):
        later = client.get(
            "/api/v1/campaigns", headers={**headers, "If-None-Match": listed.headers["ETag"]}
        )
        later_detail = client.get(
            "/api/v1/campaigns/phased",
            headers={**headers, "If-None-Match": detail.headers["ETag"]},
        )
    assert later.status_code == 200 and later.json["items"][0]["current_phase"]["title"] == "Après"
    assert later_detail.status_code == 200
    assert later_detail.json["current_phase"]["title"] == "Après"
