"""A city's daily mean temperatures: staff upload a CSV series, each day upserted; the same file
twice changes nothing, unreadable rows are rejected with their line and reason; and
``flask energy temperatures`` does the same for operators."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.errors import Invalid, NotAllowed, NotFound
from app.models import Role
from energy import temperatures
from energy.models import TemperatureDay

WEEK = "Datum;Tagesmittel [°C]\n2024-01-01;3,5\n2024-01-02;-1,25\n2024-01-03;0\n2024-01-04;12,0\n"


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, email="staff@lyon.example", role=Role.STAFF)


@pytest.fixture
def stored(db_session):
    """The city's stored days as {day: mean}."""

    def days(city) -> dict[date, float]:
        db_session.expire_all()
        return dict(
            db_session.execute(
                sa.select(TemperatureDay.day, TemperatureDay.mean_c).where(
                    TemperatureDay.city_id == city.id
                )
            ).all()
        )

    return days


def _import(session, actor, city, text: str) -> dict:
    return temperatures.import_temperatures(session, actor, city, text.encode("utf-8"))


def test_a_series_is_stored_then_the_same_file_again_changes_nothing(
    db_session, lyon, staff, stored
):
    first = _import(db_session, staff, lyon, WEEK)
    assert first["rows_read"] == 4
    assert (first["days"], first["new"], first["replaced"], first["unchanged"]) == (4, 4, 0, 0)
    assert first["rejected_total"] == 0
    assert first["period"] == ["2024-01-01", "2024-01-04"]
    assert first["columns"] == ["Datum", "Tagesmittel [°C]"]
    assert stored(lyon) == {
        date(2024, 1, 1): 3.5,
        date(2024, 1, 2): -1.25,
        date(2024, 1, 3): 0.0,
        date(2024, 1, 4): 12.0,
    }
    again = _import(db_session, staff, lyon, WEEK)
    assert (again["days"], again["new"], again["replaced"], again["unchanged"]) == (4, 0, 0, 4)
    assert len(stored(lyon)) == 4


def test_a_changed_value_replaces_the_stored_one_and_is_counted(db_session, lyon, staff, stored):
    _import(db_session, staff, lyon, WEEK)
    changed = WEEK.replace("2024-01-03;0", "2024-01-03;0,5") + "2024-01-05;4\n"
    summary = _import(db_session, staff, lyon, changed)
    assert (summary["new"], summary["replaced"], summary["unchanged"]) == (1, 1, 3)
    days = stored(lyon)
    assert days[date(2024, 1, 3)] == 0.5
    assert days[date(2024, 1, 5)] == 4.0


@pytest.mark.parametrize(
    "text",
    [
        "date,mean\n31.12.2023,1.5\n01.01.2024,-2.0\n",
        "31/12/2023;1,5\n01/01/2024;-2,0\n",
        "\ufeffDay\tT mean\n2023/12/31\t1.5\n2024/01/01\t\u22122.0\n",
        "day,min,mean,max\n2023-12-31,-3,1.5,6\n2024-01-01,-7,-2,1\n",
    ],
    ids=["dots-comma-delimited", "day-first-slashes-no-header", "tabs-unicode-minus", "named"],
)
def test_the_usual_ways_of_writing_a_series(db_session, lyon, staff, stored, text):
    summary = _import(db_session, staff, lyon, text)
    assert summary["rejected"] == []
    assert stored(lyon) == {date(2023, 12, 31): 1.5, date(2024, 1, 1): -2.0}


def test_rows_that_cannot_be_read_are_rejected_with_their_line_and_reason(
    db_session, lyon, staff, stored
):
    text = (
        "date;mean\n"  # line 1
        "2024-01-01;3,5\n"
        "2024-13-01;2\n"  # no 13th month
        "2024-01-03;warm\n"
        "2024-01-04;61\n"
        "2024-01-05;\n"
        "\n"  # blank lines are not rows
        "2024-01-01;4,5\n"  # the same day, another value
        "2024-01-01;3,5\n"  # the same day, the same value: read once
        "2024-01-06;-60\n"
    )
    summary = _import(db_session, staff, lyon, text)
    assert summary["rows_read"] == 8
    assert summary["rejected"] == [
        {"line": 3, "reason": "Not a date: “2024-13-01”."},
        {"line": 4, "reason": "Not a number: “warm”."},
        {"line": 5, "reason": "61 °C is outside -60 to 60 °C."},
        {"line": 6, "reason": "No temperature for 2024-01-05."},
        {"line": 8, "reason": "2024-01-01 is on line 2 already, with another temperature."},
    ]
    assert summary["rejected_total"] == 5
    assert stored(lyon) == {date(2024, 1, 1): 3.5, date(2024, 1, 6): -60.0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00",
            "The file contains NUL bytes: it is not a text (CSV) file.",
        ),
        (
            b"just some words\nand more words\n",
            "No columns separated by ; , tab or | were found in the file.",
        ),
        (
            b"name;city\nAda;Lyon\nBen;Lyon\n",
            "No column of dates (e.g. 2024-01-31 or 31.01.2024) was found.",
        ),
        (
            b"date;note\n2024-01-01;sunny\n2024-01-02;rain\n",
            "No column of temperatures was found next to the dates.",
        ),
        (
            b"date;min;max\n2024-01-01;1;5\n2024-01-02;2;6\n",
            "Which column holds the daily mean? Head it “mean”, or keep only the dates and the "
            "means. Its columns: date, min, max.",
        ),
    ],
    ids=["empty", "binary", "no-table", "no-dates", "no-numbers", "which-mean"],
)
def test_a_file_that_is_not_a_series_stores_nothing(db_session, lyon, staff, stored, data, message):
    with pytest.raises(Invalid) as refused:
        temperatures.import_temperatures(db_session, staff, lyon, data)
    assert refused.value.errors == {"file": [message]}
    assert stored(lyon) == {}


