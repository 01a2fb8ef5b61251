"""Roster import: a community's volunteer list from a spreadsheet, read → validate → commit.

The file is CSV (UTF-8 or GBK) or .xlsx with the Chinese headers in ``COLUMNS`` (their order
does not matter). Files are read with the shared reader (``communities.tabular``); every
row is validated before anything is written, and one bad row imports nothing. A mobile
number already on a roster is skipped as "already registered", so the same file can be
uploaded twice safely.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.imports import parse_datetime
from communities.tabular import ImportFileError  # noqa: F401  (re-exported: the roster views catch it)
from communities.tabular import MAX_FILE_SIZE, Column, RawRow, RowError, RowRejected, commit_all, read_keyed_table
from communities.tabular import Invalid as _Invalid
from communities.tabular import text as _text
from communities.models import Building, Unit, path_within
from communities.phones import MOBILE_RE, mask_phone, normalise_phone
from communities.selectors import in_subtree

from .models import Skill, Team, Volunteer, reach_path

MAX_ROWS = 1000  # adding a volunteer costs ~7 queries (4 s per 1000 rows on SQLite, 10 s on PostgreSQL)
LIST_SEPARATORS = re.compile(r"[、,，;；/／\s]+")
YES = {"是", "党员", "中共党员", "y", "yes", "1", "true", "√"}
NO = {"否", "不是", "非党员", "群众", "n", "no", "0", "false", ""}


COLUMNS: list[Column] = [
    Column("name", "姓名", True, _("The volunteer's name."), "杜维臣"),
    Column("phone", "手机号码", True, _("Mainland mobile number; a number already on a roster is skipped."),
           "13812345678"),
    Column("unit", "所属社区/网格", True,
           _("Code or name of the community or grid where the volunteer lives; it must lie in your area."),
           "xc-3-g1"),
    Column("building", "楼栋", False, _("Building name in that community."), "星城二里41号楼"),
    Column("teams", "所在队伍", False, _("Team names, separated by 、 (the teams must exist)."), "老工友志愿者服务队"),
    Column("skills", "技能", False, _("Skill names or codes, separated by 、."), "修暖气水阀、修自行车"),
    Column("party_member", "是否党员", False, _("是 or 否; empty means 否."), "是"),
    Column("party_since", "入党时间", False, _("Date the volunteer joined the party."), "1988-07-01"),
    Column("employer_party_org", "报到单位党组织", False,
           _("For in-service party members: the party organisation of their employer."), "燕山石化炼油厂党委"),
    Column("reported_on", "报到日期", False, _("When the in-service party member reported to the community."),
           "2024-03-05"),
    Column("availability", "服务时间", False, _("When the volunteer can help."), "工作日上午"),
    Column("note", "备注", False, _("Anything else."), ""),
]
HEADER_ALIASES = {
    "名字": "姓名", "手机": "手机号码", "手机号": "手机号码", "联系电话": "手机号码", "电话": "手机号码",
    "社区": "所属社区/网格", "所属社区": "所属社区/网格", "网格": "所属社区/网格", "所属网格": "所属社区/网格",
    "楼号": "楼栋", "楼栋号": "楼栋", "住址楼栋": "楼栋", "队伍": "所在队伍", "志愿队伍": "所在队伍",
    "特长": "技能", "党员": "是否党员", "政治面貌": "是否党员", "报到单位": "报到单位党组织",
}


@dataclass
class ValidRow:
    number: int
    fields: dict
    skills: list[Skill]
    teams: list[Team]
    volunteer: Volunteer | None = None

    @property
    def name(self) -> str:
        return self.fields["name"]

    @property
    def unit(self) -> Unit:
        return self.fields["unit"]


@dataclass
class ImportResult:
    rows: list[ValidRow] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, masked phone) already on a roster
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# ---------------------------------------------------------------- reading


def read_table(upload, *, max_rows: int = MAX_ROWS, max_size: int = MAX_FILE_SIZE) -> list[RawRow]:
    """The roster's rows keyed by column key (the header row holds at least the name and phone headers)."""
    return read_keyed_table(upload, COLUMNS, HEADER_ALIASES, max_rows=max_rows, max_size=max_size, anchors=2)


