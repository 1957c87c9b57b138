"""Consents, household facts, meters and imports as residents' phones send and receive them.

Input and output schemas are separate classes; inputs reject unknown fields (marshmallow's
default), so nobody sets an owner, a city or a count through them. Outputs carry only the
caller's own data (``client_api.energy_output`` decides what goes in).
"""

from datetime import date, datetime

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from app.db import MAX_ID
from energy.buckets import Resolution
from energy.models import Commodity, DwellingType, HeatingType, ImportKind, Unit
from i18n import _

#: Household facts the comparison with similar households can use (the issue's bounds).
PEOPLE = (1, 20)
FLOOR_AREA_M2 = (5, 2000)
DISTRICT_LENGTH = 100
SLUG_LENGTH = 80
#: The saving a resident may aim for, in per cent (energy/feedback/participation.py).
GOAL_PERCENT = (1, 50)
TIMEZONE_LENGTH = 64
LABEL_LENGTH = 100
TIME = "ISO 8601, UTC."


def _one_of(values) -> validate.OneOf:
    return validate.OneOf([str(value) for value in values])


# --- consents -------------------------------------------------------------------------------


class ConsentIn(Schema):
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The version of the text I read (the current one)."},
    )


class WithdrawArgs(Schema):
    confirm = fields.String(
        load_default=None,
        validate=validate.OneOf(["delete-readings"]),
        metadata={
            "description": "energy_feedback: `delete-readings` confirms that withdrawing "
            "deletes my meter readings."
        },
    )


class ConsentTextOut(Schema):
    version = fields.Integer(required=True)
    text = fields.String(required=True, metadata={"description": "Markdown subset."})
    language = fields.String(
        required=True, allow_none=True, metadata={"description": "The language of the text."}
    )
    published_at = fields.AwareDateTime(required=True, allow_none=True)


class MyConsentOut(Schema):
    version = fields.Integer(required=True)
    given_at = fields.AwareDateTime(required=True)
    method = fields.String(required=True, metadata={"description": "app, console or import."})


class ConsentOut(Schema):
    purpose = fields.String(required=True)
    text = fields.Nested(ConsentTextOut, required=True, metadata={"description": "Current."})
    consent = fields.Nested(
        MyConsentOut,
        required=True,
        allow_none=True,
        metadata={"description": "My consent in force (maybe to an older version), or null."},
    )
    consented = fields.Boolean(
        required=True, metadata={"description": "Whether my consent is to the current text."}
    )
    ask_again = fields.Boolean(
        required=True,
        metadata={"description": "I consented to an older version: a newer text asks again."},
    )
    readings_held = fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "energy_feedback: how many meter readings withdrawing would "
            "delete; null for other purposes."
        },
    )


# --- household ------------------------------------------------------------------------------


class HouseholdIn(Schema):
    """Every fact; one left out or null is unknown (a PUT replaces them all)."""

    people = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(*PEOPLE),
        metadata={"description": "People living in the household."},
    )
    floor_area_m2 = fields.Float(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(*FLOOR_AREA_M2),
    )
    dwelling_type = fields.String(
        load_default=None, allow_none=True, validate=_one_of(DwellingType)
    )
    heating_type = fields.String(load_default=None, allow_none=True, validate=_one_of(HeatingType))
    district = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=DISTRICT_LENGTH),
        metadata={"description": "One of my city's districts, as the city names it."},
    )
    campaign = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=SLUG_LENGTH),
        metadata={
            "description": "The slug of an open campaign of my city I take part in: my savings "
            "count from the day I join. Null: none (leaving it stops counting)."
        },
    )


class HouseholdOut(Schema):
    people = fields.Integer(required=True, allow_none=True)
    floor_area_m2 = fields.Float(required=True, allow_none=True)
    dwelling_type = fields.String(required=True, allow_none=True)
    heating_type = fields.String(required=True, allow_none=True)
    district = fields.String(required=True, allow_none=True)
    campaign = fields.String(
        required=True, allow_none=True, metadata={"description": "The campaign's slug."}
    )
    joined_on = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The local day I joined the campaign."},
    )
    goal_percent = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "The saving I aim for (PUT /me/energy-goal)."},
    )
    updated_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "Null: never given."}
    )


