"""The district view of energy feedback in the console, with its CSV, and the city's districts
in the city settings: totals in aggregate only, small groups hidden, names never shown."""

from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa

from app.models import City
from tests.console.helpers import html, post_form
from tests.energy.district_helpers import energy_text, households, weeks

DISTRICTS = "/console/lyon/energy/districts"


# --- districts ------------------------------------------------------------------------------


@pytest.fixture
def participants(db_session, people, lyon):
    lyon.districts = ["Croix-Rousse", "=Confluence"]
    energy_text(db_session, lyon, people["platform_admin"])
    monday = date(2024, 3, 4)
    made = households(db_session, lyon, "Croix-Rousse", 10, weeks(monday, 2, 50_000.0, 5_000.0))
    made += households(db_session, lyon, "=Confluence", 4, weeks(monday, 2, 50_000.0, 5_000.0))
    made += households(db_session, lyon, None, 12, weeks(monday, 2, 50_000.0, None))
    db_session.commit()
    return made


def _row(page: str, district: str) -> str:
    return page.split(f'data-label="District">{district}</th>')[1].split("</tr>")[0]


def test_the_district_view_shows_totals_and_hides_small_groups(as_person, participants):
    page = unescape(html(as_person("staff").get(DISTRICTS)))
    assert "Electricity" in page and "kWh" in page
    # Four households: too few to show anything.
    small = _row(page, "=Confluence")
    assert "Fewer than 10 households: no figures are shown." in small
    assert "Households" not in small
    # Ten would be enough, but the city total minus them would give the four away.
    protecting = _row(page, "Croix-Rousse")
    assert "Hidden so that a smaller district's figures cannot be worked out." in protecting
    # Twelve without a district: two weeks of 50 kWh each, no saving known (not joined).
    nowhere = page.split("No district given</span></th>")[1].split("</tr>")[0]
    assert '<td data-label="Households">12</td>' in nowhere
    assert '<td data-label="Consumption">1,200</td>' in nowhere
    total = page.split("<tfoot>")[1].split("</tfoot>")[0]
    assert '<td data-label="Households">26</td>' in total
    assert '<td data-label="Consumption">2,600</td>' in total
    # 140 kWh saved of 1,540 expected by those who joined.
    assert '<td data-label="Saving">140</td>' in total and "9.1 %" in total
    for person in participants:
        assert person.email not in page and person.display_name not in page


def test_the_district_csv_has_the_same_table_neutralised(as_person, participants):
    response = as_person("staff").get(f"{DISTRICTS}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffcommodity,unit,district,households,consumption,saving")
    lines = text.strip().split("\r\n")
    assert (
        "electricity,kWh,'=Confluence,,,,,Fewer than 10 households: no figures are shown." in lines
    )
    assert "electricity,kWh,No district given,12,1200,,," in lines
    assert "electricity,kWh,Whole city,26,2600,140,9.1," in lines
    for person in participants:
        assert person.email not in text


@pytest.mark.parametrize(
    ("query", "status"),
    [("?campaign=abc", 400), ("?campaign=999999", 404), ("?sort=password", 400)],
)
def test_a_filter_outside_the_allowed_ones_is_refused(as_person, people, query, status):
    assert as_person("staff").get(f"{DISTRICTS}{query}").status_code == status
    assert as_person("staff").get(f"{DISTRICTS}.csv{query}").status_code == status


# --- the city's districts -------------------------------------------------------------------


def _city(db_session) -> City:
    db_session.expire_all()
    return db_session.scalar(sa.select(City).where(City.slug == "lyon"))


CITY_FORM = {
    "name": "Lyon",
    "timezone": "Europe/Paris",
    "default_locale": "fr",
    "enabled_locales": ["fr", "en"],
}


def test_a_platform_admin_lists_the_districts_one_per_line(as_person, people, db_session):
    client = as_person("platform_admin")
    form = {**CITY_FORM, "districts": " Croix-Rousse \r\n\r\nConfluence\r\nPart-Dieu"}
    assert post_form(client, "/console/cities/lyon/edit", form).status_code == 303
    assert _city(db_session).districts == ["Croix-Rousse", "Confluence", "Part-Dieu"]
    page = html(client.get("/console/cities/lyon/edit"))
    assert "\nCroix-Rousse\nConfluence\nPart-Dieu</textarea>" in page


def test_districts_listed_twice_save_nothing(as_person, people, db_session):
    client = as_person("platform_admin")
    form = {**CITY_FORM, "name": "Lugdunum", "districts": "Vaise\nvaise", "south": "95"}
    response = post_form(client, "/console/cities/lyon/edit", form)
    assert response.status_code == 422
    page = unescape(html(response))
    assert "“vaise” is listed twice." in page
    # The other fields' errors show at the same time.
    assert "Between -90 and 90 degrees." in page or "Enter all four edges" in page
    city = _city(db_session)
    assert (city.name, city.districts) == ("Lyon", [])
