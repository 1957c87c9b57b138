"""The access policy: may this person do this to this object? Used by API and console alike."""

import logging
from collections.abc import Callable
from typing import Any

from app.errors import NotAllowed, NotFound
from app.models import City, Role, User
from campaigns.models import Campaign, CampaignStatus
from ideas.models import Board, BoardStatus
from surveys.models import Survey, SurveyStatus
from updates.models import Update, UpdateStatus
from workshops.models import Workshop, WorkshopStatus

log = logging.getLogger("livinglab.policy")

CONSOLE_ROLES = frozenset(Role)
EDITORS = frozenset({Role.MODERATOR, Role.ADMIN})
#: Who writes and publishes a city's updates.
PUBLISHERS = frozenset({Role.STAFF, Role.ADMIN})


def _roles(user: User | None, city_id: int) -> set[Role]:
    if user is None:
        return set()
    if user.is_platform_admin:
        return set(Role)
    return user.roles_in(city_id)


def _city_id(target: Any) -> int:
    return target.id if isinstance(target, City) else target.city_id


def _any_role(roles: frozenset[Role]) -> Callable[[User | None, Any], bool]:
    return lambda user, target: bool(_roles(user, _city_id(target)) & roles)


def _platform_admin(user: User | None, _target: Any) -> bool:
    return user is not None and user.is_platform_admin


def _switch_account(user: User | None, person: User) -> bool:
    """Disable or enable an account: admins of its home city, never one's own, and a platform
    admin's only by another platform admin."""
    if user is None or user.id == person.id:
        return False
    if person.is_platform_admin and not user.is_platform_admin:
        return False
    return Role.ADMIN in _roles(user, person.city_id)


def _read_campaign(user: User | None, campaign: Campaign) -> bool:
    if _roles(user, campaign.city_id):
        return True
    return (
        user is not None
        and campaign.status == CampaignStatus.PUBLISHED
        and user.city_id == campaign.city_id
    )


def _read_update(user: User | None, update: Update) -> bool:
    """Residents read their own city's published updates; a campaign's only while it is live.

    Staff preview drafts in the console (``update.manage``), not through the app.
    """
    return (
        user is not None
        and user.city_id == update.city_id
        and update.status == UpdateStatus.PUBLISHED
        and (update.campaign is None or update.campaign.status == CampaignStatus.PUBLISHED)
    )


def _answer_survey(user: User | None, survey: Survey) -> bool:
    """Residents of the survey's city, on a published or closed survey of a live campaign.

    Whether it still collects (opening and closing times, grace after closing) depends on the
    moment and on when the response was started: surveys/responses*.py decide that.
    """
    return (
        user is not None
        and user.city_id == survey.city_id
        and survey.status in (SurveyStatus.PUBLISHED, SurveyStatus.CLOSED)
        and survey.campaign.status == CampaignStatus.PUBLISHED
    )


def _read_survey(user: User | None, survey: Survey) -> bool:
    return bool(_roles(user, survey.city_id) & EDITORS) or _answer_survey(user, survey)


def _read_board(user: User | None, board: Board) -> bool:
    """Residents of the city on a published board of a live campaign; its editors always.

    What a resident may do on it (post, support) depends on the phase: ideas/ decides that.
    """
    # The resident's case first: it needs no look-up of role grants.
    if (
        user is not None
        and user.city_id == board.city_id
        and board.status == BoardStatus.PUBLISHED
        and board.campaign.status == CampaignStatus.PUBLISHED
    ):
        return True
    return bool(_roles(user, board.city_id) & EDITORS)


#: What residents see of a workshop: cancelled and completed ones stay visible to those who
#: planned to come (and to whoever follows the campaign's outcomes).
SHOWN_WORKSHOP = (WorkshopStatus.PUBLISHED, WorkshopStatus.CANCELLED, WorkshopStatus.COMPLETED)


def _read_workshop(user: User | None, workshop: Workshop) -> bool:
    """Residents of the city on a shown workshop of a live campaign; its editors always."""
    if (
        user is not None
        and user.city_id == workshop.city_id
        and workshop.status in SHOWN_WORKSHOP
        and workshop.campaign.status == CampaignStatus.PUBLISHED
    ):
        return True
    return bool(_roles(user, workshop.city_id) & EDITORS)


def _register_workshop(user: User | None, workshop: Workshop) -> bool:
    """Residents of the city, on a published workshop of a live campaign.

    Whether registration is open (its window, the start) depends on the moment:
    workshops/registrations.py decides that.
    """
    return (
        user is not None
        and user.city_id == workshop.city_id
        and workshop.status == WorkshopStatus.PUBLISHED
        and workshop.campaign.status == CampaignStatus.PUBLISHED
    )


