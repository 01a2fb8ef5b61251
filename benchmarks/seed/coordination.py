"""Whistles (吹哨报到) on the harder cases, and deliberation meetings with agendas and action items.

Both are generated with each chunk of cases, from that chunk's cases: a whistle is blown on
about one case in a hundred (one in ten of those put under supervision), a meeting is held
for about every ``MEETING_EVERY`` cases, most of its agenda items being cases of its
community received before it. Each writes the timeline rows and object grants the
services would (``blow_whistle``, ``add_agenda_item``, ``add_decision``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from cases import rates
from cases.models import Case
from communities.models import Role, Unit
from governance.models import ActionItem, Meeting, Participant, Summons, Whistle

from .area import Area
from .cases import Story, _event
from .rows import Chunk

WHISTLE_SHARE, SUPERVISED_WHISTLE_SHARE = 0.01, 0.1
MEETING_EVERY = 250  # cases per meeting: about two a month in each community
S = Case.Status
WHISTLE_REASONS = [Whistle.Reason.BEYOND_POWER, Whistle.Reason.JOINT_ENFORCEMENT, Whistle.Reason.EMERGENCY]
FORMATS = [Meeting.Format.ROUND_TABLE, Meeting.Format.COUNCIL_HALL, Meeting.Format.BENCH, Meeting.Format.JOINT,
           Meeting.Format.PARTY_COORDINATION]
A = ActionItem.Status


@dataclass
class Grants:
    """Guardian's group object permissions: a summoned or invited department's group sees the object."""

    groups: dict[int, int]  # department id → group id
    case_type: int
    meeting_type: int
    view_case: int
    view_meeting: int

    @classmethod
    def load(cls, groups: dict[int, int]) -> Grants:
        case_type = ContentType.objects.get_for_model(Case)
        meeting_type = ContentType.objects.get_for_model(Meeting)
        permission = Permission.objects.get
        return cls(groups, case_type.pk, meeting_type.pk,
                   permission(content_type=case_type, codename="view_case").pk,
                   permission(content_type=meeting_type, codename="view_meeting").pk)

    def case(self, chunk: Chunk, case_id: int, department: int) -> None:
        chunk.add("grant", {"content_type_id": self.case_type, "object_pk": str(case_id),
                            "group_id": self.groups[department], "permission_id": self.view_case})

    def meeting(self, chunk: Chunk, meeting_id: int, department: int) -> None:
        chunk.add("grant", {"content_type_id": self.meeting_type, "object_pk": str(meeting_id),
                            "group_id": self.groups[department], "permission_id": self.view_meeting})


# ------------------------------------------------------------------ whistles


def whistles(chunk: Chunk, stories: list[Story], area: Area, grants: Grants, rng: random.Random,
             now: datetime) -> None:
    for story in stories:
        case = story.case
        share = SUPERVISED_WHISTLE_SHARE if case.get("is_supervised") else WHISTLE_SHARE
        if case.get("dispatched_at") and case["status"] != S.MERGED and rng.random() < share:
            _whistle(chunk, story, area, grants, rng, now)


def _whistle(chunk: Chunk, story: Story, area: Area, grants: Grants, rng: random.Random, now: datetime) -> None:
    case = story.case
    blown = case["dispatched_at"] + timedelta(hours=rng.uniform(2, 48))
    if blown >= (case.get("resolved_at") or now):  # a finished case gets no whistle
        return
    unit = _whistling_unit(area, case)
    by = area.staff[(unit.pk, Role.SECRETARY)]
    reason = rng.choices(WHISTLE_REASONS, [60, 35, 5])[0]
    within = Whistle.DEFAULT_REPORT_WITHIN[reason]
    description = "需相关部门到场协调解决。"
    pk = chunk.add("whistle", {
        "case_id": case["id"], "unit_id": unit.pk, "unit_path": unit.path, "reason": reason,
        "description": description, "report_within": within, "blown_at": blown, "report_due_at": blown + within,
        "blown_by_id": by,
    })
    departments = rng.sample(area.departments, rng.choice([1, 1, 2, 3]))
    _event(story, blown, "whistle_blown", by, "", case["status"], case["status"], note=description)
    story.events[-1]["data"] = {"whistle": pk, "reason": reason, "report_due_at": (blown + within).isoformat(),
                                "summoned": [name for _pk, name in departments]}
    for department, name in departments:
        grants.case(chunk, case["id"], department)
        _summons(chunk, story, pk, blown, within, department, name, rng, now)


def _whistling_unit(area: Area, case: dict) -> Unit:
    """The community of the place, or its street when the street handles the case itself."""
    return area.community_of(case["unit_path"]) or next(s for s in area.streets if s.pk == case["dispatching_unit_id"])


def _summons(chunk: Chunk, story: Story, whistle: int, blown: datetime, within: timedelta, department: int,
             name: str, rng: random.Random, now: datetime) -> None:
    reported = blown + within * rng.uniform(0.1, 1.3)
    came = rng.random() < 0.92 and reported < now
    closed = story.case["status"] == S.CLOSED
    rated = came and closed and rng.random() < 0.7
    row = {
        "whistle_id": whistle, "department_id": department, "partner_id": None,
        "reported_at": reported if came else None, "reported_by_id": None,
        "reporter_name": f"{name}值班员" if came else "",
        "presence": rng.choice([Summons.Presence.ON_SITE] * 3 + [Summons.Presence.REMOTE]) if came else "",
        "commitment": "三日内到场处置。" if came else "", "response_rating": rng.choice([3, 4, 4, 5, 5]) if rated else None,
        "response_comment": "", "response_rated_by_id": None,
        "response_rated_at": story.case["closed_at"] if rated else None,
        "justification": Summons.Justification.JUSTIFIED if rated else "", "justification_comment": "",
        "justification_by_id": None, "justification_at": story.case["closed_at"] if rated else None,
    }
    pk = chunk.add("summons", row)
    if came:
        _event(story, reported, "whistle_reported", None, row["reporter_name"], story.case["status"],
               story.case["status"], note=f"{name}已报到。")
        story.events[-1]["data"] = {"whistle": whistle, "summons": pk, "late": reported > blown + within,
                                    "presence": row["presence"]}


# ------------------------------------------------------------------ meetings


def meetings(chunk: Chunk, stories: list[Story], area: Area, grants: Grants, *, count: int,
             window: tuple[datetime, datetime], rng: random.Random, now: datetime) -> None:
    """``count`` meetings between the two moments; their agendas take the communities' cases."""
    by_community: dict[int, list[Story]] = {}
    for story in stories:
        community = area.community_of(story.case["unit_path"])
        if community is not None:
            by_community.setdefault(community.pk, []).append(story)
    first, last = window
    for _ in range(count):
        community = rng.choice(area.communities)
        local = (first + (last - first) * rng.random()).astimezone(rates.RATE_TZ)
        starts = local.replace(hour=rng.choice([9, 10, 14, 15, 19]), minute=0, second=0, microsecond=0)
        _meeting(chunk, area, grants, community, starts, by_community.get(community.pk, []), rng, now)


