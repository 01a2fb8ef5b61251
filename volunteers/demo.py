"""The volunteer corps of the Yanshan demo area, from the field reports.

老杜 (杜维臣) repairs heating, water valves and bicycles and has given 1,000+ suggestions; the
老党员 甘起荣 talked his neighbours round for the lift in his stairwell; the 老工友 patrol and give
free haircuts; in-service party members report to their community. Names other than these two
are demo placeholders. Everything is made through ``volunteers.services`` (so the ledger, the
history and the case timelines are real) after ``communities.demo`` and ``cases.demo``.

Idempotent: volunteers are found by phone, teams by unit and name, activities by unit and
title; what exists is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, Category
from communities.demo import DEMO_PASSWORD, Login
from communities.models import Building, Unit

from . import services
from .models import Activity, Skill, Suggestion, Team, Volunteer

# (unit code, name, kind, description)
TEAMS = [
    ("yanshan", "燕山365党员义工服务队", Team.Kind.PARTY_365, "地区党员义工，一年365天有需要就到。"),
    ("xc-3", "星城第三社区老工友志愿者服务队", Team.Kind.VETERAN_WORKERS, "老工友参与平安巡逻、社区联络，提供免费理发等服务。"),
    ("xc-3", "星城第三社区在职党员报到队", Team.Kind.IN_SERVICE_PARTY, "在职党员回社区报到，参与社区治理。"),
    ("xc-3", "星城第三社区楼门长", Team.Kind.BUILDING_HEADS, ""),
    ("xingcheng", "星城街道文明引导员", Team.Kind.CIVILITY_GUIDES, ""),
    ("xc-7", "星城第七社区平安巡逻队", Team.Kind.PATROL, ""),
]

# (name, phone, unit code, building, party since (year) or None, employer party org, skills, teams, login)
PEOPLE = [
    ("杜维臣", "13700000001", "xc-3-g1", "星城二里41号楼", 1990, "", ["heating", "repairs", "bicycle"],
     ["星城第三社区老工友志愿者服务队"], "laodu"),
    ("甘起荣", "13700000002", "xc-3-g1", "星城二里41号楼", 1975, "", ["mediation"], ["星城第三社区楼门长"], ""),
    ("张桂兰", "13700000003", "xc-3-g1", "星城二里40号楼", None, "", ["haircut", "elderly_care"],
     ["星城第三社区老工友志愿者服务队"], ""),
    ("王建军", "13700000004", "xc-3-g2", "星城二里45号楼", None, "", ["patrol"], ["星城第三社区老工友志愿者服务队"], ""),
    ("刘海涛", "13700000005", "xc-3-g2", "", 2008, "燕山石化炼油厂党委", ["legal_advice", "publicity"],
     ["星城第三社区在职党员报到队"], ""),
    ("陈晓燕", "13700000006", "xc-3", "", 2012, "燕山石化化工二厂党支部", ["tutoring", "counselling"],
     ["星城第三社区在职党员报到队"], ""),
    ("赵德胜", "13700000007", "xc-7-g1", "星城七里2号楼", 1982, "", ["patrol", "repairs"], ["星城第七社区平安巡逻队"], ""),
    ("孙丽萍", "13700000008", "xc-1-g1", "", None, "", ["publicity"], ["星城街道文明引导员"], ""),
]
APPLICANTS = [
    ("周文斌", "13700000011", "xc-3-g1", ["clean_up"]),
    ("吴春梅", "13700000012", "xc-3-g2", ["elderly_care", "medical"]),
]
# 党员包楼: (building, volunteer phone)
ASSIGNMENTS = [("星城二里41号楼", "13700000002"), ("星城二里41号楼", "13700000001"), ("星城二里40号楼", "13700000005"),
               ("星城七里2号楼", "13700000007")]
# (unit code, team, title, kind, place, days from today, start hour, hours, seats, attendees' phones)
ACTIVITIES = [
    ("xc-3", "星城第三社区老工友志愿者服务队", "星城二里夜间平安巡逻", Activity.Kind.PATROL, "星城二里东门集合", -20, 19, 2, 6,
     ["13700000001", "13700000003", "13700000004"]),
    ("xc-3", "星城第三社区老工友志愿者服务队", "老工友义务理发", Activity.Kind.HAIRCUT, "社区服务站", -12, 9, 3, 4,
     ["13700000003"]),
    ("xc-3", "星城第三社区在职党员报到队", "电动自行车安全充电宣传", Activity.Kind.PUBLICITY, "星城二里40号楼前", -5, 15, 2, 10,
     ["13700000005", "13700000006", "13700000001"]),
    ("xc-3", "星城第三社区老工友志愿者服务队", "便民维修日：修暖气、修水阀、修自行车", Activity.Kind.REPAIR_DAY, "社区服务站门前",
     4, 9, 3, 5, []),
    ("xc-7", "星城第七社区平安巡逻队", "星城七里周末巡逻", Activity.Kind.PATROL, "七里北门", 6, 19, 2, 8, []),
]
SUGGESTIONS = [
    ("13700000001", "楼道换用节能灯泡", "41号楼各单元楼道灯还是老式白炽灯，耗电又容易坏，建议统一换成声控节能灯。", "星城二里41号楼"),
    ("13700000001", "自行车棚加装照明", "二里东门自行车棚晚上太黑，老人取车容易摔倒，建议加装一盏灯。", ""),
    ("13700000003", "理发服务固定时间", "老工友义务理发能不能每月固定一个周六，方便老人安排。", ""),
]


@transaction.atomic
def load() -> list[Login]:
    """Create (or complete) the demo corps; returns the volunteers' demo logins."""
    units = {u.code: u for u in Unit.objects.filter(code__in={"yanshan", "xingcheng", "xc-1", "xc-3", "xc-7"} | {
        p[2] for p in PEOPLE} | {a[2] for a in APPLICANTS})}
    director = get_user_model().objects.filter(username="xc3_director").first()
    if director is None or "xc-3" not in units:
        return []  # the demo area is not loaded
    street_director = get_user_model().objects.get(username="street_director")
    party_365_by = get_user_model().objects.get(username="area_director")
    teams = _teams(units, street_director, party_365_by)
    people = _people(units, teams, street_director)
    party_365 = teams["燕山365党员义工服务队"]
    if not party_365.memberships.filter(volunteer=people["13700000001"]).exists():
        services.add_member(team=party_365, volunteer=people["13700000001"], by=party_365_by)
    _applicants(units)
    _assignments(people, street_director)
    _activities(units, teams, people, street_director)
    _suggestions(people, director)
    _task(people)
    return _logins(people)


