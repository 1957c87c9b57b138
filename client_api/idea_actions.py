"""Supporting and flagging ideas, flagging comments, and my supports on a board.

Supporting is idempotent (PUT: 201 the first time, 200 after), and so is flagging (one flag per
resident and item: sending it again answers 200 with the first). Ideas and comments of another
city are not found, whatever the caller's roles there.
"""

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.db import MAX_ID, utcnow
from app.errors import NotFound
from app.extensions import db
from app.throttle import participation_limits
from client_api.core import Blueprint, signed_in
from ideas import boards, flags, supports
from ideas.models import Comment, FlagReason, Idea
from ideas.service import WITH_BOARD

blp = Blueprint("idea_actions", __name__, description="Supporting and flagging ideas; my supports.")


# --- schemas --------------------------------------------------------------------------------


class SupportOut(Schema):
    idea_id = fields.Integer(required=True)
    supported = fields.Boolean(required=True, metadata={"description": "Whether I support it."})
    supports_count = fields.Integer(required=True)
    supports_left = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "Supports I may still give on the board; null: no limit."},
    )


class FlagIn(Schema):
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in FlagReason]))
    note = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=flags.MAX_NOTE),
        metadata={"description": "What moderators should know (plain text)."},
    )


class FlagOut(Schema):
    id = fields.Integer(required=True)
    reason = fields.String(required=True)
    note = fields.String(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class MySupportsOut(Schema):
    budget = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Null: no limit."}
    )
    used = fields.Integer(required=True)
    left = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Null: no limit."}
    )
    idea_ids = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "The ideas I support, the earliest supported first."},
    )


# --- helpers --------------------------------------------------------------------------------


def _of_my_city(model, item_id: int):
    """An idea or comment of my city; the services decide what I may do with it."""
    options = WITH_BOARD if model is Idea else []
    item = db.session.get(model, item_id, options=options) if item_id <= MAX_ID else None
    if item is None or item.city_id != g.user.city_id:
        raise NotFound()
    return item


def _support_state(idea: Idea) -> dict:
    """What my support left: the idea's count and my budget (read before the commit)."""
    return {
        "idea_id": idea.id,
        "supported": True,
        "supports_count": idea.supports_count,
        "supports_left": supports.supports_left(db.session, g.user, idea.board),
    }


def _flag(model, item_id: int, data: dict) -> tuple[dict, int]:
    """Flag an idea or comment of my city; 201 with the new flag, 200 with my earlier one."""
    item = _of_my_city(model, item_id)
    flag, created = flags.flag(db.session, g.user, item, data["reason"], data["note"], utcnow())
    # Answered from the flag as it stands: the commit expires what the session holds.
    answer = {name: getattr(flag, name) for name in ("id", "reason", "note", "created_at")}
    db.session.commit()
    return answer, 201 if created else 200


# --- routes ---------------------------------------------------------------------------------


@blp.route("/ideas/<int:idea_id>/support", endpoint="idea_support")
class IdeaSupport(MethodView):
    decorators = participation_limits("support", methods=["PUT", "DELETE"])

    @signed_in
    @blp.response(201, SupportOut)
    @blp.alt_response(200, schema=SupportOut, description="I supported it before.")
    def put(self, idea_id):
        """Support an idea while its board is in the supporting phase.

        409 ``no-supports-left``: my budget on this board is used up.
        409 ``not-supporting``: the board does not take supports now.
        409 ``idea-not-supportable``: the idea is not published (merged, withdrawn...).
        """
        idea = _of_my_city(Idea, idea_id)
        _support, created = supports.support_idea(db.session, g.user, idea, utcnow())
        state = _support_state(idea)
        db.session.commit()
        return state, 201 if created else 200

    @signed_in
    @blp.response(204)
    def delete(self, idea_id):
        """Take my support back, which frees it in my budget (nothing to take back: 204 too).

        409 ``supports-final``: supports on this board cannot be withdrawn.
        409 ``not-supporting``: the supporting phase is over.
        """
        idea = _of_my_city(Idea, idea_id)
        supports.withdraw_support(db.session, g.user, idea, utcnow())
        db.session.commit()


def _flagging(view):
    """A flag in; the flag out (201 when new, 200 with my earlier flag); signed in."""
    view = blp.alt_response(200, schema=FlagOut, description="I flagged it before: my flag.")(view)
    return signed_in(blp.arguments(FlagIn)(blp.response(201, FlagOut)(view)))


@blp.route("/ideas/<int:idea_id>/flags", endpoint="flag_idea")
class IdeaFlags(MethodView):
    decorators = participation_limits("flag", methods=["POST"])

    @_flagging
    def post(self, data, idea_id):
        """Tell the moderators something is wrong with an idea.

        Enough flags hide it until a moderator reviews it. 403 ``own-item`` on my own idea,
        403 ``muted`` while a moderator paused my posting in the city.
        """
        return _flag(Idea, idea_id, data)


@blp.route("/comments/<int:comment_id>/flags", endpoint="flag_comment")
class CommentFlags(MethodView):
    decorators = participation_limits("flag", methods=["POST"])

    @_flagging
    def post(self, data, comment_id):
        """Tell the moderators something is wrong with a comment (as for ideas)."""
        return _flag(Comment, comment_id, data)


@blp.route("/boards/<int:board_id>/my-supports", endpoint="my_supports")
class MySupports(MethodView):
    @signed_in
    @blp.response(200, MySupportsOut)
    def get(self, board_id):
        """My budget on a board, what I used of it, and the ideas I support."""
        board = boards.get_board(db.session, g.user, board_id) if board_id <= MAX_ID else None
        if board is None:
            raise NotFound()
        return supports.my_supports(db.session, g.user, board)
