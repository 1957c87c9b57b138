"""How a survey's questions become the variables of its research export, and where each
answer row's value lands in a response's row.

Questions come merged over the survey's published versions (surveys/results_questions.py),
in the current order; each gives one or more variables:

- single choice, dropdown, yes/no: one INTEGER coded 1..n in the choices' order ("other"
  last), labels in the export's language, the codes' choice keys in ``source``;
- multiple choice: one 0/1 INTEGER per choice (``q_<key>_<choice>``); ranking: one INTEGER per
  choice, its position; matrix: one INTEGER per row; an unanswered question is missing, not 0;
- scale, rating: INTEGER; number: INTEGER or NUMBER; dates: DATE; texts: TEXT (only when the
  request includes free text), and a TEXT of what was written for "other, please specify".

Names are ``[a-z][a-z0-9_]*`` of at most 32 characters (Stata's limit), unique; one too long or
taken is cut and given a suffix made from what it is, so a survey gets the same names every
time. Questions the request marks become quasi-identifiers or sensitive.
"""

import hashlib

from app.models import City
from i18n import _
from research.options import ExportOptions
from research.table import Kind, Role, Variable
from surveys.definition import OTHER
from surveys.logic import parse_date
from surveys.results_questions import Question, choice_label, text_of

#: Stata's limit on variable names.
MAX_NAME = 32
CHOICE_KINDS = frozenset({"single_choice", "dropdown", "yes_no"})
TEXT_KINDS = frozenset({"short_text", "long_text"})
#: Questions a researcher may not mark quasi-identifying or sensitive: free text.
UNMARKABLE = TEXT_KINDS | {"note"}

# How an answer row lands in the row being built (see fill).
ONE, MANY, WHOLE, NUMBER, TEXT, DATE, POSITION, ROW = range(8)


def _hierarchy(question: Question) -> str:
    """How a question marked quasi-identifying is generalised."""
    if question.type == "number":
        return "band:10"
    if question.type == "date":
        return "date"
    return "category"


class Layout:
    """The table's variables, and for each question where its answer rows go."""

    def __init__(self, city: City, locale: str, options: ExportOptions, versions: dict):
        self.city = city
        self.locale = locale
        self.options = options
        #: question key → version numbers that ask it (for the codebook's source).
        self.versions = versions
        self.variables: list[Variable] = []
        self.taken: set[str] = set()
        #: question key → (how, where, ...): see ``fill``.
        self.slots: dict[str, tuple] = {}
        self.text_left_out: list[str] = []
        self.described: list[dict] = []

    def add(self, name: str, identity: str, **values) -> int:
        """Append a variable with a valid, unique name; returns its column index."""
        name = _name(name, identity, self.taken)
        self.variables.append(Variable(name=name, **values))
        return len(self.variables) - 1

    def _source(self, key: str, detail: str = "") -> str:
        numbers = ", ".join(f"v{n}" for n in self.versions.get(key, []))
        return f"{key}{detail} [{numbers}]" if numbers else f"{key}{detail}"

    def question(self, q: Question) -> None:
        """The variables of one question."""
        title = text_of(q.title, self.locale, self.city) or q.key
        if q.type in TEXT_KINDS and not self.options.include_text:
            self.text_left_out.append(q.key)
            return
        role = Role.VALUE
        hierarchy = None
        if q.type not in UNMARKABLE and q.key in self.options.quasi:
            role, hierarchy = Role.QUASI, _hierarchy(q)
        elif q.type not in UNMARKABLE and q.key in self.options.sensitive:
            role = Role.SENSITIVE
        marked = {"role": role, "hierarchy": hierarchy}
        first = len(self.variables)
        base = f"q_{q.key}"
        codes = list(q.choices)
        if q.type in CHOICE_KINDS:
            numbers = {code: i for i, code in enumerate(codes, start=1)}
            labels = {
                numbers[code]: choice_label(q, code, self.locale, self.city) for code in codes
            }
            listing = ", ".join(f"{numbers[code]}={code}" for code in codes)
            column = self.add(
                base,
                q.key,
                kind=Kind.INTEGER,
                label=title,
                codes=labels,
                source=self._source(q.key) + f": {listing}",
                **marked,
            )
            self.slots[q.key] = (ONE, column, numbers)
        elif q.type in ("multiple_choice", "ranking"):
            columns = {}
            for code in codes:
                columns[code] = self.add(
                    f"{base}_{code}",
                    f"{q.key}/{code}",
                    kind=Kind.INTEGER,
                    label=f"{title}: {choice_label(q, code, self.locale, self.city)}",
                    codes={0: _("No"), 1: _("Yes")} if q.type == "multiple_choice" else None,
                    source=self._source(q.key, f"={code}"),
                    **marked,
                )
            how = MANY if q.type == "multiple_choice" else POSITION
            self.slots[q.key] = (how, columns, tuple(columns.values()))
        elif q.type == "matrix":
            columns = {}
            for row, text in q.rows.items():
                row_label = text_of(text, self.locale, self.city) or row
                columns[row] = self.add(
                    f"{base}_{row}",
                    f"{q.key}/{row}",
                    kind=Kind.INTEGER,
                    label=f"{title}: {row_label}",
                    codes=self._scale_codes(q),
                    source=self._source(q.key, f".{row}"),
                    **marked,
                )
            self.slots[q.key] = (ROW, columns, ())
        elif q.type in ("scale", "rating", "number"):
            whole = q.type != "number" or bool(q.number.get("integer"))
            column = self.add(
                base,
                q.key,
                kind=Kind.INTEGER if whole else Kind.NUMBER,
                label=title,
                codes=self._scale_codes(q) if q.type == "scale" else None,
                source=self._source(q.key),
                **marked,
            )
            self.slots[q.key] = (WHOLE if whole else NUMBER, column, None)
        elif q.type == "date":
            column = self.add(
                base, q.key, kind=Kind.DATE, label=title, source=self._source(q.key), **marked
            )
            self.slots[q.key] = (DATE, column, None)
        elif q.type in TEXT_KINDS:
            column = self.add(
                base,
                q.key,
                kind=Kind.STRING,
                label=title,
                role=Role.TEXT,
                source=self._source(q.key),
            )
            self.slots[q.key] = (TEXT, column, None)
        else:
            return
        if q.other and q.type in ("single_choice", "dropdown", "multiple_choice"):
            if self.options.include_text:
                other = self.add(
                    f"{base}_other_text",
                    f"{q.key}/other_text",
                    kind=Kind.STRING,
                    label=f"{title}: {_('Other, please specify')}",
                    role=Role.TEXT,
                    source=self._source(q.key, f".{OTHER}"),
                )
                self.slots[q.key] = (*self.slots[q.key], other)
            else:
                self.text_left_out.append(f"{q.key}.{OTHER}")
        self.described.append(
            {
                "key": q.key,
                "type": q.type,
                "title": title,
                "variables": [v.name for v in self.variables[first:]],
            }
        )

    def _scale_codes(self, q: Question) -> dict[int, str] | None:
        """Value labels of a scale's ends, where the survey names them."""
        scale = q.scale or {}
        codes = {}
        for end in ("min", "max"):
            text = text_of(scale.get(f"{end}_label"), self.locale, self.city)
            if text and isinstance(scale.get(end), int):
                codes[scale[end]] = text
        return codes or None


