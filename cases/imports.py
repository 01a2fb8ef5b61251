"""Batch import of 12345 hotline dispatch files: read → validate → commit.

A file is CSV (UTF-8 with or without BOM, or GBK/GB18030 as Chinese office software
saves it) or .xlsx. Its header row carries the Chinese column names the hotline
exports (``COLUMNS``). Every row is validated before anything is written; a file with
one bad row imports nothing. Rows whose order number already exists are skipped as
"already imported", so running the same file twice creates nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Unit
from communities.phones import LANDLINE_RE, MOBILE_RE, normalise_phone
from communities.selectors import in_subtree
from communities.tabular import (  # noqa: F401  (re-exported: the shared reader, as the imports used it)
    HEADER_SEARCH_ROWS, MAX_FILE_SIZE, Column, ImportFileError, RawRow, RowError, read_keyed_table,
)
from communities.tabular import Invalid as _Invalid
from communities.tabular import text as _text

from .models import Case, Category, Urgency

# The hotline's clock: times in the file without an offset are Beijing time.
HOTLINE_TZ = ZoneInfo("Asia/Shanghai")
MAX_ROWS = 1000  # intake costs ~10 queries a row: keep a web request well under a minute


COLUMNS: list[Column] = [
    Column("order_no", "工单编号", True, _("The 12345 order number; a number already imported is skipped."),
           "2026103100123"),
    Column("received_at", "受理时间", True, _("When the hotline received the call (Beijing time)."),
           "2026-10-31 09:30"),
    Column("category", "诉求类别", True, _("Category name or code, e.g. a name from the category list."),
           "楼道照明"),
    Column("kind", "诉求类型", False, _("咨询, 求助, 投诉, 举报 or 建议; empty means 求助."), "求助"),
    Column("urgency", "紧急程度", False,
           _("紧急, 加急, 一般 or 复杂; empty means the category's default."), "一般"),
    Column("title", "标题", False, _("Short summary; empty means the start of the request text."),
           "楼道灯不亮"),
    Column("description", "诉求内容", True, _("What the caller said."), "41号楼5单元楼道灯坏了一周"),
    Column("address", "诉求地址", False, _("Where it happened, as the caller said it."), "星城二里41号楼5单元"),
    Column("unit", "所属街道/社区", True,
           _("Code or name of the street, community or grid; it must lie in your area. "
             "“Street/community” names are accepted too."), "xc-3"),
    Column("resident_name", "来电人", False, _("The caller's name."), "杨女士"),
    Column("resident_phone", "联系电话", False, _("Mobile or landline number."), "13812341234"),
    Column("contact_due_at", "首次联系时限", False,
           _("First-contact deadline set by the hotline; empty means the category's deadline."),
           "2026-11-01 09:30"),
    Column("resolve_due_at", "办结时限", False,
           _("Resolution deadline set by the hotline; a date alone means the end of that day."),
           "2026-11-07"),
]
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}
HEADER_ALIASES = {
    "工单号": "工单编号", "受理日期": "受理时间", "所属社区": "所属街道/社区", "所属街道": "所属街道/社区",
    "所属街道社区": "所属街道/社区", "承办单位": "所属街道/社区", "反映人": "来电人",
    "来电号码": "联系电话", "联系方式": "联系电话",
}
DATE_KEYS = {"received_at", "contact_due_at", "resolve_due_at"}

KINDS = {
    "咨询": Case.Kind.CONSULTATION, "求助": Case.Kind.HELP, "投诉": Case.Kind.COMPLAINT,
    "举报": Case.Kind.REPORT, "建议": Case.Kind.SUGGESTION, **{value: value for value in Case.Kind.values},
}
URGENCIES = {
    "紧急": Urgency.EMERGENCY, "特急": Urgency.EMERGENCY, "加急": Urgency.URGENT, "急": Urgency.URGENT,
    "一般": Urgency.ORDINARY, "普通": Urgency.ORDINARY, "复杂": Urgency.COMPLEX, "疑难": Urgency.COMPLEX,
    **{value: value for value in Urgency.values},
}
DATE_ONLY_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
DATETIME_FORMATS = [
    f"{day}{sep}{clock}"
    for day in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
    for sep in (" ", "T", "")
    for clock in ("%H:%M:%S", "%H:%M")
] + ["%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M"]
ORDER_NO = re.compile(r"^\S{1,40}$")


@dataclass
class ValidRow:
    number: int
    order_no: str
    received_at: datetime
    category: Category
    kind: str
    urgency: str | None
    title: str
    description: str
    address: str
    unit: Unit
    resident_name: str
    resident_phone: str
    contact_due_at: datetime | None
    resolve_due_at: datetime | None
    case: Case | None = None


@dataclass
class ImportResult:
    rows: list[ValidRow] = field(default_factory=list)  # to import, or imported once committed
    skipped: list[ValidRow] = field(default_factory=list)  # already imported earlier
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- reading


def read_table(upload, *, max_rows: int = MAX_ROWS, max_size: int = MAX_FILE_SIZE) -> list[RawRow]:
    """The data rows of an uploaded 12345 file, keyed by column key."""
    return read_keyed_table(upload, COLUMNS, HEADER_ALIASES, max_rows=max_rows, max_size=max_size)


# ---------------------------------------------------------------- validating


def parse_datetime(value: Any, *, end_of_day: bool = False) -> datetime:
    """A cell as an aware datetime; naive values are Beijing time."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 20000 < value < 80000:
        from openpyxl.utils.datetime import from_excel

        value = from_excel(value)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time.max.replace(microsecond=0) if end_of_day else time.min)
    else:
        parsed = _parse_datetime_text(_text(value), end_of_day=end_of_day)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=HOTLINE_TZ)
    return parsed


