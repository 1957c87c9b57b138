"""A city's saved CSV formats in the console: the column mapping of a meter portal's export,
under the portal's name, so residents import its files without mapping columns themselves.

Staff and administrators keep them (policy ``energy.presets``). A sample file from the portal
may be uploaded first: its delimiter, decimal mark, header and columns are detected, its first
rows shown, and the mapping's fields filled with what the columns seem to hold; nothing of the
sample is stored. ``energy.csv_mapping.Mapping`` checks the mapping, with an error per field.
"""

import logging
import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from app.console.actions import committing
from app.console.blueprint import bp
from app.console.energy_views import energy_city
from app.console.forms import sort_errors, strip, timezone_choices
from app.console.scoping import actor
from app.db import MAX_ID
from app.errors import Invalid
from app.extensions import db
from energy import csv_mapping, csv_sniff, presets
from energy.csv_sniff import CsvSniff
from i18n import _, _l

log = logging.getLogger("livinglab.console")

#: Of a sample, only the start is read: enough for the columns and the first rows.
SAMPLE_BYTES = 256 * 1024
#: What a sample's column seems to hold (``csv_sniff.classify``).
KIND_NAMES = {
    "empty": _l("empty"),
    "number": _l("numbers"),
    "timestamp": _l("dates and times"),
    "date": _l("dates"),
    "time": _l("times of day"),
    "text": _l("text"),
}
VALUE_KIND_NAMES = {
    "energy": _l("energy per interval"),
    "power": _l("average power"),
    # TRANSLATORS: "register": the running total a meter shows, not the use per interval.
    "register": _l("meter readings (register)"),
}
_HOURS_MINUTES = re.compile(r"^\d{1,2}:\d{2}$")
_UNITS = {unit.casefold(): unit for unit in csv_mapping.UNITS} | {"m³": "m3"}
_HEADER_UNIT = re.compile(r"[\[(]\s*(MWh|kWh|Wh|kW|W|m³|m3|L)\s*[\])]", re.IGNORECASE)
MAPPING_FIELDS = (
    "timestamp",
    "time",
    "value",
    "stamp_marks",
    "value_kind",
    "value_unit",
    "timestamp_format",
    "interval_minutes",
    "decimal",
    "timezone",
    "has_header",
)


def _column(label, description=None) -> StringField:
    return StringField(
        label,
        filters=[strip],
        render_kw={"list": "sample-columns", "maxlength": csv_mapping.MAX_NAME},
        description=description,
    )


