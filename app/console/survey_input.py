"""What the survey builder pages send and show: settings, a page, one question.

A question form is read into the definition's dict (surveys/definition.py) as typed, without
judging it: ``check_definition`` (through ``surveys.service.save_definition``) decides, and its
errors, by path (``pages.0.questions.2.choices.1.label``), are placed back next to the inputs
by ``place_errors``. Numbers that cannot be read are passed on as typed, so the checker's
message ("Not a valid number.") is the one shown.

Choices, matrix rows and conditions (of a page or a question) are rows of inputs with a few
empty ones to add more without script; blank rows are dropped, so row n on the page is item
n - 1 of the definition.
"""

from dataclasses import dataclass, field

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from app.console.forms import strip
from i18n import _, _l
from surveys.definition import MAX_CHOICES, MAX_ROWS, TEXT_LENGTH
from surveys.logic import CHOICE_TYPES, NUMERIC_TYPES, OPS
from surveys.models import SurveyStatus
from surveys.service import MAX_GRACE_MINUTES

STATUS_NAMES = {
    SurveyStatus.DRAFT: _l("Draft"),
    SurveyStatus.PUBLISHED: _l("Published"),
    SurveyStatus.CLOSED: _l("Closed"),
}
VERSION_NAMES = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "superseded": _l("Superseded"),
}
TYPE_NAMES = {
    "single_choice": _l("One choice"),
    "dropdown": _l("One choice from a drop-down list"),
    "multiple_choice": _l("Several choices"),
    "yes_no": _l("Yes or no"),
    "scale": _l("Scale (e.g. agree to disagree)"),
    "rating": _l("Rating (stars)"),
    "number": _l("Number"),
    "short_text": _l("Short text"),
    "long_text": _l("Long text"),
    "date": _l("Date"),
    "ranking": _l("Ranking"),
    "matrix": _l("Grid of rows on one scale"),
    "note": _l("Text between questions (no answer)"),
}
OP_NAMES = {
    "equals": _l("is"),
    "not_equals": _l("is not"),
    "any_of": _l("is one of (separate with commas)"),
    "gt": _l("is more than"),
    "lt": _l("is less than"),
    "answered": _l("is answered"),
    "not_answered": _l("is not answered"),
}
SURVEY_TEXT_LABELS = {
    "title": _l("Title"),
    "introduction": _l("Introduction"),
    "closing": _l("Closing message"),
}
#: Empty rows offered below the filled ones.
SPARE_ROWS = 3
SPARE_CONDITIONS = 2
MAX_CONDITIONS = 20
#: Which settings a type shows on the question form.
SHOWS = {
    "choices": CHOICE_TYPES | {"ranking"},
    "other": CHOICE_TYPES,
    "selections": {"multiple_choice"},
    "scale": {"scale", "rating", "matrix"},
    "scale_labels": {"scale", "matrix"},
    "number": {"number"},
    "text": set(TEXT_LENGTH),
    "pattern": {"short_text"},
    "date": {"date"},
    "rows": {"matrix"},
}


class SurveySettingsForm(FlaskForm):
    """A survey's untranslated settings; its texts are read per language with ``texts_from``."""

    campaign = SelectField(_l("Campaign"), validate_choice=False)
    opens_at = StringField(_l("Opens"), filters=[strip], render_kw={"type": "datetime-local"})
    closes_at = StringField(_l("Closes"), filters=[strip], render_kw={"type": "datetime-local"})
    grace_minutes = IntegerField(
        _l("Grace period (minutes)"),
        default=60,
        validators=[
            Optional(),
            NumberRange(0, MAX_GRACE_MINUTES, message=_l("Must be between %(min)s and %(max)s.")),
        ],
        description=_l(
            "Responses started before the survey closes may still be sent this long after."
        ),
    )
    allow_multiple = BooleanField(_l("A person may respond several times"))
    anonymous = BooleanField(
        _l("Anonymous"),
        description=_l("Responses are not linked to the accounts of the people who answer."),
    )


def _text(value: str | None) -> str:
    # Browsers send CR LF for line breaks; a line break counts as one character.
    return (value or "").replace("\r\n", "\n")


def texts_from(form: MultiDict, name: str, locales: list[str]) -> dict[str, str]:
    """A translated text typed as ``<name>-<locale>`` inputs, empty ones left out."""
    texts = {loc: _text(form.get(f"{name}-{loc}")).strip() for loc in locales}
    return {loc: text for loc, text in texts.items() if text}


