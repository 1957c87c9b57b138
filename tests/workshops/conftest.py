"""Workshops for the workshops tests, on a published campaign of Lyon."""

from functools import partial

import pytest
import sqlalchemy as sa

from notifications.models import Notification
from tests.workshops.helpers import published_workshop


@pytest.fixture
def workshop_of(db_session, campaign):
    """A published workshop of the campaign in a week, two hours long, unless told otherwise."""
    return partial(published_workshop, db_session, campaign)


@pytest.fixture
def residents(lyon, make_user):
    """``count`` residents of Lyon."""

    def make(count: int, **values):
        return [make_user(lyon, **values) for _ in range(count)]

    return make


@pytest.fixture
def told(db_session):
    """The workshop notifications a person got, oldest first, as (kind, event) pairs; the
    event is read from the notification's dedupe key (``registration``'s names the event)."""

    def read(person, kind: str | None = None) -> list[tuple[str, str]]:
        query = sa.select(Notification.kind, Notification.dedupe_key).where(
            Notification.user_id == person.id, Notification.kind.startswith("workshop.")
        )
        if kind is not None:
            query = query.where(Notification.kind == kind)
        rows = db_session.execute(query.order_by(Notification.id)).all()
        return [(k, _event(k, key or "")) for k, key in rows]

    return read


def _event(kind: str, key: str) -> str:
    parts = key.split(":")
    if kind == "workshop.registration" and len(parts) > 4:
        return parts[4]
    if kind == "workshop.changed" and len(parts) > 2:
        return parts[2]
    return kind.split(".")[1]
