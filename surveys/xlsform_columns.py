"""Reading an XLSForm's sheets for the import (surveys/xlsform.py): columns and languages.

``FormReader`` knows the columns of a form (``label::Deutsch (de)``, legacy aliases), turns
labels and hints into our translated texts for the city's languages, reads the ``settings`` and
``choices`` sheets, and keeps the import report: every row, column or language that could not be
imported, as {sheet, row, column, reason}.
"""

import re

from babel import Locale

from i18n import LANGUAGES, _, language_name
from surveys.definition import CODE, LENGTHS, OTHER
from surveys.xlsform_workbook import text

#: Column aliases of older forms.
ALIASES = {
    "list name": "list_name",
    "bind:relevant": "relevant",
    "bind:constraint": "constraint",
    "bind:required": "required",
}
LANGUAGE_CODE = re.compile(r"\(([a-z]{2,3})(?:[-_][A-Za-z]+)?\)\s*$")


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


def sanitized(raw: str, pattern: re.Pattern, prefix: str) -> str:
    """An XLSForm name as one of our keys or codes (``pattern``), ``prefix`` added if needed."""
    value = re.sub(r"[^a-z0-9_]+", "_", raw.strip().lower()).strip("_")
    if not pattern.fullmatch(value[:64] or "-"):
        value = f"{prefix}_{value}".rstrip("_")
    return value[:64]


class FormReader:
    """The columns, texts, settings and choice lists of a form; the report of what is left out."""

    def __init__(self, sheets: dict, locales: list[str]):
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
            code = sanitized(raw, CODE, "c")
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
