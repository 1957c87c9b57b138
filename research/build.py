"""Building one research export: the dataset's tables made anonymous, written as a documented
package in a work directory, checked from disk by the independent anonymity check, and only
then packed as a ZIP under ``RESEARCH_EXPORT_DIR``.

Rows stream from the database to the CSV files (read twice for microdata: once to plan the
generalisation, once to write), so memory stays bounded whatever the number of records. The
work directory is removed whatever happens; a package that fails the check is never packed.
"""

import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from i18n import force_locale
from research import projects, service
from research.anonymise import apply, plan, released_variables
from research.check import check_package
from research.datasets import DATASETS
from research.formats import (
    Resource,
    aggregate_variables,
    write_aggregate_csv,
    write_codebook,
    write_datapackage,
    write_microdata_csv,
)
from research.models import DatasetKind, ResearchExport, ResearchProject
from research.options import ExportOptions
from research.readme import readme
from research.scrub import Scrubber, city_scrubber
from research.statfiles import write_spss, write_stata
from research.suppress import suppress
from research.table import Aggregate, Kind, Microdata, Role, Row

#: ``progress(stage, percent)``: where the build is, for the console.
Progress = Callable[[str, int], None]
#: Progress is reported after this many rows of a pass.
EVERY = 5000
#: Share of the percentage the passes over rows take (the rest: check and packing).
ROWS_START, ROWS_END = 2, 88
#: Rows spooled to disk between the passes are written in chunks of this many (EVERY is a
#: multiple of it: progress is reported between chunks).
SPOOL_CHUNK = 1000
#: Files the ZIP holds are copied in pieces of this size.
CHUNK = 1 << 20
WRITERS = {"sav": write_spss, "dta": write_stata}


@dataclass
class Outcome:
    """What a build made: a package that passed the check (its file's name, size and
    SHA-256) or one that did not (no file, and the check's problems), with the report."""

    passed: bool
    report: dict
    file_name: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    problems: list[str] = field(default_factory=list)


def pseudonymiser(key: bytes) -> Callable[[Any], str | None]:
    """pseudonym(value): the first 16 hex characters of HMAC-SHA256(key, value).

    Keyed per export (or per project), so the same participant has other pseudonyms in
    another export. Cached, since a participant's key recurs (their ideas, comments).
    """
    base = hmac.new(key, digestmod=hashlib.sha256)

    @lru_cache(maxsize=65536)
    def keyed(value: str) -> str:
        mac = base.copy()
        mac.update(value.encode())
        return mac.hexdigest()[:16]

    def pseudonym(value: Any) -> str | None:
        return None if value is None else keyed(str(value))

    return pseudonym


def _key(session: Session, export: ResearchExport) -> bytes:
    """The project's shared key, or one of this export's own that is never stored."""
    if export.project_id is not None:
        return projects.project_key(session.get(ResearchProject, export.project_id))
    return secrets.token_bytes(32)


