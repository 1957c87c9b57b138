"""Importing an XLSForm (ODK / KoBoToolbox) as a survey definition (surveys/definition.py).

``import_xlsform(data, locales)`` reads the workbook (surveys/xlsform_workbook.py) and maps what
our format can express; every row, column or language it cannot is reported as
{sheet, row, column, reason} and the rest still imports. The result passes ``check_definition``
for the city's ``locales``: should it not (a value the mapping missed), the offending part is
dropped and reported, never the whole form.

Decisions:
- Top-level groups (and repeats, asked once) become pages; questions outside groups are
  gathered into pages of their own; nested groups are flattened, their conditions kept.
- Unsuffixed ``label``/``hint`` columns (and the legacy ``label:english``) are in the settings'
  ``default_language``, or else the city's main language.
- A ``choice_filter`` comparing a choices column with an earlier answer splits the question
  into one per answer, each shown for that answer (keys ``<name>_<answer>``).
"""

import re
from dataclasses import dataclass, field

from babel import Locale
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import User
from app.policy import ensure
from campaigns.models import Campaign
from i18n import LANGUAGES, _, language_name
from surveys import service
from surveys import xlsform_logic as xpath
from surveys.definition import CODE, KEY, LENGTHS, MAX_PAGES, OTHER, check_definition
from surveys.models import Survey
from surveys.service import city_locales
from surveys.xlsform_workbook import read_workbook, text

YES = {"yes", "true", "true()", "1"}
GROUP_STARTS = {"begin group", "begin_group", "begin repeat", "begin_repeat"}
GROUP_ENDS = {"end group", "end_group", "end repeat", "end_repeat"}
METADATA = {
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
    "username", "email", "audit", "start-geopoint", "background-audio",
}  # fmt: skip
NOT_QUESTIONS = METADATA | {"calculate", "hidden", "note"}
#: Column aliases of older forms.
ALIASES = {
    "list name": "list_name",
    "bind:relevant": "relevant",
    "bind:constraint": "constraint",
    "bind:required": "required",
}
MEDIA = ("image", "audio", "video", "media")
SELECT = re.compile(
    r"(select_one|select one|select_multiple|select multiple|select all that apply|rank)"
    r"(?: from)? ([^\s]+)( or_other)?"
)
LANGUAGE_CODE = re.compile(r"\(([a-z]{2,3})(?:[-_][A-Za-z]+)?\)\s*$")
YES_NO_LISTS = {"yes_no", "yes_or_no", "yesno"}


def language_code(name: str) -> str | None:
    """Our locale for an XLSForm language name: "Deutsch (de)", "English", "de"…"""
    match = LANGUAGE_CODE.search(name)
    if match:
        return match.group(1) if match.group(1) in LANGUAGES else None
    wanted = name.strip().lower()
    for code, own in LANGUAGES.items():
        if wanted in (code, own.lower(), Locale(code).get_display_name("en").lower()):
            return code
    return None


def _sanitized(raw: str, pattern: re.Pattern, prefix: str) -> str:
    value = re.sub(r"[^a-z0-9_]+", "_", raw.strip().lower()).strip("_")
    if not pattern.fullmatch(value[:64] or "-"):
        value = f"{prefix}_{value}".rstrip("_")
    return value[:64]


@dataclass
class Imported:
    definition: dict
    report: list[dict]
    counts: dict
    title: dict = field(default_factory=dict)


