"""Comments on ideas: one level of replies, an edit window, deletion that leaves a trace.

Decisions:
- A reply answers a top-level comment; replying to a reply is refused, so a thread is always
  two levels deep and reads the same on a phone and in the console.
- Deleting keeps the row with state ``deleted``: the thread shows "deleted" where it was, and
  replies to it keep their place. Its text is never shown again.
- ``Idea.comments_count`` counts the comments residents see (not deleted, not hidden), changed
  with SQL expressions in the same transaction; moderation adjusts it when hiding and
  restoring, so deleting a hidden comment leaves it alone.
- Hidden comments are shown only to their author (with the reason) and to moderators.
- The idea's author is told of each comment by someone else (``idea.comment``, low priority:
  it may wait for their digest).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.db import MAX_ID, insert_once, utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import User
from app.policy import can
from app.richtext import excerpt
from i18n import LOCALES, _
from ideas.boards import is_open
from ideas.models import Comment, CommentState, Idea, IdeaState, Phase
from ideas.mutes import ensure_not_muted
from ideas.service import author_name, get_idea
from ideas.text import render
from notifications.service import notify

NOTIFICATION_KIND = "idea.comment"
BODY_LENGTH = (1, 2000)
#: Length of the comment's excerpt in the notification.
SUMMARY_LENGTH = 200


def is_moderator(user: User, idea: Idea) -> bool:
    return can(user, "idea.moderate", idea)


def _ensure_commentable(idea: Idea) -> None:
    board = idea.board
    if idea.state != IdeaState.PUBLISHED or not is_open(board) or board.phase == Phase.CLOSED:
        raise Conflict(_("This idea takes no more comments."), slug="not-commentable")


def _check_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    low, high = BODY_LENGTH
    if not low <= len(text) <= high:
        raise Invalid(
            errors={"body": [_("Between %(min)d and %(max)d characters.", min=low, max=high)]}
        )
    return text


def _find(session: Session, idea: Idea, client_uuid: str) -> Comment | None:
    return session.scalar(
        sa.select(Comment)
        .where(Comment.idea_id == idea.id, Comment.client_uuid == client_uuid)
        .execution_options(populate_existing=True)
    )


def _replay(existing: Comment, user: User, body: str, parent_id: int | None) -> Comment:
    if existing.state == CommentState.DELETED and existing.author_id == user.id:
        raise Conflict(_("This comment was deleted."), slug="comment-deleted")
    if existing.author_id != user.id or existing.body != body or existing.parent_id != parent_id:
        raise Conflict(
            _("A comment was already posted with this identifier and other content."),
            slug="comment-changed",
        )
    return existing


def _parent(session: Session, idea: Idea, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = session.get(Comment, parent_id)
    if parent is None or parent.idea_id != idea.id or parent.state != CommentState.PUBLISHED:
        raise Invalid(errors={"parent_id": [_("Not a comment of this idea you can answer.")]})
    if parent.parent_id is not None:
        raise Invalid(
            errors={"parent_id": [_("Replies cannot be answered: answer the comment above.")]}
        )
    return parent


def change_comment_count(session: Session, idea: Idea, change: int) -> None:
    """Add ``change`` to the idea's count of comments residents see, in SQL."""
    session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id)
        .values(comments_count=Idea.comments_count + change)
        .execution_options(synchronize_session=False)
    )
    session.expire(idea, ["comments_count", "updated_at"])


def add_comment(
    session: Session,
    user: User,
    idea: Idea,
    *,
    client_uuid: str,
    body: str,
    language: str,
    parent_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Comment, bool]:
    """Comment on an idea the person sees, or reply to a comment; returns it and whether new."""
    now = now or utcnow()
    text = _check_body(body)
    existing = _find(session, idea, client_uuid)
    if existing is not None:
        return _replay(existing, user, text, parent_id), False
    _ensure_commentable(idea)
    ensure_not_muted(session, user, idea.city_id, now)
    if language not in LOCALES:
        raise Invalid(errors={"language": [_("Not a language of this programme.")]})
    parent = _parent(session, idea, parent_id)
    comment = Comment(
        idea_id=idea.id,
        city_id=idea.city_id,
        parent_id=parent.id if parent is not None else None,
        author_id=user.id,
        client_uuid=client_uuid,
        body=text,
        language=language,
        state=CommentState.PUBLISHED,
        created_at=now,
        updated_at=now,
    )
    comment, created = insert_once(session, comment, lambda: _find(session, idea, client_uuid))
    if not created:  # a parallel send stored first: answered as a resend
        return _replay(comment, user, text, parent_id), False
    change_comment_count(session, idea, +1)
    if idea.author_id is not None and idea.author_id != user.id:
        notify(
            session,
            [idea.author_id],
            NOTIFICATION_KIND,
            {
                "idea_id": idea.id,
                "idea_title": idea.title,
                "commenter": author_name(user),
                "excerpt": excerpt(render(text), SUMMARY_LENGTH),
            },
            data={"idea_id": idea.id, "comment_id": comment.id},
            dedupe_key=f"idea-comment:{comment.id}",
            now=now,
        )
    return comment, True


