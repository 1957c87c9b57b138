"""What a resident reads of workshops: the upcoming ones of their city, their own, the counts
shown beside each, and the versions that say when any of that changed (for ETags).

Residents see a workshop of their own city that is published, cancelled or completed, on a
published campaign (``app.policy.SHOWN_WORKSHOP``), whatever roles they also hold: staff
preview drafts in the console, not in the app. Other people's registrations only ever show
as counts.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.db import MAX_ID
from app.models import User
from app.policy import SHOWN_WORKSHOP, can
from campaigns.models import Campaign, CampaignFollow, CampaignStatus
from ideas.service import visible_to
from surveys.models import Survey
from workshops.console_queries import outcomes_of, survey_titles
from workshops.models import (
    CalendarFeed,
    Outcome,
    Registration,
    RegistrationStatus,
    Workshop,
    WorkshopStatus,
)

#: The upcoming list: cancelled ones stay until their time passes, so people learn of it.
LISTED = (WorkshopStatus.PUBLISHED, WorkshopStatus.CANCELLED)
#: A person's registrations as shown to them; one they cancelled is as if never made.
SHOWN_REGISTRATIONS = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.INVITED,
    RegistrationStatus.REMOVED,
)


def _visible(user: User) -> tuple:
    return (
        Workshop.city_id == user.city_id,
        Workshop.status.in_(SHOWN_WORKSHOP),
        Campaign.status == CampaignStatus.PUBLISHED,
    )


def shown_to_resident(workshop: Workshop, user: User) -> bool:
    """Whether the person sees the workshop in the app (see the module's docstring)."""
    return (
        workshop.city_id == user.city_id
        and workshop.status in SHOWN_WORKSHOP
        and workshop.campaign.status == CampaignStatus.PUBLISHED
    )


#: Built once: every resident's request about one workshop starts with it.
_ONE_WORKSHOP = (
    sa.select(Workshop)
    .options(joinedload(Workshop.campaign).lazyload(Campaign.phases))
    .where(Workshop.id == sa.bindparam("workshop_id"))
)


def resident_workshop(session: Session, user: User, workshop_id: int) -> Workshop | None:
    """The workshop if the person sees it in the app, with its campaign (whose status the
    checks read) but not the campaign's phases, which nothing shown to residents uses."""
    if not 0 < workshop_id <= MAX_ID:
        return None
    workshop = session.scalar(_ONE_WORKSHOP, {"workshop_id": workshop_id})
    return workshop if workshop is not None and shown_to_resident(workshop, user) else None


def shown_registration(registration: Registration | None) -> Registration | None:
    """The registration as the person sees it: a cancelled one is none."""
    if registration is None or registration.status not in SHOWN_REGISTRATIONS:
        return None
    return registration


# --- upcoming workshops ---------------------------------------------------------------------


def followed_campaign_ids(session: Session, user: User) -> list[int]:
    """The campaigns the person follows, in id order (few per person)."""
    return list(
        session.scalars(
            sa.select(CampaignFollow.campaign_id)
            .where(CampaignFollow.user_id == user.id)
            .order_by(CampaignFollow.campaign_id)
        )
    )


def _upcoming_filters(
    user: User, campaign_id: int | None, followed: list[int] | None, now: datetime
) -> list:
    filters = [
        Workshop.city_id == user.city_id,
        Workshop.status.in_(LISTED),
        Workshop.ends_at > now,
        Campaign.status == CampaignStatus.PUBLISHED,
    ]
    if campaign_id is not None:
        filters.append(Workshop.campaign_id == campaign_id)
    if followed is not None:
        filters.append(Workshop.campaign_id.in_(followed))
    return filters


def upcoming(
    user: User, now: datetime, campaign_id: int | None = None, followed: list[int] | None = None
) -> sa.Select:
    """Query for the workshops of the person's city not over yet (to page soonest first);
    ``followed``: only those of these campaigns."""
    return (
        sa.select(Workshop)
        .join(Campaign, Campaign.id == Workshop.campaign_id)
        .options(contains_eager(Workshop.campaign))
        .where(*_upcoming_filters(user, campaign_id, followed, now))
    )


def _next(column, now: datetime):
    """The earliest moment of ``column`` still to come (NULL when none is)."""
    return sa.func.min(sa.case((column > now, column), else_=None))


def upcoming_version(
    session: Session,
    user: User,
    now: datetime,
    campaign_id: int | None = None,
    followed: list[int] | None = None,
) -> tuple[str, ...]:
    """What the list depends on; it changes whenever the list would.

    Workshops added, edited or leaving change a count or a latest change; a registration
    anywhere on the list changes the seats, waitlists or the person's own status; and the next
    moment a registration opens or closes, or a workshop starts or ends, is part of it, since
    ``registration_open`` and the list itself turn then. The followed campaigns belong in the
    caller's key.
    """
    filters = _upcoming_filters(user, campaign_id, followed, now)
    listed = sa.select(Workshop.id).join(Campaign, Campaign.id == Workshop.campaign_id)
    workshops = session.execute(
        sa.select(
            sa.func.count(Workshop.id),
            sa.func.max(Workshop.updated_at),
            _next(Workshop.registration_opens_at, now),
            _next(Workshop.registration_closes_at, now),
            _next(Workshop.starts_at, now),
            sa.func.min(Workshop.ends_at),
        )
        .join(Campaign, Campaign.id == Workshop.campaign_id)
        .where(*filters)
    ).one()
    registrations = session.execute(
        sa.select(sa.func.count(Registration.id), sa.func.max(Registration.updated_at)).where(
            Registration.workshop_id.in_(listed.where(*filters))
        )
    ).one()
    return tuple(str(value) for value in (*workshops, *registrations))


# --- counts and the person's own registrations ----------------------------------------------


def waitlist_lengths(session: Session, workshop_ids: list[int]) -> dict[int, int]:
    """How many people wait for a seat at each workshop."""
    if not workshop_ids:
        return {}
    rows = session.execute(
        sa.select(Registration.workshop_id, sa.func.count(Registration.id))
        .where(
            Registration.workshop_id.in_(workshop_ids),
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .group_by(Registration.workshop_id)
    )
    found = {workshop_id: count for workshop_id, count in rows}
    return {workshop_id: found.get(workshop_id, 0) for workshop_id in workshop_ids}


def my_registrations(
    session: Session, user: User, workshop_ids: list[int]
) -> dict[int, Registration]:
    """The person's registrations shown to them among these workshops, by workshop id."""
    if not workshop_ids:
        return {}
    rows = session.scalars(
        sa.select(Registration).where(
            Registration.user_id == user.id,
            Registration.workshop_id.in_(workshop_ids),
            Registration.status.in_(SHOWN_REGISTRATIONS),
        )
    )
    return {registration.workshop_id: registration for registration in rows}


def seats_left(workshop: Workshop) -> int:
    return max(0, workshop.capacity - workshop.confirmed_count)


# --- one workshop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownOutcome:
    outcome: Outcome
    #: The idea's title, or the survey's translated title.
    title: str | dict


def published_outcomes(session: Session, user: User, workshop: Workshop) -> list[ShownOutcome]:
    """What the workshop led to, once its summary is out: the ideas and surveys the person
    may open (an idea hidden since, or a survey not open to them, is left out)."""
    if workshop.summary_published_at is None:
        return []
    rows = outcomes_of(session, workshop)
    surveys = [row.survey for row in rows if row.survey is not None]
    titles = survey_titles(session, [s for s in surveys if _may_open_survey(user, s)])
    shown = []
    for row in rows:
        if row.idea is not None and _may_open_idea(user, row.idea):
            shown.append(ShownOutcome(row.outcome, row.idea.title))
        elif row.survey is not None and row.survey.id in titles:
            shown.append(ShownOutcome(row.outcome, titles[row.survey.id]))
    return shown


def _may_open_idea(user: User, idea) -> bool:
    # As ideas.service.get_idea decides for GET /ideas/{id}.
    return (
        idea.city_id == user.city_id
        and can(user, "board.read", idea.board)
        and visible_to(idea, user)
    )


def _may_open_survey(user: User, survey: Survey) -> bool:
    return can(user, "survey.answer", survey)


def follow_up_survey(session: Session, user: User, workshop: Workshop) -> int | None:
    """The follow-up survey's id once the summary is out, if the person may answer it."""
    if workshop.summary_published_at is None or workshop.follow_up_survey_id is None:
        return None
    survey = session.get(Survey, workshop.follow_up_survey_id)
    return survey.id if survey is not None and _may_open_survey(user, survey) else None


# --- my workshops ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MyPage:
    registrations: list[Registration]
    #: ("upcoming" or "past", starts_at, workshop id) of the last row when more follow.
    next_after: tuple[str, datetime, int] | None


def _mine(user: User) -> sa.Select:
    return (
        sa.select(Registration)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .join(Campaign, Campaign.id == Workshop.campaign_id)
        .options(contains_eager(Registration.workshop).contains_eager(Workshop.campaign))
        .where(
            Registration.user_id == user.id,
            Registration.status.in_(SHOWN_REGISTRATIONS),
            *_visible(user),
        )
    )


def my_workshops(
    session: Session,
    user: User,
    now: datetime,
    after: tuple[str, datetime, int] | None,
    limit: int,
) -> MyPage:
    """A page of the person's registrations: workshops not over yet soonest first, then those
    over, latest first. ``after`` is the previous page's ``next_after``."""
    key = (Workshop.starts_at, Workshop.id)
    rows: list[tuple[str, Registration]] = []
    if after is None or after[0] == "upcoming":
        query = _mine(user).where(Workshop.ends_at > now)
        if after is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(after[1], after[2]))
        found = session.scalars(query.order_by(*key).limit(limit + 1))
        rows = [("upcoming", registration) for registration in found]
        after = None
    if len(rows) <= limit:
        query = _mine(user).where(Workshop.ends_at <= now)
        if after is not None:
            query = query.where(sa.tuple_(*key) < sa.tuple_(after[1], after[2]))
        found = session.scalars(
            query.order_by(*(column.desc() for column in key)).limit(limit + 1 - len(rows))
        )
        rows += [("past", registration) for registration in found]
    if len(rows) <= limit:
        return MyPage([registration for _part, registration in rows], None)
    rows = rows[:limit]
    part, last = rows[-1]
    return MyPage(
        [registration for _part, registration in rows],
        (part, last.workshop.starts_at, last.workshop_id),
    )


def calendar_feed_of(session: Session, user: User) -> CalendarFeed | None:
    return session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))


#: Built once: every registration to the waitlist counts who is ahead.
_AHEAD = sa.select(sa.func.count(Registration.id)).where(
    Registration.workshop_id == sa.bindparam("workshop_id"),
    Registration.status == RegistrationStatus.WAITLISTED,
    Registration.queue_number < sa.bindparam("queue_number"),
)


def waitlist_position(session: Session, registration: Registration) -> int | None:
    """1 for the first on the waitlist; None when the person is not waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED or registration.queue_number is None:
        return None
    ahead = session.scalar(
        _AHEAD,
        {"workshop_id": registration.workshop_id, "queue_number": registration.queue_number},
    )
    return (ahead or 0) + 1
