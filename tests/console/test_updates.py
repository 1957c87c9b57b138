"""Update pages of the console: compose side by side, preview per language, schedule, publish."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from notifications.models import Notification
from tests.console.helpers import csrf_token, html, post_form
from updates import service
from updates.models import Update

LIST = "/console/lyon/updates"
NEW = "/console/lyon/updates/new"


def _updates(db_session) -> list[Update]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Update).order_by(Update.id)))


def _show(update) -> str:
    return f"/console/lyon/updates/{update.id}"


def update_data(**changes) -> dict:
    """A complete update form for Lyon (fr, en); ``None`` leaves a field out."""
    data = {
        "audience": "",
        "title-fr": "Échafaudages lundi",
        "title-en": "Scaffolding on Monday",
        "body-fr": "Le chantier commence.\r\n\r\nMerci de votre patience.",
        "body-en": "<p>Work <strong>starts</strong>.</p><script>alert(1)</script>",
        "image_url": "https://images.example.org/scaffold.jpg",
        "image_alt-fr": "Un échafaudage",
        "image_alt-en": "A scaffold",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def make_update(db_session, lyon, people):
    def make(title=None, city=None, **values):
        city = city or lyon
        update = service.create_update(
            db_session,
            people["platform_admin"],
            city,
            title=title or {city.default_locale: "Travaux", "en": "Works"},
            **values,
        )
        db_session.commit()
        return update

    return make


# --- composing ------------------------------------------------------------------------------


def test_staff_compose_an_update_in_every_language_side_by_side(as_person, db_session):
    client = as_person("staff")
    form = html(client.get(NEW))
    for name in ("title-fr", "title-en", "body-fr", "body-en", "image_alt-en", "audience"):
        assert f'for="{name}"' in form, name
    assert '<div class="side-by-side">' in form
    response = post_form(client, NEW, update_data())
    assert response.status_code == 303
    (update,) = _updates(db_session)
    assert response.location == _show(update)
    assert update.status == "draft" and update.campaign_id is None
    assert update.title == {"fr": "Échafaudages lundi", "en": "Scaffolding on Monday"}
    # Plain text becomes paragraphs; HTML keeps its allowed part only.
    assert update.body == {
        "fr": "<p>Le chantier commence.</p><p>Merci de votre patience.</p>",
        "en": "<p>Work <strong>starts</strong>.</p>",
    }
    assert update.image_alt == {"fr": "Un échafaudage", "en": "A scaffold"}
    assert "The update is saved as a draft." in html(client.get(_show(update)))


def test_an_update_can_be_for_one_campaigns_followers(as_person, db_session, make_campaign):
    campaign = make_campaign(status="published")
    client = as_person("admin")
    form = html(client.get(NEW))
    assert f'<option value="{campaign.id}">Followers of Campaign block-7</option>' in form
    response = post_form(client, NEW, update_data(audience=str(campaign.id)))
    assert response.status_code == 303
    assert _updates(db_session)[0].campaign_id == campaign.id


@pytest.mark.parametrize(
    ("changes", "errors_id", "message"),
    [
        ({"title-fr": ""}, "title-errors", "A title in the city's main language is required."),
        (
            {"image_url": "http://images.example.org/a.jpg"},
            "image_url-errors",
            "Use an https:// address of at most 500 characters.",
        ),
        (
            {"image_alt-fr": ""},
            "image_alt-errors",
            "Describe the image in the city's main language",
        ),
        (
            {"title-en": "x" * 201},
            "title-errors",
            "Longer than the maximum length of 200.",
        ),
        ({"audience": "99999"}, "audience-errors", "one of this city's campaigns"),
        ({"audience": "'; DROP TABLE updates; --"}, "audience-errors", "one of this city"),
    ],
)
def test_mistakes_are_shown_next_to_their_field(as_person, db_session, changes, errors_id, message):
    response = post_form(as_person("staff"), NEW, update_data(**changes))
    assert response.status_code == 422
    page = html(response)
    assert f'id="{errors_id}"' in page
    assert message in page.replace("&#39;", "'")
    assert "Nothing is saved yet." in page
    assert _updates(db_session) == []


def test_another_citys_campaign_is_no_audience(as_person, db_session, make_campaign, vienna):
    wien = make_campaign(city=vienna, slug="heating", status="published")
    response = post_form(as_person("staff"), NEW, update_data(audience=str(wien.id)))
    assert response.status_code == 422
    assert _updates(db_session) == []


def test_editing_keeps_the_audience_once_people_were_told(
    as_person, db_session, make_update, make_campaign
):
    campaign = make_campaign(status="published")
    update = make_update()
    client = as_person("staff")
    assert post_form(client, f"{_show(update)}/publish", {}, page=_show(update)).status_code == 303
    form = html(client.get(f"{_show(update)}/edit"))
    assert 'type="hidden" name="audience" value=""' in form
    assert '<select id="audience"' not in form
    response = post_form(
        client, f"{_show(update)}/edit", update_data(audience=str(campaign.id)), page=_show(update)
    )
    assert response.status_code == 422
    assert "its audience cannot change" in html(response)
    response = post_form(client, f"{_show(update)}/edit", update_data(), page=_show(update))
    assert response.status_code == 303
    assert "Nobody is told again." in html(client.get(_show(update)))
    assert _updates(db_session)[0].title["en"] == "Scaffolding on Monday"


# --- preview --------------------------------------------------------------------------------


def test_the_preview_shows_the_update_in_each_language(as_person, make_update):
    update = make_update(
        title={"fr": "Rue fermée", "en": "Street closed"},
        body={"fr": "<p>Déviation par le quai.</p>", "en": "<p>Detour <em>by the river</em>.</p>"},
        image_url="https://images.example.org/rue.jpg",
        image_alt={"fr": "La rue", "en": "The street"},
    )
    client = as_person("staff")
    english = html(client.get(_show(update), query_string={"lang": "en"}))
    assert '<article class="phone update-preview" lang="en"' in english
    assert (
        '<img class="cover" src="https://images.example.org/rue.jpg" alt="The street">' in english
    )
    assert "<p>Detour <em>by the river</em>.</p>" in english  # rendered as HTML, not escaped
    assert "Street closed" in english
    french = html(client.get(_show(update), query_string={"lang": "fr"}))
    assert '<article class="phone update-preview" lang="fr"' in french
    assert "Déviation par le quai." in french and "Detour" not in french


def test_the_preview_marks_texts_in_another_language(as_person, make_update):
    update = make_update(title={"fr": "Seulement en français"})
    page = html(as_person("staff").get(_show(update), query_string={"lang": "en"}))
    assert '<h3 lang="fr">Seulement en français</h3>' in page
    assert "not written in English yet" in page
    assert '<span class="badge badge-missing" lang="en">English</span>' in page


def test_the_preview_only_offers_the_citys_languages(as_person, make_update):
    update = make_update()
    assert as_person("staff").get(_show(update), query_string={"lang": "de"}).status_code == 400


def test_stored_markup_never_runs_in_the_preview(as_person, db_session, make_update):
    update = make_update(title={"fr": "<script>alert('t')</script>"})
    # Even a body written around the service stays sanitised when shown.
    update.body = {"fr": "<p>ok</p><script>alert('b')</script><img src=x onerror=alert(1)>"}
    db_session.commit()
    page = html(as_person("staff").get(_show(update)))
    assert "<script>alert(" not in page and "onerror" not in page
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page


def test_an_update_of_another_city_is_not_found(as_person, make_update, vienna):
    update = make_update(city=vienna, title={"de": "Bauarbeiten"})
    assert as_person("platform_admin").get(_show(update)).status_code == 404
    assert (
        as_person("platform_admin").get(f"/console/vienna/updates/{update.id}").status_code == 200
    )


# --- list -----------------------------------------------------------------------------------


def test_the_list_filters_by_status_with_counts(as_person, db_session, make_update, people):
    draft = make_update(title={"fr": "Brouillon"})
    live = make_update(title={"fr": "En ligne"})
    client = as_person("staff")
    post_form(client, f"{_show(live)}/publish", {}, page=_show(live))
    page = html(client.get(LIST))
    assert '<span class="count">2</span>' in page  # all
    assert f'href="{_show(draft)}"' in page and f'href="{_show(live)}"' in page
    published = html(client.get(LIST, query_string={"status": "published"}))
    assert f'href="{_show(live)}"' in published and f'href="{_show(draft)}"' not in published
    assert 'href="/console/lyon/updates?status=published" aria-current="page"' in published
    assert '<span class="badge badge-published">Published</span>' in published


@pytest.mark.parametrize("status", ["deleted", "' OR 1=1 --", "DRAFT"])
def test_a_status_outside_the_list_is_refused(as_person, status):
    assert as_person("staff").get(LIST, query_string={"status": status}).status_code == 400


def test_only_those_who_manage_updates_see_the_link(as_person):
    assert f'href="{LIST}"' in html(as_person("staff").get("/console/lyon/campaigns"))
    assert f'href="{LIST}"' not in html(as_person("moderator").get("/console/lyon/campaigns"))


# --- scheduling, publishing, unpublishing --------------------------------------------------


def test_scheduling_reads_the_time_in_the_citys_zone(as_person, db_session, make_update):
    update = make_update()
    client = as_person("staff")
    response = post_form(
        client, f"{_show(update)}/schedule", {"publish_at": "2030-07-01T10:00"}, page=_show(update)
    )
    assert response.status_code == 303
    stored = _updates(db_session)[0]
    assert stored.status == "scheduled"
    assert stored.publish_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
    page = html(client.get(_show(update)))
    assert "(UTC+02:00)" in page and "Jul 1, 2030" in page
    assert 'value="2030-07-01T10:00"' in page  # shown again as typed
    # Winter time: UTC+1.
    post_form(
        client, f"{_show(update)}/schedule", {"publish_at": "2030-12-01T10:00"}, _show(update)
    )
    assert _updates(db_session)[0].publish_at == datetime(2030, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2030-03-31T02:30", "does not exist in the time zone Europe/Paris"),
        ("2020-01-01T10:00", "Choose a time in the future."),
        ("tomorrow", "Enter a valid date and time."),
        ("", "Enter when to publish the update."),
    ],
)
def test_impossible_times_are_refused(as_person, db_session, make_update, typed, message):
    update = make_update()
    response = post_form(
        as_person("staff"), f"{_show(update)}/schedule", {"publish_at": typed}, page=_show(update)
    )
    assert response.status_code == 422
    assert message in html(response)
    assert _updates(db_session)[0].status == "draft"


def test_a_time_that_happens_twice_takes_the_first_and_says_so(as_person, db_session, make_update):
    update = make_update()
    client = as_person("staff")
    post_form(
        client, f"{_show(update)}/schedule", {"publish_at": "2030-10-27T02:30"}, _show(update)
    )
    assert _updates(db_session)[0].publish_at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)
    page = html(client.get(_show(update)))
    assert "This time happens twice that night" in page and "UTC+02:00" in page


def test_publishing_tells_the_city_and_unpublishing_hides(
    as_person, db_session, make_update, people
):
    update = make_update()
    client = as_person("staff")
    response = post_form(client, f"{_show(update)}/publish", {}, page=_show(update))
    assert response.status_code == 303
    assert "The update is published." in html(client.get(_show(update)))
    told = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.dedupe_key == f"update:{update.id}")
        )
    )
    assert people["resident"].id in told
    assert people["other_moderator"].id not in told  # Vienna
    response = post_form(client, f"{_show(update)}/unpublish", {}, page=_show(update))
    assert response.status_code == 303
    assert "Residents no longer see it." in html(client.get(_show(update)))
    assert _updates(db_session)[0].status == "draft"
    # Unpublishing a draft is refused with a message, not an error page.
    response = post_form(client, f"{_show(update)}/unpublish", {}, page=_show(update))
    assert response.status_code == 303
    assert "This update is not published." in html(client.get(_show(update)))


def test_state_changes_need_the_csrf_token(as_person, db_session, make_update):
    update = make_update()
    client = as_person("staff")
    csrf_token(client)  # a session exists, but the form is sent without its token
    for action in ("publish", "unpublish", "schedule"):
        response = client.post(f"{_show(update)}/{action}", data={"publish_at": "2030-07-01T10:00"})
        assert response.status_code == 400
    assert _updates(db_session)[0].status == "draft"
