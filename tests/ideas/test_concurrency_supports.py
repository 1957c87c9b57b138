"""Supports (and flags) sent at once, each in its own transaction on a committed database: the
budget, one support per resident and one automatic hide hold whatever the timing."""

import threading
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow, write_intent
from app.errors import Conflict, NotFound
from app.models import User
from ideas import flags, supports
from ideas.models import Board, BoardStatus, Idea, IdeaState, Phase, Support, SupportBudget
from tests.conftest import city_with_people, session_of
from tests.surveys.helpers import published_campaign

BUDGET = 10


def _world(app, ideas: int, residents: int = 1, **settings) -> tuple[list[int], list[int]]:
    """A board in the supporting phase with ``ideas`` ideas and ``residents`` other residents;
    returns the ideas' ids and the residents'."""
    with session_of(app) as session:
        city, (moderator, author, *people) = city_with_people(session, 2 + residents)
        moderator.is_platform_admin = True  # stands for the city's moderator
        campaign = published_campaign(session, moderator, city)
        board = Board(
            city_id=city.id,
            campaign_id=campaign.id,
            title={"fr": "Cour de l'îlot 7"},
            status=BoardStatus.PUBLISHED,
            phase=Phase.SUPPORTING,
            published_at=utcnow(),
            **settings,
        )
        session.add(board)
        session.flush()
        made = [
            Idea(
                board_id=board.id,
                city_id=city.id,
                author_id=author.id,
                client_uuid=str(uuid.uuid4()),
                title=f"Idée {i}",
                body="Des bacs pour tous.",
                language="fr",
                published_at=utcnow(),
            )
            for i in range(ideas)
        ]
        session.add_all(made)
        session.commit()
        return [idea.id for idea in made], [person.id for person in people]


def _at_once(app, calls: list[tuple[int, int]], act: Callable) -> tuple[list, list, list]:
    """``act(session, person, idea)`` for each (person id, idea id) from its own thread, all
    starting together; returns whether each created its row, the refusals and other errors."""
    created, refused, errors = [], [], []
    barrier = threading.Barrier(len(calls))

    def send(person_id, idea_id):
        write_intent.set(True)  # as a writing request declares: SQLite locks at BEGIN
        try:
            barrier.wait(timeout=30)
            with session_of(app) as session:
                idea = session.get(Idea, idea_id)
                _row, made = act(session, session.get(User, person_id), idea)
                session.commit()
                created.append(made)
        except (Conflict, NotFound) as problem:
            refused.append(problem.slug)
        except Exception as error:  # surfaced by the test
            errors.append(error)

    threads = [threading.Thread(target=send, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return created, refused, errors


def _support(session, person, idea):
    return supports.support_idea(session, person, idea, utcnow())


def test_fifty_supports_at_once_never_exceed_the_budget(committed_app):
    idea_ids, (resident,) = _world(committed_app, 50, support_budget=BUDGET)
    calls = [(resident, idea_id) for idea_id in idea_ids]
    created, refused, errors = _at_once(committed_app, calls, _support)
    assert errors == []
    assert created == [True] * BUDGET
    assert refused == ["no-supports-left"] * (50 - BUDGET)
    with session_of(committed_app) as session:
        assert session.scalar(sa.select(SupportBudget.used)) == BUDGET
        assert session.scalar(sa.select(sa.func.count(Support.id))) == BUDGET
        assert session.scalar(sa.select(sa.func.sum(Idea.supports_count))) == BUDGET


def test_twenty_identical_supports_at_once_make_one(committed_app):
    (idea_id,), (resident,) = _world(committed_app, 1, support_budget=BUDGET)
    created, refused, errors = _at_once(committed_app, [(resident, idea_id)] * 20, _support)
    assert errors == [] and refused == []
    assert sorted(created) == [False] * 19 + [True]
    with session_of(committed_app) as session:
        assert session.scalar(sa.select(sa.func.count(Support.id))) == 1
        assert session.scalar(sa.select(SupportBudget.used)) == 1
        assert session.scalar(sa.select(Idea.supports_count)) == 1


def test_flags_arriving_together_hide_the_idea_once(committed_app):
    (idea_id,), people = _world(committed_app, 1, residents=12, flag_threshold=5)

    def flag(session, person, idea):
        return flags.flag(session, person, idea, "spam", None, utcnow())

    created, refused, errors = _at_once(committed_app, [(p, idea_id) for p in people], flag)
    assert errors == []
    # Whoever read the idea after it was hidden no longer finds it (where writes queue, as on
    # SQLite, that is everybody after the fifth); every flag taken counts.
    assert len(created) >= 5 and created == [True] * len(created)
    assert refused == ["not-found"] * (12 - len(created))
    with session_of(committed_app) as session:
        idea = session.get(Idea, idea_id)
        assert (idea.state, idea.moderation_reason) == (IdeaState.HIDDEN, None)
        assert idea.flags_count == len(created)
        hides = session.scalars(sa.select(AuditEntry.action)).all()
        assert hides == ["idea.auto_hide"]
