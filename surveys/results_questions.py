"""What a survey's results are about: its questions, merged over its published versions.

Question keys and choice codes are stable from version to version, so answers to every version
add up. Texts come from the current version, else from the latest version that still had the
question or choice (a removed one is marked so).
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import City
from i18n import _
from i18n.content import pick
from surveys.definition import DEFAULT_SCALE, OTHER
from surveys.models import Survey, SurveyVersion, VersionStatus

CHOICE_KINDS = frozenset({"single_choice", "dropdown", "multiple_choice", "yes_no"})
SCALE_KINDS = frozenset({"scale", "rating"})
TEXT_KINDS = frozenset({"short_text", "long_text", "date"})
#: Questions with a row per chosen code or matrix row: respondents are counted, not rows.
SEVERAL_ROWS = frozenset({"multiple_choice", "ranking", "matrix"})


@dataclass
class Question:
    """A question as results show it, merged over the survey's versions."""

    key: str
    type: str
    title: dict
    #: code → translated label, the current version's order first, removed ones after.
    choices: dict[str, dict] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)
    scale: dict = field(default_factory=lambda: dict(DEFAULT_SCALE))
    number: dict = field(default_factory=dict)
    other: bool = False
    #: Not in the current version any more.
    removed: bool = False
    #: Some version asks it with a row per chosen code or matrix row.
    several_rows: bool = False


def published_versions(session: Session, survey: Survey) -> list[SurveyVersion]:
    """Versions residents could answer: the current one first, then newest first."""
    versions = session.scalars(
        sa.select(SurveyVersion)
        .where(
            SurveyVersion.survey_id == survey.id,
            SurveyVersion.status != VersionStatus.DRAFT,
        )
        .order_by(SurveyVersion.number.desc())
    ).all()
    return sorted(versions, key=lambda v: v.id != survey.current_version_id)


def questions_of(
    session: Session, survey: Survey, versions: list[SurveyVersion] | None = None
) -> list[Question]:
    """Every answerable question of every published version, in the current order first
    (``versions``: the published versions, when already loaded)."""
    merged: dict[str, Question] = {}
    if versions is None:
        versions = published_versions(session, survey)
    for index, version in enumerate(versions):
        current = index == 0 and version.id == survey.current_version_id
        for page in version.definition.get("pages", []):
            for spec in page.get("questions", []):
                if spec.get("type") == "note":
                    continue
                question = merged.get(spec["key"])
                if question is None:
                    question = merged[spec["key"]] = Question(
                        key=spec["key"],
                        type=spec["type"],
                        title=spec.get("title") or {},
                        scale=spec.get("scale") or dict(DEFAULT_SCALE),
                        number=spec.get("number") or {},
                        removed=not current,
                    )
                question.several_rows = question.several_rows or spec["type"] in SEVERAL_ROWS
                if spec["type"] != question.type:
                    continue  # a key reused for another type: keep the newest meaning
                for choice in spec.get("choices", []):
                    question.choices.setdefault(choice["value"], choice.get("label") or {})
                for row in spec.get("rows", []):
                    question.rows.setdefault(row["key"], row.get("label") or {})
                question.other = question.other or bool(spec.get("other"))
    for question in merged.values():
        if question.type == "yes_no":
            question.choices = {"yes": {}, "no": {}}
        if question.other:
            question.choices.pop(OTHER, None)
            question.choices[OTHER] = {}
    return list(merged.values())


def choice_label(question: Question, code: str, locale: str, city: City) -> str:
    """A choice's label for a reader; built-in choices (yes, no, other) in the UI language."""
    if question.type == "yes_no":
        return _("Yes") if code == "yes" else _("No")
    if code == OTHER and question.other:
        return _("Other")
    return pick(question.choices.get(code), locale, city.default_locale)[0] or code


def text_of(value: dict | None, locale: str, city: City, default: str = "") -> str:
    return pick(value, locale, city.default_locale)[0] or default