class PresetForm(FlaskForm):
    sample = FileField(
        _l("Sample file from the portal (optional)"),
        description=_l(
            "Read to fill the fields below and show the first rows; it is not kept. A few days "
            "of the portal's export are enough."
        ),
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        render_kw={"maxlength": presets.MAX_NAME},
        description=_l("What residents pick: the portal's name, e.g. Wiener Netze Smart Meter."),
    )
    timestamp = _column(
        _l("Column of the time stamps"),
        _l("Its name in the header, or “column 1”, “column 2”… when the file has none."),
    )
    time = _column(
        _l("Column of the time of day (optional)"),
        _l("Only when the file writes the date and the time in separate columns."),
    )
    value = _column(_l("Column of the values"))
    stamp_marks = SelectField(
        _l("A time stamp marks"),
        choices=[
            SelectChoice("start", _l("the start of its interval")),
            SelectChoice("end", _l("the end of its interval")),
        ],
        validate_choice=False,
    )
    value_kind = SelectField(
        _l("The values are"),
        choices=[
            SelectChoice("energy", _l("energy per interval (Wh, kWh)")),
            SelectChoice("power", _l("average power over the interval (W, kW)")),
            # TRANSLATORS: "register": the running total a meter shows, not the use per interval.
            SelectChoice("register", _l("meter readings, a running total (register)")),
        ],
        validate_choice=False,
    )
    value_unit = SelectField(
        _l("Unit of the values"),
        choices=[SelectChoice(unit, "m³" if unit == "m3" else unit) for unit in csv_mapping.UNITS],
        validate_choice=False,
    )
    timestamp_format = StringField(
        _l("Pattern of the time stamps (optional)"),
        filters=[strip],
        render_kw={"maxlength": csv_mapping.MAX_PATTERN},
        description=_l("Leave empty to recognise it, or give it as e.g. %d.%m.%Y %H:%M."),
    )
    interval_minutes = StringField(
        _l("Minutes per interval (optional)"),
        filters=[strip],
        render_kw={"inputmode": "numeric", "maxlength": 4},
        description=_l("Leave empty to take the most common step between rows."),
    )
    decimal = SelectField(
        _l("Decimal mark"),
        choices=[
            SelectChoice("", _l("told by the numbers")),
            SelectChoice(",", _l("comma (0,25)")),
            SelectChoice(".", _l("point (0.25)")),
        ],
        validate_choice=False,
    )
    timezone = SelectField(_l("Time zone of the time stamps"), validate_choice=False)
    has_header = SelectField(
        _l("First row"),
        choices=[
            SelectChoice("", _l("told by the file")),
            SelectChoice("yes", _l("names the columns")),
            SelectChoice("no", _l("holds data")),
        ],
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [
            SelectChoice("", _l("the meter's own (the city's by default)")),
            *timezone_choices(),
        ]

    def mapping(self) -> dict:
        """The mapping as the reader takes it; what cannot be read goes on for the checker."""
        values: dict = {name: getattr(self, name).data or None for name in MAPPING_FIELDS}
        minutes = values["interval_minutes"]
        if minutes is not None and minutes.isdigit() and len(minutes) <= 4:
            values["interval_minutes"] = int(minutes)
        values["has_header"] = {"yes": True, "no": False}.get(self.has_header.data)
        return {name: value for name, value in values.items() if value is not None}

    def fill_from(self, sniff: CsvSniff) -> None:
        """Fill the empty fields with what the sample's columns seem to hold."""
        kinds = [guess["kind"] for guess in sniff.guesses]

        def first(*wanted: str) -> int | None:
            return next((i for i, kind in enumerate(kinds) if kind in wanted), None)

        stamp, number = first("timestamp", "date"), first("number")
        guessed: dict[str, object] = {
            "has_header": "yes" if sniff.has_header else "no",
            "decimal": sniff.decimal or "",
        }
        if stamp is not None:
            guessed["timestamp"] = sniff.columns[stamp]
            pattern = sniff.guesses[stamp]["format"]
            if pattern and pattern != "ISO 8601":
                guessed["timestamp_format"] = pattern
            clock = first("time")
            if kinds[stamp] == "date" and clock is not None:
                guessed["time"] = sniff.columns[clock]
                # The pattern reads "date time" then; only hours and minutes are told apart.
                minutes = all(
                    _HOURS_MINUTES.match(row[clock].strip())
                    for row in sniff.rows
                    if clock < len(row)
                )
                guessed.pop("timestamp_format", None)
                if pattern and pattern != "ISO 8601" and minutes:
                    guessed["timestamp_format"] = f"{pattern} %H:%M"
        if number is not None:
            guessed["value"] = sniff.columns[number]
        for name, value in guessed.items():
            target: Field = getattr(self, name)
            if not target.data:
                target.data = value
        # A unit in the values' header ("Verbrauch [kWh]", "Valeur (W)") says what they are.
        header = sniff.columns[number] if number is not None and sniff.has_header else ""
        if match := _HEADER_UNIT.search(header):
            unit = _UNITS[match.group(1).casefold()]
            self.value_unit.data = unit
            if unit in csv_mapping.POWER_UNITS:
                self.value_kind.data = "power"
            elif self.value_kind.data not in ("energy", "register"):
                self.value_kind.data = "energy"


def _sample(form: PresetForm) -> CsvSniff | None:
    """The sample's sniff, or None (with an error on the field when it cannot be read)."""
    upload = form.sample.data
    if not upload or not getattr(upload, "filename", None):
        form.sample.errors = [_("Choose a sample file to read.")]
        return None
    data = upload.stream.read(SAMPLE_BYTES + 1)
    if len(data) > SAMPLE_BYTES:
        # Only whole lines of the start are read.
        data = data[:SAMPLE_BYTES].rpartition(b"\n")[0] or data[:SAMPLE_BYTES]
    try:
        return csv_sniff.sniff_csv(data)
    except Invalid as error:
        form.sample.errors = [m for ms in (error.errors or {}).values() for m in ms]
        return None


@bp.get("/<city_slug>/energy/presets")
@login_required
def energy_presets(city_slug: str):
    city = energy_city(city_slug, "energy.presets")
    return render_template(
        "console/energy_presets.html",
        city=city,
        presets=presets.presets_of(db.session, city),
        value_kinds=VALUE_KIND_NAMES,
    )


def _form_page(city, form, sniff=None, errors=None, status=200):
    return render_template(
        "console/energy_preset_form.html",
        city=city,
        form=form,
        sniff=sniff,
        errors=errors or {},
        has_errors=bool(errors or form.errors),
        kind_names=KIND_NAMES,
    ), status


@bp.route("/<city_slug>/energy/presets/new", methods=["GET", "POST"])
@login_required
def new_energy_preset(city_slug: str):
    """Read a sample to fill the form (``action=sample``), or save the format."""
    city = energy_city(city_slug, "energy.presets")
    if request.method == "GET":
        return _form_page(city, PresetForm(data={"value_unit": "kWh"}))
    form = PresetForm()
    form.validate()  # only the CSRF token: every other rule is the mapping's
    if request.form.get("action") == "sample":
        sniff = _sample(form)
        if sniff is not None:
            form.fill_from(sniff)
        return _form_page(city, form, sniff, status=200 if sniff else 422)
    try:
        preset = presets.create_preset(db.session, actor(), city, form.name.data, form.mapping())
    except Invalid as error:
        db.session.rollback()
        fields = {name: f for name, f in form._fields.items() if name != "csrf_token"}
        errors = sort_errors(error, fields, ())
        return _form_page(city, form, errors=errors, status=422)
    db.session.commit()
    log.info("csv preset saved", extra={"city": city.slug, "user_id": actor().id})
    flash(
        _("The format “%(name)s” is saved. Residents can pick it now.", name=preset.name), "success"
    )
    return redirect(url_for("console.energy_presets", city_slug=city.slug), 303)


@bp.post("/<city_slug>/energy/presets/<int:preset_id>/delete")
@login_required
def delete_energy_preset(city_slug: str, preset_id: int):
    city = energy_city(city_slug, "energy.presets")
    if preset_id > MAX_ID:
        abort(404)
    preset = presets.preset_of_city(db.session, actor(), city, preset_id)
    name = preset.name
    with committing("csv preset deleted", preset_id=preset_id) as outcome:
        presets.delete_preset(db.session, actor(), preset)
    if outcome.done:
        flash(_("The format “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("console.energy_presets", city_slug=city.slug), 303)
