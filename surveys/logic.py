"""Skip logic: conditions (``show_if``) checked when a definition is saved, evaluated on answers.

Conditions are plain data (surveys/definition.py) read by the small evaluator below, never
``eval``. The evaluator is total: a malformed condition or an answer of an unexpected type
makes a condition false, never an exception, so stored data cannot break a response.

Meaning of the operators on an answer:

- ``answered``: the answer is not empty (None, "", white space, [] and {} are empty; false and
  0 are answers). ``not_answered``: the opposite.
- ``equals``: the same value (a number equals the same number, true is never 1). On a list
  answer (multiple choice) it means "this code is among the chosen".
- ``not_equals``: the opposite of ``equals``, so it also holds while the question is
  unanswered; combine it with ``answered`` when that matters.
- ``any_of``: ``equals`` one of the listed values (on a list answer: any listed code chosen).
- ``gt``, ``lt``: a number answer greater / less than the value; on a date question, an ISO
  date after / before the value. False while unanswered.
"""

import math
import re
from datetime import date

from i18n import _

OPS = ("equals", "not_equals", "any_of", "gt", "lt", "answered", "not_answered")
#: Conditions nest at most this deep (a leaf alone is depth 1).
MAX_DEPTH = 5
#: Items of one "all"/"any", and values of one "any_of".
MAX_ITEMS = 20
MAX_VALUES = 100

NUMERIC_TYPES = frozenset({"scale", "rating", "number"})
CHOICE_TYPES = frozenset({"single_choice", "dropdown", "multiple_choice"})
#: Questions a condition may compare values of; matrix and ranking only answered/not_answered.
COMPARABLE_TYPES = CHOICE_TYPES | NUMERIC_TYPES | {"yes_no", "short_text", "long_text", "date"}

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object) -> date | None:
    """A ``YYYY-MM-DD`` string as a date, or None."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def is_number(value: object) -> bool:
    """A finite JSON number; booleans are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


# --- evaluation -----------------------------------------------------------------------------


def evaluate(condition: dict | None, answers: dict) -> bool:
    """Whether ``condition`` holds for ``answers``; no condition always holds."""
    if condition is None:
        return True
    if not isinstance(answers, dict):
        answers = {}
    return _holds(condition, answers, 1)


def _holds(condition: object, answers: dict, depth: int) -> bool:
    if not isinstance(condition, dict) or depth > MAX_DEPTH:
        return False
    if "all" in condition or "any" in condition:
        items = condition.get("all", condition.get("any"))
        if not isinstance(items, list) or not items or len(condition) != 1:
            return False
        results = (_holds(item, answers, depth + 1) for item in items)
        return all(results) if "all" in condition else any(results)
    key, op = condition.get("question"), condition.get("op")
    if not isinstance(key, str) or op not in OPS:
        return False
    answer = answers.get(key)
    if op == "answered":
        return not is_empty(answer)
    if op == "not_answered":
        return is_empty(answer)
    value = condition.get("value")
    if op == "equals":
        return _matches(answer, value)
    if op == "not_equals":
        return not _matches(answer, value)
    if op == "any_of":
        return isinstance(value, list) and any(_matches(answer, v) for v in value[:MAX_VALUES])
    return _compares(answer, value, op)


def _same(answer: object, value: object) -> bool:
    if isinstance(answer, bool) or isinstance(value, bool):
        return isinstance(answer, bool) and isinstance(value, bool) and answer == value
    if is_number(answer) and is_number(value):
        return answer == value
    if isinstance(answer, str) and isinstance(value, str):
        return answer.strip() == value.strip()
    return False


def _matches(answer: object, value: object) -> bool:
    if isinstance(answer, list):
        return any(_same(item, value) for item in answer)
    return _same(answer, value)


def _compares(answer: object, value: object, op: str) -> bool:
    if is_number(answer) and is_number(value):
        left, right = answer, value
    else:
        left, right = parse_date(answer), parse_date(value)
        if left is None or right is None:
            return False
    return left > right if op == "gt" else left < right


