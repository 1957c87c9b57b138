"""Reading a Pol.is open-data export: comments.csv and votes.csv, validated.

``comments.csv`` has one row per comment with Pol.is's moderation (1 in, 0 not moderated,
-1 out); ``votes.csv`` holds vote *changes* (1 agree, -1 disagree, 0 pass): the last row per
voter and comment, by timestamp, stands. Bodies contain newlines and quotes (RFC 4180). Every
bad row is reported with its line number, all together, before anything is imported.
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.errors import Invalid
from i18n import _

COMMENT_COLUMNS = ("timestamp", "comment-id", "author-id", "moderated", "comment-body")
VOTE_COLUMNS = ("timestamp", "comment-id", "voter-id", "vote")
AGREE, DISAGREE, PASS = 1, -1, 0
MODERATED_IN, UNMODERATED, MODERATED_OUT = 1, 0, -1
#: Problems listed per file before the rest are only counted.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class PolisComment:
    id: int
    author: int
    moderated: int
    at: datetime
    body: str


@dataclass
class Conversation:
    """What an export says, validated: comments, and the vote that stands per voter and comment."""

    name: str
    title: str
    comments: dict[int, PolisComment]
    vote_rows: int
    #: (voter, comment) → (time, vote) of the last vote.
    final: dict[tuple[int, int], tuple[datetime, int]]
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def participants(self) -> set[int]:
        return {c.author for c in self.comments.values()} | {voter for voter, _ in self.final}

    @property
    def last_vote_at(self) -> datetime | None:
        return max((at for at, _ in self.final.values()), default=None)


@dataclass
class _Problems:
    """Bad rows by file, with their line numbers; raised together, before anything is written."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[str]] = {}
        self.more: Counter[str] = Counter()

    def add(self, file: str, line: int | None, problem: str) -> None:
        found = self.by_file.setdefault(file, [])
        if len(found) >= MAX_PROBLEMS:
            self.more[file] += 1
        elif line is None:
            found.append(problem)
        else:
            found.append(_("line %(line)d: %(problem)s", line=line, problem=problem))

    def raise_any(self) -> None:
        if not self.by_file:
            return
        for file, count in self.more.items():
            self.by_file[file].append(_("… and %(count)d more problems", count=count))
        raise Invalid(_("The Pol.is export has errors; nothing was imported."), self.by_file)


def _records(path: Path, required: tuple[str, ...], problems: _Problems) -> Iterator[tuple]:
    """(line where the record starts, {column: value}) of a CSV file (RFC 4180)."""
    name = path.name
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.add(name, data[: error.start].count(b"\n") + 1, _("this is not UTF-8 text"))
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        header = [column.strip() for column in next(reader, [])]
        missing = [column for column in required if column not in header]
        if missing:
            problems.add(name, 1, _("the header lacks %(columns)s", columns=", ".join(missing)))
            return
        start = reader.line_num + 1
        for values in reader:
            if len(values) == len(header):
                yield start, dict(zip(header, values, strict=True))
            elif values:  # a blank line is no record
                problems.add(
                    name,
                    start,
                    _(
                        "%(found)d fields where the header has %(expected)d",
                        found=len(values),
                        expected=len(header),
                    ),
                )
            start = reader.line_num + 1
    except csv.Error as error:
        problems.add(name, start, _("not readable as CSV (%(error)s)", error=str(error)))


def _whole(row: dict, column: str, allowed: Iterable[int] | None = None) -> int:
    raw = row[column].strip()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            _("%(column)s must be a whole number, not “%(value)s”", column=column, value=raw[:40])
        ) from None
    if allowed is not None and value not in allowed:
        raise ValueError(
            _(
                "%(column)s must be one of %(allowed)s, not %(value)d",
                column=column,
                allowed=", ".join(str(a) for a in allowed),
                value=value,
            )
        )
    return value


def _moment(row: dict) -> datetime:
    """Pol.is timestamps are milliseconds since 1970 (UTC)."""
    millis = _whole(row, "timestamp")
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        raise ValueError(_("timestamp %(value)d is out of range", value=millis)) from None


def conversation_name(folder: Path) -> str:
    """The folder's name as it appears in addresses: lower-case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")[:40] or "conversation"


def read_conversation(folder: Path) -> Conversation:
    """Read and validate an export folder; raises Invalid listing every bad row."""
    problems = _Problems()
    for file in ("comments.csv", "votes.csv"):
        if not (folder / file).is_file():
            problems.add(file, None, _("the file is missing from %(folder)s", folder=str(folder)))
    problems.raise_any()
    comments: dict[int, PolisComment] = {}
    first_line: dict[int, int] = {}
    for line, row in _records(folder / "comments.csv", COMMENT_COLUMNS, problems):
        try:
            comment = PolisComment(
                id=_whole(row, "comment-id"),
                author=_whole(row, "author-id"),
                moderated=_whole(row, "moderated", (MODERATED_IN, UNMODERATED, MODERATED_OUT)),
                at=_moment(row),
                body=row["comment-body"].strip(),
            )
            if not comment.body:
                raise ValueError(_("comment-body is empty"))
            if comment.id in comments:
                raise ValueError(
                    _(
                        "comment %(id)d appears twice (first on line %(first)d)",
                        id=comment.id,
                        first=first_line[comment.id],
                    )
                )
        except ValueError as error:
            problems.add("comments.csv", line, str(error))
            continue
        comments[comment.id] = comment
        first_line[comment.id] = line
    comments_ok = "comments.csv" not in problems.by_file
    rows = 0
    #: (voter, comment) → ((time, row), vote): the later row wins a tie of timestamps.
    last: dict[tuple[int, int], tuple[tuple[datetime, int], int]] = {}
    for line, row in _records(folder / "votes.csv", VOTE_COLUMNS, problems):
        rows += 1
        try:
            at = _moment(row)
            comment_id = _whole(row, "comment-id")
            voter = _whole(row, "voter-id")
            vote = _whole(row, "vote", (AGREE, DISAGREE, PASS))
            if comments_ok and comment_id not in comments:
                raise ValueError(_("there is no comment %(id)d", id=comment_id))
        except ValueError as error:
            problems.add("votes.csv", line, str(error))
            continue
        key = (voter, comment_id)
        if key not in last or (at, rows) >= last[key][0]:
            last[key] = ((at, rows), vote)
    problems.raise_any()
    return Conversation(
        name=conversation_name(folder),
        title=folder.name.replace("-", " ").replace("_", " ").strip().capitalize()[:200],
        comments=comments,
        vote_rows=rows,
        final={key: (moment[0], vote) for key, (moment, vote) in last.items()},
        summary=_summary(folder / "summary.csv"),
    )


def _summary(path: Path) -> dict[str, str]:
    """summary.csv's key,value rows (topic, url, description...); optional decoration."""
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8-sig")
        return {
            row[0]: row[1] for row in csv.reader(io.StringIO(text, newline="")) if len(row) == 2
        }
    except (UnicodeDecodeError, csv.Error):
        return {}
