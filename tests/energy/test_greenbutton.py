"""Reading Green Button feeds: the fixture files' figures exactly, several usage points,
scaling and units, problems reported per reading, and feeds that are not usage data refused."""

import xml.etree.ElementTree as StdET
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
import pytest

from app.errors import Invalid
from energy.greenbutton import parse_green_button
from tests.energy.helpers import CUSTOMER_FEED, START, Point, quarter_hours, usage_feed


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#: The table of tests/fixtures/energy/greenbutton/README.md: readings, seconds per interval,
#: period (UTC), total Wh, whether the readings leave gaps.
FIXTURES = [
    ("test_usage_data.xml", 1340, 900, "2012-03-01T05:00", "2012-03-15T04:00", 1_391_666, False),
    ("test_usage_data_01.xml", 96, 900, "2012-03-01T05:00", "2012-03-02T05:00", 93_846, False),
    (
        "TestGBDataHourlyNineDaysBinnedDaily.xml",
        216,
        3600,
        "2014-01-01T05:00",
        "2014-01-10T05:00",
        199_563,
        False,
    ),
    (
        "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml",
        8760,
        3600,
        "2011-01-01T08:00",
        "2012-01-01T08:00",
        4_425_305,
        False,
    ),
    ("electric_containerized.xml", 8, 3600, "2011-01-01T08:00", "2011-01-02T00:00", 4086, True),
    (
        "cew821_sample_greenbutton_data.xml",
        362,
        3600,
        "2011-01-01T08:00",
        "2011-01-16T10:00",
        291_018,
        False,
    ),
]


@pytest.mark.parametrize(("name", "count", "seconds", "first", "last", "total", "gaps"), FIXTURES)
def test_each_fixture_reads_with_the_documented_figures(
    greenbutton, name, count, seconds, first, last, total, gaps
):
    [point] = parse_green_button(greenbutton(name))
    result = point.result
    assert point.commodity == "electricity"
    assert result.unit == "Wh"
    assert result.rows_read == count
    assert len(result.intervals) == count
    assert {(i.end - i.start).total_seconds() for i in result.intervals} == {seconds}
    assert result.period == (at(first), at(last))
    assert result.total == total
    assert bool(result.gaps) is gaps
    assert result.duplicates_dropped == 0
    assert result.rejected == []
    starts = [i.start for i in result.intervals]
    assert starts == sorted(set(starts))


def test_the_us_clock_change_inside_the_first_file_lands_right(greenbutton):
    """1,340 = 14 x 96 - 4: 2012-03-11 had 23 hours in New York, and nothing is missing."""
    [point] = parse_green_button(greenbutton("test_usage_data.xml"))
    result = point.result
    new_york = ZoneInfo("America/New_York")
    per_day = Counter(i.start.astimezone(new_york).date().isoformat() for i in result.intervals)
    assert per_day["2012-03-11"] == 92
    assert set(per_day.values()) == {96, 92}
    assert len(per_day) == 14
    assert result.gaps == []
    assert all(a.end == b.start for a, b in pairwise(result.intervals))
    assert any("2012-03-11" in note and "23" in note for note in result.notes)


def test_gaps_between_blocks_are_reported(greenbutton):
    [point] = parse_green_button(greenbutton("electric_containerized.xml"))
    assert point.result.gaps == [(at("2011-01-01T12:00"), at("2011-01-01T20:00"))]


def test_usage_point_keys_and_titles(greenbutton):
    [point] = parse_green_button(greenbutton("test_usage_data.xml"))
    assert (point.key, point.title) == ("5446AF3F", "Front Electric Meter")


def two_usage_points(greenbutton) -> bytes:
    """test_usage_data_01.xml and electric_containerized.xml as one feed."""
    atom = "{http://www.w3.org/2005/Atom}"
    first = SafeET.fromstring(greenbutton("test_usage_data_01.xml"))
    second = SafeET.fromstring(greenbutton("electric_containerized.xml"))
    for entry in second.findall(f"{atom}entry"):
        first.append(entry)
    return StdET.tostring(first, encoding="utf-8", xml_declaration=True)


def test_a_feed_with_several_usage_points_gives_each_its_readings(greenbutton):
    points = parse_green_button(two_usage_points(greenbutton))
    assert [(p.key, p.title) for p in points] == [
        ("5446AF3F", "Front Electric Meter"),
        ("1", "Coastal Multi-Family 12hr"),
    ]
    assert [len(p.result.intervals) for p in points] == [96, 8]
    assert [p.result.total for p in points] == [93_846, 4086]


