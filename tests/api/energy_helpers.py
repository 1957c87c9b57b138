"""Shared pieces of the energy API tests: signed-in headers, multipart uploads, counts."""

import io

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from energy.models import Reading


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def upload(client, url, headers, content: bytes, name="data.xml", **fields):
    """A multipart upload, encoded in memory (the test client would spool a large body to a
    temporary file it never closes)."""
    file = FileStorage(io.BytesIO(content), filename=name)
    boundary, body = encode_multipart({"file": file, **fields})
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers
    )


def total(session, meter) -> float:
    return session.scalar(sa.select(sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id))
