"""What a researcher chooses when requesting an export, read from a form and checked.

The options are stored with the request (``ResearchExport.options``, as ``to_json`` writes
them) and read back by the job, so a request is built as it was asked even if the settings
change in between. The deployment's minimums (``RESEARCH_MIN_K``, ``RESEARCH_MIN_CELL``)
bound them from below: a request may ask for more protection, never less.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.errors import Invalid
from i18n import _
from research.table import Period
from surveys.definition import KEY

#: Extra formats beside the CSV, codebook and datapackage every export has.
FORMATS = ("sav", "dta")
#: Above these, a request is a typo or asks for tables of a handful of groups.
MAX_K = 1000
MAX_MIN_CELL = 1000
_YES = {"1", "true", "yes", "on", "y"}
#: Question keys a request may mark; more is a form gone wrong.
MAX_KEYS = 100


@dataclass
class ExportOptions:
    #: Every released record shares its quasi-identifiers with at least k-1 others.
    k: int
    #: Each such group shows at least l distinct values of every sensitive variable.
    l: int  # noqa: E741 - the name the literature gives it
    #: Aggregate cells counting fewer people are suppressed.
    min_cell: int
    #: Subset of FORMATS.
    formats: list[str] = field(default_factory=list)
    #: Free-text variables included (scrubbed) or left out.
    include_text: bool = False
    #: Survey question keys the researcher marks as quasi-identifiers / sensitive.
    quasi: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    #: An optional window on the records' dates, in the city's time zone.
    starts_on: date | None = None
    ends_on: date | None = None

    @property
    def period(self) -> Period:
        return Period(self.starts_on, self.ends_on)

    def to_json(self) -> dict:
        return {
            "k": self.k,
            "l": self.l,
            "min_cell": self.min_cell,
            "formats": list(self.formats),
            "include_text": self.include_text,
            "quasi": list(self.quasi),
            "sensitive": list(self.sensitive),
            "starts_on": self.starts_on.isoformat() if self.starts_on else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ExportOptions":
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            k=int(data["k"]),
            l=int(data["l"]),
            min_cell=int(data["min_cell"]),
            formats=list(data.get("formats") or []),
            include_text=bool(data.get("include_text")),
            quasi=list(data.get("quasi") or []),
            sensitive=list(data.get("sensitive") or []),
            starts_on=day(data.get("starts_on")),
            ends_on=day(data.get("ends_on")),
        )


def _values(form: Mapping, name: str) -> list[str]:
    """Every value a form gave for ``name``: repeated fields (a multi-select, checkboxes) or
    one text of comma-separated items; blanks dropped, order kept, duplicates once."""
    if hasattr(form, "getlist"):
        raw = form.getlist(name)
    else:
        raw = form.get(name)
        raw = [] if raw is None else raw if isinstance(raw, list | tuple) else [raw]
    seen: dict[str, None] = {}
    for item in raw:
        for part in str(item).split(","):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _one(form: Mapping, name: str) -> str:
    value = form.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "" if value is None else str(value).strip()


def _whole(form: Mapping, name: str, default: int, low: int, high: int, errors: dict) -> int:
    text = _one(form, name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        errors[name] = [_("Enter a whole number.")]
        return default
    if not low <= value <= high:
        errors[name] = [_("Enter a number from %(low)d to %(high)d.", low=low, high=high)]
    return value


def _day(form: Mapping, name: str, errors: dict) -> date | None:
    text = _one(form, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def _keys(form: Mapping, name: str, errors: dict) -> list[str]:
    keys = _values(form, name)
    if len(keys) > MAX_KEYS or any(not KEY.fullmatch(key) for key in keys):
        errors[name] = [_("Choose questions from the list.")]
    return keys


def parse_options(form: Mapping, config: Mapping[str, Any]) -> ExportOptions:
    """The options of a request form, checked against the deployment's minimums.

    Raises ``Invalid`` with a translated message per field; fields left empty take the
    minimums (k, minimum cell) and the default l.
    """
    errors: dict[str, list[str]] = {}
    min_k, min_cell = config["RESEARCH_MIN_K"], config["RESEARCH_MIN_CELL"]
    k = _whole(form, "k", min_k, min_k, MAX_K, errors)
    l_value = _whole(form, "l", config["RESEARCH_MIN_L"], 1, MAX_K, errors)
    if "k" not in errors and "l" not in errors and l_value > k:
        # A group of k records cannot show more than k distinct values.
        errors["l"] = [_("l cannot be larger than k.")]
    cell = _whole(form, "min_cell", min_cell, min_cell, MAX_MIN_CELL, errors)
    formats = _values(form, "formats")
    if any(name not in FORMATS for name in formats):
        errors["formats"] = [_("Choose formats from the list.")]
    quasi = _keys(form, "quasi", errors)
    sensitive = _keys(form, "sensitive", errors)
    if "quasi" not in errors and "sensitive" not in errors and set(quasi) & set(sensitive):
        errors["sensitive"] = [_("A question cannot be both a quasi-identifier and sensitive.")]
    starts_on = _day(form, "starts_on", errors)
    ends_on = _day(form, "ends_on", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("The end date must not be before the start date.")]
    if errors:
        raise Invalid(errors=errors)
    return ExportOptions(
        k=k,
        l=l_value,
        min_cell=cell,
        formats=[name for name in FORMATS if name in formats],
        include_text=_one(form, "include_text").lower() in _YES,
        quasi=quasi,
        sensitive=sensitive,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def option_problems(options: ExportOptions, config: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with options made some other way than ``parse_options`` (a CLI, a test):
    the same bounds, as field errors."""
    form = {
        **options.to_json(),
        "include_text": "1" if options.include_text else "",
        "k": str(options.k),
        "l": str(options.l),
        "min_cell": str(options.min_cell),
    }
    try:
        parse_options(form, config)
    except Invalid as error:
        return error.errors or {}
    return {}