class _Build:
    """One export's build: its tables, the files written so far and what the report says."""

    def __init__(self, session: Session, export: ResearchExport, progress: Progress):
        self.session = session
        self.export = export
        self.options = ExportOptions.from_json(export.options)
        self.progress = progress
        self.pseudonym = pseudonymiser(_key(session, export))
        self.scrubber: Scrubber | None = (
            city_scrubber(session, export.city_id) if self.options.include_text else None
        )
        self.resources: list[Resource] = []
        self.parts: list[dict] = []

    # --- progress ------------------------------------------------------------------------

    def _slot(self, index: int, count: int, share: float) -> tuple[float, float]:
        width = (ROWS_END - ROWS_START) / max(count, 1)
        start = ROWS_START + width * index
        return start, width * share

    def _spooled(
        self,
        table: Microdata,
        index: int,
        count: int,
        spool: Path,
        early: list[tuple[int, Callable[[Any], Any]]],
    ) -> Microdata:
        """The table, read from the database once: the first pass (planning) streams its rows
        and spools them to ``spool`` in chunks, later passes (writing) read them back. Both
        passes see the same records, and the second costs no queries. Progress is reported
        as the rows go: the first half of the table's slot, then the second half.

        ``early`` (column, change) are applied as the rows are read, before they are planned
        or spooled: the pseudonyms, which planning never looks at. Raw participant keys are
        then never written to disk, and the work is done while the database is still sending.
        """
        notes = table.notes if isinstance(table.notes, dict) else {}
        expected = notes.get("records_included") or notes.get("records_considered")
        state: dict[str, int | None] = {"spooled": None}
        # Rows may stream on the session's connection (the survey's COPY), which can then run
        # nothing else until the last: progress written through that same connection (a
        # session bound to one has no other, research/jobs.py) waits for the end of the pass.
        live = None if isinstance(self.session.get_bind(), sa.Connection) else expected

        def tick(stage: str, start: float, width: float, number: int, total: object) -> None:
            if number % EVERY == 0 and isinstance(total, int) and total > 0:
                self.progress(stage, int(start + width / 2 * min(number / total, 1)))

        def first(start: float, width: float) -> Iterator[Row]:
            number = 0
            chunk: list[Row] = []
            with spool.open("wb") as out:
                for row in table.rows():
                    if early:
                        changed = list(row)
                        for at, change in early:
                            changed[at] = change(changed[at])
                        row = tuple(changed)
                    chunk.append(row)
                    yield row
                    if len(chunk) == SPOOL_CHUNK:
                        pickle.dump(chunk, out, pickle.HIGHEST_PROTOCOL)
                        number += len(chunk)
                        chunk = []
                        tick("anonymising", start, width, number, live)
                pickle.dump(chunk, out, pickle.HIGHEST_PROTOCOL)
            state["spooled"] = number + len(chunk)

        def again(start: float, width: float) -> Iterator[Row]:
            number = 0
            with spool.open("rb") as stored:
                while True:
                    try:
                        # Written by this build a moment ago, in its own private directory.
                        chunk = pickle.load(stored)  # noqa: S301
                    except EOFError:
                        return
                    yield from chunk
                    number += len(chunk)
                    tick("writing", start, width, number, state["spooled"])

        def rows() -> Iterator[Row]:
            start, width = self._slot(index, count, 1.0)
            if state["spooled"] is None:
                # The first pass, or one after a first pass that stopped part way.
                self.progress("anonymising", int(start))
                return first(start, width)
            self.progress("writing", int(start + width / 2))
            return again(start + width / 2, width)

        return dataclasses.replace(table, rows=rows)

    # --- tables --------------------------------------------------------------------------

    def microdata(self, table: Microdata, index: int, count: int, work: Path) -> None:
        options = self.options
        early = [
            (position, self.pseudonym)
            for position, variable in enumerate(table.variables)
            if variable.role == Role.PSEUDONYM
        ]
        spool = work.parent / f"{table.name}.spool"
        counted = self._spooled(table, index, count, spool, early)
        made = plan(counted, options.k, options.l, current_app.config["RESEARCH_MAX_SUPPRESSED"])
        released = released_variables(table, made)
        keep, variables, convert = [], [], []
        for position, (variable, out) in enumerate(zip(table.variables, released, strict=True)):
            if variable.role == Role.TEXT and not options.include_text:
                continue  # left out, as asked: the safest text is none
            if variable.role == Role.PSEUDONYM:
                out = dataclasses.replace(out, kind=Kind.STRING)  # made one in the first pass
            elif variable.role == Role.TEXT:
                convert.append((len(keep), self.scrubber))
            keep.append(position)
            variables.append(out)
        every = len(keep) == len(table.variables)

        def changed() -> Iterator[list]:
            # A row per record of millions: a list changed in place, no per-cell dispatch.
            for row in apply(counted, made):
                out = list(row) if every else [row[p] for p in keep]
                for at, change in convert:
                    out[at] = change(out[at])
                yield out

        # Released as they are when nothing is left out or scrubbed.
        rows = apply(counted, made) if every and not convert else changed()
        path = f"data/{table.name}.csv"
        written = write_microdata_csv(work / path, variables, rows)
        self.resources.append(
            Resource(table.name, table.title, path, variables, aggregate=None, rows=written)
        )
        self.parts.append(
            {
                "name": table.name,
                "kind": "microdata",
                "records": made.records,
                "released": made.released,
                "suppressed": dict(made.suppressed_records),
                "suppressed_groups": len(made.suppressed),
                "k": made.k,
                "l": made.l,
                "levels": dict(made.levels),
                "notes": table.notes,
            }
        )

    def aggregate(self, table: Aggregate, index: int, count: int, work: Path) -> None:
        start, _width = self._slot(index, count, 1.0)
        self.progress("anonymising", int(start))
        hidden = suppress(table, self.options.min_cell)
        path = f"data/{table.name}.csv"
        written = write_aggregate_csv(work / path, table, hidden.hidden)
        variables = aggregate_variables(table)
        self.resources.append(
            Resource(
                table.name,
                table.title,
                path,
                variables,
                aggregate={
                    "count": table.count.name,
                    "row": table.row.name,
                    "column": table.column.name,
                },
                rows=written,
            )
        )
        self.parts.append(
            {
                "name": table.name,
                "kind": "aggregate",
                "cells": len(table.cells),
                "suppressed_primary": len(hidden.primary),
                "suppressed_secondary": len(hidden.secondary),
                "min_cell": self.options.min_cell,
                "notes": table.notes,
            }
        )

    # --- the package ---------------------------------------------------------------------

    def meta(self, now: datetime) -> dict:
        """The package's facts for the codebook and datapackage.json (formats.py)."""
        export = self.export
        what = str(service.DATASET_LABELS[DatasetKind(export.dataset)])
        titles = [resource.title for resource in self.resources]
        versions = sorted(
            {v for part in self.parts for v in (part["notes"] or {}).get("versions", [])}
        )
        return {
            "name": f"livinglab-research-{export.id}",
            "title": titles[0] if len(titles) == 1 else what,
            "description": what,
            "language": export.locale,
            "versions": versions,
            "created": now,
        }

    def extra_formats(self, work: Path) -> list[str]:
        written = []
        for name in self.options.formats:
            for resource in self.resources:
                if resource.aggregate is not None:
                    continue  # value labels are for microdata; tables stay CSV
                out = work / "data" / f"{Path(resource.path).stem}.{name}"
                WRITERS[name](work / resource.path, resource.variables, out)
                written.append(f"data/{out.name}")
        return written

    def report(self, now: datetime, measures: list, passed: bool) -> dict:
        microdata = [p for p in self.parts if p["kind"] == "microdata"]
        return {
            "export_id": self.export.id,
            "dataset": self.export.dataset,
            "subject_id": self.export.subject_id,
            "made_at": now.isoformat(timespec="seconds"),
            "locale": self.export.locale,
            # Who asked, by role only: never the requester's name or e-mail.
            "requester_role": "researcher",
            "project": self.export.project_id is not None,
            "purpose": self.export.purpose,
            "options": self.options.to_json(),
            "k_achieved": min((p["k"] for p in microdata), default=None),
            "l_achieved": min((p["l"] for p in microdata if p["l"] is not None), default=None),
            "resources": self.parts,
            "text_replacements": dict(self.scrubber.counts) if self.scrubber else {},
            "check": {
                "passed": passed,
                "measures": [dataclasses.asdict(m) for m in measures],
            },
        }


