"""Importing an XLSForm (ODK / KoBoToolbox) as a survey definition (surveys/definition.py).

``import_xlsform(data, locales)`` reads the workbook (surveys/xlsform_workbook.py) and maps what
our format can express; every row, column or language it cannot is reported as
{sheet, row, column, reason} and the rest still imports. The result passes ``check_definition``
for the city's ``locales``: should it not (a value the mapping missed), the offending part is
dropped and reported, never the whole form.

This module gathers the rows into pages, checks the definition and creates the survey; columns,
texts, settings and choice lists are read by surveys/xlsform_columns.py, each row is mapped to
questions by surveys/xlsform_questions.py.

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

from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import User
from app.policy import ensure
from campaigns.models import Campaign
from i18n import _, language_name
from surveys import service
from surveys.definition import KEY, LENGTHS, MAX_PAGES
from surveys.definition_check import check_definition
from surveys.models import Survey
from surveys.service import city_locales
from surveys.xlsform_columns import language_code, sanitized
from surveys.xlsform_questions import NOT_QUESTIONS, YES, QuestionMapper
from surveys.xlsform_workbook import read_workbook, text

GROUP_STARTS = {"begin group", "begin_group", "begin repeat", "begin_repeat"}
GROUP_ENDS = {"end group", "end_group", "end repeat", "end_repeat"}


@dataclass
class Imported:
    definition: dict
    report: list[dict]
    counts: dict
    title: dict = field(default_factory=dict)


class _Importer(QuestionMapper):
    def __init__(self, sheets: dict, locales: list[str], filename: str | None):
        super().__init__(sheets, locales)
        self.filename = filename
        self.pages: list[dict] = []

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
        key = sanitized(name, KEY, "page") if name else f"page_{len(self.pages) + 1}"
        while key in taken:
            key = f"{key[:58]}_{len(self.pages) + 1}"
        return key

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
