"""Campaigns of the resident's city."""

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from app.extensions import db
from campaigns import service
from campaigns.models import Campaign
from campaigns.schemas import CampaignDetailOut, CampaignOut
from client_api.caching import cached_json
from client_api.core import Blueprint, page_size, signed_in
from client_api.pagination import PageArgs, page_schema, paginate

blp = Blueprint("campaigns", __name__, description="Co-creation campaigns of my city.")

CampaignPage = page_schema(CampaignOut, "CampaignPage")


@blp.route("/campaigns", endpoint="list_campaigns")
class Campaigns(MethodView):
    @signed_in
    @blp.etag
    @blp.query(PageArgs)
    @blp.response(200, CampaignPage)
    def get(self, args):
        """Published campaigns of my city, newest first."""
        version = service.listing_version(db.session, g.city)

        def page():
            rows, next_cursor = paginate(
                db.session,
                service.published_campaigns(g.city),
                Campaign.published_at,
                Campaign.id,
                args,
            )
            return CampaignPage().dump({"items": rows, "next_cursor": next_cursor})

        key = ("campaigns", g.city.id, *version, page_size(args["limit"]), args["cursor"])
        return cached_json(blp, key, page)


@blp.route("/campaigns/<slug>", endpoint="get_campaign")
class CampaignDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, CampaignDetailOut)
    def get(self, slug):
        """One published campaign of my city."""
        campaign = service.get_campaign(db.session, g.user, g.city, slug)
        key = ("campaign", *service.campaign_version(campaign))
        return cached_json(blp, key, lambda: CampaignDetailOut().dump(campaign))


class FollowOut(Schema):
    following = fields.Boolean(
        required=True, metadata={"description": "Whether the campaign's updates reach me."}
    )


@blp.route("/campaigns/<slug>/follow", endpoint="follow_campaign")
class CampaignFollowing(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, FollowOut)
    def get(self, slug):
        """Whether I follow a published campaign of my city."""
        return {"following": service.is_following(db.session, g.user, slug)}

    @signed_in
    @blp.response(200, FollowOut)
    def put(self, slug):
        """Follow a campaign: its updates appear in my news and notify me. Idempotent."""
        service.follow_campaign(db.session, g.user, slug)
        db.session.commit()
        return {"following": True}

    @signed_in
    @blp.response(200, FollowOut)
    def delete(self, slug):
        """Stop following a campaign. Idempotent."""
        service.unfollow_campaign(db.session, g.user, slug)
        db.session.commit()
        return {"following": False}
