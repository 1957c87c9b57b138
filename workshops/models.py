"""Co-design workshops of a campaign: registrations with a waitlist, reminders, outcomes.

Seats are counted on the workshop (``confirmed_count``) in the same transaction as the
registrations they count, under the workshop row's lock, and a CHECK constraint keeps the
count within the capacity, so no race can seat one person too many.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City, User
from campaigns.models import Campaign


class WorkshopStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    #: Over: attendance and outcomes are recorded.
    COMPLETED = "completed"


class Workshop(Base):
    """A co-design session such as "Designing the courtyard of block 7, session 1"."""

    __tablename__ = "workshops"
    __table_args__ = (
        sa.CheckConstraint("confirmed_count >= 0 AND confirmed_count <= capacity", name="seats"),
        sa.CheckConstraint("capacity >= 1", name="capacity"),
        # The scheduler's reminders and the residents' upcoming lists.
        sa.Index("ix_workshops_upcoming", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Translated values: locale → text. The description and agenda use the markdown subset.
    title: Mapped[dict] = mapped_column(nullable=False)
    description: Mapped[dict] = mapped_column(nullable=False, default=dict)
    agenda: Mapped[dict] = mapped_column(nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    #: Where it takes place; None for a workshop held only online.
    address: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: Translated: step-free access, hearing loop, childcare, ...
    accessibility: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: Shown only to confirmed participants.
    online_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    capacity: Mapped[int] = mapped_column(nullable=False)
    #: Seats taken: registrations in status ``confirmed``.
    confirmed_count: Mapped[int] = mapped_column(nullable=False, default=0)
    #: Hands out each registration's place in the queue (arrival order).
    queue_seq: Mapped[int] = mapped_column(nullable=False, default=0)
    #: None: registration opens at publication and closes when the workshop starts.
    registration_opens_at: Mapped[datetime | None] = mapped_column(nullable=True)
    registration_closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Questions asked at registration, answers seen by moderators only:
    #: [{"code": "diet", "label": {locale: text}, "required": bool,
    #:   "choices": [{"code": "vegan", "label": {locale: text}}] (absent: a written answer)}].
    questions: Mapped[list] = mapped_column(nullable=False, default=list)
    #: Hours before the start at which participants are reminded.
    reminder_hours: Mapped[list] = mapped_column(nullable=False, default=lambda: [24, 2])
    #: The iCalendar UID, stable across updates; SEQUENCE goes up with every change people
    #: are told of (time, place, cancellation).
    ical_uid: Mapped[str] = mapped_column(sa.String(120), nullable=False, unique=True)
    ical_sequence: Mapped[int] = mapped_column(nullable=False, default=0)
    #: Minutes as sanitised HTML (app.richtext), seen by moderators until the summary is out.
    minutes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Translated summary for participants, markdown subset.
    summary: Mapped[dict] = mapped_column(nullable=False, default=dict)
    follow_up_survey_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="SET NULL"), nullable=True
    )
    summary_published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    city: Mapped[City] = relationship()
    campaign: Mapped[Campaign] = relationship()

    def __repr__(self) -> str:
        return f"<Workshop {self.id} {self.status} {self.confirmed_count}/{self.capacity}>"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    #: Invited by a moderator; holds no seat until the person registers.
    INVITED = "invited"
    #: Cancelled by the person (or their invitation declined).
    CANCELLED = "cancelled"
    #: Taken off by a moderator.
    REMOVED = "removed"


class Registration(Base):
    """One person's place at a workshop: a seat, a place on the waitlist, or an invitation."""

    __tablename__ = "workshop_registrations"
    __table_args__ = (
        # Registering again (a phone's retry, or after cancelling) is the same row.
        sa.UniqueConstraint("workshop_id", "user_id"),
        sa.UniqueConstraint("workshop_id", "checkin_code"),
        # The waitlist in arrival order, and the seats: read from the index.
        sa.Index("ix_workshop_registrations_queue", "workshop_id", "status", "queue_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: Place in arrival order (from ``Workshop.queue_seq``), renewed on registering again.
    queue_number: Mapped[int | None] = mapped_column(nullable=True)
    #: Answers to the workshop's questions: code → text or choice code. Moderators only.
    answers: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: What the person shows at the door (QR code or typed); unique within the workshop.
    checkin_code: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    registered_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: When the current seat was given (registration, promotion or a moderator).
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    invited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: A moderator's reason for removing the person, shown to them.
    removed_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    workshop: Mapped[Workshop] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Registration {self.id} workshop={self.workshop_id} {self.status}>"


class Outcome(Base):
    """What a workshop led to: an idea on one of the campaign's boards, or a survey."""

    __tablename__ = "workshop_outcomes"
    __table_args__ = (
        sa.CheckConstraint("(idea_id IS NULL) <> (survey_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("workshop_id", "idea_id"),
        sa.UniqueConstraint("workshop_id", "survey_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False, index=True
    )
    idea_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=True
    )
    survey_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=True
    )
    #: Translated: how the workshop led to it.
    note: Mapped[dict] = mapped_column(nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        target = f"idea={self.idea_id}" if self.idea_id else f"survey={self.survey_id}"
        return f"<Outcome {self.id} workshop={self.workshop_id} {target}>"


class ReminderRun(Base):
    """A reminder sent for one start time of a workshop: inserted once, so sent once."""

    __tablename__ = "workshop_reminder_runs"
    __table_args__ = (sa.UniqueConstraint("workshop_id", "hours", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        sa.ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False
    )
    hours: Mapped[int] = mapped_column(nullable=False)
    #: The start time the reminder was for: moving the workshop makes its reminders due again.
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    sent_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    recipients: Mapped[int] = mapped_column(nullable=False, default=0)

    def __repr__(self) -> str:
        return f"<ReminderRun workshop={self.workshop_id} {self.hours}h>"


class CalendarFeed(Base):
    """A person's private calendar feed of their workshops; the URL's token is kept hashed."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    #: SHA-256 of the token in the feed's URL.
    token_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    last_read_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} user={self.user_id}>"
