"""Workshops as residents' phones send and receive them: separate input and output schemas.

Outputs carry only what a resident may see: other people's registrations never, answers only
one's own, the online link only to confirmed participants (``client_api.workshop_output``
decides what goes in; these schemas say what may).
"""

from marshmallow import Schema, fields, validate

from app.db import MAX_ID
from workshops.models import RegistrationStatus, WorkshopStatus
from workshops.registrations import MAX_ANSWER

HTML = "Sanitised HTML: p, br, strong, em, ul, ol, li and links (http, https)."
TIME = "ISO 8601 with the offset of the city's time zone."
#: Bounds on question codes and answers; within them, workshops/registrations.py checks the
#: answers against the workshop's questions (room is left for white space it strips).
ANSWER_KEY_LENGTH = 64
ANSWER_LENGTH = MAX_ANSWER + 100
MAX_ANSWERS = 50


def _one_of(values) -> validate.OneOf:
    return validate.OneOf([str(value) for value in values])


# --- in -------------------------------------------------------------------------------------


class WorkshopListArgs(Schema):
    """Filters of the upcoming workshops (the page arguments are added by the API)."""

    campaign = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Only the workshops of this campaign (its id)."},
    )
    following = fields.Boolean(
        load_default=False, metadata={"description": "Only workshops of campaigns I follow."}
    )


class RegistrationIn(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=ANSWER_KEY_LENGTH)),
        values=fields.String(allow_none=True, validate=validate.Length(max=ANSWER_LENGTH)),
        load_default=None,
        validate=validate.Length(max=MAX_ANSWERS),
        metadata={
            "description": "Question code → written answer or choice code. Seen by the "
            "organisers only. Omitted: answers given before stay."
        },
    )


# --- out ------------------------------------------------------------------------------------


class PlaceOut(Schema):
    address = fields.String(
        required=True, allow_none=True, metadata={"description": "null: held only online."}
    )
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    accessibility = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Access, hearing loop, childcare…, in my language; plain text."},
    )


class ChoiceOut(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "In my language."})


class QuestionOut(Schema):
    code = fields.String(required=True, metadata={"description": "The key of its answer."})
    label = fields.String(required=True, metadata={"description": "In my language."})
    required = fields.Boolean(required=True)
    choices = fields.List(
        fields.Nested(ChoiceOut),
        required=True,
        allow_none=True,
        metadata={"description": "null: a written answer; else one of these codes."},
    )


class RegistrationOut(Schema):
    workshop_id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=_one_of(s for s in RegistrationStatus if s != RegistrationStatus.CANCELLED),
        metadata={
            "description": "confirmed: a seat; waitlisted: waiting for one; invited by the "
            "organisers (register to accept); removed by them (see removed_reason)."
        },
    )
    waitlist_position = fields.Integer(
        required=True, allow_none=True, metadata={"description": "1 = next; null unless waiting."}
    )
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Mine."},
    )
    checked_in = fields.Boolean(required=True)
    registered_at = fields.AwareDateTime(required=True)
    removed_reason = fields.String(
        required=True, allow_none=True, metadata={"description": "Why the organisers removed me."}
    )


class WorkshopSummaryOut(Schema):
    id = fields.Integer(required=True)
    campaign_id = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "In my language; plain text."})
    description = fields.String(required=True, metadata={"description": HTML})
    language = fields.String(
        required=True, allow_none=True, metadata={"description": "Language the texts are in."}
    )
    starts_at = fields.AwareDateTime(required=True, metadata={"description": TIME})
    ends_at = fields.AwareDateTime(required=True, metadata={"description": TIME})
    place = fields.Nested(PlaceOut, required=True)
    online = fields.Boolean(required=True, metadata={"description": "Held (also) online."})
    capacity = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)
    waitlist_length = fields.Integer(required=True)
    registration_open = fields.Boolean(
        required=True, metadata={"description": "Whether registering is possible now."}
    )
    status = fields.String(
        required=True,
        validate=_one_of(s for s in WorkshopStatus if s != WorkshopStatus.DRAFT),
    )
    my_status = fields.String(
        required=True,
        allow_none=True,
        validate=_one_of(s for s in RegistrationStatus if s != RegistrationStatus.CANCELLED),
        metadata={"description": "null: not registered (or cancelled)."},
    )


class OutcomeOut(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["idea", "survey"]))
    idea_id = fields.Integer(required=True, allow_none=True)
    survey_id = fields.Integer(required=True, allow_none=True)
    title = fields.String(required=True, metadata={"description": "The idea's or survey's."})
    note = fields.String(
        required=True, metadata={"description": "How the workshop led to it; plain text."}
    )


class WorkshopOut(WorkshopSummaryOut):
    agenda = fields.String(required=True, metadata={"description": HTML})
    registration_opens_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "null: since publication."}
    )
    registration_closes_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "null: when it starts."}
    )
    questions = fields.List(fields.Nested(QuestionOut), required=True)
    registration = fields.Nested(
        RegistrationOut, required=True, allow_none=True, metadata={"description": "Mine."}
    )
    online_url = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Where to join online; only to confirmed participants."},
    )
    summary = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": f"What came out of it, once published. {HTML}"},
    )
    outcomes = fields.List(
        fields.Nested(OutcomeOut),
        required=True,
        metadata={"description": "Ideas and surveys it led to, once the summary is out."},
    )
    follow_up_survey_id = fields.Integer(required=True, allow_none=True)


class MyWorkshopOut(Schema):
    registration = fields.Nested(RegistrationOut, required=True)
    workshop = fields.Nested(WorkshopSummaryOut, required=True)


class CheckInCodeOut(Schema):
    code = fields.String(
        required=True,
        metadata={"description": "To type at the door.", "example": "K7QM-2XPD"},
    )
    payload = fields.String(required=True, metadata={"description": "What the QR code holds."})
    svg = fields.String(required=True, metadata={"description": "The QR code as an SVG image."})


class CalendarFeedOut(Schema):
    active = fields.Boolean(required=True, metadata={"description": "Whether I have a feed URL."})
    created_at = fields.AwareDateTime(required=True, allow_none=True)


class CalendarFeedUrlOut(Schema):
    url = fields.String(
        required=True,
        metadata={"description": "Private: anyone with it reads my workshops. Shown once."},
    )
