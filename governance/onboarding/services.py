"""Import an area workbook: ``import_area(source, user=..., dry_run=...)``.

All or nothing: the whole import runs in one transaction that is rolled back when any row is
refused (or for a dry run, which so reports exactly what a real run would create and update).
Sheets are read in ``SHEET_ORDER`` with openpyxl's streaming reader and written in batches
(``bulk_create``/``bulk_update``), so memory holds the keys seen so far, never the rows; the
tree itself (a few hundred units) is written unit by unit through the model, so a unit moved to
another parent takes its subtree along exactly as in the admin (``communities.services.move_unit``).

Keys: units and buildings by code, departments by name, partners by unit and name, stairwell units
by building and number, households by stairwell unit and door number, staff by user name (a post by
user, unit and role). A row equal to what is stored is left alone; nothing is ever deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from communities import identity
from communities import services as community_services
from communities.admin_scoping import administrable_users
from communities.models import (
    ROLE_LEVELS, Building, Department, Household, PartnerOrganisation, Portfolio, Post, Stairwell, Unit, code_validator,
)
from communities.phones import LANDLINE_RE, MASKED_RE, MOBILE_RE, mask_phone, mask_typed, normalise_phone
from communities.selectors import EVERYWHERE, in_subtree, subtree_paths
from communities.tabular import ImportFileError, Invalid, RawRow, RowError, open_workbook, sheet_rows, text

from ..models import CareNeed
from .workbook import (
    BUILDINGS, CARE_TAGS, COLUMNS, DEPARTMENTS, HOUSEHOLDS, LEVEL_NAMES, LEVELS, PARTNER_KINDS,
    PARTNERS, POSTS, ROLES, SHEET_ORDER, STAIRWELLS, TAG_ALIASES, TAG_SEPARATORS, UNITS, building_code,
)

BATCH = 2000
MAX_ERRORS = 1000  # listed; the rest are counted
MAX_CHANGES_SHOWN = 20  # per sheet, in a preview
HAND_TYPED = re.compile(r"^#\d+$")  # ``workbook.building_code`` of a building without a code
TWO_PLACES = Decimal("0.01")
DEPARTMENT_KINDS = [
    ("住建", Department.Kind.HOUSING), ("人社", Department.Kind.HUMAN_RESOURCES),
    ("房管", Department.Kind.HOUSING_ADMIN), ("市场监", Department.Kind.MARKET), ("教", Department.Kind.EDUCATION),
    ("生态", Department.Kind.ECOLOGY), ("环境", Department.Kind.ECOLOGY), ("城管", Department.Kind.URBAN),
    ("执法", Department.Kind.URBAN), ("派出所", Department.Kind.POLICE), ("公安", Department.Kind.POLICE),
    ("消防", Department.Kind.FIRE), ("民政", Department.Kind.CIVIL), ("交通", Department.Kind.TRANSPORT),
]
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class SheetCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Change:
    sheet: str
    row: int
    action: str  # CREATED or UPDATED
    summary: str  # personal data masked


@dataclass
class Account:
    username: str
    name: str
    link: str  # a one-time set-password address; shown once, never stored


@dataclass
class AreaReport:
    dry_run: bool
    counts: dict[str, SheetCounts] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    accounts: list[Account] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@dataclass
class _Unit:
    pk: int | None
    level: str
    path: str  # "" until written
    parent: str | None
    name: str
    in_file: bool = False


@dataclass
class _Building:
    pk: int | None
    unit: str  # unit code


def import_area(source, *, user=None, dry_run: bool = False, progress: Callable[[str, int], None] | None = None,
                link_base: str = "") -> AreaReport:
    """Import the workbook at ``source`` (a path or binary file). ``user`` None means the command
    line (the whole tree); otherwise rows outside the user's subtree are errors."""
    return _AreaImport(user=user, dry_run=dry_run, progress=progress, link_base=link_base).run(source)


