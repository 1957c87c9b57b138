"""Surveys of my city: what is open, one survey's questions, my drafts and responses.

The phone names each response with a UUID it generates (canonical form, any case) and may
send it again, later, or several times at once: the same UUID with the same answers gets the
first answer again (201 the first time, then 200), with other answers 409. Anonymous surveys
keep no draft on the server and their responses cannot be listed or withdrawn by account.
"""

import uuid

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.db import MAX_ID, utcnow
from app.errors import Invalid, NotFound
from app.extensions import db
from client_api.caching import cached_json
from client_api.core import Blueprint, begin_writing, checks_before_writing, signed_in
from i18n import LOCALES, _, current_locale
from i18n.content import pick
from surveys import responses, responses_submit
from surveys.definition import localized
from surveys.models import Survey
from surveys.service import is_collecting

blp = Blueprint("surveys", __name__, description="Surveys of my city and my answers to them.")


# --- schemas --------------------------------------------------------------------------------


class SurveySummaryOut(Schema):
    id = fields.Integer(required=True)
    campaign = fields.String(required=True, metadata={"description": "The campaign's slug."})
    title = fields.String(required=True)
    opens_at = fields.AwareDateTime(required=True, allow_none=True)
    closes_at = fields.AwareDateTime(required=True, allow_none=True)
    anonymous = fields.Boolean(required=True)
    allow_multiple = fields.Boolean(required=True)
    version_id = fields.Integer(required=True, metadata={"description": "The current version."})
    my_status = fields.String(
        required=True,
        validate=validate.OneOf(["not_started", "draft", "submitted", "unknown"]),
        metadata={
            "description": "The status of my latest response: not_started, draft or submitted; "
            "unknown on anonymous surveys, whose responses are not linked to my account."
        },
    )
    my_submitted = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "How many responses I submitted (withdrawn ones aside); null on "
            "anonymous surveys."
        },
    )
    can_start = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether a new response of mine would be taken now: always on "
            "surveys that take several per person, otherwise until I submitted one (always "
            "on anonymous surveys, where only the phone knows)."
        },
    )


class VersionOut(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)


class SurveyOut(Schema):
    id = fields.Integer(required=True)
    campaign = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "published or closed."})
    collecting = fields.Boolean(
        required=True, metadata={"description": "Whether it takes responses now."}
    )
    opens_at = fields.AwareDateTime(required=True, allow_none=True)
    closes_at = fields.AwareDateTime(required=True, allow_none=True)
    grace_minutes = fields.Integer(
        required=True,
        metadata={
            "description": "A response started before closing is still taken this long after."
        },
    )
    anonymous = fields.Boolean(required=True)
    allow_multiple = fields.Boolean(required=True)
    version = fields.Nested(VersionOut, required=True)
    definition = fields.Dict(
        required=True,
        metadata={"description": "Pages and questions, texts in my language (see `locales`)."},
    )


class ResponseIn(Schema):
    version_id = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The version answered (an older one while still collecting)."},
    )
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        required=True,
        metadata={"description": "Question key → value (see the survey's definition)."},
    )
    locale = fields.String(
        load_default=None,
        validate=validate.OneOf(LOCALES),
        metadata={"description": "The language answered in; by default the request's."},
    )


class SubmitIn(ResponseIn):
    started_at = fields.AwareDateTime(
        load_default=None,
        metadata={
            "description": "When I started answering on the phone: a response started before "
            "the survey closed is taken within its grace period."
        },
    )


class ResponseOut(Schema):
    client_uuid = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "draft or submitted."})
    version_id = fields.Integer(required=True)
    locale = fields.String(required=True)
    answers = fields.Dict(required=True)
    started_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    submitted_at = fields.AwareDateTime(required=True, allow_none=True)


# --- helpers --------------------------------------------------------------------------------


def _commit(response=None) -> None:
    """Commit, answering from the response as it stands.

    A commit expires what the session holds, and reloading any of it would open a second
    transaction (on SQLite, a second write lock): the response is taken out of the session
    first (the answer's language was settled at sign-in).
    """
    db.session.flush()
    if response is not None:
        db.session.expunge(response)
    db.session.commit()