def _parse_datetime_text(text: str, *, end_of_day: bool) -> datetime:
    text = re.sub(r"\s+", " ", text.replace("：", ":")).strip()
    for fmt in DATE_ONLY_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return datetime.combine(day, time(23, 59, 59) if end_of_day else time.min)
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid(_("Not a date and time; write e.g. 2026-10-31 09:30.")) from None


def _phone(text: str) -> str:
    digits = normalise_phone(text)
    if not (MOBILE_RE.match(digits) or LANDLINE_RE.match(digits)):
        raise _Invalid(_("Not a phone number: 11 digits for a mobile, or a landline with its area code."))
    return digits


class _Lookups:
    """Categories, units and known order numbers for a whole file, in three queries."""

    def __init__(self, rows: list[RawRow], user) -> None:
        categories = {_text(row.cells.get("category")) for row in rows} - {""}
        category_names = categories | {_last_part(value) for value in categories}
        self.categories = list(
            Category.objects.select_related("parent").filter(
                Q(code__in={v.lower() for v in categories}) | Q(name__in=category_names)
            )
        )
        units = {_text(row.cells.get("unit")) for row in rows} - {""}
        unit_names = units | {_last_part(value) for value in units}
        self.units = list(Unit.objects.filter(Q(code__in={v.lower() for v in units}) | Q(name__in=unit_names)))
        order_nos = {_text(row.cells.get("order_no")) for row in rows} - {""}
        self.existing = set(
            Case.objects.filter(hotline_order_no__in=order_nos).values_list("hotline_order_no", flat=True)
        )
        self.user = user

    def category(self, value: str) -> Category:
        by_code = [c for c in self.categories if c.code == value.lower()]
        if by_code:
            return by_code[0]
        parts = _parts(value)
        matches = [c for c in self.categories if c.name in (value, parts[-1])]
        if len(matches) > 1 and len(parts) > 1:
            matches = [c for c in matches if c.parent and c.parent.name == parts[-2]] or matches
        if not matches:
            raise _Invalid(_("No category with this name or code."))
        if len(matches) > 1:
            raise _Invalid(_("Several categories have this name: use the category code."))
        return matches[0]

    def unit(self, value: str) -> Unit:
        by_code = [u for u in self.units if u.code == value.lower()]
        parts = _parts(value)
        matches = by_code or [u for u in self.units if u.name in (value, parts[-1])]
        if len(matches) > 1 and len(parts) > 1:
            parents = {u.pk for u in self.units if u.name == parts[-2]}
            matches = [u for u in matches if u.parent_id in parents] or matches
        if len(matches) > 1:
            matches = [u for u in matches if self._in_area(u)] or matches
        if not matches:
            raise _Invalid(_("No street, community or grid with this code or name."))
        if len(matches) > 1:
            raise _Invalid(_("Several units have this name: use the unit code."))
        if not self._in_area(matches[0]):
            raise _Invalid(_("This unit is outside your area: you may import only for units under your posts."))
        return matches[0]

    def _in_area(self, unit: Unit) -> bool:
        return in_subtree(self.user, unit.path)