def _meeting(chunk: Chunk, area: Area, grants: Grants, community: Unit, starts: datetime, stories: list[Story],
             rng: random.Random, now: datetime) -> None:
    ends = starts + timedelta(minutes=rng.choice([60, 90, 120]))
    held = ends < now and rng.random() < 0.97
    status = Meeting.Status.HELD if held else (Meeting.Status.CANCELLED if ends < now else Meeting.Status.PLANNED)
    secretary = area.staff[(community.pk, Role.SECRETARY)]
    held_at = min(ends + timedelta(hours=rng.uniform(1, 48)), now) if held else None
    published = held and rng.random() < 0.6
    row = {
        "title": f"{community.name}议事协商会", "format": rng.choice(FORMATS), "level": Meeting.Level.COMMUNITY,
        "unit_id": community.pk, "unit_path": community.path, "building_id": None,
        "place": f"{community.name}议事厅", "starts_at": starts, "ends_at": ends, "convener_id": secretary,
        "status": status, "minutes": "与会各方充分协商，形成一致意见。" if held else "", "held_at": held_at,
        "cancel_reason": "" if held or status == Meeting.Status.PLANNED else "天气原因，改期举行。",
        "notice_summary": "会议就居民关心的问题达成共识，将按期落实。" if published else "",
        "notice_published_at": held_at if published else None, "created_by_id": secretary,
        "created_at": starts - timedelta(days=rng.uniform(2, 10)), "updated_at": held_at or starts - timedelta(days=1),
    }
    pk = chunk.add("meeting", row)
    invited = _participants(chunk, area, grants, pk, community, held, rng)
    earlier = [s for s in stories if s.case["received_at"] < starts - timedelta(days=1)]
    for position in range(1, rng.randint(1, 3) + 1):
        story = rng.choice(earlier) if earlier and rng.random() < 0.7 else None
        _agenda_item(chunk, area, grants, row, pk, position, story, invited, rng, now)


