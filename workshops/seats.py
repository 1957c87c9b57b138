"""A workshop's seats: the row's lock, the queue numbers, and seating the waitlist.

Every change of a registration's status starts by taking the workshop row's lock, with an
UPDATE of the row (``queue_seq + 1`` RETURNING the new number and the seats) or a SELECT ...
FOR UPDATE; on SQLite, writers are serialised by BEGIN IMMEDIATE already. Under that lock
the registration is read afresh and the decision made. A seat is taken with a conditional
UPDATE (``confirmed_count < capacity``), and the CHECK constraint ``confirmed_count <=
capacity`` stands behind it (SECURITY.md #21).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict
from i18n import _
from workshops import notices
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

WAITLISTED = RegistrationStatus.WAITLISTED

#: The workshop's columns that the statements below change behind the ORM's back.
COUNTERS = ["queue_seq", "confirmed_count", "capacity", "status", "updated_at"]


def take_number(session: Session, workshop: Workshop) -> tuple[int, int, int]:
    """Lock the workshop row and take the next queue number; returns (number, seats taken,
    capacity) as they are under the lock. A workshop no longer published is refused."""
    session.flush()
    row = session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.status == WorkshopStatus.PUBLISHED)
        .values(queue_seq=Workshop.queue_seq + 1)
        .returning(Workshop.queue_seq, Workshop.confirmed_count, Workshop.capacity)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    session.expire(workshop, COUNTERS)
    if row is None:
        raise Conflict(_("This workshop is not open for registration."), slug="not-open")
    return row.queue_seq, row.confirmed_count, row.capacity


def lock_workshop(session: Session, workshop: Workshop) -> None:
    """Take the workshop row's lock (see the module's note) without taking a number."""
    session.flush()
    session.execute(sa.select(Workshop.id).where(Workshop.id == workshop.id).with_for_update())
    session.expire(workshop, COUNTERS)


def take_seat(session: Session, workshop: Workshop) -> bool:
    taken = session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.confirmed_count < Workshop.capacity)
        .values(confirmed_count=Workshop.confirmed_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(workshop, COUNTERS)
    return taken == 1


def free_seat(session: Session, workshop: Workshop) -> None:
    session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.confirmed_count > 0)
        .values(confirmed_count=Workshop.confirmed_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(workshop, COUNTERS)


def fill_seats(
    session: Session, workshop: Workshop, now: datetime | None = None
) -> list[Registration]:
    """Give free seats to the waitlist in queue order, while the workshop is published and has
    not started; each person promoted is told. Returns the promoted registrations."""
    now = now or utcnow()
    lock_workshop(session, workshop)
    if workshop.status != WorkshopStatus.PUBLISHED or workshop.starts_at <= now:
        return []
    free = workshop.capacity - workshop.confirmed_count
    if free <= 0:
        return []
    promoted = list(
        session.scalars(
            sa.select(Registration)
            .where(
                Registration.workshop_id == workshop.id,
                Registration.status == WAITLISTED,
            )
            .order_by(Registration.queue_number, Registration.id)
            .limit(free)
            .execution_options(populate_existing=True)
        )
    )
    if not promoted:
        return []
    session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id)
        .values(confirmed_count=Workshop.confirmed_count + len(promoted))
        .execution_options(synchronize_session=False)
    )
    session.expire(workshop, COUNTERS)
    for registration in promoted:
        registration.status = RegistrationStatus.CONFIRMED
        registration.confirmed_at = now
    session.flush()
    for registration in promoted:
        notices.tell_registration(session, registration, "promoted", now=now)
    return promoted