def _batches(rows: Iterable[RawRow], size: int = BATCH) -> Iterator[list[RawRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _column(sheet: str, key: str) -> str:
    return next(column.header for column in COLUMNS[sheet] if column.key == key)


def _limited(value: str, limit: int) -> str:
    if len(value) > limit:
        raise Invalid(_("At most %(limit)d characters.") % {"limit": limit})
    return value


def _code(value: str) -> str:
    code = value.lower()
    try:
        code_validator(code)
    except ValidationError:
        raise Invalid(_("Use lower-case letters, digits and hyphens only.")) from None
    return _limited(code, 40)


def _number(value: str, *, low: int = 1, high: int = 32767) -> int:
    cleaned = value.removesuffix("单元").removesuffix("人").strip()
    try:
        number = int(cleaned)
    except ValueError:
        raise Invalid(_("Not a whole number.")) from None
    if not low <= number <= high:
        raise Invalid(_("Must lie between %(low)d and %(high)d.") % {"low": low, "high": high})
    return number


def _area(value: str) -> Decimal:
    try:
        area = Decimal(value.removesuffix("㎡").removesuffix("m²").strip())
    except InvalidOperation:
        raise Invalid(_("Not a number: write the floor area in m², e.g. 76.5.")) from None
    if not area.is_finite() or area < 0 or area >= 100000:
        raise Invalid(_("Not a number: write the floor area in m², e.g. 76.5.")) from None
    return area.quantize(TWO_PLACES)


def _floor(room: str) -> int:
    digits = re.match(r"^-?\d+", room)
    if digits and len(digits.group()) >= 3:
        return max(-99, min(999, int(digits.group()[:-2])))
    return 1


def _tags(value: str) -> list[str]:
    kinds = []
    for item in TAG_SEPARATORS.split(value):
        if not item:
            continue
        name = TAG_ALIASES.get(item, item)
        if name not in CARE_TAGS:
            raise Invalid(_("Unknown tag “%(item)s”; use one of: %(names)s") % {"item": item, "names": "、".join(CARE_TAGS)})
        if CARE_TAGS[name] not in kinds:
            kinds.append(CARE_TAGS[name])
    return kinds


def _household_phone(value: str) -> str:
    if MASKED_RE.match(value):
        return value  # checked against the stored number when the row is written
    digits = normalise_phone(value)
    if not (MOBILE_RE.match(digits) or LANDLINE_RE.match(digits)):
        raise Invalid(_("Not a phone number: 11 digits for a mobile, or a landline with its area code."))
    return digits


def _choice(value: str, choices: dict[str, str]) -> str:
    if value in choices:
        return choices[value]
    if value in choices.values():
        return value
    raise Invalid(_("Unknown value; use one of: %(values)s") % {"values": "、".join(choices)})


class _AreaImport:
    def __init__(self, *, user, dry_run: bool, progress, link_base: str) -> None:
        self.user = user
        self.roots = EVERYWHERE if user is None else subtree_paths(user)
        self.report = AreaReport(dry_run=dry_run)
        self.progress = progress or (lambda sheet, count: None)
        self.link_base = link_base
        self.units: dict[str, _Unit] = {}
        self.buildings: dict[str, _Building] = {}
        self.stairwells: dict[tuple[str, int], int | None] = {}
        self._actor = None
        self._shown: dict[str, int] = {}
        self._stairwells_loaded: set[int] = set()

    # ------------------------------------------------------------ bookkeeping

    @property
    def writing(self) -> bool:
        """Rows are written until the first error; after it the file is only checked."""
        return self.report.error_count == 0

    def error(self, sheet: str, raw: RawRow, key: str, message, value: str | None = None) -> None:
        self.report.error_count += 1
        if len(self.report.errors) < MAX_ERRORS:
            shown = text(raw.cells.get(key)) if value is None else value
            if key == "phone" and shown:
                shown = mask_typed(shown)
            self.report.errors.append(RowError(raw.number, _column(sheet, key) if key else "", str(message),
                                               shown[:60], sheet=sheet))

    def count(self, sheet: str, raw: RawRow, action: str, summary: str = "") -> None:
        counts = self.report.counts.setdefault(sheet, SheetCounts())
        setattr(counts, action, getattr(counts, action) + 1)
        if action != UNCHANGED and self._shown.get(sheet, 0) < MAX_CHANGES_SHOWN:
            self._shown[sheet] = self._shown.get(sheet, 0) + 1
            self.report.changes.append(Change(sheet, raw.number, action, summary))

    def seen(self, sheet: str, count: int) -> None:
        self.report.counts.setdefault(sheet, SheetCounts()).rows = count
        self.progress(sheet, count)

    def inside(self, path: str) -> bool:
        return self.roots is EVERYWHERE or (bool(path) and in_subtree(self.user, path))

    def parse(self, sheet: str, raw: RawRow, parsers: dict[str, Callable[[str], object]]) -> dict | None:
        """Each column through its parser; errors recorded; None when any column is refused."""
        values, ok = {}, True
        for column in COLUMNS[sheet]:
            if column.key not in parsers:
                continue
            value = text(raw.cells.get(column.key))
            if not value:
                if column.required:
                    self.error(sheet, raw, column.key, _("This column is required."))
                    ok = False
                values[column.key] = None
                continue
            try:
                values[column.key] = parsers[column.key](value)
            except Invalid as invalid:
                self.error(sheet, raw, column.key, invalid.message)
                ok = False
        return values if ok else None

    def unit_ref(self, sheet: str, raw: RawRow, key: str, code: str | None) -> _Unit | None:
        unit = self.units.get(code or "")
        if unit is None:
            self.error(sheet, raw, key, _("No unit with this code in the workbook or the portal."))
            return None
        if not self.unit_inside(code):
            self.error(sheet, raw, key, _("This unit is outside your area: you may import only for units under your posts."))
            return None
        return unit

    def unit_inside(self, code: str | None, _depth: int = 0) -> bool:
        """A stored unit by its path; a unit new in the file by its parent."""
        unit = self.units.get(code or "")
        if unit is None or _depth > 10:
            return False
        if unit.path and not (unit.in_file and unit.pk is None):
            return self.inside(unit.path)
        return self.roots is EVERYWHERE or self.unit_inside(unit.parent, _depth + 1)

    # ------------------------------------------------------------ the run

    def run(self, source) -> AreaReport:
        workbook = open_workbook(source)
        try:
            present = [name for name in SHEET_ORDER if name in workbook.sheetnames]
            if not present:
                raise ImportFileError(_("The workbook has none of the sheets %(sheets)s.") % {"sheets": "、".join(SHEET_ORDER)})
            readers = {name: sheet_rows(workbook, name, COLUMNS[name]) for name in present}
            self._load_units()
            try:
                with transaction.atomic():
                    steps = {UNITS: self._units, DEPARTMENTS: self._departments, PARTNERS: self._partners,
                             BUILDINGS: self._buildings, STAIRWELLS: self._stairwells, HOUSEHOLDS: self._households,
                             POSTS: self._posts}
                    for name in present:
                        steps[name](readers[name])
                    # Units, departments and posts are written in bulk, without signals: who is asking changes.
                    identity.invalidate()
                    if not self.report.ok or self.report.dry_run:
                        transaction.set_rollback(True)
            except IntegrityError as error:  # a concurrent change; nothing was kept
                self.report.error_count += 1
                self.report.errors.append(RowError(0, "", _("The database refused the import: %(error)s") % {"error": error}))
        finally:
            workbook.close()
        self.report.committed = self.report.ok and not self.report.dry_run
        if not self.report.committed:
            self.report.accounts = []
        return self.report

    def _load_units(self) -> None:
        for pk, code, level, path, parent, name in Unit.objects.values_list(
            "pk", "code", "level", "path", "parent__code", "name"
        ):
            self.units[code] = _Unit(pk, level, path, parent, name)

    # ------------------------------------------------------------ 单位

    def _units(self, rows: Iterable[RawRow]) -> None:
        sheet, parsed, first_row = UNITS, [], {}
        number = 0
        for number, raw in enumerate(rows, start=1):
            values = self.parse(sheet, raw, {
                "code": _code, "name": lambda v: _limited(v, 100), "level": lambda v: _choice(v, LEVELS),
                "parent": _code,
            })
            if values is None:
                continue
            if values["code"] in first_row:
                self.error(sheet, raw, "code", _("The same code is already on row %(row)d.") % {"row": first_row[values["code"]]})
                continue
            first_row[values["code"]] = raw.number
            parsed.append((raw, values))
        self.seen(sheet, number)
        stored = {code: unit for code, unit in self.units.items()}
        for raw, values in parsed:  # the file's units become known before parents are checked
            old = stored.get(values["code"])
            self.units[values["code"]] = _Unit(
                old.pk if old else None, values["level"], old.path if old else "", values["parent"], values["name"],
                in_file=True,
            )
        checked = []
        for raw, values in parsed:
            if self._check_unit(raw, values, stored.get(values["code"])):
                checked.append((raw, values))
        order = Unit.LEVEL_ORDER
        moved = False
        for raw, values in sorted(checked, key=lambda item: order.index(item[1]["level"])):
            moved |= self._write_unit(raw, values, stored.get(values["code"]))
        if moved and self.writing:
            for code, path in Unit.objects.values_list("code", "path"):
                if code in self.units:
                    self.units[code].path = path

    def _check_unit(self, raw: RawRow, values: dict, old: _Unit | None) -> bool:
        sheet, code, level, parent_code = UNITS, values["code"], values["level"], values["parent"]
        if old is not None and old.level != level:
            self.error(sheet, raw, "level", _("This unit exists as a %(level)s; an import cannot change its level.")
                       % {"level": LEVEL_NAMES[old.level]})
            return False
        if parent_code is None:
            if level != Unit.Level.AREA:
                self.error(sheet, raw, "parent", _("Only an area work committee has no parent."))
                return False
        else:
            parent = self.units.get(parent_code)
            if parent is None:
                self.error(sheet, raw, "parent", _("No unit with this code in the workbook or the portal."))
                return False
            expected = Unit.child_level(parent.level)
            if expected != level:
                message = (
                    _("Nothing can be placed under a grid.") if expected is None
                    else _("Under %(parent)s only a %(level)s can be placed.")
                    % {"parent": parent.name, "level": LEVEL_NAMES[expected]}
                )
                self.error(sheet, raw, "parent", message)
                return False
        if self.roots is EVERYWHERE:
            return True
        if old is not None and not self.inside(old.path):
            self.error(sheet, raw, "code", _("This unit is outside your area: you may import only for units under your posts."))
            return False
        if (old is None or old.parent != parent_code) and not self.unit_inside(parent_code):
            self.error(sheet, raw, "parent", _("The unit above is outside your area."))
            return False
        return True

    def _write_unit(self, raw: RawRow, values: dict, old: _Unit | None) -> bool:
        code, name, parent_code = values["code"], values["name"], values["parent"]
        parent = self.units.get(parent_code) if parent_code else None
        label = f"{code} {name}"
        if old is None:
            self.count(UNITS, raw, CREATED, label)
            if self.writing:
                unit = Unit(code=code, name=name, level=values["level"], parent_id=parent.pk if parent else None)
                unit.save()
                self.units[code].pk, self.units[code].path = unit.pk, unit.path
            return False
        renamed, moved = old.name != name, old.parent != parent_code
        if not (renamed or moved):
            self.count(UNITS, raw, UNCHANGED)
            return False
        self.count(UNITS, raw, UPDATED, label)
        if self.writing:
            if renamed:
                Unit.objects.filter(pk=old.pk).update(name=name)
            if moved:
                community_services.move_unit(unit=Unit(pk=old.pk), new_parent=Unit.objects.get(pk=parent.pk))
        return moved

    # ------------------------------------------------------------ 部门, 共建单位

    def _departments(self, rows: Iterable[RawRow]) -> None:
        sheet, parsed, first_row = DEPARTMENTS, [], {}
        number = 0
        for number, raw in enumerate(rows, start=1):
            values = self.parse(sheet, raw, {"name": lambda v: _limited(v, 100), "unit": _code})
            if values is None:
                continue
            if values["name"] in first_row:
                self.error(sheet, raw, "name", _("The same name is already on row %(row)d.") % {"row": first_row[values["name"]]})
                continue
            first_row[values["name"]] = raw.number
            if self.unit_ref(sheet, raw, "unit", values["unit"]) is not None:
                parsed.append((raw, values))
        self.seen(sheet, number)
        existing = {
            name: (pk, unit_code, path) for pk, name, unit_code, path in Department.objects.filter(
                name__in=[values["name"] for _raw, values in parsed]
            ).values_list("pk", "name", "unit__code", "unit__path")
        }
        for raw, values in parsed:
            name, unit = values["name"], self.units[values["unit"]]
            old = existing.get(name)
            if old is None:
                self.count(sheet, raw, CREATED, f"{name} · {values['unit']}")
                if self.writing:
                    kind = next((kind for word, kind in DEPARTMENT_KINDS if word in name), Department.Kind.OTHER)
                    Department.objects.create(name=name, kind=kind, unit_id=unit.pk)
            elif not self.inside(old[2]):
                self.error(sheet, raw, "name", _("A department of this name belongs to another area."))
            elif old[1] == values["unit"]:
                self.count(sheet, raw, UNCHANGED)
            else:
                self.count(sheet, raw, UPDATED, f"{name} · {values['unit']}")
                if self.writing:
                    Department.objects.filter(pk=old[0]).update(unit_id=unit.pk)

    def _partners(self, rows: Iterable[RawRow]) -> None:
        sheet, parsed, first_row = PARTNERS, [], {}
        number = 0
        for number, raw in enumerate(rows, start=1):
            values = self.parse(sheet, raw, {
                "name": lambda v: _limited(v, 100), "kind": lambda v: _choice(v, PARTNER_KINDS), "unit": _code,
            })
            if values is None:
                continue
            key = (values["unit"], values["name"])
            if key in first_row:
                self.error(sheet, raw, "name", _("The same name is already on row %(row)d.") % {"row": first_row[key]})
                continue
            first_row[key] = raw.number
            if self.unit_ref(sheet, raw, "unit", values["unit"]) is not None:
                parsed.append((raw, values))
        self.seen(sheet, number)
        unit_pks = {self.units[values["unit"]].pk for _raw, values in parsed} - {None}
        existing = {
            (unit_code, name): (pk, kind) for pk, unit_code, name, kind in PartnerOrganisation.objects.filter(
                unit_id__in=unit_pks
            ).values_list("pk", "unit__code", "name", "kind")
        }
        for raw, values in parsed:
            old = existing.get((values["unit"], values["name"]))
            label = f"{values['name']} · {values['unit']}"
            if old is None:
                self.count(sheet, raw, CREATED, label)
                if self.writing:
                    PartnerOrganisation.objects.create(
                        name=values["name"], kind=values["kind"], unit_id=self.units[values["unit"]].pk
                    )
            elif old[1] == values["kind"]:
                self.count(sheet, raw, UNCHANGED)
            else:
                self.count(sheet, raw, UPDATED, label)
                if self.writing:
                    PartnerOrganisation.objects.filter(pk=old[0]).update(kind=values["kind"])

    # ------------------------------------------------------------ 楼栋

    def _buildings(self, rows: Iterable[RawRow]) -> None:
        sheet, first_row, names = BUILDINGS, {}, {}
        done = 0
        for batch in _batches(rows):
            parsed = []
            for raw in batch:
                values = self.parse(sheet, raw, {
                    "code": lambda v: v if HAND_TYPED.match(v) else _code(v),
                    "name": lambda v: _limited(v, 100), "unit": _code, "address": lambda v: _limited(v, 200),
                })
                if values is None:
                    continue
                values["address"] = values["address"] or ""
                if values["code"] in first_row:
                    self.error(sheet, raw, "code", _("The same code is already on row %(row)d.") % {"row": first_row[values["code"]]})
                    continue
                first_row[values["code"]] = raw.number
                unit = self.unit_ref(sheet, raw, "unit", values["unit"])
                if unit is None:
                    continue
                if unit.level not in (Unit.Level.COMMUNITY, Unit.Level.GRID):
                    self.error(sheet, raw, "unit", _("A building belongs to a community or a grid."))
                    continue
                key = (values["unit"], values["name"])
                if key in names:
                    self.error(sheet, raw, "name", _("The same name is already on row %(row)d.") % {"row": names[key]})
                    continue
                names[key] = raw.number
                parsed.append((raw, values))
            self._write_buildings(parsed)
            done += len(batch)
            self.seen(sheet, done)

    def _write_buildings(self, parsed: list[tuple[RawRow, dict]]) -> None:
        sheet = BUILDINGS
        codes = [values["code"] for _raw, values in parsed]
        fields = ("pk", "code", "name", "unit_id", "unit__code", "unit__path", "address")
        by_code = {row[1]: row for row in Building.objects.filter(code__in=codes).values_list(*fields)}
        hand_typed = [int(code[1:]) for code in codes if HAND_TYPED.match(code)]
        by_code.update({f"#{row[0]}": row for row in Building.objects.filter(pk__in=hand_typed, code="").values_list(*fields)})
        unit_pks = {self.units[values["unit"]].pk for _raw, values in parsed} - {None}
        by_name = {
            (row[4], row[2]): row for row in Building.objects.filter(
                unit_id__in=unit_pks, name__in=[values["name"] for _raw, values in parsed]
            ).values_list(*fields)
        }
        new, changed = [], []
        for raw, values in parsed:
            code, unit = values["code"], self.units[values["unit"]]
            old = by_code.get(code)
            same_name = by_name.get((values["unit"], values["name"]))
            if old is None and same_name is not None and same_name[1] == "":
                old = same_name  # typed in by hand: the workbook gives it its code
            if old is not None and not self.inside(old[5]):
                self.error(sheet, raw, "code", _("A building with this code belongs to another area."))
                continue
            if same_name is not None and (old is None or same_name[0] != old[0]):
                self.error(sheet, raw, "name", _("Another building in this grid already has this name."))
                continue
            label = f"{code} {values['name']}"
            if old is None:
                self.count(sheet, raw, CREATED, label)
                building = Building(code=code, name=values["name"], unit_id=unit.pk, address=values["address"])
                new.append(building)
                self.buildings[code] = _Building(None, values["unit"])
                continue
            self.buildings[code] = _Building(old[0], values["unit"])
            if (building_code(old[0], old[1]), old[2], old[4], old[6]) == (
                code, values["name"], values["unit"], values["address"]
            ):
                self.count(sheet, raw, UNCHANGED)
                continue
            self.count(sheet, raw, UPDATED, label)
            changed.append(Building(pk=old[0], code="" if HAND_TYPED.match(code) else code, name=values["name"],
                                    unit_id=unit.pk, address=values["address"]))
        if not self.writing:
            return
        Building.objects.bulk_create(new, batch_size=1000)
        for building in new:
            self.buildings[building.code].pk = building.pk
        Building.objects.bulk_update(changed, ["code", "name", "unit", "address"], batch_size=1000)

    def _known_buildings(self, codes: set[str]) -> None:
        """Stored buildings a sheet refers to without listing them on 楼栋."""
        missing = codes - self.buildings.keys()
        if not missing:
            return
        for pk, code, unit_code in Building.objects.filter(code__in=missing).values_list("pk", "code", "unit__code"):
            self.buildings[code] = _Building(pk, unit_code)
        hand_typed = [int(code[1:]) for code in missing if HAND_TYPED.match(code)]
        for pk, unit_code in Building.objects.filter(pk__in=hand_typed, code="").values_list("pk", "unit__code"):
            self.buildings[f"#{pk}"] = _Building(pk, unit_code)

    def building_ref(self, sheet: str, raw: RawRow, code: str) -> _Building | None:
        building = self.buildings.get(code)
        if building is None:
            self.error(sheet, raw, "building", _("No building with this code in the workbook or the portal."))
            return None
        if not self.unit_inside(building.unit):
            self.error(sheet, raw, "building", _("This building is outside your area."))
            return None
        return building

    # ------------------------------------------------------------ 单元

    def _stairwells(self, rows: Iterable[RawRow]) -> None:
        sheet, first_row = STAIRWELLS, {}
        done = 0
        for batch in _batches(rows):
            self._known_buildings({text(raw.cells.get("building")).lower() for raw in batch})
            parsed = []
            for raw in batch:
                values = self.parse(sheet, raw, {"building": str.lower, "number": _number})
                if values is None or self.building_ref(sheet, raw, values["building"]) is None:
                    continue
                key = (values["building"], values["number"])
                if key in first_row:
                    self.error(sheet, raw, "number", _("The same unit is already on row %(row)d.") % {"row": first_row[key]})
                    continue
                first_row[key] = raw.number
                parsed.append((raw, key))
            self._load_stairwells({self.buildings[key[0]].pk for _raw, key in parsed} - {None})
            new = []
            for raw, key in parsed:
                if key in self.stairwells:
                    self.count(sheet, raw, UNCHANGED)
                    continue
                self.count(sheet, raw, CREATED, f"{key[0]} {key[1]}")
                self.stairwells[key] = None
                if self.writing:
                    new.append(Stairwell(building_id=self.buildings[key[0]].pk, number=key[1]))
            if self.writing:
                Stairwell.objects.bulk_create(new, batch_size=1000)
                code_of = {b.pk: code for code, b in self.buildings.items() if b.pk} if new else {}
                for stairwell in new:
                    self.stairwells[(code_of[stairwell.building_id], stairwell.number)] = stairwell.pk
            done += len(batch)
            self.seen(sheet, done)

    def _load_stairwells(self, building_pks: set[int]) -> None:
        wanted = building_pks - self._stairwells_loaded
        if not wanted:
            return
        code_of = {b.pk: code for code, b in self.buildings.items() if b.pk in wanted}
        for pk, building, number in Stairwell.objects.filter(building_id__in=wanted).values_list(
            "pk", "building_id", "number"
        ):
            self.stairwells[(code_of[building], number)] = pk
        self._stairwells_loaded |= wanted

    # ------------------------------------------------------------ 住户

    def _households(self, rows: Iterable[RawRow]) -> None:
        sheet, first_row = HOUSEHOLDS, {}
        done = 0
        for batch in _batches(rows):
            self._known_buildings({text(raw.cells.get("building")).lower() for raw in batch})
            parsed = []
            for raw in batch:
                values = self.parse(sheet, raw, {
                    "building": str.lower, "stairwell": _number, "room": lambda v: _limited(v, 20),
                    "head_name": lambda v: _limited(v, 50), "phone": _household_phone,
                    "area": _area, "residents": lambda v: _number(v, low=0), "tags": _tags,
                })
                if values is None:
                    continue
                building = self.building_ref(sheet, raw, values["building"])
                if building is None:
                    continue
                key = (values["building"], values["stairwell"], values["room"])
                if key in first_row:
                    self.error(sheet, raw, "room", _("The same household is already on row %(row)d.") % {"row": first_row[key]})
                    continue
                first_row[key] = raw.number
                parsed.append((raw, values))
            self._load_stairwells({self.buildings[values["building"]].pk for _raw, values in parsed} - {None})
            self._write_households(parsed)
            done += len(batch)
            self.seen(sheet, done)

    def _write_households(self, parsed: list[tuple[RawRow, dict]]) -> None:
        sheet = HOUSEHOLDS
        stairwell_pks = {self.stairwells.get((v["building"], v["stairwell"])) for _raw, v in parsed} - {None}
        existing = {
            (row[1], row[2]): row for row in Household.objects.filter(stairwell_id__in=stairwell_pks)
            .select_for_update(of=("self",))
            .values_list("pk", "stairwell_id", "room", "head_name", "phone", "area", "residents")
        }
        needs = set(CareNeed.objects.filter(household_id__in=[row[0] for row in existing.values()])
                    .values_list("household_id", "kind"))
        new, changed, new_needs = [], [], []  # new_needs: (household or its index in new, kind, building code)
        for raw, values in parsed:
            stairwell_key = (values["building"], values["stairwell"])
            if stairwell_key not in self.stairwells:
                self.error(sheet, raw, "stairwell", _("No such unit in this building: list it on the 单元 sheet."))
                continue
            stairwell = self.stairwells[stairwell_key]
            old = existing.get((stairwell, values["room"])) if stairwell else None
            phone = values["phone"] or ""
            if MASKED_RE.match(phone):
                if old is None or not old[4] or mask_phone(old[4]) != phone:
                    self.error(sheet, raw, "phone", _("A masked number can only stand for the number already on file."))
                    continue
                phone = old[4]
            fields = {"head_name": values["head_name"] or "", "phone": phone, "area": values["area"],
                      "residents": values["residents"]}
            label = f"{values['building']} {values['stairwell']}-{values['room']} {mask_phone(phone) if phone else ''}".strip()
            if old is None:
                self.count(sheet, raw, CREATED, label)
                household = Household(stairwell_id=stairwell, room=values["room"], floor=_floor(values["room"]), **fields)
                new.append(household)
                new_needs.extend((household, kind, values["building"]) for kind in values["tags"] or [])
                continue
            missing = [kind for kind in values["tags"] or [] if (old[0], kind) not in needs]
            if (old[3], old[4], old[5], old[6]) == tuple(fields.values()) and not missing:
                self.count(sheet, raw, UNCHANGED)
                continue
            self.count(sheet, raw, UPDATED, label)
            changed.append(Household(pk=old[0], **fields))
            new_needs.extend((Household(pk=old[0], **fields), kind, values["building"]) for kind in missing)
        if not self.writing:
            return
        Household.objects.bulk_create(new, batch_size=1000)
        Household.objects.bulk_update(changed, ["head_name", "phone", "area", "residents"], batch_size=1000)
        if new_needs:
            actor = self.actor()
            CareNeed.objects.bulk_create([
                CareNeed(
                    household_id=household.pk, kind=kind, person_name=household.head_name, phone=household.phone,
                    unit_id=self.units[self.buildings[code].unit].pk, unit_path=self.units[self.buildings[code].unit].path,
                    created_by=actor,
                )
                for household, kind, code in new_needs
            ], batch_size=1000)

    def actor(self):
        """Who flags the care needs: the importing administrator, or on the command line the first superuser."""
        if self._actor is None:
            self._actor = self.user or get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if self._actor is None:
                raise ImportFileError(_("Households with tags need an acting user: create a superuser or pass --user."))
        return self._actor

    # ------------------------------------------------------------ 岗位

    def _posts(self, rows: Iterable[RawRow]) -> None:
        sheet, parsed, first_row = POSTS, [], {}
        username_validator = UnicodeUsernameValidator()

        def username(value: str) -> str:
            try:
                username_validator(value)
            except ValidationError as error:
                raise Invalid(" ".join(error.messages)) from None
            return _limited(value, 150)

        def phone(value: str) -> str:
            if MASKED_RE.match(value):
                return value
            number = normalise_phone(value)
            if not MOBILE_RE.match(number):
                raise Invalid(_("Not a mainland mobile number (11 digits starting with 1)."))
            return number

        number = 0
        for number, raw in enumerate(rows, start=1):
            values = self.parse(sheet, raw, {
                "username": username, "name": lambda v: _limited(v, 150), "phone": phone, "unit": _code,
                "role": lambda v: _choice(v, ROLES),
            })
            if values is None:
                continue
            unit = self.unit_ref(sheet, raw, "unit", values["unit"])
            if unit is None:
                continue
            if unit.level not in ROLE_LEVELS[values["role"]]:
                self.error(sheet, raw, "role", _("This role does not exist at the level of %(unit)s.") % {"unit": unit.name})
                continue
            key = (values["username"], values["unit"], values["role"])
            if key in first_row:
                self.error(sheet, raw, "role", _("The same post is already on row %(row)d.") % {"row": first_row[key]})
                continue
            first_row[key] = raw.number
            parsed.append((raw, values))
        self.seen(sheet, number)
        self._write_posts(parsed)

    def _write_posts(self, parsed: list[tuple[RawRow, dict]]) -> None:
        sheet, User = POSTS, get_user_model()
        names = {values["username"] for _raw, values in parsed}
        users = {user.username: user for user in User.objects.filter(username__in=names).only("pk", "username", "first_name")}
        allowed = (
            names if self.user is None or self.user.is_superuser
            else set(administrable_users(self.user).filter(username__in=names).values_list("username", flat=True))
        )
        posts = {
            (post.user_id, post.unit_id, post.role): post
            for post in Post.objects.filter(user_id__in=[u.pk for u in users.values()]).select_for_update(of=("self",))
        }
        new_users: dict[str, object] = {}
        renamed, new_posts, changed_posts = {}, [], []
        for raw, values in parsed:
            name, unit = values["username"], self.units[values["unit"]]
            user = users.get(name)
            if user is not None and name not in allowed:
                self.error(sheet, raw, "username", _("This account belongs to someone outside your area."))
                continue
            post = posts.get((user.pk, unit.pk, values["role"])) if user is not None and unit.pk else None
            phone = values["phone"] or ""
            if MASKED_RE.match(phone):
                if post is None or not post.phone or mask_phone(post.phone) != phone:
                    self.error(sheet, raw, "phone", _("A masked number can only stand for the number already on file."))
                    continue
                phone = post.phone
            label = f"{name} {values['name']} · {LEVEL_NAMES.get(unit.level, '')} {values['unit']}"
            if user is None and not values["name"]:
                self.error(sheet, raw, "name", _("A new account needs the person's name."))
                continue
            if user is None:
                user = new_users.get(name)
                if user is None:
                    user = User(username=name, first_name=values["name"], is_active=True)
                    user.set_unusable_password()
                    new_users[name] = user
            elif values["name"] and user.first_name != values["name"]:
                user.first_name = values["name"]
                renamed[name] = user
            if post is None:
                self.count(sheet, raw, CREATED, label)
                new_posts.append((user, Post(
                    unit_id=unit.pk, role=values["role"], phone=phone,
                    portfolio=Portfolio.GENERAL if values["role"] == "deputy_director" else "",
                )))
            elif post.phone != phone or not post.active or name in renamed:
                self.count(sheet, raw, UPDATED, label)
                post.phone, post.active = phone, True
                changed_posts.append(post)
            else:
                self.count(sheet, raw, UNCHANGED)
        if not self.writing:
            return
        User.objects.bulk_create(list(new_users.values()), batch_size=1000)
        User.objects.bulk_update(list(renamed.values()), ["first_name"], batch_size=1000)
        for user, post in new_posts:
            post.user_id = user.pk
        Post.objects.bulk_create([post for _user, post in new_posts], batch_size=1000)
        Post.objects.bulk_update(changed_posts, ["phone", "active"], batch_size=1000)
        touched = {user.pk for user, _post in new_posts} | {post.user_id for post in changed_posts}
        community_services.sync_role_groups_bulk(sorted(touched))
        for user in new_users.values():
            path = reverse("password_reset_confirm", kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
            })
            self.report.accounts.append(Account(user.username, user.first_name, f"{self.link_base}{path}"))
