"""The area workbook: its sheets and columns (the contract with the spreadsheets), the blank
template with a sheet of instructions, and the export of a subtree in the same layout.

Sheet names, headers and the Chinese values of the 层级/类型/岗位/标签 columns are a file format:
they are never translated. Household and staff phones are masked in an export unless the
administrator may reveal them (``may_reveal_phones``); a full export is written to the security log.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from communities.models import (
    Building, Department, Household, PartnerOrganisation, Post, Role, SecurityEvent, Stairwell, Unit,
)
from communities.phones import mask_phone
from communities.security import log_event
from communities.selectors import in_subtree
from communities.tabular import Column

from ..models import CareNeed

UNITS, BUILDINGS, STAIRWELLS, HOUSEHOLDS = "单位", "楼栋", "单元", "住户"
DEPARTMENTS, PARTNERS, POSTS, INSTRUCTIONS = "部门", "共建单位", "岗位", "说明"
# The order sheets are imported in: everything a row refers to is read before it.
SHEET_ORDER = [UNITS, DEPARTMENTS, PARTNERS, BUILDINGS, STAIRWELLS, HOUSEHOLDS, POSTS]
# The order they stand in the workbook (the contract's order).
WORKBOOK_ORDER = [UNITS, BUILDINGS, STAIRWELLS, HOUSEHOLDS, DEPARTMENTS, PARTNERS, POSTS]

LEVELS = {"工委": Unit.Level.AREA, "街道": Unit.Level.STREET, "社区": Unit.Level.COMMUNITY, "网格": Unit.Level.GRID}
PARTNER_KINDS = {
    "物业": PartnerOrganisation.Kind.PROPERTY_MANAGER,
    "业委会": PartnerOrganisation.Kind.OWNERS_COMMITTEE,
    "产权单位": PartnerOrganisation.Kind.PROPERTY_OWNER,
    "共建单位": PartnerOrganisation.Kind.CO_BUILDER,
    "供热单位": PartnerOrganisation.Kind.HEATING,
    "燃气公司": PartnerOrganisation.Kind.GAS,
    "供电公司": PartnerOrganisation.Kind.POWER,
    "自来水公司": PartnerOrganisation.Kind.WATER,
    "社会组织": PartnerOrganisation.Kind.SOCIAL,
    "其他": PartnerOrganisation.Kind.OTHER,
}
ROLES = {
    "书记": Role.SECRETARY, "主任": Role.DIRECTOR, "副主任": Role.DEPUTY_DIRECTOR, "派单员": Role.DISPATCHER,
    "社工": Role.CASEWORKER, "网格员": Role.GRID_WORKER, "督查": Role.SUPERVISOR, "管理员": Role.ADMINISTRATOR,
}
CARE_TAGS = {
    "独居老人": CareNeed.Kind.ELDERLY_ALONE,
    "空巢老人": CareNeed.Kind.EMPTY_NEST,
    "残疾": CareNeed.Kind.DISABILITY,
    "重病": CareNeed.Kind.SERIOUS_ILLNESS,
    "困难": CareNeed.Kind.HARDSHIP,
    "其他": CareNeed.Kind.OTHER,
}
TAG_ALIASES = {"独居": "独居老人", "空巢": "空巢老人", "残疾人": "残疾", "大病": "重病", "重病患者": "重病",
               "生活困难": "困难", "困难户": "困难", "低保": "困难"}
TAG_SEPARATORS = re.compile(r"[、,，;；\s]+")


def _names(mapping: dict) -> dict:
    return {value: name for name, value in mapping.items()}


LEVEL_NAMES, PARTNER_KIND_NAMES, ROLE_NAMES, CARE_TAG_NAMES = map(_names, (LEVELS, PARTNER_KINDS, ROLES, CARE_TAGS))

COLUMNS: dict[str, list[Column]] = {
    UNITS: [
        Column("code", "编码", True, _("Stable code: lower-case letters, digits and hyphens."), "xc-3"),
        Column("name", "名称", True, _("The unit's name."), "星城第三社区"),
        Column("level", "层级", True, _("工委, 街道, 社区 or 网格."), "社区"),
        Column("parent", "上级编码", False, _("Code of the unit above; empty only for the 工委."), "xc"),
    ],
    BUILDINGS: [
        Column("code", "编码", True, _("Stable code of the building."), "xc-3-b41"),
        Column("name", "名称", True, _("The building's name, unique in its grid."), "星城二里41号楼"),
        Column("unit", "所属网格编码", True, _("Code of the grid (or community without grids)."), "xc-3-g1"),
        Column("address", "地址", False, _("Street address."), "星城二里41号"),
    ],
    STAIRWELLS: [
        Column("building", "楼栋编码", True, _("Code of the building."), "xc-3-b41"),
        Column("number", "单元", True, _("Number of the stairwell unit, 1, 2, 3 …"), "1"),
    ],
    HOUSEHOLDS: [
        Column("building", "楼栋编码", True, _("Code of the building."), "xc-3-b41"),
        Column("stairwell", "单元", True, _("Number of the stairwell unit (listed on the 单元 sheet)."), "1"),
        Column("room", "房号", True, _("Door number; the floor is read from it (501 is on floor 5)."), "501"),
        Column("head_name", "户主姓名", False, _("Head of the household."), "杨大爷"),
        Column("phone", "联系电话", False, _("Mobile or landline number."), "13811118601"),
        Column("area", "建筑面积", True, _("Floor area in m², used by consent polls."), "76.5"),
        Column("residents", "人数", False, _("How many people live there."), "2"),
        Column("tags", "标签", False, _("Care needs, separated by 、: 独居老人、空巢老人、残疾、重病、困难、其他."), "独居老人"),
    ],
    DEPARTMENTS: [
        Column("name", "名称", True, _("The department's name (unique)."), "区住建委"),
        Column("unit", "所属单位编码", True, _("Code of the tier it serves, usually the 工委."), "xc"),
    ],
    PARTNERS: [
        Column("name", "名称", True, _("The organisation's name, unique in its unit."), "星城物业"),
        Column("kind", "类型", True, _("物业, 业委会, 产权单位 or 共建单位."), "物业"),
        Column("unit", "所属单位编码", True, _("Code of the unit it works with."), "xc-3"),
    ],
    POSTS: [
        Column("username", "用户名", True, _("Login name; new names get an account and a one-time sign-in link."),
               "xc3-wang"),
        Column("name", "姓名", False, _("The person's name (required for a new account)."), "王芳"),
        Column("phone", "手机", False, _("Work mobile number."), "13900001111"),
        Column("unit", "单位编码", True, _("Code of the unit of the post."), "xc-3"),
        Column("role", "岗位", True, _("书记, 主任, 副主任, 派单员, 社工, 网格员, 督查 or 管理员."), "社工"),
    ],
}


def template_xlsx(target) -> None:
    """Write the empty workbook (header rows, one example row each) and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    notes = workbook.active
    notes.title = INSTRUCTIONS
    notes.append([str(_("Area workbook")), ""])
    notes.append([str(_("Fill in the sheets you need and delete the example rows. Any sheet may be left out. "
                        "Codes and user names are the keys: importing the same file again changes nothing, "
                        "and a changed name or parent updates the row in place. Nothing is ever deleted.")), ""])
    notes.append(["", ""])
    notes.append([str(_("Sheet")), str(_("Column")), str(_("Required")), str(_("What to write"))])
    for name in WORKBOOK_ORDER:
        for column in COLUMNS[name]:
            notes.append([name, column.header, "✓" if column.required else "", str(column.help)])
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 14
    notes.column_dimensions["D"].width = 80
    notes["A1"].font = Font(bold=True, size=14)
    notes["A2"].alignment = Alignment(wrap_text=True)
    for name in WORKBOOK_ORDER:
        sheet = workbook.create_sheet(name)
        sheet.append([column.header for column in COLUMNS[name]])
        sheet.append([column.example for column in COLUMNS[name]])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            sheet.column_dimensions[cell.column_letter].width = 18
        sheet.freeze_panes = "A2"
    workbook.save(target)


