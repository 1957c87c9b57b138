"""Written answers to a survey for its moderators: a page at a time, searched, small groups hidden.

Texts are listed only for a group of respondents that reaches the minimum (see
``surveys.results_filters``): below it, only the fact is told, never the answers.
"""

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import User
from app.policy import ensure
from i18n import _
from surveys.models import ResponseAnswer, Survey
from surveys.results_filters import (
    DEFAULT_MIN_GROUP,
    Filters,
    check_filters,
    filtered_answers,
    respondents,
)
from surveys.results_questions import (
    CHOICE_KINDS,
    TEXT_KINDS,
    Question,
    published_versions,
    questions_of,
)

TEXTS_PER_PAGE = 20
MAX_SEARCH = 200


@dataclass
class TextPage:
    question: Question
    texts: list[str]
    #: Matching answers (None: the group is too small to list them).
    total: int | None
    page: int
    pages: int


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE … ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_questions(questions: list[Question]) -> list[Question]:
    """Questions with written answers: texts, dates, and choices with "other, please specify"."""
    return [q for q in questions if q.type in TEXT_KINDS or (q.type in CHOICE_KINDS and q.other)]


def text_answers(
    session: Session,
    actor: User,
    survey: Survey,
    key: str,
    filters: Filters,
    search: str = "",
    page: int = 1,
    minimum: int = DEFAULT_MIN_GROUP,
    per_page: int = TEXTS_PER_PAGE,
) -> TextPage:
    """One page of the written answers to question ``key``, newest first, containing
    ``search`` (case-insensitive, literally); nothing for a group under the minimum."""
    ensure(actor, "survey.manage", survey)
    versions = published_versions(session, survey)
    questions = questions_of(session, survey, versions)
    check_filters(session, survey, questions, filters, versions)
    question = next((q for q in text_questions(questions) if q.key == key), None)
    if question is None:
        raise Invalid(errors={"text": [_("Not a question with written answers.")]})
    search = (search or "").strip()[:MAX_SEARCH]
    group = session.scalar(
        sa.select(sa.func.count()).select_from(respondents(survey, filters).subquery())
    )
    if group < minimum:
        return TextPage(question, [], None, 1, 0)
    condition = sa.and_(
        filtered_answers(session, survey, filters),
        ResponseAnswer.question == key,
        ResponseAnswer.text.is_not(None),
        ResponseAnswer.text != "",
    )
    if search:
        condition = sa.and_(
            condition, ResponseAnswer.text.ilike(f"%{escape_like(search)}%", escape="\\")
        )
    total = session.scalar(sa.select(sa.func.count()).where(condition))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    texts = session.scalars(
        sa.select(ResponseAnswer.text)
        .where(condition)
        .order_by(ResponseAnswer.response_id.desc(), ResponseAnswer.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return TextPage(question, list(texts), total, page, pages)
