"""What moderators enter for a workshop, checked: texts, times, place, capacity, questions.

Problems are collected per field (``errors``), so a form or an API shows them all at once.
Times given naive are wall-clock times in the city's zone (``app.citytime.instant``).
"""

import math
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from app.cities import inside_area
from app.citytime import instant
from app.models import City
from i18n import _
from i18n.content import check_translated, cleaned, translation_problems
from workshops.models import Workshop

#: Longest text of each translated field, per language (description and agenda use the
#: markdown subset of ideas/text.py).
MAX_LENGTH = {"title": 200, "description": 5000, "agenda": 5000, "accessibility": 1000}
TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
#: Where it happens: a change of these is a change people are told of.
PLACE = ("address", "latitude", "longitude", "online_url")
SETTINGS = (*TIMES, *PLACE, "capacity", "questions", "reminder_hours")
MAX_DURATION = timedelta(hours=24)
CAPACITY = (1, 10_000)
MAX_ADDRESS = 300
MAX_URL = 500
MAX_QUESTIONS = 20
MAX_QUESTION_LABEL = 300
CHOICES = (2, 30)
MAX_CHOICE_LABEL = 100
CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_REMINDERS = 5
#: Reminders from one hour to two weeks before the start.
REMINDER_HOURS = (1, 336)


def check_texts(city: City, values: dict, errors: dict) -> dict[str, dict]:
    """The translated texts among ``values``, cleaned."""
    given = {field: value for field, value in values.items() if field in MAX_LENGTH}
    return check_translated(given, MAX_LENGTH, city.enabled_locales, city.default_locale, errors)


def _whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_capacity(value, errors: dict) -> int | None:
    low, high = CAPACITY
    if not _whole_number(value) or not low <= value <= high:
        errors["capacity"] = [_("Must be between %(min)d and %(max)d.", min=low, max=high)]
        return None
    return value


def _check_times(
    workshop: Workshop | None, city: City, values: dict, errors: dict, now: datetime
) -> dict:
    times: dict = {}
    for field in TIMES:
        if field not in values:
            continue
        value = values[field]
        if value is None:
            if field in ("starts_at", "ends_at"):
                errors[field] = [_("This field is required.")]
            else:
                times[field] = None
        elif not isinstance(value, datetime):
            errors[field] = [_("Enter a valid date and time.")]
        else:
            times[field] = instant(city, field, value, errors)
    if any(field in errors for field in TIMES):
        return times

    def current(field: str) -> datetime | None:
        return times[field] if field in times else getattr(workshop, field, None)

    starts, ends = current("starts_at"), current("ends_at")
    if starts is None or ends is None:
        return times
    # Only a time that changes must lie ahead: editing the texts of a past workshop is fine.
    for field in ("starts_at", "ends_at"):
        moved = field in times and (workshop is None or times[field] != getattr(workshop, field))
        if moved and times[field] <= now:
            errors[field] = [_("Choose a time in the future.")]
            return times
    if ends <= starts:
        errors["ends_at"] = [_("The workshop must end after it starts.")]
    elif ends - starts > MAX_DURATION:
        errors["ends_at"] = [_("A workshop lasts at most 24 hours.")]
    opens, closes = current("registration_opens_at"), current("registration_closes_at")
    if closes is not None and closes > starts:
        errors["registration_closes_at"] = [
            _("Registration must close no later than the workshop starts.")
        ]
    if opens is not None and opens >= (closes or starts):
        errors["registration_opens_at"] = [
            _("Registration must open before it closes and before the workshop starts.")
        ]
    return times


def _check_url(value, errors: dict) -> str | None:
    url = value.strip() if isinstance(value, str) else value
    if url is None or url == "":
        return None
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # e.g. a bracketed host that is no IPv6 address
        parts, host = None, None
    valid = (
        parts is not None
        and len(url) <= MAX_URL
        and parts.scheme == "https"
        and bool(host)
        and not any(char.isspace() or ord(char) < 32 for char in url)
    )
    if not valid:
        errors["online_url"] = [
            _("Use an https:// address of at most %(max)d characters.", max=MAX_URL)
        ]
    return url


def _coordinate(field: str, value, limit: float, errors: dict) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors[field] = [_("Not a valid number.")]
        return None
    if not -limit <= value <= limit:
        errors[field] = [_("Not a place on Earth.")]
        return None
    return float(value)


def _check_place(workshop: Workshop | None, city: City, values: dict, errors: dict) -> dict:
    place: dict = {}
    if "address" in values:
        address = values["address"]
        if address is not None and not isinstance(address, str):
            errors["address"] = [_("Not a valid text.")]
        else:
            place["address"] = " ".join((address or "").split()) or None
            if place["address"] and len(place["address"]) > MAX_ADDRESS:
                errors["address"] = [
                    _("Longer than the maximum length of %(max)d.", max=MAX_ADDRESS)
                ]
    if "online_url" in values:
        place["online_url"] = _check_url(values["online_url"], errors)
    for field, limit in (("latitude", 90.0), ("longitude", 180.0)):
        if field in values:
            place[field] = _coordinate(field, values[field], limit, errors)
    if "latitude" in place or "longitude" in place:
        latitude = place.get("latitude", getattr(workshop, "latitude", None))
        longitude = place.get("longitude", getattr(workshop, "longitude", None))
        if "latitude" in errors or "longitude" in errors:
            pass
        elif (latitude is None) != (longitude is None):
            errors["latitude" if latitude is None else "longitude"] = [
                _("Give both latitude and longitude.")
            ]
        elif latitude is not None and not inside_area(city.bounds, latitude, longitude):
            errors["latitude"] = [_("This place is outside the city.")]
    return place


