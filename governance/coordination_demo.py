"""Demo whistles, meetings and a consent poll for the Yanshan demo area, from the field reports.

- 星城街道 blows the whistle on the training school that will not refund fees (教委, 市场监管所);
  星城第三社区 on the leaking roof of building 45 (住建委 reports on site, 房管局 never comes).
- A round table at the stone table on the community square settles the parking on the fire
  lane (大栅栏's "under an hour"); a six-party joint meeting starts the building 41 elevator.
- The building 41 consent poll (72 households, 6 units, "2/3 agree and no one objects"),
  collected door to door, with one ballot corrected.

Everything goes through ``governance.coordination.services`` with the clock set back
(``cases.demo.clock``), so timelines, grants and figures are real. Idempotent: nothing is
created when the demo meeting already exists. Needs ``communities.demo`` and ``cases.demo``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases.demo import clock
from cases.models import Case
from communities.models import Building, Department, PartnerOrganisation, Unit

from .coordination import services
from .models import Ballot, Elector, Meeting, Poll, Summons, Whistle

ROUND_TABLE = "星城二里停车议事圆桌会"


def load() -> int:
    """Create the demo coordination data once; returns how many objects were created (0 if present)."""
    if Meeting.objects.filter(title=ROUND_TABLE).exists() or not Case.objects.exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[
        "street_director", "xc3_director", "xc3_caseworker", "xc3g1_grid_worker", "housing_liaison",
    ])}
    if len(users) < 5:
        return 0
    now = timezone.now()
    with transaction.atomic():
        created = _whistles(users, now)
        created += _meetings(users, now)
        created += _poll(users, now)
    return created


def _case(title: str) -> Case | None:
    return Case.objects.filter(title=title).first()


def _department(name: str) -> Department:
    return Department.objects.get(name=name)


def _whistles(users, now) -> int:
    created = 0
    school = _case("同一家培训机构拒绝退费")
    if school is not None and school.status not in ("closed", "merged"):
        with clock(now - timedelta(days=6)):
            services.blow_whistle(
                case=school, unit=Unit.objects.get(code="xingcheng"), reason=Whistle.Reason.JOINT_ENFORCEMENT,
                description="多名家长反映同一培训机构关门不退费，需教委、市场监管所联合执法核查。",
                departments=[_department("燕山教委"), _department("燕山市场监管所")], by=users["street_director"],
            )
        created += 1
    roof = _case("45号楼顶层下雨漏水")
    if roof is not None and roof.status not in ("closed", "merged"):
        with clock(now - timedelta(days=3)):
            whistle = services.blow_whistle(
                case=roof, unit=Unit.objects.get(code="xc-3"), reason=Whistle.Reason.BEYOND_POWER,
                description="屋面防水超出社区能力，需住建委、房管局和物业现场会商维修方案。",
                departments=[_department("燕山住建委"), _department("燕山房管局")],
                partners=[PartnerOrganisation.objects.get(name="星城第三社区物业服务中心")],
                by=users["xc3_director"],
            )
        housing = Summons.objects.get(whistle=whistle, department__name="燕山住建委")
        with clock(now - timedelta(days=3) + timedelta(hours=20)):
            services.report(summons=housing, by=users["housing_liaison"], presence=Summons.Presence.ON_SITE,
                            reporter_name="唐亮", commitment="现场查勘屋面，三天内出具维修方案。")
        with clock(now - timedelta(days=1)):
            services.rate_response(summons=housing, by=users["xc3_director"], rating=5, comment="当天到场")
            services.rate_justification(summons=housing, by=users["housing_liaison"],
                                        justification=Summons.Justification.JUSTIFIED)
        created += 1
    return created


def _meetings(users, now) -> int:
    director, caseworker = users["xc3_director"], users["xc3_caseworker"]
    xc3 = Unit.objects.get(code="xc-3")
    manager = PartnerOrganisation.objects.get(name="星城第三社区物业服务中心")
    start = now - timedelta(days=12)
    with clock(start - timedelta(days=3)):
        table = services.create_meeting(
            title=ROUND_TABLE, format=Meeting.Format.ROUND_TABLE, level=Meeting.Level.COMMUNITY, unit=xc3,
            place="社区小广场石桌", starts_at=start, ends_at=start + timedelta(minutes=50), by=director,
        )
        for kind, name in [("resident_rep", "居民代表周先生"), ("neighbourhood_committee", "星城第三社区居委会")]:
            services.invite(meeting=table, kind=kind, name=name, by=director)
        services.invite(meeting=table, kind="property_manager", partner=manager, by=director)
        services.invite(meeting=table, kind="owners_committee",
                        partner=PartnerOrganisation.objects.get(name="星城二里业主委员会"), by=director)
        services.invite(meeting=table, kind="department", department=_department("燕山城管执法队"), by=director)
        parking = _case("小区停车位太少，晚上车停到消防通道上")
        agenda = services.add_agenda_item(meeting=table, case=parking, topic="夜间停车占用消防通道", by=director)
    with clock(start + timedelta(hours=1)):
        services.record_minutes(meeting=table, by=director, minutes="五方围坐石桌，不到一小时达成一致。",
                                attended=list(table.participants.values_list("pk", flat=True)))
        decision = services.add_decision(meeting=table, agenda_item=agenda, by=director,
                                         text="加强夜间巡查，提醒车主尽早驶离；物业在东侧空地划出临时车位。")
        services.add_action_item(decision=decision, description="东侧空地划线30个临时车位", owner_partner=manager,
                                 due_on=(start + timedelta(days=7)).date(), by=director)
        services.add_action_item(decision=decision, description="夜间巡查消防通道，连续两周", owner_unit=xc3,
                                 public_owner="星城第三社区居委会", due_on=(start + timedelta(days=30)).date(),
                                 by=director)
        services.publish_notice(meeting=table, by=director,
                                summary="圆桌会商定：加强夜间巡查，物业在东侧空地划出临时车位，消防通道保持畅通。")
    elevator = _case("41号楼5单元想加装电梯")
    with clock(now - timedelta(days=40)):
        joint = services.create_meeting(
            title="41号楼加装电梯六方联席会", format=Meeting.Format.JOINT, level=Meeting.Level.BUILDING, unit=xc3,
            building=Building.objects.get(name="星城二里41号楼"), place="社区居委会议事厅",
            starts_at=now - timedelta(days=38), by=director,
        )
        services.invite(meeting=joint, kind="department", department=_department("燕山住建委"), by=director)
        services.invite(meeting=joint, kind="resident_rep", name="5单元居民代表", by=director)
        agenda = services.add_agenda_item(meeting=joint, case=elevator, by=director)
    with clock(now - timedelta(days=38) + timedelta(hours=2)):
        services.record_minutes(meeting=joint, by=director, minutes="住建委讲解加装电梯政策，5单元居民形成统一意见。")
        decision = services.add_decision(meeting=joint, agenda_item=agenda, by=director,
                                         text="启动41号楼全楼入户征询，2/3同意且无人反对即申报。")
        item = services.add_action_item(decision=decision, description="入户征询72户意见", owner_user=caseworker,
                                        due_on=(now - timedelta(days=2)).date(), by=director)
        services.update_action_item(item=item, by=caseworker, note="已走访1至3单元", status="in_progress")
    return 2


def _poll(users, now) -> int:
    director, worker = users["xc3_director"], users["xc3g1_grid_worker"]
    building = Building.objects.get(name="星城二里41号楼")
    opens = now - timedelta(days=30)
    with clock(opens):
        poll = services.open_poll(
            title="41号楼加装电梯意见征询", question="是否同意在41号楼5单元加装电梯？", buildings=[building],
            rule=Poll.Rule.YANSHAN, opens_on=opens.date(), closes_on=(now + timedelta(days=6)).date(),
            case=_case("41号楼5单元想加装电梯"), by=director,
        )
    electors = list(Elector.objects.filter(poll=poll).order_by("stairwell_number", "-floor", "room"))
    for n, elector in enumerate(electors[:55]):
        choice = Ballot.Choice.ABSTAIN if n % 19 == 7 else Ballot.Choice.AGREE
        at = opens + timedelta(days=n // 2, hours=10)
        services.record_ballot(poll=poll, elector=elector, choice=choice, method=Ballot.Method.DOOR_TO_DOOR,
                               collected_at=at, by=worker, witness="楼门长", signed_by="户主")
    first = Ballot.objects.filter(poll=poll, elector=electors[3]).get()
    services.correct_ballot(ballot=first, choice=Ballot.Choice.AGREE, reason="户主本人重新签字（原为家属代签）",
                            by=worker, witness="社区书记")
    return 1
