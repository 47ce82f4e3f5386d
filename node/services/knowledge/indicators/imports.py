"""Importing indicator definitions and observations from CSV files, all or nothing.

Every uploaded file is hostile: it is size-capped, must be UTF-8 text (a spreadsheet's BOM is
fine), may use `,`, `;` or tabs, and is read in full before anything is written. Each problem
is reported with its row (the header is row 1, as a spreadsheet numbers them), its column, the
offending value and a French reason; if there is any, nothing is stored. A cell our own export
protected against formula injection (a quote before = + - @) is read back without the quote,
so an exported file imports unchanged.

Observations: columns `indicator` (its slug), `date` (YYYY-MM-DD), `value`, and optionally
`note`. A value already recorded identically is skipped (re-importing a file is harmless); a
different value on a recorded day is a problem (imports never overwrite). Definitions: the
columns of indicators.csv; an existing slug is updated, a new one added.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from instance_config import InstanceConfig
from node.convert.indicators import indicator_url, observation_url
from node.domain.forms import FormInvalid
from node.services.knowledge.indicators.catalogue import (
    IndicatorInput,
    Sessions,
    apply_definition,
    ensure_facilitator,
    read_indicator,
    read_observation,
    seed_default_catalogue,
)
from node.storage.models import Account, Indicator, Observation

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
#: Problems kept for the report (the count says how many more there were).
MAX_PROBLEMS = 200
#: Columns of each kind of file: required, then optional.
OBSERVATION_COLUMNS = (("indicator", "date", "value"), ("note",))
INDICATOR_COLUMNS = (
    ("slug", "name", "unit", "direction"),
    ("theme", "source", "method", "baseline", "target"),
)
#: A form field's name -> the CSV column it comes from (observations)
_OBSERVATION_FIELDS = {"observed_on": "date", "value": "value", "note": "note"}

TOO_BIG = "Le fichier dépasse 5 Mo."
NOT_TEXT = "Ce fichier n'est pas un fichier CSV (texte)."
NOT_UTF8 = "Le fichier n'est pas en UTF-8 : enregistrez-le au format « CSV UTF-8 »."
EMPTY = "Le fichier est vide."
NO_ROWS = "Le fichier n'a aucune ligne de données."
TOO_MANY_ROWS = "Le fichier a trop de lignes (20 000 au plus)."
UNREADABLE = "Ligne illisible (un guillemet n'est pas refermé ?)."
MISSING_COLUMN = "Colonne obligatoire manquante."
UNKNOWN_COLUMN = "Colonne inconnue."
REPEATED_COLUMN = "Colonne en double."
CELL_COUNT = "Cette ligne n'a pas le même nombre de cellules que l'en-tête."
UNKNOWN_INDICATOR = "Indicateur inconnu : ajoutez-le au catalogue d'abord."
REPEATED_DAY = "Cet indicateur a déjà une valeur à cette date plus haut dans le fichier."
RECORDED_DAY = "Une autre valeur est déjà enregistrée à cette date pour cet indicateur."
REPEATED_SLUG = "Ce nom court figure déjà plus haut dans le fichier."
CHANGED_MEANWHILE = "Les données ont changé pendant l'import : recommencez."
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row (0: the whole file, 1: the header) or one of its cells cannot be imported."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: rows read, stored (new), updated or skipped, and its problems
    (when there is any, nothing was stored)."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        """True when the file was imported (it had no problem)."""
        return not self.problems

    def add(self, row: int, column: str, value: str, reason: str) -> None:
        """Note a problem (only the first MAX_PROBLEMS are kept, the others counted)."""
        if len(self.problems) < MAX_PROBLEMS:
            shown = value if len(value) <= 80 else value[:79] + "…"
            self.problems.append(Problem(row, column, shown, reason))
        else:
            self.more_problems += 1


Row = tuple[int, dict[str, str]]


def _unprotect(cell: str) -> str:
    """A cell as written before the export protected it from formula injection."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def _text_of(data: bytes, report: ImportReport) -> str | None:
    """The file as text, or None after reporting why it cannot be read."""
    if len(data) > MAX_UPLOAD_BYTES:
        report.add(0, "", "", TOO_BIG)
        return None
    if b"\x00" in data:
        report.add(0, "", "", NOT_TEXT)
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(0, "", "", NOT_UTF8)
        return None
    if not text.strip():
        report.add(0, "", "", EMPTY)
        return None
    return text


def read_rows(
    data: bytes, columns: tuple[tuple[str, ...], tuple[str, ...]], report: ImportReport
) -> list[Row]:
    """The file's data rows as column -> cell (stripped, unprotected) with their row numbers;
    problems of the file, its header or its shape go to the report."""
    text = _text_of(data, report)
    if text is None:
        return []
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        if not _check_header(header, columns, report):
            return []
        rows: list[Row] = []
        for number, cells in enumerate(reader, start=2):
            if number > MAX_ROWS + 1:
                report.add(0, "", "", TOO_MANY_ROWS)
                return []
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, often at the end of a file
            if len(cells) != len(header):
                report.add(number, "", delimiter.join(cells), CELL_COUNT)
                continue
            rows.append(
                (number, {h: _unprotect(c.strip()) for h, c in zip(header, cells, strict=True)})
            )
    except csv.Error:
        report.add(reader.line_num, "", "", UNREADABLE)
        return []
    if not rows and report.ok:
        report.add(0, "", "", NO_ROWS)
    return rows


