"""Reading an uploaded XLSForm workbook (.xlsx or legacy .xls) into plain rows, safely.

The file is untrusted: its kind is decided by its first bytes, never its name; its size, a zip's
declared uncompressed sizes (zip bombs) and each sheet's rows and columns are capped before and
while reading. openpyxl parses XML through defusedxml when installed (it is a dependency).
"""

import io
import logging
import zipfile
from datetime import date, datetime, time

import openpyxl
import xlrd

from app.errors import Invalid
from i18n import _

log = logging.getLogger("livinglab.surveys")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
#: The sum of the uncompressed sizes a .xlsx may declare in its zip directory.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_SHEET_ROWS = 3000
MAX_SHEET_COLUMNS = 100
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
SHEETS = ("survey", "choices", "settings")

#: A sheet: its header cells, then (row number, {header: value}) for each non-empty row.
Sheet = tuple[list[str], list[tuple[int, dict[str, object]]]]


def refuse(message: str) -> Invalid:
    return Invalid(errors={"file": [message]})


def sniff(data: bytes) -> str:
    """ "xlsx" or "xls" by content, or Invalid."""
    if data.startswith(ZIP_MAGIC):
        return "xlsx"
    if data.startswith(OLE2_MAGIC):
        return "xls"
    raise refuse(_("This is not an Excel workbook (.xlsx or .xls)."))


def read_workbook(data: bytes) -> dict[str, Sheet]:
    """The survey, choices and settings sheets (lower-cased names) of a workbook."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise refuse(
            _("The file is too large (at most %(max)d MB).", max=MAX_UPLOAD_BYTES // 2**20)
        )
    kind = sniff(data)
    try:
        sheets = _read_xlsx(data) if kind == "xlsx" else _read_xls(data)
    except Invalid:
        raise
    except Exception:  # untrusted input: any parser failure means "unreadable"
        log.info("unreadable XLSForm upload", exc_info=True)
        raise refuse(_("The workbook could not be read; save it again from Excel.")) from None
    if "survey" not in sheets:
        raise refuse(_("The workbook has no “survey” sheet."))
    return sheets


def _check_zip(data: bytes) -> None:
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        raise refuse(_("This is not an Excel workbook (.xlsx or .xls).")) from None
    # Sizes from the zip directory: reading never inflates a member past its declared size.
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise refuse(_("The workbook unpacks to too much data to be a survey form."))
    if not any(m.filename == "xl/workbook.xml" for m in members):
        raise refuse(_("This is not an Excel workbook (.xlsx or .xls)."))


def _too_many_rows(name: str) -> Invalid:
    return refuse(
        _("The sheet “%(sheet)s” has more than %(max)d rows.", sheet=name, max=MAX_SHEET_ROWS)
    )


def _too_many_columns(name: str) -> Invalid:
    return refuse(
        _(
            "The sheet “%(sheet)s” has more than %(max)d columns.",
            sheet=name,
            max=MAX_SHEET_COLUMNS,
        )
    )


def _read_xlsx(data: bytes) -> dict[str, Sheet]:
    _check_zip(data)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        result = {}
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            if name not in SHEETS or name in result:
                continue
            rows = sheet.iter_rows(
                max_row=MAX_SHEET_ROWS + 1, max_col=MAX_SHEET_COLUMNS + 1, values_only=True
            )
            result[name] = _table(name, list(rows))
        return result
    finally:
        book.close()


def _read_xls(data: bytes) -> dict[str, Sheet]:
    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    try:
        result = {}
        for index, raw_name in enumerate(book.sheet_names()):
            name = raw_name.strip().lower()
            if name not in SHEETS or name in result:
                continue
            sheet = book.sheet_by_index(index)
            rows = []
            for r in range(min(sheet.nrows, MAX_SHEET_ROWS + 1)):
                row = []
                for c in range(min(sheet.ncols, MAX_SHEET_COLUMNS + 1)):
                    cell = sheet.cell(r, c)
                    value = cell.value
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        value = xlrd.xldate_as_datetime(value, book.datemode)
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        value = bool(value)
                    row.append(value)
                rows.append(row)
            result[name] = _table(name, rows)
        return result
    finally:
        book.release_resources()


def _table(name: str, rows: list) -> Sheet:
    if len(rows) > MAX_SHEET_ROWS and any(text(v) for v in rows[MAX_SHEET_ROWS]):
        raise _too_many_rows(name)
    if not rows:
        return [], []
    headers = [text(v) for v in rows[0]]
    if len(headers) > MAX_SHEET_COLUMNS and any(headers[MAX_SHEET_COLUMNS:]):
        raise _too_many_columns(name)
    table = []
    for number, row in enumerate(rows[1:MAX_SHEET_ROWS], start=2):
        values = {h: row[i] for i, h in enumerate(headers) if h and i < len(row)}
        if any(text(v) for v in values.values()):
            table.append((number, values))
    return headers, table


def text(value: object) -> str:
    """A cell as text: whole floats without ".0", booleans as true/false, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
