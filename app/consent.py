"""Consent to a purpose: the current text of a city, giving, withdrawing, and requiring it.

A person's consent counts only for the text version that is current in their city: when a
city publishes a newer version, everyone is asked again before anything more is stored.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.consent_models import Consent, ConsentText, Purpose
from app.db import insert_once, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from i18n import _
from i18n.content import cleaned, translation_problems

#: How a consent was given: through the app, by staff in the console, or by an operator import.
METHODS = ("app", "console", "import")
#: Longest consent text per language (markdown subset).
MAX_TEXT_LENGTH = 20_000


def _purpose(purpose: Purpose | str) -> Purpose:
    try:
        return Purpose(purpose)
    except ValueError:
        raise NotFound() from None


def current_text(session: Session, city_id: int, purpose: Purpose | str) -> ConsentText | None:
    """The latest published version of the city's text for the purpose, if there is one."""
    return session.scalar(
        sa.select(ConsentText)
        .where(
            ConsentText.city_id == city_id,
            ConsentText.purpose == _purpose(purpose).value,
            ConsentText.published_at.is_not(None),
        )
        .order_by(ConsentText.version.desc())
        .limit(1)
    )


def _latest_consent(session: Session, user: User, purpose: Purpose) -> Consent | None:
    """The person's most recent consent to the purpose that is not withdrawn, of any version."""
    return session.scalar(
        sa.select(Consent)
        .where(
            Consent.user_id == user.id,
            Consent.purpose == purpose.value,
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.given_at.desc(), Consent.id.desc())
        .limit(1)
    )


def active_consent(session: Session, user: User, purpose: Purpose | str) -> Consent | None:
    """The person's consent to the current text of their city, unless withdrawn."""
    purpose = _purpose(purpose)
    text = current_text(session, user.city_id, purpose)
    if text is None:
        return None
    return session.scalar(
        sa.select(Consent)
        .where(
            Consent.user_id == user.id,
            Consent.purpose == purpose.value,
            Consent.text_id == text.id,
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.id.desc())
        .limit(1)
    )


def must_consent_again(session: Session, user: User, purpose: Purpose | str) -> bool:
    """True when the person consented to an older version and a newer one is now current."""
    purpose = _purpose(purpose)
    latest = _latest_consent(session, user, purpose)
    return latest is not None and active_consent(session, user, purpose) is None


def give_consent(
    session: Session,
    user: User,
    purpose: Purpose | str,
    version: int,
    method: str = "app",
    now: datetime | None = None,
) -> tuple[Consent, bool]:
    """Record the person's consent to ``version`` (which must be current); True when new."""
    purpose = _purpose(purpose)
    now = now or utcnow()
    if method not in METHODS:
        raise Invalid(errors={"method": [_("Not a known way of giving consent.")]})
    text = current_text(session, user.city_id, purpose)
    if text is None:
        raise NotFound(_("There is no consent text for this purpose in your city."))
    if version != text.version:
        raise Conflict(
            _(
                "This is not the current version of the text (version %(version)d is). "
                "Please read the current text before you agree.",
                version=text.version,
            ),
            slug="consent-outdated",
        )
    # One person's consents are written one at a time: a double tap records one consent.
    session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    existing = active_consent(session, user, purpose)
    if existing is not None:
        return existing, False
    consent = Consent(
        user_id=user.id,
        purpose=purpose.value,
        text_id=text.id,
        version=text.version,
        given_at=now,
        method=method,
    )
    session.add(consent)
    session.flush()
    return consent, True


def withdraw_consent(
    session: Session, user: User, purpose: Purpose | str, now: datetime | None = None
) -> Consent | None:
    """Withdraw the person's consent (every version still standing); the latest, or None."""
    purpose = _purpose(purpose)
    now = now or utcnow()
    standing = session.scalars(
        sa.select(Consent)
        .where(
            Consent.user_id == user.id,
            Consent.purpose == purpose.value,
            Consent.withdrawn_at.is_(None),
        )
        .order_by(Consent.given_at.desc(), Consent.id.desc())
    ).all()
    # A person has a handful of consents at most: each is marked, the latest returned.
    for consent in standing:
        consent.withdrawn_at = now
    session.flush()
    return standing[0] if standing else None


def publish_text(
    session: Session,
    actor: User,
    city: City,
    purpose: Purpose | str,
    text: dict,
    now: datetime | None = None,
) -> ConsentText:
    """Publish a new version of the city's text for the purpose: everyone is asked again."""
    ensure(actor, "consent.manage", city)
    purpose = _purpose(purpose)
    now = now or utcnow()
    if not isinstance(text, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in text.items()
    ):
        raise Invalid(errors={"text": [_("Give a text per language.")]})
    texts = cleaned(text)
    problems = translation_problems(texts, city.enabled_locales, MAX_TEXT_LENGTH)
    if not problems and not texts.get(city.default_locale):
        problems = [_("A text in the city's main language is needed.")]
    if problems:
        raise Invalid(errors={"text": problems})
    latest = session.scalar(
        sa.select(sa.func.max(ConsentText.version)).where(
            ConsentText.city_id == city.id, ConsentText.purpose == purpose.value
        )
    )
    version = (latest or 0) + 1
    row = ConsentText(
        city_id=city.id, purpose=purpose.value, version=version, text=texts, published_at=now
    )
    # A parallel publication took this version number: insert_once answers with a Conflict.
    row = insert_once(session, row, lambda: None)[0]
    audit.record(
        session,
        actor,
        "consent.publish",
        "consent_text",
        row.id,
        city_id=city.id,
        now=now,
        details={"purpose": purpose.value, "version": version},
    )
    return row


def require_consent(session: Session, user: User, purpose: Purpose | str) -> Consent:
    """The person's active consent to the purpose; Conflict ``consent-required`` without one."""
    purpose = _purpose(purpose)
    consent = active_consent(session, user, purpose)
    if consent is not None:
        return consent
    if _latest_consent(session, user, purpose) is not None:
        message = _(
            "The consent text has changed. Please read the new version and agree to it "
            "before you continue."
        )
    else:
        message = _("Please read and agree to the consent text before you continue.")
    raise Conflict(message, slug="consent-required")
