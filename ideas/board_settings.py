"""What moderators enter for a board, checked: translated texts, categories, settings, times.

Problems are collected per field (``errors``), so a form or an API shows them all at once.
"""

import re
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.citytime import instant
from app.models import City
from i18n import _
from i18n.content import check_translated, cleaned, translation_problems
from ideas.models import Board, Idea, LocationMode

#: Longest text of each translated field, per language (descriptions use the markdown subset).
MAX_LENGTH = {"title": 200, "description": 5000}
MAX_LABEL_LENGTH = 100
MAX_CATEGORIES = 50
CATEGORY_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
TIMES = ("collecting_from", "supporting_from", "closes_at")
SETTINGS = (
    "requires_approval",
    "categories",
    "location",
    "support_budget",
    "supports_withdrawable",
    "flag_threshold",
    "edit_minutes",
    *TIMES,
)
#: Bounds of the numeric settings.
LIMITS = {"support_budget": (1, 1000), "flag_threshold": (1, 100), "edit_minutes": (0, 10_080)}


def check_texts(city: City, values: dict, errors: dict) -> dict[str, dict]:
    return check_translated(values, MAX_LENGTH, city.enabled_locales, city.default_locale, errors)


def _check_categories(city: City, categories, errors: dict) -> list[dict]:
    if not isinstance(categories, list) or len(categories) > MAX_CATEGORIES:
        errors["categories"] = [_("At most %(max)d categories.", max=MAX_CATEGORIES)]
        return []
    checked, codes = [], set()
    for category in categories:
        if not isinstance(category, dict) or set(category) - {"code", "label"}:
            errors["categories"] = [_("Each category has a code and a label.")]
            return []
        code = category.get("code")
        if not isinstance(code, str) or not CATEGORY_CODE.fullmatch(code):
            errors["categories"] = [
                _("Category codes use lower-case letters, digits, - and _ (at most 64).")
            ]
            return []
        if code in codes:
            errors["categories"] = [_("Two categories have the code %(code)s.", code=code)]
            return []
        codes.add(code)
        label = cleaned(category.get("label") if isinstance(category.get("label"), dict) else {})
        problems = translation_problems(label, city.enabled_locales, MAX_LABEL_LENGTH)
        if not problems and not label.get(city.default_locale):
            problems = [_("Each category needs a label in the city's main language.")]
        if problems:
            errors["categories"] = problems
            return []
        checked.append({"code": code, "label": label})
    return checked


def check_settings(board: Board | None, city: City, values: dict, errors: dict) -> dict:
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"not board settings: {sorted(unknown)}")
    settings = dict(values)
    if "categories" in values:
        settings["categories"] = _check_categories(city, values["categories"], errors)
    if "location" in values and values["location"] not in set(LocationMode):
        errors["location"] = [_("Choose whether a location is off, optional or required.")]
    for field, (low, high) in LIMITS.items():
        value = values.get(field)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            errors[field] = [_("Must be between %(min)d and %(max)d.", min=low, max=high)]
    for field in ("requires_approval", "supports_withdrawable"):
        if field in values and not isinstance(values[field], bool):
            errors[field] = [_("Not a valid boolean.")]
    for field in ("flag_threshold", "edit_minutes"):
        if field in values and values[field] is None:
            errors[field] = [_("This field is required.")]
    for field in TIMES:
        if values.get(field) is not None:
            settings[field] = instant(city, field, values[field], errors)
    times = [
        (field, settings[field] if field in settings else getattr(board, field, None))
        for field in TIMES
    ]
    given = [(field, moment) for field, moment in times if moment is not None]
    if not any(field in errors for field in TIMES):
        for (_before, earlier), (field, later) in pairwise(given):
            if later <= earlier:
                errors[field] = [_("The phases must follow each other: collect, support, close.")]
                break
    return settings


def used_codes(session: Session, board: Board, codes: set[str]) -> list[str]:
    if not codes:
        return []
    return sorted(
        session.scalars(
            sa.select(Idea.category)
            .where(Idea.board_id == board.id, Idea.category.in_(codes))
            .distinct()
        )
    )
