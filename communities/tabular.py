"""The one spreadsheet reader every import shares: the 12345 dispatch files, the volunteer roster
and the area workbook.

A file is CSV (UTF-8 with or without BOM, UTF-16, or GBK/GB18030 as Chinese office software saves
it) or .xlsx (openpyxl in read-only mode, so rows stream and memory stays flat). The header row is
found among the top rows and checked (required columns present, aliases accepted); each data row
comes out as a ``RawRow`` keyed by column key with its spreadsheet row number, so a validator can
report a ``RowError`` by sheet, row and column. All or nothing: ``commit_all`` writes every row in
one transaction and a ``RowRejected`` from any row undoes them all.

Why not django-import-export: it maps one sheet to one model and saves row by row through its
resources, with no all-or-nothing across the seven related sheets of an area, no streaming of
100,000 rows in bounded memory, and its own preview storage; this reader is a few functions.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MAX_FILE_SIZE = 5 * 1024 * 1024
HEADER_SEARCH_ROWS = 5  # exports sometimes put a title line above the header


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # exactly as the file carries it: a file format, never translated
    required: bool
    help: Promise
    example: str


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong type, no header, missing column …)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RowError:
    row: int
    column: str  # the header as in the file, or "" for the whole row
    message: str
    value: str = ""
    sheet: str = ""  # for workbooks of several sheets


@dataclass
class RawRow:
    number: int  # the row number as a spreadsheet shows it (the header is row 1 unless titled)
    cells: dict[str, Any]


class Invalid(Exception):
    """A cell's value is refused; the validator turns it into a ``RowError``."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = str(message)


class RowRejected(Exception):
    """Raised while committing: the row cannot be written, so nothing is."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def text(value: Any) -> str:
    """A cell as trimmed text; whole numbers lose the ``.0`` a spreadsheet gives order and phone numbers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).strip()


# ---------------------------------------------------------------- one table per file


def read_keyed_table(
    upload, columns: Sequence[Column], aliases: dict[str, str], *, max_rows: int, max_size: int = MAX_FILE_SIZE,
    anchors: int = 1,
) -> list[RawRow]:
    """The data rows of an uploaded CSV (UTF-8 or GBK) or .xlsx file (its first sheet), keyed by column key.

    The header row is the first of the top rows that holds the first ``anchors`` columns' headers
    (after ``aliases``); required columns must all be there.
    """
    if upload.size > max_size:
        raise ImportFileError(str(_("The file is larger than 5 MB.")))
    data = upload.read()
    name = (getattr(upload, "name", "") or "").lower()
    if name.endswith(".xls") and not data.startswith(b"PK"):
        raise ImportFileError(str(_("Old .xls files cannot be read: save the sheet as .xlsx or CSV.")))
    if data.startswith(b"PK\x03\x04"):
        workbook = _openpyxl_workbook(io.BytesIO(data))
        try:
            table = _limited(_sheet_table(workbook.worksheets[0]), max_rows + HEADER_SEARCH_ROWS + 1)
        finally:
            workbook.close()
    else:
        table = _csv_rows(data)
    result = []
    for raw in keyed_rows(table, columns, aliases, anchors=anchors):
        result.append(raw)
        if len(result) > max_rows:
            raise ImportFileError(
                str(_("A file may hold at most %(count)d rows: split it in parts.") % {"count": max_rows})
            )
    if not result:
        raise ImportFileError(str(_("The file has a header but no rows.")))
    return result


def _openpyxl_workbook(source):
    from openpyxl import load_workbook

    try:
        return load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise ImportFileError(str(_("The .xlsx file cannot be opened."))) from error


def _sheet_table(sheet) -> Iterator[tuple[int, list[Any]]]:
    for index, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield index, list(row)


def _limited(rows: Iterable, count: int) -> list:
    result = []
    for row in rows:
        result.append(row)
        if len(result) >= count:
            break
    return result


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    decoded = _decode(data)
    first_line = decoded.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter)
    try:
        return [(index, row) for index, row in enumerate(reader, start=1)]
    except csv.Error as error:
        raise ImportFileError(str(_("The CSV file is malformed: %(error)s") % {"error": error})) from error


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(str(_("The file is neither UTF-8 nor GBK text, nor an .xlsx workbook.")))


# ---------------------------------------------------------------- workbooks of several sheets


SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CELL_TAG, VALUE_TAG, TEXT_TAG = f"{SPREADSHEET_NS}c", f"{SPREADSHEET_NS}v", f"{SPREADSHEET_NS}t"


