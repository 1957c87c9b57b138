"""Idea boards of my city: boards, ideas, similar ideas while drafting, and comments.

Boards, ideas and comments of another city are not found, whatever the caller's roles there;
another author's idea or comment may be read but not changed (403). Posting an idea or a
comment is named by a UUID the phone makes: the same post sent again answers 200 with what
was stored, other content under that UUID 409. Supporting and flagging live in
``client_api.idea_actions``.
"""

from flask import g
from flask.views import MethodView
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from app.db import utcnow
from app.extensions import db
from app.throttle import participation_limits
from client_api import idea_output as shown
from client_api.caching import cached_json
from client_api.core import Blueprint, page_size, signed_in
from client_api.pagination import PageArgs, page_schema, paginate
from i18n import _l, current_locale
from ideas import boards, comments, listing, service, similar
from ideas.listing import SORTS
from ideas.models import Board, Comment, Idea, OfficialStatus
from ideas.schemas import (
    BoardOut,
    BoardsArgs,
    BoardSummaryOut,
    CommentEditIn,
    CommentIn,
    CommentOut,
    IdeaEditIn,
    IdeaIn,
    IdeaOut,
    IdeaSummaryOut,
    SimilarIn,
    SimilarOut,
)

blp = Blueprint("ideas", __name__, description="Idea boards of my city: ideas and comments.")

IdeaPage = page_schema(IdeaSummaryOut, "IdeaPage")
CommentPage = page_schema(CommentOut, "CommentPage")


class IdeaListArgs(PageArgs):
    sort = fields.String(
        load_default="newest",
        validate=validate.OneOf(SORTS),
        metadata={"description": "random: an order of my own that stays the same for me."},
    )
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    status = fields.String(
        load_default=None,
        validate=validate.OneOf([s.value for s in OfficialStatus]),
        metadata={"description": "The city's official status."},
    )
    mine = fields.Boolean(load_default=False, metadata={"description": "Only ideas I posted."})
    supported = fields.Boolean(
        load_default=False, metadata={"description": "Only ideas I support."}
    )

    @validates("cursor")
    def _cursor_is_ours(self, value, **_kwargs):
        """Cursors over ideas carry their sort: checked with it, below."""

    @validates_schema
    def _cursor_of_this_list(self, data, **_kwargs):
        if data.get("cursor") is None:
            return
        try:
            shown.decode_cursor(data["cursor"], data.get("sort", "newest"))
        except ValueError:
            message = _l("Not a valid cursor; start again from the first page.")
            raise ValidationError(str(message), "cursor") from None


def _committed(answer: dict, created: bool | None = None):
    """Commit, answering with what was built before (a commit expires what the session holds)."""
    db.session.commit()
    if created is None:
        return answer
    return answer, 201 if created else 200


# --- boards ---------------------------------------------------------------------------------


def _get_board(board_id: int) -> Board:
    return boards.get_board(db.session, g.user, board_id)


@blp.route("/boards", endpoint="list_boards")
class Boards(MethodView):
    @signed_in
    @blp.etag
    @blp.query(BoardsArgs)
    @blp.response(200, BoardSummaryOut(many=True))
    def get(self, args):
        """Idea boards of my city's published campaigns, newest first."""
        campaign = args["campaign"]
        version = boards.boards_version(db.session, g.user, campaign)

        def build():
            found = boards.boards_for_resident(db.session, g.user, campaign)
            return BoardSummaryOut(many=True).dump([shown.board_summary_out(b) for b in found])

        return cached_json(blp, ("boards", g.city.id, campaign, *version), build)


@blp.route("/boards/<int:board_id>", endpoint="get_board")
class BoardDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, BoardOut)
    def get(self, board_id):
        """One board in my language: phase, times, categories, and my supports left."""
        board = _get_board(board_id)
        used = boards.supports_used(db.session, g.user, board)
        key = (
            "board",
            board.id,
            board.updated_at.isoformat(),
            board.campaign.updated_at.isoformat(),
            used,
        )
        return cached_json(blp, key, lambda: BoardOut().dump(shown.board_out(board, used)))


# --- ideas ----------------------------------------------------------------------------------


@blp.route("/boards/<int:board_id>/ideas", endpoint="board_ideas")
class BoardIdeas(MethodView):
    decorators = participation_limits("idea", methods=["POST"])

    @signed_in
    @blp.etag
    @blp.query(IdeaListArgs)
    @blp.response(200, IdeaPage)
    def get(self, args, board_id):
        """A page of a board's ideas (my own unpublished ones included, for me only)."""
        board = _get_board(board_id)
        after = shown.decode_cursor(args["cursor"], args["sort"]) if args["cursor"] else None
        limit = page_size(args["limit"])
        version = listing.listing_version(db.session, g.user, board)
        filters = {k: args[k] for k in ("sort", "category", "status", "mine", "supported")}

        def build():
            page = listing.list_ideas(
                db.session, g.user, board, **filters, after=after, limit=limit
            )
            items = [shown.idea_summary_out(idea, idea.id in page.supported) for idea in page.ideas]
            next_cursor = (
                shown.encode_cursor(args["sort"], page.next_after) if page.next_after else None
            )
            return IdeaPage().dump({"items": items, "next_cursor": next_cursor})

        key = ("ideas", board.id, g.user.id, *version, *filters.values(), limit, args["cursor"])
        return cached_json(blp, key, build)

    @signed_in
    @blp.arguments(IdeaIn)
    @blp.response(201, IdeaOut)
    @blp.alt_response(200, schema=IdeaOut, description="Sent before: the idea stored then.")
    def post(self, data, board_id):
        """Post an idea on a board collecting them, in my language.

        409 ``not-collecting``: the board is not collecting ideas now.
        409 ``idea-changed``: this UUID was posted with other content.
        403 ``muted``: a moderator paused my posting in this city.
        """
        now = utcnow()
        idea, created = service.post_idea(
            db.session,
            g.user,
            _get_board(board_id),
            language=current_locale(),
            now=now,
            **data,
        )
        db.session.flush()
        return _committed(shown.idea_out(idea, now), created)