def _number(text: str | None) -> object:
    """A typed number as int or float; what is not one goes on as typed for the checker."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _rows(form: MultiDict, prefix: str, code: str, locales: list[str], limit: int) -> list[dict]:
    """Rows ``<prefix>-<i>-<code>`` and ``<prefix>-<i>-label-<loc>``, blank ones dropped."""
    rows = []
    for i in range(limit + SPARE_ROWS):
        value = (form.get(f"{prefix}-{i}-{code}") or "").strip()
        label = texts_from(form, f"{prefix}-{i}-label", locales)
        if value or label:
            rows.append({code: value, "label": label})
    return rows


# --- conditions -----------------------------------------------------------------------------


@dataclass
class ConditionRow:
    question: str = ""
    op: str = "equals"
    value: str = ""


def condition_rows(condition: dict | None) -> tuple[str, list[ConditionRow]]:
    """A stored ``show_if`` as "all"/"any" and rows of (question, operator, value) to edit."""
    if not condition:
        return "all", []
    combine = "any" if "any" in condition else "all"
    leaves = condition.get(combine) if combine in condition else [condition]
    rows = []
    for leaf in leaves or []:
        if not isinstance(leaf, dict):
            continue
        value = leaf.get("value")
        if isinstance(value, list):
            text = ", ".join(_shown_value(v) for v in value)
        else:
            text = "" if value is None else _shown_value(value)
        rows.append(ConditionRow(str(leaf.get("question", "")), str(leaf.get("op", "")), text))
    return combine, rows


def _shown_value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _condition_value(text: str, question: dict | None) -> object:
    """A typed comparison value as the answers of ``question`` hold it."""
    text = text.strip()
    kind = (question or {}).get("type")
    if kind == "yes_no":
        lowered = text.lower()
        if lowered in ("yes", "true", "1", _("yes").lower()):
            return True
        if lowered in ("no", "false", "0", _("no").lower()):
            return False
        return text
    if kind in NUMERIC_TYPES:
        return _number(text)
    return text


@dataclass
class ConditionEditor:
    """The "show only if" rows a page or question form shows, and how they combine."""

    combine: str = "all"
    rows: list[ConditionRow] = field(default_factory=list)

    @classmethod
    def of(cls, condition: dict | None) -> "ConditionEditor":
        return cls(*condition_rows(condition))

    def shown_rows(self) -> list[ConditionRow]:
        """The rows, then empty ones to add more conditions."""
        return self.rows + [ConditionRow() for _ in range(SPARE_CONDITIONS)]


def read_condition(
    form: MultiDict, questions: dict[str, dict]
) -> tuple[dict | None, ConditionEditor]:
    """The ``show_if`` typed as rows (``cond-<i>-question/op/value``), and the rows as typed
    (shown again when the form is refused).

    ``questions`` maps keys to the survey's questions, to give each value its type.
    """
    typed = ConditionEditor("any" if form.get("combine") == "any" else "all")
    leaves = []
    for i in range(MAX_CONDITIONS):
        key = (form.get(f"cond-{i}-question") or "").strip()
        op = (form.get(f"cond-{i}-op") or "").strip()
        value = form.get(f"cond-{i}-value") or ""
        if not key:
            continue
        typed.rows.append(ConditionRow(key, op, value))
        leaf: dict = {"question": key, "op": op if op in OPS else "equals"}
        if leaf["op"] == "any_of":
            leaf["value"] = [
                _condition_value(part, questions.get(key)) for part in value.split(",") if part
            ]
        elif leaf["op"] not in ("answered", "not_answered"):
            leaf["value"] = _condition_value(value, questions.get(key))
        leaves.append(leaf)
    if not leaves:
        return None, typed
    if len(leaves) == 1:
        return leaves[0], typed
    return {typed.combine: leaves}, typed


# --- a question -----------------------------------------------------------------------------


def read_question(form: MultiDict, kind: str, locales: list[str], questions: dict) -> dict:
    """The question typed on the form as a definition dict, with only its type's settings."""
    question: dict = {
        "key": (form.get("key") or "").strip(),
        "type": kind,
        "title": texts_from(form, "title", locales),
    }
    help_text = texts_from(form, "help", locales)
    if help_text:
        question["help"] = help_text
    if kind != "note":
        question["required"] = form.get("required") == "y"
    condition = read_condition(form, questions)[0]
    if condition is not None:
        question["show_if"] = condition
    if kind in SHOWS["choices"]:
        question["choices"] = _rows(form, "choice", "value", locales, MAX_CHOICES)
    if kind in SHOWS["other"]:
        question["other"] = form.get("other") == "y"
    if kind in SHOWS["selections"]:
        for name in ("min_selections", "max_selections"):
            number = _number(form.get(name))
            if number is not None:
                question[name] = number
    if kind in SHOWS["scale"]:
        scale: dict = {"min": _number(form.get("scale_min")), "max": _number(form.get("scale_max"))}
        scale = {k: v for k, v in scale.items() if v is not None}
        if kind in SHOWS["scale_labels"]:
            for name in ("min_label", "max_label"):
                texts = texts_from(form, f"scale_{name}", locales)
                if texts:
                    scale[name] = texts
        question["scale"] = scale
    if kind in SHOWS["rows"]:
        question["rows"] = _rows(form, "row", "key", locales, MAX_ROWS)
    if kind in SHOWS["number"]:
        number = {"integer": form.get("number_integer") == "y"}
        for name in ("min", "max"):
            value = _number(form.get(f"number_{name}"))
            if value is not None:
                number[name] = value
        question["number"] = number
    if kind in SHOWS["text"]:
        text: dict = {}
        length = _number(form.get("text_max_length"))
        if length is not None:
            text["max_length"] = length
        pattern = form.get("text_pattern") or ""
        if kind in SHOWS["pattern"] and pattern:
            text["pattern"] = pattern
        question["text"] = text
    if kind in SHOWS["date"]:
        dates = {n: (form.get(f"date_{n}") or "").strip() for n in ("min", "max")}
        question["date"] = {n: v for n, v in dates.items() if v}
    return question