def test_a_usage_point_without_readings_is_kept_with_a_note():
    points = parse_green_button(
        usage_feed(Point("A", "Flat", readings=quarter_hours(START, 4)), Point("B", "Garage"))
    )
    assert [(p.key, len(p.result.intervals)) for p in points] == [("A", 4), ("B", 0)]
    assert points[1].result.notes == ["No readings for this usage point."]


def test_interval_blocks_that_belong_to_no_usage_point_are_said_to_be_skipped():
    feed = usage_feed(
        Point("A", "Flat", readings=quarter_hours(START, 4)),
        Point("B", "Garage", readings=quarter_hours(START, 2)),
    )
    # B's block points at a meter reading that is not in the file.
    feed = feed.replace(
        b"UsagePoint/B/MeterReading/01/IntervalBlock", b"UsagePoint/Z/MeterReading/9/IntervalBlock"
    )
    flat, garage = parse_green_button(feed)
    assert [len(flat.result.intervals), len(garage.result.intervals)] == [4, 0]
    skipped = "1 interval blocks of the file belong to no usage point; skipped."
    assert skipped in flat.result.notes
    assert garage.result.notes == ["No readings for this usage point.", skipped]


def test_power_of_ten_and_units_are_applied():
    gas = Point(
        "G", "Gas", kind=1, uom=42, power=-3, readings=quarter_hours(START, 2, lambda i: 1234)
    )
    kwh = Point("E", "Flat", uom=72, power=3, readings=quarter_hours(START, 2, lambda i: 2))
    gas_point, electricity = parse_green_button(usage_feed(gas, kwh))
    assert (gas_point.commodity, gas_point.result.unit) == ("gas", "m3")
    assert [i.value for i in gas_point.result.intervals] == [1.234, 1.234]
    assert (electricity.commodity, electricity.result.unit) == ("electricity", "Wh")
    assert [i.value for i in electricity.result.intervals] == [2000.0, 2000.0]


def test_an_unknown_unit_imports_nothing_and_says_so():
    [point] = parse_green_button(
        usage_feed(Point("A", "Flat", uom=5, readings=quarter_hours(START, 2)))
    )
    assert point.result.intervals == []
    assert "Unknown unit of measure (5)" in point.result.notes[0]


def test_cumulative_readings_are_not_taken_for_consumption():
    feed = usage_feed(Point("A", "Flat", accumulation=1, readings=quarter_hours(START, 3)))
    [point] = parse_green_button(feed)
    assert point.result.intervals == []
    assert any("cumulative" in note for note in point.result.notes)


def test_problem_readings_are_reported_by_number_never_dropped_silently():
    q = timedelta(minutes=15)
    readings = [
        (START, 900, "100"),  # 1
        (START + q, 900, "abc"),  # 2: not a number
        (START + 2 * q, 900, "-5"),  # 3: negative
        (START + 3 * q, 0, "7"),  # 4: no duration
        (START, 900, "100"),  # 5: the same as 1: dropped as a duplicate
        (START, 900, "101"),  # 6: another value for 1's interval
        (START + 4 * q, 1800, "50"),  # 7
        (START + 5 * q, 900, "60"),  # 8: overlaps 7
    ]
    [point] = parse_green_button(usage_feed(Point("A", "Flat", readings=readings)))
    result = point.result
    assert result.rows_read == 8
    assert [(i.start, i.value) for i in result.intervals] == [(START, 100.0), (START + 4 * q, 50.0)]
    assert result.duplicates_dropped == 1
    assert [r.line for r in result.rejected] == [2, 3, 4, 6, 8]
    reasons = {r.line: r.reason for r in result.rejected}
    assert reasons[2] == "No time or no number in this reading."
    assert reasons[3] == "Negative consumption."
    assert reasons[6] == "A second, different value for the interval of reading 1."
    assert reasons[8] == "Overlaps the interval of reading 7."
    assert result.gaps == [(START + q, START + 4 * q)]


@pytest.mark.parametrize(
    "content",
    [
        CUSTOMER_FEED,
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
    ],
    ids=["customer feed", "empty feed"],
)
def test_a_feed_without_usage_data_is_refused_with_a_clear_message(content):
    with pytest.raises(Invalid) as refused:
        parse_green_button(content)
    assert "holds no usage data" in refused.value.errors["file"][0]


@pytest.mark.parametrize(
    "content",
    [
        b"not xml at all",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom">&lol2;</feed>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry>',
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE feed [<!ENTITY a "aaaa">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&a;</title></feed>'.encode("utf-16"),
    ],
    ids=["text", "svg", "entities", "truncated", "external-entity", "utf-16-entities"],
)
def test_content_that_is_not_a_green_button_feed_is_refused(content):
    with pytest.raises(Invalid) as refused:
        parse_green_button(content)
    assert refused.value.errors == {
        "file": ["This is not a Green Button file (an Atom feed of usage data)."]
    }
