"""What the console reads of a city's workshops: the list with how full each is, one workshop's
participants and waitlist, the residents a moderator may invite, the people at the door, and
the ideas and surveys a workshop's outcomes may link to.

Every query is scoped by the city, and who may read is checked here (``workshop.manage`` on
the city), so a page and its queries agree; an id of another city's workshop or registration
is not found. Changes go through the domain's services, never through here.
"""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from app.db import MAX_ID
from app.errors import NotFound
from app.models import City, User
from app.policy import ensure
from ideas.models import Board, Idea, IdeaState
from surveys.models import Survey, SurveyVersion
from workshops.models import Outcome, Registration, RegistrationStatus, Workshop

#: The tabs of the list: workshops not yet over, soonest first; those over, latest first.
WHEN = ("upcoming", "past")
#: Residents offered when inviting, and ideas offered when linking an outcome.
MAX_FOUND = 20
#: What a moderator types to find a person or an idea; longer is a slip or a probe.
MAX_SEARCH = 200
#: The QR code residents show: ``LLW1:<workshop id>:<code>`` (see the API's check-in code).
QR_PAYLOAD = re.compile(r"^LLW1:(\d{1,10}):([A-Za-z0-9 -]{1,40})$", re.IGNORECASE)


def _in_range(item_id: int) -> bool:
    # Larger ids cannot exist, and PostgreSQL refuses to compare them with an integer column.
    return 0 < item_id <= MAX_ID


def _matches(search: str, *columns) -> sa.ColumnElement[bool]:
    return sa.or_(*(column.icontains(search, autoescape=True) for column in columns))


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopRow:
    workshop: Workshop
    #: People on the waitlist, and people checked in (for workshops that took place).
    waiting: int
    checked_in: int

    @property
    def fill(self) -> int:
        """Seats taken, in percent of the capacity (for the bar)."""
        return min(100, round(100 * self.workshop.confirmed_count / self.workshop.capacity))


def city_workshops(actor: User, city: City, when: str, now: datetime) -> sa.Select:
    """Query for the city's workshops not yet over ("upcoming", soonest first) or over
    ("past", latest first), drafts and cancelled ones included."""
    ensure(actor, "workshop.manage", city)
    query = sa.select(Workshop).where(Workshop.city_id == city.id)
    query = query.options(selectinload(Workshop.campaign))
    if when == "upcoming":
        return query.where(Workshop.ends_at >= now).order_by(Workshop.starts_at, Workshop.id)
    return query.where(Workshop.ends_at < now).order_by(
        Workshop.starts_at.desc(), Workshop.id.desc()
    )


def with_counts(session: Session, workshops: list[Workshop]) -> list[WorkshopRow]:
    """The workshops with their waitlist and attendance counted (one query for a page)."""
    ids = [w.id for w in workshops]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        waiting = sa.case((Registration.status == RegistrationStatus.WAITLISTED, 1), else_=0)
        present = sa.case((Registration.checked_in_at.is_not(None), 1), else_=0)
        rows = session.execute(
            sa.select(Registration.workshop_id, sa.func.sum(waiting), sa.func.sum(present))
            .where(Registration.workshop_id.in_(ids))
            .group_by(Registration.workshop_id)
        )
        counts = {wid: (int(w or 0), int(p or 0)) for wid, w, p in rows}
    return [WorkshopRow(w, *counts.get(w.id, (0, 0))) for w in workshops]


def when_counts(session: Session, city: City, now: datetime) -> Counter:
    """How many of the city's workshops each tab lists."""
    tab = sa.case((Workshop.ends_at >= now, "upcoming"), else_="past")
    rows = session.execute(
        sa.select(tab, sa.func.count()).where(Workshop.city_id == city.id).group_by(tab)
    )
    return Counter(dict(rows.all()))


def workshop_of_city(session: Session, actor: User, city: City, workshop_id: int) -> Workshop:
    """A workshop of the city, in any state; another city's workshop, or none, is not found."""
    ensure(actor, "workshop.manage", city)
    workshop = session.get(Workshop, workshop_id) if _in_range(workshop_id) else None
    if workshop is None or workshop.city_id != city.id:
        raise NotFound()
    return workshop


