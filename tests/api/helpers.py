"""Small helpers for API tests."""

import re

import sqlalchemy as sa

from app.models import User
from notifications.models import Notification


def mails_to(session, email: str) -> list[Notification]:
    """Notifications recorded for the person with ``email``, oldest first (codes among them)."""
    return list(
        session.scalars(
            sa.select(Notification)
            .join(User, User.id == Notification.user_id)
            .where(User.email == email)
            .order_by(Notification.id)
        )
    )


def last_code(session, email: str) -> str:
    """The six-digit code in the newest notification to ``email`` (read from the table)."""
    mails = mails_to(session, email)
    assert mails, f"nothing told to {email}"
    return re.search(r"\b(\d{6})\b", mails[-1].body_text).group(1)


def assert_problem(response, status: int, slug: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    if slug:
        assert body["type"] == f"urn:livinglab:problem:{slug}"
    return body
