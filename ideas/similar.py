"""Similar ideas while a resident drafts one: duplicates are found before they are posted.

Texts are compared as sets of character 3-grams of their folded form (lower case, no
accents), weighted by inverse document frequency and compared by cosine. Character n-grams
need no word splitting, stemmer or dictionary, so the same code works for French, German,
Ukrainian and Japanese alike, and tolerates typos and inflections ("jardins partagés" ~
"jardin partagé"). The title's 3-grams count a second time, tagged as the title's, and titles
are also compared on their own: a draft often has little more than a title yet. Nothing
leaves the server.

Each web process keeps an index per board (postings: 3-gram → the ideas that have it),
checked on every call against the version of the board's published texts (how many, which,
last edit). Supports and comments leave that version alone. A posted, edited or moderated
idea is added to or masked in the index, weighted with the index's inverse frequencies; the
index is built afresh only once the board has changed by a good part since it was built.
A query counts the draft's rarer 3-grams over their postings to find candidates, then scores
those exactly, so it never walks all ideas.
"""

import math
import re
import threading
from array import array
from collections import Counter
from datetime import datetime
from itertools import chain, pairwise

import sqlalchemy as sa
from cachetools import LRUCache
from sqlalchemy.orm import Session

from app.models import User
from ideas.models import Board, Idea, IdeaState
from ideas.text import fold

