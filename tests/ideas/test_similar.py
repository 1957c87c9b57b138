"""Similar ideas while drafting: duplicates found in the city's languages, without a network
service, from an index kept per board."""

import time

import pytest
import sqlalchemy as sa

from app.db import utcnow
from ideas import similar
from ideas.models import Idea, IdeaState
from ideas.text import fold

IDEAS = [
    ("Un jardin partagé dans la cour", "Des bacs de potager pour cultiver des légumes ensemble."),
    ("Plus d'arbres rue Garibaldi", "Planter des arbres pour faire de l'ombre en été."),
    ("Éclairage du parc la nuit", "Le parc est trop sombre le soir, il faut des lampadaires."),
    ("Gemeinschaftsgarten im Innenhof", "Hochbeete, damit die Nachbarn gemeinsam Gemüse anbauen."),
    ("Mehr Bäume in der Gasse", "Bäume pflanzen, die im Sommer Schatten spenden."),
    ("Спільний город у дворі", "Встановити грядки, щоб мешканці разом вирощували овочі."),  # noqa: RUF001
    ("Більше дерев на вулиці", "Посадити дерева для тіні влітку."),
    ("中庭に共同菜園を作る", "住民が一緒に野菜を育てられるように花壇を設置する。"),
    ("公園の夜間照明", "夜の公園が暗すぎるので街灯を増やしてほしい。"),
    ("駅前に駐輪場を", "自転車を停める場所が足りない。"),
]


@pytest.fixture
def board(board_of):
    return board_of()


@pytest.fixture
def posted(db_session, board, idea_on, resident):
    """The ideas above, with their folded text as the service stores it."""
    made = {}
    for title, body in IDEAS:
        idea = idea_on(board, resident, title=title, body=body)
        idea.search_text = fold(f"{title}\n{body}")
        made[title] = idea
    db_session.flush()
    return made


def titles_like(db_session, resident, board, title, body="") -> list[str]:
    return [i.title for i, _s in similar.similar_ideas(db_session, resident, board, title, body)]


@pytest.mark.parametrize(
    ("draft", "body", "duplicate"),
    [
        ("Jardins partagés dans la cour", "", "Un jardin partagé dans la cour"),
        ("jardin partage", "des bacs potagers pour cultiver des legumes", IDEAS[0][0]),
        ("Eclairer le parc le soir", "trop sombre", "Éclairage du parc la nuit"),
        ("Gemeinschaftsgärten im Hof", "", "Gemeinschaftsgarten im Innenhof"),
        ("Mehr Bäume", "", "Mehr Bäume in der Gasse"),
        ("Спільні городи у дворі", "", "Спільний город у дворі"),  # noqa: RUF001
        ("Більше дерев", "", "Більше дерев на вулиці"),
        ("中庭の共同菜園", "", "中庭に共同菜園を作る"),
        ("公園の照明が暗い", "", "公園の夜間照明"),
        ("駅の近くに駐輪場がほしい", "", "駅前に駐輪場を"),
    ],
)
def test_duplicates_are_found_in_each_language(
    db_session, board, posted, resident, draft, body, duplicate
):
    found = similar.similar_ideas(db_session, resident, board, draft, body)
    assert found and found[0][0].title == duplicate
    assert 0 < found[-1][1] <= found[0][1] <= 1
    assert len(found) <= similar.TOP


@pytest.mark.parametrize(
    "draft", ["Toilettes publiques à la gare", "Längere Öffnungszeiten der Bibliothek", "図書館"]
)
def test_unrelated_drafts_find_nothing(db_session, board, posted, resident, draft):
    assert titles_like(db_session, resident, board, draft) == []


def test_only_published_ideas_of_the_same_board(
    db_session, board, board_of, idea_on, posted, resident
):
    for state in ("pending", "hidden", "withdrawn", "merged", "rejected"):
        idea_on(board, resident, title=f"Un jardin partagé ({state})", state=state)
    idea_on(board_of(), resident, title="Un jardin partagé ailleurs")
    assert titles_like(db_session, resident, board, "Un jardin partagé") == [IDEAS[0][0]]
    assert titles_like(db_session, resident, board, "") == []


def test_the_index_follows_the_board_without_being_rebuilt(
    db_session, board, posted, idea_on, resident
):
    titles_like(db_session, resident, board, "Un jardin partagé")
    index = similar._indexes[(board.id, board.created_at)]
    # Supports and comments do not touch the texts: the index stays as it is.
    garden = posted[IDEAS[0][0]]
    garden.supports_count, garden.comments_count = 7, 2
    db_session.flush()
    version = index.version
    titles_like(db_session, resident, board, "Un jardin partagé")
    assert index.version == version

    fresh = idea_on(board, resident, title="Des jardins partagés sur les toits")
    fresh.search_text = fold("Des jardins partagés sur les toits\nSur chaque immeuble.")
    garden.state = IdeaState.HIDDEN
    trees = posted[IDEAS[1][0]]
    trees.title, trees.edited_at = "Un jardin partagé rue Garibaldi", utcnow()
    trees.search_text = fold(trees.title)
    db_session.flush()
    found = titles_like(db_session, resident, board, "Un jardin partagé")
    assert set(found) == {"Des jardins partagés sur les toits", "Un jardin partagé rue Garibaldi"}
    assert similar._indexes[(board.id, board.created_at)] is index  # updated, not rebuilt


def test_ten_thousand_ideas_are_indexed_once_and_searched_quickly(db_session, board, resident):
    words = [
        *("jardin", "arbres", "vélo", "piste", "éclairage", "banc", "parc", "école"),
        *("crèche", "compost", "marché", "fontaine", "jeux", "terrain", "skate", "rue"),
        *("trottoir", "parking", "bus", "tram", "fleurs", "bruit", "propreté", "sécurité"),
    ]
    now = utcnow()
    rows = []
    for n in range(10_000):
        title = f"{words[n % 24]} {words[(n * 7) % 24]} {words[(n * 13) % 24]} numéro {n}"
        body = " ".join(words[(n * k) % 24] for k in range(1, 40))
        rows.append(
            {
                "board_id": board.id,
                "city_id": board.city_id,
                "author_id": resident.id,
                "client_uuid": f"bulk-{n}",
                "title": title,
                "body": body,
                "language": "fr",
                "state": "published",
                "published_at": now,
                "search_text": fold(f"{title}\n{body}"),
            }
        )
    db_session.execute(sa.insert(Idea), rows)
    started = time.perf_counter()
    similar.similar_ideas(db_session, resident, board, "Un composteur au marché")
    built = time.perf_counter() - started
    index = similar._indexes[(board.id, board.created_at)]

    started = time.perf_counter()
    for draft in ("Des fleurs au parc", "Une piste de skate", "Le bruit du tram la nuit"):
        similar.similar_ideas(db_session, resident, board, draft, "près de l'école")
    searched = (time.perf_counter() - started) / 3
    assert similar._indexes[(board.id, board.created_at)] is index
    assert searched < 0.3, f"a search took {searched:.2f} s (the build {built:.2f} s)"
