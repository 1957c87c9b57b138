"""Consent: the texts people agree to, per purpose and city, versioned; and what each person
agreed to, which version, when and how.

Nothing a purpose needs (meter readings for energy feedback, say) is stored without a
consent to that purpose's current text. Withdrawing is as easy as giving: the record keeps
when it was withdrawn.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class Purpose(enum.StrEnum):
    ACCOUNT = "account"
    #: Meter readings imported and turned into feedback for the household.
    ENERGY_FEEDBACK = "energy_feedback"
    #: Contributions used, anonymised, in researchers' exports.
    RESEARCH = "research"
    #: Being contacted for future studies.
    CONTACT = "contact"


class ConsentText(Base):
    """One version of what a person agrees to for a purpose in a city."""

    __tablename__ = "consent_texts"
    __table_args__ = (sa.UniqueConstraint("city_id", "purpose", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    #: 1, 2, ...: a new version asks everyone again on their next use.
    version: Mapped[int] = mapped_column(nullable=False)
    #: Translated: locale → text (markdown subset).
    text: Mapped[dict] = mapped_column(nullable=False)
    #: The current version is the latest published one; drafts have None.
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<ConsentText {self.purpose} v{self.version} city={self.city_id}>"


class Consent(Base):
    """A person's consent to one version of a purpose's text, until withdrawn."""

    __tablename__ = "consents"
    __table_args__ = (sa.Index("ix_consents_person", "user_id", "purpose", "given_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    purpose: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    text_id: Mapped[int] = mapped_column(sa.ForeignKey("consent_texts.id"), nullable=False)
    #: Copied from the text, so the record reads on its own.
    version: Mapped[int] = mapped_column(nullable=False)
    given_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: How it was given: "app" (the mobile API), "console", "import".
    method: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)

    text: Mapped[ConsentText] = relationship()

    def __repr__(self) -> str:
        return f"<Consent {self.purpose} v{self.version} user={self.user_id}>"
