"""Survey results: figures per question type against hand-computed ones, across versions,
with small groups protected."""

import copy
import csv
import io
import uuid
from datetime import UTC, date, datetime

import pytest

from app.errors import Invalid
from surveys import export, responses_submit, results, results_texts, service
from surveys.results_filters import Filters
from tests.surveys.helpers import make_survey

CHOICES = {
    "color": [("red", "Rouge"), ("blue", "Bleu")],
    "tools": [("a", "Marteau"), ("b", "Scie"), ("c", "Pince")],
    "rank": [("x", "Parc"), ("y", "Piste"), ("z", "Place")],
}


def _choices(key):
    return [{"value": v, "label": {"fr": label}} for v, label in CHOICES[key]]


def _q(key, kind, **settings):
    return {"key": key, "type": kind, "title": {"fr": f"Question {key}"}, "required": False,
            **settings}  # fmt: skip


V1 = {
    "title": {"fr": "Tout", "en": "All"},
    "pages": [
        {
            "key": "home",
            "questions": [
                _q("color", "single_choice", choices=_choices("color"), other=True),
                _q("tools", "multiple_choice", choices=_choices("tools")),
                _q("ok", "yes_no"),
                _q("comfort", "scale", scale={"min": 1, "max": 5}),
                _q("age", "number", number={"integer": True, "min": 0, "max": 100}),
                _q("note", "short_text"),
                _q("rank", "ranking", choices=_choices("rank")),
                _q(
                    "grid",
                    "matrix",
                    rows=[
                        {"key": "r1", "label": {"fr": "Ligne 1"}},
                        {"key": "r2", "label": {"fr": "Ligne 2"}},
                    ],
                    scale={"min": 1, "max": 3},
                ),
                _q("old", "short_text"),
            ],
        }
    ],
}


def _v2():
    """Version 2: "blue" is relabelled, the tool "c" and the question "old" are removed."""
    definition = copy.deepcopy(V1)
    questions = definition["pages"][0]["questions"]
    questions[0]["choices"][1]["label"] = {"fr": "Azur"}
    questions[1]["choices"] = questions[1]["choices"][:2]
    definition["pages"][0]["questions"] = [q for q in questions if q["key"] != "old"]
    return definition


