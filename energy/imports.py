"""Importing a meter data file: what it is (judged by its content, not its name), reading it,
storing its intervals, and a summary of everything that happened, problems included.
"""

import contextlib
import gc
import hashlib
import math
import re
import threading
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.consent import require_consent
from app.consent_models import Purpose
from app.db import utcnow
from app.errors import Invalid, NotFound
from app.models import User
from energy.csv_reader import Mapping, read_csv
from energy.greenbutton import UsagePointData, parse_green_button
from energy.intervals import ParseResult
from energy.meters import COMMODITY_NAMES, UNITS, create_meter
from energy.models import Commodity, ImportKind, Meter, MeterImport, Reading, Unit
from energy.store import StoreCounts, store_intervals
from i18n import _

#: How many gaps and rejected rows a summary lists (their totals are always given).
LISTED = 100
#: Starts of files that are certainly not meter data: archives, images, documents.
MAGIC = (
    b"PK\x03\x04",  # zip (also xlsx, docx)
    b"PK\x05\x06",
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"RIFF",  # WebP, WAV, AVI
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"%PDF",
    b"\xd0\xcf\x11\xe0",  # OLE: xls, doc
    b"\x7fELF",
    b"MZ",
)
#: Control bytes other than tab, line feed, carriage return and form feed.
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")
#: A unit of a file's values → the commodity a new meter for it measures.
COMMODITY_OF_UNIT = {"Wh": Commodity.ELECTRICITY, "m3": Commodity.GAS, "L": Commodity.WATER}


def _not_meter_data() -> Invalid:
    return Invalid(
        errors={
            "file": [
                _(
                    "This is not a meter data file. Upload a Green Button file (XML) or a "
                    "CSV export of your meter portal."
                )
            ]
        }
    )


