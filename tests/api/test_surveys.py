"""Residents' phones answering surveys through the API: open surveys, drafts, offline resends."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from surveys import service
from surveys.models import ResponseAnswer, SurveyResponse
from tests.api.helpers import assert_problem
from tests.surveys.helpers import GAS, HEAT_PUMP, make_survey, published_campaign

SUMMARY_FIELDS = {
    "id",
    "campaign",
    "title",
    "opens_at",
    "closes_at",
    "anonymous",
    "allow_multiple",
    "version_id",
    "my_status",
    "my_submitted",
    "can_start",
}
SURVEY_FIELDS = {
    "id",
    "campaign",
    "status",
    "collecting",
    "opens_at",
    "closes_at",
    "grace_minutes",
    "anonymous",
    "allow_multiple",
    "version",
    "definition",
}
RESPONSE_FIELDS = {
    "client_uuid",
    "status",
    "version_id",
    "locale",
    "answers",
    "started_at",
    "updated_at",
    "submitted_at",
}


@pytest.fixture
def survey_of(db_session, moderator, lyon):
    campaign = published_campaign(db_session, moderator, lyon)

    def make(**settings):
        survey = make_survey(db_session, moderator, campaign, **settings)
        db_session.commit()
        return survey

    return make


def body(survey, answers, **extra):
    return {"version_id": survey.current_version_id, "answers": answers, **extra}


def url(survey, key=None, submit=False):
    path = f"/api/v1/surveys/{survey.id}/responses"
    if key:
        path += f"/{key}"
    return path + ("/submit" if submit else "")


def test_my_open_surveys_with_my_status(client, survey_of, resident, bearer):
    answered, fresh = survey_of(), survey_of()
    headers = bearer(resident, **{"Accept-Language": "en"})
    key = str(uuid.uuid4())
    assert client.post(url(answered, key, True), json=body(answered, GAS), headers=headers)
    response = client.get("/api/v1/surveys", headers=headers)
    assert response.status_code == 200
    items = {item["id"]: item for item in response.get_json()}
    assert set(items) == {answered.id, fresh.id}
    assert set(items[fresh.id]) == SUMMARY_FIELDS
    assert (items[answered.id]["my_status"], items[fresh.id]["my_status"]) == (
        "submitted",
        "not_started",
    )
    assert (items[answered.id]["my_submitted"], items[answered.id]["can_start"]) == (1, False)
    assert (items[fresh.id]["my_submitted"], items[fresh.id]["can_start"]) == (0, True)
    assert items[fresh.id]["title"] == "Your heating"


def test_a_survey_taking_several_responses_stays_open_to_me(client, survey_of, resident, bearer):
    survey = survey_of(allow_multiple=True)
    headers = bearer(resident)

    def listed():
        (item,) = client.get("/api/v1/surveys", headers=headers).get_json()
        return item["my_status"], item["my_submitted"], item["can_start"]

    assert listed() == ("not_started", 0, True)
    for answers in (GAS, HEAT_PUMP):
        key = str(uuid.uuid4())
        sent = client.post(url(survey, key, True), json=body(survey, answers), headers=headers)
        assert sent.status_code == 201
    # Submitted twice, and still welcome to answer again.
    assert listed() == ("submitted", 2, True)


def test_a_survey_in_my_language_with_an_etag(client, survey_of, resident, bearer):
    survey = survey_of(grace_minutes=20)
    path = f"/api/v1/surveys/{survey.id}"
    response = client.get(path, headers=bearer(resident, **{"Accept-Language": "en"}))
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == SURVEY_FIELDS
    assert data["version"] == {"id": survey.current_version_id, "number": 1}
    assert (data["collecting"], data["grace_minutes"]) == (True, 20)
    heating = data["definition"]["pages"][0]["questions"][0]
    assert heating["title"] == "How do you heat?"
    # A label without English falls back to the city's language.
    assert [c["label"] for c in heating["choices"]] == ["Gas", "Pompe à chaleur"]
    etag = response.headers["ETag"]
    again = client.get(
        path, headers=bearer(resident, **{"Accept-Language": "en", "If-None-Match": etag})
    )
    assert again.status_code == 304
    french = client.get(path, headers=bearer(resident, **{"Accept-Language": "fr"}))
    assert french.headers["ETag"] != etag
    assert french.get_json()["definition"]["pages"][0]["questions"][0]["title"] == (
        "Comment chauffez-vous ?"
    )


def test_a_draft_resumed_on_another_device_then_submitted_once(
    client, db_session, survey_of, resident, bearer
):
    survey = survey_of()
    phone, tablet = bearer(resident), bearer(resident)
    key = str(uuid.uuid4())
    saved = client.put(url(survey, key), json=body(survey, {"heating": "gas"}), headers=phone)
    assert saved.status_code == 200
    assert set(saved.get_json()) == RESPONSE_FIELDS
    (draft,) = client.get(url(survey), headers=tablet).get_json()
    assert (draft["client_uuid"], draft["status"]) == (key, "draft")
    assert draft["answers"] == {"heating": "gas"}
    first = client.post(url(survey, key, True), json=body(survey, GAS), headers=tablet)
    assert first.status_code == 201
    assert first.get_json()["status"] == "submitted"
    again = client.post(url(survey, key, True), json=body(survey, GAS), headers=phone)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    changed = client.post(url(survey, key, True), json=body(survey, HEAT_PUMP), headers=phone)
    assert_problem(changed, 409, "response-changed")
    assert db_session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 1
    assert db_session.scalar(sa.select(sa.func.count(ResponseAnswer.id))) == 3


def test_upper_case_uuids_are_the_same_response(client, survey_of, resident, bearer):
    survey = survey_of()
    key = str(uuid.uuid4())
    headers = bearer(resident)
    assert client.post(url(survey, key, True), json=body(survey, GAS), headers=headers).status_code
    again = client.post(url(survey, key.upper(), True), json=body(survey, GAS), headers=headers)
    assert again.status_code == 200
    assert again.get_json()["client_uuid"] == key


@pytest.mark.parametrize(
    "key",
    ["not-a-uuid", "0b5c1c9e3f7e4c599a520b0f3c1c6a11", "{0b5c1c9e-3f7e-4c59-9a52-0b0f3c1c6a11}"],
)
def test_only_canonical_uuids_are_taken(client, survey_of, resident, bearer, key):
    survey = survey_of()
    response = client.post(url(survey, key, True), json=body(survey, GAS), headers=bearer(resident))
    problem = assert_problem(response, 422)
    assert "client_uuid" in problem["errors"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"answers": GAS}, "version_id"),
        ({"version_id": "1", "answers": GAS}, "version_id"),
        ({"version_id": 2**40, "answers": GAS}, "version_id"),
        ({"version_id": 1, "answers": []}, "answers"),
        ({"version_id": 1, "answers": GAS, "user_id": 1}, "user_id"),
        ({"version_id": 1, "answers": GAS, "locale": "xx"}, "locale"),
        ({"version_id": 1, "answers": GAS, "started_at": "yesterday"}, "started_at"),
    ],
)
def test_malformed_bodies_are_refused(client, survey_of, resident, bearer, payload, field):
    survey = survey_of()
    key = str(uuid.uuid4())
    response = client.post(url(survey, key, True), json=payload, headers=bearer(resident))
    problem = assert_problem(response, 422)
    assert field in problem["errors"]


def test_answers_are_checked_per_question(client, survey_of, resident, bearer):
    survey = survey_of()
    headers = bearer(resident, **{"Accept-Language": "en"})
    response = client.post(
        url(survey, str(uuid.uuid4()), True),
        json=body(survey, {"heating": "gas", "comfort": 9}),
        headers=headers,
    )
    problem = assert_problem(response, 422)
    assert set(problem["errors"]["answers"]) == {"boiler_age", "comfort"}
    wrong_version = client.post(
        url(survey, str(uuid.uuid4()), True),
        json={"version_id": 999999, "answers": GAS},
        headers=headers,
    )
    assert "version_id" in assert_problem(wrong_version, 422)["errors"]


def test_a_closed_survey_says_so_unless_the_response_was_started_in_time(
    client, db_session, survey_of, moderator, resident, bearer
):
    survey = survey_of(grace_minutes=30)
    headers = bearer(resident)
    started = (utcnow() - timedelta(minutes=5)).isoformat()
    service.close(db_session, moderator, survey)
    db_session.commit()
    late = client.post(
        url(survey, str(uuid.uuid4()), True), json=body(survey, GAS), headers=headers
    )
    problem = assert_problem(late, 409, "survey-closed")
    assert problem["detail"]
    in_grace = client.post(
        url(survey, str(uuid.uuid4()), True),
        json=body(survey, GAS, started_at=started),
        headers=headers,
    )
    assert in_grace.status_code == 201
    shown = client.get(f"/api/v1/surveys/{survey.id}", headers=headers).get_json()
    assert (shown["status"], shown["collecting"]) == ("closed", False)
    assert client.get("/api/v1/surveys", headers=headers).get_json() == []


def test_one_response_per_person(client, survey_of, resident, bearer):
    survey = survey_of()
    headers = bearer(resident)
    first = client.post(
        url(survey, str(uuid.uuid4()), True), json=body(survey, GAS), headers=headers
    )
    assert first.status_code == 201
    second = client.post(
        url(survey, str(uuid.uuid4()), True), json=body(survey, HEAT_PUMP), headers=headers
    )
    assert_problem(second, 409, "already-answered")


def test_withdrawing_my_response(client, db_session, survey_of, resident, bearer):
    survey = survey_of()
    headers = bearer(resident)
    key = str(uuid.uuid4())
    client.post(url(survey, key, True), json=body(survey, GAS), headers=headers)
    assert client.delete(url(survey, key), headers=headers).status_code == 204
    assert client.get(url(survey), headers=headers).get_json() == []
    assert db_session.scalar(sa.select(sa.func.count(ResponseAnswer.id))) == 0
    assert client.delete(url(survey, str(uuid.uuid4())), headers=headers).status_code == 404


def test_anonymous_surveys_keep_no_link_to_me(client, db_session, survey_of, resident, bearer):
    survey = survey_of(anonymous=True)
    headers = bearer(resident)
    key = str(uuid.uuid4())
    assert_problem(
        client.put(url(survey, key), json=body(survey, {}), headers=headers),
        409,
        "anonymous-survey",
    )
    assert (
        client.post(url(survey, key, True), json=body(survey, GAS), headers=headers).status_code
        == 201
    )
    stored = db_session.scalar(sa.select(SurveyResponse))
    assert (stored.user_id, stored.single_owner_id) == (None, None)
    assert client.get(url(survey), headers=headers).get_json() == []
    assert_problem(client.delete(url(survey, key), headers=headers), 409, "anonymous-survey")
    (item,) = client.get("/api/v1/surveys", headers=headers).get_json()
    assert (item["my_status"], item["my_submitted"], item["can_start"]) == ("unknown", None, True)


def test_other_cities_and_other_people_see_nothing(
    client, survey_of, resident, make_user, lyon, vienna, bearer
):
    survey = survey_of(allow_multiple=True)
    key = str(uuid.uuid4())
    client.put(url(survey, key), json=body(survey, {}), headers=bearer(resident))
    stranger = bearer(make_user(vienna))
    assert_problem(client.get(f"/api/v1/surveys/{survey.id}", headers=stranger), 404)
    assert client.get("/api/v1/surveys", headers=stranger).get_json() == []
    neighbour = bearer(make_user(lyon))
    for response in (
        client.put(url(survey, key), json=body(survey, GAS), headers=neighbour),
        client.post(url(survey, key, True), json=body(survey, GAS), headers=neighbour),
        client.delete(url(survey, key), headers=neighbour),
    ):
        assert_problem(response, 404)
    assert client.get(url(survey), headers=neighbour).get_json() == []
