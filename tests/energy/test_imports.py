"""Importing files into a meter: every Green Button fixture with its documented figures, the
same file twice changing nothing, overlaps replaced and counted, content sniffed (not the
name), several usage points, and nothing stored without consent."""

import gc
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.errors import Conflict, Invalid, NotFound
from energy.imports import clean_filename, import_each_usage_point, import_file, sniff_kind
from energy.models import ImportKind, Meter, MeterImport, Reading
from tests.energy.helpers import CUSTOMER_FEED, START, Point, quarter_hours, usage_feed
from tests.energy.test_greenbutton import FIXTURES, two_usage_points

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 30


def iso(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def total(db_session, meter) -> float:
    return db_session.scalar(
        sa.select(sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id)
    )


@pytest.mark.parametrize(("name", "count", "seconds", "first", "last", "wh", "gaps"), FIXTURES)
def test_each_fixture_imports_with_the_documented_figures(
    db_session, meter, greenbutton, readings_of, name, count, seconds, first, last, wh, gaps
):
    row = import_file(db_session, meter.user, meter, greenbutton(name), name)
    summary = row.summary
    assert (row.kind, row.filename, row.meter_id) == ("greenbutton", name, meter.id)
    assert summary["rows_read"] == summary["intervals"] == summary["new"] == count
    assert (summary["replaced"], summary["unchanged"], summary["duplicates_dropped"]) == (0, 0, 0)
    assert summary["period"] == [iso(first), iso(last)]
    assert (summary["rejected"], summary["rejected_total"]) == ([], 0)
    assert bool(summary["gaps"]) is gaps and summary["gaps_total"] == len(summary["gaps"])
    assert summary["same_file_as"] is None
    stored = readings_of(meter)
    assert len(stored) == count
    assert {(end - start).total_seconds() for start, end, _, _ in stored} == {seconds}
    assert (stored[0][0].isoformat(), stored[-1][1].isoformat()) == (iso(first), iso(last))
    assert total(db_session, meter) == wh


@pytest.mark.parametrize("name", ["test_usage_data.xml", "electric_containerized.xml"])
def test_importing_a_file_twice_changes_nothing(db_session, meter, greenbutton, readings_of, name):
    data = greenbutton(name)
    first = import_file(db_session, meter.user, meter, data, name)
    before = readings_of(meter)
    second = import_file(db_session, meter.user, meter, data, name)
    count = first.summary["intervals"]
    assert second.id != first.id
    assert {k: second.summary[k] for k in ("new", "replaced", "unchanged", "removed")} == {
        "new": 0,
        "replaced": 0,
        "unchanged": count,
        "removed": 0,
    }
    assert second.summary["same_file_as"] == first.id
    assert readings_of(meter) == before


def test_the_us_clock_change_lands_right(db_session, meter, greenbutton, readings_of):
    row = import_file(db_session, meter.user, meter, greenbutton("test_usage_data.xml"), "x.xml")
    assert row.summary["intervals"] == 1340 == 14 * 96 - 4
    assert row.summary["gaps"] == []
    assert any("2012-03-11" in note for note in row.summary["notes"])
    stored = readings_of(meter)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(stored))


def test_a_longer_file_keeps_what_is_the_same_and_adds_the_rest(db_session, meter, greenbutton):
    import_file(db_session, meter.user, meter, greenbutton("test_usage_data_01.xml"), "day.xml")
    row = import_file(db_session, meter.user, meter, greenbutton("test_usage_data.xml"), "2w.xml")
    assert (row.summary["new"], row.summary["unchanged"], row.summary["replaced"]) == (1244, 96, 0)
    assert total(db_session, meter) == 1_391_666


