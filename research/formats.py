"""The files of a research export: CSV data, a codebook and a Frictionless Data Package
descriptor (SPSS / Stata copies of the data: research/statfiles.py).

Every writer takes variables *as released* (QUASI ones already strings) and writes into the
export's work directory; the pipeline zips it. The CSV files are the reference: the package
descriptor describes them (with their size and SHA-256, so ``frictionless validate`` notices any
change), the anonymity check measures them, and the .sav / .dta files are read back from them.

CSV dialect, the same for every data file: UTF-8 without BOM, comma, ``\\r\\n``, a header of
variable names, missing = empty cell, dates ISO 8601, booleans ``true``/``false``, numbers as
Python writes them (``1.5``, ``1e-05``, ``NaN``, ``INF``), which Frictionless, R and pandas read
back; a string cell a spreadsheet would run as a formula starts with a quote.
"""

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale

from app.spreadsheet import BOM, neutralised
from i18n import _
from research.table import TOTAL, Aggregate, Kind, Row, Variable

#: The column of an aggregate CSV that says whether a cell's figures are hidden.
SUPPRESSED = "suppressed"
#: Data Package v2: it gives value labels their place (a field's ``categories``).
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
CODEBOOK_HEADER = ["resource", "variable", "type", "label", "role", "code", "code_label", "source"]


@dataclass
class Resource:
    """A data file of the package, as the descriptor and the codebook describe it."""

    name: str
    title: str
    #: Relative to the package directory: ``data/<name>.csv``.
    path: str
    #: As released. For an aggregate, ``aggregate_variables(table)``; given the table's own
    #: variables instead, the codebook and descriptor make its row and column strings and add
    #: ``suppressed`` all the same.
    variables: list[Variable]
    #: For an aggregate table: ``{"count": ..., "row": ..., "column": ...}`` (variable names).
    aggregate: dict | None = None
    #: Lines of data written (for the caller's report).
    rows: int = 0


# --- CSV -------------------------------------------------------------------------------------


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        # Table Schema's spellings, which Decimal and float both read.
        return "NaN" if value != value else ("INF" if value > 0 else "-INF")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        # A timestamp's day depends on the time zone, which only the dataset knows.
        raise TypeError("a date variable was given a datetime; pass its local date")
    return value.isoformat() if isinstance(value, date) else value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool | int):
        return "true" if value else "false"
    return value