def _teams(units, by, area_by) -> dict[str, Team]:
    teams = {}
    for code, name, kind, description in TEAMS:
        team = Team.objects.filter(unit=units[code], name=name).first()
        actor = area_by if units[code].level == Unit.Level.AREA else by
        teams[name] = team or services.create_team(by=actor, name=name, kind=kind, unit=units[code], description=description)
    return teams


def _people(units, teams, by) -> dict[str, Volunteer]:
    skills = {s.code: s for s in Skill.objects.all()}
    people = {}
    for name, phone, code, building, since, org, skill_codes, team_names, _login in PEOPLE:
        volunteer = Volunteer.objects.filter(phone=phone).first()
        if volunteer is None:
            volunteer = services.add_volunteer(
                by=by, name=name, phone=phone, unit=units[code],
                building=Building.objects.filter(name=building).first() if building else None,
                party_member=since is not None, party_since=date(since, 7, 1) if since else None,
                employer_party_org=org, reported_on=timezone.localdate() - timedelta(days=200) if org else None,
                skills=[skills[c] for c in skill_codes if c in skills], teams=[teams[t] for t in team_names],
                availability="工作日上午、周末",
            )
        people[phone] = volunteer
    for name in ("星城第三社区老工友志愿者服务队",):
        if teams[name].leader_id is None:
            services.set_leader(team=teams[name], volunteer=people["13700000001"], by=by)
    return people


