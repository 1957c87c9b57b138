"""What phones are shown of boards, ideas and comments, in the reader's language; and the
cursors over lists of ideas, which carry their sort so a page never continues another list."""

import base64
import binascii
import json
from datetime import datetime

from flask import g

from app.db import MAX_ID
from app.extensions import db
from app.richtext import excerpt
from i18n import current_locale
from i18n.content import pick
from ideas import boards, listing, service
from ideas.models import Board, Comment, CommentState, Idea, IdeaState
from ideas.text import render

#: Length of the plain-text excerpt in lists.
EXCERPT_LENGTH = 200


def text(value: dict | None, board: Board) -> str:
    return pick(value, current_locale(), board.city.default_locale)[0]


def categories(board: Board) -> list[dict]:
    return [{"code": c["code"], "label": text(c["label"], board)} for c in board.categories]


def board_summary_out(board: Board) -> dict:
    return {
        "id": board.id,
        "campaign_id": board.campaign_id,
        "title": text(board.title, board),
        "phase": board.phase,
        "collecting_from": board.collecting_from,
        "supporting_from": board.supporting_from,
        "closes_at": board.closes_at,
    }


def board_out(board: Board, used: int) -> dict:
    return {
        **board_summary_out(board),
        "description": render(text(board.description, board)),
        "categories": categories(board),
        "location": board.location,
        "requires_approval": board.requires_approval,
        "support_budget": board.support_budget,
        "supports_left": boards.supports_left(board, used),
        "supports_withdrawable": board.supports_withdrawable,
        "edit_minutes": board.edit_minutes,
    }


def idea_summary_out(idea: Idea, supported: bool) -> dict:
    mine = idea.author_id is not None and idea.author_id == g.user.id
    labels = {c["code"]: c["label"] for c in idea.board.categories}
    return {
        "id": idea.id,
        "board_id": idea.board_id,
        "title": idea.title,
        "excerpt": excerpt(render(idea.body), EXCERPT_LENGTH),
        "category": idea.category,
        "category_label": text(labels[idea.category], idea.board)
        if idea.category in labels
        else None,
        "language": idea.language,
        "author": service.author_name(idea.author),
        "supports_count": idea.supports_count,
        "comments_count": idea.comments_count,
        "official_status": idea.official_status,
        "state": idea.state,
        "moderation_reason": idea.moderation_reason if mine else None,
        "mine": mine,
        "supported_by_me": supported,
        "latitude": idea.latitude,
        "longitude": idea.longitude,
        "created_at": idea.created_at,
        "published_at": idea.published_at,
    }


def idea_out(idea: Idea, now: datetime) -> dict:
    supported = bool(listing.supported_among(db.session, g.user, [idea.id]))
    summary = idea_summary_out(idea, supported)
    merged = idea.merged_into if idea.state == IdeaState.MERGED else None
    return {
        **summary,
        "body": render(idea.body),
        "status_history": [
            {
                "status": change.status,
                "response": render(text(change.response, idea.board)),
                "created_at": change.created_at,
            }
            for change in service.status_history(db.session, idea)
        ],
        "merged_into": {"id": merged.id, "title": merged.title} if merged is not None else None,
        "editable": service.may_edit(idea, g.user, now),
        "edit_until": service.edit_window_end(idea) if summary["mine"] else None,
        "edited_at": idea.edited_at,
        "withdrawn_at": idea.withdrawn_at,
    }


def comment_out(comment: Comment, replies: list[Comment] | None = None) -> dict:
    mine = comment.author_id is not None and comment.author_id == g.user.id
    deleted = comment.state == CommentState.DELETED
    shown = {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "state": comment.state,
        "body": None if deleted else render(comment.body),
        "author": None if deleted else service.author_name(comment.author),
        "language": comment.language,
        "mine": mine,
        "moderation_reason": comment.moderation_reason if mine and not deleted else None,
        "created_at": comment.created_at,
        "edited_at": None if deleted else comment.edited_at,
    }
    shown["replies"] = [comment_out(reply) for reply in replies or []]
    return shown


def similar_out(idea: Idea, score: float) -> dict:
    return {
        "id": idea.id,
        "title": idea.title,
        "excerpt": excerpt(render(idea.body), EXCERPT_LENGTH),
        "supports_count": idea.supports_count,
        "score": score,
    }


# --- cursors over ideas ---------------------------------------------------------------------


def encode_cursor(sort: str, after: tuple) -> str:
    key, idea_id = after
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps([sort, value, idea_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple:
    """The (sort key, id) a cursor of this sort names; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        named, value, idea_id = json.loads(raw)
        if named != sort or type(idea_id) is not int or not 0 < idea_id <= MAX_ID:
            raise ValueError("not this list's cursor")
        if sort == "newest":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("naive time")
        elif sort == "trending" and type(value) in (int, float):
            value = float(value)
        elif type(value) is not int:
            raise ValueError("not a key")
    except (TypeError, UnicodeDecodeError, binascii.Error) as error:
        raise ValueError("not a cursor") from error
    return value, idea_id
