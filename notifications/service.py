"""Telling people things: ``notify`` records notifications and their deliveries (and
``notify_one`` for one person, in fewer statements); the inbox.

``notify`` only writes rows, in the caller's transaction: nothing leaves before that commits,
and a rolled-back change tells nobody. Workers deliver the rows (notifications.delivery).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import City, User
from notifications import kinds
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from notifications.render import Rendered, render

#: Local time at which digests go out; weekly ones on Mondays.
DIGEST_HOUR = 8
#: Rows per INSERT statement when recording many notifications.
CHUNK = 1000


@dataclass(frozen=True)
class Recipient:
    """What ``notify`` needs to know about one person."""

    id: int
    city_id: int
    email: str
    locale: str
    timezone: str
    city_locale: str
    email_ok: bool
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True)
class Choice:
    """A person's channels for one kind."""

    inbox: bool
    push: bool
    email: EmailMode


#: What ``notify`` reads of a person: account, city, and their notification settings.
_RECIPIENT_COLUMNS = (
    User.id,
    User.city_id,
    User.email,
    User.locale,
    User.email_verified_at,
    City.default_locale,
    City.timezone,
    NotificationSettings.timezone,
    NotificationSettings.quiet_start,
    NotificationSettings.quiet_end,
    NotificationSettings.email_paused_at,
)


def _recipients(*extra) -> sa.Select:
    """Live accounts with their city and settings (and ``extra`` columns)."""
    return (
        sa.select(*_RECIPIENT_COLUMNS, *extra)
        .join(City, City.id == User.city_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.disabled_at.is_(None))
    )


def _recipient(row: sa.Row) -> Recipient:
    return Recipient(
        id=row[0],
        city_id=row[1],
        email=row[2],
        locale=row[3] or row[5],
        timezone=row[7] or row[6],
        city_locale=row[5],
        email_ok=row[4] is not None and row[10] is None,
        quiet_start=row[8],
        quiet_end=row[9],
    )


def _recipient_rows(session: Session, user_ids: sa.Select | list[int]) -> list[Recipient]:
    query = _recipients().where(User.id.in_(user_ids)).order_by(User.id)
    return [_recipient(row) for row in session.execute(query)]


def choices(session: Session, user_ids: list[int], kind: kinds.Kind) -> dict[int, Choice]:
    """Each person's channels for ``kind``: their stored choice, else the kind's defaults."""
    default = Choice(kind.inbox, kind.push, kind.email)
    chosen = {uid: default for uid in user_ids}
    if kind.mandatory:
        return chosen
    for start in range(0, len(user_ids), CHUNK):
        rows = session.scalars(
            sa.select(NotificationPreference).where(
                NotificationPreference.kind == kind.name,
                NotificationPreference.user_id.in_(user_ids[start : start + CHUNK]),
            )
        )
        for pref in rows:
            chosen[pref.user_id] = Choice(pref.inbox, pref.push, EmailMode(pref.email))
    return chosen


def _devices(session: Session, user_ids: list[int]) -> dict[int, list[int]]:
    devices: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(user_ids), CHUNK):
        rows = session.execute(
            sa.select(PushDevice.user_id, PushDevice.id).where(
                PushDevice.user_id.in_(user_ids[start : start + CHUNK])
            )
        )
        for user_id, device_id in rows:
            devices[user_id].append(device_id)
    return devices


def _already_told(session: Session, user_ids: list[int], dedupe_key: str) -> set[int]:
    told: set[int] = set()
    for start in range(0, len(user_ids), CHUNK):
        told.update(
            session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.dedupe_key == dedupe_key,
                    Notification.user_id.in_(user_ids[start : start + CHUNK]),
                )
            )
        )
    return told


