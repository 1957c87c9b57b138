"""Checking a survey definition (the format is in surveys/definition.py) before it is saved.

``check_definition`` walks the document and collects every problem under its path
(``pages.0.questions.2.choices.1.label``…) instead of stopping at the first; it returns the
definition cleaned: unknown fields refused, texts trimmed, defaults filled in. A text answer's
pattern is checked here too (``pattern_problem``), so a regular expression that could take
exponential time to match is never saved.
"""

import re

from app.errors import Invalid
from i18n import _, language_name
from i18n.content import cleaned, translation_problems
from surveys.definition import (
    CODE,
    COMMON,
    DEFAULT_SCALE,
    KEY,
    LENGTHS,
    MAX_CHOICES,
    MAX_PAGES,
    MAX_PATTERN,
    MAX_QUESTIONS,
    MAX_ROWS,
    MAX_SCALE_POINTS,
    MAX_TEXT_LENGTH,
    NUMBER_BOUND,
    OTHER,
    SCALE_BOUND,
    SETTINGS,
    TEXT_LENGTH,
    TYPES,
)
from surveys.logic import (
    CHOICE_TYPES,
    condition_problems,
    is_number,
    parse_date,
)

#: A quantified group that itself holds a quantifier or an alternative: (a+)+, (a|aa)*.
NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}|](?:[^()\\]|\\.)*\)[+*{?]")
UNBOUNDED = re.compile(r"(?<!\\)(?:[+*]|\{\d*,\})")
MAX_UNBOUNDED = 3


def check_definition(definition: dict, locales: list[str], previous: dict | None = None) -> dict:
    """The definition cleaned for saving, or Invalid with errors by path.

    ``locales`` are the city's languages, its main one first (required for every title and
    label). Error paths follow the document: ``title``, ``pages.0.key``,
    ``pages.0.questions.2.choices.1.label``, ``pages.1.questions.0.show_if``…
    ``previous`` (the last published definition) is accepted for callers' symmetry: identities
    are kept by keys and choice values, so nothing needs checking against it.
    """
    if not isinstance(definition, dict):
        raise Invalid(errors={"definition": [_("Not a valid object.")]})
    checker = _Checker(list(locales))
    result = checker.survey(definition)
    if checker.errors:
        raise Invalid(errors=checker.errors)
    return result


def _questions(page: object) -> list:
    """A page's questions where they are a list; anything else is refused later, not here."""
    questions = page.get("questions") if isinstance(page, dict) else None
    return questions if isinstance(questions, list) else []


class _Checker:
    def __init__(self, locales: list[str]):
        self.locales = locales
        self.errors: dict[str, list[str]] = {}
        self.question_keys: set[str] = set()

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def unknown(self, value: dict, allowed: set, path: str) -> None:
        for field in sorted(str(k) for k in value if k not in allowed)[:10]:
            self.add(f"{path}.{field}" if path else field, _("Unknown field."))

    def texts(self, value: dict, field: str, path: str, kind: str, required: bool) -> dict:
        """A translated text, cleaned; {} when absent or wrong."""
        path = f"{path}.{field}" if path else field
        raw = value.get(field)
        if raw is not None and not (
            isinstance(raw, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items())
        ):
            self.add(path, _("Not a valid translated text."))
            return {}
        texts = cleaned(raw)
        problems = translation_problems(texts, self.locales, LENGTHS[kind])
        for problem in problems:
            self.add(path, problem)
        if required and not problems and not texts.get(self.locales[0]):
            main = language_name(self.locales[0])
            self.add(path, _("A text in %(language)s is required.", language=main))
        return {} if problems else texts

    def listed(self, value: object, path: str, maximum: int, minimum: int = 0) -> list:
        if not isinstance(value, list):
            self.add(path, _("Not a valid list."))
            return []
        if not minimum <= len(value) <= maximum:
            self.add(
                path,
                _("Between %(min)d and %(max)d items.", min=minimum, max=maximum),
            )
            return []
        return value

    def key(self, value: object, path: str, pattern: re.Pattern, taken: set) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.add(
                path,
                _("Use 1 to 64 lower-case letters, digits and underscores, starting with a letter.")
                if pattern is KEY
                else _("Use 1 to 64 lower-case letters, digits and underscores."),
            )
            return None
        if value in taken:
            self.add(path, _("“%(key)s” is used twice.", key=value))
            return None
        taken.add(value)
        return value

    # --- the document -------------------------------------------------------------------

    def survey(self, definition: dict) -> dict:
        self.unknown(definition, {"title", "introduction", "closing", "pages"}, "")
        result: dict = {"title": self.texts(definition, "title", "", "survey", True)}
        for field in ("introduction", "closing"):
            texts = self.texts(definition, field, "", field, False)
            if texts:
                result[field] = texts
        pages = self.listed(definition.get("pages"), "pages", MAX_PAGES, 1)
        if sum(len(_questions(p)) for p in pages) > MAX_QUESTIONS:
            self.add("pages", _("At most %(max)d questions.", max=MAX_QUESTIONS))
            return result
        # Every well-formed question key, to tell "comes later" from "does not exist".
        self.known = {
            q.get("key")
            for p in pages
            for q in _questions(p)
            if isinstance(q, dict) and isinstance(q.get("key"), str)
        }
        earlier: dict[str, dict] = {}
        page_keys: set[str] = set()
        result["pages"] = [
            self.page(page, f"pages.{i}", earlier, page_keys) for i, page in enumerate(pages)
        ]
        return result

    def page(self, page: object, path: str, earlier: dict, page_keys: set) -> dict:
        if not isinstance(page, dict):
            self.add(path, _("Not a valid object."))
            return {}
        self.unknown(page, {"key", "title", "show_if", "questions"}, path)
        result: dict = {"key": self.key(page.get("key"), f"{path}.key", KEY, page_keys)}
        title = self.texts(page, "title", path, "page", False)
        if title:
            result["title"] = title
        self.condition(page, result, path, earlier)
        questions = self.listed(page.get("questions", []), f"{path}.questions", MAX_QUESTIONS)
        result["questions"] = []
        for i, question in enumerate(questions):
            checked = self.question(question, f"{path}.questions.{i}", earlier)
            if checked:
                result["questions"].append(checked)
                if checked["type"] != "note" and checked["key"]:
                    earlier[checked["key"]] = checked
        return result

    def condition(self, value: dict, result: dict, path: str, earlier: dict) -> None:
        if value.get("show_if") is None:
            return
        problems = condition_problems(value["show_if"], earlier, self.known)
        for problem in problems[:5]:
            self.add(f"{path}.show_if", problem)
        result["show_if"] = value["show_if"]

    def question(self, question: object, path: str, earlier: dict) -> dict | None:
        if not isinstance(question, dict):
            self.add(path, _("Not a valid object."))
            return None
        kind = question.get("type")
        if kind not in TYPES:
            self.add(f"{path}.type", _("Not a known question type."))
            return None
        allowed = COMMON | SETTINGS[kind]
        if kind == "note":
            allowed = allowed - {"required"}
        self.unknown(question, allowed, path)
        key = self.key(question.get("key"), f"{path}.key", KEY, self.question_keys)
        result: dict = {"key": key, "type": kind}
        result["title"] = self.texts(question, "title", path, "question", True)
        help_text = self.texts(question, "help", path, "help", False)
        if help_text:
            result["help"] = help_text
        if kind != "note":
            result["required"] = self.flag(question, "required", path)
        self.condition(question, result, path, earlier)
        if kind in CHOICE_TYPES or kind == "ranking":
            result["choices"] = self.choices(question, path, 2 if kind == "ranking" else 1)
        if kind in CHOICE_TYPES:
            result["other"] = self.flag(question, "other", path)
        if kind == "multiple_choice":
            self.selections(question, result, path)
        if kind in ("scale", "rating", "matrix"):
            result["scale"] = self.scale(question.get("scale", DEFAULT_SCALE), f"{path}.scale")
        if kind == "matrix":
            result["rows"] = self.rows(question, path)
        if kind == "number":
            result["number"] = self.number(question.get("number", {}), f"{path}.number")
        if kind in TEXT_LENGTH:
            result["text"] = self.text(question.get("text", {}), f"{path}.text", kind)
        if kind == "date":
            result["date"] = self.dates(question.get("date", {}), f"{path}.date")
        return result

    # --- type settings ------------------------------------------------------------------

    def flag(self, value: dict, field: str, path: str) -> bool:
        flag = value.get(field, False)
        if not isinstance(flag, bool):
            self.add(f"{path}.{field}", _("Not a valid yes/no value."))
            return False
        return flag

    def choices(self, question: dict, path: str, minimum: int) -> list[dict]:
        path = f"{path}.choices"
        codes: set[str] = set()
        result = []
        for i, choice in enumerate(
            self.listed(question.get("choices"), path, MAX_CHOICES, minimum)
        ):
            here = f"{path}.{i}"
            if not isinstance(choice, dict):
                self.add(here, _("Not a valid object."))
                continue
            self.unknown(choice, {"value", "label"}, here)
            if choice.get("value") == OTHER:
                self.add(f"{here}.value", _("“other” is kept for “other, please specify”."))
            value = self.key(choice.get("value"), f"{here}.value", CODE, codes)
            label = self.texts(choice, "label", here, "label", True)
            result.append({"value": value, "label": label})
        return result

    def rows(self, question: dict, path: str) -> list[dict]:
        path = f"{path}.rows"
        keys: set[str] = set()
        result = []
        for i, row in enumerate(self.listed(question.get("rows"), path, MAX_ROWS, 1)):
            here = f"{path}.{i}"
            if not isinstance(row, dict):
                self.add(here, _("Not a valid object."))
                continue
            self.unknown(row, {"key", "label"}, here)
            key = self.key(row.get("key"), f"{here}.key", CODE, keys)
            result.append({"key": key, "label": self.texts(row, "label", here, "label", True)})
        return result

    def whole(self, value: dict, field: str, path: str, low: int, high: int) -> int | None:
        number = value.get(field)
        if number is None:
            return None
        if isinstance(number, float) and is_number(number) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
            self.add(
                f"{path}.{field}",
                _("A whole number between %(min)d and %(max)d.", min=low, max=high),
            )
            return None
        return number

    def selections(self, question: dict, result: dict, path: str) -> None:
        options = len(result["choices"]) + (1 if result["other"] else 0)
        low = self.whole(question, "min_selections", path, 0, MAX_CHOICES + 1)
        high = self.whole(question, "max_selections", path, 1, MAX_CHOICES + 1)
        if low is not None:
            result["min_selections"] = low
        if high is not None:
            result["max_selections"] = high
        if low is not None and high is not None and high < low:
            self.add(f"{path}.max_selections", _("Must not be less than the minimum."))
        elif max(low or 0, high or 0) > options:
            self.add(
                f"{path}.max_selections" if high else f"{path}.min_selections",
                _("More than the %(count)d options.", count=options),
            )

    def scale(self, scale: object, path: str) -> dict:
        if not isinstance(scale, dict):
            self.add(path, _("Not a valid object."))
            return dict(DEFAULT_SCALE)
        self.unknown(scale, {"min", "max", "min_label", "max_label"}, path)
        low = self.whole(scale, "min", path, -SCALE_BOUND, SCALE_BOUND)
        high = self.whole(scale, "max", path, -SCALE_BOUND, SCALE_BOUND)
        if "min" not in scale or "max" not in scale:
            self.add(path, _("A scale needs a minimum and a maximum."))
        elif low is not None and high is not None and not 2 <= high - low + 1 <= MAX_SCALE_POINTS:
            self.add(
                path,
                _("A scale has 2 to %(max)d points, lowest first.", max=MAX_SCALE_POINTS),
            )
        result: dict = {"min": low, "max": high}
        for field in ("min_label", "max_label"):
            texts = self.texts(scale, field, path, "scale_label", False)
            if texts:
                result[field] = texts
        return result

    def number(self, settings: object, path: str) -> dict:
        if not isinstance(settings, dict):
            self.add(path, _("Not a valid object."))
            return {"integer": False}
        self.unknown(settings, {"integer", "min", "max"}, path)
        result: dict = {"integer": self.flag(settings, "integer", path)}
        for field in ("min", "max"):
            value = settings.get(field)
            if value is None:
                continue
            if not is_number(value) or abs(value) > NUMBER_BOUND:
                self.add(f"{path}.{field}", _("Not a valid number."))
            elif result["integer"] and value != int(value):
                self.add(f"{path}.{field}", _("Not a valid whole number."))
            else:
                result[field] = int(value) if value == int(value) else value
        if "min" in result and "max" in result and result["min"] >= result["max"]:
            self.add(path, _("The minimum must be less than the maximum."))
        return result

    def text(self, settings: object, path: str, kind: str) -> dict:
        if not isinstance(settings, dict):
            self.add(path, _("Not a valid object."))
            return {"max_length": TEXT_LENGTH[kind]}
        self.unknown(
            settings, {"max_length", "pattern"} if kind == "short_text" else {"max_length"}, path
        )
        length = self.whole(settings, "max_length", path, 1, MAX_TEXT_LENGTH)
        result: dict = {"max_length": length or TEXT_LENGTH[kind]}
        pattern = settings.get("pattern")
        if kind == "short_text" and pattern is not None:
            problem = pattern_problem(pattern)
            if problem:
                self.add(f"{path}.pattern", problem)
            else:
                result["pattern"] = pattern
        return result

    def dates(self, settings: object, path: str) -> dict:
        if not isinstance(settings, dict):
            self.add(path, _("Not a valid object."))
            return {}
        self.unknown(settings, {"min", "max"}, path)
        result = {}
        for field in ("min", "max"):
            if settings.get(field) is None:
                continue
            if parse_date(settings[field]) is None:
                self.add(f"{path}.{field}", _("Not a valid date."))
            else:
                result[field] = settings[field]
        if "min" in result and "max" in result and result["min"] >= result["max"]:
            self.add(path, _("The minimum must be less than the maximum."))
        return result


def pattern_problem(pattern: object) -> str | None:
    """Why a text answer pattern cannot be used, or None: it must compile, be short, and have
    no nested or many unbounded repetitions (they can take exponential time to match)."""
    if not isinstance(pattern, str) or not 0 < len(pattern) <= MAX_PATTERN:
        return _("A pattern of 1 to %(max)d characters.", max=MAX_PATTERN)
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return _("Not a valid regular expression.")
    if NESTED_QUANTIFIER.search(pattern) or len(UNBOUNDED.findall(pattern)) > MAX_UNBOUNDED:
        return _("This pattern is too complex: avoid nested or repeated “+” and “*”.")
    return None