def test_a_file_over_the_limit_is_refused_unread(db_session, lyon, staff, stored):
    data = WEEK.encode() + b"2024-01-05;1\n" * (temperatures.MAX_BYTES // 10)
    with pytest.raises(Invalid) as refused:
        temperatures.import_temperatures(db_session, staff, lyon, data)
    assert refused.value.errors == {"file": ["The file is larger than 2 MB."]}
    assert stored(lyon) == {}


@pytest.mark.parametrize(
    ("role", "home", "refusal"),
    [
        (None, "lyon", NotFound),
        (Role.MODERATOR, "lyon", NotAllowed),
        (Role.RESEARCHER, "lyon", NotAllowed),
        (Role.STAFF, "vienna", NotFound),
    ],
)
def test_only_the_citys_staff_and_admins_import(
    db_session, lyon, vienna, make_user, stored, role, home, refusal
):
    city = lyon if home == "lyon" else vienna
    person = make_user(city, role=role)
    with pytest.raises(refusal):
        _import(db_session, person, lyon, WEEK)
    assert stored(lyon) == {}


def test_an_admin_imports_and_the_audit_log_says_so(db_session, lyon, make_user):
    admin = make_user(lyon, role=Role.ADMIN)
    _import(db_session, admin, lyon, WEEK)
    entry = db_session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "temperatures.import")
    )
    assert (entry.actor_id, entry.city_id, entry.subject_id) == (admin.id, lyon.id, lyon.id)
    assert entry.details["new"] == 4 and entry.details["rows_read"] == 4


def test_the_coverage_shows_the_range_and_the_missing_days(db_session, lyon, vienna, staff):
    assert temperatures.coverage(db_session, lyon.id).days == 0
    text = "date;mean\n" + "".join(f"2024-01-{day:02d};1\n" for day in (1, 2, 3, 5, 9, 10, 12))
    _import(db_session, staff, lyon, text)
    covered = temperatures.coverage(db_session, lyon.id)
    assert (covered.first, covered.last, covered.days) == (date(2024, 1, 1), date(2024, 1, 12), 7)
    assert covered.gaps == [
        (date(2024, 1, 4), date(2024, 1, 4)),
        (date(2024, 1, 6), date(2024, 1, 8)),
        (date(2024, 1, 11), date(2024, 1, 11)),
    ]
    assert (covered.gaps_total, covered.missing_days) == (3, 5)
    assert temperatures.coverage(db_session, vienna.id).days == 0


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["energy", "temperatures", *map(str, args)])

    return invoke


def test_the_command_prints_the_same_summary_then_nothing_changes(
    run, db_session, lyon, staff, stored, tmp_path
):
    path = tmp_path / "lyon.csv"
    path.write_text(WEEK + "2024-01-05;oops\n", encoding="utf-8")
    db_session.commit()
    first = run("lyon", path, "--as", staff.email)
    assert first.exit_code == 0, first.output
    assert "rows read: 5" in first.output
    assert "days: 4 (4 new, 0 replaced, 0 unchanged)" in first.output
    assert "period: 2024-01-01 -> 2024-01-04" in first.output
    assert "rejected rows: 1" in first.output
    assert "line 6: Not a number: “oops”." in first.output
    assert len(stored(lyon)) == 4
    again = run("lyon", path, "--as", staff.email)
    assert "days: 4 (0 new, 0 replaced, 4 unchanged)" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["marseille", "{path}", "--as", "staff@lyon.example"], "There is no city marseille."),
        (["lyon", "{path}", "--as", "nobody@example.org"], "There is no account"),
        (
            ["lyon", "{path}", "--as", "resident@lyon.example"],
            "resident@lyon.example is neither staff nor an administrator of lyon.",
        ),
    ],
)
def test_the_command_refuses_clearly(
    run, db_session, lyon, staff, make_user, stored, tmp_path, args, message
):
    make_user(lyon, email="resident@lyon.example")
    db_session.commit()
    path = tmp_path / "lyon.csv"
    path.write_text(WEEK, encoding="utf-8")
    result = run(*[arg.format(path=path) for arg in args])
    assert result.exit_code == 1
    assert message in result.output
    assert stored(lyon) == {}


def test_the_command_says_why_a_file_is_refused(run, db_session, lyon, staff, stored, tmp_path):
    db_session.commit()
    path = tmp_path / "notes.csv"
    path.write_text("name;city\nAda;Lyon\n", encoding="utf-8")
    result = run("lyon", path, "--as", staff.email)
    assert result.exit_code == 1
    assert "file: No column of dates" in result.output
    assert stored(lyon) == {}