def quiet_until(recipient: Recipient, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if ``now`` falls inside them."""
    start, end = recipient.quiet_start, recipient.quiet_end
    if start is None or end is None or start == end:
        return None
    zone = ZoneInfo(recipient.timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends += timedelta(days=1)
    # combine() on a DST gap or overlap gives a real instant once normalised through UTC.
    return ends.astimezone(now.tzinfo)


def next_digest(recipient: Recipient, mode: EmailMode, now: datetime) -> datetime:
    """The next digest time at DIGEST_HOUR local time (on a Monday for weekly digests)."""
    zone = ZoneInfo(recipient.timezone)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=zone)
    if slot <= local:
        slot += timedelta(days=1)
    if mode == EmailMode.WEEKLY:
        slot += timedelta(days=(7 - slot.weekday()) % 7)
    return slot.astimezone(now.tzinfo)


def notify(
    session: Session,
    recipients: sa.Select | Iterable[User] | Iterable[int],
    kind: str,
    context: dict | Callable[[Recipient], dict],
    *,
    data: dict | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    attachments: Callable[[str], list[dict]] | None = None,
) -> int:
    """Record ``kind`` for each recipient with a delivery per chosen channel; returns how many.

    ``recipients`` are users, user ids, or a select of user ids (for a whole city). Disabled
    accounts are left out, and so is anyone already told under ``dedupe_key``. Each
    notification is rendered in its recipient's language and time zone, once per pair; or,
    when ``context`` is a function, once per person with their own ``context(recipient)``.
    ``attachments(locale)`` gives the files its email carries, in that language
    (``{"filename", "content_type", "text"}``), made once per language.
    """
    spec = kinds.get(kind)
    now = now or utcnow()
    if not isinstance(recipients, sa.Select):
        recipients = sorted({r.id if isinstance(r, User) else r for r in recipients})
    people = _recipient_rows(session, recipients)
    if dedupe_key is not None and people:
        told = _already_told(session, [p.id for p in people], dedupe_key)
        people = [p for p in people if p.id not in told]
    if not people:
        return 0
    ids = [p.id for p in people]
    chosen = choices(session, ids, spec)
    devices = _devices(session, ids) if not spec.mandatory else {}
    rendered: dict[tuple[str, str, str], Rendered] = {}
    attached: dict[str, list[dict]] = {}
    recorded = 0
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        rows = []
        for person in chunk:
            key = (person.locale, person.timezone, person.city_locale)
            if callable(context):
                content = render(kind, *key[:2], {**context(person), "city_locale": key[2]})
            else:
                if key not in rendered:
                    rendered[key] = render(kind, *key[:2], {**context, "city_locale": key[2]})
                content = rendered[key]
            if attachments is not None and person.locale not in attached:
                attached[person.locale] = attachments(person.locale)
            rows.append(
                _notification_row(
                    kind, person, content, data, dedupe_key, attached.get(person.locale, []), now
                )
            )
        ids = session.scalars(
            sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
            rows,
        ).all()
        deliveries = [
            {**row, "notification_id": notification_id}
            for person, notification_id in zip(chunk, ids, strict=True)
            for row in _deliveries(spec, person, chosen[person.id], devices.get(person.id, []), now)
        ]
        if deliveries:
            # Core, not ORM: an executemany, where the ORM would insert row by row on PostgreSQL.
            session.execute(Delivery.__table__.insert(), deliveries)
        recorded += len(ids)
    return recorded


def _notification_row(
    kind: str,
    person: Recipient,
    content: Rendered,
    data: dict | None,
    dedupe_key: str | None,
    attachments: list[dict],
    now: datetime,
) -> dict:
    return {
        "user_id": person.id,
        "city_id": person.city_id,
        "kind": kind,
        "locale": person.locale,
        "subject": content.subject,
        "body_text": content.text,
        "body_html": content.html,
        "data": data or {},
        "dedupe_key": dedupe_key,
        "attachments": attachments,
        "created_at": now,
    }


# --- one person -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressee:
    """All that ``notify`` reads about one person for one kind."""

    kind: str
    recipient: Recipient
    choice: Choice
    #: Their push devices (none for mandatory kinds, which go by email only).
    devices: tuple[int, ...]


#: One person with their choice for a kind and their push devices: a row per device.
_ADDRESSEE = (
    _recipients(
        NotificationPreference.inbox,
        NotificationPreference.push,
        NotificationPreference.email,
        PushDevice.id,
    )
    .outerjoin(
        NotificationPreference,
        sa.and_(
            NotificationPreference.user_id == User.id,
            NotificationPreference.kind == sa.bindparam("kind"),
        ),
    )
    .outerjoin(PushDevice, PushDevice.user_id == User.id)
    .where(User.id == sa.bindparam("user_id"))
    .order_by(PushDevice.id)
)


def addressee(session: Session, user_id: int, kind: str) -> Addressee | None:
    """What ``notify`` would read about one person for ``kind``, in one statement (their
    account, city, settings, choice of channels and push devices); None for an account that
    is disabled or gone. A caller may read it before taking a lock, and tell them under it."""
    spec = kinds.get(kind)
    rows = session.execute(_ADDRESSEE, {"user_id": user_id, "kind": spec.name}).all()
    if not rows:
        return None
    first = rows[0]
    choice = Choice(spec.inbox, spec.push, spec.email)
    if spec.mandatory:
        return Addressee(kind, _recipient(first), choice, ())
    if first[11] is not None:  # their stored choice for the kind
        choice = Choice(first[11], first[12], EmailMode(first[13]))
    devices = tuple(row[14] for row in rows if row[14] is not None)
    return Addressee(kind, _recipient(first), choice, devices)


def _told_once(insert) -> sa.Insert:
    # The unique (user_id, dedupe_key) is the dedupe check: told already, nothing is inserted.
    table = Notification.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(table.c.id)
    )


_DELIVERIES = Delivery.__table__.insert()
#: Built once, per database.
_INSERT_ONCE = {"postgresql": _told_once(postgresql.insert), "sqlite": _told_once(sqlite.insert)}


def notify_one(
    session: Session,
    person: int | Addressee | None,
    kind: str,
    context: dict,
    *,
    data: dict | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
    attachments: Callable[[str], list[dict]] | None = None,
) -> int:
    """``notify`` for one person: the same notification and deliveries, for fewer statements.

    ``person`` is a user id, or what ``addressee`` read of them (None: nobody, as ``addressee``
    says of a disabled account). Instead of a look-up, the dedupe check is the insert itself,
    which inserts nothing when the person was told under ``dedupe_key`` already. Returns 1
    when they were told now, else 0.
    """
    spec = kinds.get(kind)
    now = now or utcnow()
    if isinstance(person, Addressee) and person.kind != kind:
        person = person.recipient.id  # read for another kind: their choice for this one differs
    if isinstance(person, int):
        person = addressee(session, person, kind)
    if person is None:
        return 0
    recipient = person.recipient
    content = render(
        kind,
        recipient.locale,
        recipient.timezone,
        {**context, "city_locale": recipient.city_locale},
    )
    files = attachments(recipient.locale) if attachments is not None else []
    row = _notification_row(kind, recipient, content, data, dedupe_key, files, now)
    notification_id = session.scalar(_INSERT_ONCE[session.get_bind().dialect.name], row)
    if notification_id is None:
        return 0
    deliveries = [
        {**delivery, "notification_id": notification_id}
        for delivery in _deliveries(spec, recipient, person.choice, list(person.devices), now)
    ]
    if deliveries:
        session.execute(_DELIVERIES, deliveries)
    return 1


def _deliveries(
    spec: kinds.Kind, person: Recipient, choice: Choice, devices: list[int], now: datetime
) -> list[dict]:
    """The delivery rows of one notification, by the person's choice for its kind."""

    def row(channel: Channel, due: datetime, status=DeliveryStatus.PENDING, device=None) -> dict:
        return {
            "channel": channel,
            "device_id": device,
            "status": status,
            "due_at": due,
            "attempts": 0,
            "created_at": now,
        }

    rows = []
    if choice.inbox:
        rows.append(row(Channel.INBOX, now))
    email_allowed = person.email_ok or spec.mandatory
    if choice.email != EmailMode.OFF and email_allowed:
        if choice.email in (EmailMode.DAILY, EmailMode.WEEKLY) and spec.may_digest:
            due = next_digest(person, choice.email, now)
            rows.append(row(Channel.EMAIL, due, DeliveryStatus.DIGEST))
        else:
            rows.append(row(Channel.EMAIL, now))
    if choice.push and devices:
        due = quiet_until(person, now) or now
        rows.extend(row(Channel.PUSH, due, device=device) for device in devices)
    return rows
