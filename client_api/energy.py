"""My meters and household facts, and importing my meter data files.

Only my own meters exist for me: another person's meter, like one that was never made, is not
found. Nothing is stored before I agree to the energy feedback text (409 ``consent-required``;
see ``client_api.consents``). Meter files are sent as multipart uploads of up to
``METER_UPLOAD_MAX_BYTES`` (20 MB by default; larger bodies answer 413); what a file is comes
from its content, never its name. Importing a file answers 201 with a new import and its
summary every time: the same file again changes no reading, and its summary says so
(``same_file_as``, with ``new`` and ``replaced`` at 0).
"""

from flask import g
from flask.views import MethodView
from flask_limiter.util import get_remote_address

from app.errors import Invalid
from app.extensions import db, limiter
from app.throttle import bearer_key
from client_api import energy_output as shown
from client_api.core import Blueprint, signed_in
from client_api.idempotency import idempotent
from client_api.pagination import PageArgs, page_schema, paginate
from energy import imports, meters, presets, series
from energy.csv_reader import sniff_csv
from energy.feedback.participation import campaign_slug
from energy.models import ImportKind, Meter, MeterImport
from energy.schemas import (
    CsvSniffOut,
    HouseholdIn,
    HouseholdOut,
    ImportIn,
    ImportOut,
    MeterEditIn,
    MeterIn,
    MeterOut,
    PresetOut,
    SeriesArgs,
    SeriesOut,
    UploadIn,
)
from i18n import _

blp = Blueprint(
    "energy", __name__, description="My meters, my household, and importing my meter data."
)

ImportPage = page_schema(ImportOut, "MeterImportPage")
MULTIPART = "multipart/form-data"


def upload_limits() -> list:
    """Reading a file is costly: 429 beyond, per signed-in device and per client address."""
    return [
        limiter.limit("20/minute;200/hour", key_func=bearer_key, methods=["POST"]),
        limiter.limit("60/minute", key_func=get_remote_address, methods=["POST"]),
    ]


def _multipart(schema) -> dict:
    """The OpenAPI request body of an upload (read by ``energy_output.read_upload``)."""
    return {"requestBody": {"required": True, "content": {MULTIPART: {"schema": schema}}}}


def _get_meter(meter_id: int) -> Meter:
    return meters.get_meter(db.session, g.user, meter_id)


# --- household ------------------------------------------------------------------------------


@blp.route("/me/household", endpoint="household")
class MyHousehold(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, HouseholdOut)
    def get(self):
        """Facts about my household, used only to compare it fairly with similar ones."""
        household = meters.household_of(db.session, g.user)
        return shown.household_out(household, campaign_slug(db.session, household))

    @signed_in
    @blp.arguments(HouseholdIn)
    @blp.response(200, HouseholdOut)
    def put(self, data):
        """Set my household facts: each one left out or null is unknown.

        ``district`` is one of my city's districts; ``campaign`` (a slug) joins an open
        energy campaign of my city from today (my savings count from then), and null leaves
        it. 409 ``consent-required`` before I agree to the energy feedback text.
        """
        household = meters.set_household(db.session, g.user, **data)
        answer = shown.household_out(household, campaign_slug(db.session, household))
        db.session.commit()
        return answer


# --- meters ---------------------------------------------------------------------------------


@blp.route("/meters", endpoint="meters")
class Meters(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, MeterOut(many=True))
    def get(self):
        """My meters, oldest first."""
        return meters.meters_of(db.session, g.user)

    @signed_in
    @idempotent
    @blp.arguments(MeterIn)
    @blp.response(201, MeterOut)
    def post(self, data):
        """Register one of my meters.

        409 ``consent-required`` before I agree to the energy feedback text.
        """
        return meters.create_meter(db.session, g.user, **data), 201


@blp.route("/meters/<int:meter_id>", endpoint="meter")
class MeterDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, MeterOut)
    def get(self, meter_id):
        """One of my meters."""
        return _get_meter(meter_id)

    @signed_in
    @blp.arguments(MeterEditIn)
    @blp.response(200, MeterOut)
    def patch(self, data, meter_id):
        """Change my meter's name or time zone (its kind and unit only before any readings)."""
        meter = meters.update_meter(db.session, g.user, _get_meter(meter_id), **data)
        answer = shown.meter_out(meter)
        db.session.commit()
        return answer

    @signed_in
    @blp.response(204)
    def delete(self, meter_id):
        """Delete my meter with all its readings and imports."""
        meters.delete_meter(db.session, g.user, _get_meter(meter_id))
        db.session.commit()