def _check_header(
    header: list[str], columns: tuple[tuple[str, ...], tuple[str, ...]], report: ImportReport
) -> bool:
    """Report missing, unknown and repeated columns; True when the header is right."""
    required, optional = columns
    for name in required:
        if name not in header:
            report.add(1, name, "", MISSING_COLUMN)
    seen: set[str] = set()
    for name in header:
        if name not in required and name not in optional:
            report.add(1, name, name, UNKNOWN_COLUMN)
        elif name in seen:
            report.add(1, name, name, REPEATED_COLUMN)
        seen.add(name)
    return report.ok


def _form_problems(
    report: ImportReport,
    number: int,
    row: Mapping[str, str],
    exc: FormInvalid,
    names: Mapping[str, str],
) -> None:
    """Report a row's field problems under their CSV column names."""
    for name, reason in exc.errors.items():
        column = names.get(name, name)
        report.add(number, column, row.get(column, ""), reason)


async def _ready(sessions: Sessions, config: InstanceConfig, account: Account) -> None:
    """Refuse anyone but facilitators; make sure the default catalogue is there."""
    async with sessions() as session:
        await ensure_facilitator(session, account)
    await seed_default_catalogue(sessions, config)


def _changed_meanwhile(report: ImportReport) -> None:
    """Someone stored the same data while the file was checked: nothing was stored."""
    report.created = report.updated = report.skipped = 0
    report.add(0, "", "", CHANGED_MEANWHILE)


def _check_observations(
    report: ImportReport,
    config: InstanceConfig,
    rows: list[Row],
    indicators: Mapping[str, Indicator],
    recorded: Mapping[tuple[str, date], float],
    today: date,
) -> list[Observation]:
    """The new observations of the rows; every problem goes to the report."""
    new: list[Observation] = []
    seen: set[tuple[str, date]] = set()
    for number, row in rows:
        indicator = indicators.get(row["indicator"])
        if indicator is None:
            report.add(number, "indicator", row["indicator"], UNKNOWN_INDICATOR)
        fields = {name: row.get(column, "") for name, column in _OBSERVATION_FIELDS.items()}
        try:
            day, value, note = read_observation(fields, today)
        except FormInvalid as exc:
            _form_problems(report, number, row, exc, _OBSERVATION_FIELDS)
            continue
        if indicator is None:
            continue
        key = (indicator.id, day)
        if key in seen:
            report.add(number, "date", row["date"], REPEATED_DAY)
        elif key in recorded and recorded[key] != value:
            report.add(number, "date", row["date"], RECORDED_DAY)
        elif key in recorded:
            report.skipped += 1
        else:
            uri = observation_url(config, indicator.slug, day)
            new.append(
                Observation(
                    uri=uri, indicator_id=indicator.id, value=value, observed_on=day, note=note
                )
            )
        seen.add(key)
    return new


async def import_observations(
    sessions: Sessions, config: InstanceConfig, account: Account, data: bytes, today: date
) -> ImportReport:
    """Check every row of an observations file, then store them all, or nothing."""
    report = ImportReport("observations")
    await _ready(sessions, config, account)
    rows = read_rows(data, OBSERVATION_COLUMNS, report)
    report.rows = len(rows)
    if not report.ok:
        return report
    try:
        async with sessions.begin() as session:
            indicators = {i.slug: i for i in await session.scalars(select(Indicator))}
            recorded = {
                (o.indicator_id, o.observed_on): o.value
                for o in await session.scalars(select(Observation))
            }
            new = _check_observations(report, config, rows, indicators, recorded, today)
            if report.ok:
                for observation in new:
                    observation.recorded_by = account.id
                session.add_all(new)
                await session.flush()
                report.created = len(new)
    except IntegrityError:
        _changed_meanwhile(report)
    return report


def _check_definitions(report: ImportReport, rows: list[Row]) -> list[IndicatorInput]:
    """The checked definitions of the rows; every problem goes to the report."""
    checked = []
    seen: set[str] = set()
    for number, row in rows:
        try:
            definition = read_indicator(row)
        except FormInvalid as exc:
            _form_problems(report, number, row, exc, {})
            continue
        if definition.slug in seen:
            report.add(number, "slug", definition.slug, REPEATED_SLUG)
        seen.add(definition.slug)
        checked.append(definition)
    return checked


async def import_indicators(
    sessions: Sessions, config: InstanceConfig, account: Account, data: bytes
) -> ImportReport:
    """Check every row of a definitions file, then add or update them all, or nothing."""
    report = ImportReport("indicators")
    await _ready(sessions, config, account)
    rows = read_rows(data, INDICATOR_COLUMNS, report)
    report.rows = len(rows)
    checked = _check_definitions(report, rows)
    if not report.ok:
        return report
    try:
        async with sessions.begin() as session:
            existing = {i.slug: i for i in await session.scalars(select(Indicator))}
            for definition in checked:
                indicator = existing.get(definition.slug)
                if indicator is None:
                    uri = indicator_url(config, definition.slug)
                    indicator = Indicator(uri=uri, slug=definition.slug)
                    session.add(indicator)
                    report.created += 1
                else:
                    report.updated += 1
                apply_definition(indicator, definition)
            await session.flush()
    except IntegrityError:
        _changed_meanwhile(report)
    return report
