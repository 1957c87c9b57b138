"""Cursor pagination: opaque cursors over (sort value, id), stable while rows are added."""

import base64
import json
from datetime import datetime

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates

from app.db import MAX_ID
from client_api.core import page_size
from i18n import _l


def encode_cursor(sort_value: datetime, row_id: int) -> str:
    raw = json.dumps([sort_value.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raise ValueError for anything that is not a cursor we made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    sort_value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    moment = datetime.fromisoformat(sort_value)
    if (
        moment.tzinfo is None
        or not isinstance(row_id, int)
        or isinstance(row_id, bool)
        or not 0 < row_id <= MAX_ID
    ):
        raise ValueError("not a cursor")
    return moment, row_id


class PageArgs(Schema):
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "next_cursor of the previous page; omit for the first page."},
    )
    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "Page size; values above 100 are capped to 100."},
    )

    @validates("cursor")
    def _cursor_is_ours(self, value, **_kwargs):
        if value is None:
            return
        try:
            decode_cursor(value)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise ValidationError(
                str(_l("Not a valid cursor; start again from the first page."))
            ) from None


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A page of items with the cursor to the next one."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


def paginate(session, query: sa.Select, sort_column, id_column, args: dict, newest_first=True):
    """Run ``query`` one page at a time, newest first; returns the rows and the next cursor."""
    limit = page_size(args.get("limit"))
    if args.get("cursor"):
        moment, row_id = decode_cursor(args["cursor"])
        if newest_first:
            query = query.where(sa.tuple_(sort_column, id_column) < sa.tuple_(moment, row_id))
        else:
            query = query.where(sa.tuple_(sort_column, id_column) > sa.tuple_(moment, row_id))
    order = (sort_column.desc(), id_column.desc()) if newest_first else (sort_column, id_column)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, sort_column.key), getattr(last, id_column.key))
    return rows, next_cursor
