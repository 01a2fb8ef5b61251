"""A dashboard's tables as one .xlsx workbook, a sheet per table, as the page shows them.

Rates are numbers formatted as percentages (so they can be summed and charted);
callers' phones are masked and names shortened to the family name, as in the case
exports: a file leaves the portal.
"""

from __future__ import annotations

import io
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cases import rates
from cases.models import Case
from cases.views.exports import safe

from . import presentation
from .sections import Section
from .selectors import Dashboard

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(value: object) -> object:
    return safe(value) if isinstance(value, str) else value


def _rate(sheet: WriteOnlyWorksheet, value, fmt: str = "0.0%") -> WriteOnlyCell | str:
    if value is None:
        return presentation.DASH
    cell = WriteOnlyCell(sheet, value=float(value))
    cell.number_format = fmt
    return cell


def _sheet(book: Workbook, title: str, header: list[str]) -> WriteOnlyWorksheet:
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    return sheet


def _assessment(book: Workbook, board: Dashboard) -> None:
    sheet = book.create_sheet(title=_("Assessment")[:31])
    state = _("frozen") if board.frozen else _("provisional")
    sheet.append([_text(board.unit.name), rates.month_label(board.month), state])
    sheet.append([
        _("Rank"), _("Unit"), _("Cases counted"), _("Response rate"), _("Resolution rate"),
        _("Satisfaction rate"), _("Composite score"), _("Completion rate"), _("Lowest"), _("Open"), _("Overdue"),
        _("Under supervision"),
    ])
    for row in [presentation.own_row(board), *presentation.ranking_rows(board)]:
        score, work = row.score, row.work
        sheet.append([
            row.rank, _text(row.unit.name), score.dispatched,
            _rate(sheet, score.response_rate), _rate(sheet, score.resolution_rate),
            _rate(sheet, score.satisfaction_rate), _rate(sheet, score.composite, "0.00"),
            _rate(sheet, score.completion_rate), _("yes") if score.lowest else "", work.open, work.overdue, work.supervised,
        ])
    sheet.append([])
    sheet.append([str(presentation.COMPLETION_HELP)])


def _counts(book: Workbook, title: str, header: list[str], rows) -> None:
    sheet = _sheet(book, title, header)
    for row in rows:
        sheet.append([_text(row.label), row.count])


def _cases(book: Workbook, title: str, cases: list[Case]) -> None:
    sheet = _sheet(book, title, [
        _("Tracking code"), _("Summary"), _("Category"), _("Place"), _("Handling unit"), _("Status"),
        _("Received"), _("Resolution due"), _("Caller"), _("Phone"),
    ])
    for case in cases:
        sheet.append([_text(value) for value in (
            case.code, case.title, case.category.name, case.location_unit.name, case.unit.name,
            case.get_status_display(), _local(case.received_at), _local(case.resolve_due_at),
            presentation.short_name(case.resident_name), case.masked_phone,
        )])


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _trend(book: Workbook, board: Dashboard) -> None:
    sheet = _sheet(book, _("Trend"), [
        _("Month"), _("Frozen"), _("Cases counted"), _("Response rate"), _("Resolution rate"),
        _("Satisfaction rate"), _("Composite score"), _("Completion rate"),
    ])
    for score in board.trend.unit:
        sheet.append([
            rates.month_label(score.month), _("yes") if score.month in board.trend.frozen else "",
            score.dispatched, _rate(sheet, score.response_rate), _rate(sheet, score.resolution_rate),
            _rate(sheet, score.satisfaction_rate), _rate(sheet, score.composite, "0.00"),
            _rate(sheet, score.completion_rate),
        ])


def _hotspots(book: Workbook, board: Dashboard) -> None:
    sheet = _sheet(book, _("Hotspots"), [_("Place"), _("Building"), _("Category"), _("Cases")])
    for row in presentation.hotspot_rows(board):
        sheet.append([_text(row.place), _text(row.building), _text(row.category), row.count])


def _sections(book: Workbook, sections: list[Section]) -> None:
    for section in sections:
        sheet = _sheet(book, str(section.title), [_("Figure"), _("Value")])
        for figure in section.figures:
            sheet.append([_text(str(figure.label)), _text(figure.value)])
        if section.rows:
            sheet.append([])
            sheet.append([str(header) for header in section.headers])
            for row in section.rows:
                sheet.append([_text(str(cell)) if isinstance(cell, str) else cell for cell in row])


def workbook(board: Dashboard, sections: list[Section]) -> Workbook:
    book = Workbook(write_only=True)
    _assessment(book, board)
    _counts(book, _("Work"), [_("Figure"), _("Cases")], presentation.work_tiles(board.unit, board.work[board.unit.pk]))
    _counts(book, _("By day"), [_("Day"), _("Cases received")], presentation.day_rows(board))
    _counts(book, _("By category"), [_("Category"), _("Cases received")], presentation.category_rows(board))
    _cases(book, _("Oldest overdue"), board.oldest_overdue)
    _trend(book, board)
    if board.hotspots:
        _hotspots(book, board)
    if board.worker is not None:
        _cases(book, _("Due today"), board.worker.due_today)
        _cases(book, _("My cases"), board.worker.my_queue)
        _counts(book, _("Buildings"), [_("Building"), _("Cases received")], presentation.building_rows(board))
    _sections(book, sections)
    return book


def xlsx_response(board: Dashboard, sections: list[Section]) -> HttpResponse:
    buffer = io.BytesIO()  # a dashboard is a few hundred rows at most
    workbook(board, sections).save(buffer)
    name = f"dashboard-{board.unit.code}-{rates.month_label(board.month)}.xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
