"""Deleting my account through the API: confirmed with my password, done at once; my sign-in
dies with it, and what I wrote for others stays, by a "deleted participant"."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import issue_token
from app.db import utcnow
from app.extensions import db
from app.models import TokenKind, User
from app.passwords import hash_password
from ideas.models import Idea
from tests.api.helpers import assert_problem
from tests.conftest import PASSWORD, app_of_its_own, city_with_people
from tests.ideas import conftest as ideas_fixtures

# The ideas tests' fixtures: a published campaign of Lyon and boards and ideas on it.
board_of, comment_on, idea_on = (
    ideas_fixtures.board_of,
    ideas_fixtures.comment_on,
    ideas_fixtures.idea_on,
)

URL = "/api/v1/me/deletion"


def exists(db_session, user_id: int) -> bool:
    return db_session.get(User, user_id) is not None


def test_a_wrong_password_is_refused_and_changes_nothing(
    client, db_session, lyon, make_user, bearer, translate
):
    person = make_user(lyon)
    headers = bearer(person, **{"Accept-Language": "de"})
    response = client.post(URL, json={"password": "not my password"}, headers=headers)
    body = assert_problem(response, 422, "invalid")
    assert body["errors"]["password"] == [translate("de", "The current password is wrong.")]
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert exists(db_session, person.id)


@pytest.mark.parametrize(
    "payload", [{}, {"password": None}, {"password": 12}, {"password": PASSWORD, "why": "x"}]
)
def test_missing_wrong_and_unknown_fields_are_422(client, lyon, make_user, bearer, payload):
    person = make_user(lyon)
    assert_problem(client.post(URL, json=payload, headers=bearer(person)), 422, "invalid")


def test_deleting_my_account_ends_every_sign_in(client, db_session, lyon, make_user, bearer):
    person, other = make_user(lyon), make_user(lyon)
    person_id = person.id
    headers, second_device, theirs = bearer(person), bearer(person), bearer(other)
    response = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert not exists(db_session, person_id)
    for device in (headers, second_device):
        assert_problem(client.get("/api/v1/me", headers=device), 401, "invalid-token")
    # Sent again, with the dead token: nothing left to delete.
    again = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert_problem(again, 401, "invalid-token")
    # The other resident is signed in as before; the route names nobody, so their token
    # deletes only their own account, and only with their own password.
    assert client.get("/api/v1/me", headers=theirs).json["email"] == other.email
    wrong = client.post(URL, json={"password": "not their password"}, headers=theirs)
    assert_problem(wrong, 422)
    assert exists(db_session, other.id)


def test_signed_out_nobody_deletes_anything(client):
    response = client.post(URL, json={"password": PASSWORD})
    assert_problem(response, 401)


def test_my_ideas_and_comments_stay_by_a_deleted_participant(
    client, db_session, lyon, make_user, bearer, board_of, idea_on, comment_on, translate
):
    person, reader = make_user(lyon), make_user(lyon)
    board = board_of()
    idea = idea_on(board, person, title="Un banc sous le tilleul")
    comment_on(idea, person, body="Et une fontaine, peut-être.")
    db_session.commit()
    idea_id = idea.id
    reading = bearer(reader)
    assert client.post(URL, json={"password": PASSWORD}, headers=bearer(person)).status_code == 204
    assert db_session.get(Idea, idea_id).author_id is None
    for locale in ("en", "de"):
        label = translate(locale, "deleted participant")
        headers = {**reading, "Accept-Language": locale}
        shown = client.get(f"/api/v1/ideas/{idea_id}", headers=headers)
        assert shown.status_code == 200
        assert shown.json["author"] == label and shown.json["mine"] is False
        assert shown.json["title"] == "Un banc sous le tilleul"
        comments = client.get(f"/api/v1/ideas/{idea_id}/comments", headers=headers)
        assert comments.status_code == 200
        assert [c["author"] for c in comments.json["items"]] == [label]
        listed = client.get(f"/api/v1/boards/{board.id}/ideas", headers=headers)
        assert [i["author"] for i in listed.json["items"]] == [label]


def test_guessing_the_password_is_throttled(client, lyon, make_user, bearer):
    person = make_user(lyon)
    headers = bearer(person)
    statuses = [
        client.post(URL, json={"password": "guess guess"}, headers=headers).status_code
        for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    response = client.post(URL, json={"password": PASSWORD}, headers=headers)
    assert_problem(response, 429, "too-many-requests")
    assert int(response.headers["Retry-After"]) > 0


class TestAtOnce:
    """Two phones of one person deleting at once, on a database where commits are real."""

    @pytest.fixture
    def db_session(self):
        """Not the suite's rolled-back session: these requests commit on their own database."""
        yield None

    @pytest.fixture
    def phones(self, tmp_path):
        with app_of_its_own(tmp_path, "deletion") as own:
            with own.app_context():
                _city, (person,) = city_with_people(db.session, 1)
                person.password_hash = hash_password(PASSWORD)
                now = utcnow()
                tokens = [
                    issue_token(db.session, person, TokenKind.API, timedelta(days=1), "t", now)
                    for _ in range(2)
                ]
                db.session.commit()
                db.session.remove()
            yield own, tokens

    def test_one_deletes_and_the_other_finds_nobody(self, phones):
        app, tokens = phones

        def send(token):
            with app.test_client().post(
                URL, json={"password": PASSWORD}, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                return response.status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(send, tokens))
        assert statuses == [204, 401]
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
            db.session.remove()
