"""factory-boy factories shared by every app's tests."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from communities import services as community_services
from communities.models import (
    Building,
    Department,
    Household,
    PartnerOrganisation,
    Post,
    Role,
    Stairwell,
    Unit,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-123")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"单位{n}")
    code = factory.Sequence(lambda n: f"u-{n}")
    level = Unit.Level.AREA
    parent = None


class AreaFactory(UnitFactory):
    level = Unit.Level.AREA
    name = factory.Sequence(lambda n: f"地区{n}工委")


class StreetFactory(UnitFactory):
    level = Unit.Level.STREET
    parent = factory.SubFactory(AreaFactory)
    name = factory.Sequence(lambda n: f"第{n}街道")


class CommunityFactory(UnitFactory):
    level = Unit.Level.COMMUNITY
    parent = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"第{n}社区")


class GridFactory(UnitFactory):
    level = Unit.Level.GRID
    parent = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    unit = factory.SubFactory(GridFactory)
    name = factory.Sequence(lambda n: f"{n}号楼")
    floors = 6


class StairwellFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stairwell

    building = factory.SubFactory(BuildingFactory)
    number = factory.Sequence(lambda n: n + 1)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    stairwell = factory.SubFactory(StairwellFactory)
    floor = 1
    room = factory.Sequence(lambda n: f"{100 + n}")
    area = Decimal("60.00")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"部门{n}")
    kind = Department.Kind.HOUSING
    unit = factory.SubFactory(AreaFactory)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganisation

    name = factory.Sequence(lambda n: f"物业公司{n}")
    kind = PartnerOrganisation.Kind.PROPERTY_MANAGER
    unit = factory.SubFactory(CommunityFactory)


def staff(unit: Unit, role: str = Role.CASEWORKER, **post_fields) -> "get_user_model()":
    """A user holding one post, with role groups synced exactly as in production."""
    user = UserFactory()
    if role == Role.DEPUTY_DIRECTOR:
        post_fields.setdefault("portfolio", "livelihood")
    if role == Role.DEPARTMENT_LIAISON and "department" not in post_fields:
        post_fields["department"] = DepartmentFactory(unit=unit)
    community_services.assign_post(user=user, unit=unit, role=role, **post_fields)
    return get_user_model().objects.get(pk=user.pk)


__all__ = [name for name in dir() if name.endswith("Factory")] + ["staff", "Post"]
