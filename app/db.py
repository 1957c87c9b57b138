"""The database base class, column types and engine settings shared by every domain."""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

from app.errors import Conflict
from i18n import _

Row = TypeVar("Row")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Largest id an INTEGER primary key holds; larger ids in URLs or cursors cannot exist.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """An aware datetime stored as UTC; SQLite returns naive values, so they are re-tagged."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict: sa.JSON, list: sa.JSON}


#: True while the current request or job is going to write: SQLite then takes the write lock
#: at BEGIN, so two writers queue instead of failing when one upgrades a read transaction.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def mark_writing_requests(app: Flask) -> None:
    """Requests that may change data declare it before their first query."""

    @app.before_request
    def _declare():
        write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout; and real transactions so savepoints work."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def insert_once(
    session: Session,
    row: Row,
    find: Callable[[], Row | None],
    before: Callable[[], None] | None = None,
) -> tuple[Row, bool]:
    """Insert ``row`` (after ``before``, in the same savepoint) unless a unique constraint says
    a parallel request inserted its twin first: then that twin is the answer (created False)
    and ``before``'s writes are undone with the savepoint."""
    try:
        with session.begin_nested():
            if before is not None:
                before()
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = find()
        if existing is None:
            raise Conflict(_("This changed meanwhile. Please try again.")) from None
        return existing, False
    return row, True


def move_status(session: Session, row: Base, allowed: tuple, *conditions, **values) -> bool:
    """Change ``row`` only if its status is still one of ``allowed`` (and ``conditions`` hold);
    True when it did. A conditional UPDATE: a console click and a scheduler run, or two clicks,
    never both make the same change."""
    model = type(row)
    session.flush()
    changed = session.execute(
        sa.update(model)
        .where(model.id == row.id, model.status.in_(allowed), *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    return bool(changed)