def _string(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_CELL: dict[Kind, Callable[[Any], Any]] = {
    Kind.INTEGER: _integer,
    Kind.NUMBER: _number,
    Kind.DATE: _date,
    Kind.BOOLEAN: _boolean,
    Kind.STRING: _string,
}


def _writer(kind: Kind) -> Callable[[Any], Any]:
    """A cell's text for a variable of ``kind``. A string given is neutralised whatever the
    kind; what a number or date is written as (``-5``, ``-INF``) is not."""
    convert = _CELL[kind]
    # The csv module writes a plain int as it is: the commonest cell needs no conversion.
    as_is = int if kind in (Kind.INTEGER, Kind.NUMBER) else None

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        of = type(value)
        if of is as_is:
            return value
        if isinstance(value, str):
            return neutralised(value)
        return convert(value)

    return cell


def _open_csv(path: Path):
    return path.open("w", encoding="utf-8", newline="")


def write_microdata_csv(path: Path, variables: list[Variable], rows: Iterable[Row]) -> int:
    """Write a microdata table, a line per row, as it streams by; returns the rows written."""
    cells = [_writer(v.kind) for v in variables]
    written = 0
    with _open_csv(path) as file:
        out = csv.writer(file, lineterminator="\r\n")
        out.writerow([v.name for v in variables])
        for row in rows:
            if len(row) != len(cells):
                raise ValueError(f"row of {len(row)} values for {len(cells)} variables")
            out.writerow([cell(value) for cell, value in zip(cells, row, strict=True)])
            written += 1
    return written


def _order(value: Any) -> tuple:
    # Values first (in their own order), then the missing one, then the total.
    if value is None:
        return (1, 0)
    if isinstance(value, str) and value == TOTAL:
        return (2, 0)
    return (0, value)


def write_aggregate_csv(path: Path, table: Aggregate, hidden: set[tuple]) -> int:
    """Write an aggregate table in long format, a line per non-empty cell with its figures (or
    empty ones and ``suppressed`` 1 for a hidden cell), totals written ``*``; returns the lines
    written."""
    row_cell, column_cell = _writer(table.row.kind), _writer(table.column.kind)
    count_cell = _writer(table.count.kind)
    measure_cells = [_writer(m.kind) for m in table.measures]
    written = 0
    with _open_csv(path) as file:
        out = csv.writer(file, lineterminator="\r\n")
        out.writerow(
            [table.row.name, table.column.name, table.count.name]
            + [m.name for m in table.measures]
            + [SUPPRESSED]
        )
        for key in sorted(table.cells, key=lambda k: (_order(k[0]), _order(k[1]))):
            row_value, column_value = key
            line = [
                TOTAL if row_value == TOTAL else row_cell(row_value),
                TOTAL if column_value == TOTAL else column_cell(column_value),
            ]
            if key in hidden:
                line += [""] * (1 + len(measure_cells)) + [1]
            else:
                cell = table.cells[key]
                measures = (*cell.measures, *[None] * (len(measure_cells) - len(cell.measures)))
                line.append(count_cell(cell.count))
                line += [write(v) for write, v in zip(measure_cells, measures, strict=True)]
                line.append(0)
            out.writerow(line)
            written += 1
    return written


def aggregate_variables(table: Aggregate) -> list[Variable]:
    """An aggregate's variables as its CSV holds them: the row and column as strings (their
    totals are written ``*``), the count, the measures, and ``suppressed``. Call it in the
    export's locale: the labels of ``suppressed`` are translated here."""
    return [
        _as_string(table.row),
        _as_string(table.column),
        table.count,
        *table.measures,
        _suppressed(),
    ]


def _suppressed() -> Variable:
    return Variable(
        name=SUPPRESSED,
        kind=Kind.INTEGER,
        # TRANSLATORS: a column of a research data table: whether a cell's figures are blank.
        label=_("Figures hidden: too few people, or they would give such a cell away"),
        # TRANSLATORS: a table cell's figures, shown or hidden (the two values of that column).
        codes={0: _("shown"), 1: _("hidden")},
    )


def _as_string(variable: Variable) -> Variable:
    return variable if variable.kind == Kind.STRING else replace(variable, kind=Kind.STRING)


def _released(resource: Resource) -> list[Variable]:
    """The resource's variables as its CSV holds them (an aggregate's completed if need be)."""
    if not resource.aggregate:
        return list(resource.variables)
    axes = {resource.aggregate.get("row"), resource.aggregate.get("column")}
    variables = [_as_string(v) if v.name in axes else v for v in resource.variables]
    if SUPPRESSED not in {v.name for v in variables}:
        variables.append(_suppressed())
    return variables


# --- Codebook ----------------------------------------------------------------------------------


def _facts(meta: dict) -> list[str]:
    """The package's facts for the codebook's first line, in the current locale."""
    facts = []
    if language := meta.get("language"):
        try:
            name = Locale.parse(language).get_display_name(language) or language
        except ValueError:
            name = language
        shown = f"{name} ({language})"
        facts.append(_("Language: %(language)s", language=shown))
    if versions := meta.get("versions"):
        facts.append(
            _("Survey version(s): %(versions)s", versions=", ".join(str(v) for v in versions))
        )
    if created := meta.get("created"):
        day = created.date() if isinstance(created, datetime) else created
        facts.append(_("Exported on: %(day)s", day=str(day)))
    return facts


def write_codebook(path: Path, resources: list[Resource], meta: dict) -> None:
    """Write the codebook: a line for the package (its title and facts), a line per resource
    (its title and file), a line per variable (type, label, role, source) and a line per answer
    code (code and label), under one header so it sorts and filters as a table.

    UTF-8 *with* a byte order mark, unlike the data files: the codebook is the file people open
    in a spreadsheet, and Excel only reads UTF-8 labels (umlauts, Cyrillic, Japanese) right with
    it; pandas (``utf-8-sig``) and R (``UTF-8-BOM``) read it too. It is not a package resource.

    ``meta``: ``title``, ``language`` (the labels' locale), ``versions`` (survey versions),
    ``created`` (a datetime); the caller holds the export's locale for the facts' wording.
    """
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(BOM)
        out = csv.writer(file, lineterminator="\r\n")
        out.writerow(CODEBOOK_HEADER)

        def line(*cells: Any) -> None:
            out.writerow([neutralised(c) for c in cells])

        line("", "", "package", meta.get("title", ""), "", "", "", "; ".join(_facts(meta)))
        for resource in resources:
            line(resource.name, "", "table", resource.title, "", "", "", resource.path)
            for v in _released(resource):
                line(resource.name, v.name, v.kind.value, v.label, v.role.value, "", "", v.source)
                for code, label in (v.codes or {}).items():
                    line(resource.name, v.name, "", "", "", code, label, "")


# --- Data Package ------------------------------------------------------------------------------


def _timestamp(value: datetime | None) -> str:
    value = value or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _field(v: Variable) -> dict:
    """A Table Schema field; ``role`` is ours (the anonymity check reads it)."""
    field: dict[str, Any] = {"name": v.name, "type": v.kind.value, "title": v.label}
    description = [v.source] if v.source else []
    if v.codes:
        integer = v.kind == Kind.INTEGER
        field["categories"] = [
            {"value": code if integer else str(code), "label": label}
            for code, label in v.codes.items()
        ]
        if integer:
            field["constraints"] = {"enum": list(v.codes)}
        # Frictionless 5.21 keeps categories without reading them: the labels in words too.
        description.append("; ".join(f"{code} = {label}" for code, label in v.codes.items()))
    if description:
        field["description"] = "\n".join(description)
    field["role"] = v.role.value
    return field


def _file_facts(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def write_datapackage(directory: Path, resources: list[Resource], meta: dict) -> Path:
    """Write ``directory/datapackage.json`` (Data Package v2) describing the CSV files already
    written there, with their size and SHA-256; returns its path.

    ``meta``: ``name`` (lower case, ``[a-z0-9._-]``), ``title``, optional ``description``,
    ``language``, ``versions`` (survey versions), ``created`` (a datetime).
    """
    package: dict[str, Any] = {
        "$schema": PACKAGE_PROFILE,
        "name": meta.get("name") or "research-export",
        "title": meta.get("title") or "",
        "created": _timestamp(meta.get("created")),
    }
    if meta.get("description"):
        package["description"] = meta["description"]
    if meta.get("language"):
        package["language"] = meta["language"]
    if meta.get("versions"):
        package["surveyVersions"] = [str(v) for v in meta["versions"]]
    package["resources"] = []
    for resource in resources:
        size, sha256 = _file_facts(directory / resource.path)
        descriptor: dict[str, Any] = {
            "name": resource.name,
            "type": "table",
            "title": resource.title,
            "path": resource.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": size,
            "hash": f"sha256:{sha256}",
            "schema": {
                "fields": [_field(v) for v in _released(resource)],
                "missingValues": [""],
            },
        }
        if resource.aggregate:
            descriptor["aggregate"] = dict(resource.aggregate)
        package["resources"].append(descriptor)
    path = directory / "datapackage.json"
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
