"""Factories for the volunteers tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from volunteers import tallies
from volunteers.models import Activity, Skill, Team, Volunteer
from tests.factories import CommunityFactory


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.Sequence(lambda n: f"技能{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"志愿队{n}")
    kind = Team.Kind.VETERAN_WORKERS
    unit = factory.SubFactory(CommunityFactory)


class VolunteerFactory(factory.django.DjangoModelFactory):
    """A bare active volunteer row. Use volunteers.services for anything that moves one."""

    class Meta:
        model = Volunteer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"志愿者{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    unit = factory.SubFactory(CommunityFactory)
    status = Volunteer.Status.ACTIVE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        volunteer = super()._create(model_class, *args, **kwargs)
        tallies.recount(volunteer.unit_id)  # as the services do for every volunteer they write
        return volunteer

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    title = factory.Sequence(lambda n: f"活动{n}")
    kind = Activity.Kind.PATROL
    unit = factory.SubFactory(CommunityFactory)
    place = "社区服务站门口"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    capacity = 10