def _when(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


#: (version, locale, submitted at, answers)
ANSWERS = [
    (1, "fr", _when(1, 23, 30), {  # 2 March in Lyon
        "color": "red", "tools": ["a", "b"], "ok": True, "comfort": 5, "age": 30,
        "note": "100% sûr", "rank": ["x", "y", "z"], "grid": {"r1": 1, "r2": 3}, "old": "ancien",
    }),
    (1, "fr", _when(2, 10), {
        "color": "blue", "tools": ["a"], "ok": True, "comfort": 4, "age": 40,
        "note": "under_score", "rank": ["y", "x", "z"], "grid": {"r1": 2, "r2": 3},
    }),
    (1, "fr", _when(2, 11), {
        "color": "other", "color.other": "=cmd|' /C calc'!A0", "tools": ["b", "c"], "ok": False,
        "comfort": 3, "age": 50, "rank": ["x", "z", "y"], "grid": {"r1": 3},
    }),
    (2, "en", _when(2, 12), {
        "color": "blue", "tools": ["a"], "ok": True, "comfort": 4, "age": 20, "note": "plain",
        "rank": ["x", "y", "z"], "grid": {"r1": 1, "r2": 2},
    }),
    (2, "en", _when(3, 12), {
        "color": "red", "tools": ["a"], "ok": True, "comfort": 2, "age": 60,
        "rank": ["z", "y", "x"],
    }),
]  # fmt: skip


def answered_survey(session, moderator, campaign, resident):
    """A survey with two versions and the five responses of ANSWERS."""
    survey = make_survey(session, moderator, campaign, definition=V1, allow_multiple=True)
    first = survey.current_version_id
    service.save_definition(session, moderator, survey, _v2())
    service.publish(session, moderator, survey)
    ids = {1: first, 2: survey.current_version_id}
    for version, locale, when, answers in ANSWERS:
        responses_submit.submit(
            session, resident, survey, str(uuid.uuid4()), ids[version], answers, locale, when
        )
    return survey


@pytest.fixture
def survey(db_session, moderator, campaign, resident):
    return answered_survey(db_session, moderator, campaign, resident)


def by_key(figures):
    return {f.question.key: f for f in figures.questions}


def bars(figure):
    return {bar.code: (bar.label, bar.count) for bar in figure.bars}


def test_every_question_type_adds_up_across_versions(db_session, moderator, survey):
    figures = results.results(db_session, moderator, survey, Filters(), "fr", minimum=1)
    assert figures.total == 5 and not figures.too_small
    assert figures.days == [(date(2026, 3, 2), 4), (date(2026, 3, 3), 1)]
    q = by_key(figures)
    assert list(q) == ["color", "tools", "ok", "comfort", "age", "note", "rank", "grid", "old"]
    # The current label; "other" after the listed choices.
    assert bars(q["color"]) == {
        "red": ("Rouge", 2), "blue": ("Azur", 2), "other": ("Other", 1)
    }  # fmt: skip
    assert [bar.percent for bar in q["color"].bars] == [0.4, 0.4, 0.2]
    # A removed choice keeps its label from the version that had it.
    assert bars(q["tools"]) == {"a": ("Marteau", 4), "b": ("Scie", 2), "c": ("Pince", 1)}
    assert q["tools"].answered == 5 and q["tools"].bars[0].percent == 0.8
    assert bars(q["ok"]) == {"yes": ("Yes", 4), "no": ("No", 1)}
    assert (q["comfort"].mean, q["comfort"].median) == (pytest.approx(3.6), 4)
    assert [(b.code, b.count) for b in q["comfort"].bars] == [
        ("1", None),
        ("2", 1),
        ("3", 1),
        ("4", 2),
        ("5", 1),
    ]  # fmt: skip (0 is under any minimum)
    assert (q["age"].mean, q["age"].median) == (40, 40)
    assert sum(b.count or 0 for b in q["age"].bars) == 5
    assert q["note"].answered == 3
    # Rankings by mean position, best first.
    assert [(b.code, b.mean, b.count) for b in q["rank"].bars] == [
        ("x", pytest.approx(1.6), 5), ("y", pytest.approx(2.0), 5), ("z", pytest.approx(2.4), 5)
    ]  # fmt: skip
    r1, r2 = q["grid"].rows
    assert (r1.title, r1.answered, r1.mean, r1.median) == ("Ligne 1", 4, 1.75, 1.5)
    assert [(b.code, b.count) for b in r1.bars] == [("1", 2), ("2", 1), ("3", 1)]
    assert (r2.answered, r2.mean, r2.median) == (3, pytest.approx(8 / 3), 3)
    assert q["old"].question.removed and q["old"].answered == 1
    assert q["old"].title == "Question old"


def test_filters_by_version_language_and_crosstab(db_session, moderator, survey):
    old = results.results(db_session, moderator, survey, Filters(version=1), "fr", minimum=1)
    assert old.total == 3 and bars(by_key(old)["color"])["blue"] == ("Azur", 1)
    english = results.results(db_session, moderator, survey, Filters(locale="en"), "fr", 1)
    assert english.total == 2 and by_key(english)["age"].mean == 40
    red = Filters(question="color", choice="red")
    crossed = results.results(db_session, moderator, survey, red, "fr", minimum=2)
    assert crossed.total == 2
    assert bars(by_key(crossed)["tools"]) == {
        "a": ("Marteau", 2), "b": ("Scie", None), "c": ("Pince", None)
    }  # fmt: skip
    with pytest.raises(Invalid):
        results.results(db_session, moderator, survey, Filters(version=9), "fr")
    with pytest.raises(Invalid):
        results.results(db_session, moderator, survey, Filters(question="age", choice="1"), "fr")
    with pytest.raises(Invalid):
        results.results(db_session, moderator, survey, Filters(question="color"), "fr")


def test_small_groups_are_never_shown(db_session, moderator, survey):
    figures = results.results(db_session, moderator, survey, Filters(), "fr")  # minimum 5
    assert figures.total == 5
    q = by_key(figures)
    assert bars(q["color"]) == {"red": ("Rouge", None), "blue": ("Azur", None),
                                "other": ("Other", None)}  # fmt: skip
    assert all(bar.percent is None for bar in q["color"].bars)
    assert q["tools"].answered == 5 and bars(q["tools"])["a"] == ("Marteau", None)
    # Fewer than five answered: nothing about them, not even a mean.
    assert q["note"].answered is None and q["note"].bars == []
    assert q["grid"].answered is None and q["grid"].rows == []
    assert figures.days == [(date(2026, 3, 2), None), (date(2026, 3, 3), None)]
    # A filter or cross-tab matching fewer than five respondents shows only that fact.
    for filters in (Filters(version=1), Filters(question="color", choice="red")):
        small = results.results(db_session, moderator, survey, filters, "fr")
        assert small.too_small and small.total is None and small.questions == []
        assert small.days == []
        texts = results_texts.text_answers(db_session, moderator, survey, "note", filters)
        assert texts.total is None and texts.texts == []


def test_written_answers_are_searched_literally(db_session, moderator, survey):
    def search(text, **kwargs):
        page = results_texts.text_answers(
            db_session, moderator, survey, "note", Filters(), search=text, minimum=1, **kwargs
        )
        return page.texts

    assert sorted(search("")) == ["100% sûr", "plain", "under_score"]
    assert search("%") == ["100% sûr"]
    assert search("_") == ["under_score"]
    assert search("PLAIN") == ["plain"]
    assert search("\\") == []
    assert len(search("", per_page=2)) == 2
    assert len(search("", per_page=2, page=2)) == 1
    other = results_texts.text_answers(db_session, moderator, survey, "color", Filters(), minimum=1)
    assert other.texts == ["=cmd|' /C calc'!A0"]
    with pytest.raises(Invalid):
        results_texts.text_answers(db_session, moderator, survey, "age", Filters(), minimum=1)


def test_the_csv_has_a_row_per_response_and_neutralised_cells(db_session, moderator, survey):
    text = "".join(export.export_csv(db_session, moderator, survey, "fr"))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header, body = rows[0], rows[1:]
    assert header[:8] == [
        "response_id", "version", "language", "submitted_at", "color", "color.label",
        "color.other", "tools.a",
    ]  # fmt: skip
    assert len(body) == 5
    first = dict(zip(header, body[0], strict=True))
    assert first["version"] == "1" and first["language"] == "fr"
    assert first["submitted_at"] == "2026-03-02T00:30:00+01:00"
    assert (first["color"], first["color.label"]) == ("red", "Rouge")
    assert (first["tools.a"], first["tools.b"], first["tools.c"]) == ("1", "1", "0")
    assert (first["rank.x"], first["rank.y"], first["rank.z"]) == ("1", "2", "3")
    assert (first["grid.r1"], first["grid.r2"]) == ("1", "3")
    assert (first["ok"], first["ok.label"], first["comfort"]) == ("yes", "Yes", "5")
    assert first["old"] == "ancien"
    third = dict(zip(header, body[2], strict=True))
    assert third["color.other"] == "'=cmd|' /C calc'!A0"
    assert third["grid.r2"] == "" and third["note"] == ""
    assert "\r\n" in text


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert export.neutralised(cell) == "'" + cell
    assert export.neutralised("a=1") == "a=1"
    assert export.neutralised(-1) == -1


# --- the SQL figures against the same figures computed here from the answers ---------------------


def _random_answers(rng, version):
    """Answers to V1 (version 1) or V2, each question skipped now and then."""
    tools = ["a", "b", "c"] if version == 1 else ["a", "b"]
    answers = {
        "color": rng.choice(["red", "blue", "other"]),
        "tools": rng.sample(tools, rng.randint(1, len(tools))),
        "ok": rng.random() < 0.6,
        "comfort": rng.randint(1, 5),
        "age": rng.choice([rng.randint(0, 100), rng.randint(20, 40)]),
        "note": rng.choice(["oui", "non", "peut-être"]),
        "rank": rng.sample(["x", "y", "z"], rng.randint(1, 3)),
        "grid": {row: rng.randint(1, 3) for row in ("r1", "r2") if rng.random() < 0.7},
    }
    if version == 1:
        answers["old"] = "ancien"
    answers = {key: value for key, value in answers.items() if rng.random() < 0.85}
    if answers.get("color") == "other":
        answers["color.other"] = "vélo"
    return answers


def _expected(kept):
    """The figures of the responses ``kept`` (their answers), computed the plain way."""
    import statistics

    def answered(key):
        return [a[key] for a in kept if a.get(key) not in (None, [], {})]

    def summary(values):
        return (statistics.fmean(values), statistics.median(values)) if values else (None, None)

    figures = {"total": len(kept)}
    for key in ("color", "tools", "ok", "comfort", "age", "note", "rank", "grid", "old"):
        figures[key, "answered"] = len(answered(key))
    for code in ("red", "blue", "other"):
        figures["color", code] = sum(value == code for value in answered("color"))
    for code in ("a", "b", "c"):
        figures["tools", code] = sum(code in value for value in answered("tools"))
    figures["ok", "yes"] = sum(answered("ok"))
    figures["comfort"] = summary(answered("comfort"))
    for point in range(1, 6):
        figures["comfort", str(point)] = answered("comfort").count(point)
    figures["age"] = summary(answered("age"))
    for i in range(11):  # declared range 0 to 100: bins of 10, the last one for 100
        figures["age", str(i)] = sum(min(age // 10, 10) == i for age in answered("age"))
    for code in ("x", "y", "z"):
        places = [order.index(code) + 1 for order in answered("rank") if code in order]
        figures["rank", code] = (len(places), statistics.fmean(places) if places else None)
    for row in ("r1", "r2"):
        values = [grid[row] for grid in answered("grid") if row in grid]
        figures["grid", row] = (len(values), *summary(values))
    return figures


def _computed(figures):
    q = by_key(figures)
    got = {"total": figures.total}
    for key, figure in q.items():
        got[key, "answered"] = figure.answered
    for key in ("color", "tools", "ok"):
        for bar in q[key].bars:
            got[key, bar.code] = bar.count
    for key in ("comfort", "age"):
        got[key] = (q[key].mean, q[key].median)
        for bar in q[key].bars:
            got[key, bar.code] = bar.count
    for bar in q["rank"].bars:
        got["rank", bar.code] = (bar.count, bar.mean)
    for key, row in zip(("r1", "r2"), q["grid"].rows, strict=True):
        got["grid", key] = (row.answered, row.mean, row.median)
    return got


def _close(expected, got):
    """Equal, floats nearly; a count of 0 is shown as None (under any minimum)."""
    if isinstance(expected, tuple):
        got = got if got is not None else (None,) * len(expected)
        return len(expected) == len(got) and all(map(_close, expected, got))
    if expected == 0 and not isinstance(expected, float):
        return got in (0, None)
    if isinstance(expected, float):
        return got is not None and got == pytest.approx(expected)
    return expected == got


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_match_the_answers_for_every_filter(
    db_session, moderator, campaign, resident, seed
):
    import random

    rng = random.Random(seed)
    survey = make_survey(db_session, moderator, campaign, definition=V1, allow_multiple=True)
    first = survey.current_version_id
    service.save_definition(db_session, moderator, survey, _v2())
    service.publish(db_session, moderator, survey)
    ids = {1: first, 2: survey.current_version_id}
    sent = []
    for n in range(40 + seed):
        version, locale = rng.choice([1, 2]), rng.choice(["fr", "en"])
        answers = _random_answers(rng, version)
        when = _when(1 + n % 20, rng.randint(0, 23), rng.randint(0, 59))
        responses_submit.submit(
            db_session, resident, survey, str(uuid.uuid4()), ids[version], answers, locale, when
        )
        sent.append((version, locale, answers))
    cases = {
        Filters(): lambda v, loc, a: True,
        Filters(version=1): lambda v, loc, a: v == 1,
        Filters(locale="en"): lambda v, loc, a: loc == "en",
        Filters(question="color", choice="red"): lambda v, loc, a: a.get("color") == "red",
        Filters(question="tools", choice="a", locale="fr"): (
            lambda v, loc, a: "a" in a.get("tools", []) and loc == "fr"
        ),
    }
    for filters, keeps in cases.items():
        kept = [answers for version, locale, answers in sent if keeps(version, locale, answers)]
        figures = results.results(db_session, moderator, survey, filters, "fr", minimum=1)
        expected, got = _expected(kept), _computed(figures)
        wrong = {
            k: (expected[k], got.get(k)) for k in expected if not _close(expected[k], got.get(k))
        }
        assert wrong == {}, filters
        assert sum(n for _day, n in figures.days) == len(kept)
