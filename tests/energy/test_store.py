"""Storing intervals: new, unchanged, replaced and removed counted exactly; the same data twice
changes nothing; a household-year of quarter hours goes through the bulk path."""

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.errors import Invalid
from energy.intervals import Interval
from energy.models import ImportKind, MeterImport, Reading
from energy.store import StoreCounts, store_intervals
from tests.energy.helpers import START

QUARTER = timedelta(minutes=15)


@pytest.fixture
def new_import(db_session, meter):
    """An import row of the meter, as imports.py makes one before storing."""

    def make() -> MeterImport:
        row = MeterImport(
            meter_id=meter.id,
            user_id=meter.user_id,
            city_id=meter.city_id,
            kind=ImportKind.CSV.value,
            content_sha256="0" * 64,
        )
        db_session.add(row)
        db_session.flush()
        return row

    return make


def quarters(count: int, start=START, value=lambda i: float(100 + i % 9)) -> list[Interval]:
    return [
        Interval(start + i * QUARTER, start + (i + 1) * QUARTER, value(i)) for i in range(count)
    ]


def test_new_intervals_are_stored_in_the_meters_unit_with_their_import(
    db_session, meter, new_import, readings_of
):
    row = new_import()
    counts = store_intervals(db_session, meter, quarters(8), row)
    assert counts == StoreCounts(new=8, replaced=0, unchanged=0, removed=0)
    stored = readings_of(meter)
    assert [(start, end, value) for start, end, value, _ in stored] == [
        (i.start, i.end, i.value) for i in quarters(8)
    ]
    assert {import_id for *_, import_id in stored} == {row.id}


def test_storing_the_same_intervals_again_changes_nothing(
    db_session, meter, new_import, readings_of
):
    store_intervals(db_session, meter, quarters(96), new_import())
    before = readings_of(meter)
    counts = store_intervals(db_session, meter, quarters(96), new_import())
    assert counts == StoreCounts(new=0, replaced=0, unchanged=96, removed=0)
    assert readings_of(meter) == before


def test_overlapping_intervals_replace_exactly_what_they_overlap(
    db_session, meter, new_import, readings_of
):
    store_intervals(db_session, meter, quarters(8), new_import())
    # Quarters 4 to 7 again, 6 and 7 with other values, and four more after them.
    later = quarters(
        8, start=START + 4 * QUARTER, value=lambda i: 104 + i + (50 if i in (2, 3) else 0)
    )
    later = [Interval(i.start, i.end, float(i.value)) for i in later]
    original = {start: value for start, _, value, _ in readings_of(meter)}
    expected_unchanged = sum(1 for i in later if original.get(i.start) == i.value)
    row = new_import()
    counts = store_intervals(db_session, meter, later, row)
    assert counts.unchanged == expected_unchanged
    assert counts.replaced == 4 - expected_unchanged
    assert counts.removed == counts.replaced
    assert counts.new == 4
    stored = readings_of(meter)
    assert len(stored) == 12
    assert [value for _, _, value, _ in stored[8:]] == [i.value for i in later[4:]]


def test_a_coarser_interval_replaces_the_finer_ones_it_covers(
    db_session, meter, new_import, readings_of
):
    store_intervals(db_session, meter, quarters(8), new_import())
    hour = Interval(START + QUARTER * 4, START + QUARTER * 8, 400.0)
    counts = store_intervals(db_session, meter, [hour], new_import())
    assert counts == StoreCounts(new=0, replaced=1, unchanged=0, removed=4)
    stored = readings_of(meter)
    assert len(stored) == 5
    assert stored[-1][:3] == (hour.start, hour.end, 400.0)


def test_readings_in_a_gap_of_the_new_file_are_kept(db_session, meter, new_import, readings_of):
    store_intervals(db_session, meter, quarters(8), new_import())
    with_gap = [i for n, i in enumerate(quarters(8, value=lambda i: 1.0)) if n not in (3, 4)]
    counts = store_intervals(db_session, meter, with_gap, new_import())
    assert counts == StoreCounts(new=0, replaced=6, unchanged=0, removed=6)
    assert [value for _, _, value, _ in readings_of(meter)] == [1, 1, 1, 103, 104, 1, 1, 1]


def test_other_meters_are_untouched(db_session, meter, make_meter, new_import, readings_of):
    other = make_meter(meter.user, label="Garage")
    store_intervals(db_session, meter, quarters(4), new_import())
    counts = store_intervals(db_session, other, quarters(4, value=lambda i: 1.0), new_import())
    assert counts.new == 4
    assert [v for _, _, v, _ in readings_of(meter)] == [100, 101, 102, 103]


def test_overlapping_or_naive_intervals_are_refused(db_session, meter, new_import):
    overlapping = [
        Interval(START, START + 2 * QUARTER, 1.0),
        Interval(START + QUARTER, START + 3 * QUARTER, 1.0),
    ]
    naive = [Interval(START.replace(tzinfo=None), START.replace(tzinfo=None) + QUARTER, 1.0)]
    for intervals in (overlapping, naive):
        with pytest.raises(Invalid):
            store_intervals(db_session, meter, intervals, new_import())
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_a_household_year_of_quarter_hours_goes_in_bulk(db_session, meter, new_import):
    year = quarters(35_040)
    began = time.perf_counter()
    counts = store_intervals(db_session, meter, year, new_import())
    first = time.perf_counter() - began
    assert counts.new == 35_040
    began = time.perf_counter()
    again = store_intervals(db_session, meter, year, new_import())
    second = time.perf_counter() - began
    assert again == StoreCounts(unchanged=35_040)
    total = db_session.scalar(
        sa.select(sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id)
    )
    assert total == sum(i.value for i in year)
    # No timing assertion (machines vary); the figures show in ``pytest -s``.
    print(f"35,040 readings stored in {first:.2f} s, checked again in {second:.2f} s")


def test_times_in_another_zone_are_stored_as_the_same_utc_instants(
    db_session, meter, new_import, readings_of
):
    vienna = ZoneInfo("Europe/Vienna")
    local = [
        Interval(i.start.astimezone(vienna), i.end.astimezone(vienna), i.value) for i in quarters(8)
    ]
    store_intervals(db_session, meter, local, new_import())
    assert [(start, end) for start, end, *_ in readings_of(meter)] == [
        (i.start, i.end) for i in quarters(8)
    ]
    # The same instants in UTC are recognised as what is stored.
    assert store_intervals(db_session, meter, quarters(8), new_import()) == StoreCounts(unchanged=8)
