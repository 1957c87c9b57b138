"""Boards and ideas for the ideas tests, on a published campaign of Lyon."""

import uuid

import pytest

from app.db import utcnow
from ideas.models import Board, BoardStatus, Comment, CommentState, Idea, IdeaState, Phase


@pytest.fixture
def board_of(db_session, campaign):
    """A published board of the campaign (or of ``campaign_id``), collecting ideas unless told
    otherwise."""

    def make(**settings):
        values = {
            "city_id": campaign.city_id,
            "campaign_id": campaign.id,
            "title": {"fr": "Cour de l'îlot 7", "en": "Courtyard of block 7"},
            "status": BoardStatus.PUBLISHED,
            "phase": Phase.COLLECTING,
            "published_at": utcnow(),
            "shuffle_seed": 12345,
        } | settings
        board = Board(**values)
        db_session.add(board)
        db_session.flush()
        return board

    return make


@pytest.fixture
def idea_on(db_session):
    """A published idea on a board by an author."""

    def make(board, author, title="Un potager partagé", body="Des bacs pour tous.", **values):
        now = utcnow()
        idea = Idea(
            board_id=board.id,
            city_id=board.city_id,
            author_id=author.id if author else None,
            client_uuid=str(uuid.uuid4()),
            title=title,
            body=body,
            language="fr",
            state=values.pop("state", IdeaState.PUBLISHED),
            search_text=f"{title} {body}".lower(),
            published_at=now,
            **values,
        )
        db_session.add(idea)
        db_session.flush()
        return idea

    return make


@pytest.fixture
def author(lyon, make_user):
    """A resident who writes ideas, reading English."""
    return make_user(lyon, locale="en")


@pytest.fixture
def comment_on(db_session):
    """A published comment on an idea by a person, counted on the idea."""

    def make(idea, person, body="Bonne idée !", **values):
        comment = Comment(
            idea_id=idea.id,
            city_id=idea.city_id,
            author_id=person.id,
            client_uuid=str(uuid.uuid4()),
            body=body,
            language="fr",
            **values,
        )
        db_session.add(comment)
        if comment.state in (None, CommentState.PUBLISHED):
            idea.comments_count += 1
        db_session.flush()
        return comment

    return make
