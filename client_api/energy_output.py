"""What phones are shown of meters, household facts, imports and CSV previews, and how an
uploaded meter file is read from a multipart request within its own size limit."""

import json

import sqlalchemy as sa
from flask import current_app, request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import Invalid
from energy.csv_reader import CsvSniff
from energy.imports import clean_filename
from energy.models import Household, Meter, MeterImport
from i18n import _

#: Room for the multipart framing and the small fields around the file itself.
FORM_OVERHEAD = 64 * 1024
METER_FIELDS = ("id", "commodity", "unit", "timezone", "label", "created_at", "updated_at")
HOUSEHOLD_FIELDS = (
    "people",
    "floor_area_m2",
    "dwelling_type",
    "heating_type",
    "district",
    "joined_on",
    "goal_percent",
)


def upload_limit() -> int:
    return current_app.config["METER_UPLOAD_MAX_BYTES"]


def read_upload(schema: Schema) -> tuple[dict, bytes]:
    """The multipart form loaded by ``schema`` (unknown fields refused) and the file's bytes.

    A body over the meter upload limit answers 413 before it is read: the application's
    request limit is for JSON, and meter files may be larger.
    """
    limit = upload_limit()
    request.max_content_length = limit + FORM_OVERHEAD
    values = {**request.form.to_dict(), **request.files.to_dict()}
    try:
        form = schema.load(values)
    except ValidationError as error:
        raise Invalid(errors=error.messages) from None
    upload = form["file"]
    if not isinstance(upload, FileStorage):
        raise Invalid(errors={"file": [_("Choose a file to upload.")]})
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    form["filename"] = clean_filename(upload.filename)
    return form, data


def mapping_of(text: str) -> dict:
    """The column mapping sent as JSON text; a field error on ``mapping`` otherwise."""
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise Invalid(errors={"mapping": [_("Give the column mapping as a JSON object.")]})
    return mapping


def meter_out(meter: Meter) -> dict:
    return {field: getattr(meter, field) for field in METER_FIELDS}


def household_out(household: Household | None, campaign: str | None = None) -> dict:
    """The facts given so far, and the slug of the campaign joined; all null before any."""
    out = {field: getattr(household, field, None) for field in HOUSEHOLD_FIELDS}
    out["campaign"] = campaign
    out["updated_at"] = household.updated_at if household is not None else None
    return out


def summary_out(summary: dict) -> dict:
    """An import's stored summary with every documented figure present."""
    gaps = summary.get("gaps") or []
    rejected = summary.get("rejected") or []
    return {
        "rows_read": summary.get("rows_read", 0),
        "intervals": summary.get("intervals", 0),
        "new": summary.get("new", 0),
        "replaced": summary.get("replaced", 0),
        "unchanged": summary.get("unchanged", 0),
        "duplicates_dropped": summary.get("duplicates_dropped", 0),
        "gaps": gaps,
        "gaps_total": summary.get("gaps_total", len(gaps)),
        "rejected": rejected,
        "rejected_total": summary.get("rejected_total", len(rejected)),
        "notes": summary.get("notes") or [],
        "period": summary.get("period"),
        "same_file_as": summary.get("same_file_as"),
    }


def import_out(row: MeterImport) -> dict:
    return {
        "id": row.id,
        "meter_id": row.meter_id,
        "kind": row.kind,
        "filename": row.filename,
        "created_at": row.created_at,
        "summary": summary_out(row.summary or {}),
    }


def imports_query(meter_id: int) -> sa.Select:
    """A meter's imports, for paging newest first (the meter is known to be the caller's)."""
    return sa.select(MeterImport).where(MeterImport.meter_id == meter_id)


def sniff_out(sniff: CsvSniff) -> dict:
    return sniff.to_dict()