def sniff_kind(data: bytes) -> ImportKind:
    """Green Button or CSV, from the content; Invalid on "file" for anything else."""
    head = data[:8192]
    if not head.strip():
        raise Invalid(errors={"file": [_("The file is empty.")]})
    # NUL bytes never appear in text; a stray control character or two may.
    if head.startswith(MAGIC) or b"\x00" in head or len(CONTROL.findall(head)) > len(head) // 100:
        raise _not_meter_data()
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return ImportKind.GREEN_BUTTON
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A sample may end inside a character; anything else is not UTF-8 (the CSV reader
        # then tries Latin-1), unless nothing in it reads as text at all.
        if error.start < len(head) - 4 and not _mostly_text(head):
            raise _not_meter_data() from None
    return ImportKind.CSV


def _mostly_text(head: bytes) -> bool:
    printable = sum(1 for byte in head if byte >= 0x20 or byte in b"\t\r\n")
    return printable / len(head) > 0.95 and head.count(b"\n") > 0


def clean_filename(filename: str | None) -> str:
    """The file's own name, without any path or control characters, shortened."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return UNSAFE_NAME.sub("", name).strip()[:200]


def _own(user: User, meter: Meter) -> None:
    if meter.user_id != user.id:
        raise NotFound()


def _choose(points: list[UsagePointData], usage_point: str | None) -> UsagePointData:
    if usage_point is not None:
        for point in points:
            if point.key == usage_point:
                return point
    if usage_point is None and len(points) == 1:
        return points[0]
    listed = "; ".join(f"{point.key}: {point.title}" for point in points)
    if usage_point is None:
        message = _("This file holds several usage points. Choose one: %(points)s.", points=listed)
    else:
        message = _("This file has no such usage point. Choose one: %(points)s.", points=listed)
    raise Invalid(errors={"usage_point": [message]})


def _check_fits(meter: Meter, point: UsagePointData) -> None:
    """The usage point's commodity and unit must be the meter's."""
    if point.commodity is not None and point.commodity != meter.commodity:
        raise Invalid(
            errors={
                "file": [
                    _(
                        "This file holds %(file)s data; this meter measures %(meter)s.",
                        file=COMMODITY_NAMES[Commodity(point.commodity)],
                        meter=COMMODITY_NAMES[Commodity(meter.commodity)],
                    )
                ]
            }
        )
    if point.result.intervals and point.result.unit != meter.unit:
        raise Invalid(
            errors={
                "file": [
                    _(
                        "This file's values are in %(file)s; this meter counts in %(meter)s.",
                        file=point.result.unit,
                        meter=meter.unit,
                    )
                ]
            }
        )


class _CollectorPaused(contextlib.ContextDecorator):
    """The garbage collector paused while files are read and stored.

    A household-year makes hundreds of thousands of long-lived objects, enough to trigger
    full collections that walk the whole process (the app's objects too) and took a third
    to half of an import (bench/README.md). What an import makes is freed by reference
    counting; cycles made meanwhile by any thread wait for the next collection, a second
    or so later. Imports running at once share one pause: the last to finish resumes the
    collector, if it was running before the first began.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._was_enabled:
                gc.enable()


_collector_paused = _CollectorPaused()


@_collector_paused
def import_file(
    session: Session,
    user: User,
    meter: Meter,
    data: bytes,
    filename: str,
    *,
    mapping: dict | Mapping | None = None,
    usage_point: str | None = None,
    now: datetime | None = None,
) -> MeterImport:
    """Read a Green Button or CSV file into one of the person's meters; the import's summary
    says what was read, stored, replaced, kept, dropped and rejected."""
    _own(user, meter)
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    kind = sniff_kind(data)
    extra: dict = {}
    if kind == ImportKind.GREEN_BUTTON:
        point = _choose(parse_green_button(data), usage_point)
        _check_fits(meter, point)
        result = point.result
        extra["usage_point"] = point.key
    else:
        if mapping is None:
            raise Invalid(
                errors={
                    "mapping": [
                        _(
                            "Say which columns hold the time and the value (or choose a "
                            "saved format) to import a CSV file."
                        )
                    ]
                }
            )
        chosen = mapping if isinstance(mapping, Mapping) else Mapping.from_dict(mapping)
        result = read_csv(data, chosen, meter.timezone, meter.unit)
        extra["mapping"] = chosen.to_dict()
    return _record(session, user, meter, kind, data, filename, result, extra, now or utcnow())


@_collector_paused
def import_each_usage_point(
    session: Session, user: User, data: bytes, filename: str, now: datetime | None = None
) -> list[tuple[Meter, MeterImport]]:
    """Read every usage point of a Green Button file into a new meter of its own."""
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    if sniff_kind(data) != ImportKind.GREEN_BUTTON:
        raise Invalid(
            errors={"file": [_("Only a Green Button file can create a meter per usage point.")]}
        )
    now = now or utcnow()
    done = []
    for point in parse_green_button(data):
        unit = Unit(point.result.unit)
        commodity = Commodity(point.commodity) if point.commodity else COMMODITY_OF_UNIT[unit]
        if unit not in UNITS[commodity]:
            if point.result.intervals:
                raise Invalid(
                    errors={
                        "file": [
                            _(
                                "Values in %(unit)s cannot be %(commodity)s readings.",
                                unit=unit.value,
                                commodity=COMMODITY_NAMES[commodity],
                            )
                        ]
                    }
                )
            unit = UNITS[commodity][0]
        meter = create_meter(
            session,
            user,
            commodity=commodity.value,
            unit=unit.value,
            label=point.title[:100],
        )
        _check_fits(meter, point)
        extra = {"usage_point": point.key}
        row = _record(
            session, user, meter, ImportKind.GREEN_BUTTON, data, filename, point.result, extra, now
        )
        done.append((meter, row))
    return done


def _earlier_same(session: Session, meter: Meter, digest: str, extra: dict) -> int | None:
    """The latest earlier import of the very same content (and usage point) into the meter."""
    rows = session.execute(
        sa.select(MeterImport.id, MeterImport.summary)
        .where(MeterImport.meter_id == meter.id, MeterImport.content_sha256 == digest)
        .order_by(MeterImport.id.desc())
    ).all()
    for import_id, summary in rows:
        if (summary or {}).get("usage_point") == extra.get("usage_point"):
            return import_id
    return None


def _record(
    session: Session,
    user: User,
    meter: Meter,
    kind: ImportKind,
    data: bytes,
    filename: str,
    result: ParseResult,
    extra: dict,
    now: datetime,
) -> MeterImport:
    digest = hashlib.sha256(data).hexdigest()
    same_as = _earlier_same(session, meter, digest, extra)
    row = MeterImport(
        meter_id=meter.id,
        user_id=user.id,
        city_id=meter.city_id,
        kind=kind.value,
        filename=clean_filename(filename),
        content_sha256=digest,
        summary={},
        created_at=now,
    )
    session.add(row)
    session.flush()
    counts = _still_stored(session, meter, same_as, extra, result) or store_intervals(
        session, meter, result.intervals, row
    )
    row.summary = summarise(result, counts, same_as) | extra
    session.flush()
    return row


def _still_stored(
    session: Session, meter: Meter, same_as: int | None, extra: dict, result: ParseResult
) -> StoreCounts | None:
    """Unchanged counts when the very same content, read the same way, was imported before and
    every reading it stored is still its own, as this reading of it has them (count, span and
    total): then nothing can change, and the stored readings need not be read back. None
    otherwise, for store_intervals to compare them."""
    intervals = result.intervals
    if same_as is None or not intervals:
        return None
    earlier = session.scalar(sa.select(MeterImport.summary).where(MeterImport.id == same_as))
    if any((earlier or {}).get(key) != extra.get(key) for key in ("mapping", "usage_point")):
        return None
    # The meter's lock, as store_intervals takes it: no import changes it meanwhile.
    session.execute(sa.select(Meter.id).where(Meter.id == meter.id).with_for_update())
    count, first, last, total = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.min(Reading.start_at),
            sa.func.max(Reading.end_at),
            sa.func.sum(Reading.value),
        ).where(Reading.meter_id == meter.id, Reading.import_id == same_as)
    ).one()
    same = (
        count == len(intervals)
        and first == intervals[0].start
        and last == intervals[-1].end
        and math.isclose(total, math.fsum(i.value for i in intervals), rel_tol=1e-9)
    )
    return StoreCounts(unchanged=count) if same else None


def summarise(result: ParseResult, counts: StoreCounts, same_file_as: int | None) -> dict:
    """The import's summary as stored and shown: JSON only, long lists cut at ``LISTED``."""
    period = result.period
    return {
        "rows_read": result.rows_read,
        "intervals": len(result.intervals),
        "new": counts.new,
        "replaced": counts.replaced,
        "unchanged": counts.unchanged,
        "removed": counts.removed,
        "duplicates_dropped": result.duplicates_dropped,
        "gaps": [[start.isoformat(), end.isoformat()] for start, end in result.gaps[:LISTED]],
        "gaps_total": len(result.gaps),
        "rejected": [{"line": r.line, "reason": str(r.reason)} for r in result.rejected[:LISTED]],
        "rejected_total": len(result.rejected),
        "notes": [str(note) for note in result.notes],
        "period": [period[0].isoformat(), period[1].isoformat()] if period else None,
        "unit": result.unit,
        "same_file_as": same_file_as,
    }