@blp.route("/boards/<int:board_id>/similar", endpoint="similar_ideas")
class SimilarIdeas(MethodView):
    @signed_in
    @blp.arguments(SimilarIn)
    @blp.response(200, SimilarOut(many=True))
    def post(self, data, board_id):
        """Up to 5 published ideas of the board like the one I am drafting, most alike first."""
        board = _get_board(board_id)
        found = similar.similar_ideas(db.session, g.user, board, data["title"], data["body"])
        return [shown.similar_out(idea, score) for idea, score in found]


def _get_idea(idea_id: int) -> Idea:
    return service.get_idea(db.session, g.user, idea_id)


@blp.route("/ideas/<int:idea_id>", endpoint="idea")
class IdeaDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, IdeaOut)
    def get(self, idea_id):
        """One idea: its text, the city's answers over time, and where it was merged into."""
        idea = _get_idea(idea_id)
        now = utcnow()
        key = (
            "idea",
            idea.id,
            g.user.id,
            idea.updated_at.isoformat(),
            idea.board.updated_at.isoformat(),
            service.may_edit(idea, g.user, now),
        )
        return cached_json(blp, key, lambda: IdeaOut().dump(shown.idea_out(idea, now)))

    @signed_in
    @blp.arguments(IdeaEditIn)
    @blp.response(200, IdeaOut)
    def patch(self, data, idea_id):
        """Change my idea within the edit window and before anybody supported it.

        403 for another's idea; 409 ``edit-window-over``, ``already-supported``.
        """
        now = utcnow()
        idea = service.edit_idea(db.session, g.user, _get_idea(idea_id), now=now, **data)
        return _committed(shown.idea_out(idea, now))


@blp.route("/ideas/<int:idea_id>/withdraw", endpoint="withdraw_idea")
class WithdrawIdea(MethodView):
    @signed_in
    @blp.response(200, IdeaOut)
    def post(self, idea_id):
        """Withdraw my idea: it leaves the lists and keeps its supports. Twice is once."""
        now = utcnow()
        idea = service.withdraw_idea(db.session, g.user, _get_idea(idea_id), now)
        return _committed(shown.idea_out(idea, now))


# --- comments -------------------------------------------------------------------------------


@blp.route("/ideas/<int:idea_id>/comments", endpoint="idea_comments")
class IdeaComments(MethodView):
    decorators = participation_limits("comment", methods=["POST"])

    @signed_in
    @blp.etag
    @blp.query(PageArgs)
    @blp.response(200, CommentPage)
    def get(self, args, idea_id):
        """A page of the idea's comments, oldest first, each with its replies."""
        idea = _get_idea(idea_id)
        version = comments.thread_version(db.session, idea)

        def build():
            rows, next_cursor = paginate(
                db.session,
                comments.thread(g.user, idea),
                Comment.created_at,
                Comment.id,
                args,
                newest_first=False,
            )
            replies = comments.replies_to(db.session, g.user, idea, [c.id for c in rows])
            items = [shown.comment_out(c, replies[c.id]) for c in rows]
            return CommentPage().dump({"items": items, "next_cursor": next_cursor})

        key = (
            "comments",
            idea.id,
            g.user.id,
            *version,
            page_size(args["limit"]),
            args["cursor"],
        )
        return cached_json(blp, key, build)

    @signed_in
    @blp.arguments(CommentIn)
    @blp.response(201, CommentOut)
    @blp.alt_response(200, schema=CommentOut, description="Sent before: the comment stored.")
    def post(self, data, idea_id):
        """Comment on an idea, or reply to a comment (replies cannot be answered).

        409 ``not-commentable``: the idea or its board takes no more comments.
        409 ``comment-changed``: this UUID was posted with other content.
        """
        comment, created = comments.add_comment(
            db.session,
            g.user,
            _get_idea(idea_id),
            language=current_locale(),
            now=utcnow(),
            **data,
        )
        db.session.flush()
        replies = comments.replies_to(db.session, g.user, comment.idea, [comment.id])
        return _committed(shown.comment_out(comment, replies.get(comment.id)), created)


@blp.route("/comments/<int:comment_id>", endpoint="comment")
class CommentDetail(MethodView):
    @signed_in
    @blp.arguments(CommentEditIn)
    @blp.response(200, CommentOut)
    def patch(self, data, comment_id):
        """Change my comment within the board's edit window (403 for another's)."""
        comment = comments.get_comment(db.session, g.user, comment_id)
        comments.edit_comment(db.session, g.user, comment, data["body"], utcnow())
        replies = comments.replies_to(db.session, g.user, comment.idea, [comment.id])
        return _committed(shown.comment_out(comment, replies.get(comment.id)))

    @signed_in
    @blp.response(204)
    def delete(self, comment_id):
        """Delete my comment: the thread shows “deleted” in its place. Twice is once."""
        comment = comments.get_comment(db.session, g.user, comment_id)
        comments.delete_comment(db.session, g.user, comment, utcnow())
        db.session.commit()
