"""Residents' phones supporting and flagging ideas and comments through the API."""

import pytest
import sqlalchemy as sa

from app.db import MAX_ID
from app.models import Role
from ideas.models import Flag, IdeaState, Phase, Support
from tests.api.helpers import assert_problem
from tests.ideas import conftest as ideas_fixtures

SUPPORT_FIELDS = {"idea_id", "supported", "supports_count", "supports_left"}
FLAG_FIELDS = {"id", "reason", "note", "created_at"}

# The ideas tests' fixtures: boards, ideas and comments on a published campaign of Lyon.
author, board_of = ideas_fixtures.author, ideas_fixtures.board_of
comment_on, idea_on = ideas_fixtures.comment_on, ideas_fixtures.idea_on


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon, locale="en")


@pytest.fixture
def voting(db_session, board_of):
    def make(**settings):
        board = board_of(phase=Phase.SUPPORTING, **settings)
        db_session.commit()
        return board

    return make


def support_url(idea) -> str:
    return f"/api/v1/ideas/{idea.id}/support"


def test_supporting_is_idempotent_and_withdrawing_frees_the_budget(
    client, voting, idea_on, author, resident, bearer
):
    board = voting(support_budget=2)
    idea = idea_on(board, author)
    headers = bearer(resident)
    first = client.put(support_url(idea), headers=headers)
    assert first.status_code == 201
    assert set(first.get_json()) == SUPPORT_FIELDS
    assert first.get_json() == {
        "idea_id": idea.id,
        "supported": True,
        "supports_count": 1,
        "supports_left": 1,
    }
    again = client.put(support_url(idea), headers=headers)
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    mine = client.get(f"/api/v1/boards/{board.id}/my-supports", headers=headers)
    assert mine.status_code == 200
    assert mine.get_json() == {"budget": 2, "used": 1, "left": 1, "idea_ids": [idea.id]}
    assert client.delete(support_url(idea), headers=headers).status_code == 204
    assert client.delete(support_url(idea), headers=headers).status_code == 204
    mine = client.get(f"/api/v1/boards/{board.id}/my-supports", headers=headers).get_json()
    assert mine == {"budget": 2, "used": 0, "left": 2, "idea_ids": []}


def test_a_used_up_budget_and_the_boards_rules_answer_409(
    client, db_session, voting, board_of, idea_on, author, resident, bearer
):
    board = voting(support_budget=1, supports_withdrawable=False)
    first, second = idea_on(board, author), idea_on(board, author)
    collecting = idea_on(board_of(), author)
    db_session.commit()
    headers = bearer(resident, **{"Accept-Language": "en"})
    assert client.put(support_url(first), headers=headers).status_code == 201
    problem = assert_problem(client.put(support_url(second), headers=headers), 409)
    assert problem["type"] == "urn:livinglab:problem:no-supports-left"
    assert problem["detail"] == "You have used all 1 support on this board."
    assert_problem(client.delete(support_url(first), headers=headers), 409, "supports-final")
    assert_problem(client.put(support_url(collecting), headers=headers), 409, "not-supporting")
    assert db_session.scalar(sa.select(sa.func.count(Support.id))) == 1


def test_flagging_an_idea_and_a_comment_once_each(
    client, db_session, board_of, idea_on, comment_on, author, resident, bearer
):
    idea = idea_on(board_of(), author)
    comment = comment_on(idea, author)
    headers = bearer(resident)
    path = f"/api/v1/ideas/{idea.id}/flags"
    first = client.post(path, json={"reason": "spam", "note": "Lien commercial"}, headers=headers)
    assert first.status_code == 201
    assert set(first.get_json()) == FLAG_FIELDS
    assert (first.get_json()["reason"], first.get_json()["note"]) == ("spam", "Lien commercial")
    again = client.post(path, json={"reason": "offensive"}, headers=headers)
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    on_comment = client.post(
        f"/api/v1/comments/{comment.id}/flags", json={"reason": "off_topic"}, headers=headers
    )
    assert on_comment.status_code == 201
    assert on_comment.get_json()["note"] is None
    assert db_session.scalar(sa.select(sa.func.count(Flag.id))) == 2
    own = client.post(path, json={"reason": "spam"}, headers=bearer(author))
    assert_problem(own, 403, "own-item")


