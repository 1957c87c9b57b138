"""A response's answers: checked against a definition, made canonical, and cut into rows.

The format is in surveys/definition.py. Errors are keyed by question key (a problem with the
text of "other, please specify" too is under the question's key); a body that is not an object
at all is reported under ``answers``.

- A draft (``complete=False``) checks only the values given: types, ranges, codes, lengths,
  the most selections. Submitting (``complete=True``) also asks for required questions, the
  fewest selections, the text of a chosen "other", every row of a required matrix and every
  choice of a required ranking — but only among the questions visible with these answers.
- A key that is no question of the survey (or is a note) is an error. An answer to a question
  that is hidden by skip logic is not checked: ``normalized`` drops it, since a resident may
  have changed the earlier answer that showed it.
- Empty values (None, "", white space, [], {}) mean "not answered".
"""

import hashlib
import json
import math
import re

from i18n import _, ngettext
from surveys.definition import DEFAULT_SCALE, OTHER, TEXT_LENGTH
from surveys.logic import CHOICE_TYPES, is_empty, is_number, parse_date, visible_questions

#: Longest "other, please specify" text.
MAX_OTHER = 500
#: Answers to pattern questions are matched only up to this length (a bound on regex time).
PATTERN_INPUT = 200
NUMBER_BOUND = 1e15
OTHER_SUFFIX = ".other"


class _Refused(Exception):
    """An answer value that cannot be taken, with the message why."""


def _questions(definition: dict) -> dict[str, dict]:
    return {
        question["key"]: question
        for page in definition.get("pages", [])
        for question in page.get("questions", [])
        if question.get("type") != "note"
    }


def validate(definition: dict, answers: dict, *, complete: bool) -> dict[str, list[str]]:
    """Translated errors by question key; empty when the answers can be saved (as a draft) or
    submitted (``complete``)."""
    if not isinstance(answers, dict):
        return {"answers": [_("Not a valid object.")]}
    questions = _questions(definition)
    errors: dict[str, list[str]] = {}
    if len(answers) > 2 * len(questions) + 10:
        return {"answers": [_("Too many answers.")]}
    for key in answers:
        if not isinstance(key, str):
            errors[str(key)[:80]] = [_("Not a question of this survey.")]
            continue
        name = key[: -len(OTHER_SUFFIX)] if str(key).endswith(OTHER_SUFFIX) else key
        question = questions.get(name)
        if question is None or (name != key and not question.get("other")):
            errors[str(key)[:80]] = [_("Not a question of this survey.")]
    canonical = _canonical(questions, answers)
    for question in visible_questions(definition, canonical):
        key = question["key"]
        if question.get("type") == "note" or key in errors:
            continue
        problem = _problem(question, answers, canonical, complete)
        if problem:
            errors[key] = [problem]
    return errors


def _problem(question: dict, answers: dict, canonical: dict, complete: bool) -> str | None:
    key = question["key"]
    if key in answers and not is_empty(answers[key]):
        try:
            _clean(question, answers[key])
        except _Refused as refused:
            return str(refused)
    other = answers.get(key + OTHER_SUFFIX)
    if other is not None and (not isinstance(other, str) or len(other.strip()) > MAX_OTHER):
        return _("Please specify in at most %(max)d characters.", max=MAX_OTHER)
    if not complete:
        return None
    value = canonical.get(key)
    if value is None:
        return _("Please answer this question.") if question.get("required") else None
    if _chose_other(value) and not canonical.get(key + OTHER_SUFFIX):
        return _("Please specify your other answer.")
    kind = question["type"]
    fewest = question.get("min_selections")
    if kind == "multiple_choice" and fewest and len(value) < fewest:
        return ngettext(
            "Choose at least %(num)d option.", "Choose at least %(num)d options.", fewest
        )
    # A required ranking or matrix is answered in full.
    if question.get("required"):
        if kind == "ranking" and len(value) < len(question["choices"]):
            return _("Please put every option in order.")
        if kind == "matrix" and len(value) < len(question["rows"]):
            return _("Please answer every row.")
    return None


def _chose_other(value: object) -> bool:
    return value == OTHER or (isinstance(value, list) and OTHER in value)


def _canonical(questions: dict[str, dict], answers: dict) -> dict:
    """The answers that can be taken, in canonical form, empty and refused ones left out."""
    result = {}
    for key, question in questions.items():
        value = answers.get(key)
        if is_empty(value):
            continue
        try:
            value = _clean(question, value)
        except _Refused:
            continue
        if is_empty(value):
            continue
        result[key] = value
        other = answers.get(key + OTHER_SUFFIX)
        if _chose_other(result[key]) and isinstance(other, str) and other.strip():
            result[key + OTHER_SUFFIX] = other.strip()[:MAX_OTHER]
    return result


def normalized(definition: dict, answers: dict) -> dict:
    """The answers to store: only visible questions' answers that can be taken, canonical
    (integral numbers as ints, trimmed texts), "<key>.other" only when "other" is chosen."""
    if not isinstance(answers, dict):
        return {}
    canonical = _canonical(_questions(definition), answers)
    result = {}
    for question in visible_questions(definition, canonical):
        key = question.get("key")
        for name in (key, f"{key}{OTHER_SUFFIX}"):
            if name in canonical:
                result[name] = canonical[name]
    return result


