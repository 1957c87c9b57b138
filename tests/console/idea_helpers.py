"""Idea boards for console tests, made through the ideas services: a board, residents'
ideas and comments, and what the permission walk needs."""

import uuid

import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.models import User
from ideas import boards, comments, service
from ideas.models import Board, Comment, Idea, IdeaStatusChange, Mute, Support
from tests.surveys.helpers import published_campaign

BOARD_TITLE = {"fr": "Cour de l'îlot 7", "en": "Courtyard of block 7"}


def open_board(session, operator, campaign, phase="collecting", **settings) -> Board:
    """A published board of ``campaign`` in ``phase``, made and moved by ``operator``."""
    board = boards.create_board(session, operator, campaign, title=dict(BOARD_TITLE), **settings)
    boards.publish_board(session, operator, board)
    if phase != board.phase:
        boards.set_phase(session, operator, board, phase)
    return board


def post(session, person, board, title="Un potager partagé", body="Des bacs pour tous.", **more):
    """An idea posted by ``person`` as the phone would (in French)."""
    idea, _created = service.post_idea(
        session,
        person,
        board,
        client_uuid=str(uuid.uuid4()),
        title=title,
        body=body,
        language=more.pop("language", "fr"),
        **more,
    )
    return idea


def comment(session, person, idea, body="Bonne idée !", parent_id=None) -> Comment:
    made, _created = comments.add_comment(
        session,
        person,
        idea,
        client_uuid=str(uuid.uuid4()),
        body=body,
        language="fr",
        parent_id=parent_id,
    )
    return made


def permission_world(session, people) -> dict[str, int]:
    """What the console's idea routes act on in the permission walk: a published campaign
    with a collecting board, two ideas of the resident (one a duplicate of the other), the
    resident's own comment, a draft board, and a muted second resident. No notification is
    made here (the walk runs outside any app context)."""
    operator = people["platform_admin"]
    lyon = people["admin"].city
    campaign = published_campaign(session, operator, lyon, slug="ideas")
    board = open_board(session, operator, campaign)
    draft = boards.create_board(session, operator, campaign, title={"fr": "Brouillon"})
    resident = people["resident"]
    idea = post(session, resident, board, "Un potager partagé")
    duplicate = post(session, resident, board, "Un potager pour tous")
    own = comment(session, resident, idea)
    muted = User(
        email="muted@lyon.example", password_hash="-", city_id=lyon.id, email_verified_at=utcnow()
    )
    session.add(muted)
    session.flush()
    session.add(Mute(city_id=lyon.id, user_id=muted.id, muted_by_id=operator.id, reason="Spam"))
    session.commit()
    return {
        "board": board.id,
        "draft_board": draft.id,
        "idea": idea.id,
        "duplicate": duplicate.id,
        "comment": own.id,
        "muted": muted.id,
    }


def idea_state(session) -> tuple:
    """Everything the console's idea routes could change."""
    session.expire_all()
    rows = (
        sa.select(
            Board.id,
            Board.status,
            Board.phase,
            Board.title,
            Board.support_budget,
            Board.categories,
        ).order_by(Board.id),
        sa.select(
            Idea.id, Idea.state, Idea.official_status, Idea.merged_into_id, Idea.supports_count
        ).order_by(Idea.id),
        sa.select(Comment.id, Comment.state).order_by(Comment.id),
        sa.select(Mute.user_id, Mute.until).order_by(Mute.user_id),
        sa.select(Support.idea_id, Support.user_id).order_by(Support.id),
        sa.select(sa.func.count(IdeaStatusChange.id)),
        sa.select(sa.func.count(AuditEntry.id)),
    )
    return tuple(tuple(session.execute(query)) for query in rows)
