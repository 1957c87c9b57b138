"""Residents answer surveys from phones that retry, go offline and race themselves."""

import copy
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow, write_intent
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from surveys import responses, responses_submit, service
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse
from tests.conftest import city_with_people, session_of
from tests.surveys.helpers import (
    DEFINITION,
    GAS,
    HEAT_PUMP,
    in_french,
    make_survey,
    published_campaign,
)


def new_uuid() -> str:
    return str(uuid.uuid4())


def submit(session, user, survey, client_uuid, answers, now=None, version_id=None, **kwargs):
    return responses_submit.submit(
        session,
        user,
        survey,
        client_uuid,
        version_id or survey.current_version_id,
        answers,
        "fr",
        now or utcnow(),
        **kwargs,
    )


def rows_of(session, survey) -> list[tuple]:
    return sorted(
        session.execute(
            sa.select(ResponseAnswer.question, ResponseAnswer.choice, ResponseAnswer.number).where(
                ResponseAnswer.survey_id == survey.id
            )
        ).all(),
        key=repr,
    )


def count(session, survey) -> int:
    return session.scalar(
        sa.select(sa.func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)
    )


def test_a_resend_is_the_original_and_other_answers_are_refused(db_session, survey_of, resident):
    survey = survey_of()
    key = new_uuid()
    first, created = submit(db_session, resident, survey, key, GAS)
    assert created and first.status == ResponseStatus.SUBMITTED
    again, created = submit(db_session, resident, survey, key, dict(GAS))
    assert (again.id, created) == (first.id, False)
    assert count(db_session, survey) == 1
    assert rows_of(db_session, survey) == [
        ("boiler_age", None, 12.0),
        ("comfort", None, 4.0),
        ("heating", "gas", None),
    ]
    with pytest.raises(Conflict) as raised:
        submit(db_session, resident, survey, key, HEAT_PUMP)
    assert raised.value.slug == "response-changed"
    assert count(db_session, survey) == 1


def test_answers_follow_the_surveys_rules_and_skip_logic(db_session, survey_of, resident):
    survey = survey_of(allow_multiple=True)
    with pytest.raises(Invalid) as raised:
        submit(db_session, resident, survey, new_uuid(), {"heating": "gas"})
    assert list(raised.value.errors["answers"]) == ["boiler_age"]  # shown to gas users
    with pytest.raises(Invalid) as raised:
        submit(db_session, resident, survey, new_uuid(), {"heating": "coal"})
    assert "heating" in raised.value.errors["answers"]
    # Heat pump users never see the boiler question: not answering it is fine.
    _response, created = submit(db_session, resident, survey, new_uuid(), HEAT_PUMP)
    assert created


def test_a_draft_is_resumed_and_becomes_the_response(db_session, survey_of, resident):
    survey = survey_of()
    key = new_uuid()
    version = survey.current_version_id
    draft = responses_submit.save_draft(
        db_session, resident, survey, key, version, {"heating": "gas"}, "fr", utcnow()
    )
    assert draft.status == ResponseStatus.DRAFT
    assert rows_of(db_session, survey) == []  # drafts do not count
    # Later, on another device: the person finds the draft and goes on.
    (found,) = responses.list_mine(db_session, resident, survey)
    assert (found.client_uuid, found.answers) == (key, {"heating": "gas"})
    responses_submit.save_draft(db_session, resident, survey, key, version, GAS, "fr", utcnow())
    response, created = submit(db_session, resident, survey, key, GAS)
    assert created and response.id == draft.id and response.status == ResponseStatus.SUBMITTED
    with pytest.raises(Conflict) as raised:
        responses_submit.save_draft(db_session, resident, survey, key, version, GAS, "fr", utcnow())
    assert raised.value.slug == "already-submitted"


def test_a_closed_survey_takes_only_responses_started_before_within_grace(
    db_session, survey_of, resident, make_user, lyon
):
    now = utcnow()
    closes = now + timedelta(hours=1)
    survey = survey_of(closes_at=closes, grace_minutes=30, allow_multiple=True)
    version = survey.current_version_id
    started = new_uuid()
    responses_submit.save_draft(db_session, resident, survey, started, version, {}, "fr", now)
    late = closes + timedelta(minutes=10)
    with pytest.raises(Conflict) as raised:
        submit(db_session, resident, survey, new_uuid(), GAS, now=late)
    assert raised.value.slug == "survey-closed"
    assert raised.value.detail
    # Its draft was saved before closing: taken within the grace period.
    _response, created = submit(db_session, resident, survey, started, GAS, now=late)
    assert created
    # An offline phone says when it started; a start after closing does not count.
    offline = new_uuid()
    with pytest.raises(Conflict):
        submit(db_session, resident, survey, offline, GAS, now=late, started_at=late)
    _response, created = submit(
        db_session, resident, survey, offline, GAS, now=late, started_at=now
    )
    assert created
    with pytest.raises(Conflict):  # past the grace period, nothing is taken
        submit(
            db_session,
            resident,
            survey,
            new_uuid(),
            GAS,
            now=closes + timedelta(minutes=31),
            started_at=now,
        )
    # A resend of what was taken is still answered as the first time.
    _response, created = submit(db_session, resident, survey, started, GAS, now=late)
    assert not created


