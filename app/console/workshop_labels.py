"""Translated names the workshop pages of the console show: states, texts, tabs, fields."""

from i18n import _l, _lp
from workshops.models import RegistrationStatus, WorkshopStatus

STATUS_NAMES = {
    WorkshopStatus.DRAFT: _lp("workshop", "Draft"),
    WorkshopStatus.PUBLISHED: _lp("workshop", "Published"),
    # TRANSLATORS: a workshop that will not take place.
    WorkshopStatus.CANCELLED: _lp("workshop", "Cancelled"),
    # TRANSLATORS: a workshop that took place and is over.
    WorkshopStatus.COMPLETED: _lp("workshop", "Completed"),
}
REGISTRATION_NAMES = {
    # TRANSLATORS: a participant of a workshop who has a seat.
    RegistrationStatus.CONFIRMED: _lp("participant", "Confirmed"),
    RegistrationStatus.WAITLISTED: _l("On the waitlist"),
    # TRANSLATORS: a person a moderator invited to a workshop.
    RegistrationStatus.INVITED: _lp("participant", "Invited"),
    # TRANSLATORS: a workshop registration the participant cancelled.
    RegistrationStatus.CANCELLED: _lp("registration", "Cancelled"),
    # TRANSLATORS: a participant a moderator took off a workshop.
    RegistrationStatus.REMOVED: _lp("participant", "Removed"),
}
#: The sections of the participants page, in order: who comes, who waits, who was asked, who not.
PARTICIPANT_SECTIONS = {
    # TRANSLATORS: heading above the people who have a seat.
    "confirmed": _lp("people", "Confirmed"),
    "waitlisted": _l("Waitlist"),
    # TRANSLATORS: heading above the people a moderator invited.
    "invited": _lp("people", "Invited"),
    "gone": _l("Cancelled or removed"),
}
#: The tabs of the workshop list.
WHEN_NAMES = {"upcoming": _l("Upcoming"), "past": _l("Past")}
#: Fields of a workshop written in every language of its city.
TEXT_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "agenda": _l("Agenda"),
    "accessibility": _l("Accessibility"),
}
SUMMARY_LABELS = {"summary": _l("Summary")}
NOTE_LABELS = {"note": _l("How the workshop led to it")}
#: Kinds of outcome a workshop links to.
OUTCOME_KINDS = {"idea": _l("Idea"), "survey": _l("Survey")}
