"""The Atom layer of a Green Button feed: its entries, what each holds, and how they link.

ESPI resources sit in a flat feed; an entry's ``self``, ``up`` and ``related`` addresses say
which usage point a meter reading belongs to, which reading type it uses and which interval
blocks are its. Files mix absolute and relative addresses, so links are compared by their
ends.

The XML is read by the standard library's C parser, several times faster than defusedxml's
pure-Python one: a file with a document type declaration is refused before parsing, so no
entity can be declared (nothing to expand, nothing external to fetch), and expat (2.4.1 and
later) limits amplification anyway. Each IntervalReading is then taken down to its (start,
duration, value) and its elements dropped: a household-year is 35,040 readings and ~250,000
elements.
"""

import xml.etree.ElementTree as StdET
from dataclasses import dataclass, field

from app.errors import Invalid
from i18n import _

ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Entry:
    """One Atom entry: the ESPI resource it holds (``kind``: UsagePoint, MeterReading, …)."""

    number: int
    kind: str
    element: StdET.Element
    title: str
    self_href: str
    up_href: str
    related: list[str]
    #: An IntervalBlock's readings: (start, duration, value text), in order; None in entries
    #: of other kinds.
    readings: list[tuple[int | None, int | None, str | None]] | None = field(default=None)


def local(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """A tag's ``{namespace}``, or "" for none."""
    return tag[: tag.index("}") + 1] if tag.startswith("{") else ""


def integer_in(element: StdET.Element | None, name: str, ns: str = "{*}") -> int | None:
    """The whole number in ``element``'s child ``name``, or None."""
    if element is None:
        return None
    text = element.findtext(f"{ns}{name}")
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _norm(href: str) -> str:
    return href.strip().rstrip("/")


def same(one: str, other: str) -> bool:
    """Two links name the same resource, even when one is relative and the other absolute."""
    if not one or not other:
        return False
    if one == other:
        return True
    short, long = sorted((one, other), key=len)
    return long.endswith("/" + short.lstrip("/"))


def parent_of(href: str) -> str:
    """The resource a collection address belongs to: ``…/UsagePoint/1/MeterReading`` → ``…/1``."""
    return href.rsplit("/", 1)[0] if "/" in href else ""


def not_green_button() -> Invalid:
    return Invalid(
        errors={"file": [_("This is not a Green Button file (an Atom feed of usage data).")]}
    )


#: A document type declaration, in the encodings an XML file may start in.
DOCTYPES = tuple("<!DOCTYPE".encode(encoding) for encoding in ("ascii", "utf-16-le", "utf-16-be"))


def _parse(data: bytes) -> tuple[StdET.Element, dict[int, list]]:
    """The document's tree without its IntervalReadings' elements, and each IntervalBlock's
    readings by the block element's ``id``."""
    if any(mark in data for mark in DOCTYPES):
        raise not_green_button()
    parser = StdET.XMLParser()  # noqa: S314 -- no DTD, so no entities: see the docstring
    try:
        parser.feed(data)
        root = parser.close()
    except StdET.ParseError:
        raise not_green_button() from None
    blocks: dict[int, list] = {}
    for block in root.iterfind(".//{*}IntervalBlock"):
        ns = namespace(block.tag)
        tags = (f"{ns}timePeriod", f"{ns}start", f"{ns}duration", f"{ns}value")
        readings = [child for child in block if child.tag == f"{ns}IntervalReading"]
        blocks[id(block)] = [_reading(reading, *tags) for reading in readings]
        for reading in readings:
            block.remove(reading)
    return root, blocks


def _reading(
    element: StdET.Element, period_tag: str, start_tag: str, duration_tag: str, value_tag: str
) -> tuple[int | None, int | None, str | None]:
    """(start, duration, value text) of an IntervalReading; children are walked directly,
    several times faster than searching for them."""
    start = duration = text = None
    for child in element:
        if child.tag == period_tag:
            for part in child:
                if part.tag == start_tag:
                    start = _integer(part.text)
                elif part.tag == duration_tag:
                    duration = _integer(part.text)
        elif child.tag == value_tag:
            text = child.text
    return start, duration, text


def _integer(text: str | None) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def entries_of(data: bytes) -> list[Entry]:
    """The entries of a feed (or the one entry of an entry document) that hold a resource."""
    root, block_readings = _parse(data)
    if root.tag == f"{ATOM}feed":
        elements = root.findall(f"{ATOM}entry")
    elif root.tag == f"{ATOM}entry":
        elements = [root]
    else:
        raise not_green_button()
    entries = []
    for number, entry in enumerate(elements, 1):
        content = entry.find(f"{ATOM}content")
        resource = next(iter(content), None) if content is not None else None
        if resource is None:
            continue
        links: dict[str, list[str]] = {}
        for link in entry.findall(f"{ATOM}link"):
            links.setdefault(link.get("rel", ""), []).append(_norm(link.get("href", "")))
        kind = local(resource.tag)
        entries.append(
            Entry(
                number=number,
                kind=kind,
                element=resource,
                title=(entry.findtext(f"{ATOM}title") or "").strip(),
                self_href=(links.get("self") or [""])[0],
                up_href=(links.get("up") or [""])[0],
                related=links.get("related", []),
                readings=block_readings.get(id(resource), []) if kind == "IntervalBlock" else None,
            )
        )
    return entries


def owner(child: Entry, parents: list[Entry]) -> Entry | None:
    """The entry ``child`` belongs to: its ``up`` collection's parent, else the only one."""
    for parent in parents:
        if same(parent_of(child.up_href), parent.self_href) or same(
            parent_of(parent_of(child.self_href)), parent.self_href
        ):
            return parent
    return parents[0] if len(parents) == 1 else None
