"""Case lists as CSV (streamed) and .xlsx (write-only workbook): one query whatever the rows.

Phones are always masked and callers' names shortened to the family name: an export
leaves the portal, so it carries no more personal data than a queue row shows to
everyone in the unit.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Case
from ..queries_staff import deadline_of

CHUNK = 2000
# A cell starting with one of these is a formula to Excel/WPS: neutralise it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def headers() -> list[str]:
    return [
        _("Tracking code"), _("12345 order number"), _("Received"), _("Channel"), _("Type"),
        _("Category"), _("Urgency"), _("Summary"), _("Place"), _("Building"), _("Address"),
        _("Handling unit"), _("Status"), _("First contact due"), _("Resolution due"), _("Deadline"),
        _("Resolved on"), _("Under supervision"), _("Caller"), _("Phone"),
    ]


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _short_name(name: str) -> str:
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


class Labels:
    """Choice labels translated once per export (``get_FOO_display`` per row costs ~1 ms)."""

    def __init__(self) -> None:
        def plain(choices) -> dict[str, str]:
            return {value: str(label) for value, label in choices}

        self.source = plain(Case.Source.choices)
        self.kind = plain(Case.Kind.choices)
        self.urgency = plain(Case._meta.get_field("urgency").choices)
        self.status = plain(Case.Status.choices)
        self.yes = str(_("yes"))
        self.deadline: dict[str, str] = {}

    def deadline_of(self, case: Case, now: datetime) -> str:
        deadline = deadline_of(case, now)
        if deadline.state not in self.deadline:
            self.deadline[deadline.state] = str(deadline.label)
        return self.deadline[deadline.state]


def row(case: Case, now: datetime, labels: Labels) -> list[str]:
    return [
        case.code, case.hotline_order_no or "", _local(case.received_at), labels.source.get(case.source, case.source),
        labels.kind.get(case.kind, case.kind), case.category.name, labels.urgency.get(case.urgency, case.urgency),
        case.title, case.location_unit.name, case.building.name if case.building_id else "", case.address,
        case.unit.name, labels.status.get(case.status, case.status), _local(case.contact_due_at),
        _local(case.resolve_due_at), labels.deadline_of(case, now),
        case.resolved_on.isoformat() if case.resolved_on else "", labels.yes if case.is_supervised else "",
        _short_name(case.resident_name), case.masked_phone,
    ]


def safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def rows(cases: QuerySet[Case]) -> Iterator[list[str]]:
    now, labels = timezone.now(), Labels()
    yield headers()
    for case in cases.iterator(chunk_size=CHUNK):
        yield [safe(value) for value in row(case, now, labels)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(lines: Iterable[list[str]]) -> Iterator[str]:
    yield "\ufeff"  # a BOM, so Excel and WPS open the Chinese text as UTF-8
    writer = csv.writer(_Echo())
    for line in lines:
        yield writer.writerow(line)


def _filename(queue: str, ext: str) -> str:
    return f"cases-{queue}-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


def csv_response(cases: QuerySet[Case], *, queue: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(rows(cases)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(queue, "csv")}"'
    return response


def xlsx_response(cases: QuerySet[Case], *, queue: str) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Cases"))[:31])
    for line in rows(cases):
        sheet.append(line)
    # Spooled: small exports stay in memory, large ones go to a temporary file, never all in RAM.
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=_filename(queue, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