class _Importer:
    def __init__(self, sheets: dict, locales: list[str], filename: str | None):
        self.locales = locales
        self.main = locales[0]
        self.report: list[dict] = []
        self.dropped_languages: set[str] = set()
        #: (sheet, row, column) of labels missing in the main language, replaced by names.
        self.fallbacks: list[tuple[str, int, str]] = []
        self.main_seen = False
        self.languages: list[str] = []
        self.settings = self.read_settings(sheets.get("settings"))
        self.default = language_code(text(self.settings.get("default_language"))) or self.main
        self.counts = {"relevant": 0, "constraint": 0, "required": 0, "questions": 0}
        self.lists = self.read_choices(sheets.get("choices"))
        self.filename = filename
        #: XLSForm name → [(key, question, value map)] (several when split by a filter).
        self.names: dict[str, list[tuple[str, dict, dict]]] = {}
        self.keys: set[str] = set()
        self.rows: dict[int, int] = {}  # id(question) → survey row
        self.pages: list[dict] = []

    def note(self, sheet: str, row: int | None, column: str | None, reason: str) -> None:
        entry = {"sheet": sheet, "row": row, "column": column, "reason": str(reason)}
        if entry not in self.report:
            self.report.append(entry)

    # --- columns and languages ------------------------------------------------------------

    def column(self, header: str) -> tuple[str, str | None]:
        """(field, language name or None) of a header: ``label::English (en)`` → label."""
        header = ALIASES.get(header.strip().lower(), header.strip())
        if "::" in header:
            name, language = header.split("::", 1)
            return name.strip().lower(), language.strip()
        # "label:english" (legacy, one colon) is read as the unsuffixed column.
        return header.split(":", 1)[0].strip().lower() if header.lower().startswith(
            ("label:", "hint:")
        ) else header.lower(), None

    def texts(self, sheet: str, row: dict, wanted: str) -> dict:
        result: dict[str, str] = {}
        explicit: set[str] = set()
        for header, value in row.items():
            name, language = self.column(header)
            if name != wanted or not text(value):
                continue
            if language is not None and language not in self.languages:
                self.languages.append(language)
            code = self.default if language is None else language_code(language)
            if code not in self.locales:
                self.drop_language(sheet, header, language or code)
                continue
            self.main_seen = self.main_seen or code == self.main
            if language is not None or code not in explicit:
                result[code] = text(value)[: LENGTHS["label"] if wanted == "label" else 2000]
            if language is not None:
                explicit.add(code)
        return result

    def report_fallbacks(self) -> None:
        """Labels missing in the main language: per row, or once when the form has none."""
        if self.main_seen:
            for sheet, row, column in self.fallbacks:
                self.note(sheet, row, column, _("No label in the main language: the name is used."))
        elif self.fallbacks:
            self.note(
                "survey",
                None,
                None,
                _(
                    "The form has no texts in %(language)s, the city's main language: names are "
                    "shown instead until you translate them.",
                    language=language_name(self.main),
                ),
            )

    def drop_language(self, sheet: str, header: str, language: str) -> None:
        if language in self.dropped_languages:
            return
        self.dropped_languages.add(language)
        self.note(
            sheet,
            1,
            header,
            _(
                "Texts in “%(language)s” were left out: it is not a language of this city.",
                language=language,
            ),
        )

    def value(self, row: dict, wanted: str) -> str:
        for header, value in row.items():
            if self.column(header) == (wanted, None):
                return text(value)
        return ""

    def header_of(self, row: dict, wanted: str) -> str:
        return next((h for h in row if self.column(h)[0] == wanted), wanted)

    # --- settings and choices ----------------------------------------------------------------

    def read_settings(self, sheet) -> dict:
        if not sheet or not sheet[1]:
            return {}
        return {self.column(k)[0]: v for k, v in sheet[1][0][1].items()}

    def read_choices(self, sheet) -> dict[str, list[tuple[int, str, dict]]]:
        lists: dict[str, list] = {}
        for number, row in sheet[1] if sheet else []:
            name, choice = self.value(row, "list_name"), self.value(row, "name")
            if not name or not choice:
                continue
            lists.setdefault(name, []).append((number, choice, row))
        self.counts["choice_lists"] = len(lists)
        self.counts["choices"] = sum(len(items) for items in lists.values())
        return lists

    def choices(self, list_name: str, items: list) -> tuple[list[dict], dict]:
        """Our choices of a list (or a filtered part of it) and the map name → code."""
        result, values, codes = [], {}, set()
        for number, raw, row in items:
            code = _sanitized(raw, CODE, "c")
            if code == OTHER:
                code = "other_1"
            if code in codes:
                self.note("choices", number, "name", _("“%(name)s” is listed twice.", name=raw))
                continue
            codes.add(code)
            values[raw] = code
            label = self.texts("choices", row, "label")
            if not label.get(self.main):
                self.fallbacks.append(("choices", number, "label"))
                label[self.main] = raw[: LENGTHS["label"]]
            result.append({"value": code, "label": label})
        return result, values

    # --- the survey sheet -----------------------------------------------------------------

    def run(self, survey) -> dict:
        loose: dict | None = None
        depth, group_conditions = 0, []
        for number, row in survey[1]:
            kind = " ".join(self.value(row, "type").lower().split())
            self.count(row, kind)
            if not kind:
                self.note("survey", number, "type", _("A row without a type was skipped."))
                continue
            if kind in GROUP_STARTS:
                depth += 1
                condition = self.relevant(number, row)
                if "repeat" in kind:
                    self.note(
                        "survey",
                        number,
                        "type",
                        _("Repeats are not supported: their questions are asked once."),
                    )
                if depth == 1:
                    loose = None
                    page = {"key": self.page_key(self.value(row, "name")), "questions": []}
                    title = self.texts("survey", row, "label")
                    if title.get(self.main):
                        page["title"] = title
                    if condition:
                        page["show_if"] = condition
                    self.pages.append(page)
                    self.rows[id(page)] = number
                else:
                    self.note(
                        "survey", number, "type", _("Nested groups are merged into their page.")
                    )
                group_conditions.append(condition if depth > 1 else None)
                continue
            if kind in GROUP_ENDS:
                depth = max(depth - 1, 0)
                if group_conditions:
                    group_conditions.pop()
                continue
            question = self.question(number, row, kind)
            if question is None:
                continue
            if depth == 0 and loose is None:
                loose = {"key": self.page_key(""), "questions": []}
                self.pages.append(loose)
            page = loose if depth == 0 else self.pages[-1]
            conditions = [c for c in group_conditions if c]
            for variant in question:
                own = [c for c in [*conditions, variant.get("show_if")] if c]
                if own:
                    variant["show_if"] = own[0] if len(own) == 1 else {"all": own}
                page["questions"].append(variant)
        return self.definition()

    def count(self, row: dict, kind: str) -> None:
        base = kind.split(" ")[0] if kind else ""
        if kind and kind not in GROUP_STARTS | GROUP_ENDS and base not in NOT_QUESTIONS:
            self.counts["questions"] += 1
        for name in ("relevant", "constraint"):
            if self.value(row, name):
                self.counts[name] += 1
        if self.value(row, "required").lower() in YES:
            self.counts["required"] += 1

    def page_key(self, name: str) -> str:
        taken = {p["key"] for p in self.pages}
        key = _sanitized(name, KEY, "page") if name else f"page_{len(self.pages) + 1}"
        while key in taken:
            key = f"{key[:58]}_{len(self.pages) + 1}"
        return key

    def question_key(self, number: int, name: str) -> str:
        key = _sanitized(name, KEY, "q") if name else f"q_{number}"
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

    # --- the result -----------------------------------------------------------------------

    def definition(self) -> dict:
        title = text(self.settings.get("form_title")) or (self.filename or "").rsplit(".", 1)[0]
        pages = [p for p in self.pages if p["questions"]] or [{"key": "page_1", "questions": []}]
        if len(pages) > MAX_PAGES:
            raise Invalid(
                errors={"file": [_("The form has more than %(max)d groups.", max=MAX_PAGES)]}
            )
        return {
            "title": {self.main: (title or str(_("Imported survey")))[: LENGTHS["survey"]]},
            "pages": pages,
        }

    def checked(self, definition: dict) -> dict:
        """The definition as check_definition accepts it: parts it refuses dropped, reported."""
        for _attempt in range(20):
            try:
                return check_definition(definition, self.locales)
            except Invalid as problem:
                errors = problem.errors or {}
            if not self.drop(definition, errors):
                raise Invalid(errors={"file": [m for ms in errors.values() for m in ms][:5]})
        raise Invalid(errors={"file": [_("The form could not be imported.")]})

    def drop(self, definition: dict, errors: dict) -> bool:
        dropped = False
        removals = []
        for path, messages in errors.items():
            match = re.fullmatch(r"pages\.(\d+)(?:\.questions\.(\d+))?(?:\.(.+))?", path)
            if not match:
                continue
            page = definition["pages"][int(match.group(1))]
            target = page if match.group(2) is None else page["questions"][int(match.group(2))]
            rest = match.group(3) or ""
            row = self.rows.get(id(target))
            reason = "; ".join(messages)
            if rest.startswith("show_if") and "show_if" in target:
                del target["show_if"]
                self.note("survey", row, "relevant", reason)
                dropped = True
            elif rest.startswith("text.pattern"):
                target["text"].pop("pattern", None)
                self.note("survey", row, "constraint", reason)
                dropped = True
            elif match.group(2) is not None:
                removals.append((page, target))
                self.note("survey", row, rest or None, reason)
        for page, target in removals:
            if target in page["questions"]:
                page["questions"].remove(target)
                dropped = True
        return dropped