def test_grace_also_follows_a_manual_close(db_session, survey_of, resident, moderator):
    survey = survey_of(grace_minutes=5)
    now = utcnow()
    key = new_uuid()
    responses_submit.save_draft(
        db_session, resident, survey, key, survey.current_version_id, {}, "fr", now
    )
    service.close(db_session, moderator, survey, now=now + timedelta(minutes=1))
    with pytest.raises(Conflict):
        responses_submit.save_draft(
            db_session,
            resident,
            survey,
            key,
            survey.current_version_id,
            GAS,
            "fr",
            now + timedelta(minutes=2),
        )
    _response, created = submit(
        db_session, resident, survey, key, GAS, now=now + timedelta(minutes=3)
    )
    assert created


def test_a_response_to_an_older_version_counts_while_collecting(
    db_session, survey_of, moderator, make_user, lyon
):
    survey = survey_of(allow_multiple=True)
    first = survey.current_version
    changed = copy.deepcopy(DEFINITION)
    changed["pages"][0]["questions"][2]["title"]["fr"] = "Confort ressenti en hiver"
    service.save_definition(db_session, moderator, survey, changed)
    service.publish(db_session, moderator, survey)
    assert survey.current_version.number == 2
    person = make_user(lyon)
    old, created = submit(db_session, person, survey, new_uuid(), GAS, version_id=first.id)
    assert created and old.version_id == first.id
    new, _ = submit(db_session, person, survey, new_uuid(), HEAT_PUMP)
    assert new.version.number == 2
    # Both versions' answers add up under the same question keys.
    comfort = [row for row in rows_of(db_session, survey) if row[0] == "comfort"]
    assert comfort == [("comfort", None, 2.0), ("comfort", None, 4.0)]
    # A version that is not this survey's published one is refused.
    other = make_survey(db_session, moderator, survey.campaign, publish=False)
    with pytest.raises(Invalid) as raised:
        submit(
            db_session,
            person,
            survey,
            new_uuid(),
            GAS,
            version_id=service.draft_version(db_session, moderator, other).id,
        )
    assert "version_id" in raised.value.errors


def test_one_response_per_person_unless_the_survey_allows_several(db_session, survey_of, resident):
    once = survey_of()
    submit(db_session, resident, once, new_uuid(), GAS)
    with pytest.raises(Conflict) as raised:
        submit(db_session, resident, once, new_uuid(), HEAT_PUMP)
    assert raised.value.slug == "already-answered"
    several = survey_of(allow_multiple=True)
    submit(db_session, resident, several, new_uuid(), GAS)
    submit(db_session, resident, several, new_uuid(), HEAT_PUMP)
    assert count(db_session, several) == 2


def test_anonymous_responses_are_linked_to_nobody(db_session, survey_of, resident):
    survey = survey_of(anonymous=True)
    key = new_uuid()
    response, _ = submit(db_session, resident, survey, key, GAS)
    stored = db_session.scalar(sa.select(SurveyResponse).where(SurveyResponse.id == response.id))
    assert (stored.user_id, stored.single_owner_id) == (None, None)
    assert responses.list_mine(db_session, resident, survey) == []
    with pytest.raises(Conflict) as raised:
        responses.withdraw(db_session, resident, survey, key, utcnow())
    assert raised.value.slug == "anonymous-survey"
    with pytest.raises(Conflict):
        responses_submit.save_draft(
            db_session,
            resident,
            survey,
            new_uuid(),
            survey.current_version_id,
            {},
            "fr",
            utcnow(),
        )
    # Still deduplicated by its UUID.
    _again, created = submit(db_session, resident, survey, key, GAS)
    assert not created and count(db_session, survey) == 1
    (found,) = responses.open_surveys(db_session, resident, utcnow())
    assert (found.status, found.submitted, found.can_start) == ("unknown", None, True)


def test_withdrawing_removes_the_answers_and_frees_the_place(
    db_session, survey_of, resident, moderator
):
    survey = survey_of()
    key = new_uuid()
    submit(db_session, resident, survey, key, GAS)
    responses.withdraw(db_session, resident, survey, key, utcnow())
    responses.withdraw(db_session, resident, survey, key, utcnow())  # again: nothing changes
    assert rows_of(db_session, survey) == []
    assert responses.list_mine(db_session, resident, survey) == []
    with pytest.raises(Conflict) as raised:  # a late resend does not bring it back
        submit(db_session, resident, survey, key, GAS)
    assert raised.value.slug == "response-withdrawn"
    again = new_uuid()
    _response, created = submit(db_session, resident, survey, again, HEAT_PUMP)
    assert created
    service.close(db_session, moderator, survey)
    with pytest.raises(Conflict) as raised:
        responses.withdraw(db_session, resident, survey, again, utcnow())
    assert raised.value.slug == "survey-closed"