@dataclass
class QuestionView:
    """What the question form shows: the question's values flattened for inputs."""

    question: dict
    condition: ConditionEditor

    @classmethod
    def of(cls, question: dict, typed: ConditionEditor | None = None) -> "QuestionView":
        if typed is None:
            typed = ConditionEditor.of(question.get("show_if"))
        return cls(question, typed)

    def shows(self, what: str) -> bool:
        return self.question.get("type") in SHOWS[what]

    def rows_of(self, name: str) -> list[dict]:
        """Choices or matrix rows, then empty rows to add more."""
        code = "value" if name == "choices" else "key"
        rows = list(self.question.get(name) or [])
        return rows + [{code: "", "label": {}} for _ in range(SPARE_ROWS)]

    def setting(self, group: str, name: str) -> str:
        value = (self.question.get(group) or {}).get(name)
        if value is None or isinstance(value, dict):
            return ""
        return _shown_value(value)

    def number_text(self, name: str) -> str:
        value = self.question.get(name)
        return "" if value is None else _shown_value(value)


#: Where errors of a question's settings are shown: first path segment → place on the form.
_PLACES = {
    "key": "key",
    "type": "type",
    "title": "title",
    "help": "help",
    "required": "general",
    "show_if": "show_if",
    "other": "choices",
    "min_selections": "selections",
    "max_selections": "selections",
    "number": "number",
    "text": "text",
    "date": "date",
}


def place_errors(errors: dict[str, list[str]], prefix: str) -> dict[str, list[str]]:
    """A definition's errors by path, for a form editing the part at ``prefix`` (e.g.
    ``pages.0.questions.2``): keyed by the form's input names, "general" for the rest."""
    placed: dict[str, list[str]] = {}
    for path, messages in errors.items():
        if not path.startswith(prefix + "."):
            placed.setdefault("general", []).extend(messages)
            continue
        parts = path[len(prefix) + 1 :].split(".")
        head = parts[0]
        if head in ("choices", "rows") and len(parts) >= 2 and parts[1].isdigit():
            # choices.1.label → the label inputs of row 1; choices.1.value → the row itself.
            name = "choice" if head == "choices" else "row"
            where = f"{name}-{parts[1]}-label" if parts[2:] == ["label"] else f"{name}-{parts[1]}"
            placed.setdefault(where, []).extend(messages)
        elif head in ("choices", "rows"):
            placed.setdefault(head, []).extend(messages)
        elif head == "scale" and len(parts) >= 2 and parts[1] in ("min_label", "max_label"):
            placed.setdefault(f"scale_{parts[1]}", []).extend(messages)
        elif head == "scale":
            placed.setdefault("scale", []).extend(messages)
        else:
            placed.setdefault(_PLACES.get(head, "general"), []).extend(messages)
    return placed
