"""The scheduler's job for idea boards: phases switch at their times, once, also with two
schedulers running."""

from datetime import timedelta

import sqlalchemy as sa

from app.db import utcnow
from app.scheduler import JOBS
from ideas import boards
from ideas.jobs import switch_board_phases
from ideas.models import Board, Phase
from tests.conftest import session_of
from tests.crowd import at_once, live_campaign

DAY = timedelta(days=1)


def test_the_job_is_scheduled_every_minute():
    function, trigger = JOBS["ideas.phases"]
    assert function is switch_board_phases
    assert trigger == {"trigger": "interval", "minutes": 1}


def test_the_job_switches_due_boards_and_commits(db_session, board_of):
    now = utcnow()
    opening = board_of(phase=Phase.UPCOMING, collecting_from=now - DAY)
    voting = board_of(phase=Phase.COLLECTING, supporting_from=now - DAY, closes_at=now + DAY)
    later = board_of(phase=Phase.COLLECTING, supporting_from=now + DAY)

    assert switch_board_phases(db_session, now) == 2
    assert switch_board_phases(db_session, now) == 0
    for board in (opening, voting, later):
        db_session.refresh(board)
    assert [b.phase for b in (opening, voting, later)] == ["collecting", "supporting", "collecting"]
    assert voting.voting_started_at == now


def test_two_schedulers_at_once_switch_each_board_once(committed_app):
    live = committed_app
    now = utcnow()
    with session_of(live) as session:
        _city, root, _people, campaign = live_campaign(session)
        ids = []
        for times in (
            {"collecting_from": now - DAY},
            {"collecting_from": now - 2 * DAY, "supporting_from": now - DAY},
            {"supporting_from": now - 2 * DAY, "closes_at": now - DAY},
            {"collecting_from": now + DAY},
        ):
            board = boards.create_board(session, root, campaign, title={"fr": "Idées"}, **times)
            board.status = "published"
            ids.append(board.id)
        session.commit()

    def scheduler():
        with live.app_context(), session_of(live) as session:
            return switch_board_phases(session, now)

    results, errors = at_once(4, scheduler)
    assert errors == []
    assert sum(results) == 3
    with session_of(live) as session:
        rows = session.execute(
            sa.select(Board.phase, Board.voting_started_at)
            .where(Board.id.in_(ids))
            .order_by(Board.id)
        ).all()
    assert [phase for phase, _started in rows] == ["collecting", "supporting", "closed", "upcoming"]
    assert rows[1].voting_started_at == now
