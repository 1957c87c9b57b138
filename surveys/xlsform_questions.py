"""Mapping an XLSForm's survey rows to our questions, for the import (surveys/xlsform.py).

``QuestionMapper`` turns one row into a question: its type and type settings (selects, numbers,
ranges, texts, dates, notes), its key, texts and ``relevant`` condition, a ``constraint`` as
number bounds or a text pattern, and a ``choice_filter`` as the choices it leaves or as one
question per earlier answer. What does not map is reported and left out.
"""

import re

from i18n import _
from surveys import xlsform_logic as xpath
from surveys.definition import KEY
from surveys.xlsform_columns import FormReader, sanitized
from surveys.xlsform_workbook import text

YES = {"yes", "true", "true()", "1"}
METADATA = {
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
    "username", "email", "audit", "start-geopoint", "background-audio",
}  # fmt: skip
NOT_QUESTIONS = METADATA | {"calculate", "hidden", "note"}
MEDIA = ("image", "audio", "video", "media")
SELECT = re.compile(
    r"(select_one|select one|select_multiple|select multiple|select all that apply|rank)"
    r"(?: from)? ([^\s]+)( or_other)?"
)
YES_NO_LISTS = {"yes_no", "yes_or_no", "yesno"}


class QuestionMapper(FormReader):
    """Questions of survey rows, with the names they answer to for later conditions."""

    def __init__(self, sheets: dict, locales: list[str]):
        super().__init__(sheets, locales)
        #: XLSForm name → [(key, question, value map)] (several when split by a filter).
        self.names: dict[str, list[tuple[str, dict, dict]]] = {}
        self.keys: set[str] = set()
        self.rows: dict[int, int] = {}  # id(question) → survey row

    def question_key(self, number: int, name: str) -> str:
        key = sanitized(name, KEY, "q") if name else f"q_{number}"
        if key in self.keys:
            original, n = key, 2
            while f"{original[:60]}_{n}" in self.keys:
                n += 1
            key = f"{original[:60]}_{n}"
            self.note("survey", number, "name", _("Name used twice: renamed “%(key)s”.", key=key))
        self.keys.add(key)
        return key

    def relevant(self, number: int, row: dict) -> dict | None:
        expression = self.value(row, "relevant")
        if not expression:
            return None
        try:
            return xpath.to_condition(xpath.parse(expression), self.lookup)
        except (xpath.Unsupported, ValueError, RecursionError):
            self.note(
                "survey",
                number,
                self.header_of(row, "relevant"),
                _("This condition cannot be expressed in our skip logic; it was left out."),
            )
            return None

    def lookup(self, name: str) -> tuple[str, dict, dict]:
        found = self.names.get(name)
        if not found or len(found) != 1:
            raise xpath.Unsupported(name)
        return found[0]

    def question(self, number: int, row: dict, kind: str) -> list[dict] | None:
        base = kind.split(" ")[0].removeprefix("uri:")
        if base in METADATA or base in ("calculate", "hidden"):
            self.note("survey", number, "type", _("“%(type)s” is not imported.", type=base))
            return None
        name = self.value(row, "name")
        question = self.typed(number, row, kind)
        if question is None:
            return None
        for media in MEDIA:
            if any(self.column(h)[0] == media and text(v) for h, v in row.items()):
                self.note("survey", number, media, _("Images and media are not imported."))
        key = self.question_key(number, name)
        title = self.texts("survey", row, "label")
        if not title.get(self.main):
            if question["type"] == "note" and not title:
                self.note("survey", number, "label", _("A note without text was skipped."))
                return None
            self.fallbacks.append(("survey", number, "label"))
            title[self.main] = name or key
        question = {"key": key, **question, "title": title}
        help_text = self.texts("survey", row, "hint")
        if help_text.get(self.main):
            question["help"] = help_text
        if question["type"] != "note":
            question["required"] = self.value(row, "required").lower() in YES
        condition = self.relevant(number, row)
        if condition:
            question["show_if"] = condition
        self.constraint(number, row, question)
        variants = self.filtered(number, row, question)
        for variant in variants:
            self.rows[id(variant)] = number
        if name and question["type"] != "note":
            self.names[name] = [(v["key"], v, v.pop("_values", {})) for v in variants]
        for variant in variants:
            variant.pop("_values", None)
            variant.pop("_list", None)
        return variants

    def typed(self, number: int, row: dict, kind: str) -> dict | None:
        """Type and type settings of a row, or None (reported)."""
        appearance = self.value(row, "appearance").lower()
        base = kind.split(" ")[0]
        if base in ("integer", "int", "decimal"):
            return {"type": "number", "number": {"integer": base != "decimal"}}
        if base in ("text", "string"):
            long = "multiline" in appearance
            return {"type": "long_text" if long else "short_text", "text": {}}
        if base in ("date", "note"):
            return {"type": base}
        if base == "range":
            return self.range(number, row)
        match = SELECT.fullmatch(kind)
        if not match:
            self.note(
                "survey", number, "type", _("The type “%(type)s” is not supported.", type=kind)
            )
            return None
        verb, list_name, other = match.groups()
        if list_name not in self.lists:
            if list_name in YES_NO_LISTS and verb.startswith("select") and "one" in verb:
                return {"type": "yes_no"}
            self.note(
                "survey", number, "type", _("There is no choice list “%(list)s”.", list=list_name)
            )
            return None
        if verb == "rank":
            if other:
                self.note("survey", number, "type", _("“Other” is not offered for rankings."))
            return {"type": "ranking", "_list": list_name}
        if "one" in verb:
            kind = (
                "dropdown"
                if "minimal" in appearance or "autocomplete" in appearance
                else ("single_choice")
            )
        else:
            kind = "multiple_choice"
        return {"type": kind, "_list": list_name, "other": bool(other)}

    def range(self, number: int, row: dict) -> dict:
        parameters = dict(
            re.findall(r"(start|end|step)\s*=\s*(-?\d+(?:\.\d+)?)", self.value(row, "parameters"))
        )
        low, high = float(parameters.get("start", 0)), float(parameters.get("end", 10))
        step = float(parameters.get("step", 1))
        if low > high:
            low, high = high, low
        whole = all(v.is_integer() for v in (low, high, step))
        if whole and step == 1 and 2 <= high - low + 1 <= 11 and max(abs(low), abs(high)) <= 100:
            return {"type": "scale", "scale": {"min": int(low), "max": int(high)}}
        self.note(
            "survey",
            number,
            self.header_of(row, "parameters"),
            _("This range has too many steps for a scale: it is asked as a number."),
        )
        bounds = {"min": int(low), "max": int(high)} if whole else {"min": low, "max": high}
        return {"type": "number", "number": {"integer": whole, **bounds}}

    def constraint(self, number: int, row: dict, question: dict) -> None:
        expression = self.value(row, "constraint")
        if not expression:
            return
        try:
            tree = xpath.parse(expression)
            if question["type"] == "number":
                question["number"].update(xpath.bounds(tree, question["number"]["integer"]))
            elif question["type"] == "short_text":
                question["text"]["pattern"] = xpath.pattern(tree)
            else:
                raise xpath.Unsupported(question["type"])
        except (xpath.Unsupported, ValueError, RecursionError):
            self.note(
                "survey",
                number,
                self.header_of(row, "constraint"),
                _("This constraint cannot be expressed; it was left out."),
            )

    def filtered(self, number: int, row: dict, question: dict) -> list[dict]:
        """The question with its choices, split by its choice filter when that maps."""
        list_name = question.get("_list")
        if list_name is None:
            return [question]
        items = self.lists[list_name]
        expression = self.value(row, "choice_filter")
        if not expression:
            question["choices"], question["_values"] = self.choices(list_name, items)
            return [question]
        header = self.header_of(row, "choice_filter")
        try:
            column, kind, operand = xpath.parse_filter(expression)
            if kind == "literal":
                chosen = [i for i in items if self.value(i[2], column.lower()) == operand]
                question["choices"], question["_values"] = self.choices(list_name, chosen)
                return [question]
            variants = self.split(question, list_name, items, column.lower(), self.names[operand])
            self.note(
                "survey",
                number,
                header,
                _(
                    "Split into %(count)d questions, one for each answer to “%(name)s”.",
                    count=len(variants),
                    name=operand,
                ),
            )
            return variants
        except (xpath.Unsupported, KeyError):
            self.note(
                "survey",
                number,
                header,
                _("This choice filter cannot be expressed; all choices are shown."),
            )
            question["choices"], question["_values"] = self.choices(list_name, items)
            return [question]

    def split(self, question: dict, list_name: str, items: list, column: str, parents) -> list:
        """One question per answer to the parent, each with the choices filtered for it."""
        answers: dict[str, None] = {}  # the parents' choice names, in order
        for _key, _parent, values in parents:
            answers.update(dict.fromkeys(values))
        if not answers:
            raise xpath.Unsupported("filter")
        variants = []
        self.keys.discard(question["key"])
        for raw in answers:
            chosen = [i for i in items if self.value(i[2], column) == raw]
            if not chosen:
                continue
            conditions = [
                {"question": key, "op": "equals", "value": values[raw]}
                for key, _parent, values in parents
                if raw in values
            ]
            variant = {**question, "key": self.question_key(0, f"{question['key']}_{raw}")}
            variant["choices"], variant["_values"] = self.choices(list_name, chosen)
            own = [c for c in [question.get("show_if")] if c]
            show_if = conditions[0] if len(conditions) == 1 else {"any": conditions}
            variant["show_if"] = {"all": [*own, show_if]} if own else show_if
            variants.append(variant)
        if not variants:
            raise xpath.Unsupported("filter")
        return variants