def test_an_overlapping_file_replaces_the_overlapping_intervals_and_says_how_many(
    db_session, meter, greenbutton, readings_of
):
    import_file(db_session, meter.user, meter, greenbutton("test_usage_data.xml"), "2w.xml")
    day = greenbutton("test_usage_data_01.xml").decode()
    seen = iter(range(10_000))
    # The first day again with its first ten values one Wh higher (a corrected file).
    corrected = re.sub(
        r"<value>(\d+)</value>",
        lambda m: f"<value>{int(m[1]) + 1 if next(seen) < 10 else m[1]}</value>",
        day,
    )
    row = import_file(db_session, meter.user, meter, corrected.encode(), "corrected.xml")
    summary = row.summary
    assert (summary["replaced"], summary["unchanged"], summary["new"]) == (10, 86, 0)
    assert summary["removed"] == 10
    assert summary["same_file_as"] is None
    assert total(db_session, meter) == 1_391_666 + 10
    assert sum(1 for *_, import_id in readings_of(meter) if import_id == row.id) == 10


def test_hourly_readings_replace_the_quarter_hours_they_cover(db_session, meter, readings_of):
    quarters = usage_feed(Point("A", "Flat", readings=quarter_hours(START, 8)))
    import_file(db_session, meter.user, meter, quarters, "q.xml")
    hourly = usage_feed(Point("A", "Flat", readings=[(START, 3600, "500")]))
    row = import_file(db_session, meter.user, meter, hourly, "h.xml")
    assert (row.summary["replaced"], row.summary["removed"], row.summary["new"]) == (1, 4, 0)
    assert len(readings_of(meter)) == 5


def test_nothing_is_stored_without_consent(db_session, resident, energy_text, greenbutton):
    # A meter registered before the consent was withdrawn, say.
    meter = Meter(
        user_id=resident.id,
        city_id=resident.city_id,
        commodity="electricity",
        unit="Wh",
        timezone="Europe/Paris",
    )
    db_session.add(meter)
    db_session.flush()
    with pytest.raises(Conflict) as refused:
        import_file(db_session, resident, meter, greenbutton("test_usage_data_01.xml"), "a.xml")
    assert refused.value.slug == "consent-required"
    with pytest.raises(Conflict):
        import_each_usage_point(db_session, resident, greenbutton("test_usage_data_01.xml"), "a")
    for model in (Reading, MeterImport):
        assert db_session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_another_residents_meter_is_not_found(
    db_session, lyon, make_user, agree, meter, greenbutton
):
    neighbour = make_user(lyon)
    agree(neighbour)
    with pytest.raises(NotFound):
        import_file(db_session, neighbour, meter, greenbutton("test_usage_data_01.xml"), "a.xml")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "This is not a meter data file."),
        (ZIP, "This is not a meter data file."),
        (b"\x00\x01\x02binary\x00", "This is not a meter data file."),
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (CUSTOMER_FEED, "This Green Button file holds no usage data"),
        (b"<html><body>Hello</body></html>", "This is not a Green Button file"),
    ],
    ids=["png", "zip", "binary", "empty", "blank", "customer feed", "html"],
)
def test_content_is_sniffed_and_refused_with_a_field_error(
    db_session, meter, content, message, imports_of
):
    with pytest.raises(Invalid) as refused:
        # A trusted-looking name changes nothing: the content decides.
        import_file(db_session, meter.user, meter, content, "usage.xml")
    assert refused.value.errors["file"][0].startswith(message)
    assert imports_of(meter) == []


def test_a_green_button_file_named_csv_is_read_as_green_button(db_session, meter, greenbutton):
    row = import_file(db_session, meter.user, meter, greenbutton("test_usage_data_01.xml"), "a.csv")
    assert (row.kind, row.summary["intervals"]) == ("greenbutton", 96)


def test_a_csv_file_needs_a_mapping(db_session, meter, imports_of):
    data = b"start;kWh\n2024-03-01 00:00;0,25\n2024-03-01 00:15;0,30\n"
    assert sniff_kind(data) == ImportKind.CSV
    with pytest.raises(Invalid) as refused:
        import_file(db_session, meter.user, meter, data, "export.xml")
    assert list(refused.value.errors) == ["mapping"]
    assert imports_of(meter) == []


