"""Demo requests for the Yanshan demo area, taken from the field reports in the seeds.

Every case is created and moved through ``cases.services`` (so timelines, deadlines and
notifications are real), with the clock set back to when each step happened: the demo
then shows two months of history, overdue cases and last month's 三率.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from communities.models import Building, Unit

from . import services
from .models import Case, Category, ContactRecord


@contextmanager
def clock(moment: datetime):
    """Services stamp events with ``timezone.now()``; the demo replays history at its time."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


STORIES = [
    # (category, place (unit code), building, title, description, caller, phone, channel, how far it got)
    ("elevator", "xc-3-g1", "星城二里41号楼", "41号楼5单元想加装电梯",
     "我家住41号楼5单元顶层，老伴每周两次去医院透析，爬六楼太难了，希望楼里加装电梯。",
     "杨阿姨", "13811110041", Case.Source.WEB, "rated"),
    ("heating-cold", "df-dongliushui", "丁东路10号院1号楼", "丁东路10号院采暖季没有暖气",
     "企业自管房，原来的采暖方式停了，家里存煤所剩无几，26户居民冬天怎么过？",
     "张女士", "13911110010", Case.Source.HOTLINE, "resolved"),
    ("ebike-charging", "yf-yanheyuan-g1", "燕和园5号楼", "小区没有电动车充电桩",
     "楼下没有充电的地方，只能从家里拉线充电，很不安全，希望装充电桩。",
     "老刘", "13611110005", Case.Source.HOTLINE, "contacted"),
    ("ebike-hazard", "xc-3-g1", "星城二里40号楼", "40号楼有人从楼上拉电线给电动车充电",
     "三楼住户把插线板从窗户垂下来给电动车充电，晚上一直插着，担心起火。",
     "", "", Case.Source.GRID_PATROL, "in_progress"),
    ("education-refund", "xc-7", "", "培训机构关门不退学费",
     "孩子报的培训班突然关门了，预交的一年学费不退，联系不上负责人。",
     "王先生", "13711110162", Case.Source.HOTLINE, "dispatched"),
    ("education-refund", "xc-3", "", "同一家培训机构拒绝退费",
     "和很多家长一样，我们在这家培训学校交了课时费，现在不上课也不退钱。",
     "李女士", "13711110163", Case.Source.HOTLINE, "overdue"),
    ("housing-stairwell", "xc-3-g1", "星城二里41号楼", "41号楼3单元楼道灯不亮",
     "3单元二楼到五楼的楼道灯都不亮了，老人晚上上下楼看不见。",
     "赵大爷", "13511110413", Case.Source.WALK_IN, "submitted"),
    ("housing-leak", "xc-3-g2", "星城二里45号楼", "45号楼顶层下雨漏水",
     "每次下雨卧室顶上都渗水，墙皮都掉了，找物业几次没人管。",
     "孙女士", "13411110045", Case.Source.WEB, "extension"),
    ("parking-space", "xc-3", "", "小区停车位太少，晚上车停到消防通道上",
     "晚上回来没有车位，很多车停在通道上，消防车进不来。",
     "周先生", "13311110033", Case.Source.HARD_TO_DO, "supervised"),
    ("noise", "xc-3-g1", "星城二里40号楼", "楼下饭馆排风扇噪音大",
     "楼下新开的饭馆排风扇半夜还在响，吵得睡不着。",
     "吴女士", "13211110012", Case.Source.WEB, "returned"),
    ("garbage", "xc-3-g1", "", "垃圾桶站满了没人清运",
     "星城二里东门的垃圾桶站两天没清运了，味道很大。",
     "钱阿姨", "13111110001", Case.Source.VOLUNTEER, "rated"),
]


def load() -> int:
    """Create the demo cases once; returns how many were created (0 when they exist)."""
    if Case.objects.exists():
        return 0
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[
        "street_dispatcher", "area_dispatcher", "xc3_caseworker", "xc3g1_grid_worker",
        "xc3g1_caseworker", "street_director", "xc7_caseworker",
    ])}
    rng = random.Random(41)
    now = timezone.now()
    with transaction.atomic():
        for index, story in enumerate(STORIES):
            _play(story, users, number=index, start=now - timedelta(days=50 - 4 * index, hours=rng.randint(0, 8)))
        _recurring_ebike_calls(users, now, rng)
    return Case.objects.count()


