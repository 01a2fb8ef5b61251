"""Helpers for the hotspot, theme and home visit tests."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import rates
from cases.models import Case
from cases.rates import RATE_TZ
from tests.cases.factories import CaseFactory

_phones = itertools.count(13900000000)


def months_back(month: date, count: int) -> date:
    for _ in range(count):
        month = rates.previous_month(month)
    return month


def cases_in(month: date, count: int, *, place, category, handled_by=None, phone: str = "", **fields) -> list[Case]:
    """``count`` cases received on the 10th of ``month`` at ``place``, each caller different unless ``phone``."""
    received = datetime(month.year, month.month, 10, 9, 0, tzinfo=RATE_TZ)
    return [
        CaseFactory(
            location_unit=place, unit=handled_by or place, category=category,
            received_at=received + timedelta(minutes=n),
            resident_phone=phone or str(next(_phones)), status=Case.Status.IN_PROGRESS, **fields,
        )
        for n in range(count)
    ]


def query_count(client, url: str) -> int:
    client.get(url)  # who is asking is read by a first request (communities.identity), then shared
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries)
