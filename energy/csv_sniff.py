"""A first look at a meter portal's CSV export: its encoding, delimiter, header, columns and
what each column seems to hold, so a resident (or a city preset) can map the columns.

The same checks guard ``read_csv``: binary content, NUL bytes, very long lines, too many
columns and files without rows are refused before anything is parsed.
"""

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import asdict, dataclass

from app.errors import Invalid
from energy import csv_stamps
from i18n import _

MAX_LINE = 10_000
MAX_COLUMNS = 200
SAMPLE_ROWS = 10
#: Lines looked at to choose the delimiter and the header.
SNIFF_LINES = 50
DELIMITERS = (";", ",", "\t", "|")
#: Share of the numbers showing one decimal mark for it to be the file's.
CLEAR_MAJORITY = 0.9
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: C0 control characters other than tab, line feed and carriage return: binary content.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+(?:,\d*)?|,\d+)")
#: Thousands grouped with the other mark (or a space or apostrophe), then the decimal part.
_GROUPED = {
    ".": re.compile(r"[+-]?\d{1,3}(?:[, \u00a0\u202f']\d{3})+(?:\.\d+)?"),
    ",": re.compile(r"[+-]?\d{1,3}(?:[. \u00a0\u202f']\d{3})+(?:,\d+)?"),
}
_SEPARATORS = str.maketrans("", "", ".,\u00a0\u202f '")


def _refuse(message: str) -> Invalid:
    return Invalid(errors={"file": [message]})


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without a byte order mark),
    UTF-16 with one, else Windows-1252, else Latin-1."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise _refuse(_("The file is not a text (CSV) file.")) from None
            break
    else:
        if b"\x00" in data:
            raise _refuse(_("The file contains NUL bytes: it is not a text (CSV) file."))
        for encoding in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    # An old DOS end-of-file mark is harmless; any other control character means binary.
    text = text.rstrip("\x1a")
    if "\x00" in text:
        raise _refuse(_("The file contains NUL bytes: it is not a text (CSV) file."))
    if _CONTROL.search(text):
        raise _refuse(_("The file is not a text (CSV) file."))
    return text, encoding


def check_lines(text: str) -> None:
    """Refuse an empty file and one with a line longer than ``MAX_LINE`` characters."""
    if not text.strip():
        raise _refuse(_("The file is empty."))
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            raise _refuse(
                _(
                    "Line %(line)d is longer than %(max)d characters: not a meter data file.",
                    line=number,
                    max=MAX_LINE,
                )
            )


