"""Campaign pages of the console: list, preview, create, edit, publish, archive."""

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from campaigns.models import Campaign
from tests.console.helpers import campaign_data, csrf_token, html, post_form

LIST = "/console/lyon/campaigns"
NEW = "/console/lyon/campaigns/new"
SHOW = "/console/lyon/campaigns/block-7"


def _campaigns(db_session) -> list[Campaign]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Campaign).order_by(Campaign.id)))


def _campaign(db_session, slug="block-7") -> Campaign:
    db_session.expire_all()
    return db_session.scalar(sa.select(Campaign).where(Campaign.slug == slug))


# --- list -----------------------------------------------------------------------------------


def test_the_list_shows_each_campaign_with_its_status(as_person, make_campaign):
    make_campaign(slug="draft-one")
    make_campaign(slug="live-one", status="published")
    make_campaign(slug="old-one", status="archived")
    page = html(as_person("staff").get(LIST))
    for slug, status, label in (
        ("draft-one", "draft", "Draft"),
        ("live-one", "published", "Published"),
        ("old-one", "archived", "Archived"),
    ):
        assert f"/console/lyon/campaigns/{slug}" in page
        assert f'<span class="badge badge-{status}">{label}</span>' in page


def test_the_list_filters_by_status(as_person, make_campaign):
    make_campaign(slug="draft-one")
    make_campaign(slug="live-one", status="published")
    page = html(as_person("moderator").get(f"{LIST}?status=published"))
    assert "/console/lyon/campaigns/live-one" in page
    assert "/console/lyon/campaigns/draft-one" not in page
    assert 'href="/console/lyon/campaigns?status=published" aria-current="page"' in page


@pytest.mark.parametrize("status", ["deleted", "' OR 1=1 --", "DRAFT"])
def test_a_status_outside_the_list_is_refused(as_person, status):
    assert as_person("moderator").get(LIST, query_string={"status": status}).status_code == 400


def test_titles_are_in_the_readers_language_with_a_fallback(
    as_person, make_campaign, db_session, people
):
    make_campaign(slug="both", title={"fr": "Les deux", "en": "Both languages"})
    make_campaign(slug="french-only", title={"fr": "Seulement en français"})
    people["moderator"].locale = "en"
    db_session.commit()
    page = html(as_person("moderator").get(LIST))
    assert "Both languages" in page
    assert "Les deux" not in page
    assert 'lang="fr">Seulement en français</a>' in page