def _client_uuid(value: str) -> str:
    """The UUID in canonical form (lower case), or 422."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 36 or str(parsed) != value.lower():
        raise Invalid(errors={"client_uuid": [_("Not a valid UUID.")]})
    return str(parsed)


def _survey(survey_id: int) -> Survey:
    return responses.get_answerable_survey(db.session, g.user, survey_id)


def _summary(found: responses.OpenSurvey) -> dict:
    survey = found.survey
    title, _language = pick(
        survey.current_version.definition.get("title"), current_locale(), g.city.default_locale
    )
    return {
        "id": survey.id,
        "campaign": survey.campaign.slug,
        "title": title,
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "anonymous": survey.anonymous,
        "allow_multiple": survey.allow_multiple,
        "version_id": survey.current_version_id,
        "my_status": found.status,
        "my_submitted": found.submitted,
        "can_start": found.can_start,
    }


def _detail(survey: Survey, collecting: bool) -> dict:
    version = survey.current_version
    return SurveyOut().dump(
        {
            "id": survey.id,
            "campaign": survey.campaign.slug,
            "status": survey.status,
            "collecting": collecting,
            "opens_at": survey.opens_at,
            "closes_at": survey.closes_at,
            "grace_minutes": survey.grace_minutes,
            "anonymous": survey.anonymous,
            "allow_multiple": survey.allow_multiple,
            "version": version,
            "definition": localized(
                version.definition, current_locale(), survey.city.default_locale
            ),
        }
    )


# --- routes ---------------------------------------------------------------------------------


@blp.route("/surveys", endpoint="list_surveys")
class Surveys(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, SurveySummaryOut(many=True))
    def get(self):
        """Surveys of my city open now, with where I stand in each."""
        return [_summary(found) for found in responses.open_surveys(db.session, g.user, utcnow())]


@blp.route("/surveys/<int:survey_id>", endpoint="get_survey")
class SurveyDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, SurveyOut)
    def get(self, survey_id):
        """One survey's current version, in my language, to answer (also offline).

        A closed survey is still shown (``collecting`` false), so a phone can tell its person.
        """
        survey = _survey(survey_id)
        if survey.current_version is None:
            raise NotFound()
        collecting = is_collecting(survey, utcnow())
        key = (
            "survey",
            survey.id,
            survey.current_version_id,
            survey.updated_at.isoformat(),
            survey.status,
            collecting,
        )
        return cached_json(blp, key, lambda: _detail(survey, collecting))


@blp.route("/surveys/<int:survey_id>/responses", endpoint="my_responses")
class MyResponses(MethodView):
    @signed_in
    @blp.response(200, ResponseOut(many=True))
    def get(self, survey_id):
        """My drafts and submitted responses to a survey (always empty on anonymous ones)."""
        return responses.list_mine(db.session, g.user, _survey(survey_id))


@blp.route("/surveys/<int:survey_id>/responses/<client_uuid>", endpoint="my_response")
class MyResponse(MethodView):
    @signed_in
    @blp.arguments(ResponseIn)
    @blp.response(200, ResponseOut)
    def put(self, data, survey_id, client_uuid):
        """Save my unfinished answers, to resume later, also on another device.

        Refused (409) on anonymous surveys, whose drafts stay on the phone, and once the
        response is submitted.
        """
        response = responses_submit.save_draft(
            db.session,
            g.user,
            _survey(survey_id),
            _client_uuid(client_uuid),
            data["version_id"],
            data["answers"],
            data["locale"] or current_locale(),
            utcnow(),
        )
        _commit(response)
        return response

    @signed_in
    @blp.response(204)
    def delete(self, survey_id, client_uuid):
        """Withdraw my response (or discard my draft) while the survey is open.

        Not possible on anonymous surveys (409): their responses are not linked to me.
        """
        responses.withdraw(
            db.session, g.user, _survey(survey_id), _client_uuid(client_uuid), utcnow()
        )
        _commit()


@blp.route("/surveys/<int:survey_id>/responses/<client_uuid>/submit", endpoint="submit_response")
class SubmitResponse(MethodView):
    @checks_before_writing
    @signed_in
    @blp.arguments(SubmitIn)
    @blp.response(201, ResponseOut)
    @blp.alt_response(200, schema=ResponseOut, description="Sent before: the stored response.")
    def post(self, data, survey_id, client_uuid):
        """Submit my response; sending it again with the same answers changes nothing.

        409 ``response-changed``: this UUID was submitted with other answers.
        409 ``survey-closed``: the survey closed (unless started before and within grace).
        409 ``already-answered``: the survey takes one response per person.
        422: answers that break the survey's rules, per question under ``errors.answers``.
        """
        response, created = responses_submit.submit(
            db.session,
            g.user,
            _survey(survey_id),
            _client_uuid(client_uuid),
            data["version_id"],
            data["answers"],
            data["locale"] or current_locale(),
            utcnow(),
            started_at=data["started_at"],
            before_writing=begin_writing,
        )
        _commit(response)
        return response, 201 if created else 200