def _play(story, users, *, number: int, start: datetime) -> Case:
    code, place, building_name, title, text, caller, phone, channel, stage = story
    unit = Unit.objects.get(code=place)
    building = Building.objects.filter(name=building_name).first() if building_name else None
    hotline = channel == Case.Source.HOTLINE
    with clock(start):
        case = services.intake(
            source=channel, category=Category.objects.get(code=code), title=title, description=text,
            location_unit=unit, building=building, resident_name=caller, resident_phone=phone,
            consent=channel == Case.Source.WEB, received_at=start,
            hotline_order_no=f"DEMO{start:%y%m%d}{number:04d}" if hotline else None,
            by=None if channel in (Case.Source.WEB, Case.Source.HOTLINE) else users["xc3_caseworker"],
            actor_label="12345" if hotline else "",
        )
    if stage == "submitted":
        return case
    dispatcher = users["street_dispatcher"] if case.unit.code == "xingcheng" else users["area_dispatcher"]
    target = services.route_suggestion(case=case)
    if target.code not in HANDLERS and target.parent and target.parent.code in HANDLERS:
        target = target.parent  # the demo has no worker in every grid: the community takes it
    with clock(start + timedelta(minutes=40)):
        services.dispatch(case=case, to_unit=target, by=dispatcher, note="请尽快联系居民")
    if stage in ("dispatched", "overdue"):
        return case
    handler = _handler_for(target, users)
    if handler is None:
        return case
    if stage == "returned":
        with clock(start + timedelta(hours=3)):
            services.return_case(case=case, by=handler, reason="饭馆属于市场监管范围，请改派市场监管所协同处理。")
        return case
    with clock(start + timedelta(hours=2)):
        services.accept(case=case, by=handler)
    with clock(start + timedelta(hours=5)):
        services.record_contact(
            case=case, by=handler, method=ContactRecord.Method.PHONE,
            summary="已电话联系居民，了解具体情况。", arrangement="明天上午上门查看。",
            promised_date=(start + timedelta(days=3)).date(),
        )
    if stage == "contacted":
        return case
    with clock(start + timedelta(days=1)):
        services.add_progress(case=case, by=handler, note="已上门查看，联系物业和相关单位处理。", public=True)
    if stage == "extension":
        with clock(start + timedelta(days=2)):
            services.request_extension(
                case=case, by=handler, new_due_at=start + timedelta(days=20),
                reason="屋面防水需要等待维修资金审批。",
            )
        return case
    if stage == "supervised":
        with clock(start + timedelta(days=2)):
            services.supervise(
                case=case, by=users["street_director"], unit=Unit.objects.get(code="xingcheng"),
                comment="停车问题反复出现，请社区牵头召开议事会研究。", due_at=start + timedelta(days=9),
            )
        return case
    if stage == "in_progress":
        return case
    with clock(start + timedelta(days=3)):
        services.resolve(case=case, by=handler, result="问题已处理，居民认可处理结果。", nature=Case.Nature.REASONABLE)
    if stage == "rated":
        with clock(start + timedelta(days=4)):
            services.rate(case=case, resolved=True, satisfaction=Case.Satisfaction.SATISFIED,
                          channel="web", comment="感谢社区！")
    return case


HANDLERS = {"xc-3-g1": "xc3g1_grid_worker", "xc-3": "xc3_caseworker", "xc-7": "xc7_caseworker"}


def _handler_for(unit: Unit, users):
    """The demo worker who takes a case dispatched to ``unit`` (None where the demo has nobody)."""
    name = HANDLERS.get(unit.code)
    return users.get(name) if name else None


def _recurring_ebike_calls(users, now: datetime, rng: random.Random) -> None:
    """E-bike charging calls that keep coming back: the 未呼先应 hotspot of the seeds."""
    place = Unit.objects.get(code="yf-yanheyuan-g1")
    category = Category.objects.get(code="ebike-charging")
    for n in range(8):
        received = now - timedelta(days=rng.randint(1, 55), hours=rng.randint(0, 20))
        with clock(received):
            services.intake(
                source=Case.Source.HOTLINE, category=category, location_unit=place,
                title="电动自行车充电难", description="小区里没有充电桩，大家只能飞线充电。",
                resident_name="居民", resident_phone=f"1581111{n:04d}", received_at=received,
                hotline_order_no=f"DEMO-EB-{n:03d}", actor_label="12345",
            )
