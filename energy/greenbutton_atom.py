"""The Atom layer of a Green Button feed: its entries, what each holds, and how they link.

ESPI resources sit in a flat feed; an entry's ``self``, ``up`` and ``related`` addresses say
which usage point a meter reading belongs to, which reading type it uses and which interval
blocks are its. Files mix absolute and relative addresses, so links are compared by their
ends. The XML is read with defusedxml: no DTDs, no entities.
"""

import xml.etree.ElementTree as StdET
from dataclasses import dataclass

import defusedxml.ElementTree as ET
from defusedxml import DefusedXmlException

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


def entries_of(data: bytes) -> list[Entry]:
    """The entries of a feed (or the one entry of an entry document) that hold a resource."""
    try:
        root = ET.fromstring(data, forbid_dtd=True)
    except (StdET.ParseError, DefusedXmlException, ValueError):
        raise not_green_button() from None
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
        entries.append(
            Entry(
                number=number,
                kind=local(resource.tag),
                element=resource,
                title=(entry.findtext(f"{ATOM}title") or "").strip(),
                self_href=(links.get("self") or [""])[0],
                up_href=(links.get("up") or [""])[0],
                related=links.get("related", []),
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
