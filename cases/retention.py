"""Retention: residents' personal data of long-closed cases is removed, the statistics stay.

After ``settings.RESIDENT_DATA_RETENTION_DAYS`` (default about three years) from closing (or from
the last change, for a case merged into another), a case keeps what the 三率, rankings, hot-spot
analysis and audits need, and loses what identifies or describes the caller:

| removed (emptied)                                   | kept                                        |
| --------------------------------------------------- | ------------------------------------------- |
| caller's name and phone; free-text address          | place (unit, building), category, summary   |
| description (residents write names, rooms, phones)  | every time stamp, status, deadline, rating  |
| contact records' summary and arrangement            | contact time, method, promised date         |
| timeline notes; the contact arrangement in details  | the timeline's actions, actors, states      |
| return-visit comments                               | the ratings themselves (resolved, satisfied)|
| photos (files deleted, rows removed)                | who opened the phone number, and when       |

The work runs in batches of primary keys, each in one transaction, a fixed number of queries per
batch, so it goes through millions of rows without holding locks for long. It is idempotent: a case
carries ``anonymised_at`` once done and is never picked again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Func, Q, QuerySet
from django.utils import timezone

from .models import Attachment, Case, ContactRecord, ReturnVisit, TimelineEvent

BATCH_SIZE = 2000
S = Case.Status


@dataclass
class Progress:
    cases: int = 0
    photos: int = 0


def cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=settings.RESIDENT_DATA_RETENTION_DAYS)


def finished_before(before, *, prefix: str = "") -> Q:
    """Closed, or merged, before ``before`` (``prefix``: the path to the case, e.g. "case__")."""
    return Q(**{f"{prefix}status": S.CLOSED, f"{prefix}closed_at__lt": before}) | Q(
        **{f"{prefix}status": S.MERGED, f"{prefix}updated_at__lt": before}
    )


def due_cases(*, before) -> QuerySet[Case]:
    """Cases whose personal data is past the retention period and still there."""
    return Case.objects.filter(finished_before(before), anonymised_at__isnull=True)


def batches(queryset: QuerySet, size: int = BATCH_SIZE) -> Iterator[list[int]]:
    """The queryset's primary keys, ``size`` at a time in key order (a keyset walk: no OFFSET)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


@transaction.atomic
def anonymise(case_ids: list[int], *, now=None) -> int:
    """Remove the personal data of these cases; returns the number of photos removed."""
    now = now or timezone.now()
    Case.objects.filter(pk__in=case_ids, anonymised_at__isnull=True).update(
        resident_name="", resident_phone="", address="", description="", anonymised_at=now,
    )
    ContactRecord.objects.filter(case_id__in=case_ids).update(summary="", arrangement="")
    ReturnVisit.objects.filter(case_id__in=case_ids).exclude(comment="").update(comment="")
    _scrub_timeline(case_ids)
    return _remove_photos(case_ids)


def _scrub_timeline(case_ids: list[int]) -> None:
    # QuerySet.update on purpose: TimelineEvent.save() refuses changes, this is the one sanctioned edit.
    TimelineEvent.objects.filter(case_id__in=case_ids).exclude(note="").update(note="")
    TimelineEvent.objects.filter(case_id__in=case_ids, data__has_key="arrangement").update(
        data=WithoutKey("data", key="arrangement")
    )


class WithoutKey(Func):
    """A JSON object without one of its keys, computed by the database (PostgreSQL and SQLite)."""

    output_field = models.JSONField()

    def __init__(self, expression, *, key: str) -> None:
        if not key.isidentifier():
            raise ValueError(f"Not a plain JSON key: {key!r}")
        self.key = key
        super().__init__(F(expression) if isinstance(expression, str) else expression)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=f"json_remove(%(expressions)s, '$.{self.key}')", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=f"(%(expressions)s - '{self.key}'::text)", **extra)


def _remove_photos(case_ids: list[int]) -> int:
    photos = list(Attachment.objects.filter(case_id__in=case_ids).only("pk", "file"))
    if not photos:
        return 0
    names = [photo.file.name for photo in photos]
    storage = photos[0].file.storage
    Attachment.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
    # Files go once the rows are committed: a rolled-back batch keeps both.
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    return len(photos)


def anonymise_due(*, before=None, batch_size: int = BATCH_SIZE, dry_run: bool = False) -> Progress:
    before = before or cutoff()
    progress = Progress()
    queryset = due_cases(before=before)
    if dry_run:
        progress.cases = queryset.count()
        progress.photos = Attachment.objects.filter(case__in=queryset).count()
        return progress
    for ids in batches(queryset, batch_size):
        progress.photos += anonymise(ids)
        progress.cases += len(ids)
    return progress