def has_place(workshop: Workshop, place: dict | None = None) -> bool:
    """Whether people know where to go: an address or an online link."""
    place = place or {}
    address = place.get("address", workshop.address)
    url = place.get("online_url", workshop.online_url)
    return bool(address or url)


def no_place_errors() -> dict:
    message = _("Give an address or an online link: participants need to know where to go.")
    return {"address": [message], "online_url": [message]}


def _label(city: City, value, limit: int) -> tuple[dict, list[str]]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()
    ):
        return {}, [_("Give a text per language.")]
    label = cleaned(value)
    problems = translation_problems(label, city.enabled_locales, limit)
    if not problems and not label.get(city.default_locale):
        problems = [_("Each label needs a text in the city's main language.")]
    return label, problems


def _code_problem(code, seen: set[str]) -> str | None:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        return _("Codes use lower-case letters, digits, - and _ (at most 64).")
    if code in seen:
        return _("Two have the code %(code)s.", code=code)
    seen.add(code)
    return None


def _check_choices(city: City, choices, problems: list[str]) -> list[dict]:
    low, high = CHOICES
    if not isinstance(choices, list) or not low <= len(choices) <= high:
        problems.append(_("Between %(min)d and %(max)d choices.", min=low, max=high))
        return []
    checked, codes = [], set()
    for choice in choices:
        if not isinstance(choice, dict) or set(choice) - {"code", "label"}:
            problems.append(_("Each choice has a code and a label."))
            return []
        if problem := _code_problem(choice.get("code"), codes):
            problems.append(problem)
            return []
        label, label_problems = _label(city, choice.get("label"), MAX_CHOICE_LABEL)
        if label_problems:
            problems.extend(label_problems)
            return []
        checked.append({"code": choice["code"], "label": label})
    return checked


def _check_question(city: City, question, codes: set[str]) -> tuple[dict, list[str]]:
    if not isinstance(question, dict) or set(question) - {"code", "label", "required", "choices"}:
        return {}, [_("Each question has a code, a label, whether it is required and choices.")]
    if problem := _code_problem(question.get("code"), codes):
        return {}, [problem]
    label, problems = _label(city, question.get("label"), MAX_QUESTION_LABEL)
    required = question.get("required", False)
    if not isinstance(required, bool):
        problems.append(_("Not a valid yes/no value."))
    checked = {"code": question["code"], "label": label, "required": required}
    if question.get("choices") is not None:
        checked["choices"] = _check_choices(city, question["choices"], problems)
    return checked, problems


def _check_questions(city: City, questions, errors: dict) -> list[dict]:
    if not isinstance(questions, list) or len(questions) > MAX_QUESTIONS:
        errors["questions"] = [_("At most %(max)d questions.", max=MAX_QUESTIONS)]
        return []
    checked, codes, problems = [], set(), []
    for number, question in enumerate(questions, start=1):
        one, found = _check_question(city, question, codes)
        problems += [
            _("Question %(number)d: %(problem)s", number=number, problem=problem)
            for problem in found
        ]
        checked.append(one)
    if problems:
        errors["questions"] = problems
    return checked


def _check_reminders(hours, errors: dict) -> list[int]:
    low, high = REMINDER_HOURS
    valid = (
        isinstance(hours, list)
        and len(hours) <= MAX_REMINDERS
        and all(_whole_number(h) and low <= h <= high for h in hours)
        and len(set(hours)) == len(hours)
    )
    if not valid:
        errors["reminder_hours"] = [
            _(
                "Up to %(count)d different numbers of hours, each between %(min)d and %(max)d.",
                count=MAX_REMINDERS,
                min=low,
                max=high,
            )
        ]
        return []
    return sorted(hours, reverse=True)


def check_settings(
    workshop: Workshop | None, city: City, values: dict, errors: dict, now: datetime
) -> dict:
    """The settings among ``values`` (times, place, capacity, questions, reminders), checked
    against each other and against what ``workshop`` holds already."""
    unknown = set(values) - set(SETTINGS) - set(MAX_LENGTH)
    if unknown:
        raise TypeError(f"not workshop settings: {sorted(unknown)}")
    settings = _check_times(workshop, city, values, errors, now)
    settings |= _check_place(workshop, city, values, errors)
    if "capacity" in values:
        settings["capacity"] = _check_capacity(values["capacity"], errors)
    if "questions" in values:
        settings["questions"] = _check_questions(city, values["questions"], errors)
    if "reminder_hours" in values:
        settings["reminder_hours"] = _check_reminders(values["reminder_hours"], errors)
    return settings
