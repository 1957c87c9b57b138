"""SPSS (.sav) and Stata (.dta) copies of a research export's data, read back from its released
CSV with the declared types, with variable and value labels (pyreadstat)."""

import csv
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyreadstat

from research.table import Kind, Variable

# SPSS and Stata cannot name a variable after a word of their command language.
_SPSS_RESERVED = {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
_STATA_RESERVED = {
    "_all", "_b", "_coef", "_cons", "_n", "_pi", "_pred", "_rc", "_se", "_skip",
    "byte", "double", "float", "if", "in", "int", "long", "strl", "using", "with",
}  # fmt: skip
# Stata keeps value labels for integers in this range only.
_STATA_LABELLED = (-2_147_483_647, 2_147_483_620)


def _frame(csv_path: Path, variables: list[Variable]) -> pd.DataFrame:
    """The released CSV read back with its declared types: integers nullable, dates as dates,
    booleans 0/1, strings as written. The whole file is in memory until the writer returns:
    acceptable for the released rows (the CSV is the streamed, bounded copy; SPSS and Stata
    files are made only when asked for)."""
    with csv_path.open(encoding="utf-8", newline="") as file:
        header = next(csv.reader(file), [])
    if header != [v.name for v in variables]:
        raise ValueError(f"{csv_path.name}: columns {header} are not the variables given")
    numeric = {Kind.INTEGER: "Int64", Kind.NUMBER: "float64"}
    frame = pd.read_csv(
        csv_path,
        dtype={v.name: numeric.get(v.kind, "string") for v in variables},
        # Only an empty cell is missing ("NA" is an answer); SPSS and Stata have no NaN.
        keep_default_na=False,
        na_values={v.name: ["", "NaN"] if v.kind == Kind.NUMBER else [""] for v in variables},
        encoding="utf-8",
    )
    for v in variables:
        column = frame[v.name]
        if v.kind == Kind.DATE:
            days = [None if pd.isna(s) else date.fromisoformat(s) for s in column]
            frame[v.name] = pd.Series(days, index=frame.index, dtype=object)
        elif v.kind == Kind.BOOLEAN:
            flags = [None if pd.isna(s) else int(s == "true") for s in column]
            frame[v.name] = pd.array(flags, dtype="Int64")
    return frame


def _names(variables: list[Variable], reserved: Callable[[str], bool], limit: int) -> list[str]:
    """Names the format accepts: a reserved word gets a ``_``, a long one is cut, unique."""
    names: list[str] = []
    for v in variables:
        name = v.name + "_" if reserved(v.name.lower()) else v.name
        base, name, n = name[:limit], name[:limit], 2
        while name in names:
            suffix = f"_{n}"
            name, n = base[: limit - len(suffix)] + suffix, n + 1
        names.append(name)
    return names


def _clip(text: str, limit: int, *, in_bytes: bool = False) -> str:
    """``text`` cut to the format's limit, with an ellipsis (the codebook has it whole)."""
    if in_bytes:
        data = text.encode("utf-8")
        if len(data) <= limit:
            return text
        return data[: limit - 3].decode("utf-8", "ignore") + "…"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_spss(csv_path: Path, variables: list[Variable], out: Path) -> None:
    """Write the CSV's data as an SPSS .sav file with variable labels and value labels.

    Variables named after an SPSS keyword (``with``, ``to``...) get a trailing ``_``; labels
    longer than SPSS keeps (255 bytes for a variable, 120 for a value) are cut with an ellipsis.
    """
    frame = _frame(csv_path, variables)
    names = _names(variables, lambda n: n in _SPSS_RESERVED, 64)
    frame.columns = names
    labels, values, formats, measures = {}, {}, {}, {}
    for name, v in zip(names, variables, strict=True):
        labels[name] = _clip(v.label, 255, in_bytes=True)
        if v.codes and v.kind in (Kind.INTEGER, Kind.STRING):
            key = int if v.kind == Kind.INTEGER else str
            values[name] = {
                key(code): _clip(label, 120, in_bytes=True) for code, label in v.codes.items()
            }
        if v.kind in (Kind.INTEGER, Kind.BOOLEAN):
            formats[name] = "F12.0"
        elif v.kind == Kind.DATE:
            formats[name] = "DATE11"
        coded = v.codes or v.kind in (Kind.STRING, Kind.BOOLEAN)
        measures[name] = "nominal" if coded else "scale"
    pyreadstat.write_sav(
        frame,
        str(out),
        column_labels=labels,
        variable_value_labels=values,
        variable_format=formats,
        variable_measure=measures,
    )


def _stata_reserved(name: str) -> bool:
    return name in _STATA_RESERVED or (name.startswith("str") and name[3:].isdigit())


def write_stata(csv_path: Path, variables: list[Variable], out: Path) -> None:
    """Write the CSV's data as a Stata .dta file (format 119, read by Stata 15 and later) with
    variable labels and value labels.

    Stata's limits: names of at most 32 characters, not a Stata word (``in``, ``str5``...: a
    trailing ``_``); variable labels of 80 characters (cut with an ellipsis); value labels on
    integers only (a coded string variable keeps its codes, labelled in the codebook); a missing
    string is an empty one; an infinite number is missing.
    """
    frame = _frame(csv_path, variables)
    names = _names(variables, _stata_reserved, 32)
    frame.columns = names
    labels, values = {}, {}
    low, high = _STATA_LABELLED
    for name, v in zip(names, variables, strict=True):
        labels[name] = _clip(v.label, 80)
        if v.kind == Kind.STRING:
            # Stata has no missing string but the empty one (and readstat needs it so).
            frame[name] = frame[name].fillna("")
        elif v.kind == Kind.NUMBER:
            # Nor infinities: they become missing.
            frame[name] = frame[name].replace([math.inf, -math.inf], math.nan)
        if v.codes and v.kind == Kind.INTEGER:
            values[name] = {
                int(code): _clip(label, 32000, in_bytes=True)
                for code, label in v.codes.items()
                if low <= code <= high
            }
    pyreadstat.write_dta(
        frame, str(out), version=15, column_labels=labels, variable_value_labels=values
    )
