"""What each kind of research export contains, and what a researcher may choose from.

A dataset is a function building the export's tables (research/table.py): their variables
described for the codebook and the anonymiser, their rows read as a stream (microdata) or
their cells counted (aggregates). Every table holds only the population of
research/population.py: people whose research consent stands, and what deleted accounts left
for research. The pipeline turns raw participant keys into pseudonyms, scrubs free text,
generalises quasi-identifiers and suppresses small cells; datasets never read e-mail
addresses, names, tokens or addresses.
"""

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import City
from campaigns.models import Campaign
from i18n import _, current_locale
from i18n.content import pick
from research.datasets.energy import build_energy
from research.datasets.ideas import build_ideas
from research.datasets.survey import build_survey
from research.datasets.survey_layout import UNMARKABLE
from research.datasets.workshops import build_workshops
from research.models import DatasetKind, ResearchExport
from research.options import ExportOptions
from research.table import Table
from surveys.models import ResponseStatus, Survey, SurveyResponse, SurveyVersion
from surveys.results_questions import questions_of, text_of

TableBuilder = Callable[[Session, ResearchExport, ExportOptions], list[Table]]

DATASETS: dict[DatasetKind, TableBuilder] = {
    DatasetKind.SURVEY: build_survey,
    DatasetKind.IDEAS: build_ideas,
    DatasetKind.WORKSHOPS: build_workshops,
    DatasetKind.ENERGY: build_energy,
}


def subjects(session: Session, city_id: int, kind: DatasetKind) -> list[tuple[int, str]]:
    """(id, title in the current language) of what the city may export as ``kind``: its
    surveys with at least one submitted response, or its campaigns; newest first."""
    city = session.get(City, city_id)
    if city is None:
        return []
    locale = current_locale()
    if DatasetKind(kind) == DatasetKind.SURVEY:
        answered = (
            sa.select(SurveyResponse.id)
            .where(
                SurveyResponse.survey_id == Survey.id,
                SurveyResponse.status == ResponseStatus.SUBMITTED.value,
            )
            .exists()
        )
        rows = session.execute(
            sa.select(Survey.id, SurveyVersion.definition)
            .outerjoin(SurveyVersion, SurveyVersion.id == Survey.current_version_id)
            .where(Survey.city_id == city.id, answered)
            .order_by(Survey.id.desc())
        ).all()
        return [
            (
                survey_id,
                text_of((definition or {}).get("title"), locale, city)
                or _("Survey %(number)d", number=survey_id),
            )
            for survey_id, definition in rows
        ]
    rows = session.execute(
        sa.select(Campaign.id, Campaign.title)
        .where(Campaign.city_id == city.id)
        .order_by(Campaign.id.desc())
    ).all()
    return [
        (
            campaign_id,
            pick(title, locale, city.default_locale)[0]
            or _("Campaign %(number)d", number=campaign_id),
        )
        for campaign_id, title in rows
    ]


def quasi_candidates(session: Session, survey_id: int) -> list[tuple[str, str]]:
    """(question key, title in the current language) of the survey's questions a researcher
    may mark quasi-identifying or sensitive: every question of its published versions but
    free text, in the survey's order; none for a survey that does not exist."""
    survey = session.get(Survey, survey_id) if 0 < survey_id < 2**31 else None
    if survey is None:
        return []
    locale = current_locale()
    return [
        (question.key, text_of(question.title, locale, survey.city) or question.key)
        for question in questions_of(session, survey)
        if question.type not in UNMARKABLE
    ]
