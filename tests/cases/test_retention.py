"""Retention: `anonymise_closed_cases` removes callers' personal data of long-closed cases and
keeps every statistic (三率, frozen scores) as it was; idempotent, batched, with a dry run."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from cases import rates, retention, services
from cases.models import Attachment, Case, ContactRecord, MonthlyScore, ReturnVisit, TimelineEvent
from communities.models import Role
from tests.cases.factories import CaseFactory, walk
from tests.cases.test_rates import BEIJING, OCTOBER, hand_fixture, make_case  # noqa: F401 (fixture)
from tests.factories import staff

pytestmark = pytest.mark.django_db
LONG_AGO = datetime(2026, 10, 20, 12, 0, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def short_retention(settings, tmp_path):
    settings.RESIDENT_DATA_RETENTION_DAYS = 30
    settings.MEDIA_ROOT = tmp_path


def closed_case(community, street, *, closed_at=LONG_AGO) -> Case:
    """A case through the real services: contact, a rating with a comment, a photo; then aged."""
    dispatcher, handler = staff(street, Role.DISPATCHER), staff(community, Role.CASEWORKER)
    case = CaseFactory(
        location_unit=community, resident_name="王秀兰", resident_phone="13812345678",
        address="星城二里41号楼5单元302", description="我是302的王秀兰，电话13812345678，楼道灯坏了",
    )
    case = walk(case, to="accepted", dispatcher=dispatcher, handler=handler)
    case = services.record_contact(case=case, by=handler, method="phone", summary="王阿姨说晚上再来", arrangement="周五上门")
    case = services.resolve(case=case, by=handler, result="已更换灯泡", nature="reasonable")
    services.rate(case=case, resolved=True, satisfaction="satisfied", channel="web", comment="谢谢小李，我住302")
    Attachment(case=case, content_type="image/jpeg", size=3).file.save("p.jpg", ContentFile(b"abc"))
    Case.objects.filter(pk=case.pk).update(closed_at=closed_at)
    return Case.objects.get(pk=case.pk)


def run(*args: str) -> str:
    out = StringIO()
    call_command("anonymise_closed_cases", *args, stdout=out)
    return out.getvalue()


def test_a_long_closed_case_loses_the_callers_data_and_keeps_its_facts(community, street, django_capture_on_commit_callbacks):
    case = closed_case(community, street)
    photo_name = case.attachments.get().file.name
    facts = Case.objects.filter(pk=case.pk).values(
        "status", "received_at", "contacted_at", "closed_at", "rated_resolved", "satisfaction", "unit", "title",
    ).get()
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 cases" in run()
    case.refresh_from_db()
    assert (case.resident_name, case.resident_phone, case.address, case.description) == ("", "", "", "")
    assert case.anonymised_at is not None and case.masked_phone == ""
    assert set(ContactRecord.objects.filter(case=case).values_list("summary", "arrangement")) == {("", "")}
    assert set(ReturnVisit.objects.filter(case=case).values_list("comment", flat=True)) == {""}
    events = TimelineEvent.objects.filter(case=case)
    assert set(events.values_list("note", flat=True)) == {""}
    assert not any("arrangement" in event.data for event in events)
    assert not Attachment.objects.filter(case=case).exists() and not default_storage.exists(photo_name)
    assert Case.objects.filter(pk=case.pk).values(*facts).get() == facts
    assert list(events.values_list("action", flat=True))[:3] == ["dispatched", "accepted", "contacted"]


def test_recent_and_open_cases_are_left_alone(community, street):
    recent = closed_case(community, street, closed_at=timezone.now() - timedelta(days=5))
    still_open = CaseFactory(location_unit=community, resident_phone="13900001111", received_at=LONG_AGO)
    run()
    assert Case.objects.get(pk=recent.pk).resident_phone == "13812345678"
    assert Case.objects.get(pk=still_open.pk).resident_phone == "13900001111"


def test_a_dry_run_counts_and_changes_nothing(community, street):
    case = closed_case(community, street)
    assert run("--dry-run") == f"1 cases closed before {retention.cutoff():%Y-%m-%d} (30 days) would be anonymised; 1 photos would be removed.\n"
    assert Case.objects.get(pk=case.pk).resident_name == "王秀兰"


def test_running_again_changes_nothing(community, street):
    closed_case(community, street)
    run()
    assert run().startswith("0 cases")


def test_the_rates_and_frozen_scores_are_the_same_after(hand_fixture, community):
    Case.objects.filter(status__in=[Case.Status.CLOSED, Case.Status.MERGED]).update(
        closed_at=LONG_AGO, resident_name="张三", resident_phone="13811112222",
    )
    Case.objects.filter(status=Case.Status.MERGED).update(updated_at=LONG_AGO)
    live_before = rates.unit_month_scores(community, OCTOBER)
    rates.freeze_month(month=OCTOBER)
    frozen_before = list(MonthlyScore.objects.order_by("pk").values())
    shown_before = rates.unit_month_scores(community, OCTOBER)
    due = retention.due_cases(before=retention.cutoff()).count()
    assert due == Case.objects.filter(status__in=[Case.Status.CLOSED, Case.Status.MERGED]).count() > 5
    run("--batch-size", "3")
    assert not Case.objects.filter(resident_phone="13811112222").exists()
    assert list(MonthlyScore.objects.order_by("pk").values()) == frozen_before
    assert rates.unit_month_scores(community, OCTOBER) == shown_before
    MonthlyScore.objects.all().delete()  # recomputed from the anonymised cases
    assert rates.unit_month_scores(community, OCTOBER) == live_before


@pytest.mark.parametrize("size", [5, 50])
def test_a_batch_costs_the_same_queries_whatever_its_size(community, size, django_assert_max_num_queries):
    ids = [
        make_case(community, rated=(True, "satisfied"), closed_at=LONG_AGO, resident_phone="13800000000").pk
        for _ in range(size)
    ]
    with django_assert_max_num_queries(8):
        retention.anonymise(ids)
    assert Case.objects.filter(pk__in=ids, resident_phone="").count() == size