def _parts(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[/／>＞]", value) if part.strip()] or [value]


def _last_part(value: str) -> str:
    return _parts(value)[-1]


def validate(rows: list[RawRow], *, user) -> ImportResult:
    """Check every row; nothing is written. Queries: a fixed handful whatever the rows."""
    lookups = _Lookups(rows, user)
    result = ImportResult()
    first_row_of: dict[str, int] = {}
    for raw in rows:
        errors, valid = _validate_row(raw, lookups)
        if valid is not None:
            earlier = first_row_of.setdefault(valid.order_no, raw.number)
            if earlier != raw.number:
                errors.append(_error(raw, "order_no", _("The same order number is already on row %(row)d.")
                                     % {"row": earlier}))
        result.errors.extend(errors)
        if errors or valid is None:
            continue
        (result.skipped if valid.order_no in lookups.existing else result.rows).append(valid)
    return result


def _error(raw: RawRow, key: str, message) -> RowError:
    return RowError(raw.number, COLUMN_BY_KEY[key].header, str(message), _text(raw.cells.get(key))[:60])


FIELD_CHECKS = {
    "order_no": lambda text, lookups: _check_order_no(text),
    "received_at": lambda value, lookups: _check_received(value),
    "category": lambda text, lookups: lookups.category(text),
    "kind": lambda text, lookups: _choice(text, KINDS, default=Case.Kind.HELP),
    "urgency": lambda text, lookups: _choice(text, URGENCIES, default=None),
    "title": lambda text, lookups: _check_length(text, 120),
    "description": lambda text, lookups: text,
    "address": lambda text, lookups: _check_length(text, 200),
    "unit": lambda text, lookups: lookups.unit(text),
    "resident_name": lambda text, lookups: _check_length(text, 50),
    "resident_phone": lambda text, lookups: _phone(text) if text else "",
    "contact_due_at": lambda value, lookups: parse_datetime(value),
    "resolve_due_at": lambda value, lookups: parse_datetime(value, end_of_day=True),
}


EMPTY = {"received_at": None, "contact_due_at": None, "resolve_due_at": None, "kind": Case.Kind.HELP,
         "urgency": None}


def _validate_row(raw: RawRow, lookups: _Lookups) -> tuple[list[RowError], ValidRow | None]:
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for column in COLUMNS:
        cell = raw.cells.get(column.key)
        text = _text(cell)
        if not text:
            if column.required:
                errors.append(_error(raw, column.key, _("This column is required.")))
            values[column.key] = EMPTY.get(column.key, "")
            continue
        try:
            values[column.key] = FIELD_CHECKS[column.key](cell if column.key in DATE_KEYS else text, lookups)
        except _Invalid as invalid:
            errors.append(_error(raw, column.key, invalid.message))
    if not errors:
        errors.extend(_check_deadlines(raw, values))
    if errors:
        return errors, None
    return [], _valid_row(raw.number, values)


def _valid_row(number: int, values: dict[str, Any]) -> ValidRow:
    description = values["description"]
    title = values["title"] or _summary(description)
    return ValidRow(
        number=number, order_no=values["order_no"], received_at=values["received_at"],
        category=values["category"], kind=values["kind"], urgency=values["urgency"], title=title,
        description=description, address=values["address"], unit=values["unit"],
        resident_name=values["resident_name"], resident_phone=values["resident_phone"],
        contact_due_at=values["contact_due_at"], resolve_due_at=values["resolve_due_at"],
    )


def _summary(description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line if len(first_line) <= 40 else first_line[:39] + "…"


def _check_order_no(text: str) -> str:
    if not ORDER_NO.match(text):
        raise _Invalid(_("An order number has at most 40 characters and no spaces."))
    return text


def _check_received(value: Any) -> datetime:
    received = parse_datetime(value)
    if received > timezone.now() + timedelta(hours=1):
        raise _Invalid(_("This time lies in the future."))
    return received


def _check_length(text: str, limit: int) -> str:
    if len(text) > limit:
        raise _Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return text


def _choice(text: str, choices: dict[str, str], *, default: str | None) -> str | None:
    if not text:
        return default
    if text not in choices:
        names = "、".join(key for key in choices if not key.isascii())
        raise _Invalid(_("Unknown value; use one of: %(values)s") % {"values": names})
    return choices[text]


def _check_deadlines(raw: RawRow, values: dict[str, Any]) -> list[RowError]:
    errors = []
    received, contact, resolve = values["received_at"], values["contact_due_at"], values["resolve_due_at"]
    if contact and contact <= received:
        errors.append(_error(raw, "contact_due_at", _("The deadline must come after the time received.")))
    if resolve and resolve <= received:
        errors.append(_error(raw, "resolve_due_at", _("The deadline must come after the time received.")))
    if contact and resolve and resolve < contact:
        errors.append(_error(raw, "resolve_due_at", _("The resolution deadline comes before the contact deadline.")))
    return errors


# ---------------------------------------------------------------- committing


class _RowRejected(Exception):
    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def commit(result: ImportResult, *, by) -> ImportResult:
    """Create every valid row's case in one transaction; on any failure nothing is kept."""
    from . import services

    if result.errors:
        raise ValueError("A result with errors cannot be committed.")
    try:
        with transaction.atomic():
            _skip_imported_meanwhile(result)
            for row in result.rows:
                row.case = _intake(services, row, by=by)
    except _RowRejected as rejected:
        for row in result.rows:
            row.case = None
        result.errors.append(rejected.error)
        return result
    result.committed = True
    return result


def _skip_imported_meanwhile(result: ImportResult) -> None:
    numbers = [row.order_no for row in result.rows]
    existing = set(Case.objects.filter(hotline_order_no__in=numbers).values_list("hotline_order_no", flat=True))
    if existing:
        result.skipped.extend(row for row in result.rows if row.order_no in existing)
        result.rows = [row for row in result.rows if row.order_no not in existing]


def _intake(services, row: ValidRow, *, by) -> Case:
    try:
        return services.intake(
            source=Case.Source.HOTLINE, category=row.category, title=row.title, description=row.description,
            location_unit=row.unit, kind=row.kind, urgency=row.urgency, address=row.address,
            resident_name=row.resident_name, resident_phone=row.resident_phone,
            received_at=row.received_at, hotline_order_no=row.order_no,
            contact_due_at=row.contact_due_at, resolve_due_at=row.resolve_due_at,
            by=by, actor_label="12345",
        )
    except ValidationError as error:
        raise _RowRejected(RowError(row.number, "", " ".join(error.messages), row.order_no)) from error


def import_file(upload, *, user, dry_run: bool = False, **limits) -> ImportResult:
    """Read, validate and (unless ``dry_run`` or a row is bad) import a dispatch file.

    ``limits``: ``max_rows``, ``max_size`` for ``read_table`` (the command line allows more).
    """
    result = validate(read_table(upload, **limits), user=user)
    if dry_run or result.errors:
        return result
    return commit(result, by=user)


# ---------------------------------------------------------------- the blank template


def template_csv() -> bytes:
    """The header row as UTF-8 with a BOM, so spreadsheet software reads the Chinese right."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "12345"
    sheet.append([column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 18
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
