"""Comments on ideas: one level of replies, resends, the edit window, deletion, visibility,
and telling the idea's author."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from ideas import comments
from ideas.models import BoardStatus, Comment, CommentState, Idea, IdeaState, Mute, Phase
from notifications.models import Notification

pytestmark = pytest.mark.usefixtures("in_app")

MINUTE = timedelta(minutes=1)


@pytest.fixture
def idea(board_of, idea_on, author):
    return idea_on(board_of(edit_minutes=15), author)


@pytest.fixture
def post_comment(db_session, resident):
    def send(idea, body="Bonne idée !", user=None, **values):
        values.setdefault("client_uuid", str(uuid.uuid4()))
        values.setdefault("language", "fr")
        return comments.add_comment(db_session, user or resident, idea, body=body, **values)[0]

    return send


def told(db_session) -> list[Notification]:
    return list(
        db_session.scalars(sa.select(Notification).where(Notification.kind == "idea.comment"))
    )


def count_of(db_session, idea) -> int:
    return db_session.scalar(sa.select(Idea.comments_count).where(Idea.id == idea.id))


def test_a_comment_is_counted_and_tells_the_author(db_session, idea, post_comment, author):
    comment = post_comment(idea, "Oui, avec des **fleurs** <script>x</script>")
    assert (comment.state, comment.language, comment.parent_id) == ("published", "fr", None)
    assert count_of(db_session, idea) == idea.comments_count == 1
    [notification] = told(db_session)
    assert notification.user_id == author.id
    assert notification.subject == f"New comment on your idea “{idea.title}”"
    assert "Oui, avec des fleurs" in notification.body_text
    assert "<script>" not in notification.body_html and "&lt;script&gt;" in notification.body_html
    assert notification.data == {"idea_id": idea.id, "comment_id": comment.id}


def test_commenting_on_ones_own_idea_tells_nobody(db_session, idea, post_comment, author):
    post_comment(idea, user=author)
    assert told(db_session) == []


def test_replies_are_one_level_deep(db_session, idea, board_of, idea_on, author, post_comment):
    top = post_comment(idea)
    reply = post_comment(idea, "Je suis d'accord", parent_id=top.id, user=author)
    assert reply.parent_id == top.id
    for parent in (reply, post_comment(idea_on(board_of(), author))):
        with pytest.raises(Invalid) as problem:
            post_comment(idea, parent_id=parent.id)
        assert "parent_id" in problem.value.errors
    comments.delete_comment(db_session, top.author, top)
    with pytest.raises(Invalid):
        post_comment(idea, parent_id=top.id)


def test_a_resent_comment_is_the_same_and_other_content_is_refused(
    db_session, idea, post_comment, resident
):
    key = str(uuid.uuid4())
    first = post_comment(idea, client_uuid=key)
    again, created = comments.add_comment(
        db_session, resident, idea, client_uuid=key, body=" Bonne idée ! ", language="fr"
    )
    assert (again.id, created, count_of(db_session, idea)) == (first.id, False, 1)
    with pytest.raises(Conflict) as problem:
        post_comment(idea, "Autre chose", client_uuid=key)
    assert problem.value.slug == "comment-changed"
    comments.delete_comment(db_session, resident, first)
    with pytest.raises(Conflict) as problem:
        post_comment(idea, client_uuid=key)
    assert problem.value.slug == "comment-deleted"


@pytest.mark.parametrize(
    "change",
    [
        {"state": IdeaState.WITHDRAWN},
        {"state": IdeaState.MERGED},
        {"phase": Phase.CLOSED},
        {"status": BoardStatus.DRAFT},
    ],
)
def test_what_takes_no_more_comments(db_session, idea, post_comment, change):
    target = idea if "state" in change else idea.board
    for field, value in change.items():
        setattr(target, field, value)
    db_session.flush()
    with pytest.raises(Conflict) as problem:
        post_comment(idea)
    assert problem.value.slug == "not-commentable"


def test_a_comment_needs_words_and_a_muted_resident_cannot_comment(
    db_session, idea, post_comment, resident
):
    with pytest.raises(Invalid):
        post_comment(idea, "   ")
    with pytest.raises(Invalid):
        post_comment(idea, "x" * 2001)
    db_session.add(Mute(city_id=idea.city_id, user_id=resident.id, reason="insultes"))
    db_session.flush()
    with pytest.raises(NotAllowed) as problem:
        post_comment(idea)
    assert problem.value.slug == "muted"


def test_the_author_edits_within_the_window(db_session, idea, post_comment, resident, author):
    now = utcnow()
    comment = post_comment(idea, now=now)
    comments.edit_comment(db_session, resident, comment, "Très bonne idée", now + MINUTE)
    assert (comment.body, comment.edited_at) == ("Très bonne idée", now + MINUTE)
    with pytest.raises(NotAllowed) as problem:
        comments.edit_comment(db_session, author, comment, "Pas la mienne", now)
    assert problem.value.slug == "not-the-author"
    with pytest.raises(Conflict) as problem:
        comments.edit_comment(db_session, resident, comment, "Trop tard", now + 15 * MINUTE)
    assert problem.value.slug == "edit-window-over"


def test_deleting_leaves_a_trace_and_counts_once(db_session, idea, post_comment, resident, author):
    comment = post_comment(idea)
    post_comment(idea, "Une autre")
    with pytest.raises(NotAllowed):
        comments.delete_comment(db_session, author, comment)
    comments.delete_comment(db_session, resident, comment)
    comments.delete_comment(db_session, resident, comment)
    assert (comment.state, comment.body) == ("deleted", "Bonne idée !")
    assert comment.deleted_at is not None
    assert count_of(db_session, idea) == 1
    with pytest.raises(Conflict):
        comments.edit_comment(db_session, resident, comment, "Revenu")


def test_deleting_a_hidden_comment_leaves_the_count_to_moderation(
    db_session, idea, post_comment, resident
):
    comment = post_comment(idea)
    # Hiding took it out of the count (ideas.moderation does so).
    comment.state = CommentState.HIDDEN
    db_session.execute(sa.update(Idea).where(Idea.id == idea.id).values(comments_count=0))
    comments.delete_comment(db_session, resident, comment)
    assert count_of(db_session, idea) == 0


def test_the_thread_nests_replies_and_hides_hidden_comments_from_others(
    db_session, idea, post_comment, resident, author, moderator, make_user, lyon
):
    first = post_comment(idea, "Premier")
    hidden = post_comment(idea, "Caché")
    hidden.state, hidden.moderation_reason = CommentState.HIDDEN, "Insultant"
    reply = post_comment(idea, "Réponse", parent_id=first.id, user=author)
    hidden_reply = post_comment(idea, "Réponse cachée", parent_id=first.id)
    hidden_reply.state = CommentState.HIDDEN
    db_session.flush()

    def seen(person):
        top = list(
            db_session.scalars(
                comments.thread(person, idea).order_by(Comment.created_at, Comment.id)
            )
        )
        replies = comments.replies_to(db_session, person, idea, [c.id for c in top])
        return [c.id for c in top], [c.id for c in replies[first.id]]

    assert seen(resident) == ([first.id, hidden.id], [reply.id, hidden_reply.id])
    assert seen(moderator) == ([first.id, hidden.id], [reply.id, hidden_reply.id])
    assert seen(make_user(lyon)) == ([first.id], [reply.id])
    assert comments.get_comment(db_session, resident, hidden.id) is hidden
    with pytest.raises(NotFound):
        comments.get_comment(db_session, author, hidden.id)


def test_comments_of_another_city_or_an_unseen_idea_are_not_found(
    db_session, idea, post_comment, make_user, vienna, resident
):
    comment = post_comment(idea)
    with pytest.raises(NotFound):
        comments.get_comment(db_session, make_user(vienna), comment.id)
    idea.state = IdeaState.HIDDEN
    db_session.flush()
    with pytest.raises(NotFound):
        comments.get_comment(db_session, resident, comment.id)
    with pytest.raises(NotFound):
        comments.get_comment(db_session, resident, 2**40)


def test_the_thread_version_moves_with_every_change(db_session, idea, post_comment, resident):
    empty = comments.thread_version(db_session, idea)
    comment = post_comment(idea)
    added = comments.thread_version(db_session, idea)
    comments.edit_comment(db_session, resident, comment, "Modifié", utcnow() + MINUTE)
    edited = comments.thread_version(db_session, idea)
    assert len({empty, added, edited}) == 3
