"""A workshop's seats: the row's lock, the queue numbers, a new registration, and seating
the waitlist.

Every change of a registration's status starts by taking the workshop row's lock, with an
UPDATE of the row (``queue_seq + 1`` RETURNING the new number and the seats) or a SELECT ...
FOR UPDATE; on SQLite, writers are serialised by BEGIN IMMEDIATE already. Under that lock
the registration is read afresh and the decision made (a person without one is inserted only
if still without: the unique (workshop, person) key decides). A seat is taken with a
conditional UPDATE (``confirmed_count < capacity``), and the CHECK constraint
``confirmed_count <= capacity`` stands behind it (SECURITY.md #21).
"""

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.db import utcnow
from app.errors import Conflict
from i18n import _
from workshops import notices
from workshops.checkin import new_code
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

WAITLISTED = RegistrationStatus.WAITLISTED

#: The workshop's columns that the statements below change behind the ORM's back.
COUNTERS = ["queue_seq", "confirmed_count", "capacity", "status", "updated_at"]
#: Check-in codes drawn for one registration before giving up: each clashes one time in
#: ~10^12, so running out means something else refuses the insert.
CODE_DRAWS = 5


# Built once, on the table (no ORM work: the workshop object is told what changed, ``_hold``):
# the next queue number, and a seat if one is free.
_ROW = Workshop.__table__.c
_TAKE_NUMBER = (
    sa.update(Workshop.__table__)
    .where(_ROW.id == sa.bindparam("workshop_id"), _ROW.status == WorkshopStatus.PUBLISHED)
    .values(queue_seq=_ROW.queue_seq + 1)
    .returning(*(_ROW[name] for name in COUNTERS))
)
_TAKE_SEAT = (
    sa.update(Workshop.__table__)
    .where(_ROW.id == sa.bindparam("workshop_id"), _ROW.confirmed_count < _ROW.capacity)
    .values(confirmed_count=_ROW.confirmed_count + 1)
    .returning(_ROW.confirmed_count, _ROW.updated_at)
)


def _hold(workshop: Workshop, row: sa.Row) -> None:
    """Keep on the workshop the columns as an UPDATE ... RETURNING gave them (under the lock),
    rather than reading them back."""
    for name, value in row._mapping.items():
        set_committed_value(workshop, name, value)


def take_number(session: Session, workshop: Workshop) -> tuple[int, int, int]:
    """Lock the workshop row and take the next queue number; returns (number, seats taken,
    capacity) as they are under the lock. A workshop no longer published is refused."""
    session.flush()
    row = session.execute(_TAKE_NUMBER, {"workshop_id": workshop.id}).one_or_none()
    if row is None:
        session.expire(workshop, COUNTERS)
        raise Conflict(_("This workshop is not open for registration."), slug="not-open")
    _hold(workshop, row)
    return row.queue_seq, row.confirmed_count, row.capacity


def lock_workshop(session: Session, workshop: Workshop) -> None:
    """Take the workshop row's lock (see the module's note) without taking a number."""
    session.flush()
    session.execute(sa.select(Workshop.id).where(Workshop.id == workshop.id).with_for_update())
    session.expire(workshop, COUNTERS)


def take_seat(session: Session, workshop: Workshop) -> bool:
    """One seat more, if one is free (under the lock, taken by ``take_number``)."""
    row = session.execute(_TAKE_SEAT, {"workshop_id": workshop.id}).one_or_none()
    if row is None:
        session.expire(workshop, COUNTERS)
        return False
    _hold(workshop, row)
    return True


def free_seat(session: Session, workshop: Workshop) -> None:
    session.execute(
        sa.update(Workshop)
        .where(Workshop.id == workshop.id, Workshop.confirmed_count > 0)
        .values(confirmed_count=Workshop.confirmed_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(workshop, COUNTERS)


#: Waiting ahead of the row just inserted: its place on the waitlist, less one. Written out, as
#: SQLAlchemy would not correlate a subquery in RETURNING with the inserted row.
_AHEAD_OF_INSERTED = sa.literal_column(
    "(SELECT count(*) FROM workshop_registrations AS other"
    " WHERE other.workshop_id = workshop_registrations.workshop_id"
    " AND other.status = 'waitlisted'"  # RegistrationStatus.WAITLISTED
    " AND other.queue_number < workshop_registrations.queue_number)",
    type_=sa.Integer,
).label("waiting_ahead")


def _insert_statement(insert) -> sa.Insert:
    # Nothing is inserted when the person has a row at the workshop, or the code is taken. The
    # new row comes back with its waitlist place: no statement more under the lock.
    table = Registration.__table__
    return insert(table).on_conflict_do_nothing().returning(*table.c, _AHEAD_OF_INSERTED)


#: Built once, per database.
_INSERT = {
    "postgresql": _insert_statement(postgresql.insert),
    "sqlite": _insert_statement(sqlite.insert),
}


def insert_registration(
    session: Session, workshop: Workshop, find: Callable[[], Registration | None], **values
) -> tuple[Registration, bool, int]:
    """Insert a person's registration under the lock, with a new check-in code; returns it,
    True and how many wait ahead of it. When the person has one at the workshop already (a
    parallel call was first): ``find()``'s answer, False and 0. A code another registration
    holds already is drawn again (the unique (workshop, code) key tells)."""
    statement = _INSERT[session.get_bind().dialect.name]
    row = {"workshop_id": workshop.id, "city_id": workshop.city_id, **values}
    for _attempt in range(CODE_DRAWS):
        stored = session.execute(statement, {**row, "checkin_code": new_code()}).first()
        if stored is not None:
            # The row as stored becomes the session's object, as if loaded: a Core insert
            # costs less than the ORM's, under the lock.
            columns = dict(stored._mapping)
            ahead = columns.pop(_AHEAD_OF_INSERTED.name)
            inserted = Registration(**columns)
            make_transient_to_detached(inserted)
            session.add(inserted)
            return inserted, True, ahead
        existing = find()
        if existing is not None:
            return existing, False, 0
    raise RuntimeError(f"no registration inserted with {CODE_DRAWS} check-in codes drawn")


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