def test_a_csv_file_with_a_mapping_is_read_into_the_meter(db_session, meter, readings_of):
    data = (
        b"Datum;Verbrauch (kWh)\n"
        b"01.03.2024 00:15;0,250\n"
        b"01.03.2024 00:30;0,300\n"
        b"01.03.2024 00:45;abc\n"
        b"01.03.2024 01:00;0,200\n"
    )
    mapping = {
        "timestamp": "Datum",
        "value": "Verbrauch (kWh)",
        "stamp_marks": "end",
        "value_kind": "energy",
        "value_unit": "kWh",
    }
    row = import_file(db_session, meter.user, meter, data, "export.csv", mapping=mapping)
    summary = row.summary
    assert row.kind == "csv"
    assert (summary["rows_read"], summary["intervals"], summary["new"]) == (4, 3, 3)
    assert [r["line"] for r in summary["rejected"]] == [4]
    assert summary["gaps_total"] == 1
    assert summary["mapping"]["value_unit"] == "kWh"
    # Paris is UTC+1 in March: the first quarter hour ends at 00:15 local, 23:15 UTC.
    assert [value for *_, value, _ in readings_of(meter)] == [250.0, 300.0, 200.0]
    assert readings_of(meter)[0][0] == datetime(2024, 2, 29, 23, 0, tzinfo=UTC)


def test_a_mapping_with_problems_is_refused_field_by_field(db_session, meter):
    with pytest.raises(Invalid) as refused:
        import_file(db_session, meter.user, meter, b"a;b\n1;2\n", "x.csv", mapping={"value": "b"})
    assert "timestamp" in refused.value.errors


def test_several_usage_points_need_a_choice(db_session, meter, greenbutton, readings_of):
    data = two_usage_points(greenbutton)
    with pytest.raises(Invalid) as refused:
        import_file(db_session, meter.user, meter, data, "both.xml")
    [message] = refused.value.errors["usage_point"]
    assert "5446AF3F: Front Electric Meter" in message
    assert "1: Coastal Multi-Family 12hr" in message
    with pytest.raises(Invalid) as refused:
        import_file(db_session, meter.user, meter, data, "both.xml", usage_point="nope")
    assert "no such usage point" in refused.value.errors["usage_point"][0]
    row = import_file(db_session, meter.user, meter, data, "both.xml", usage_point="1")
    assert (row.summary["usage_point"], row.summary["intervals"]) == ("1", 8)
    assert total(db_session, meter) == 4086


def test_each_usage_point_can_become_a_meter_of_its_own(db_session, energy_resident, greenbutton):
    data = two_usage_points(greenbutton)
    done = import_each_usage_point(db_session, energy_resident, data, "both.xml")
    assert [(m.label, m.commodity, m.unit) for m, _ in done] == [
        ("Front Electric Meter", "electricity", "Wh"),
        ("Coastal Multi-Family 12hr", "electricity", "Wh"),
    ]
    assert [row.summary["new"] for _, row in done] == [96, 8]
    assert [total(db_session, m) for m, _ in done] == [93_846, 4086]


def test_the_file_must_fit_the_meter(db_session, energy_resident, make_meter, greenbutton):
    water = make_meter(energy_resident, commodity="water")
    with pytest.raises(Invalid) as refused:
        import_file(db_session, energy_resident, water, greenbutton("test_usage_data_01.xml"), "a")
    assert refused.value.errors["file"] == [
        "This file holds electricity data; this meter measures water."
    ]
    gas_in_m3 = usage_feed(Point("G", "Gas", kind=1, uom=42, readings=quarter_hours(START, 2)))
    gas_in_wh = make_meter(energy_resident, commodity="gas", unit="Wh")
    with pytest.raises(Invalid) as refused:
        import_file(db_session, energy_resident, gas_in_wh, gas_in_m3, "gas.xml")
    assert refused.value.errors["file"] == [
        "This file's values are in m3; this meter counts in Wh."
    ]