# --- participants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Participants:
    """A workshop's registrations by what they hold; the waitlist in queue order."""

    confirmed: list[Registration]
    waitlisted: list[Registration]
    invited: list[Registration]
    gone: list[Registration]

    def sections(self) -> dict[str, list[Registration]]:
        return {
            "confirmed": self.confirmed,
            "waitlisted": self.waitlisted,
            "invited": self.invited,
            "gone": self.gone,
        }

    @property
    def checked_in(self) -> int:
        return sum(1 for r in self.confirmed + self.waitlisted if r.checked_in_at is not None)


def _registrations(workshop: Workshop) -> sa.Select:
    return (
        sa.select(Registration)
        .where(Registration.workshop_id == workshop.id, Registration.city_id == workshop.city_id)
        .options(selectinload(Registration.user))
    )


def participants(session: Session, workshop: Workshop) -> Participants:
    """Everyone registered, invited, cancelled or removed, each group in its natural order."""
    rows = session.scalars(
        _registrations(workshop).order_by(
            Registration.queue_number.is_(None), Registration.queue_number, Registration.id
        )
    ).all()
    by_status: dict[str, list[Registration]] = {s: [] for s in RegistrationStatus}
    for row in rows:
        by_status[row.status].append(row)
    gone = by_status[RegistrationStatus.CANCELLED] + by_status[RegistrationStatus.REMOVED]
    gone.sort(key=lambda r: (r.cancelled_at or r.updated_at, r.id), reverse=True)
    return Participants(
        confirmed=by_status[RegistrationStatus.CONFIRMED],
        waitlisted=by_status[RegistrationStatus.WAITLISTED],
        invited=by_status[RegistrationStatus.INVITED],
        gone=gone,
    )


def registration_of(session: Session, workshop: Workshop, registration_id: int) -> Registration:
    """A registration of this workshop; one of another workshop, or none, is not found."""
    row = session.get(Registration, registration_id) if _in_range(registration_id) else None
    if row is None or row.workshop_id != workshop.id or row.city_id != workshop.city_id:
        raise NotFound()
    return row


def residents_to_invite(session: Session, workshop: Workshop, search: str) -> list[User]:
    """Residents of the workshop's city whose name or email contains ``search``, not holding
    a seat, a place on the waitlist or an invitation already (those removed may be asked
    again). People with a role in the city are residents too and are found as well."""
    if not search:
        return []
    holding = sa.select(Registration.user_id).where(
        Registration.workshop_id == workshop.id,
        Registration.status.in_(
            (
                RegistrationStatus.CONFIRMED,
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.INVITED,
            )
        ),
    )
    query = (
        sa.select(User)
        .where(
            User.city_id == workshop.city_id,
            User.disabled_at.is_(None),
            User.id.not_in(holding),
            _matches(search, User.display_name, User.email),
        )
        .order_by(User.display_name, User.email, User.id)
        .limit(MAX_FOUND)
    )
    return list(session.scalars(query))


def resident_of_city(session: Session, city: City, user_id: int) -> User:
    """An account of the city that is not disabled; anyone else is not found."""
    person = session.get(User, user_id) if _in_range(user_id) else None
    if person is None or person.city_id != city.id or person.disabled_at is not None:
        raise NotFound()
    return person


# --- check-in -------------------------------------------------------------------------------


def at_the_door(session: Session, workshop: Workshop, search: str = "") -> list[Registration]:
    """The people who may be checked in (seats first, then the waitlist), by name, maybe only
    those whose name or email contains ``search``."""
    query = _registrations(workshop).where(
        Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED))
    )
    if search:
        query = query.join(User, User.id == Registration.user_id).where(
            _matches(search, User.display_name, User.email)
        )
    rows = list(session.scalars(query))
    rows.sort(
        key=lambda r: (
            r.status != RegistrationStatus.CONFIRMED,
            (r.user.display_name or r.user.email).casefold(),
            r.id,
        )
    )
    return rows


