"""Numbered pages of a long console list (``?page=2``), counted in SQL."""

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, request
from sqlalchemy.orm import Session

PER_PAGE = 25
#: Beyond this a page number is a typing slip or a probe, not a reader.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number() -> int:
    """The page the request asks for (1 when it names none); 400 for anything else. A form
    sent from a page names it too, so a refused form shows that page again."""
    text = request.values.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        abort(400)
    return int(text)


def paginate(
    session: Session, query: sa.Select, number: int, per_page: int = PER_PAGE, rows: bool = False
) -> Page:
    """One page of ``query`` (ordered by the caller): ORM objects, or rows when ``rows``."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    paged = query.limit(per_page).offset((number - 1) * per_page)
    result = session.execute(paged)
    items = list(result.all() if rows else result.scalars().all())
    return Page(items, number, max(1, math.ceil(total / per_page)), total)