@blp.route("/meters/<int:meter_id>/series", endpoint="meter_series")
class MeterSeries(MethodView):
    @signed_in
    @blp.etag
    @blp.query(SeriesArgs)
    @blp.response(200, SeriesOut)
    def get(self, args, meter_id):
        """My meter's consumption per 15 minutes, half hour, hour, day, week or month.

        Days, weeks (ISO, from Monday) and months follow the meter's time zone: a day the
        clocks change has 23 or 25 hours, and its point says so (``hours``, ``note``). Every
        bucket of the period is a point, with the number of readings summed and how much of
        it they cover. 422 with an error on ``resolution`` when the readings are longer than
        the buckets asked for (daily readings per hour), and on ``to`` beyond 5,000 points.
        """
        meter = _get_meter(meter_id)
        return series.meter_series(
            db.session, meter, args["start"], args["end"], args["resolution"]
        )


# --- files ----------------------------------------------------------------------------------


@blp.route("/meters/csv-preview", endpoint="csv_preview")
class CsvPreview(MethodView):
    decorators = upload_limits()

    @signed_in
    @blp.doc(**_multipart(UploadIn))
    @blp.response(200, CsvSniffOut)
    def post(self):
        """How a CSV export of my meter portal looks, to map its columns before importing.

        Its encoding, delimiter, decimal mark, whether it has a header, the column names, the
        first rows and a guess per column. Nothing is stored. 422 with an error on ``file``
        for anything that is not a CSV file (a Green Button file needs no mapping).
        """
        _form, data = shown.read_upload(UploadIn())
        if imports.sniff_kind(data) == ImportKind.GREEN_BUTTON:
            message = _("This is a Green Button file: import it as it is, without a mapping.")
            raise Invalid(errors={"file": [message]})
        return shown.sniff_out(sniff_csv(data))


@blp.route("/meters/<int:meter_id>/imports", endpoint="meter_imports")
class MeterImports(MethodView):
    decorators = upload_limits()

    @signed_in
    @blp.etag
    @blp.query(PageArgs)
    @blp.response(200, ImportPage)
    def get(self, args, meter_id):
        """My meter's imports, newest first, each with its summary."""
        meter = _get_meter(meter_id)
        rows, next_cursor = paginate(
            db.session,
            shown.imports_query(meter.id),
            MeterImport.created_at,
            MeterImport.id,
            args,
        )
        return {"items": [shown.import_out(row) for row in rows], "next_cursor": next_cursor}

    @signed_in
    @blp.doc(**_multipart(ImportIn))
    @blp.response(201, ImportOut)
    def post(self, meter_id):
        """Import a Green Button (XML) or CSV file into my meter.

        A CSV file needs a column ``mapping`` (JSON text, see csv-preview) or a ``preset`` of
        my city. A Green Button file with several usage points needs ``usage_point`` (the
        422 error lists them). Readings overlapping stored ones replace them; the summary
        says what was read, stored, replaced, dropped and rejected (with line numbers). The
        same file again answers 201 too, changing nothing (``same_file_as``).
        409 ``consent-required`` after I withdrew my consent.
        """
        meter = _get_meter(meter_id)
        form, data = shown.read_upload(ImportIn())
        mapping = _mapping(form)
        row = imports.import_file(
            db.session,
            g.user,
            meter,
            data,
            form["filename"],
            mapping=mapping,
            usage_point=form.get("usage_point"),
        )
        answer = shown.import_out(row)
        db.session.commit()
        return answer, 201


def _mapping(form: dict) -> dict | None:
    """The mapping sent, or the one of my city's preset named; None when neither."""
    if "mapping" in form and "preset" in form:
        message = _("Send a mapping or a preset, not both.")
        raise Invalid(errors={"mapping": [message], "preset": [message]})
    if "mapping" in form:
        return shown.mapping_of(form["mapping"])
    if "preset" in form:
        for preset in presets.presets_of(db.session, g.city):
            if preset.id == form["preset"]:
                return dict(preset.mapping)
        raise Invalid(errors={"preset": [_("Your city has no such saved format.")]})
    return None


@blp.route("/csv-presets", endpoint="csv_presets")
class CsvPresets(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, PresetOut(many=True))
    def get(self):
        """The CSV formats my city saved for its meter portals, to import without mapping."""
        return [
            {"id": p.id, "name": p.name, "mapping": p.mapping}
            for p in presets.presets_of(db.session, g.city)
        ]
