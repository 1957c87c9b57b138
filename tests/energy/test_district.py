"""The staff's district view: households taking part, their consumption and savings per district
and commodity, in aggregate only: no figures for a group under the minimum (10), and more
hidden where the city total would give a small group away. And the city's district names."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.errors import Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service as campaigns
from energy import district
from energy.district import Hidden
from tests.energy.district_helpers import energy_text, households, weeks

pytestmark = pytest.mark.usefixtures("in_app")

DISTRICTS = ["Croix-Rousse", "Confluence", "Part-Dieu", "Vaise"]
MONDAY = date(2024, 3, 4)
#: Four weeks of 100 kWh, 10 kWh saved each (in Wh, the meters' base unit).
MONTH = weeks(MONDAY, 4, 100_000.0, 10_000.0)


@pytest.fixture
def city(db_session, lyon, operator):
    lyon.districts = list(DISTRICTS)
    energy_text(db_session, lyon, operator(lyon))
    return lyon


@pytest.fixture
def staff(city, make_user):
    return make_user(city, email="staff@lyon.example", role=Role.STAFF)


def _rows(totals, commodity="electricity") -> dict:
    """A commodity's rows as {district: (households, consumption, saving) or the hidden mark}."""
    (table,) = [t for t in totals.tables if t.commodity == commodity]
    return {
        row.district: row.hidden
        if row.figures is None
        else (row.figures.households, row.figures.consumption, row.figures.saving)
        for row in table.rows
    }


def _total(totals, commodity="electricity"):
    (table,) = [t for t in totals.tables if t.commodity == commodity]
    return table.total


def test_ten_households_show_their_figures_and_nine_do_not(db_session, city, staff):
    households(db_session, city, "Croix-Rousse", 10, MONTH)
    households(db_session, city, "Confluence", 9, MONTH)
    households(db_session, city, "Part-Dieu", 11, MONTH)
    totals = district.district_totals(db_session, staff, city)
    assert totals.min_group == 10
    rows = _rows(totals)
    assert rows["Confluence"] == Hidden.SMALL
    # Croix-Rousse, the next smallest, is hidden too: else the total would give Confluence away.
    assert rows["Croix-Rousse"] == Hidden.PROTECTING
    assert rows["Part-Dieu"] == (11, 11 * 400_000.0, 11 * 40_000.0)
    # Districts nobody lives in have no figures either.
    assert rows["Vaise"] == Hidden.SMALL
    total = _total(totals)
    assert (total.households, total.consumption, total.saving) == (30, 12_000_000.0, 1_200_000.0)
    # Saved 10 of an expected 110 each week.
    assert total.saving_pct == pytest.approx(100 * 10 / 110)


def test_a_lone_district_of_ten_is_shown_and_of_nine_hides_the_city_total(
    db_session, city, staff, lyon
):
    households(db_session, city, "Vaise", 9, MONTH)
    totals = district.district_totals(db_session, staff, city)
    assert _rows(totals)["Vaise"] == Hidden.SMALL
    assert _total(totals) is None
    households(db_session, city, "Vaise", 1, MONTH)
    totals = district.district_totals(db_session, staff, city)
    assert _rows(totals)["Vaise"] == (10, 4_000_000.0, 400_000.0)
    # The other districts hold nobody: hiding them protects no one, so nothing more is hidden.
    assert _total(totals).households == 10


def test_small_districts_together_under_the_minimum_hide_another(db_session, city, staff):
    households(db_session, city, "Croix-Rousse", 12, MONTH)
    households(db_session, city, "Part-Dieu", 11, MONTH)
    households(db_session, city, "Confluence", 3, MONTH)
    households(db_session, city, "Vaise", 4, MONTH)
    rows = _rows(district.district_totals(db_session, staff, city))
    assert rows["Confluence"] == rows["Vaise"] == Hidden.SMALL
    assert rows["Part-Dieu"] == Hidden.PROTECTING
    assert rows["Croix-Rousse"][0] == 12


