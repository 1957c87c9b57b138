"""Energy commands for operators: importing a meter data file into a resident's meter, and a
city's daily mean temperatures.

The resident's own consent to energy feedback is needed, as through the app: an operator
imports on their behalf, never instead of their agreement.
"""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app import cities
from app.accounts import find_user_by_email
from app.errors import NotFound, Problem
from app.extensions import db
from app.models import User
from app.policy import can
from energy import imports, presets, temperatures
from energy.models import Meter, MeterImport, Reading

group = AppGroup("energy", help="Meters and their readings.")
#: Gaps and rejected rows listed before the rest are counted.
SHOWN = 20
#: Larger files are refused before they are read (as the API does, with its own setting).
MAX_FILE_BYTES = 512 * 1024 * 1024


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--meter", "meter_id", type=int, help="Id of the meter to import into.")
@click.option("--mapping", "mapping_json", help="CSV: the column mapping, as JSON.")
@click.option("--preset", "preset_name", help="CSV: a saved format of the meter's city, by name.")
@click.option("--usage-point", help="Green Button: the usage point to import (its key).")
@click.option(
    "--each-usage-point",
    is_flag=True,
    help="Green Button: import every usage point into a new meter of its own (needs --as).",
)
@click.option("--as", "email", help="E-mail of the resident whose meter(s) these are.")
def import_command(
    file: Path,
    meter_id: int | None,
    mapping_json: str | None,
    preset_name: str | None,
    usage_point: str | None,
    each_usage_point: bool,
    email: str | None,
):
    """Import a Green Button (XML) or CSV meter data file, then print what it did."""
    if each_usage_point == (meter_id is not None):
        raise click.UsageError("Give either --meter ID or --each-usage-point --as EMAIL.")
    if mapping_json is not None and preset_name is not None:
        raise click.UsageError("Give --mapping or --preset, not both.")
    if each_usage_point and (email is None or usage_point or mapping_json or preset_name):
        raise click.UsageError(
            "--each-usage-point needs --as EMAIL and takes no --usage-point, --mapping or --preset."
        )
    if file.stat().st_size > MAX_FILE_BYTES:
        raise click.ClickException(f"{file.name} is larger than {MAX_FILE_BYTES:,} bytes.")
    person = _person(email) if email is not None else None
    meter = _meter(meter_id, person) if meter_id is not None else None
    data = file.read_bytes()
    if meter is not None:
        mapping = _mapping(meter, mapping_json, preset_name)
        work = [
            (
                "parsing and storing",
                lambda: [
                    (
                        meter,
                        imports.import_file(
                            db.session,
                            meter.user,
                            meter,
                            data,
                            file.name,
                            mapping=mapping,
                            usage_point=usage_point,
                        ),
                    )
                ],
            )
        ]
    else:
        work = [
            (
                "parsing and storing each usage point",
                lambda: imports.import_each_usage_point(db.session, person, data, file.name),
            )
        ]
    done = _run(work)
    for meter_done, row in done:
        for line in report_lines(meter_done, row, _stored_total(meter_done, row)):
            click.echo(line)


def _run(work: list[tuple[str, Callable[[], list]]]) -> list[tuple[Meter, MeterImport]]:
    """Do each step under a progress bar, then commit; a refusal rolls everything back."""
    done: list[tuple[Meter, MeterImport]] = []
    steps = [*work, ("saving", None)]
    with click.progressbar(
        steps, label="Importing", item_show_func=lambda step: step[0] if step else None
    ) as bar:
        for _label, step in bar:
            try:
                if step is None:
                    db.session.commit()
                else:
                    done += step()
            except Problem as problem:
                db.session.rollback()
                raise click.ClickException(problem_text(problem)) from None
    return done


def problem_text(problem: Problem) -> str:
    """A service's refusal as lines an operator reads: the detail, then each field's errors."""
    lines = [str(problem.detail or "")]
    for where, messages in (problem.errors or {}).items():
        if isinstance(messages, dict):
            messages = [f"{key}: {value}" for key, value in messages.items()]
        lines += [f"{where}: {message}" for message in messages]
    return "\n".join(line for line in lines if line) or "The import was refused."


def _person(email: str) -> User:
    person = find_user_by_email(db.session, email)
    if person is None:
        raise click.ClickException(f"There is no account {email}.")
    return person


def _meter(meter_id: int, person: User | None) -> Meter:
    meter = db.session.get(Meter, meter_id) if 0 < meter_id < 2**31 else None
    if meter is None:
        raise click.ClickException(f"There is no meter {meter_id}.")
    if person is not None and meter.user_id != person.id:
        raise click.ClickException(f"Meter {meter_id} is not {person.email}'s.")
    return meter