def _pack(work: Path, directory: Path, now: datetime) -> tuple[str, int, str]:
    """The work directory as a ZIP under a server-chosen name, mode 0600, streamed from disk;
    returns its name, size and SHA-256."""
    name = f"{secrets.token_hex(16)}.zip"
    path = directory / name
    stamp = now.timetuple()[:6]
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for member in sorted(p for p in work.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(member.relative_to(work).as_posix(), date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                info.file_size = member.stat().st_size  # zip64 when large
                with member.open("rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, CHUNK)
        digest = hashlib.sha256()
        with path.open("rb") as packed:
            while chunk := packed.read(CHUNK):
                digest.update(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, path.stat().st_size, digest.hexdigest()


def build_export(
    session: Session, export: ResearchExport, progress: Progress, now: datetime
) -> Outcome:
    """Build ``export`` (reading only); the caller records the outcome (service.finish)."""
    config = current_app.config
    directory = Path(config["RESEARCH_EXPORT_DIR"])
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    keep_until = now + timedelta(days=config["RESEARCH_EXPORT_DAYS"])
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=directory))
    # The package is what the ZIP holds; beside it, the rows spooled between the passes.
    package = work / "package"
    try:
        (package / "data").mkdir(parents=True)
        build = _Build(session, export, progress)
        options = build.options
        with force_locale(export.locale):
            progress("reading", 1)
            tables = DATASETS[DatasetKind(export.dataset)](session, export, options)
            for index, table in enumerate(tables):
                if isinstance(table, Microdata):
                    build.microdata(table, index, len(tables), package)
                else:
                    build.aggregate(table, index, len(tables), package)
            progress("writing", ROWS_END)
            meta = build.meta(now)
            write_codebook(package / "codebook.csv", build.resources, meta)
            write_datapackage(package, build.resources, meta)
            extra = build.extra_formats(package)
        progress("checking", 90)
        measures = check_package(package, options.k, options.l, options.min_cell)
        passed = bool(measures) and all(m.passed for m in measures)
        report = build.report(now, measures, passed)
        files = [
            "README.txt",
            "report.json",
            "codebook.csv",
            "datapackage.json",
            *(r.path for r in build.resources),
            *extra,
        ]
        with force_locale(export.locale):
            text = readme(export, build.options, build.resources, files, report, now, keep_until)
        (package / "README.txt").write_text(text, encoding="utf-8", newline="")
        (package / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        problems = [f"{m.resource}:{p}" for m in measures for p in m.problems]
        if not passed:
            return Outcome(False, report, problems=problems or ["no-resource-measured"])
        progress("packing", 95)
        name, size, sha256 = _pack(package, directory, now)
        return Outcome(True, report, name, size, sha256)
    finally:
        shutil.rmtree(work, ignore_errors=True)