def test_households_without_a_listed_district_are_a_row_of_their_own(db_session, city, staff):
    households(db_session, city, "Croix-Rousse", 10, MONTH)
    households(db_session, city, None, 6, MONTH)
    households(db_session, city, "Gerland", 5, MONTH)  # no longer one of the city's districts
    rows = _rows(district.district_totals(db_session, staff, city))
    assert list(rows) == [*DISTRICTS, None]
    assert rows[None] == (11, 11 * 400_000.0, 11 * 40_000.0)
    assert rows["Croix-Rousse"] == (10, 4_000_000.0, 400_000.0)


def test_only_households_with_a_standing_consent_count(
    db_session, city, staff, publish_energy_text
):
    households(db_session, city, "Croix-Rousse", 10, MONTH)
    households(db_session, city, "Croix-Rousse", 3, MONTH, consented=False)
    assert _rows(district.district_totals(db_session, staff, city))["Croix-Rousse"][0] == 10
    # A new version of the text: nobody has agreed to it yet, so nobody is counted.
    publish_energy_text(city)
    assert district.district_totals(db_session, staff, city).tables == []


def test_commodities_and_units_are_totalled_apart(db_session, city, staff):
    households(db_session, city, "Croix-Rousse", 10, MONTH)
    gas = weeks(MONDAY, 2, 30.0, None)
    households(db_session, city, "Croix-Rousse", 10, gas, commodity="gas", unit="m3")
    households(db_session, city, "Croix-Rousse", 10, MONTH, commodity="gas", unit="Wh")
    totals = district.district_totals(db_session, staff, city)
    assert [(t.commodity, t.unit) for t in totals.tables] == [
        ("electricity", "Wh"),
        ("gas", "Wh"),
        ("gas", "m3"),
    ]
    by_volume = totals.tables[2]
    figures = by_volume.rows[0].figures
    assert (figures.households, figures.consumption, figures.saving) == (10, 600.0, None)
    assert figures.saving_pct is None


def _campaign(db_session, city, operator, slug: str, starts: datetime):
    return campaigns.create_campaign(
        db_session,
        operator(city),
        city,
        slug=slug,
        title={city.default_locale: "Économies d'énergie"},
        phases=[
            {
                "title": {city.default_locale: "Défi"},
                "starts_at": starts,
                "ends_at": datetime(2024, 12, 31, tzinfo=UTC),
            }
        ],
    )


def test_a_campaign_counts_its_households_from_its_start_or_their_joining(
    db_session, city, staff, operator
):
    # 23:30 UTC on 10 March is already 11 March in Lyon: the first week counted starts the 11th.
    challenge = _campaign(
        db_session, city, operator, "defi", datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    )
    other = _campaign(db_session, city, operator, "autre", datetime(2024, 1, 1, tzinfo=UTC))
    assert district.campaign_start(challenge) == date(2024, 3, 11)
    households(db_session, city, "Croix-Rousse", 10, MONTH, campaign_id=challenge.id)
    late = households(
        db_session,
        city,
        "Croix-Rousse",
        2,
        MONTH,
        campaign_id=challenge.id,
        joined_on=date(2024, 3, 25),
    )
    households(db_session, city, "Croix-Rousse", 10, MONTH, campaign_id=other.id)
    totals = district.district_totals(db_session, staff, city, challenge.id)
    assert (totals.campaign, totals.since) == (challenge, date(2024, 3, 11))
    # Ten households for three weeks (11, 18, 25 March), two for their last week since joining.
    assert _rows(totals)["Croix-Rousse"] == (
        12,
        (10 * 3 + 2) * 100_000.0,
        (10 * 3 + 2) * 10_000.0,
    )
    # Without a campaign: everyone, each from the day they joined (when they did).
    everyone = _rows(district.district_totals(db_session, staff, city))["Croix-Rousse"]
    assert everyone[0] == 22 and everyone[1] == (20 * 4 + 2) * 100_000.0
    assert len(late) == 2