# ---------------------------------------------------------------- validating


def _items(text: str) -> list[str]:
    return [item for item in LIST_SEPARATORS.split(text) if item]


class _Lookups:
    """Units, buildings, teams, skills and known numbers for the whole file, in five queries."""

    def __init__(self, rows: list[RawRow], user) -> None:
        values = {key: {_text(row.cells.get(key)) for row in rows} - {""} for key in ("unit", "building", "teams")}
        self.user = user
        units = values["unit"]
        self.units = list(
            Unit.objects.filter(level__in=[Unit.Level.COMMUNITY, Unit.Level.GRID])
            .filter(Q(code__in={v.lower() for v in units}) | Q(name__in=units))
        )
        self.buildings = list(Building.objects.select_related("unit").filter(name__in=values["building"]))
        team_names = {name for text in values["teams"] for name in _items(text)}
        self.teams = list(Team.objects.select_related("unit").filter(name__in=team_names))
        self.skills = list(Skill.objects.all())
        # Mobile numbers only: an anonymised volunteer's placeholder is never one, so it never matches.
        phones = {phone for row in rows if MOBILE_RE.match(phone := normalise_phone(_text(row.cells.get("phone"))))}
        self.known_phones = set(Volunteer.objects.filter(phone__in=phones).values_list("phone", flat=True))

    def _in_area(self, path: str) -> bool:
        return in_subtree(self.user, path)

    def unit(self, value: str) -> Unit:
        matches = [u for u in self.units if u.code == value.lower()] or [u for u in self.units if u.name == value]
        if len(matches) > 1:
            matches = [u for u in matches if self._in_area(u.path)] or matches
        if not matches:
            raise _Invalid(_("No community or grid with this code or name."))
        if len(matches) > 1:
            raise _Invalid(_("Several units have this name: use the unit code."))
        if not self._in_area(matches[0].path):
            raise _Invalid(_("This unit is outside your area: you may import only for units under your posts."))
        return matches[0]

    def building(self, value: str, unit: Unit) -> Building:
        community = reach_path(unit.path, unit.level)
        matches = [b for b in self.buildings if b.name == value and path_within(b.unit.path, community)]
        if not matches:
            raise _Invalid(_("No building of this name in the volunteer's community."))
        return matches[0]

    def teams_of(self, text: str, unit: Unit) -> list[Team]:
        found = []
        for name in _items(text):
            # The team of the nearest unit above (or at) the volunteer's home that bears this name.
            matches = [t for t in self.teams if t.name == name and path_within(unit.path, reach_path(t.unit.path, t.unit.level))]
            matches = [t for t in matches if self._in_area(t.unit.path)]
            if not matches:
                raise _Invalid(_("No team “%(name)s” in the volunteer's area.") % {"name": name})
            found.append(max(matches, key=lambda t: len(t.unit.path)))
        return found

    def skills_of(self, text: str) -> list[Skill]:
        found = []
        for item in _items(text):
            match = next((s for s in self.skills if item in (s.code, s.name) or s.name.startswith(item)), None)
            if match is None:
                names = "、".join(s.name for s in self.skills)
                raise _Invalid(_("Unknown skill “%(item)s”; use one of: %(names)s") % {"item": item, "names": names})
            found.append(match)
        return found


def _error(raw: RawRow, key: str, message) -> RowError:
    column = next(col for col in COLUMNS if col.key == key)
    return RowError(raw.number, column.header, str(message), _text(raw.cells.get(key)))


def _date(value: Any) -> date | None:
    if _text(value) == "":
        return None
    return parse_datetime(value).date()


def _yes_no(text: str) -> bool:
    lowered = text.lower()
    if lowered in YES or ("党员" in text and "非" not in text):
        return True
    if lowered in NO:
        return False
    raise _Invalid(_("Write 是 or 否."))


