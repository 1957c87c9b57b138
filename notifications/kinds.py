"""What can be told to people: each kind's priority, default channels and templates.

Domains register their kinds here, beside the templates they render with
(``notifications/templates/notifications/<kind>.subject.txt``, ``.txt`` and ``.html``).
"""

import enum
from dataclasses import dataclass

from flask_babel import LazyString

from i18n import _l
from notifications.models import EmailMode


class Priority(enum.IntEnum):
    #: May wait for a person's email digest.
    LOW = 1
    NORMAL = 2
    #: Time-bound (reminders, codes): never held for a digest.
    HIGH = 3


@dataclass(frozen=True)
class Kind:
    name: str
    #: How the kind is named in a person's notification settings.
    label: LazyString
    priority: Priority
    inbox: bool = True
    push: bool = True
    email: EmailMode = EmailMode.IMMEDIATE
    #: Sent because the person asked for it (a code): by email only, whatever the settings.
    mandatory: bool = False
    #: Shown in a person's notification settings.
    listed: bool = True

    @property
    def may_digest(self) -> bool:
        return self.priority == Priority.LOW


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.name in KINDS:
        raise ValueError(f"notification kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    return KINDS[name]


def choosable() -> list[Kind]:
    """Kinds a person may switch channels for, in a stable order."""
    return sorted((k for k in KINDS.values() if k.listed and not k.mandatory), key=lambda k: k.name)


ACCOUNT_VERIFY_EMAIL = register(
    Kind(
        "account.verify_email",
        _l("Email confirmation codes"),
        Priority.HIGH,
        inbox=False,
        push=False,
        mandatory=True,
    )
)
ACCOUNT_RESET_PASSWORD = register(
    Kind(
        "account.reset_password",
        _l("Password reset codes"),
        Priority.HIGH,
        inbox=False,
        push=False,
        mandatory=True,
    )
)
ACCOUNT_EXISTS = register(
    Kind(
        "account.exists",
        _l("Sign-up attempts with my address"),
        Priority.HIGH,
        inbox=False,
        push=False,
        mandatory=True,
    )
)
UPDATE_PUBLISHED = register(
    Kind("update.published", _l("News from my city and the campaigns I follow"), Priority.LOW)
)
SURVEY_OPENED = register(
    Kind("survey.opened", _l("New surveys in the campaigns I follow"), Priority.NORMAL)
)
#: Sent once before a survey closes, to followers who have not submitted a response.
SURVEY_REMINDER = register(
    Kind("survey.reminder", _l("Reminders before a survey closes"), Priority.HIGH)
)
#: The email that gathers low-priority items for people who chose a daily or weekly digest.
DIGEST = register(
    Kind("digest", _l("Email digest"), Priority.NORMAL, inbox=False, push=False, listed=False)
)
#: To the author: their idea or comment hidden, restored, approved or rejected, or their
#: posting in a city paused or resumed; with the moderator's reason.
IDEA_MODERATED = register(
    Kind("idea.moderated", _l("Moderators' decisions on my ideas and comments"), Priority.NORMAL)
)
#: To the author of an idea merged into another.
IDEA_MERGED = register(
    Kind("idea.merged", _l("My ideas merged into similar ones"), Priority.NORMAL)
)
#: To the author and the supporters of an idea, with the city's response in their language.
IDEA_STATUS_CHANGED = register(
    Kind(
        "idea.status_changed",
        _l("The city's answers to ideas I posted or support"),
        Priority.NORMAL,
    )
)
#: To the author of an idea when someone else comments on it.
IDEA_COMMENT = register(Kind("idea.comment", _l("Comments on my ideas"), Priority.LOW))
#: To a resident: a seat, a place on the waitlist, a promotion from it, an invitation or a
#: removal by a moderator (``event`` in the context says which).
WORKSHOP_REGISTRATION = register(
    Kind(
        "workshop.registration",
        _l("My workshop registrations: seats, waitlist and invitations"),
        Priority.HIGH,
    )
)
#: Before a workshop, to its confirmed participants, at the workshop's reminder hours.
WORKSHOP_REMINDER = register(
    Kind("workshop.reminder", _l("Reminders before my workshops"), Priority.HIGH)
)
#: To everyone registered (seat or waitlist) when the time or place changes or it is cancelled.
WORKSHOP_CHANGED = register(
    Kind("workshop.changed", _l("Changes and cancellations of my workshops"), Priority.HIGH)
)
#: To the attendees, when the moderators publish what the workshop led to.
WORKSHOP_SUMMARY = register(
    Kind("workshop.summary", _l("Outcomes of workshops I attended"), Priority.NORMAL)
)
#: To a resident each week: their meters' feedback, with the comparison, savings and tips.
ENERGY_FEEDBACK = register(
    Kind("energy.feedback", _l("My weekly energy feedback"), Priority.NORMAL)
)
#: To a resident who asked for a copy of their data: it is ready in the app, until when.
#: Asked for by the person, so not switched off (as the account.* kinds); no link in it.
PRIVACY_EXPORT_READY = register(
    Kind(
        "privacy.export_ready",
        _l("Copies of my data ready to download"),
        Priority.HIGH,
        push=False,
        mandatory=True,
    )
)
#: To a researcher: the export they requested is ready in the console, or was blocked by the
#: anonymity check. Asked for by them, so not switched off; no link in it (they sign in).
RESEARCH_EXPORT_READY = register(
    Kind(
        "research.export_ready",
        _l("My research exports ready or blocked"),
        Priority.HIGH,
        push=False,
        mandatory=True,
    )
)
