"""Following campaigns: idempotent PUT and DELETE, only published campaigns of one's city."""

import pytest
import sqlalchemy as sa

from app.models import Role
from campaigns import service
from campaigns.models import CampaignFollow
from tests.api.helpers import assert_problem


@pytest.fixture
def make_campaign(db_session, moderator):
    def make(slug="block-7", status="published", city=None, actor=None):
        city = city or moderator.city
        actor = actor or moderator
        campaign = service.create_campaign(
            db_session, actor, city, slug=slug, title={city.default_locale: slug}
        )
        if status in ("published", "archived"):
            service.publish_campaign(db_session, actor, campaign)
        if status == "archived":
            service.archive_campaign(db_session, actor, campaign)
        db_session.commit()
        return campaign

    return make


def _follows(db_session, user) -> list[int]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            sa.select(CampaignFollow.campaign_id).where(CampaignFollow.user_id == user.id)
        )
    )


def test_follow_and_unfollow_are_idempotent(
    client, db_session, lyon, make_user, bearer, make_campaign
):
    campaign = make_campaign()
    resident = make_user(lyon)
    headers = bearer(resident)
    path = f"/api/v1/campaigns/{campaign.slug}/follow"

    assert client.get(path, headers=headers).json == {"following": False}
    for _ in range(2):
        response = client.put(path, headers=headers)
        assert response.status_code == 200 and response.json == {"following": True}
    assert _follows(db_session, resident) == [campaign.id]
    assert client.get(path, headers=headers).json == {"following": True}

    for _ in range(2):
        response = client.delete(path, headers=headers)
        assert response.status_code == 200 and response.json == {"following": False}
    assert _follows(db_session, resident) == []
    assert client.get(path, headers=headers).json == {"following": False}


def test_following_is_ones_own(client, db_session, lyon, make_user, bearer, make_campaign):
    campaign = make_campaign()
    marie, jo = make_user(lyon), make_user(lyon)
    client.put(f"/api/v1/campaigns/{campaign.slug}/follow", headers=bearer(marie))
    response = client.get(f"/api/v1/campaigns/{campaign.slug}/follow", headers=bearer(jo))
    assert response.json == {"following": False}
    client.delete(f"/api/v1/campaigns/{campaign.slug}/follow", headers=bearer(jo))
    assert _follows(db_session, marie) == [campaign.id]


@pytest.mark.parametrize("status", ["draft", "archived"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_only_published_campaigns_can_be_followed(
    client, db_session, lyon, make_user, bearer, make_campaign, moderator, status, method
):
    campaign = make_campaign(slug=f"c-{status}", status=status)
    for person in (make_user(lyon), moderator):
        response = client.open(
            f"/api/v1/campaigns/{campaign.slug}/follow", method=method, headers=bearer(person)
        )
        assert_problem(response, 404)
        assert _follows(db_session, person) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_another_citys_campaign_reads_as_not_found(
    client, db_session, lyon, vienna, make_user, bearer, make_campaign, method
):
    wien = make_campaign(slug="wien", city=vienna, actor=make_user(vienna, role=Role.MODERATOR))
    resident = make_user(lyon)
    for slug in (wien.slug, "no-such-campaign"):
        response = client.open(
            f"/api/v1/campaigns/{slug}/follow", method=method, headers=bearer(resident)
        )
        assert_problem(response, 404)
    assert _follows(db_session, resident) == []


def test_following_needs_a_token(client, make_campaign):
    make_campaign()
    for method in ("GET", "PUT", "DELETE"):
        assert_problem(client.open("/api/v1/campaigns/block-7/follow", method=method), 401)
