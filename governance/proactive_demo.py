"""Demo hotspot, monthly theme and home visits for the Yanshan demo area, from the field reports.

- E-bike charging (电动自行车充电) in 星城二里: calls rise for four months, 星城街道 adopts it
  as the theme of the month they peaked, two months ago (燕山住建委 leading: charging piles,
  flying cables, the old bike shed), and the calls fall in the whole month after — the seeds'
  未呼先应 (the effect compares whole months only).
- Elderly people living alone in 星城二里41号楼 are visited by the grid worker and the
  building head (楼门长 甘起荣); one visit is overdue, one found a problem that became a case.

Everything goes through ``governance.themes.services``, ``governance.visits.services`` and
``cases.services`` with the clock set back (``cases.demo.clock``). Idempotent: nothing is
created when the demo theme already exists. Needs the other apps' demo data.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases import rates
from cases import services as case_services
from cases.demo import clock
from cases.models import Case, Category
from cases.rates import RATE_TZ
from communities.models import Building, Department, Household, Unit
from volunteers.models import Volunteer

from .models import CareNeed, Theme, Visit
from .themes import services as themes
from .visits import services as visits

THEME_TITLE = "电动自行车充电难"
# Calls about e-bike charging in 星城二里, by months before the current one (5 … 0).
EBIKE_CALLS = {5: 2, 4: 3, 3: 4, 2: 6, 1: 1, 0: 1}
EBIKE_PLACES = [("xc-3-g1", "星城二里40号楼"), ("xc-3-g1", "星城二里41号楼"), ("xc-3-g2", "星城二里45号楼")]
EBIKE_CALLERS = ["13611112001", "13611112002", "13611112003"]  # neighbours who call again
ELDERLY = [
    # (room, kind, name, phone, note, days since the visit was due (negative: still to come))
    ("601", CareNeed.Kind.ELDERLY_ALONE, "杨大爷", "13811118601", "八十二岁，子女在外地，每周三去社区食堂。", 5),
    ("502", CareNeed.Kind.ELDERLY_ALONE, "刘奶奶", "13811118502", "腿脚不便，平时由楼门长帮忙取药。", -3),
    ("301", CareNeed.Kind.DISABILITY, "陈师傅", "13811118301", "肢体残疾，轮椅出行，楼门口需要坡道。", -10),
]


def load() -> int:
    """Create the demo theme and visits once; returns how many objects were created (0 if present)."""
    if Theme.objects.filter(title=THEME_TITLE).exists() or not Case.objects.exists():
        return 0
    names = ["street_director", "xc3g1_grid_worker"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    if len(users) < 2:
        return 0
    with transaction.atomic():
        created = _ebike_calls(users)
        created += _theme(users)
        created += _visits(users)
    return created


def _month_day(back: int, day: int) -> datetime:
    month = rates.current_month()
    for _ in range(back):
        month = rates.previous_month(month)
    moment = datetime.combine(month.replace(day=min(day, 28)), time(9, 30), RATE_TZ)
    return min(moment, timezone.now() - timedelta(hours=1))


def _ebike_calls(users) -> int:
    category = Category.objects.get(code="ebike-charging")
    places = {(code, name): Building.objects.get(unit__code=code, name=name) for code, name in EBIKE_PLACES}
    created = 0
    for back, count in EBIKE_CALLS.items():
        for n in range(count):
            building = places[EBIKE_PLACES[(n + back) % len(EBIKE_PLACES)]]
            received = _month_day(back, 3 + 5 * n)
            with clock(received):
                case_services.intake(
                    source=Case.Source.HOTLINE, category=category, location_unit=building.unit, building=building,
                    title="楼下没有电动车充电桩", description="车棚里没有充电的地方，邻居们只好从楼上拉线充电，怕起火。",
                    resident_name="居民", resident_phone=EBIKE_CALLERS[n % len(EBIKE_CALLERS)], received_at=received,
                    hotline_order_no=f"DEMO-XC-EB-{back}-{n}", actor_label="12345",
                )
            created += 1
    return created


def _theme(users) -> int:
    street = Unit.objects.get(code="xingcheng")
    adopted = _month_day(2, 2)
    with clock(adopted):
        theme = themes.adopt_theme(
            unit=street, month=adopted.date(), title=THEME_TITLE, by=users["street_director"],
            category=Category.objects.get(code="ebike"), place=Unit.objects.get(code="xc-3"),
            lead_department=Department.objects.get(name="燕山住建委"), source=Theme.Source.HOTSPOT,
            description="星城二里电动自行车充电的来电连续四个月上升，多为飞线充电和没有充电桩。",
            problems=["星城二里没有集中充电桩", "飞线充电、楼道停放的安全隐患", "40号楼车棚电路老化"],
        )
    return 1 + theme.problems.count()


def _visits(users) -> int:
    worker = users["xc3g1_grid_worker"]
    building = Building.objects.get(unit__code="xc-3-g1", name="星城二里41号楼")
    head = Volunteer.objects.filter(name="甘起荣").first()
    today = timezone.localdate()
    created = 0
    for room, kind, name, phone, note, late in ELDERLY:
        rooms = Household.objects.filter(stairwell__building=building, room=room)
        household = rooms.order_by("stairwell__number").first()
        if household is None:
            continue
        by_head = head if kind == CareNeed.Kind.ELDERLY_ALONE else None
        need = visits.flag_need(
            household=household, kind=kind, person_name=name, phone=phone, note=note, visit_every_days=30,
            first_visit_on=today - timedelta(days=30 + late), volunteer=by_head, by=worker,
        )
        created += 1
        first = need.visits.get()
        recorded = visits.record_visit(
            visit=first, by=worker, visited_on=today - timedelta(days=30 + late), outcome=_outcome(kind),
            finding=_finding(kind),
        )
        if recorded.outcome == Visit.Outcome.NEEDS_HELP:
            visits.raise_case(
                visit=recorded, by=worker, category=Category.objects.get(code="housing-stairwell"),
                title="41号楼单元门口需要无障碍坡道", description=recorded.finding,
            )
        created += 2
    return created


def _outcome(kind: str) -> str:
    return Visit.Outcome.NEEDS_HELP if kind == CareNeed.Kind.DISABILITY else Visit.Outcome.ALL_WELL


def _finding(kind: str) -> str:
    if kind == CareNeed.Kind.DISABILITY:
        return "单元门口有三级台阶，轮椅上下要邻居抬，希望加一个坡道和扶手。"
    return "身体挺好，冰箱里菜够吃，提醒天冷注意用气安全。"
