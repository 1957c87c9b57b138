"""Download my data through the API: ask (once), see it ready, fetch it once, signed in."""

import io
import json
import zipfile
from datetime import timedelta

import pytest

from privacy.jobs import privacy_exports
from privacy.models import DataExport
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.usefixtures("in_app")

URL = "/api/v1/me/data-exports"


@pytest.fixture
def headers(bearer, resident):
    return bearer(resident, **{"Accept-Language": "en"})


def ready_link(client, db_session, headers, now=None):
    assert client.post(URL, headers=headers).status_code == 202
    privacy_exports(db_session, now=now)
    listed = client.get(URL, headers=headers).get_json()
    assert listed[0]["status"] == "ready"
    return listed[0]["download_url"].split("://", 1)[1].split("/", 1)[1]


def test_asking_twice_makes_one_copy(client, headers):
    first = client.post(URL, headers=headers)
    assert first.status_code == 202
    assert first.get_json()["status"] == "pending"
    assert first.get_json()["download_url"] is None
    again = client.post(URL, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(client.get(URL, headers=headers).get_json()) == 1


def test_the_copy_downloads_once(client, db_session, headers, resident):
    link = ready_link(client, db_session, headers)
    answer = client.get("/" + link, headers=headers)
    assert answer.status_code == 200
    assert answer.mimetype == "application/zip"
    assert answer.headers["Cache-Control"] == "no-store"
    assert 'attachment; filename="livinglab-my-data-' in answer.headers["Content-Disposition"]
    data = json.loads(zipfile.ZipFile(io.BytesIO(answer.data)).read("data.json"))
    assert data["account"]["email"] == resident.email
    listed = client.get(URL, headers=headers).get_json()
    assert listed[0]["status"] == "downloaded"
    assert listed[0]["download_url"] is None
    assert_problem(client.get("/" + link, headers=headers), 410, "gone")
    # A new copy may be asked for once the last one is spent.
    assert client.post(URL, headers=headers).status_code == 202


def test_another_account_with_the_link_finds_nothing(
    client, db_session, headers, bearer, lyon, make_user
):
    link = ready_link(client, db_session, headers)
    stranger = bearer(make_user(lyon), **{"Accept-Language": "en"})
    assert_problem(client.get("/" + link, headers=stranger), 404)
    assert_problem(client.get("/" + link), 401)
    assert_problem(client.get("/" + link.split("token=")[0] + "token=wrong", headers=headers), 404)
    assert client.get("/" + link, headers=headers).status_code == 200


def test_an_expired_copy_is_gone(client, db_session, headers):
    link = ready_link(client, db_session, headers)
    export = db_session.query(DataExport).one()
    privacy_exports(db_session, now=export.expires_at + timedelta(seconds=1))
    answer = client.get("/" + link, headers=headers)
    assert_problem(answer, 410, "gone")
    assert answer.get_json()["detail"]
    assert client.get(URL, headers=headers).get_json()[0]["status"] == "expired"


def test_the_download_needs_a_token(client, db_session, headers):
    ready_link(client, db_session, headers)
    export = db_session.query(DataExport).one()
    assert_problem(client.get(f"{URL}/{export.id}/download", headers=headers), 400)