def test_problems_are_in_the_summary(db_session, meter):
    readings = [*quarter_hours(START, 3), (START, 900, "999"), (START.replace(hour=5), 900, "x")]
    row = import_file(
        db_session, meter.user, meter, usage_feed(Point("A", "Flat", readings=readings)), "p.xml"
    )
    summary = row.summary
    assert (summary["rows_read"], summary["intervals"], summary["rejected_total"]) == (5, 3, 2)
    assert [r["line"] for r in summary["rejected"]] == [4, 5]


def test_long_lists_are_cut_in_the_summary_with_their_totals(db_session, meter):
    # Every other quarter hour: 149 gaps.
    readings = [r for n, r in enumerate(quarter_hours(START, 299)) if n % 2 == 0]
    row = import_file(
        db_session, meter.user, meter, usage_feed(Point("A", "F", readings=readings)), "g.xml"
    )
    assert (len(row.summary["gaps"]), row.summary["gaps_total"]) == (100, 149)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.xml", "passwd.xml"),
        ("C:\\Users\\me\\Green Button.xml", "Green Button.xml"),
        ("evil\r\nname.csv", "evilname.csv"),
        ("x" * 300, "x" * 200),
        (None, ""),
    ],
)
def test_the_file_name_is_kept_without_its_path(given, kept):
    assert clean_filename(given) == kept


def test_the_garbage_collector_runs_again_after_an_import_even_a_refused_one(
    db_session, meter, greenbutton
):
    import_file(db_session, meter.user, meter, greenbutton("test_usage_data.xml"), "a.xml")
    assert gc.isenabled()
    with pytest.raises(Invalid):
        import_file(db_session, meter.user, meter, b"\x89PNG\r\n", "a.png")
    assert gc.isenabled()


def test_the_same_file_again_after_a_correction_puts_its_values_back(
    db_session, meter, greenbutton, readings_of
):
    """A file imported again is compared with what is stored when another import replaced
    some of its readings meanwhile: it puts them back and says so."""
    day = greenbutton("test_usage_data_01.xml")
    first = import_file(db_session, meter.user, meter, day, "day.xml")
    seen = iter(range(10_000))
    corrected = re.sub(
        r"<value>(\d+)</value>",
        lambda m: f"<value>{int(m[1]) + 1 if next(seen) < 10 else m[1]}</value>",
        day.decode(),
    )
    import_file(db_session, meter.user, meter, corrected.encode(), "corrected.xml")
    again = import_file(db_session, meter.user, meter, day, "day.xml")
    summary = again.summary
    assert summary["same_file_as"] == first.id
    assert (summary["replaced"], summary["unchanged"], summary["new"]) == (10, 86, 0)
    assert sum(1 for *_, import_id in readings_of(meter) if import_id == again.id) == 10


def test_the_same_csv_read_with_another_mapping_is_read_again(db_session, meter, readings_of):
    """Same bytes, another way of reading them (here: stamps at the end instead of the
    start): every reading moves, nothing is taken as unchanged."""
    rows = "\n".join(f"2024-03-01 {h:02d}:00;{100 + h}" for h in range(6))
    data = f"time;kWh\n{rows}\n".encode()
    mapping = {"timestamp": "time", "value": "kWh", "value_kind": "energy", "value_unit": "Wh"}
    import_file(
        db_session, meter.user, meter, data, "a.csv", mapping={**mapping, "stamp_marks": "start"}
    )
    again = import_file(
        db_session, meter.user, meter, data, "a.csv", mapping={**mapping, "stamp_marks": "end"}
    )
    assert again.summary["unchanged"] == 0
    # Paris is UTC+1 in March: a stamp of 00:00 ending its hour is 22:00-23:00 UTC the day
    # before. The first reading's last hour (04:00 UTC), which the second overlaps nowhere, stays.
    first_end = datetime(2024, 2, 29, 23, tzinfo=UTC)
    assert [(start, value) for start, _end, value, _import in readings_of(meter)] == [
        (first_end - timedelta(hours=1) + timedelta(hours=h), 100.0 + h) for h in range(6)
    ] + [(datetime(2024, 3, 1, 4, tzinfo=UTC), 105.0)]
