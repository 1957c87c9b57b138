"""Workshops: moderators set them up, publish, change, cancel and complete them; anyone
allowed reads one.

A workshop's status moves draft → published → completed, or to cancelled from draft or
published; each move is a conditional UPDATE on the status seen, so a console click and the
scheduler (which completes workshops after their end) never both move one workshop.

Decisions:
- Changing the time or place of a published workshop tells everyone registered, bumps the
  calendar SEQUENCE and withdraws reminders not yet delivered (they name the old time or
  place); the scheduler reminds again for the new start time.
- The capacity changes with a conditional UPDATE on the seats taken, under the row's lock, so
  it cannot drop below them even while people register; raised, it seats the waitlist.
- A completed workshop keeps its time, place and seats (attendance was recorded against
  them); only its texts may still be corrected. A cancelled one changes no more.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app import audit
from app.db import MAX_ID, move_status, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import can, ensure
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import ensure_not_archived
from i18n import _, ngettext
from workshops import notices
from workshops.models import Workshop, WorkshopStatus
from workshops.registrations import checked_reason
from workshops.seats import fill_seats, lock_workshop
from workshops.settings import (
    MAX_LENGTH,
    PLACE,
    check_settings,
    check_texts,
    has_place,
    no_place_errors,
)

Status = WorkshopStatus
#: Changes everyone registered is told of.
TIME_AND_PLACE = ("starts_at", "ends_at", *PLACE)


def _check(
    workshop: Workshop | None, campaign: Campaign, values: dict, now: datetime
) -> tuple[dict, dict]:
    """Texts and settings among ``values``, checked; raises Invalid with every problem."""
    city = campaign.city
    errors: dict = {}
    texts = check_texts(city, values, errors)
    settings = check_settings(
        workshop, city, {k: v for k, v in values.items() if k not in MAX_LENGTH}, errors, now
    )
    published = workshop is not None and workshop.status == Status.PUBLISHED
    if (
        published
        and set(settings) & {"address", "online_url"}
        and not has_place(workshop, settings)
    ):
        errors |= no_place_errors()
    if errors:
        raise Invalid(errors=errors)
    return texts, settings


def create_workshop(
    session: Session,
    actor: User,
    campaign: Campaign,
    *,
    title: dict,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    now: datetime | None = None,
    **values,
) -> Workshop:
    """A new draft workshop of a campaign; residents see it once it is published."""
    ensure(actor, "workshop.manage", campaign)
    ensure_not_archived(campaign)
    now = now or utcnow()
    given = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "capacity": capacity}
    texts, settings = _check(None, campaign, given | values, now)
    workshop = Workshop(
        city_id=campaign.city_id,
        campaign_id=campaign.id,
        status=Status.DRAFT,
        ical_uid=f"workshop-{uuid.uuid4().hex}@livinglab",
        created_at=now,
        updated_at=now,
        **texts,
        **settings,
    )
    session.add(workshop)
    session.flush()
    return workshop


def _ensure_changeable(workshop: Workshop, values: dict) -> None:
    if workshop.status == Status.CANCELLED:
        raise Conflict(_("A cancelled workshop cannot be changed."), slug="workshop-cancelled")
    if workshop.status == Status.COMPLETED and set(values) - set(MAX_LENGTH):
        raise Conflict(
            _("This workshop is over: only its texts can still be corrected."),
            slug="workshop-over",
        )


def _change_capacity(session: Session, workshop: Workshop, capacity: int) -> None:
    """Set the capacity, never below the seats taken (checked under the row's lock)."""
    session.flush()
    changed = session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.confirmed_count <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(workshop, ["capacity", "confirmed_count", "updated_at"])
    if not changed:
        taken = workshop.confirmed_count
        raise Invalid(
            errors={
                "capacity": [
                    ngettext(
                        "%(num)d seat is taken: remove people first, or keep at least "
                        "%(num)d seat.",
                        "%(num)d seats are taken: remove people first, or keep at least "
                        "%(num)d seats.",
                        taken,
                    )
                ]
            }
        )


def update_workshop(
    session: Session, actor: User, workshop: Workshop, *, now: datetime | None = None, **values
) -> Workshop:
    """Change texts and settings; only the fields given change. People registered are told
    of a new time or place."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    _ensure_changeable(workshop, values)
    now = now or utcnow()
    texts, settings = _check(workshop, workshop.campaign, values, now)
    capacity = settings.pop("capacity", None)
    raised = capacity is not None and capacity > workshop.capacity
    if capacity is not None and capacity != workshop.capacity:
        _change_capacity(session, workshop, capacity)
    changes = [
        field
        for field in TIME_AND_PLACE
        if field in settings and settings[field] != getattr(workshop, field)
    ]
    for field, value in {**texts, **settings}.items():
        setattr(workshop, field, value)
    workshop.updated_at = now
    if changes and workshop.status == Status.PUBLISHED:
        workshop.ical_sequence += 1
        session.flush()
        notices.withdraw_reminders(session, workshop.id)
        notices.tell_changed(session, workshop, "changed", changes=changes, now=now)
    session.flush()
    if raised:
        fill_seats(session, workshop, now)
    return workshop


def publish_workshop(
    session: Session, actor: User, workshop: Workshop, now: datetime | None = None
) -> Workshop:
    """Show a draft to the campaign's residents; registration opens as its times say."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    now = now or utcnow()
    if workshop.status != Status.DRAFT:
        raise Conflict(_("Only a draft can be published."), slug="not-a-draft")
    if workshop.campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(
            _("Publish the campaign first: its residents cannot see this workshop yet."),
            slug="campaign-not-published",
        )
    errors = {} if has_place(workshop) else no_place_errors()
    if workshop.starts_at <= now:
        errors["starts_at"] = [_("Choose a time in the future.")]
    if errors:
        raise Invalid(errors=errors)
    if not move_status(
        session, workshop, (Status.DRAFT,), status=Status.PUBLISHED, published_at=now
    ):
        raise Conflict(_("Only a draft can be published."), slug="not-a-draft")
    return workshop


def cancel_workshop(
    session: Session,
    actor: User,
    workshop: Workshop,
    reason: str | None = None,
    now: datetime | None = None,
) -> Workshop:
    """Call a draft or published workshop off; everyone registered is told (with the reason).
    Cancelling twice changes nothing."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    now = now or utcnow()
    reason = checked_reason(reason)
    lock_workshop(session, workshop)
    was = workshop.status
    if was == Status.CANCELLED:
        return workshop
    cancelled = move_status(
        session,
        workshop,
        (Status.DRAFT, Status.PUBLISHED),
        status=Status.CANCELLED,
        cancelled_at=now,
        ical_sequence=Workshop.ical_sequence + 1,
        updated_at=now,
    )
    if not cancelled:
        raise Conflict(_("A completed workshop cannot be cancelled."), slug="workshop-over")
    if was == Status.PUBLISHED:
        notices.withdraw_reminders(session, workshop.id)
        notices.tell_changed(session, workshop, "cancelled", reason=reason, now=now)
    audit.record(
        session,
        actor,
        "workshop.cancel",
        "workshop",
        workshop.id,
        city_id=workshop.city_id,
        reason=reason,
        now=now,
    )
    return workshop


def complete_workshop(
    session: Session, actor: User | None, workshop: Workshop, now: datetime | None = None
) -> bool:
    """Mark a published workshop as over: by a moderator once it started, by the scheduler
    (``actor`` None) once it ended. Returns whether this call completed it."""
    now = now or utcnow()
    if actor is not None:
        ensure(actor, "workshop.manage", workshop)
        ensure_not_archived(workshop.campaign)
        if workshop.status in (Status.DRAFT, Status.CANCELLED):
            raise Conflict(_("Only a published workshop can be completed."), slug="not-published")
        if workshop.status == Status.PUBLISHED and now < workshop.starts_at:
            raise Conflict(
                _("This workshop has not started yet: it cannot be over."), slug="not-started"
            )
        due = Workshop.starts_at <= now
    else:
        due = Workshop.ends_at <= now
    return move_status(
        session,
        workshop,
        (Status.PUBLISHED,),
        due,
        status=Status.COMPLETED,
        completed_at=now,
        updated_at=now,
    )


def get_workshop(session: Session, actor: User | None, workshop_id: int) -> Workshop:
    """A workshop the actor may read; anything else (another city's, a draft for residents,
    an id that cannot exist) is not found."""
    workshop = (
        session.get(Workshop, workshop_id, options=[joinedload(Workshop.campaign)])
        if 0 < workshop_id <= MAX_ID
        else None
    )
    if workshop is None or not can(actor, "workshop.read", workshop):
        raise NotFound()
    return workshop