def door_counts(session: Session, workshop: Workshop) -> tuple[int, int]:
    """(checked in, confirmed): the counters of the check-in page."""
    present = sa.func.sum(sa.case((Registration.checked_in_at.is_not(None), 1), else_=0))
    row = session.execute(
        sa.select(present).where(
            Registration.workshop_id == workshop.id,
            Registration.status.in_((RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)),
        )
    ).one()
    return int(row[0] or 0), workshop.confirmed_count


def typed_code(workshop: Workshop, text: str) -> str | None:
    """The check-in code in what was typed or scanned: the code itself (spaces, dashes and
    case are the service's to ignore) or the QR payload of this workshop; None for the
    payload of another workshop."""
    text = text.strip()
    found = QR_PAYLOAD.match(text)
    if found is None:
        return text
    if int(found.group(1)) != workshop.id:
        return None
    return found.group(2)


# --- outcomes -------------------------------------------------------------------------------


def campaign_surveys(session: Session, workshop: Workshop) -> list[Survey]:
    """The surveys of the workshop's campaign, newest first (a follow-up or an outcome)."""
    return list(
        session.scalars(
            sa.select(Survey)
            .where(Survey.campaign_id == workshop.campaign_id, Survey.city_id == workshop.city_id)
            .order_by(Survey.created_at.desc(), Survey.id.desc())
        )
    )


def campaign_ideas(session: Session, workshop: Workshop, search: str) -> list[Idea]:
    """Published ideas on the boards of the workshop's campaign whose title contains
    ``search``, or whose number it is ("42" or "#42"); most supported first."""
    if not search:
        return []
    condition = Idea.title.icontains(search, autoescape=True)
    number = search.removeprefix("#")
    if number.isdigit() and _in_range(int(number)):
        condition = sa.or_(condition, Idea.id == int(number))
    query = (
        sa.select(Idea)
        .join(Board, Board.id == Idea.board_id)
        .where(
            Board.campaign_id == workshop.campaign_id,
            Idea.city_id == workshop.city_id,
            Idea.state == IdeaState.PUBLISHED,
            condition,
        )
        .order_by(Idea.supports_count.desc(), Idea.id.desc())
        .limit(MAX_FOUND)
    )
    return list(session.scalars(query))


def survey_titles(session: Session, surveys: list[Survey]) -> dict[int, dict]:
    """Each survey's translated title: of its current version, else of its latest one."""
    ids = [s.id for s in surveys]
    if not ids:
        return {}
    titles: dict[int, dict] = {}
    rows = session.execute(
        sa.select(SurveyVersion.survey_id, SurveyVersion.id, SurveyVersion.definition)
        .where(SurveyVersion.survey_id.in_(ids))
        .order_by(SurveyVersion.survey_id, SurveyVersion.number)
    )
    current = {s.id: s.current_version_id for s in surveys}
    for survey_id, version_id, definition in rows:
        # Versions come in order, so a survey never published ends with its latest one.
        if current[survey_id] in (None, version_id):
            titles[survey_id] = dict((definition or {}).get("title") or {})
    return titles


@dataclass(frozen=True)
class OutcomeRow:
    outcome: Outcome
    idea: Idea | None
    survey: Survey | None


def outcomes_of(session: Session, workshop: Workshop) -> list[OutcomeRow]:
    """The workshop's outcomes in the order they were added, with what each links to."""
    outcomes = list(
        session.scalars(
            sa.select(Outcome)
            .where(Outcome.workshop_id == workshop.id)
            .order_by(Outcome.created_at, Outcome.id)
        )
    )
    idea_ids = {o.idea_id for o in outcomes if o.idea_id}
    survey_ids = {o.survey_id for o in outcomes if o.survey_id}
    ideas = {i.id: i for i in session.scalars(sa.select(Idea).where(Idea.id.in_(idea_ids)))}
    surveys = {s.id: s for s in session.scalars(sa.select(Survey).where(Survey.id.in_(survey_ids)))}
    return [
        OutcomeRow(o, ideas.get(o.idea_id or 0), surveys.get(o.survey_id or 0)) for o in outcomes
    ]