def import_xlsform(data: bytes, locales: list[str], filename: str | None = None) -> Imported:
    """The survey definition of an XLSForm for a city's ``locales`` (main first), what could not
    be imported, and counts of what the form holds; Invalid when the file is not usable."""
    sheets = read_workbook(data)
    importer = _Importer(sheets, list(locales), filename)
    definition = importer.checked(importer.run(sheets["survey"]))
    counts = {
        **importer.counts,
        "languages": importer.languages,
        "default_language": text(importer.settings.get("default_language")) or None,
        "imported_questions": sum(
            q["type"] != "note" for p in definition["pages"] for q in p["questions"]
        ),
        "pages": len(definition["pages"]),
    }
    if (
        importer.settings.get("default_language")
        and language_code(text(importer.settings["default_language"])) is None
    ):
        importer.note(
            "settings",
            2,
            "default_language",
            _(
                "Unknown language “%(language)s”: unlabelled texts are taken as %(main)s.",
                language=text(importer.settings["default_language"]),
                main=language_name(locales[0]),
            ),
        )
    importer.report_fallbacks()
    counts["reported"] = len(importer.report)
    return Imported(definition, importer.report, counts, definition["title"])


def import_survey(
    session: Session, actor: User, campaign: Campaign, data: bytes, filename: str | None = None
) -> tuple[Survey, Imported]:
    """A new draft survey of ``campaign`` from an XLSForm, and what could not be imported."""
    ensure(actor, "survey.manage", campaign)
    imported = import_xlsform(data, city_locales(campaign.city), filename)
    survey = service.create_survey(session, actor, campaign, title=imported.title)
    service.save_definition(session, actor, survey, imported.definition)
    return survey, imported