def _research(user: User | None, city: City) -> bool:
    """Researchers of the city by grant: a platform admin's blanket roles do not reach personal
    data asked for research."""
    return user is not None and Role.RESEARCHER in user.roles_in(city.id)


def _use_energy(user: User | None, city: City) -> bool:
    """Anyone signed in, on their own home city: a person's meters are theirs alone."""
    return user is not None and user.city_id == city.id


#: action → rule(user, target). A target is the object acted on, or the city for listings/creates.
RULES: dict[str, Callable[[User | None, Any], bool]] = {
    "city.manage": _platform_admin,
    "console.enter": _any_role(CONSOLE_ROLES),
    "people.manage": _any_role(frozenset({Role.ADMIN})),
    "account.switch": _switch_account,
    "campaign.read": _read_campaign,
    "campaign.list_all": _any_role(CONSOLE_ROLES),
    "campaign.create": _any_role(EDITORS),
    "campaign.edit": _any_role(EDITORS),
    "survey.read": _read_survey,
    "survey.manage": _any_role(EDITORS),
    "survey.answer": _answer_survey,
    "board.read": _read_board,
    "board.manage": _any_role(EDITORS),
    "idea.moderate": _any_role(EDITORS),
    # The city's official answer to an idea.
    "idea.answer": _any_role(frozenset({Role.MODERATOR, Role.STAFF, Role.ADMIN})),
    "audit.read": _any_role(frozenset({Role.ADMIN})),
    # The retention periods and the reports of retention runs (deployment-wide counts).
    "retention.read": _any_role(frozenset({Role.ADMIN})),
    "workshop.read": _read_workshop,
    # Set up, run and record workshops; see participants' answers and attendance.
    "workshop.manage": _any_role(EDITORS),
    "workshop.register": _register_workshop,
    "update.read": _read_update,
    "update.manage": _any_role(PUBLISHERS),
    # The outbox of a city: delivery counts and dead letters, which staff may send again.
    "notifications.manage": _any_role(frozenset({Role.STAFF, Role.ADMIN})),
    # Publish a new version of a consent text (everyone is asked again).
    "consent.manage": _any_role(frozenset({Role.ADMIN})),
    "energy.use": _use_energy,
    # A city's saved CSV formats of its meter portals (column mappings residents pick).
    "energy.presets": _any_role(frozenset({Role.STAFF, Role.ADMIN})),
    # A city's tariffs and daily temperatures, which feedback reads.
    "energy.settings": _any_role(frozenset({Role.STAFF, Role.ADMIN})),
    # Totals of participating households per district, in aggregate only.
    "energy.district": _any_role(frozenset({Role.STAFF, Role.ADMIN})),
    # Ask for anonymised research exports, and download one's own.
    "research.export": _research,
    # Read research requests and their reports (a researcher their own; see research.oversee).
    "research.read": _any_role(frozenset({Role.RESEARCHER, Role.ADMIN})),
    # Everyone's research requests, with who asked: the city's administrators, who download none.
    "research.oversee": _any_role(frozenset({Role.ADMIN})),
    # A city's research projects, whose exports share pseudonyms.
    "research.projects": _any_role(frozenset({Role.RESEARCHER, Role.ADMIN})),
}

#: What an actor needs to even know a target exists; without it, a refusal reads as "not found".
VISIBILITY = {
    Board: "board.read",
    Campaign: "campaign.read",
    City: "console.enter",
    Survey: "survey.read",
    Update: "update.read",
    Workshop: "workshop.read",
}


def can(user: User | None, action: str, target: Any = None) -> bool:
    """True when ``user`` may do ``action`` to ``target``."""
    return RULES[action](user, target)


def ensure(user: User | None, action: str, target: Any = None) -> None:
    """Raise unless allowed: NotFound when the target is not even visible, else NotAllowed."""
    if can(user, action, target):
        return
    log.warning(
        "access denied",
        extra={"action": action, "user_id": user.id if user else None, "target": repr(target)},
    )
    visibility = VISIBILITY.get(type(target))
    if visibility and visibility != action and not can(user, visibility, target):
        raise NotFound()
    if visibility == action:
        raise NotFound()
    raise NotAllowed()


def cities_for_console(user: User, cities: list[City]) -> list[City]:
    return [city for city in cities if can(user, "console.enter", city)]