def fingerprint(answers: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of normalized answers."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def answer_rows(definition: dict, answers: dict) -> list[dict]:
    """Rows for ResponseAnswer (question, item, choice, number, text) of the answers'
    normalized form; see its docstring."""
    answers = normalized(definition, answers)
    rows: list[dict] = []

    def row(key: str, item=None, choice=None, number=None, text=None) -> None:
        rows.append(
            {"question": key, "item": item, "choice": choice, "number": number, "text": text}
        )

    for question in visible_questions(definition, answers):
        key, kind = question.get("key"), question.get("type")
        if key not in answers:
            continue
        value = answers[key]
        other = answers.get(key + OTHER_SUFFIX)
        if kind in ("single_choice", "dropdown"):
            row(key, choice=value, text=other if value == OTHER else None)
        elif kind == "multiple_choice":
            for code in value:
                row(key, choice=code, text=other if code == OTHER else None)
        elif kind == "yes_no":
            row(key, choice="yes" if value else "no")
        elif kind in ("scale", "rating", "number"):
            row(key, number=value)
        elif kind in ("short_text", "long_text", "date"):
            row(key, text=value)
        elif kind == "ranking":
            for position, code in enumerate(value, start=1):
                row(key, choice=code, number=position)
        elif kind == "matrix":
            for item in (r["key"] for r in question["rows"]):
                if item in value:
                    row(key, item=item, number=value[item])
    return rows


# --- one value ---------------------------------------------------------------------------------


def _clean(question: dict, value: object) -> object:
    """The canonical form of a non-empty answer to ``question``, or _Refused."""
    kind = question["type"]
    if kind in CHOICE_TYPES or kind == "ranking":
        codes = [c["value"] for c in question.get("choices", [])]
        if question.get("other"):
            codes.append(OTHER)
        if kind in ("single_choice", "dropdown"):
            if not isinstance(value, str) or value not in codes:
                raise _Refused(_("Not one of the options."))
            return value
        return _codes(question, value, codes)
    if kind == "yes_no":
        if not isinstance(value, bool):
            raise _Refused(_("Not a valid yes/no value."))
        return value
    if kind in ("scale", "rating"):
        return _point(question.get("scale", DEFAULT_SCALE), value)
    if kind == "number":
        return _number(question.get("number", {}), value)
    if kind in TEXT_LENGTH:
        return _text(question.get("text", {}), value, kind)
    if kind == "date":
        return _date(question.get("date", {}), value)
    if kind == "matrix":
        return _matrix(question, value)
    raise _Refused(_("Not a question of this survey."))


def _codes(question: dict, value: object, codes: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise _Refused(_("Not a valid list."))
    if len(value) > len(codes) or len(set(value)) != len(value):
        raise _Refused(_("Each option may be chosen once."))
    if any(code not in codes for code in value):
        raise _Refused(_("Not one of the options."))
    most = question.get("max_selections")
    if most is not None and len(value) > most:
        raise _Refused(
            ngettext("Choose at most %(num)d option.", "Choose at most %(num)d options.", most)
        )
    return list(value)


def _whole(value: object) -> int | None:
    if is_number(value) and value == int(value):
        return int(value)
    return None


def _point(scale: dict, value: object) -> int:
    point = _whole(value)
    if point is None or not scale["min"] <= point <= scale["max"]:
        raise _Refused(
            _("Choose a value from %(min)d to %(max)d.", min=scale["min"], max=scale["max"])
        )
    return point


def _number(settings: dict, value: object) -> int | float:
    if not is_number(value) or abs(value) > NUMBER_BOUND:
        raise _Refused(_("Not a valid number."))
    if value == int(value):
        value = int(value)
    elif settings.get("integer"):
        raise _Refused(_("Not a valid whole number."))
    low, high = settings.get("min"), settings.get("max")
    if low is not None and value < low:
        raise _Refused(_("Must be at least %(min)s.", min=_show(low)))
    if high is not None and value > high:
        raise _Refused(_("Must be at most %(max)s.", max=_show(high)))
    return value


def _show(number: float) -> str:
    return str(int(number)) if math.isfinite(number) and number == int(number) else str(number)


def _text(settings: dict, value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise _Refused(_("Not a valid text."))
    text = value.strip()
    longest = settings.get("max_length", TEXT_LENGTH[kind])
    if len(text) > longest:
        raise _Refused(_("Longer than the maximum length of %(max)d.", max=longest))
    pattern = settings.get("pattern")
    if pattern and (len(text) > PATTERN_INPUT or not re.fullmatch(pattern, text)):
        raise _Refused(_("Does not have the expected form."))
    return text


def _date(settings: dict, value: object) -> str:
    day = parse_date(value.strip() if isinstance(value, str) else value)
    if day is None:
        raise _Refused(_("Not a valid date."))
    if settings.get("min") and day.isoformat() < settings["min"]:
        raise _Refused(_("Must be on or after %(date)s.", date=settings["min"]))
    if settings.get("max") and day.isoformat() > settings["max"]:
        raise _Refused(_("Must be on or before %(date)s.", date=settings["max"]))
    return day.isoformat()


def _matrix(question: dict, value: object) -> dict[str, int]:
    rows = [row["key"] for row in question["rows"]]
    if not isinstance(value, dict) or len(value) > len(rows):
        raise _Refused(_("Not a valid object."))
    if any(key not in rows for key in value):
        raise _Refused(_("Not a row of this question."))
    # Rows left empty are unanswered; the others in the question's row order.
    return {
        key: _point(question.get("scale", DEFAULT_SCALE), value[key])
        for key in rows
        if value.get(key) is not None
    }
