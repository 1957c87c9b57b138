"""Small helpers for API tests."""

import re

import sqlalchemy as sa

from app.models import OutgoingMail


def last_code(session, email: str) -> str:
    """The six-digit code in the newest mail to ``email`` (read from the outbox table)."""
    mail = session.scalar(
        sa.select(OutgoingMail)
        .where(OutgoingMail.to_address == email)
        .order_by(OutgoingMail.id.desc())
        .limit(1)
    )
    assert mail is not None, f"no mail to {email}"
    return re.search(r"\b(\d{6})\b", mail.body).group(1)


def mails_to(session, email: str) -> list[OutgoingMail]:
    return list(
        session.scalars(
            sa.select(OutgoingMail)
            .where(OutgoingMail.to_address == email)
            .order_by(OutgoingMail.id)
        )
    )


def assert_problem(response, status: int, slug: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"]
    if slug:
        assert body["type"] == f"urn:livinglab:problem:{slug}"
    return body
