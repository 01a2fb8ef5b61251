"""A realistic area at scale, for measuring the portal: ``manage.py seed_benchmark``.

One area (基准工委, code ``bm``) of streets, communities, grids, buildings, stairwells and
households, its staff, departments and partner organisations; its volunteer corps (teams,
volunteers, memberships); and N resident requests over the last M months with their whole
history: timeline events, first contacts, return-visit ratings, supervisions, whistles with
the departments' reports, deliberation meetings whose agendas take up cases and whose
decisions set action items, volunteer activities with sign-ups and the hours ledger. Every
closed month is then frozen into MonthlyScore, as the monthly assessment would have.

Rows are generated from a seeded random source and streamed to the database in chunks of
ten thousand cases (with what belongs to them): PostgreSQL's binary COPY (psycopg 3
``cursor.copy``), ``bulk_create`` elsewhere. Memory stays flat whatever the number of cases.
On PostgreSQL the tables' secondary indexes are rebuilt once at the end, inside the same
transaction as the load (see ``sinks.bulk_mode``). The tables and their order are in
``rows.TABLES``.

Rows are plain rows here, not service calls: a million requests through ``cases.services``
would take hours. They follow the services' rules (states, timeline actions, deadlines from
the category, seat counts, one credit per sign-up, object grants) so the pages read them like
any other rows.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from guardian.models import GroupObjectPermission

from cases import rates, tallies
from cases.models import Case, MonthlyScore
from communities.models import Building, Department, Household, PartnerOrganisation, Post, Unit
from governance.coordination import groups
from governance.models import Meeting, Whistle
from volunteers import tallies as volunteer_tallies
from volunteers.models import Activity, HoursEntry, Team, Volunteer

from . import coordination, volunteers
from .area import AREA_CODE, PASSWORD, Area, Shape, build_area, department_group_ids, username
from .cases import Generator, Story, story
from .rows import LABELS, TABLES, Chunk, Ids, models_loaded
from .sinks import bulk_mode, reset_sequences, sink

__all__ = ["AREA_CODE", "PASSWORD", "Area", "Generator", "Loaded", "Shape", "Story", "area_exists", "remove_area",
           "seed", "username"]

CHUNK = 10_000


@dataclass
class Loaded:
    rows: Counter = field(default_factory=Counter)  # table name (rows.TABLES) → rows written
    frozen_months: int = 0

    @property
    def cases(self) -> int:
        return self.rows["case"]

    def summary(self) -> str:
        return ", ".join(f"{self.rows[name]} {LABELS[name]}" for name in LABELS if self.rows[name])


class Extras:
    """What is generated beside each chunk of cases: whistles, meetings, volunteer activities."""

    def __init__(self, area: Area, corps: volunteers.Corps, rng: random.Random, now: datetime) -> None:
        self.area, self.corps, self.rng, self.now = area, corps, rng, now
        self.grants = coordination.Grants.load(department_group_ids(area))

    def add(self, chunk: Chunk, stories: list[Story], *, last: bool) -> None:
        first = stories[0].case["received_at"]
        end = self.now + timedelta(days=14) if last else stories[-1].case["received_at"]  # the last plans ahead
        coordination.whistles(chunk, stories, self.area, self.grants, self.rng, self.now)
        coordination.meetings(chunk, stories, self.area, self.grants, window=(first, end), rng=self.rng,
                              now=self.now, count=_share(len(stories), coordination.MEETING_EVERY, self.rng))
        volunteers.activities(chunk, self.area, self.corps, window=(first, end), rng=self.rng, now=self.now,
                              count=_share(len(stories), volunteers.ACTIVITY_EVERY, self.rng))


def _share(cases: int, every: int, rng: random.Random) -> int:
    """One per ``every`` cases, the remainder rounded at random (small loads still get some)."""
    whole, part = divmod(cases, every)
    return whole + (rng.random() < part / every)


def seed(*, cases: int, months: int, shape: Shape | None = None, random_seed: int = 2024,
         out: Callable[[str], None] = print) -> Loaded:
    """Create the benchmark area, its corps and its cases (the area must not exist yet)."""
    rng = random.Random(random_seed)
    now = timezone.now()
    out("Building the area …")
    with transaction.atomic():
        area = build_area(shape or Shape(), rng, out)
    gen = Generator(area, cases=cases, months=months, rng=rng, now=now)
    loaded = Loaded()
    target, ids = sink(), Ids()
    with bulk_mode(models_loaded(), out):
        out("Streaming the volunteers …")
        corps = volunteers.load_volunteers(
            area, lambda: Chunk(ids), lambda chunk: _write(chunk, target, loaded), cases=cases, rng=rng, now=now,
            span=now - gen.start, chunk_size=CHUNK,
        )
        out(f"Streaming {cases} cases in chunks of {CHUNK} …")
        _load_cases(gen, cases, loaded, out, extras=Extras(area, corps, rng, now), ids=ids, target=target)
    reset_sequences(*models_loaded())
    loaded.frozen_months = freeze_closed_months(gen.start, now, out)
    out("Counting the dashboards' tallies …")
    tallies.rebuild()  # rows were copied past the services, which keep the tallies otherwise
    tallies.recount_awaiting_visits()
    tallies.rebuild_work()
    volunteer_tallies.rebuild()
    analyze()
    return loaded


def _write(chunk: Chunk, target, loaded: Loaded) -> None:
    with transaction.atomic():
        chunk.write(target, loaded.rows)


def _load_cases(gen: Generator, total: int, loaded: Loaded, out, *, extras: Extras | None = None,
                ids: Ids | None = None, target=None) -> None:
    target, ids = target or sink(), ids or Ids()
    gen.first_id = ids.next["case"]
    for start in range(0, total, CHUNK):
        chunk = Chunk(ids)
        stories = [story(gen, index, ids.take("case")) for index in range(start, min(total, start + CHUNK))]
        if extras is not None:
            extras.add(chunk, stories, last=start + CHUNK >= total)
        for one in stories:  # the extras wrote on the stories' timelines: queue them after
            chunk.add("case", one.case)
            for name, attr in [("event", "events"), ("contact", "contacts"), ("visit", "visits"),
                               ("supervision", "supervisions")]:
                for row in getattr(one, attr):
                    chunk.add(name, row)
        _write(chunk, target, loaded)
        if (start // CHUNK) % 10 == 9 or start + CHUNK >= total:
            out(f"  {loaded.rows['case']} cases, {loaded.rows['event']} events")


def freeze_closed_months(start: datetime, now: datetime, out) -> int:
    """Freeze every month that is over, oldest first, as the monthly assessment does."""
    month = rates.month_start(start.astimezone(rates.RATE_TZ).date())
    current = rates.current_month()
    done = set(MonthlyScore.objects.values_list("month", flat=True).distinct())
    count = 0
    while month < current:
        if month not in done:
            rates.freeze_month(month=month)
            count += 1
        month = rates.next_month(month)
    out(f"  {count} closed months frozen into the monthly scores")
    return count


def analyze() -> None:
    """Fresh planner statistics and visibility map after a bulk load, as autovacuum leaves a
    running database (index-only scans rely on the visibility map)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.get_autocommit() else "ANALYZE")