def get_comment(session: Session, user: User, comment_id: int) -> Comment:
    """A comment the person may see, on an idea they may see; anything else is not found."""
    comment = session.get(Comment, comment_id) if comment_id <= MAX_ID else None
    if comment is None or comment.city_id != user.city_id:
        raise NotFound()
    idea = get_idea(session, user, comment.idea_id)
    if comment.state == CommentState.HIDDEN and not (
        comment.author_id == user.id or is_moderator(user, idea)
    ):
        raise NotFound()
    return comment


def _ensure_author(comment: Comment, user: User) -> None:
    if comment.author_id is None or comment.author_id != user.id:
        raise NotAllowed(_("Only the author of this comment can do this."), slug="not-the-author")


def edit_window_end(comment: Comment) -> datetime:
    return comment.created_at + timedelta(minutes=comment.idea.board.edit_minutes)


def edit_comment(
    session: Session, user: User, comment: Comment, body: str, now: datetime | None = None
) -> Comment:
    """Change the author's own comment within the board's edit window."""
    _ensure_author(comment, user)
    now = now or utcnow()
    if comment.state != CommentState.PUBLISHED:
        raise Conflict(_("This comment can no longer be edited."), slug="not-editable")
    _ensure_commentable(comment.idea)
    if now >= edit_window_end(comment):
        minutes = comment.idea.board.edit_minutes
        raise Conflict(
            _("Comments can be edited for %(minutes)d minutes after posting.", minutes=minutes),
            slug="edit-window-over",
        )
    ensure_not_muted(session, user, comment.city_id, now)
    comment.body = _check_body(body)
    comment.edited_at = now
    comment.updated_at = now
    session.flush()
    return comment


def delete_comment(
    session: Session, user: User, comment: Comment, now: datetime | None = None
) -> Comment:
    """Delete the author's own comment, leaving "deleted" in the thread; twice is once."""
    _ensure_author(comment, user)
    now = now or utcnow()
    session.flush()
    for state in (CommentState.PUBLISHED, CommentState.HIDDEN):
        # Conditional on the state seen: a parallel delete or hide cannot count twice.
        deleted = session.execute(
            sa.update(Comment)
            .where(Comment.id == comment.id, Comment.state == state)
            .values(state=CommentState.DELETED, deleted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if deleted:
            if state == CommentState.PUBLISHED:
                change_comment_count(session, comment.idea, -1)
            break
    session.refresh(comment)
    return comment


# --- the thread -----------------------------------------------------------------------------


def _visible(user: User, idea: Idea, *conditions) -> sa.Select:
    """The idea's comments the person may see, among those meeting ``conditions``."""
    query = (
        sa.select(Comment)
        .where(Comment.idea_id == idea.id, Comment.city_id == idea.city_id, *conditions)
        .options(selectinload(Comment.author))
    )
    if is_moderator(user, idea):
        return query
    return query.where(sa.or_(Comment.state != CommentState.HIDDEN, Comment.author_id == user.id))


def thread(user: User, idea: Idea) -> sa.Select:
    """Query for the idea's top-level comments the person may see (page it oldest first)."""
    return _visible(user, idea, Comment.parent_id.is_(None))


def replies_to(
    session: Session, user: User, idea: Idea, parent_ids: list[int]
) -> dict[int, list[Comment]]:
    """The replies the person may see to these comments, oldest first, by parent."""
    replies: dict[int, list[Comment]] = {parent_id: [] for parent_id in parent_ids}
    if not parent_ids:
        return replies
    query = _visible(user, idea, Comment.parent_id.in_(parent_ids))
    for reply in session.scalars(query.order_by(Comment.created_at, Comment.id)):
        replies[reply.parent_id].append(reply)
    return replies


def thread_version(session: Session, idea: Idea) -> tuple[str, ...]:
    """What the idea's thread depends on: a comment added, edited, deleted or moderated."""
    row = session.execute(
        sa.select(sa.func.count(Comment.id), sa.func.max(Comment.updated_at)).where(
            Comment.idea_id == idea.id
        )
    ).one()
    return tuple(str(value) for value in row)