class GoalIn(Schema):
    percent = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(*GOAL_PERCENT),
        metadata={"description": "The saving I aim for, in per cent of my own baseline."},
    )


class GoalOut(Schema):
    percent = fields.Float(required=True)
    set_at = fields.AwareDateTime(required=True)


# --- meters ---------------------------------------------------------------------------------

COMMODITY = "electricity, district_heat, gas or water."
UNIT = (
    "The unit readings are kept in: Wh (energy), m3 (gas by volume) or L (water); "
    "by default Wh, or L for water."
)
ZONE = "IANA time zone of the meter's local times (file time stamps); by default my city's."


class MeterIn(Schema):
    commodity = fields.String(
        required=True, validate=_one_of(Commodity), metadata={"description": COMMODITY}
    )
    unit = fields.String(
        load_default=None, allow_none=True, validate=_one_of(Unit), metadata={"description": UNIT}
    )
    timezone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=TIMEZONE_LENGTH),
        metadata={"description": ZONE},
    )
    label = fields.String(
        load_default="",
        validate=validate.Length(max=LABEL_LENGTH),
        metadata={"description": "My own name for it (“Flat”, “Heat pump”)."},
    )


class MeterEditIn(Schema):
    """Only the fields given change; commodity and unit only while no readings are stored."""

    commodity = fields.String(validate=_one_of(Commodity), metadata={"description": COMMODITY})
    unit = fields.String(validate=_one_of(Unit), metadata={"description": UNIT})
    timezone = fields.String(
        validate=validate.Length(min=1, max=TIMEZONE_LENGTH), metadata={"description": ZONE}
    )
    label = fields.String(validate=validate.Length(max=LABEL_LENGTH))


class MeterOut(Schema):
    id = fields.Integer(required=True)
    commodity = fields.String(required=True, validate=_one_of(Commodity))
    unit = fields.String(required=True, validate=_one_of(Unit))
    timezone = fields.String(required=True)
    label = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


# --- imports --------------------------------------------------------------------------------


MAPPING = (
    "CSV: the column mapping as a JSON object (or send a preset instead): `timestamp` and "
    "`value` (a column's name, or its number from 0), optional `time` (when the date and the "
    "time are in two columns), `stamp_marks` (`start` or `end` of the interval), "
    "`value_kind` (`energy` per interval, average `power`, or cumulative `register`), "
    "`value_unit` (Wh, kWh, MWh, W, kW, m3, L), and optionally `timestamp_format` (a "
    "strptime pattern; by default recognised from the data), `interval_minutes`, `decimal` "
    "(`,` or `.`), `timezone` (by default the meter's) and `has_header`."
)


class UploadIn(Schema):
    """A multipart body with a file (the API reads it within its size limit)."""

    file = Upload(required=True, metadata={"description": "The meter data file."})


class ImportIn(UploadIn):
    mapping = fields.String(
        validate=validate.Length(max=4000),
        metadata={"description": MAPPING},
    )
    preset = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "CSV: the id of one of my city's presets instead of a mapping."},
    )
    usage_point = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Green Button with several usage points: which one to import."},
    )


class ColumnGuessOut(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["empty", "number", "timestamp", "date", "time", "text"]),
    )
    decimal = fields.String(
        required=True, allow_none=True, metadata={"description": "Numbers: , or ."}
    )
    format = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Time stamps: a strptime pattern, when the data tell it."},
    )


class CsvSniffOut(Schema):
    encoding = fields.String(required=True)
    delimiter = fields.String(required=True, metadata={"description": "; , tab or |"})
    has_header = fields.Boolean(required=True)
    columns = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The header's names, or “column 1”, “column 2”… without one."},
    )
    rows = fields.List(
        fields.List(fields.String()),
        required=True,
        metadata={"description": "The first rows of data, as text."},
    )
    guesses = fields.List(
        fields.Nested(ColumnGuessOut),
        required=True,
        metadata={"description": "Per column: what it seems to hold."},
    )
    decimal = fields.String(
        required=True, allow_none=True, metadata={"description": "The numbers' decimal mark."}
    )
    skipped_lines = fields.Integer(
        required=True,
        metadata={"description": "Lines before the table (a portal's own heading) left out."},
    )


class RejectedOut(Schema):
    line = fields.Integer(required=True, metadata={"description": "1-based line or entry."})
    reason = fields.String(required=True)