def test_missing_translations_are_marked_per_campaign(as_person, make_campaign):
    make_campaign(slug="french-only", title={"fr": "Seulement en français"})
    page = html(as_person("moderator").get(LIST))
    row = page.split("/console/lyon/campaigns/french-only", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge badge-missing" lang="en">English</span>' in row


def test_only_editors_are_offered_a_new_campaign(as_person):
    assert NEW in html(as_person("moderator").get(LIST))
    assert NEW not in html(as_person("staff").get(LIST))


def test_an_empty_city_says_so(as_person):
    assert "This city has no campaigns yet." in html(as_person("researcher").get(LIST))


# --- preview --------------------------------------------------------------------------------


def test_the_preview_shows_the_campaign_as_residents_see_it(as_person, make_campaign):
    make_campaign(
        title={"fr": "Îlot 7", "en": "Block 7"},
        summary={"fr": "Résumé", "en": "Summary"},
        description={"fr": "Ligne un\nLigne deux", "en": "Line one\nLine two"},
        cover_image_url="https://images.example.org/7.jpg",
        cover_alt={"fr": "Cour", "en": "Courtyard"},
        phases=[
            {
                "title": {"fr": "Atelier", "en": "Workshop"},
                "starts_at": datetime(2030, 6, 1, 7, 0, tzinfo=UTC),
                "ends_at": datetime(2030, 6, 2, 16, 30, tzinfo=UTC),
            }
        ],
    )
    client = as_person("staff")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = html(client.get(SHOW, query_string={"lang": "en"}))
    assert '<article class="phone" lang="en">' in page
    assert '<img class="cover" src="https://images.example.org/7.jpg" alt="Courtyard">' in page
    assert "Line one\nLine two" in page
    assert "Workshop" in page
    # The page is in French (Lyon's language); 07:00 UTC is 09:00 in Lyon in summer.
    assert "01/06/2030 09:00 \N{EN DASH} 02/06/2030 18:30" in page
    french = html(client.get(SHOW, query_string={"lang": "fr"}))
    assert '<article class="phone" lang="fr">' in french
    assert "Atelier" in french


def test_the_preview_marks_text_shown_in_another_language(as_person, make_campaign):
    make_campaign(title={"fr": "Seulement en français"})
    page = html(as_person("moderator").get(SHOW, query_string={"lang": "en"}))
    assert '<h3 lang="fr">Seulement en français</h3>' in page
    assert "not written in English yet" in page


def test_the_preview_only_offers_the_citys_languages(as_person, make_campaign):
    make_campaign()
    assert as_person("moderator").get(SHOW, query_string={"lang": "de"}).status_code == 400


def test_read_only_people_get_no_buttons(as_person, make_campaign):
    make_campaign()
    staff_page = html(as_person("staff").get(SHOW))
    assert f"{SHOW}/publish" not in staff_page
    assert f"{SHOW}/edit" not in staff_page
    moderator_page = html(as_person("moderator").get(SHOW))
    assert f"{SHOW}/publish" in moderator_page
    assert f"{SHOW}/archive" in moderator_page
    assert f"{SHOW}/edit" in moderator_page


def test_an_unknown_campaign_is_not_found(as_person):
    assert as_person("moderator").get("/console/lyon/campaigns/nothing-here").status_code == 404
    assert as_person("moderator").get("/console/atlantis/campaigns").status_code == 404


def test_another_citys_campaign_is_not_found_through_this_city(as_person, make_campaign, vienna):
    make_campaign(city=vienna, slug="heating")
    assert as_person("moderator").get("/console/lyon/campaigns/heating").status_code == 404


# --- create ---------------------------------------------------------------------------------


def test_a_moderator_creates_a_campaign_in_two_languages(as_person, db_session):
    client = as_person("moderator")
    form = html(client.get(NEW))
    for name in ("title-fr", "title-en", "summary-en", "cover_alt-fr", "phase-0-starts_at"):
        assert f'for="{name}"' in form, name
    response = post_form(client, NEW, campaign_data())
    assert response.status_code == 303
    assert response.location == SHOW
    campaign = _campaign(db_session)
    assert campaign.status == "draft"
    assert campaign.title == {"fr": "Rénovation de l'îlot 7", "en": "Renovating block 7"}
    assert campaign.description["en"] == "First line.\nSecond line."
    assert campaign.cover_image_url == "https://images.example.org/block-7.jpg"
    assert campaign.cover_alt == {"fr": "La cour de l'îlot 7", "en": "The courtyard of block 7"}
    (phase,) = campaign.phases
    assert phase.title == {"fr": "Information", "en": "Information"}
    # Typed as Lyon's local time (CEST, UTC+2), stored as UTC.
    assert phase.starts_at == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    assert phase.ends_at == datetime(2030, 6, 30, 16, 0, tzinfo=UTC)
    assert "The campaign is saved as a draft." in html(client.get(SHOW))


def test_phases_are_read_in_the_citys_own_time_zone(as_person, db_session, make_campaign):
    client = as_person("platform_admin")
    data = campaign_data(
        slug="heating",
        **{"title-de": "Fernwärme", "phase-0-title-de": "Umfrage"},
    )
    response = post_form(client, "/console/vienna/campaigns/new", data)
    assert response.status_code == 303
    phase = _campaign(db_session, "heating").phases[0]
    assert phase.starts_at == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)  # Vienna is UTC+2 too
    assert phase.title == {"de": "Umfrage", "en": "Information"}  # fr is not Vienna's


