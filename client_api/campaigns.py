"""Campaigns of the resident's city."""

from flask import g
from flask.views import MethodView

from app.extensions import db
from campaigns import service
from campaigns.models import Campaign
from campaigns.schemas import CampaignDetailOut, CampaignOut
from client_api.core import Blueprint, signed_in
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
        rows, next_cursor = paginate(
            db.session,
            service.published_campaigns(g.city),
            Campaign.published_at,
            Campaign.id,
            args,
        )
        return {"items": rows, "next_cursor": next_cursor}


@blp.route("/campaigns/<slug>", endpoint="get_campaign")
class CampaignDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, CampaignDetailOut)
    def get(self, slug):
        """One published campaign of my city."""
        return service.get_campaign(db.session, g.user, g.city, slug)