def test_nobody_reaches_another_persons_response(
    db_session, survey_of, resident, make_user, lyon, vienna
):
    survey = survey_of(allow_multiple=True)
    key = new_uuid()
    responses_submit.save_draft(
        db_session, resident, survey, key, survey.current_version_id, {}, "fr", utcnow()
    )
    neighbour = make_user(lyon)
    with pytest.raises(NotFound):
        responses_submit.save_draft(
            db_session, neighbour, survey, key, survey.current_version_id, GAS, "fr", utcnow()
        )
    with pytest.raises(NotFound):
        submit(db_session, neighbour, survey, key, GAS)
    with pytest.raises(NotFound):
        responses.withdraw(db_session, neighbour, survey, key, utcnow())
    assert responses.list_mine(db_session, neighbour, survey) == []
    with pytest.raises(NotFound):
        submit(db_session, make_user(vienna), survey, new_uuid(), GAS)


def test_open_surveys_show_my_status(db_session, survey_of, resident, moderator, lyon):
    started, answered, untouched = survey_of(), survey_of(), survey_of()
    unpublished = make_survey(db_session, moderator, started.campaign, publish=False)
    closed = survey_of()
    service.close(db_session, moderator, closed)
    responses_submit.save_draft(
        db_session, resident, started, new_uuid(), started.current_version_id, {}, "fr", utcnow()
    )
    submit(db_session, resident, answered, new_uuid(), GAS)
    found = {
        item.survey.id: (item.status, item.submitted, item.can_start)
        for item in responses.open_surveys(db_session, resident, utcnow())
    }
    assert found == {
        started.id: ("draft", 0, True),
        answered.id: ("submitted", 1, False),
        untouched.id: ("not_started", 0, True),
    }
    assert unpublished.id not in found


def test_a_survey_taking_several_responses_says_i_may_answer_again(db_session, survey_of, resident):
    survey = survey_of(allow_multiple=True)
    version = survey.current_version_id

    def standing():
        (item,) = responses.open_surveys(db_session, resident, utcnow())
        return item.status, item.submitted, item.can_start

    first, second = new_uuid(), new_uuid()
    submit(db_session, resident, survey, first, GAS)
    assert standing() == ("submitted", 1, True)
    # My latest response is a draft: that is what I see, with the one I submitted counted.
    later = utcnow() + timedelta(minutes=5)
    responses_submit.save_draft(db_session, resident, survey, second, version, {}, "fr", later)
    assert standing() == ("draft", 1, True)
    submit(db_session, resident, survey, second, HEAT_PUMP, now=later)
    assert standing() == ("submitted", 2, True)
    # Withdrawn responses are no longer mine to count.
    responses.withdraw(db_session, resident, survey, second, later)
    responses.withdraw(db_session, resident, survey, first, later)
    assert standing() == ("not_started", 0, True)


# --- real concurrency, on a committed database of its own -------------------------------------

PARALLEL = 20


def _world(app):
    with session_of(app) as session:
        city, (moderator, resident) = city_with_people(session, 2)
        moderator.is_platform_admin = True  # stands for the city's moderator
        campaign = published_campaign(session, moderator, city)
        survey = make_survey(session, moderator, campaign, definition=in_french(DEFINITION))
        session.commit()
        return survey.id, resident.id


@pytest.mark.parametrize("draft_first", [False, True], ids=["offline", "resumed-draft"])
def test_twenty_identical_submissions_at_once_store_one_response(committed_app, draft_first):
    app = committed_app
    survey_id, resident_id = _world(app)
    key = new_uuid()
    if draft_first:
        write_intent.set(True)
        with session_of(app) as session:
            survey = session.get(Survey, survey_id)
            responses_submit.save_draft(
                session,
                session.get(User, resident_id),
                survey,
                key,
                survey.current_version_id,
                {"heating": "gas"},
                "fr",
                utcnow(),
            )
            session.commit()
    outcomes, errors = [], []
    barrier = threading.Barrier(PARALLEL)

    def send():
        write_intent.set(True)
        try:
            # All start together; on SQLite the first read of a writer takes the write lock.
            barrier.wait(timeout=30)
            with session_of(app) as session:
                survey = session.get(Survey, survey_id)
                resident = session.get(User, resident_id)
                response, created = submit(session, resident, survey, key, GAS)
                session.commit()
                outcomes.append((response.id, created))
        except Exception as error:  # surfaced by the test
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(created for _id, created in outcomes) == [False] * (PARALLEL - 1) + [True]
    assert len({response_id for response_id, _created in outcomes}) == 1
    with session_of(app) as session:
        assert session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 1
        assert session.scalar(sa.select(sa.func.count(ResponseAnswer.id))) == 3
