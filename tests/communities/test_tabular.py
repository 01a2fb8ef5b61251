"""The shared spreadsheet reader: header found below a title, gaps kept in place, rows streamed."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from communities.tabular import Column, ImportFileError, open_workbook, sheet_rows

COLUMNS = [Column("code", "编码", True, "", ""), Column("name", "名称", True, "", ""), Column("note", "备注", False, "", "")]


def xlsx(rows, *, write_only=False) -> io.BytesIO:
    wb = Workbook(write_only=write_only)
    sheet = wb.create_sheet("表") if write_only else wb.active
    if not write_only:
        sheet.title = "表"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("write_only", [False, True])
def test_rows_come_keyed_with_their_spreadsheet_numbers_and_gaps(write_only):
    source = xlsx([["某街道名册"], ["名称", "编码", "备注"], ["第一", "a-1", None], [None, None, None],
                   [None, 7.0, "有备注"]], write_only=write_only)

    rows = list(sheet_rows(open_workbook(source), "表", COLUMNS))

    assert [(row.number, row.cells) for row in rows] == [
        (3, {"code": "a-1", "name": "第一", "note": None}),
        (5, {"code": 7, "name": None, "note": "有备注"}),
    ]


def test_a_missing_sheet_is_none_and_a_missing_column_names_the_sheet():
    book = open_workbook(xlsx([["编码", "备注"], ["a", "b"]]))

    assert sheet_rows(book, "别的表", COLUMNS) is None
    with pytest.raises(ImportFileError, match="^表: "):
        sheet_rows(book, "表", COLUMNS)


def test_a_file_that_is_not_a_workbook_is_refused():
    with pytest.raises(ImportFileError):
        open_workbook(io.BytesIO(b"PK\x03\x04 not really a zip"))