def visible_questions(definition: dict, answers: dict) -> list[dict]:
    """The questions a resident with ``answers`` sees, in order (notes included).

    A question is visible when its page's condition and its own hold. Conditions only see the
    answers of questions visible so far: an answer left on a question that became hidden does
    not keep showing the questions that depend on it.
    """
    if not isinstance(answers, dict):
        answers = {}
    seen: dict = {}
    visible: list[dict] = []
    for page in definition.get("pages", []):
        if not evaluate(page.get("show_if"), seen):
            continue
        for question in page.get("questions", []):
            if not evaluate(question.get("show_if"), seen):
                continue
            visible.append(question)
            key = question.get("key")
            if key in answers:
                seen[key] = answers[key]
    return visible


# --- checking when a definition is saved ------------------------------------------------------


def condition_problems(condition: object, earlier: dict[str, dict], known: set[str]) -> list[str]:
    """What is wrong with a condition that may refer to the ``earlier`` questions (key →
    question) of a survey whose questions are ``known``; empty when nothing is."""
    problems: list[str] = []
    _check(condition, earlier, known, 1, problems)
    return problems


def _check(condition: object, earlier: dict, known: set, depth: int, problems: list) -> None:
    if depth > MAX_DEPTH:
        problems.append(
            _("Conditions are nested too deeply (at most %(max)d levels).", max=MAX_DEPTH)
        )
        return
    if not isinstance(condition, dict):
        problems.append(_("Not a valid condition."))
        return
    if "all" in condition or "any" in condition:
        items = condition.get("all", condition.get("any"))
        if len(condition) != 1 or not isinstance(items, list) or not items:
            problems.append(_("“all” and “any” take a non-empty list of conditions."))
        elif len(items) > MAX_ITEMS:
            problems.append(_("At most %(max)d conditions in one group.", max=MAX_ITEMS))
        else:
            for item in items:
                _check(item, earlier, known, depth + 1, problems)
        return
    if set(condition) - {"question", "op", "value"} or condition.get("op") not in OPS:
        problems.append(_("Not a valid condition."))
        return
    key, op = condition.get("question"), condition["op"]
    question = earlier.get(key) if isinstance(key, str) else None
    if question is None:
        if isinstance(key, str) and key in known:
            problems.append(_("“%(key)s” does not come before this question.", key=key))
        else:
            problems.append(_("There is no question “%(key)s” in this survey.", key=str(key)[:64]))
        return
    if op in ("answered", "not_answered"):
        if "value" in condition:
            problems.append(_("“%(op)s” takes no value.", op=op))
        return
    if question["type"] not in COMPARABLE_TYPES:
        problems.append(_("Answers to “%(key)s” can only be tested for being answered.", key=key))
        return
    value = condition.get("value")
    if op in ("gt", "lt"):
        numeric = question["type"] in NUMERIC_TYPES
        if not (numeric and is_number(value)) and not (
            question["type"] == "date" and parse_date(value)
        ):
            problems.append(_("“%(op)s” needs a number (or a date for a date question).", op=op))
        return
    values = value if op == "any_of" else [value]
    if op == "any_of" and (not isinstance(value, list) or not 0 < len(value) <= MAX_VALUES):
        problems.append(_("“any_of” takes a list of 1 to %(max)d values.", max=MAX_VALUES))
        return
    if not all(_fits(question, v) for v in values):
        problems.append(_("The value does not fit question “%(key)s”.", key=key))


def _fits(question: dict, value: object) -> bool:
    """Whether ``value`` is a possible answer (or chosen code) of ``question``."""
    kind = question["type"]
    if kind in CHOICE_TYPES:
        codes = {choice["value"] for choice in question.get("choices", [])}
        if question.get("other"):
            codes.add("other")
        return isinstance(value, str) and value in codes
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind in NUMERIC_TYPES:
        return is_number(value)
    if kind == "date":
        return parse_date(value) is not None
    return isinstance(value, str) and bool(value.strip())
