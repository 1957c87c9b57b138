"""Green Button feeds the fixture files do not cover, built the way ESPI lays them out: a flat
Atom feed whose entries link a UsagePoint to its MeterReading, ReadingType and IntervalBlock."""

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
BASE = "https://utility.example/espi/1_1/resource"


@dataclass
class Point:
    """A usage point: ESPI service kind (0 electricity, 1 gas, 2 water, 4 heat), unit of
    measure (72 Wh, 42 m3), power of ten, and readings as (start, seconds, value text)."""

    key: str
    title: str
    kind: int = 0
    uom: int = 72
    power: int = 0
    readings: list[tuple[datetime, int, str]] = field(default_factory=list)
    accumulation: int = 4


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def quarter_hours(start: datetime, count: int, value=lambda i: 100 + i % 7) -> list:
    """``count`` quarter-hour readings from ``start``."""
    return [(start + timedelta(minutes=15 * i), 900, str(value(i))) for i in range(count)]


def _entry(title: str, self_href: str, up_href: str, related: list[str], content: str) -> str:
    links = [f'<link rel="self" href="{self_href}"/>', f'<link rel="up" href="{up_href}"/>']
    links += [f'<link rel="related" href="{href}"/>' for href in related]
    return (
        f"<entry><id>urn:uuid:{zlib.crc32(self_href.encode())}</id>{''.join(links)}"
        f"<title>{escape(title)}</title><content>{content}</content>"
        "<updated>2024-01-01T00:00:00Z</updated></entry>"
    )


def usage_feed(*points: Point) -> bytes:
    """A subscription feed holding the given usage points."""
    entries = []
    for number, point in enumerate(points, 1):
        up = f"{BASE}/RetailCustomer/9/UsagePoint/{point.key}"
        reading = f"{up}/MeterReading/01"
        kind = f"{BASE}/ReadingType/{number}"
        entries.append(
            _entry(
                point.title,
                up,
                f"{BASE}/RetailCustomer/9/UsagePoint",
                [f"{up}/MeterReading"],
                f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>{point.kind}</kind>'
                "</ServiceCategory></UsagePoint>",
            )
        )
        if not point.readings:
            continue
        entries.append(
            _entry(
                "Consumption",
                reading,
                f"{up}/MeterReading",
                [f"{reading}/IntervalBlock", kind],
                f'<MeterReading xmlns="{ESPI}"/>',
            )
        )
        entries.append(
            _entry(
                "Reading type",
                kind,
                f"{BASE}/ReadingType",
                [],
                f'<ReadingType xmlns="{ESPI}"><accumulationBehaviour>{point.accumulation}'
                "</accumulationBehaviour><flowDirection>1</flowDirection>"
                f"<powerOfTenMultiplier>{point.power}</powerOfTenMultiplier>"
                f"<uom>{point.uom}</uom></ReadingType>",
            )
        )
        first = min(start for start, _, _ in point.readings)
        last = max(start + timedelta(seconds=length) for start, length, _ in point.readings)
        readings = "".join(
            f"<IntervalReading><timePeriod><duration>{length}</duration>"
            f"<start>{epoch(start)}</start></timePeriod><value>{value}</value>"
            "</IntervalReading>"
            for start, length, value in point.readings
        )
        entries.append(
            _entry(
                "",
                f"{reading}/IntervalBlock/1",
                f"{reading}/IntervalBlock",
                [],
                f'<IntervalBlock xmlns="{ESPI}"><interval>'
                f"<duration>{epoch(last) - epoch(first)}</duration><start>{epoch(first)}</start>"
                f"</interval>{readings}</IntervalBlock>",
            )
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="{ATOM}"><id>urn:uuid:1</id>'
        f"<title>Green Button Subscription Feed</title>{''.join(entries)}</feed>"
    ).encode()


#: A Green Button feed of customer data (ESPI's RetailCustomer schema): no usage at all.
CUSTOMER_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="{ATOM}">
  <id>urn:uuid:2</id><title>Green Button Customer Feed</title>
  <entry>
    <id>urn:uuid:3</id>
    <link rel="self" href="{BASE}/RetailCustomer/9/Customer/1"/>
    <title>Customer</title>
    <content>
      <Customer xmlns="http://naesb.org/espi/customer">
        <kind>residential</kind>
        <name>A. Resident</name>
      </Customer>
    </content>
  </entry>
  <entry>
    <id>urn:uuid:4</id>
    <link rel="self" href="{BASE}/RetailCustomer/9/Customer/1/CustomerAccount/1"/>
    <title>Account</title>
    <content>
      <CustomerAccount xmlns="http://naesb.org/espi/customer">
        <billingCycle>monthly</billingCycle>
      </CustomerAccount>
    </content>
  </entry>
</feed>
""".encode()

START = datetime(2024, 3, 1, tzinfo=UTC)
