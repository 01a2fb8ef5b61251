"""Demo livelihood project list for the Yanshan demo area, from the field reports.

- 燕山工委's e-bike charging piles (12345 calls stayed high): 336 piles planned for 2,538 bikes,
  40 built, split by community; each community's share weighs by its number of piles.
- The small things that make ~85 % of the 问题清单: a leaking top-floor roof, no grocery nearby,
  old fitness equipment; the building 41 elevator from the joint meeting.
- Last year's list, finished on time (Yanshan's 253 items: a handful here).

Everything goes through ``governance.projects.services`` with the clock set back, so the history,
roll-ups and on-time figures are real. Idempotent: nothing is created when the charging item
exists. Needs ``communities.demo`` (and links the cases and meetings of the other demos if present).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases.demo import clock
from cases.models import Case
from communities.models import Department, Unit

from ..models import Meeting, Project
from . import services

CHARGING = "小区电动自行车集中充电设施建设"
# (community code, piles planned, piles built) — 336 planned, 40 built.
PILES = [
    ("yf-yanheyuan", 26, 2), ("xc-3", 60, 12), ("xc-1", 50, 10), ("df-dongliushui", 40, 8),
    ("df-yangeryu-1", 40, 8), ("xy-dongli", 60, 0), ("xy-xili", 60, 0),
]
S = Project.Source


def load() -> int:
    """Create the demo list once; returns how many items were created (0 if present)."""
    if Project.objects.filter(title=CHARGING).exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["area_deputy_director", "xc3_director"])}
    if len(users) < 2:
        return 0
    today = timezone.localdate()
    with transaction.atomic():
        created = _charging(users["area_deputy_director"], today)
        created += _small_things(users, today)
        created += _last_year(users["area_deputy_director"], today)
    return created


def _at(day: date):
    return clock(timezone.make_aware(datetime.combine(day, time(10, 0))))


def _unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def _department(name: str) -> Department:
    return Department.objects.get(name=name)


def _month_ago(today: date, months: int) -> date:
    day = today.replace(day=1)
    for _n in range(months):
        day = (day - timedelta(days=1)).replace(day=1)
    return day + timedelta(days=9)


def _charging(by, today: date) -> int:
    end_of_year = date(today.year, 12, 31)
    with _at(_month_ago(today, 3)):
        item = services.create_project(
            by=by, title=CHARGING, unit=_unit("yanshan"), deadline=end_of_year, source=S.HOTSPOT,
            description=("12345热线关于电动自行车充电的投诉量居高不下。燕山地区将小区充电设施建设纳入重点民生项目清单，"
                         "先期改造资金由政府经费承担，物业公司引入充电桩运维企业。全年计划建设336个充电桩，"
                         "可满足2538辆电动自行车的充电需求。"),
            owner_user=by, owner_department=_department("燕山住建委"),
        )
        services.publish(project=item, by=by)
    for code, planned, built in PILES:
        unit = _unit(code)
        with _at(_month_ago(today, 3)):
            part = services.create_project(
                by=by, parent=item, title=f"{unit.name}充电桩（{planned}个）", unit=unit, deadline=end_of_year,
                source=S.HOTSPOT, weight=planned, owner_unit=unit,
            )
        if built:
            with _at(_month_ago(today, 1)):
                services.add_update(project=part, by=by, progress=built * 100 // planned, on=_month_ago(today, 1),
                                    text=f"已建成{built}个充电桩并投入使用，其余正在改造车棚、铺设线路。")
    with _at(today.replace(day=1)):
        services.add_update(project=item, by=by, on=today.replace(day=1),
                            text="截至本月，已为四个街道的社区安装充电桩40个，其余按计划建设中。")
    return 1 + len(PILES)


def _small_things(users, today: date) -> int:
    director, area = users["xc3_director"], users["area_deputy_director"]
    roof = _item(director, "星城二里45号楼顶层漏雨修缮", "xc-3", today + timedelta(days=20), S.SURVEY,
                 "一线排查发现45号楼顶层多户下雨漏水，由房管局组织屋面防水修缮。",
                 owner_department=_department("燕山房管局"))
    _update(roof, director, today, 1, 60, "屋面防水层已铺设完成，待雨后检查。")
    with _at(today):
        services.finish(project=roof, by=director, note="雨后入户检查，不再漏水。")
    if case := Case.objects.filter(title="45号楼顶层下雨漏水").first():
        services.link(project=roof, by=director, case=case)
    grocery = _item(area, "燕和园社区便民菜店", "yf-yanheyuan", today + timedelta(days=60), S.SURVEY,
                    "居民反映附近买菜不便，引入便民菜店进驻社区底商。", owner_unit=_unit("yf-yanheyuan"))
    _update(grocery, area, today, 0, 60, "选定底商铺面，菜店完成装修，预计下月开业。")
    fitness = _item(area, "星城第一社区更换老旧健身器材", "xc-1", today + timedelta(days=30), S.SURVEY,
                    "小区公共健身器材老旧破损，更换为新器材。", owner_unit=_unit("xc-1"))
    _update(fitness, area, today, 1, 100, "新器材已安装完毕，旧器材拆除。")
    with _at(today):
        services.finish(project=fitness, by=area)
    elevator = _item(director, "星城二里41号楼加装电梯", "xc-3-g1", today + timedelta(days=180), S.MEETING,
                     "六方联席会议启动41号楼加装电梯，正在征求居民意见。", owner_user=director,
                     owner_unit=_unit("xc-3"), publish=False)
    # Last month's update only: the list flags it until this month's comes in (月更新).
    _update(elevator, director, today, 1, 10, "居民意见征询表已发放到各单元。")
    if meeting := Meeting.objects.filter(title__contains="41号楼").first():
        services.link(project=elevator, by=director, meeting=meeting)
    return 4


def _item(by, title, code, deadline, source, description, *, publish=True, **owners) -> Project:
    with _at(_month_ago(timezone.localdate(), 2)):
        item = services.create_project(by=by, title=title, unit=_unit(code), deadline=deadline, source=source,
                                       description=description, **owners)
        if publish:
            services.publish(project=item, by=by)
    return item


def _update(item: Project, by, today: date, months_ago: int, progress: int, text: str) -> None:
    day = _month_ago(today, months_ago) if months_ago else today
    with _at(day):
        services.add_update(project=item, by=by, on=day, progress=progress, text=text)


LAST_YEAR = [
    ("xc-3", "星城二里40号楼楼道照明改造", 3),
    ("xc-7", "星城七里2号楼单元门禁维修", 5),
    ("df-dongliushui", "丁东路10号院冬季采暖保障", 10),
    ("xy-dongli", "向阳东里3号楼外墙脱落修补", 8),
    ("yf-yanheyuan", "燕和园社区增设无障碍坡道", 11),
]


def _last_year(by, today: date) -> int:
    """Items of last year's list, each finished before its deadline."""
    for code, title, month in LAST_YEAR:
        deadline = date(today.year - 1, month, 28)
        with _at(date(today.year - 1, month, 1)):
            item = services.create_project(by=by, title=title, unit=_unit(code), deadline=deadline,
                                           source=S.SURVEY, owner_unit=_unit(code))
            services.publish(project=item, by=by)
        with _at(date(today.year - 1, month, 20)):
            services.add_update(project=item, by=by, progress=100, on=date(today.year - 1, month, 20),
                                text="施工完成，居民验收。")
            services.finish(project=item, by=by)
    return len(LAST_YEAR)
