"""Factories for the cases app (shared by every cases test module)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from cases import tallies
from cases.models import DEFAULT_DEADLINES, Case, Category, CategoryDeadline, CoHandling, Urgency
from tests.factories import CommunityFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    public_name = factory.LazyAttribute(lambda o: o.name)
    portfolio = "livelihood"
    default_urgency = Urgency.ORDINARY


class CategoryDeadlineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CategoryDeadline

    category = factory.SubFactory(CategoryFactory)
    urgency = Urgency.ORDINARY
    contact_within = timedelta(hours=4)
    resolve_within = timedelta(days=3)


class CaseFactory(factory.django.DjangoModelFactory):
    """A bare case row in a given state. Use cases.services (or ``walk``) for anything that moves it."""

    class Meta:
        model = Case

    source = Case.Source.WEB
    category = factory.SubFactory(CategoryFactory)
    urgency = Urgency.ORDINARY
    title = factory.Sequence(lambda n: f"诉求{n}")
    description = "楼道灯坏了"
    location_unit = factory.SubFactory(CommunityFactory)
    unit = factory.LazyAttribute(lambda o: o.location_unit)
    dispatching_unit = factory.LazyAttribute(lambda o: o.unit)
    resident_name = "杨阿姨"
    resident_phone = "13812341234"
    received_at = factory.LazyFunction(timezone.now)
    contact_due_at = factory.LazyAttribute(lambda o: o.received_at + DEFAULT_DEADLINES[o.urgency][0])
    resolve_due_at = factory.LazyAttribute(lambda o: o.received_at + DEFAULT_DEADLINES[o.urgency][1])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        case = super()._create(model_class, *args, **kwargs)
        tallies.refresh(tallies.Keys(case))  # as the services do for every case they write
        tallies.refresh_work(tallies.work_key(case))
        return case


class CoHandlingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoHandling

    case = factory.SubFactory(CaseFactory)
    unit = factory.SubFactory(CommunityFactory)


def new_case(*, place, category=None, **fields) -> Case:
    """A case made by the real intake service (waiting at its street's dispatch desk)."""
    from cases import services

    fields.setdefault("source", Case.Source.WALK_IN)
    fields.setdefault("title", "楼道灯坏了")
    fields.setdefault("description", "41号楼5单元楼道灯坏了一周")
    fields.setdefault("resident_name", "杨阿姨")
    fields.setdefault("resident_phone", "13812345678")
    return services.intake(category=category or CategoryFactory(), location_unit=place, **fields)


STEPS = ["dispatched", "accepted", "contacted", "in_progress", "resolved", "closed"]


def walk(case: Case, *, to: str, dispatcher, handler, unit=None) -> Case:
    """Move ``case`` through the real services up to status ``to`` (one of STEPS)."""
    from cases import services

    unit = unit or case.location_unit
    for step in STEPS[: STEPS.index(to) + 1]:
        if step == "dispatched":
            case = services.dispatch(case=case, to_unit=unit, by=dispatcher)
        elif step == "accepted":
            case = services.accept(case=case, by=handler)
        elif step == "contacted":
            case = services.record_contact(case=case, by=handler, method="phone", summary="已电话联系")
        elif step == "in_progress":
            case = services.add_progress(case=case, by=handler, note="已安排电工")
        elif step == "resolved":
            case = services.resolve(case=case, by=handler, result="已更换灯泡", nature="reasonable")
        elif step == "closed":
            case = services.close(case=case, by=dispatcher)
    return case
