"""News of the resident's city and of the campaigns they follow."""

from flask import g
from flask.views import MethodView

from app.extensions import db
from client_api.caching import cached_json
from client_api.core import Blueprint, page_size, signed_in
from client_api.pagination import PageArgs, page_schema, paginate
from updates import service
from updates.models import Update
from updates.schemas import UpdateOut

blp = Blueprint("updates", __name__, description="News of my city and the campaigns I follow.")

UpdatePage = page_schema(UpdateOut, "UpdatePage")


@blp.route("/updates", endpoint="list_updates")
class Updates(MethodView):
    @signed_in
    @blp.etag
    @blp.query(PageArgs)
    @blp.response(200, UpdatePage)
    def get(self, args):
        """Published news of my city: for everyone, or of campaigns I follow; newest first."""
        followed = service.followed_campaign_ids(db.session, g.user)
        version = service.feed_version(db.session, g.user, followed)

        def page():
            rows, next_cursor = paginate(
                db.session,
                service.feed(g.user, followed),
                Update.published_at,
                Update.id,
                args,
            )
            return UpdatePage().dump({"items": rows, "next_cursor": next_cursor})

        key = (
            "updates",
            g.city.id,
            tuple(followed),
            *version,
            page_size(args["limit"]),
            args["cursor"],
        )
        return cached_json(blp, key, page)


@blp.route("/updates/<int:update_id>", endpoint="get_update")
class UpdateDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, UpdateOut)
    def get(self, update_id):
        """One published update of my city, also of a campaign I do not follow."""
        update = service.get_published_update(db.session, g.user, update_id)
        key = ("update", *service.update_version(update))
        return cached_json(blp, key, lambda: UpdateOut().dump(update))