def _participants(chunk: Chunk, area: Area, grants: Grants, meeting: int, community: Unit, held: bool,
                  rng: random.Random) -> set[int]:
    parties = [(Participant.Kind.NEIGHBOURHOOD_COMMITTEE, f"{community.name}居委会", None, None),
               (Participant.Kind.RESIDENT_REP, "居民代表", None, None)]
    parties += [(Participant.Kind.PROPERTY_MANAGER if "物业" in name else Participant.Kind.OWNERS_COMMITTEE,
                 name, None, pk) for pk, name in area.partners.get(community.pk, [])]
    invited = set()
    if rng.random() < 0.3:
        department, name = rng.choice(area.departments)
        parties.append((Participant.Kind.DEPARTMENT, name, department, None))
        invited.add(department)
        grants.meeting(chunk, meeting, department)
    for kind, name, department, partner in parties:
        chunk.add("participant", {"meeting_id": meeting, "kind": kind, "name": name, "department_id": department,
                                  "partner_id": partner, "attended": (rng.random() < 0.9) if held else None})
    return invited


def _agenda_item(chunk: Chunk, area: Area, grants: Grants, meeting: dict, meeting_id: int, position: int,
                 story: Story | None, invited: set[int], rng: random.Random, now: datetime) -> None:
    held = meeting["status"] == Meeting.Status.HELD
    topic = story.case["title"] if story else rng.choice(["楼道堆物清理", "电动自行车充电桩建设", "小区停车管理"])
    pk = chunk.add("agenda", {"meeting_id": meeting_id, "position": position, "case_id": story and story.case["id"],
                              "topic": topic, "discussion": "各方发表意见。" if held else ""})
    secretary = meeting["convener_id"]
    if story:
        at = max(meeting["created_at"], story.case["received_at"] + timedelta(hours=1))
        _event(story, at, "meeting_agenda", secretary, "", story.case["status"],
               story.case["status"], note=f"列入{meeting['title']}议题")
        story.events[-1]["data"] = {"meeting": meeting_id, "agenda_item": pk}
    if not held:
        return
    text = f"{topic}：由社区牵头，相关方配合落实。"
    decision = chunk.add("decision", {"meeting_id": meeting_id, "agenda_item_id": pk, "text": text,
                                      "created_at": meeting["held_at"]})
    if story:
        _event(story, meeting["held_at"], "meeting_decision", secretary, "", story.case["status"],
               story.case["status"], note=f"{meeting['title']}决定：{text}")
        story.events[-1]["data"] = {"meeting": meeting_id, "decision": decision}
    if position == 1 or rng.random() < 0.8:  # a meeting held ends with at least one task to follow up
        _action_item(chunk, area, grants, meeting, meeting_id, decision, invited, rng, now)


def _action_item(chunk: Chunk, area: Area, grants: Grants, meeting: dict, meeting_id: int, decision: int,
                 invited: set[int], rng: random.Random, now: datetime) -> None:
    community = meeting["unit_id"]
    owner = {"owner_user_id": None, "owner_department_id": None, "owner_partner_id": None, "owner_unit_id": None}
    roll = rng.random()
    if roll < 0.5:
        owner["owner_unit_id"] = community
    elif roll < 0.75:
        owner["owner_user_id"] = meeting["convener_id"]
    elif roll < 0.9 or not area.partners.get(community):
        department = rng.choice(area.departments)[0]
        owner["owner_department_id"] = department
        if department not in invited:
            invited.add(department)
            grants.meeting(chunk, meeting_id, department)
    else:
        owner["owner_partner_id"] = rng.choice(area.partners[community])[0]
    held_at = meeting["held_at"]
    due = timezone.localdate(held_at) + timedelta(days=rng.randint(7, 45))
    status = _action_status((timezone.localdate(now) - due).days, rng)
    done_at = min(held_at + (datetime.combine(due, held_at.timetz()) - held_at) * rng.uniform(0.3, 1.2), now) \
        if status in ActionItem.FINISHED else None
    pk = chunk.add("action", {
        "decision_id": decision, "meeting_id": meeting_id, "unit_path": meeting["unit_path"],
        "description": "按会议决定推进落实。", **owner, "public_owner": "", "due_on": due, "status": status,
        "done_at": done_at, "created_by_id": meeting["convener_id"], "created_at": held_at,
        "updated_at": done_at or held_at,
    })
    if status != A.OPEN:
        at = done_at or held_at + (now - held_at) * rng.uniform(0.1, 0.9)
        chunk.add("action_update", {"action_item_id": pk, "at": at, "by_id": meeting["convener_id"],
                                    "note": "已落实。" if status == A.DONE else "正在推进。", "from_status": A.OPEN,
                                    "to_status": status})


def _action_status(days_past_due: int, rng: random.Random) -> str:
    """Long-past deadlines are nearly all met; a few stay open late (the overdue list)."""
    roll = rng.random()
    if days_past_due > 30:
        return A.DONE if roll < 0.85 else (A.DROPPED if roll < 0.9 else A.IN_PROGRESS)
    if days_past_due > 0:
        return A.DONE if roll < 0.6 else (A.IN_PROGRESS if roll < 0.9 else A.OPEN)
    return A.OPEN if roll < 0.5 else (A.IN_PROGRESS if roll < 0.9 else A.DONE)