def _phone(text: str) -> str:
    phone = normalise_phone(text)
    if not MOBILE_RE.match(phone):
        raise _Invalid(_("Not a mainland mobile number (11 digits starting with 1)."))
    return phone


def _check(raw: RawRow, lookups: _Lookups) -> tuple[list[RowError], dict]:
    cells, errors, values = raw.cells, [], {}

    def attempt(key: str, parse) -> None:
        try:
            values[key] = parse(cells.get(key))
        except _Invalid as invalid:
            errors.append(_error(raw, key, invalid.message))

    for key in ("name", "phone", "unit"):
        if _text(cells.get(key)) == "":
            errors.append(_error(raw, key, _("This column is required.")))
    attempt("name", lambda v: _limited(_text(v), 50))
    attempt("phone", lambda v: _phone(_text(v)) if _text(v) else "")
    attempt("unit", lambda v: lookups.unit(_text(v)) if _text(v) else None)
    for key in ("party_since", "reported_on"):
        attempt(key, _date)
    attempt("party_member", lambda v: _yes_no(_text(v)))
    attempt("skills", lambda v: lookups.skills_of(_text(v)))
    for key, limit in (("employer_party_org", 100), ("availability", 200), ("note", 1000)):
        attempt(key, lambda v, limit=limit: _limited(_text(v), limit))
    unit = values.get("unit")
    if unit is not None:
        attempt("building", lambda v: lookups.building(_text(v), unit) if _text(v) else None)
        attempt("teams", lambda v: lookups.teams_of(_text(v), unit))
    return errors, values


def _limited(text: str, limit: int) -> str:
    if len(text) > limit:
        raise _Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return text


def validate(rows: list[RawRow], *, user) -> ImportResult:
    lookups = _Lookups(rows, user)
    result, seen = ImportResult(), {}
    for raw in rows:
        errors, values = _check(raw, lookups)
        phone = values.get("phone")
        if phone and phone in seen:
            errors.append(_error(raw, "phone", _("The same number is on row %(row)d.") % {"row": seen[phone]}))
        if errors:
            result.errors.extend(errors)
            continue
        seen[phone] = raw.number
        if phone in lookups.known_phones:
            result.skipped.append((raw.number, mask_phone(phone)))
            continue
        skills, teams = values.pop("skills"), values.pop("teams")
        result.rows.append(ValidRow(number=raw.number, fields=values, skills=skills, teams=teams))
    return result


# ---------------------------------------------------------------- committing


def commit(result: ImportResult, *, by) -> ImportResult:
    """Add every valid row's volunteer in one transaction; on any failure nothing is kept."""
    from . import services

    if result.errors:
        raise ValueError("A result with errors cannot be committed.")

    def write(row: ValidRow) -> None:
        row.volunteer = _add(services, row, by=by)

    error = commit_all(result.rows, write)
    if error is not None:
        for row in result.rows:
            row.volunteer = None
        result.errors.append(error)
        return result
    result.committed = True
    return result


def _add(services, row: ValidRow, *, by) -> Volunteer:
    try:
        return services.add_volunteer(
            by=by, source=Volunteer.Source.IMPORT, skills=row.skills, teams=row.teams, **row.fields
        )
    except ValidationError as error:
        raise RowRejected(RowError(row.number, "", " ".join(error.messages), row.name)) from error
    except services.IllegalTransition as error:
        raise RowRejected(RowError(row.number, "", str(error.message), row.name)) from error


def import_file(upload, *, user, dry_run: bool = False) -> ImportResult:
    result = validate(read_table(upload), user=user)
    if dry_run or result.errors:
        return result
    return commit(result, by=user)


# ---------------------------------------------------------------- the blank template


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in COLUMNS])
    writer.writerow([column.example for column in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "志愿者名册"
    sheet.append([column.header for column in COLUMNS])
    sheet.append([column.example for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = 18
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