class Workbook:
    """An .xlsx read sheet by sheet, row by row, straight from its XML.

    For big workbooks of text and numbers (the area workbook): openpyxl's read-only mode first
    scans every sheet without a ``<dimension>`` (as openpyxl's own write-only mode saves them)
    and types every cell against its style, which triples the time for 100,000 rows. Dates come
    out as numbers here; files with date columns go through ``read_keyed_table`` (openpyxl).
    """

    def __init__(self, source) -> None:
        from xml.etree.ElementTree import ParseError

        try:
            self._archive = zipfile.ZipFile(source)
            self._targets = self._sheet_targets()
            self._strings = self._shared_strings()
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, ParseError) as error:
            raise ImportFileError(str(_("The .xlsx file cannot be opened."))) from error
        self.sheetnames = list(self._targets)

    def _sheet_targets(self) -> dict[str, str]:
        from xml.etree.ElementTree import fromstring

        relations = fromstring(self._archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target", "") for rel in relations.iter(f"{PACKAGE_NS}Relationship")}
        book = fromstring(self._archive.read("xl/workbook.xml"))
        result = {}
        for sheet in book.iter(f"{SPREADSHEET_NS}sheet"):
            target = targets.get(sheet.get(f"{RELATIONSHIP_NS}id"), "")
            result[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        return result

    def _shared_strings(self) -> list[str]:
        from xml.etree.ElementTree import iterparse

        if "xl/sharedStrings.xml" not in self._archive.namelist():
            return []
        strings = []
        with self._archive.open("xl/sharedStrings.xml") as source:
            for _event, element in iterparse(source):
                if element.tag == f"{SPREADSHEET_NS}si":
                    strings.append(_inline_text(element))
                    element.clear()
        return strings

    def rows(self, name: str) -> Iterator[tuple[int, list[Any]]]:
        from xml.etree.ElementTree import iterparse

        row_tag, counter = f"{SPREADSHEET_NS}row", 0
        with self._archive.open(self._targets[name]) as source:
            for _event, element in iterparse(source):
                if element.tag != row_tag:
                    continue
                counter = int(element.get("r") or counter + 1)
                yield counter, self._row_values(element)
                element.clear()  # what stays of a row read is an empty element: memory stays small

    def _row_values(self, row) -> list[Any]:
        values: list[Any] = []
        strings = self._strings
        for cell in row:
            if cell.tag != CELL_TAG:
                continue
            reference = cell.get("r")
            if reference:
                column = _column_index(reference)
                if column - 1 > len(values):
                    values.extend([None] * (column - 1 - len(values)))
            kind = cell.get("t")
            if kind == "inlineStr":
                values.append(_inline_text(cell))
                continue
            raw = next((child.text for child in cell if child.tag == VALUE_TAG), None)
            if raw is None:
                values.append(None)
            elif kind == "s":
                values.append(strings[int(raw)])
            elif kind is None or kind == "n":
                values.append(float(raw) if "." in raw or "E" in raw or "e" in raw else int(raw))
            elif kind == "b":
                values.append(raw == "1")
            else:  # "str" (a formula's text) or "e" (an error value)
                values.append(raw)
        return values

    def close(self) -> None:
        self._archive.close()


def _inline_text(element) -> str:
    if len(element) == 1 and element[0].tag == TEXT_TAG:  # the usual <si><t>…</t></si>
        return element[0].text or ""
    # Rich text runs are joined; phonetic runs (<rPh>) are pronunciation hints, not part of the text.
    parts = []
    for child in element:
        if child.tag == f"{SPREADSHEET_NS}t":
            parts.append(child.text or "")
        elif child.tag == f"{SPREADSHEET_NS}r":
            parts.extend(t.text or "" for t in child.iter(f"{SPREADSHEET_NS}t"))
        elif child.tag == f"{SPREADSHEET_NS}is":
            parts.append(_inline_text(child))
    return "".join(parts)


@functools.lru_cache(maxsize=1024)
def _letters_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


def _column_index(reference: str) -> int:
    return _letters_index(reference.rstrip("0123456789"))


def open_workbook(source) -> Workbook:
    """A workbook of several sheets, streamed; ``source`` is a path or a binary file object."""
    return Workbook(source)


def sheet_rows(workbook, name: str, columns: Sequence[Column], aliases: dict[str, str] | None = None, *,
               anchors: int = 1) -> Iterator[RawRow] | None:
    """The rows of sheet ``name`` streamed as ``RawRow``; ``None`` when the workbook has no such sheet.

    The header is checked at once (``ImportFileError`` names the sheet); rows follow lazily.
    """
    if name not in workbook.sheetnames:
        return None
    try:
        return keyed_rows(workbook.rows(name), columns, aliases or {}, anchors=anchors)
    except ImportFileError as error:
        raise ImportFileError(f"{name}: {error.message}") from error


# ---------------------------------------------------------------- header and rows


def normalise_header(cell: Any, aliases: dict[str, str]) -> str:
    header = re.sub(r"\s+", "", str(cell or "")).replace("\ufeff", "").rstrip("*＊")
    return aliases.get(header, header)


def keyed_rows(
    table: Iterable[tuple[int, list[Any]]], columns: Sequence[Column], aliases: dict[str, str], *, anchors: int = 1,
) -> Iterator[RawRow]:
    """Find and check the header now; return the data rows (blank ones dropped) as a lazy iterator."""
    rows = iter(table)
    positions = None
    for index, row in rows:
        headers = [normalise_header(cell, aliases) for cell in row]
        if all(col.header in headers for col in columns[:anchors]):
            positions = {col.key: headers.index(col.header) for col in columns if col.header in headers}
            break
        if index >= HEADER_SEARCH_ROWS:
            break
    if positions is None:
        raise ImportFileError(
            str(_("No header row with “%(header)s” found in the first rows.") % {"header": columns[0].header})
        )
    missing = [col.header for col in columns if col.required and col.key not in positions]
    if missing:
        raise ImportFileError(str(_("Required columns are missing: %(columns)s") % {"columns": "、".join(missing)}))
    return _data_rows(rows, positions)


def _data_rows(rows: Iterator[tuple[int, list[Any]]], positions: dict[str, int]) -> Iterator[RawRow]:
    for index, row in rows:
        cells = {key: row[pos] if pos < len(row) else None for key, pos in positions.items()}
        if all(value is None or (isinstance(value, str) and not value.strip()) for value in cells.values()):
            continue
        yield RawRow(number=index, cells=cells)


# ---------------------------------------------------------------- all or nothing


def commit_all(rows: Iterable, write: Callable[[Any], Any]) -> RowError | None:
    """Write every row in one transaction; the first ``RowRejected`` undoes them all and is returned."""
    try:
        with transaction.atomic():
            for row in rows:
                write(row)
    except RowRejected as rejected:
        return rejected.error
    return None