def _name(name: str, identity: str, taken: set[str]) -> str:
    """``name`` if it is free and short enough, else cut with a suffix made from what the
    variable is (so the same survey gives the same names every time)."""
    wanted = name.lower()
    name, attempt = wanted, 0
    while len(name) > MAX_NAME or name in taken:
        digest = hashlib.sha256(f"{identity}#{attempt}".encode()).hexdigest()[:6]
        name = f"{wanted[: MAX_NAME - 7].rstrip('_')}_{digest}"
        attempt += 1
    taken.add(name)
    return name


def fill(row: list, slot: tuple, item, choice, number, text) -> None:
    """Put one answer row's value where its question's variables are."""
    how = slot[0]
    if how == ONE:
        code = slot[2].get(choice)
        if code is not None:
            row[slot[1]] = code
    elif how == MANY:
        if slot[2] and row[slot[2][0]] is None:
            # Answered: every choice is 0 until its own row says 1.
            for column in slot[2]:
                row[column] = 0
        column = slot[1].get(choice)
        if column is not None:
            row[column] = 1
    elif how == WHOLE:
        if number is not None:
            row[slot[1]] = int(number)
    elif how == NUMBER:
        if number is not None:
            # A float, or what JSON carries: an int, or "NaN" / "Infinity" as strings.
            number = float(number)
            row[slot[1]] = int(number) if number.is_integer() else number
    elif how == POSITION:
        column = slot[1].get(choice)
        if column is not None and number is not None:
            row[column] = int(number)
    elif how == ROW:
        column = slot[1].get(item)
        if column is not None and number is not None:
            row[column] = int(number)
    elif how == TEXT:
        row[slot[1]] = text
    elif how == DATE:
        row[slot[1]] = parse_date(text)
    # "Other, please specify": the written text, in its own variable.
    if choice == OTHER and len(slot) > 3 and text:
        row[slot[3]] = text


def fixed_variables(layout: Layout) -> None:
    """The columns every survey export starts with."""
    household = _("household facts given for energy feedback")
    layout.add(
        "respondent",
        "respondent",
        kind=Kind.STRING,
        label=_("Respondent"),
        role=Role.PSEUDONYM,
        source=_("the respondent's account, or the response kept after it was deleted"),
    )
    layout.add("version", "version", kind=Kind.INTEGER, label=_("Survey version"))
    layout.add("language", "language", kind=Kind.STRING, label=_("Language of the response"))
    layout.add(
        "submitted",
        "submitted",
        kind=Kind.DATE,
        label=_("Day the response was submitted"),
        role=Role.QUASI,
        hierarchy="date",
    )
    layout.add(
        "district",
        "district",
        kind=Kind.STRING,
        label=_("District"),
        role=Role.QUASI,
        hierarchy="category",
        source=household,
    )
    layout.add(
        "household_size",
        "household_size",
        kind=Kind.INTEGER,
        label=_("People in the household"),
        role=Role.QUASI,
        hierarchy="count",
        source=household,
    )
    layout.add(
        "dwelling_type",
        "dwelling_type",
        kind=Kind.STRING,
        label=_("Type of dwelling"),
        role=Role.QUASI,
        hierarchy="category",
        source=household,
    )
