"""Boards, ideas and comments as residents' phones send and receive them."""

from marshmallow import Schema, fields, post_load, validate

from app.db import MAX_ID
from ideas.boards import PHASES
from ideas.comments import BODY_LENGTH as COMMENT_LENGTH
from ideas.models import IdeaState, LocationMode, OfficialStatus
from ideas.service import BODY_LENGTH, TITLE_LENGTH

UUID = validate.Regexp(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    error="Not a valid UUID.",
)
#: Room for surrounding white space, which the services strip before checking lengths.
SLACK = 100
HTML = "Sanitised HTML: p, br, strong, em, ul, ol, li and links (http, https)."


def _one_of(values) -> validate.OneOf:
    return validate.OneOf([str(value) for value in values])


# --- boards ---------------------------------------------------------------------------------


class BoardsArgs(Schema):
    campaign = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Only the boards of this campaign (its id)."},
    )


class CategoryOut(Schema):
    code = fields.String(required=True, metadata={"description": "Stable code, for filters."})
    label = fields.String(required=True, metadata={"description": "In my language."})


class BoardSummaryOut(Schema):
    id = fields.Integer(required=True)
    campaign_id = fields.Integer(required=True)
    title = fields.String(required=True)
    phase = fields.String(required=True, validate=_one_of(PHASES))
    collecting_from = fields.AwareDateTime(required=True, allow_none=True)
    supporting_from = fields.AwareDateTime(required=True, allow_none=True)
    closes_at = fields.AwareDateTime(required=True, allow_none=True)


class BoardOut(BoardSummaryOut):
    description = fields.String(required=True, metadata={"description": HTML})
    categories = fields.List(fields.Nested(CategoryOut), required=True)
    location = fields.String(
        required=True,
        validate=_one_of(LocationMode),
        metadata={"description": "Whether ideas carry a place: off, optional or required."},
    )
    requires_approval = fields.Boolean(
        required=True, metadata={"description": "New ideas appear once a moderator approves."}
    )
    support_budget = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Supports each; null: no limit."}
    )
    supports_left = fields.Integer(
        required=True, allow_none=True, metadata={"description": "Mine to give; null: no limit."}
    )
    supports_withdrawable = fields.Boolean(required=True)
    edit_minutes = fields.Integer(
        required=True, metadata={"description": "How long after posting authors may edit."}
    )


# --- ideas ----------------------------------------------------------------------------------


class _Posted(Schema):
    """A post named by a UUID the phone made, kept in its canonical (lower-case) form."""

    client_uuid = fields.String(
        required=True,
        validate=UUID,
        metadata={"description": "Made by the phone: sending the same post again is safe."},
    )

    @post_load
    def _canonical_uuid(self, data, **_kwargs):
        return {**data, "client_uuid": data["client_uuid"].lower()}


class IdeaIn(_Posted):
    title = fields.String(
        required=True,
        validate=validate.Length(max=TITLE_LENGTH[1] + SLACK),
        metadata={"description": f"{TITLE_LENGTH[0]} to {TITLE_LENGTH[1]} characters."},
    )
    body = fields.String(
        required=True,
        validate=validate.Length(max=BODY_LENGTH[1] + SLACK),
        metadata={
            "description": f"{BODY_LENGTH[0]} to {BODY_LENGTH[1]} characters: plain text with "
            "**bold**, *italic*, lists and links."
        },
    )
    category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class IdeaEditIn(Schema):
    title = fields.String(validate=validate.Length(max=TITLE_LENGTH[1] + SLACK))
    body = fields.String(validate=validate.Length(max=BODY_LENGTH[1] + SLACK))
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class IdeaSummaryOut(Schema):
    id = fields.Integer(required=True)
    board_id = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "Plain text."})
    excerpt = fields.String(required=True, metadata={"description": "Start of the body, plain."})
    category = fields.String(required=True, allow_none=True)
    category_label = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, metadata={"description": "What it is written in."})
    author = fields.String(
        required=True, metadata={"description": "Display name, or “deleted participant”."}
    )
    supports_count = fields.Integer(required=True)
    comments_count = fields.Integer(required=True)
    official_status = fields.String(required=True, allow_none=True)
    state = fields.String(
        required=True,
        validate=_one_of(IdeaState),
        metadata={"description": "Others only see published, withdrawn and merged ideas."},
    )
    moderation_reason = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Why a moderator decided so; only for the author."},
    )
    mine = fields.Boolean(required=True)
    supported_by_me = fields.Boolean(required=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    published_at = fields.AwareDateTime(required=True, allow_none=True)


class StatusChangeOut(Schema):
    status = fields.String(required=True, validate=_one_of(OfficialStatus))
    response = fields.String(required=True, metadata={"description": f"In my language. {HTML}"})
    created_at = fields.AwareDateTime(required=True)


class IdeaRefOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)


class IdeaOut(IdeaSummaryOut):
    body = fields.String(required=True, metadata={"description": HTML})
    status_history = fields.List(fields.Nested(StatusChangeOut), required=True)
    merged_into = fields.Nested(IdeaRefOut, required=True, allow_none=True)
    editable = fields.Boolean(
        required=True, metadata={"description": "Whether I may still edit it (its author)."}
    )
    edit_until = fields.AwareDateTime(required=True, allow_none=True)
    edited_at = fields.AwareDateTime(required=True, allow_none=True)
    withdrawn_at = fields.AwareDateTime(required=True, allow_none=True)


class SimilarIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_LENGTH[1]))
    body = fields.String(load_default="", validate=validate.Length(max=BODY_LENGTH[1]))


class SimilarOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    excerpt = fields.String(required=True)
    supports_count = fields.Integer(required=True)
    score = fields.Float(required=True, metadata={"description": "Likeness, from 0 to 1."})


# --- comments -------------------------------------------------------------------------------


class CommentIn(_Posted):
    body = fields.String(
        required=True,
        validate=validate.Length(max=COMMENT_LENGTH[1] + SLACK),
        metadata={"description": f"Up to {COMMENT_LENGTH[1]} characters, as idea bodies."},
    )
    parent_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The top-level comment this replies to."},
    )


class CommentEditIn(Schema):
    body = fields.String(required=True, validate=validate.Length(max=COMMENT_LENGTH[1] + SLACK))


class ReplyOut(Schema):
    id = fields.Integer(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    state = fields.String(
        required=True,
        metadata={
            "description": "published, hidden (only its author and moderators see it) or "
            "deleted (no text, no author)."
        },
    )
    body = fields.String(required=True, allow_none=True, metadata={"description": HTML})
    author = fields.String(required=True, allow_none=True)
    language = fields.String(required=True)
    mine = fields.Boolean(required=True)
    moderation_reason = fields.String(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    edited_at = fields.AwareDateTime(required=True, allow_none=True)


class CommentOut(ReplyOut):
    replies = fields.List(fields.Nested(ReplyOut), required=True)