def test_enough_flags_hide_the_idea_and_a_retry_still_gets_its_flag(
    client, db_session, board_of, idea_on, author, resident, bearer
):
    idea = idea_on(board_of(flag_threshold=1), author)
    db_session.commit()
    path = f"/api/v1/ideas/{idea.id}/flags"
    headers = bearer(resident)
    first = client.post(path, json={"reason": "spam"}, headers=headers)
    assert first.status_code == 201
    db_session.refresh(idea)
    assert idea.state == IdeaState.HIDDEN
    retry = client.post(path, json={"reason": "spam"}, headers=headers)
    assert (retry.status_code, retry.get_json()) == (200, first.get_json())
    assert client.put(support_url(idea), headers=headers).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "reason"),
        ({"reason": "rude"}, "reason"),
        ({"reason": 3}, "reason"),
        ({"reason": "spam", "note": "x" * 501}, "note"),
        ({"reason": "spam", "note": 5}, "note"),
        ({"reason": "spam", "user_id": 1}, "user_id"),
        ({"reason": "spam", "flags_count": 0}, "flags_count"),
    ],
)
def test_bad_flags_are_422_and_change_nothing(
    client, db_session, board_of, idea_on, comment_on, author, resident, bearer, body, field
):
    idea = idea_on(board_of(), author)
    comment = comment_on(idea, author)
    headers = bearer(resident)
    for path in (f"/api/v1/ideas/{idea.id}/flags", f"/api/v1/comments/{comment.id}/flags"):
        problem = assert_problem(client.post(path, json=body, headers=headers), 422)
        assert field in problem["errors"]
    assert db_session.scalar(sa.select(sa.func.count(Flag.id))) == 0


def test_a_nul_character_is_refused(client, board_of, idea_on, author, resident, bearer):
    idea = idea_on(board_of(), author)
    body = {"reason": "spam", "note": "a\u0000b"}
    response = client.post(f"/api/v1/ideas/{idea.id}/flags", json=body, headers=bearer(resident))
    assert_problem(response, 400, "nul-character")


def test_a_body_that_is_not_json_is_422(client, board_of, idea_on, author, resident, bearer):
    idea = idea_on(board_of(), author)
    response = client.post(
        f"/api/v1/ideas/{idea.id}/flags",
        data="reason=spam",
        headers=bearer(resident, **{"Content-Type": "text/plain"}),
    )
    assert_problem(response, 422)


def test_another_citys_ideas_comments_and_boards_are_not_found(
    client, db_session, voting, idea_on, comment_on, author, vienna, make_user, bearer
):
    board = voting()
    idea = idea_on(board, author)
    comment = comment_on(idea, author)
    for person in (make_user(vienna), make_user(vienna, role=Role.MODERATOR)):
        headers = bearer(person)
        requests = [
            ("PUT", support_url(idea), None),
            ("DELETE", support_url(idea), None),
            ("POST", f"/api/v1/ideas/{idea.id}/flags", {"reason": "spam"}),
            ("POST", f"/api/v1/comments/{comment.id}/flags", {"reason": "spam"}),
            ("GET", f"/api/v1/boards/{board.id}/my-supports", None),
        ]
        for method, path, body in requests:
            response = client.open(path, method=method, json=body, headers=headers)
            assert_problem(response, 404, "not-found")
    assert db_session.scalar(sa.select(sa.func.count(Flag.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(Support.id))) == 0


def test_ideas_that_do_not_exist_are_not_found(client, resident, bearer):
    headers = bearer(resident)
    for number in (999_999, MAX_ID + 1, 2**70):
        for method, path, body in [
            ("PUT", f"/api/v1/ideas/{number}/support", None),
            ("DELETE", f"/api/v1/ideas/{number}/support", None),
            ("POST", f"/api/v1/ideas/{number}/flags", {"reason": "spam"}),
            ("POST", f"/api/v1/comments/{number}/flags", {"reason": "spam"}),
            ("GET", f"/api/v1/boards/{number}/my-supports", None),
        ]:
            response = client.open(path, method=method, json=body, headers=headers)
            assert_problem(response, 404)


def test_signed_out_callers_get_401(client, voting, idea_on, author):
    idea = idea_on(voting(), author)
    assert_problem(client.put(support_url(idea)), 401)
    assert_problem(client.post(f"/api/v1/ideas/{idea.id}/flags", json={"reason": "spam"}), 401)


def test_flagging_is_rate_limited_and_resends_do_not_count(
    client, db_session, board_of, idea_on, author, resident, bearer
):
    board = board_of()
    ideas = [idea_on(board, author) for _ in range(11)]
    headers = bearer(resident)

    def flag(idea):
        return client.post(
            f"/api/v1/ideas/{idea.id}/flags", json={"reason": "spam"}, headers=headers
        )

    statuses = [flag(ideas[0]).status_code] + [flag(ideas[0]).status_code for _ in range(5)]
    statuses += [flag(idea).status_code for idea in ideas[1:]]
    assert statuses == [201] + [200] * 5 + [201] * 9 + [429]
    limited = flag(ideas[0])
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0


def test_supporting_is_rate_limited(client, voting, idea_on, author, resident, bearer):
    idea = idea_on(voting(), author)
    headers = bearer(resident)
    statuses = [client.put(support_url(idea), headers=headers).status_code for _ in range(3)]
    # Support and withdraw in turns: 60 changes a minute at most.
    for turn in range(59):
        send = client.delete if turn % 2 == 0 else client.put
        statuses.append(send(support_url(idea), headers=headers).status_code)
    assert statuses == [201, 200, 200] + [204, 201] * 29 + [204]
    assert_problem(client.put(support_url(idea), headers=headers), 429)
    assert_problem(client.delete(support_url(idea), headers=headers), 429)
