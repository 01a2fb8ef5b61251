"""The volunteer corps of the area: teams, volunteers, and activities with sign-ups and hours.

Volunteers are loaded before the cases (one per ``VOLUNTEER_EVERY`` cases, at least
``MIN_PER_COMMUNITY`` per community); activities are generated with each chunk of cases,
over the same weeks, so the corps grows busier with the area.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cases import rates
from communities.models import Role, Unit
from volunteers.models import Activity, HoursEntry, Membership, SignUp, Team, Volunteer

from .area import FAMILY, Area
from .rows import Chunk

VOLUNTEER_EVERY = 20  # cases per volunteer: 50 000 volunteers for a million cases
MIN_PER_COMMUNITY = 12
ACTIVITY_EVERY = 60  # cases per activity: about two a week in each community
GIVEN = "建国秀英玉兰桂芳志强淑珍国华丽娟海燕金凤振华德明红梅"
TEAMS = [
    (Team.Kind.VETERAN_WORKERS, "老工友志愿服务队"), (Team.Kind.PARTY_365, "365党员义工服务队"),
    (Team.Kind.IN_SERVICE_PARTY, "在职党员报到队"), (Team.Kind.BUILDING_HEADS, "楼门长队伍"),
]
ACTIVITIES = [
    (Activity.Kind.PATROL, "治安巡逻"), (Activity.Kind.HAIRCUT, "义务理发"), (Activity.Kind.REPAIR_DAY, "便民维修日"),
    (Activity.Kind.CLEAN_UP, "环境清洁"), (Activity.Kind.ELDERLY_CARE, "走访独居老人"),
    (Activity.Kind.CIVILITY, "文明引导"), (Activity.Kind.PUBLICITY, "垃圾分类宣传"),
]
VS = Volunteer.Status
SS = SignUp.Status


@dataclass
class Corps:
    """What the activities need to know of the volunteers: who is active where, in which team."""

    active: dict[int, list[int]] = field(default_factory=dict)  # community id → active volunteer ids
    teams: dict[int, list[int]] = field(default_factory=dict)  # community id → team ids


def load_volunteers(area: Area, chunk_of: Callable[[], Chunk], flush: Callable[[Chunk], None], *, cases: int,
                    rng: random.Random, now: datetime, span: timedelta, chunk_size: int) -> Corps:
    corps = Corps(teams=_teams(area))
    total = max(len(area.communities) * MIN_PER_COMMUNITY, cases // VOLUNTEER_EVERY)
    grids: dict[int, list[Unit]] = {}
    for grid in area.grids:
        grids.setdefault(grid.parent_id, []).append(grid)
    for start in range(0, total, chunk_size):
        chunk = chunk_of()
        for _ in range(start, min(total, start + chunk_size)):
            _volunteer(chunk, area, corps, grids, rng, now - span * rng.random() * 1.2)
        flush(chunk)
    _lead_teams(area)
    return corps


def _teams(area: Area) -> dict[int, list[int]]:
    created = Team.objects.bulk_create([
        Team(name=f"{community.name}{name}", kind=kind, unit=community)
        for community in area.communities for kind, name in TEAMS
    ], batch_size=1000)
    teams: dict[int, list[int]] = {}
    for team in created:
        teams.setdefault(team.unit_id, []).append(team.pk)
    return teams


def _volunteer(chunk: Chunk, area: Area, corps: Corps, grids: dict, rng: random.Random, joined: datetime) -> None:
    community = rng.choice(area.communities)
    unit = community if rng.random() < 0.5 else rng.choice(grids.get(community.pk) or [community])
    party = rng.random() < 0.45
    status = rng.choices([VS.ACTIVE, VS.APPLIED, VS.PAUSED, VS.LEFT], cum_weights=[85, 90, 95, 100])[0]
    source = rng.choices([Volunteer.Source.STAFF, Volunteer.Source.SELF, Volunteer.Source.IMPORT], [5, 3, 2])[0]
    staff = area.staff[(community.pk, Role.SECRETARY)]
    decided = None if status == VS.APPLIED else joined + timedelta(days=rng.uniform(0.1, 5))
    pk = chunk.ids.take("volunteer")
    chunk.add("volunteer", {
        "id": pk, "name": rng.choice(FAMILY) + "".join(rng.sample(GIVEN, 2)), "phone": f"17{pk:09d}",
        "unit_id": unit.pk, "unit_path": unit.path, "building_id": None, "party_member": party,
        "party_since": joined.date() - timedelta(days=rng.randrange(365 * 30)) if party else None,
        "employer_party_org": "燕山石化党委" if party and rng.random() < 0.25 else "",
        "reported_on": None, "availability": rng.choice(["工作日上午", "周末", "随时", ""]), "status": status,
        "source": source, "note": "", "user_id": None, "applied_at": joined, "decided_at": decided,
        "decided_by_id": staff if decided and source == Volunteer.Source.SELF else None,
        "created_at": joined, "updated_at": decided or joined,
    })
    action = {Volunteer.Source.STAFF: "added", Volunteer.Source.SELF: "applied", Volunteer.Source.IMPORT: "imported"}
    by = None if source == Volunteer.Source.SELF else staff
    chunk.add("volunteer_event", {"volunteer_id": pk, "at": joined, "actor_id": by, "action": action[source],
                                  "note": ""})
    teams = corps.teams[community.pk]
    for team in rng.sample(teams, 2 if rng.random() < 0.2 else 1):
        chunk.add("membership", {"team_id": team, "volunteer_id": pk, "joined_on": joined.date()})
    if status == VS.ACTIVE:
        corps.active.setdefault(community.pk, []).append(pk)


def _lead_teams(area: Area) -> None:
    """Each team is led by its longest-standing member."""
    first = Membership.objects.filter(team=OuterRef("pk")).order_by("volunteer_id").values("volunteer_id")[:1]
    Team.objects.filter(unit__path__startswith=area.area.path).update(leader=Subquery(first))


def activities(chunk: Chunk, area: Area, corps: Corps, *, count: int, window: tuple[datetime, datetime],
               rng: random.Random, now: datetime) -> None:
    """``count`` activities between the two moments, with their sign-ups, check-ins and hours."""
    first, last = window
    for _ in range(count):
        community = rng.choice(area.communities)
        local = (first + (last - first) * rng.random()).astimezone(rates.RATE_TZ)
        starts = local.replace(hour=rng.choice([8, 9, 10, 14, 15]), minute=rng.choice([0, 30]), second=0,
                               microsecond=0)
        _activity(chunk, area, corps, community, starts, rng, now)


def _activity(chunk: Chunk, area: Area, corps: Corps, community: Unit, starts: datetime,
              rng: random.Random, now: datetime) -> None:
    kind, title = rng.choice(ACTIVITIES)
    ends = starts + timedelta(minutes=rng.choice([60, 90, 120, 180]))
    capacity = rng.randint(8, 30)
    pool = corps.active.get(community.pk, [])
    people = rng.sample(pool, min(len(pool), rng.randint(3, capacity)))
    team = rng.choice(corps.teams[community.pk]) if rng.random() < 0.7 else None
    staff = area.staff[(community.pk, Role.CASEWORKER)]
    row = {
        "title": f"{community.name}{title}", "kind": kind, "unit_id": community.pk, "unit_path": community.path,
        "team_id": team, "place": f"{community.name}党群服务中心", "starts_at": starts, "ends_at": ends,
        "capacity": capacity, "seats_taken": 0, "description": "", "cancelled_at": None, "created_by_id": staff,
        "created_at": starts - timedelta(days=rng.uniform(3, 14)),
    }
    pk = chunk.add("activity", row)
    for volunteer in people:
        row["seats_taken"] += _sign_up(chunk, pk, row, volunteer, staff, rng, now, community)


def _sign_up(chunk: Chunk, activity: int, row: dict, volunteer: int, staff: int, rng: random.Random,
             now: datetime, community: Unit) -> int:
    """One sign-up; 1 when it holds a seat. A past activity's completed sign-ups earn hours."""
    starts, ends = row["starts_at"], row["ends_at"]
    over = ends < now
    roll = rng.random()
    status = (SS.COMPLETED if roll < 0.8 else SS.NO_SHOW if roll < 0.88 else SS.CANCELLED) if over else \
        (SS.SIGNED_UP if roll < 0.9 else SS.CANCELLED)
    signed = starts - timedelta(days=rng.uniform(0.5, 7))
    signup = {
        "activity_id": activity, "volunteer_id": volunteer, "status": status,
        "signed_up_at": min(signed, now), "signed_up_by_id": None, "checked_in_at": None, "checked_out_at": None,
        "cancelled_at": min(signed + timedelta(hours=rng.uniform(1, 24)), now) if status == SS.CANCELLED else None,
    }
    pk = chunk.add("signup", signup)
    if status == SS.COMPLETED:
        signup["checked_in_at"] = starts + timedelta(minutes=rng.uniform(-10, 10))
        signup["checked_out_at"] = ends + timedelta(minutes=rng.uniform(-10, 20))
        minutes = int((signup["checked_out_at"] - signup["checked_in_at"]).total_seconds() // 60)
        chunk.add("hours", {
            "volunteer_id": volunteer, "kind": HoursEntry.Kind.ACTIVITY, "minutes": minutes, "times": 1,
            "served_on": timezone.localdate(signup["checked_in_at"]), "unit_id": community.pk,
            "unit_path": community.path, "team_id": row["team_id"], "signup_id": pk, "task_id": None,
            "corrects_id": None, "description": row["title"], "created_at": signup["checked_out_at"],
            "created_by_id": staff,
        })
    return 0 if status == SS.CANCELLED else 1
