"""What a dataset hands to the export pipeline: its variables, described for the codebook and
the anonymiser, and its rows, read as a stream.

A ``Microdata`` table has a row per record (a respondent, an idea, a comment); the pipeline
pseudonymises ``PSEUDONYM`` variables, scrubs ``TEXT`` ones, generalises ``QUASI`` ones until
every record shares them with at least k-1 others, and checks l-diversity over ``SENSITIVE``
ones. An ``Aggregate`` table has a cell per (row, column) with a count of people; cells under
the minimum are suppressed, with secondary suppression so totals cannot give them away.
"""

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class Role(enum.StrEnum):
    #: A participant's id (or another id that leads to one); written as a keyed pseudonym.
    PSEUDONYM = "pseudonym"
    #: A quasi-identifier: generalised by its ``hierarchy``; k-anonymity holds over these.
    QUASI = "quasi"
    #: An attribute worth protecting (l-diversity is measured over it); written as is.
    SENSITIVE = "sensitive"
    #: Any other variable, written as is.
    VALUE = "value"
    #: Free text: scrubbed of e-mail addresses, phone numbers, URLs, IBANs and user names.
    TEXT = "text"


class Kind(enum.StrEnum):
    """A variable's type, as Frictionless Table Schema names it."""

    INTEGER = "integer"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Variable:
    #: Column name: ``[a-z][a-z0-9_]*``, at most 32 characters (Stata's limit), unique.
    name: str
    kind: Kind
    #: What it is, in the export's language (the codebook's label; SPSS/Stata variable label).
    label: str
    role: Role = Role.VALUE
    #: Answer codes → their labels in the export's language (SPSS/Stata value labels); for
    #: INTEGER variables only.
    codes: dict[int, str] | None = None
    #: For QUASI variables: the name of a hierarchy in research/hierarchies.py (``"date"``,
    #: ``"count"``, ``"category"``, ``"band"``). A generalised QUASI variable is written as
    #: a string ("2026-03", "20-29", "3+", "*").
    hierarchy: str | None = None
    #: Where it comes from (question key and survey version, household fact...), for the
    #: codebook.
    source: str = ""


#: A row: values in the order of the table's variables. None is a missing value.
Row = tuple[Any, ...]


@dataclass
class Microdata:
    #: The resource's name: ``[a-z][a-z0-9_]*`` (the CSV is ``data/<name>.csv``).
    name: str
    title: str
    variables: list[Variable]
    #: Called once per pass (the pipeline reads twice: to plan, then to write); each call
    #: streams the rows again from the database, never holding them all.
    rows: Callable[[], Iterator[Row]]
    #: Facts for the README and report: survey version, records considered, records left
    #: out for want of research consent, and so on (JSON-ready values).
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Cell:
    #: People counted in the cell; the cell is shown only when this reaches the minimum.
    count: int
    #: Values of the table's measures, in their order; hidden together with the count.
    measures: tuple[Any, ...] = ()


#: The label a total row or column is written with in an aggregate table.
TOTAL = "*"


@dataclass
class Aggregate:
    name: str
    title: str
    #: The row and column dimensions (e.g. district by month) and what the counts count.
    row: Variable
    column: Variable
    count: Variable
    #: Values per cell (e.g. total kWh, median kWh per household), hidden with the count.
    measures: list[Variable]
    #: (row value, column value) → Cell, for every non-empty cell; row/column value TOTAL
    #: gives the row totals, column totals and grand total, which are published too.
    cells: dict[tuple[Any, Any], Cell]
    notes: dict[str, Any] = field(default_factory=dict)


Table = Microdata | Aggregate


@dataclass
class Period:
    """A request's optional time window (the dates are in the city's time zone)."""

    starts_on: date | None = None
    ends_on: date | None = None