class SummaryOut(Schema):
    rows_read = fields.Integer(required=True)
    intervals = fields.Integer(required=True, metadata={"description": "Intervals read."})
    new = fields.Integer(required=True, metadata={"description": "Readings stored anew."})
    replaced = fields.Integer(
        required=True, metadata={"description": "Readings replacing stored ones (overlaps)."}
    )
    unchanged = fields.Integer(
        required=True, metadata={"description": "Readings already stored as they are."}
    )
    duplicates_dropped = fields.Integer(required=True)
    gaps = fields.List(
        fields.List(fields.String()),
        required=True,
        metadata={"description": "Missing spans [start, end] (ISO 8601), the first 100."},
    )
    gaps_total = fields.Integer(required=True)
    rejected = fields.List(
        fields.Nested(RejectedOut),
        required=True,
        metadata={"description": "Rows not used, with why; the first 100."},
    )
    rejected_total = fields.Integer(required=True)
    notes = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Remarks: daylight-saving hours, register resets."},
    )
    period = fields.List(
        fields.String(),
        required=True,
        allow_none=True,
        metadata={"description": "[first start, last end] (ISO 8601); null without intervals."},
    )
    same_file_as = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The earlier import of this very file: nothing changed."},
    )


class ImportOut(Schema):
    id = fields.Integer(required=True)
    meter_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=_one_of(ImportKind))
    filename = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    summary = fields.Nested(SummaryOut, required=True)


class PresetOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    mapping = fields.Dict(
        required=True, metadata={"description": "A column mapping, as csv-preview's users send."}
    )


# --- series ---------------------------------------------------------------------------------


MOMENT_LENGTH = 40


class Moment(fields.String):
    """A date (``2024-03-31``) or a date and time, with or without an offset."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            if len(text) > MOMENT_LENGTH:
                raise ValueError(text)
            if len(text) == len("2024-03-31"):
                return date.fromisoformat(text)
            return datetime.fromisoformat(text)
        except ValueError:
            message = _("Give a date (2024-03-31) or a date and time (2024-03-31T06:00+02:00).")
            raise ValidationError(message) from None


PERIOD = (
    "A date (the meter's local midnight) or a date and time: with an offset, that instant; "
    "without one, the meter's local clock. "
)


class SeriesArgs(Schema):
    start = Moment(
        data_key="from",
        required=True,
        metadata={"description": PERIOD + "Widened to the start of its bucket."},
    )
    end = Moment(
        data_key="to",
        required=True,
        metadata={"description": PERIOD + "Exclusive: `to=2024-04-01` ends with March 31."},
    )
    resolution = fields.String(
        load_default=str(Resolution.DAY),
        validate=_one_of(Resolution),
        metadata={
            "description": "15min, 30min and hour are steps aligned on UTC; day, week (ISO, "
            "from Monday) and month follow the meter's time zone."
        },
    )


class PointOut(Schema):
    start = fields.AwareDateTime(
        required=True, metadata={"description": "ISO 8601 with the meter zone's offset."}
    )
    end = fields.AwareDateTime(required=True, metadata={"description": "Exclusive."})
    hours = fields.Float(
        required=True, metadata={"description": "The bucket's length: a DST day has 23 or 25."}
    )
    value = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "The readings summed, in the meter's unit; null: none."},
    )
    readings = fields.Integer(required=True, metadata={"description": "Readings summed."})
    coverage = fields.Float(
        required=True, metadata={"description": "Share of the bucket they cover, 0 to 1."}
    )
    complete = fields.Boolean(required=True, metadata={"description": "Covered entirely."})
    note = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "In my language: the clocks changed during it."},
    )


class SeriesOut(Schema):
    meter_id = fields.Integer(required=True)
    unit = fields.String(required=True, validate=_one_of(Unit))
    timezone = fields.String(required=True)
    resolution = fields.String(required=True, validate=_one_of(Resolution))
    start = fields.AwareDateTime(required=True, metadata={"description": "The first start."})
    end = fields.AwareDateTime(required=True, metadata={"description": "The last end."})
    total = fields.Float(required=True, metadata={"description": "Sum of all points."})
    readings = fields.Integer(required=True)
    points = fields.List(fields.Nested(PointOut), required=True)