def area_exists() -> bool:
    return Unit.objects.filter(code=AREA_CODE).exists()


# What the load writes that may also hold someone else's rows: each must lie inside the area.
OWNED = [(Case, "unit_path"), (Volunteer, "unit_path"), (Team, "unit__path"), (Activity, "unit_path"),
         (Meeting, "unit_path"), (Whistle, "unit_path")]


def remove_area(out: Callable[[str], None] = print) -> None:
    """Delete the benchmark area and everything loaded with it (nothing else): TRUNCATE-fast on PostgreSQL.

    Refuses when the database holds cases (or volunteers, meetings …) outside the benchmark
    area: those are someone's data.
    """
    area = Unit.objects.filter(code=AREA_CODE).first()
    if area is None:
        return
    for model, path in OWNED:
        if model.objects.exclude(**{f"{path}__startswith": area.path}).exists():
            raise ValueError(f"This database holds {model._meta.verbose_name_plural} outside the benchmark area; "
                             "remove it by hand.")
    out("Removing the previous benchmark area …")
    departments = list(Department.objects.filter(unit=area).values_list("pk", flat=True))
    with transaction.atomic():
        GroupObjectPermission.objects.filter(group__name__in=[groups.group_name(pk) for pk in departments]).delete()
        _empty([Case, MonthlyScore, Volunteer, Team, Activity, Meeting, Whistle])
        Group.objects.filter(name__in=[groups.group_name(pk) for pk in departments]).delete()
        get_user_model().objects.filter(username__startswith="bench-").delete()
        units = Unit.objects.filter(path__startswith=area.path)
        Department.objects.filter(unit__in=units).delete()
        PartnerOrganisation.objects.filter(unit__in=units).delete()
        Household.objects.filter(stairwell__building__unit__in=units).delete()
        Building.objects.filter(unit__in=units).delete()
        Post.objects.filter(unit__in=units).delete()
        for depth in sorted(set(units.values_list("depth", flat=True)), reverse=True):
            Unit.objects.filter(path__startswith=area.path, depth=depth).delete()


def _empty(model_list: list) -> None:
    """Empty these tables and every table pointing at them (checked above to hold only the area's rows)."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in model_list)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        return
    Case.objects.update(merged_into=None)  # merged cases PROTECT their lead
    for table in reversed(TABLES.values()):  # the load's tables, those pointing at others first
        if table.model is HoursEntry:  # append-only for the portal; the whole ledger goes here
            HoursEntry.objects.all()._raw_delete(connection.alias)
        elif table.model is not GroupObjectPermission:
            table.model.objects.all().delete()
    for model in model_list:
        model.objects.all().delete()
