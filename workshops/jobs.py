"""The scheduler's job for workshops: remind participants before the start, complete them after.

Runs every minute. Times are instants (UTC). Each workshop is handled in a transaction of its
own, so one failure holds up no other.

Decisions:
- The reminder due is the one with the smallest lead ``h`` (of the workshop's
  ``reminder_hours``) such that ``starts_at - h <= now < starts_at``. Larger leads whose
  moment passed unseen (the scheduler was down, the workshop was published late) are
  skipped: people get the nearest reminder once, never a burst of late ones.
- A reminder is claimed by inserting its ``ReminderRun`` (workshop, lead, start time); the
  unique constraint lets one scheduler win, and the others send nothing. ``notify`` also gets
  a dedupe key naming the same three, so nobody is told twice.
- The workshop row is locked while its reminder is recorded: a moderator moving or cancelling
  it waits, then withdraws what was recorded (workshops/notices.py), or goes first, and the
  job sees the new time. A moved workshop is reminded again for its new start time.
- Recipients are those holding a seat at the reminder's moment: someone who got their seat
  afterwards was just told of it with the calendar file, and is not reminded of it again.
- Only published workshops of published campaigns are reminded of.
- A published workshop whose end passed is completed (``service.complete_workshop``).
"""

import logging
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import each_alone
from campaigns.models import Campaign, CampaignStatus
from workshops import service
from workshops.models import ReminderRun, Workshop, WorkshopStatus
from workshops.notices import tell_reminder
from workshops.settings import REMINDER_HOURS

log = logging.getLogger("livinglab.workshops")

#: Workshops handled per step and run at most; the rest wait for the next run.
PER_RUN = 100
#: The longest reminder lead looked for: workshops starting later need no reminder yet.
LONGEST_LEAD = timedelta(hours=REMINDER_HOURS[1])


def workshop_schedule(session: Session, now: datetime | None = None) -> dict:
    """Send the reminders due and complete the workshops that ended; returns how many."""
    now = now or utcnow()
    reminding = _reminder_candidates(session, now)
    ending = _ending_candidates(session, now)
    session.commit()  # the searches are done; each workshop is its own transaction
    each = partial(each_alone, session, now=now, subject="workshop", logger=log)
    return {
        "reminded": each(reminding, _remind, what="reminded"),
        "completed": each(ending, _complete, what="completed"),
    }


# --- reminders ------------------------------------------------------------------------------


def due_lead(reminder_hours: list, starts_at: datetime, now: datetime) -> int | None:
    """The lead (hours) of the reminder due at ``now``, or None before the first or after start."""
    if now >= starts_at:
        return None
    leads = [h for h in reminder_hours or [] if isinstance(h, int) and not isinstance(h, bool)]
    passed = [h for h in leads if h > 0 and starts_at - timedelta(hours=h) <= now]
    return min(passed) if passed else None


def _reminder_candidates(session: Session, now: datetime) -> list[int]:
    # The index (status, starts_at) finds the upcoming ones; Python picks each one's lead.
    rows = session.execute(
        sa.select(Workshop.id, Workshop.starts_at, Workshop.reminder_hours)
        .join(Campaign, Campaign.id == Workshop.campaign_id)
        .where(
            Workshop.status == WorkshopStatus.PUBLISHED,
            Workshop.starts_at > now,
            Workshop.starts_at <= now + LONGEST_LEAD,
            Campaign.status == CampaignStatus.PUBLISHED,
        )
        .order_by(Workshop.starts_at, Workshop.id)
    ).all()
    due = {
        (workshop_id, lead, starts_at)
        for workshop_id, starts_at, hours in rows
        if (lead := due_lead(hours, starts_at, now)) is not None
    }
    if not due:
        return []
    sent = set(
        session.execute(
            sa.select(ReminderRun.workshop_id, ReminderRun.hours, ReminderRun.starts_at).where(
                ReminderRun.workshop_id.in_({workshop_id for workshop_id, _h, _s in due})
            )
        ).all()
    )
    waiting = sorted((s, w) for w, h, s in due if (w, h, s) not in sent)
    return [workshop_id for _starts, workshop_id in waiting][:PER_RUN]


def _claim(session: Session, workshop: Workshop, hours: int, now: datetime) -> ReminderRun | None:
    """Record the reminder as sent; None when another scheduler recorded it first."""
    run = ReminderRun(
        workshop_id=workshop.id, hours=hours, starts_at=workshop.starts_at, sent_at=now
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    return run


def _remind(session: Session, workshop_id: int, now: datetime) -> bool:
    # Locked, and read afresh: a move or cancellation either waits for us or is seen.
    workshop = session.scalar(
        sa.select(Workshop)
        .where(Workshop.id == workshop_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if workshop is None or workshop.status != WorkshopStatus.PUBLISHED:
        return False
    if workshop.campaign.status != CampaignStatus.PUBLISHED:
        return False
    hours = due_lead(workshop.reminder_hours, workshop.starts_at, now)
    if hours is None:
        return False
    run = _claim(session, workshop, hours, now)
    if run is None:
        return False  # reminded already, by another scheduler
    moment = workshop.starts_at - timedelta(hours=hours)
    run.recipients = tell_reminder(session, workshop, hours, moment, now)
    session.flush()
    return True


# --- completing -----------------------------------------------------------------------------


def _ending_candidates(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            sa.select(Workshop.id)
            .where(
                Workshop.status == WorkshopStatus.PUBLISHED,
                Workshop.starts_at <= now,  # the index's range; ends come after starts
                Workshop.ends_at <= now,
            )
            .order_by(Workshop.ends_at, Workshop.id)
            .limit(PER_RUN)
        )
    )


def _complete(session: Session, workshop_id: int, now: datetime) -> bool:
    workshop = session.get(Workshop, workshop_id, populate_existing=True)
    if workshop is None or workshop.status != WorkshopStatus.PUBLISHED:
        return False
    return service.complete_workshop(session, None, workshop, now)