def _applicants(units) -> None:
    skills = {s.code: s for s in Skill.objects.all()}
    for name, phone, code, skill_codes in APPLICANTS:
        if not Volunteer.objects.filter(phone=phone).exists():
            services.register(name=name, phone=phone, unit=units[code], skills=[skills[c] for c in skill_codes if c in skills],
                              availability="周末")


def _assignments(people, by) -> None:
    for building_name, phone in ASSIGNMENTS:
        building = Building.objects.filter(name=building_name).first()
        volunteer = people[phone]
        if building and not volunteer.building_assignments.filter(building=building, ended_on__isnull=True).exists():
            services.assign_building(building=building, volunteer=volunteer, by=by,
                                     since=timezone.localdate() - timedelta(days=365))


def _activities(units, teams, people, by) -> None:
    today = timezone.localdate()
    for code, team, title, kind, place, days, hour, hours, seats, attendees in ACTIVITIES:
        if Activity.objects.filter(unit=units[code], title=title).exists():
            continue
        start = timezone.make_aware(datetime.combine(today + timedelta(days=days), time(hour)))
        activity = services.create_activity(
            by=by, title=title, kind=kind, unit=units[code], team=teams[team], place=place, starts_at=start,
            ends_at=start + timedelta(hours=hours), capacity=seats, description="",
        )
        for index, phone in enumerate(attendees):
            signup = services.sign_up(activity=activity, volunteer=people[phone], by=by)
            came = start + timedelta(minutes=5 * index)
            services.record_attendance(signup=signup, by=by, checked_in_at=came, checked_out_at=activity.ends_at)


def _suggestions(people, by) -> None:
    dispatcher = get_user_model().objects.filter(username="street_dispatcher").first()
    for phone, title, text, building_name in SUGGESTIONS:
        volunteer = people[phone]
        if Suggestion.objects.filter(volunteer=volunteer, title=title).exists():
            continue
        building = Building.objects.filter(name=building_name).first() if building_name else None
        suggestion = services.submit_suggestion(volunteer=volunteer, title=title, text=text, by=by, building=building)
        if title.startswith("楼道") and dispatcher is not None:
            category = Category.objects.filter(code="housing-stairwell").first()
            if category:
                services.suggestion_to_case(suggestion=suggestion, category=category, by=dispatcher)
            services.answer_suggestion(suggestion=suggestion, answer="好建议！已转为工单，由街道派单物业统一更换。", by=by)


def _task(people) -> None:
    """The 41号楼 stairwell lights (a demo case): 老杜 checks them and reports back."""
    worker = get_user_model().objects.filter(username="street_caseworker").first()
    case = Case.objects.filter(title="41号楼3单元楼道灯不亮").first()
    volunteer = people["13700000001"]
    if worker is None or case is None or volunteer.tasks.filter(case=case).exists():
        return
    task = services.assign_task(case=case, volunteer=volunteer, description="请老杜先去3单元看看是灯泡还是线路的问题。", by=worker)
    services.report_task(task=task, report="是二楼到五楼的声控开关坏了，已换了两个，剩下的要物业买配件。", minutes=60, by=worker)


def _logins(people) -> list[Login]:
    logins = []
    password = make_password(DEMO_PASSWORD)
    for name, phone, code, *_rest, username in PEOPLE:
        if not username:
            continue
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.last_name, user.first_name, user.password, user.is_active = name[0], name[1:], password, True
        user.save()
        if people[phone].user_id != user.pk:
            Volunteer.objects.filter(pk=people[phone].pk).update(user=user)
        logins.append(Login(username, DEMO_PASSWORD, _("Volunteer"), people[phone].unit.name))
    return logins