def _mapping(meter: Meter, mapping_json: str | None, preset_name: str | None) -> dict | None:
    if mapping_json is not None:
        try:
            mapping = json.loads(mapping_json)
        except ValueError as error:
            raise click.ClickException(f"--mapping is not valid JSON: {error}") from None
        if not isinstance(mapping, dict):
            raise click.ClickException("--mapping must be a JSON object.")
        return mapping
    if preset_name is not None:
        city_presets = presets.presets_of(db.session, meter.user.city)
        for preset in city_presets:
            if preset.name == preset_name:
                return dict(preset.mapping)
        names = ", ".join(repr(p.name) for p in city_presets) or "none"
        raise click.ClickException(
            f"The meter's city has no preset {preset_name!r} (it has: {names})."
        )
    return None


def _stored_total(meter: Meter, row: MeterImport) -> float | None:
    """What the meter holds over the import's period (its readings, whichever import)."""
    period = (row.summary or {}).get("period")
    if not period:
        return None
    start, end = (datetime.fromisoformat(moment) for moment in period)
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Reading.value), 0.0)).where(
            Reading.meter_id == meter.id, Reading.start_at >= start, Reading.end_at <= end
        )
    )


def report_lines(meter: Meter, row: MeterImport, total: float | None) -> list[str]:
    """The import's summary, as the fixtures' README gives its figures."""
    summary = row.summary or {}
    unit = summary.get("unit") or meter.unit
    point = f", usage point {summary['usage_point']}" if summary.get("usage_point") else ""
    lines = [f"Import {row.id} into meter {meter.id} ({meter.commodity}, {row.kind}{point})."]
    if summary.get("same_file_as"):
        lines.append(f"  the same file as import {summary['same_file_as']}: nothing changed")
    lines += [
        f"rows read: {summary.get('rows_read', 0):,}",
        f"intervals: {summary.get('intervals', 0):,} ({summary.get('new', 0):,} new, "
        f"{summary.get('replaced', 0):,} replaced, {summary.get('unchanged', 0):,} unchanged)",
        f"duplicates dropped: {summary.get('duplicates_dropped', 0):,}",
    ]
    if summary.get("period"):
        lines.append(f"period: {summary['period'][0]} -> {summary['period'][1]}")
    if total is not None:
        lines.append(f"stored over the period: {total:,.0f} {unit}")
    lines += _listed(
        "gaps",
        summary.get("gaps_total", 0),
        [f"{start} -> {end}" for start, end in summary.get("gaps", [])],
    )
    lines += _listed(
        "rejected rows",
        summary.get("rejected_total", 0),
        [f"line {r['line']}: {r['reason']}" for r in summary.get("rejected", [])],
    )
    lines += [f"note: {note}" for note in summary.get("notes", [])]
    return lines


def _listed(name: str, total: int, items: list[str]) -> list[str]:
    lines = [f"{name}: {total:,}"]
    lines += [f"  {item}" for item in items[:SHOWN]]
    if total > SHOWN:
        lines.append(f"  and {total - SHOWN:,} more")
    return lines


@group.command("temperatures")
@click.argument("city_slug", metavar="CITY")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="E-mail of the city's staff or admin acting.")
def temperatures_command(city_slug: str, file: Path, email: str):
    """Import a city's daily mean temperatures (CSV: a date and a mean in °C per row), then
    print what it did."""
    try:
        city = cities.get_city(db.session, city_slug)
    except NotFound:
        raise click.ClickException(f"There is no city {city_slug}.") from None
    if file.stat().st_size > temperatures.MAX_BYTES:
        raise click.ClickException(f"{file.name} is larger than {temperatures.MAX_BYTES:,} bytes.")
    actor = _person(email)
    if not can(actor, "energy.settings", city):
        raise click.ClickException(f"{email} is neither staff nor an administrator of {city_slug}.")
    try:
        summary = temperatures.import_temperatures(db.session, actor, city, file.read_bytes())
    except Problem as problem:
        db.session.rollback()
        raise click.ClickException(problem_text(problem)) from None
    db.session.commit()
    for line in temperature_lines(city.slug, summary):
        click.echo(line)


def temperature_lines(city_slug: str, summary: dict) -> list[str]:
    """A temperature import's summary, as the console shows it."""
    lines = [
        f"Temperatures of {city_slug}: columns {' / '.join(summary.get('columns', []))}.",
        f"rows read: {summary.get('rows_read', 0):,}",
        f"days: {summary.get('days', 0):,} ({summary.get('new', 0):,} new, "
        f"{summary.get('replaced', 0):,} replaced, {summary.get('unchanged', 0):,} unchanged)",
    ]
    if summary.get("period"):
        lines.append(f"period: {summary['period'][0]} -> {summary['period'][1]}")
    lines += _listed(
        "rejected rows",
        summary.get("rejected_total", 0),
        [f"line {r['line']}: {r['reason']}" for r in summary.get("rejected", [])],
    )
    return lines
