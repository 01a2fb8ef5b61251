"""Factories for the cases app (shared by every cases test module)."""

from __future__ import annotations

import factory
from django.utils import timezone

from cases.models import Case, Category, Urgency
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


class CaseFactory(factory.django.DjangoModelFactory):
    """A bare case row in a given state. Use cases.services for anything that moves it."""

    class Meta:
        model = Case

    source = Case.Source.WEB
    category = factory.SubFactory(CategoryFactory)
    urgency = Urgency.ORDINARY
    title = factory.Sequence(lambda n: f"诉求{n}")
    description = "楼道灯坏了"
    location_unit = factory.SubFactory(CommunityFactory)
    unit = factory.LazyAttribute(lambda o: o.location_unit)
    resident_name = "杨阿姨"
    resident_phone = "13812341234"
    received_at = factory.LazyFunction(timezone.now)
