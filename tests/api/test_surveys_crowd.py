"""Many phones submitting survey responses at once through the API, on a database committed for
real: everyone is served, and every response is stored exactly once."""

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts import issue_token
from app.db import utcnow
from app.models import TokenKind
from surveys.models import ResponseAnswer, SurveyResponse
from tests.conftest import city_with_people, session_of
from tests.surveys import helpers

PHONES = 8


@pytest.fixture
def db_session():
    """This module commits for real on a database of its own, not in the rolled-back one."""
    yield None


def _crowd_at_surveys(app):
    """Residents with their tokens, and two surveys: one answered once, one several times."""
    with session_of(app) as session:
        city, people = city_with_people(session, PHONES + 1)
        moderator = people.pop()
        moderator.is_platform_admin = True  # stands for the city's moderator
        campaign = helpers.published_campaign(session, moderator, city)
        definition = helpers.in_french(helpers.DEFINITION)
        once = helpers.make_survey(session, moderator, campaign, definition=definition)
        several = helpers.make_survey(
            session, moderator, campaign, definition=definition, allow_multiple=True
        )
        tokens = [
            issue_token(session, person, TokenKind.API, timedelta(days=1), "phone", utcnow())
            for person in people
        ]
        session.commit()
        return tokens, once.id, once.current_version_id, several.id, several.current_version_id


def _all_at_once(app, requests):
    """POST every (path, token, body) from its own thread, all starting together."""
    barrier = threading.Barrier(len(requests))
    answers = [None] * len(requests)

    def send(index, path, token, payload):
        barrier.wait(timeout=30)
        with app.test_client() as client:
            sent = client.post(path, json=payload, headers={"Authorization": f"Bearer {token}"})
            answers[index] = (sent.status_code, sent.get_json())

    threads = [
        threading.Thread(target=send, args=(index, *request))
        for index, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_a_crowd_submitting_at_once_is_served_and_counted_once(committed_app):
    app = committed_app
    tokens, once, once_version, several, several_version = _crowd_at_surveys(app)
    resent = str(uuid.uuid4())
    requests = []
    for token in tokens:
        # Each person: two new responses where several are taken, and the same response
        # resent twice by the first person's phone.
        for _ in range(2):
            requests.append(
                (
                    f"/api/v1/surveys/{several}/responses/{uuid.uuid4()}/submit",
                    token,
                    {"version_id": several_version, "answers": helpers.HEAT_PUMP},
                )
            )
    for _ in range(2 * PHONES):
        requests.append(
            (
                f"/api/v1/surveys/{several}/responses/{resent}/submit",
                tokens[0],
                {"version_id": several_version, "answers": helpers.GAS},
            )
        )
    # One person's two phones answer the survey answered once, each with its own response.
    for _ in range(2):
        requests.append(
            (
                f"/api/v1/surveys/{once}/responses/{uuid.uuid4()}/submit",
                tokens[1],
                {"version_id": once_version, "answers": helpers.GAS},
            )
        )
    answers = _all_at_once(app, requests)
    several_answers = answers[: 2 * PHONES]
    resends = answers[2 * PHONES : 4 * PHONES]
    twice_once = answers[4 * PHONES :]
    assert [status for status, _body in several_answers] == [201] * (2 * PHONES)
    # The same response sent 16 times at once: stored once, the others told it is that one.
    assert sorted(status for status, _body in resends) == [200] * (2 * PHONES - 1) + [201]
    assert {body["client_uuid"] for _status, body in resends} == {resent}
    statuses = sorted(status for status, _body in twice_once)
    assert statuses == [201, 409]
    refused = next(body for status, body in twice_once if status == 409)
    assert refused["type"].endswith("already-answered")
    with session_of(app) as session:
        stored = dict(
            session.execute(
                sa.select(SurveyResponse.survey_id, sa.func.count())
                .where(SurveyResponse.status == "submitted")
                .group_by(SurveyResponse.survey_id)
            ).all()
        )
        assert stored == {several: 2 * PHONES + 1, once: 1}
        rows = session.scalar(sa.select(sa.func.count()).where(ResponseAnswer.survey_id == several))
        assert rows == 2 * 2 * PHONES + 3  # heat pump: two rows; gas: three