def records(
    text: str, delimiter: str, limit: int | None = None, max_columns: int | None = MAX_COLUMNS
) -> list[tuple[int, list[str]]]:
    """The rows that hold anything, each with its 1-based line number (where it starts)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            if max_columns is not None and len(row) > max_columns:
                raise _refuse(
                    _(
                        "Line %(line)d has more than %(max)d columns: not a meter data file.",
                        line=line,
                        max=MAX_COLUMNS,
                    )
                )
            if "".join(row).strip():
                rows.append((line, row))
                if limit is not None and len(rows) >= limit:
                    break
            line = reader.line_num + 1
    except csv.Error:
        raise _refuse(
            _("The file cannot be read as CSV near line %(line)d.", line=reader.line_num)
        ) from None
    return rows


# --- what a cell holds ----------------------------------------------------------------------


def number_text(text: str, decimal: str) -> str | None:
    """A number as Python writes it ("1234.5"), read with ``decimal`` as the decimal mark and
    the other one (or a space) grouping thousands; None when it is not a number."""
    if decimal == ",":
        if "." not in text and _COMMA_NUMBER.fullmatch(text):
            return text.replace(",", ".")
    elif _PLAIN_NUMBER.fullmatch(text):
        return text
    if _GROUPED[decimal].fullmatch(text):
        whole, _sep, fraction = text.rpartition(decimal) if decimal in text else (text, "", "")
        return whole.translate(_SEPARATORS) + ("." + fraction if fraction else "")
    return None


def decimal_vote(text: str) -> str | None:
    """Which decimal mark a number shows, or None when it could be either (or is whole)."""
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if not (dots or commas):
        return None
    mark, count = (".", dots) if dots else (",", commas)
    other = "," if mark == "." else "."
    if count > 1:
        return other  # 1.234.567: the mark groups thousands
    whole, _sep, fraction = text.lstrip("+-").partition(mark)
    if len(fraction) != 3 or whole in ("", "0"):
        return mark
    return None  # 1,234 is a thousand or one and a bit


def detect_decimal(cells: list[str]) -> tuple[str | None, bool]:
    """The decimal mark the numbers use (None when they do not tell) and whether they
    contradict each other (a few strays do not: their rows are rejected as not numbers)."""
    votes = Counter(vote for cell in cells if (vote := decimal_vote(cell)) is not None)
    if not votes:
        return None, False
    mark, count = votes.most_common(1)[0]
    return mark, count < CLEAR_MAJORITY * votes.total()


def classify(text: str) -> str:
    """ "empty", "number", "timestamp" (date and time), "date", "time" or "text"."""
    if not text:
        return "empty"
    if _PLAIN_NUMBER.fullmatch(text) or _COMMA_NUMBER.fullmatch(text):
        return "number"
    if csv_stamps.family(text):
        return "timestamp" if csv_stamps.has_clock(text) else "date"
    if csv_stamps.is_clock_time(text):
        return "time"
    if any(regex.fullmatch(text) for regex in _GROUPED.values()):
        return "number"
    return "text"


def _is_data(text: str) -> bool:
    return classify(text.strip()) not in ("text", "empty")


# --- delimiter and header -------------------------------------------------------------------


def _delimiter_score(sample: str, delimiter: str) -> tuple[float, float, int] | None:
    rows = [row for _line, row in records(sample, delimiter, max_columns=None)]
    if not rows:
        return None
    width, count = Counter(len(row) for row in rows).most_common(1)[0]
    if width < 2:
        return None
    body = rows[1:] or rows
    cells = [cell.strip() for row in body for cell in row]
    typed = sum(classify(cell) != "text" for cell in cells) / max(len(cells), 1)
    return typed, count / len(rows), width


def pick_delimiter(text: str) -> str:
    """The delimiter whose columns are most regular and whose cells read as numbers and
    times; csv.Sniffer breaks ties (it alone would split "0,25" at the decimal comma)."""
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    scores = {d: score for d in DELIMITERS if (score := _delimiter_score(sample, d)) is not None}
    if not scores:
        raise _refuse(_("No columns separated by ; , tab or | were found in the file."))

    def rank(score: tuple[float, float, int]) -> tuple[float, float]:
        return round(score[0], 2), round(score[1], 2)

    best = max(rank(score) for score in scores.values())
    tied = [d for d, score in scores.items() if rank(score) == best]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
        except csv.Error:
            sniffed = None
        if sniffed in tied:
            return sniffed
    return tied[0]


def _width(row: list[str]) -> int:
    """Cells up to the last one holding anything (a trailing delimiter adds none)."""
    width = len(row)
    while width and not row[width - 1].strip():
        width -= 1
    return width


def _has_data(row: list[str]) -> bool:
    return any(_is_data(cell) for cell in row)


def table_start(rows: list[list[str]]) -> int:
    """Where the table starts (its header, or its first row of data): rows before it, narrower
    or wider than the table, are a preamble (an account number, a period)."""
    widths = [_width(row) for row in rows[: SNIFF_LINES + 1]]
    start = widths.index(Counter(widths).most_common(1)[0][0])
    if start and _has_data(rows[start]) and not _has_data(rows[start - 1]):
        start -= 1  # a header without a name for the last column
    return start


def looks_like_header(rows: list[list[str]]) -> bool:
    """True when the first row holds fewer numbers and times than the rows after it."""
    first, rest = rows[0], rows[1 : SNIFF_LINES + 1]
    in_first = sum(_is_data(cell) for cell in first)
    if not rest:
        return in_first == 0
    in_rest = Counter(sum(_is_data(cell) for cell in row) for row in rest).most_common(1)[0][0]
    return in_first < in_rest


def clean_name(text: str) -> str:
    return text.strip().lstrip("\ufeff").strip()


def generated_name(index: int) -> str:
    """The name shown for a column of a file without a header (1-based, as people count)."""
    # TRANSLATORS: the name shown for an unnamed column of a spreadsheet (CSV) file: "column 3".
    return _("column %(number)d", number=index + 1)


# --- the sniff ------------------------------------------------------------------------------


@dataclass
class CsvSniff:
    """What a CSV file looks like, for mapping its columns."""

    encoding: str
    delimiter: str
    has_header: bool
    #: The header's names, or "column 1", "column 2"… without a header.
    columns: list[str]
    #: The first data rows, as text.
    rows: list[list[str]]
    #: Per column: {"kind": empty|number|timestamp|date|time|text, "decimal": "," | "." | None,
    #: "format": a strptime pattern for time stamps when it can be told, else None}.
    guesses: list[dict]
    #: The decimal mark of the numbers, when they show it.
    decimal: str | None
    #: Lines before the table (a preamble, or blank), which are not read.
    skipped_lines: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _guess(cells: list[str]) -> dict:
    kinds = Counter(classify(cell) for cell in cells if cell)
    kind = kinds.most_common(1)[0][0] if kinds else "empty"
    guess: dict = {"kind": kind, "decimal": None, "format": None}
    if kind == "number":
        guess["decimal"] = detect_decimal(cells)[0]
    elif kind in ("timestamp", "date"):
        names = Counter(name for cell in cells if (name := csv_stamps.family(cell)))
        if names:
            name, order = names.most_common(1)[0][0], None
            if name in csv_stamps.EITHER_ORDER:
                try:
                    order = csv_stamps.day_first(cells, dict(csv_stamps.KNOWN)[name])
                except ValueError:
                    order = None
            hint = csv_stamps.pattern_hint(name, order)
            if hint and kind == "date" and name != "iso":
                hint = hint.partition(" ")[0]
            guess["format"] = hint
    return guess


def sniff_csv(data: bytes) -> CsvSniff:
    """Encoding, delimiter, header, columns, the first rows and a guess per column."""
    text, encoding = decode(data)
    check_lines(text)
    delimiter = pick_delimiter(text)
    found = records(text, delimiter, limit=2 * SNIFF_LINES)
    start = table_start([row for _line, row in found])
    rows = [row for _line, row in found[start:]]
    has_header = looks_like_header(rows)
    body = rows[1:] if has_header else rows
    if not body:
        raise _refuse(_("The file has no rows of data."))
    width = max(len(row) for row in rows)
    if has_header:
        columns = [clean_name(name) for name in rows[0]]
        columns += [generated_name(i) for i in range(len(columns), width)]
    else:
        columns = [generated_name(i) for i in range(width)]
    by_column = [[row[i].strip() if i < len(row) else "" for row in body] for i in range(width)]
    guesses = [_guess(cells) for cells in by_column]
    numbers = [
        cell
        for guess, cells in zip(guesses, by_column, strict=True)
        if guess["kind"] == "number"
        for cell in cells
    ]
    decimal, _mixed = detect_decimal(numbers)
    return CsvSniff(
        encoding=encoding,
        delimiter=delimiter,
        has_header=has_header,
        columns=columns,
        rows=body[:SAMPLE_ROWS],
        guesses=guesses,
        decimal=decimal,
        skipped_lines=found[start][0] - 1,
    )
