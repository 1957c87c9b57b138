"""The console page that imports an XLSForm as a draft survey of a campaign."""

import io
from pathlib import Path

import sqlalchemy as sa

from surveys.models import Survey
from tests.console.helpers import csrf_token, html

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "xlsform"
PAGE = "/console/lyon/campaigns/block-7/surveys/import"


def upload(client, content: bytes, filename: str):
    token = csrf_token(client, PAGE)
    return client.post(
        PAGE,
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def surveys(db_session) -> list[Survey]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Survey)))


def test_upload_creates_a_draft_and_lists_what_was_left_out(as_person, make_campaign, db_session):
    make_campaign()
    client = as_person("moderator")
    response = upload(client, (FORMS / "testA.xlsx").read_bytes(), "testA.xlsx")
    assert response.status_code == 200
    page = html(response)
    assert "A draft survey was created with 21 questions from 21 in the form" in page
    assert "This condition cannot be expressed" in page  # row 22's relevant
    [survey] = surveys(db_session)
    assert survey.status == "draft"
    assert survey.campaign.slug == "block-7"


def test_a_file_that_is_not_a_workbook_is_refused(as_person, make_campaign, db_session):
    make_campaign()
    client = as_person("moderator")
    response = upload(client, b"type,name,label\n", "form.xlsx")
    assert response.status_code == 200
    assert "This is not an Excel workbook" in html(response)
    assert surveys(db_session) == []


def test_staff_may_not_import(as_person, make_campaign, db_session):
    make_campaign()
    client = as_person("staff")
    assert client.get(PAGE).status_code == 403