#: Ideas shown at most, and the least cosine that counts as similar.
TOP = 5
THRESHOLD = 0.25
#: Characters of each idea compared: the title and the start of the body say what it is about.
MAX_CHARS = 400
#: Ideas scored exactly per query, and postings counted at most to choose them.
CANDIDATES = 200
POSTINGS_BUDGET = 60_000
#: Rebuild once this share of the indexed ideas was added, edited or removed since the build.
REBUILD_SHARE = 0.3
TITLE_TAG = "\x1f"
#: Kana and CJK ideographs (with their compatibility forms).
_IDEOGRAPHIC = re.compile("[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def grams(text: str) -> set[str]:
    """The character 3-grams of a folded text, word edges included.

    Chinese characters and kana add their 2-grams: Japanese words are often two characters
    long and written without spaces, so 3-grams alone would mostly straddle two words.
    """
    padded = f" {text} "
    found = set(map("".join, zip(padded, padded[1:], padded[2:], strict=False)))
    if _IDEOGRAPHIC.search(text):
        pairs = map("".join, pairwise(padded))
        found.update(pair for pair in pairs if _IDEOGRAPHIC.search(pair))
    return found


def titled(found: set[str]) -> set[str]:
    """The title's part of an idea's features."""
    return {g for g in found if g[0] == TITLE_TAG}


def features(title: str, folded_text: str) -> set[str]:
    """What an idea is compared by: its text's 3-grams, and its title's tagged once more."""
    return grams(folded_text[:MAX_CHARS]) | {TITLE_TAG + g for g in grams(fold(title))}


class _Index:
    """One board's published ideas, ready to be compared with drafts."""

    def __init__(self, rows: list[tuple[int, datetime | None, str, str]]):
        sets = [features(title, text) for _id, _edited, title, text in rows]
        frequency = Counter(chain.from_iterable(sets))
        self.built_with = len(rows)
        self.idf = {g: math.log((1 + len(rows)) / (1 + n)) + 1 for g, n in frequency.items()}
        self.unseen = math.log(1 + len(rows)) + 1
        self.version: tuple = ()
        self.changes = 0
        self.ids: list[int] = []
        #: Title and folded text of each idea, None once masked: scoring recomputes features
        #: for a few candidates, which costs less memory than keeping every set.
        self.texts: list[tuple[str, str] | None] = []
        self.norms = array("d")
        self.edited: dict[int, datetime | None] = {}
        self.positions: dict[int, int] = {}
        self.postings: dict[str, array] = {}
        for (idea_id, edited, title, text), found in zip(rows, sets, strict=True):
            self.add(idea_id, edited, title, text, found)

    def weight(self, gram: str) -> float:
        return self.idf.get(gram, self.unseen)

    def norm(self, found: set[str]) -> float:
        return math.sqrt(math.fsum(self.weight(g) ** 2 for g in found)) or 1.0

    def add(
        self, idea_id: int, edited: datetime | None, title: str, text: str, found: set[str]
    ) -> None:
        position = len(self.ids)
        self.ids.append(idea_id)
        self.texts.append((title, text))
        self.norms.append(self.norm(found))
        self.edited[idea_id] = edited
        self.positions[idea_id] = position
        for gram in found:
            posting = self.postings.get(gram)
            if posting is None:
                posting = self.postings[gram] = array("i")
            posting.append(position)

    def remove(self, idea_id: int) -> None:
        position = self.positions.pop(idea_id)
        del self.edited[idea_id]
        self.texts[position] = None  # its postings stay; a masked idea is never scored

    def candidates(self, draft: set[str]) -> list[int]:
        """Positions of the ideas sharing most of the draft's rarer 3-grams."""
        known = sorted((len(self.postings[g]), g) for g in draft if g in self.postings)
        chosen, counted = [], 0
        for length, gram in known:
            if chosen and counted + length > POSTINGS_BUDGET:
                break
            chosen.append(self.postings[gram])
            counted += length
        shared = Counter(chain.from_iterable(chosen))
        return [position for position, _n in shared.most_common(CANDIDATES)]

    def cosine(self, one: set[str], other: set[str]) -> float:
        overlap = math.fsum(self.weight(g) ** 2 for g in one & other)
        return overlap / (self.norm(one) * self.norm(other)) if overlap else 0.0

    def score(self, draft: set[str], draft_title: set[str], position: int) -> float:
        """How alike a draft and an indexed idea are: as wholes, or by their titles alone.

        Titles alone catch a duplicate whose body says much more than the draft yet does.
        """
        texts = self.texts[position]
        if texts is None:
            return 0.0
        found = features(*texts)
        whole = math.fsum(self.weight(g) ** 2 for g in draft & found)
        whole /= self.norm(draft) * self.norms[position]
        return max(whole, self.cosine(draft_title, titled(found)))


#: (board id, board created at) → its index; the creation time tells a board from a later
#: one that reuses its id (SQLite may reuse the id of a deleted row).
_indexes: LRUCache = LRUCache(maxsize=64)
_lock = threading.Lock()


def _published(board: Board) -> tuple:
    return (
        Idea.board_id == board.id,
        Idea.city_id == board.city_id,
        Idea.state == IdeaState.PUBLISHED,
    )


def corpus_version(session: Session, board: Board) -> tuple:
    """What the board's index depends on: which ideas are published, and their last edit."""
    row = session.execute(
        sa.select(sa.func.count(Idea.id), sa.func.sum(Idea.id), sa.func.max(Idea.edited_at)).where(
            *_published(board)
        )
    ).one()
    return tuple(str(value) for value in row)


def _texts(session: Session, board: Board, ids: list[int] | None = None) -> list[tuple]:
    query = sa.select(
        Idea.id, Idea.edited_at, Idea.title, sa.func.substr(Idea.search_text, 1, MAX_CHARS)
    ).where(*_published(board))
    if ids is not None:
        query = query.where(Idea.id.in_(ids))
    return [tuple(row) for row in session.execute(query.order_by(Idea.id))]


def _refresh(session: Session, board: Board, index: _Index) -> bool:
    """Bring an index up to date by its differences; False when a rebuild is due instead."""
    current = {
        idea_id: edited
        for idea_id, edited in session.execute(
            sa.select(Idea.id, Idea.edited_at).where(*_published(board))
        )
    }
    gone = [i for i in index.positions if i not in current]
    changed = [
        i for i, edited in current.items() if i not in index.edited or index.edited[i] != edited
    ]
    index.changes += len(gone) + len(changed)
    if index.changes > REBUILD_SHARE * max(index.built_with, 50):
        return False
    for idea_id in gone + [i for i in changed if i in index.positions]:
        index.remove(idea_id)
    for idea_id, edited, title, text in _texts(session, board, changed) if changed else []:
        index.add(idea_id, edited, title, text, features(title, text))
    return True


def _index_of(session: Session, board: Board) -> _Index:
    version = corpus_version(session, board)
    key = (board.id, board.created_at)
    with _lock:
        index = _indexes.get(key)
        if index is not None and index.version == version:
            return index
        # Refreshed under the lock: two requests never change one index at once.
        if index is None or not _refresh(session, board, index):
            index = _Index(_texts(session, board))
        index.version = version
        _indexes[key] = index
        return index


def similar_ideas(
    session: Session, user: User, board: Board, title: str, body: str = ""
) -> list[tuple[Idea, float]]:
    """The published ideas of the board most like a draft, best first, with their cosine.

    The board is already checked as readable by ``user``.
    """
    folded = fold(f"{title}\n{body}")
    if not folded:
        return []
    draft = features(title, folded)
    index = _index_of(session, board)
    draft_title = titled(draft)
    with _lock:
        scored = [
            (index.score(draft, draft_title, p), index.ids[p]) for p in index.candidates(draft)
        ]
    best = sorted((pair for pair in scored if pair[0] >= THRESHOLD), reverse=True)[:TOP]
    if not best:
        return []
    found = {
        idea.id: idea
        for idea in session.scalars(
            sa.select(Idea).where(*_published(board), Idea.id.in_([i for _s, i in best]))
        )
    }
    return [(found[i], min(round(s, 4), 1.0)) for s, i in best if i in found]