@pytest.mark.parametrize(
    ("role", "home", "refusal"),
    [
        (None, "lyon", NotFound),
        (Role.MODERATOR, "lyon", NotAllowed),
        (Role.RESEARCHER, "lyon", NotAllowed),
        (Role.STAFF, "vienna", NotFound),
        (Role.ADMIN, "vienna", NotFound),
    ],
)
def test_only_the_citys_staff_and_admins_see_the_totals(
    db_session, city, vienna, make_user, role, home, refusal
):
    person = make_user(city if home == "lyon" else vienna, role=role)
    with pytest.raises(refusal):
        district.district_totals(db_session, person, city)


def test_an_admin_sees_them_but_not_for_another_citys_campaign(
    db_session, city, vienna, make_user, operator
):
    admin = make_user(city, role=Role.ADMIN)
    households(db_session, city, "Vaise", 10, MONTH)
    assert district.district_totals(db_session, admin, city).tables[0].total.households == 10
    elsewhere = _campaign(db_session, vienna, operator, "wien", datetime(2024, 1, 1, tzinfo=UTC))
    for campaign_id in (elsewhere.id, 2**40, 0):
        with pytest.raises(NotFound):
            district.district_totals(db_session, admin, city, campaign_id)


# --- the city's districts -------------------------------------------------------------------


def test_districts_are_trimmed_kept_in_order_and_blank_lines_dropped():
    names = ["  Croix-Rousse ", "", "Confluence", "   ", "Part-Dieu"]
    assert district.checked_districts(names) == ["Croix-Rousse", "Confluence", "Part-Dieu"]
    assert district.checked_districts([]) == []


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["Vaise", "vaise"], "“vaise” is listed twice."),
        (["x" * 101], f"“{'x' * 40}” is longer than 100 characters."),
        (["Vaise\x07"], "“Vaise\x07” holds a character that cannot be shown."),
        ([f"District {i}" for i in range(201)], "A city has at most 200 districts."),
    ],
    ids=["twice", "long", "control", "too-many"],
)
def test_districts_that_cannot_be_kept(names, message):
    with pytest.raises(Invalid) as refused:
        district.checked_districts(names)
    assert refused.value.errors == {"districts": [message]}


def test_a_pasted_table_gets_the_first_problems_only():
    names = [f"Row {i}" for i in range(300)] + ["Vaise\u00a0Nord", *(["Vaise"] * 50)]
    with pytest.raises(Invalid) as refused:
        district.checked_districts(names)
    (problems,) = refused.value.errors.values()
    assert len(problems) == 10
    assert problems[:2] == ["A city has at most 200 districts.", "“Vaise” is listed twice."]


def test_two_hundred_districts_of_a_hundred_characters_are_fine():
    names = [f"{i:03d}" + "x" * 97 for i in range(200)]
    assert district.checked_districts(names) == names


def test_platform_admins_set_them_and_the_audit_log_says_so(db_session, lyon, make_user, operator):
    root = operator(lyon)
    assert district.set_districts(db_session, root, lyon, ["Vaise", " Gerland"]) == [
        "Vaise",
        "Gerland",
    ]
    assert lyon.districts == ["Vaise", "Gerland"]
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "city.districts"))
    assert entry.details == {"before": [], "after": ["Vaise", "Gerland"]}
    # The same list again records nothing more.
    district.set_districts(db_session, root, lyon, ["Vaise", "Gerland"])
    count = sa.select(sa.func.count()).where(AuditEntry.action == "city.districts")
    assert db_session.scalar(count) == 1
    with pytest.raises(NotAllowed):
        district.set_districts(db_session, make_user(lyon, role=Role.ADMIN), lyon, ["Vaise"])
    assert lyon.districts == ["Vaise", "Gerland"]