def test_several_phases_are_saved_in_order(as_person, db_session):
    data = campaign_data(
        **{
            "phase-1-title-fr": "Vote",
            "phase-1-starts_at": "2030-12-01T09:00",
            "phase-1-ends_at": "2030-12-15T18:00",  # winter time: UTC+1
            "phase-2-title-fr": "",  # an untouched spare row
        }
    )
    assert post_form(as_person("moderator"), NEW, data).status_code == 303
    phases = _campaign(db_session).phases
    assert [p.title["fr"] for p in phases] == ["Information", "Vote"]
    assert phases[1].starts_at == datetime(2030, 12, 1, 8, 0, tzinfo=UTC)


MAIN_TITLE = "A title in the city's main language is required."
PHASE_RULE = "Each phase needs a title in the city's main language and must end after it starts."
SLUG_RULE = "Use lower-case letters, digits and single hyphens."


@pytest.mark.parametrize(
    ("changes", "field", "errors_id", "message"),
    [
        ({"title-fr": ""}, "title-fr", "title-errors", MAIN_TITLE),
        ({"title-fr": "   "}, "title-fr", "title-errors", MAIN_TITLE),
        ({"slug": "Block 7"}, "slug", "slug-errors", SLUG_RULE),
        ({"slug": ""}, "slug", "slug-errors", SLUG_RULE),
        ({"slug": "a" * 81}, "slug", "slug-errors", SLUG_RULE),
        ({"slug": "new"}, "slug", "slug-errors", "This address is used by the console itself."),
        (
            {"cover_image_url": "http://images.example.org/a.jpg"},
            "cover_image_url",
            "cover_image_url-errors",
            "Use an https:// address of at most 500 characters.",
        ),
        (
            {"cover_image_url": "https://images.example.org/" + "a" * 500},
            "cover_image_url",
            "cover_image_url-errors",
            "A web address has at most 500 characters.",
        ),
        (
            {"summary-en": "x" * 501},
            "summary-en",
            "summary-errors",
            "Longer than the maximum length of 500.",
        ),
        ({"phase-0-ends_at": "2030-05-01T09:00"}, "phases", "phases-errors", PHASE_RULE),
        ({"phase-0-title-fr": ""}, "phases", "phases-errors", PHASE_RULE),
        (
            {
                "phase-1-title-fr": "Chevauche",
                "phase-1-starts_at": "2030-06-15T09:00",
                "phase-1-ends_at": "2030-07-15T09:00",
            },
            "phases",
            "phases-errors",
            "Phases must not overlap.",
        ),
        (
            {"phase-0-title-en": "x" * 201},
            "phase-0-title-en",
            "phase-0-errors",
            "Longer than the maximum length of 200.",
        ),
        (
            {"phase-0-starts_at": "tomorrow"},
            "phase-0-starts_at",
            "phase-0-errors",
            "Enter a valid date and time.",
        ),
        (
            {"phase-0-starts_at": "2030-02-30T10:00"},
            "phase-0-starts_at",
            "phase-0-errors",
            "Enter a valid date and time.",
        ),
        (
            {"phase-0-starts_at": "0001-01-01T00:00"},
            "phase-0-starts_at",
            "phase-0-errors",
            "Enter a valid date and time.",
        ),
        (
            {"phase-0-ends_at": ""},
            "phase-0-ends_at",
            "phase-0-errors",
            "Enter when the phase ends.",
        ),
        (
            # Clocks go from 02:00 to 03:00 in Lyon on 31 March 2030.
            {"phase-0-starts_at": "2030-03-31T02:30"},
            "phase-0-starts_at",
            "phase-0-errors",
            "This time does not exist in the time zone Europe/Paris",
        ),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_saved(
    as_person, db_session, changes, field, errors_id, message
):
    response = post_form(as_person("moderator"), NEW, campaign_data(**changes))
    assert response.status_code == 422
    page = html(response)
    tag = re.search(rf'<(input|textarea|fieldset)[^>]*id="{field}"[^>]*>', page).group(0)
    assert errors_id in tag  # aria-describedby points at the messages
    if field != "phases":
        assert 'aria-invalid="true"' in tag
    errors = re.search(rf'<ul class="errors" id="{errors_id}">(.*?)</ul>', page, re.DOTALL)
    assert errors, errors_id
    assert message.replace("'", "&#39;") in errors.group(1)
    assert "Nothing is saved yet." in page
    assert _campaigns(db_session) == []


def test_every_problem_is_shown_at_once_and_the_input_is_kept(as_person, db_session):
    data = campaign_data(**{"title-fr": "", "phase-0-starts_at": "soon", "title-en": "Kept"})
    page = html(post_form(as_person("moderator"), NEW, data))
    assert "A title in the city&#39;s main language is required." in page
    assert "Enter a valid date and time." in page
    assert 'value="Kept"' in page
    assert 'value="soon"' in page
    assert _campaigns(db_session) == []


def test_a_taken_address_is_refused(as_person, make_campaign, db_session):
    make_campaign()
    response = post_form(as_person("moderator"), NEW, campaign_data())
    assert response.status_code == 422
    assert "This address is already taken." in html(response)
    assert len(_campaigns(db_session)) == 1


def test_errors_are_in_the_readers_language(as_person, db_session, people, translate):
    people["moderator"].locale = "de"
    db_session.commit()
    response = post_form(as_person("moderator"), NEW, campaign_data(**{"title-fr": ""}))
    assert response.status_code == 422
    expected = translate("de", "A title in the city's main language is required.")
    assert expected.replace("'", "&#39;") in html(response)
    assert '<html lang="de">' in html(response)


def test_creating_needs_the_csrf_token(as_person, db_session):
    response = as_person("moderator").post(NEW, data=campaign_data())
    assert response.status_code == 400
    assert _campaigns(db_session) == []


def test_read_only_people_cannot_create(as_person, db_session):
    client = as_person("researcher")
    response = client.post(NEW, data={**campaign_data(), "csrf_token": csrf_token(client)})
    assert response.status_code == 403
    assert _campaigns(db_session) == []


# --- edit -----------------------------------------------------------------------------------


def test_the_edit_form_shows_phases_in_local_time(as_person, make_campaign):
    make_campaign(
        phases=[
            {
                "title": {"fr": "Hiver"},
                "starts_at": datetime(2030, 1, 10, 8, 0, tzinfo=UTC),
                "ends_at": datetime(2030, 1, 20, 17, 0, tzinfo=UTC),
            }
        ]
    )
    page = html(as_person("moderator").get(f"{SHOW}/edit"))
    assert 'value="2030-01-10T09:00"' in page  # UTC+1 in January
    assert 'value="2030-01-20T18:00"' in page
    assert 'name="phase-0-remove"' in page
    assert 'name="slug"' not in page  # the address stays


def test_editing_changes_texts_and_phases(as_person, make_campaign, db_session):
    make_campaign()
    data = campaign_data(
        slug=None,
        **{
            "title-en": "A new title",
            "phase-0-existing": "1",
            "phase-0-remove": "1",
            "phase-1-title-fr": "Vote",
            "phase-1-starts_at": "2030-09-01T09:00",
            "phase-1-ends_at": "2030-09-30T18:00",
        },
    )
    response = post_form(as_person("admin"), f"{SHOW}/edit", data)
    assert response.status_code == 303
    campaign = _campaign(db_session)
    assert campaign.title["en"] == "A new title"
    assert [p.title for p in campaign.phases] == [{"fr": "Vote"}]
    assert campaign.slug == "block-7"


def test_an_invalid_edit_changes_nothing(as_person, make_campaign, db_session):
    make_campaign(title={"fr": "Avant"})
    data = campaign_data(slug=None, **{"title-fr": "", "title-en": "After"})
    response = post_form(as_person("moderator"), f"{SHOW}/edit", data)
    assert response.status_code == 422
    assert _campaign(db_session).title == {"fr": "Avant"}


def test_an_archived_campaign_cannot_be_edited(as_person, make_campaign, db_session):
    make_campaign(status="archived", title={"fr": "Avant"})
    client = as_person("moderator")
    response = client.get(f"{SHOW}/edit")
    assert response.status_code == 303
    assert response.location == SHOW
    assert "An archived campaign cannot be changed." in html(client.get(SHOW))
    response = post_form(client, f"{SHOW}/edit", campaign_data(slug=None))
    assert response.status_code == 303
    assert _campaign(db_session).title == {"fr": "Avant"}


def test_texts_in_a_language_the_city_dropped_are_announced(
    as_person, make_campaign, db_session, lyon
):
    make_campaign(title={"fr": "Îlot", "en": "Block"})
    lyon.enabled_locales = ["fr"]
    db_session.commit()
    page = html(as_person("moderator").get(f"{SHOW}/edit"))
    assert "also has texts in English, which the city no longer uses" in page
    assert 'name="title-en"' not in page


def test_editing_needs_the_csrf_token(as_person, make_campaign, db_session):
    make_campaign(title={"fr": "Avant"})
    response = as_person("moderator").post(f"{SHOW}/edit", data=campaign_data(slug=None))
    assert response.status_code == 400
    assert _campaign(db_session).title == {"fr": "Avant"}


# --- publish and archive --------------------------------------------------------------------


def test_publishing_makes_a_draft_visible(as_person, make_campaign, db_session):
    make_campaign()
    client = as_person("moderator")
    response = post_form(client, f"{SHOW}/publish")
    assert response.status_code == 303
    campaign = _campaign(db_session)
    assert campaign.status == "published"
    assert campaign.published_at is not None
    page = html(client.get(SHOW))
    assert "The campaign is published." in page
    assert '<span class="badge badge-published">Published</span>' in page


def test_publishing_twice_is_refused_with_a_message(as_person, make_campaign, db_session):
    make_campaign(status="published")
    client = as_person("moderator")
    published_at = _campaign(db_session).published_at
    assert post_form(client, f"{SHOW}/publish").status_code == 303
    assert "Only a draft can be published." in html(client.get(SHOW))
    assert _campaign(db_session).published_at == published_at


def test_archiving_takes_a_campaign_away_from_residents(as_person, make_campaign, db_session):
    make_campaign(status="published")
    client = as_person("platform_admin")
    assert post_form(client, f"{SHOW}/archive").status_code == 303
    assert _campaign(db_session).status == "archived"
    page = html(client.get(SHOW))
    assert "Residents no longer see it." in page
    assert f"{SHOW}/archive" not in page
    assert post_form(client, f"{SHOW}/archive").status_code == 303
    assert "This campaign is already archived." in html(client.get(SHOW))


@pytest.mark.parametrize("action", ["publish", "archive"])
def test_state_changes_need_a_post_with_the_csrf_token(
    as_person, make_campaign, db_session, action
):
    make_campaign()
    client = as_person("moderator")
    assert client.get(f"{SHOW}/{action}").status_code == 405
    assert client.post(f"{SHOW}/{action}").status_code == 400
    assert client.post(f"{SHOW}/{action}", data={"csrf_token": "forged"}).status_code == 400
    assert _campaign(db_session).status == "draft"


@pytest.mark.parametrize("action", ["publish", "archive"])
def test_read_only_people_cannot_change_the_state(as_person, make_campaign, db_session, action):
    make_campaign()
    response = post_form(as_person("staff"), f"{SHOW}/{action}")
    assert response.status_code == 403
    assert _campaign(db_session).status == "draft"


# --- stored XSS -----------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '"><svg onload=alert(3)>',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_texts_is_escaped_on_every_page(as_person, db_session, payload):
    client = as_person("moderator")
    data = campaign_data(
        **{
            "title-fr": payload,
            "title-en": payload,
            "summary-fr": payload,
            "description-en": payload,
            "cover_alt-en": payload,
            "phase-0-title-fr": payload,
        }
    )
    assert post_form(client, NEW, data).status_code == 303
    for path in (LIST, SHOW, f"{SHOW}?lang=en", f"{SHOW}/edit"):
        page = html(client.get(path))
        assert payload not in page, path
        assert "<script>alert" not in page and 'onerror="alert' not in page, path
        assert "&lt;" in page, path
