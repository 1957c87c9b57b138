"""News that a city's staff publish to the whole city or one campaign."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City
from campaigns.models import Campaign


class UpdateStatus(enum.StrEnum):
    DRAFT = "draft"
    #: Waiting for ``publish_at``; the scheduler publishes it then.
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class Update(Base):
    """An update such as "Scaffolding goes up on Monday", in the city's languages."""

    __tablename__ = "updates"
    __table_args__ = (
        # Residents' list: one city's published updates, newest first.
        sa.Index("ix_updates_listing", "city_id", "status", "published_at", "id"),
        # The scheduler's search for updates that are due.
        sa.Index("ix_updates_due", "status", "publish_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    #: None: for the whole city; else for the campaign's followers.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: Translated values: locale → text; the body is sanitised HTML.
    title: Mapped[dict] = mapped_column(nullable=False)
    body: Mapped[dict] = mapped_column(nullable=False, default=dict)
    image_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    image_alt: Mapped[dict] = mapped_column(nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    publish_at: Mapped[datetime | None] = mapped_column(nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Set when the first publication told people; publishing again tells nobody twice.
    notified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    city: Mapped[City] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    def __repr__(self) -> str:
        return f"<Update {self.id} {self.status}>"