# ---------------------------------------------------------------- export


def may_reveal_phones(user, unit: Unit) -> bool:
    """Full numbers for those who may change the households of the whole subtree (the volunteer
    roster's rule for volunteers' numbers: the role's change permission, inside the subtree)."""
    if user.is_superuser:
        return True
    if not user.has_perm("communities.change_household"):
        return False
    return in_subtree(user, unit.path)


def export_xlsx(target, *, unit: Unit, user, reveal: bool = False) -> None:
    """Write the workbook of ``unit``'s subtree (streamed: constant memory whatever its size).

    ``reveal`` gives full phone numbers, only to those who may see them, and is logged.
    """
    from openpyxl import Workbook

    reveal = reveal and may_reveal_phones(user, unit)
    if reveal:
        log_event(SecurityEvent.Kind.PII_REVEALED, user=user, detail={"export": "area_workbook", "unit": unit.code, "field": "phone"})
    phone = (lambda value: value) if reveal else mask_phone
    prefix = unit.path
    workbook = Workbook(write_only=True)
    sheets = {name: workbook.create_sheet(name) for name in WORKBOOK_ORDER}
    for name, sheet in sheets.items():
        sheet.append([column.header for column in COLUMNS[name]])

    for code, name, level, parent in (
        Unit.objects.filter(path__startswith=prefix).order_by("path")
        .values_list("code", "name", "level", "parent__code").iterator(chunk_size=2000)
    ):
        sheets[UNITS].append([code, name, LEVEL_NAMES[level], parent or ""])
    buildings = Building.objects.filter(unit__path__startswith=prefix)
    for pk, code, name, unit_code, address in (
        buildings.order_by("unit__path", "pk").values_list("pk", "code", "name", "unit__code", "address")
        .iterator(chunk_size=2000)
    ):
        sheets[BUILDINGS].append([building_code(pk, code), name, unit_code, address])
    for building_pk, code, number in (
        Stairwell.objects.filter(building__unit__path__startswith=prefix).order_by("building_id", "number")
        .values_list("building_id", "building__code", "number").iterator(chunk_size=5000)
    ):
        sheets[STAIRWELLS].append([building_code(building_pk, code), number])
    households = (
        Household.objects.filter(stairwell__building__unit__path__startswith=prefix)
        .order_by("stairwell__building_id", "stairwell__number", "pk")
    )
    tags = _care_tags(prefix)
    for pk, building_pk, code, number, room, head, phone_number, area, residents in households.values_list(
        "pk", "stairwell__building_id", "stairwell__building__code", "stairwell__number", "room", "head_name",
        "phone", "area", "residents",
    ).iterator(chunk_size=5000):
        sheets[HOUSEHOLDS].append([
            building_code(building_pk, code), number, room, head, phone(phone_number) if phone_number else "",
            float(area), residents if residents is not None else "", "、".join(tags.get(pk, [])),
        ])
    for name, unit_code in (
        Department.objects.filter(unit__path__startswith=prefix).order_by("name").values_list("name", "unit__code")
    ):
        sheets[DEPARTMENTS].append([name, unit_code])
    for name, kind, unit_code in (
        PartnerOrganisation.objects.filter(unit__path__startswith=prefix).order_by("unit__path", "name")
        .values_list("name", "kind", "unit__code")
    ):
        sheets[PARTNERS].append([name, PARTNER_KIND_NAMES[kind], unit_code])
    for username, first_name, phone_number, unit_code, role in (
        Post.objects.filter(unit__path__startswith=prefix, role__in=ROLE_NAMES, active=True)
        .order_by("unit__path", "user__username", "role")
        .values_list("user__username", "user__first_name", "phone", "unit__code", "role").iterator(chunk_size=2000)
    ):
        sheets[POSTS].append([username, first_name, phone(phone_number) if phone_number else "", unit_code,
                              ROLE_NAMES[role]])
    workbook.save(target)


def building_code(pk: int, code: str) -> str:
    """A building typed in by hand has no code: it leaves as ``#<id>`` (never a valid code) and
    comes back to the same building; give it a real code in the workbook to keep one."""
    return code or f"#{pk}"


def _care_tags(prefix: str) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for household, kind in (
        CareNeed.objects.filter(unit_path__startswith=prefix, active=True).order_by("household_id", "kind")
        .values_list("household_id", "kind")
    ):
        tags.setdefault(household, []).append(CARE_TAG_NAMES[kind])
    return tags

