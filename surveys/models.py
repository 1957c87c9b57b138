"""Surveys of a campaign, their frozen versions, and residents' responses.

A survey's questions live in versions: a version's ``definition`` (see surveys/definition.py)
is edited while it is a draft and frozen once published. A response records the version it
answered; its answers are kept twice: as sent (``answers``, to resume a draft and to tell a
retried submission from a changed one) and, once submitted, as one row per atomic value
(``ResponseAnswer``) for results computed in SQL.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City
from campaigns.models import Campaign


class SurveyStatus(enum.StrEnum):
    #: Never published: residents do not see it.
    DRAFT = "draft"
    #: Published: collecting between ``opens_at`` and ``closes_at``.
    PUBLISHED = "published"
    #: Closed by a moderator or by its closing time: results only.
    CLOSED = "closed"


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    #: A newer version was published; responses to this one stay valid.
    SUPERSEDED = "superseded"


class Survey(Base):
    """A survey such as "How do you heat your flat?" in a campaign."""

    __tablename__ = "surveys"
    __table_args__ = (sa.Index("ix_surveys_schedule", "status", "opens_at", "closes_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    #: When residents may answer; None: from publication / until closed by hand.
    opens_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Responses started before closing are still taken this long after it.
    grace_minutes: Mapped[int] = mapped_column(nullable=False, default=60)
    allow_multiple: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: No account is linked to its responses (a response is deduplicated by its client UUID).
    anonymous: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: The published version residents answer now.
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_versions.id", ondelete="SET NULL", use_alter=True), nullable=True
    )
    #: When the campaign's followers were told it opened, and reminded before it closes.
    opening_told_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    city: Mapped[City] = relationship()
    campaign: Mapped[Campaign] = relationship()
    current_version: Mapped["SurveyVersion | None"] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    def __repr__(self) -> str:
        return f"<Survey {self.id} {self.status}>"


class SurveyVersion(Base):
    """One version of a survey's texts, pages and questions."""

    __tablename__ = "survey_versions"
    __table_args__ = (sa.UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[int] = mapped_column(nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    #: Title, introduction, closing message, pages and questions (surveys/definition.py).
    definition: Mapped[dict] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)

    survey: Mapped[Survey] = relationship(foreign_keys=[survey_id])

    def __repr__(self) -> str:
        return f"<SurveyVersion {self.survey_id}v{self.number} {self.status}>"


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class SurveyResponse(Base):
    """One resident's answers to one survey version, as a draft or submitted."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        # A phone's retries and parallel sends of one response are one row.
        sa.UniqueConstraint("survey_id", "client_uuid"),
        # One response per person where the survey allows one (NULLs never collide).
        sa.UniqueConstraint("survey_id", "single_owner_id"),
        # Results: responses per day, and the respondents of a language or version, from the
        # index alone.
        sa.Index(
            "ix_survey_responses_results",
            "survey_id",
            "status",
            "submitted_at",
            "locale",
            "version_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_versions.id"), nullable=False, index=True
    )
    #: The respondent; None for anonymous surveys.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    #: The respondent again, only on surveys answered once per person: the unique key.
    single_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: Chosen by the phone, so offline retries and resends are recognised.
    client_uuid: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    #: The language the survey was answered in.
    locale: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    #: Answers as sent: question key → value (surveys/answers.py).
    answers: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: SHA-256 of the submitted answers: the same UUID with other answers is refused.
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Set when the respondent deleted their account having consented to research use: the
    #: response is kept with no link to anyone (no user, a fresh client UUID, times cut to the
    #: day) and stays in research exports.
    kept_for_research_at: Mapped[datetime | None] = mapped_column(nullable=True)

    survey: Mapped[Survey] = relationship()
    version: Mapped[SurveyVersion] = relationship()

    def __repr__(self) -> str:
        return f"<SurveyResponse {self.id} {self.status}>"


class ResponseAnswer(Base):
    """One atomic value of a submitted response, for results computed in SQL.

    Single choice, dropdown, yes/no: ``choice``. Multiple choice: a row per chosen code.
    Scale, rating, number: ``number``. Texts and dates: ``text`` (dates as ISO 8601).
    Ranking: a row per code with its position (1 = first) in ``number``. Matrix: a row per
    answered row (``item``) with its scale value in ``number``. "Other, please specify":
    ``choice`` is ``other`` and ``text`` holds what was written.
    """

    __tablename__ = "response_answers"
    __table_args__ = (
        # Results: one survey's answers grouped per question, row, choice and value, and who
        # chose what, read from the index alone (in its order) without a join.
        sa.Index(
            "ix_response_answers_results",
            "survey_id",
            "question",
            "item",
            "choice",
            "number",
            "response_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Copied from the response, so results group one survey's rows without a join.
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False
    )
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_responses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The question's key, stable across versions.
    question: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    item: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    choice: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    number: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    text: Mapped[str | None] = mapped_column(sa.Text, nullable=True)

    def __repr__(self) -> str:
        return f"<ResponseAnswer {self.response_id} {self.question}>"
