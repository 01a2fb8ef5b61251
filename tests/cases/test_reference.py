"""The public form's shared lists (cases.reference): no query when cached, never stale after a change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from cases import reference
from cases.models import CategoryDeadline, Urgency
from communities.models import Unit
from tests.cases.factories import CategoryFactory
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


def names(units) -> set[str]:
    return {unit.name for unit in units}


def test_the_lists_are_read_once_then_shared(street, community, django_assert_num_queries):
    CategoryFactory(code="lights")
    reference.Snapshot().places()
    reference.Snapshot().categories()
    with django_assert_num_queries(0):
        assert community.name in names(reference.Snapshot().places())
        assert "lights" in {c.code for c in reference.Snapshot().categories().active}


def test_a_change_made_by_another_process_shows_within_the_recheck(community, monkeypatch):
    reference.Snapshot().places()
    # Another process renames the community and replaces the generation in the shared cache.
    Unit.objects.filter(pk=community.pk).update(name="改名社区")
    cache.set(reference.GENERATION_KEY, "from-another-process", None)
    assert "改名社区" not in names(reference.Snapshot().places())  # within the second: this process's copy
    monkeypatch.setattr(reference, "RECHECK_SECONDS", 0)
    assert "改名社区" in names(reference.Snapshot().places())


def test_a_change_renews_the_generation_again_when_it_commits(street, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CommunityFactory(parent=street)
        during = cache.get(reference.GENERATION_KEY)
    assert callbacks  # what another process shared before the commit is orphaned too
    assert cache.get(reference.GENERATION_KEY) != during


def test_deadlines_follow_the_category_tree():
    parent = CategoryFactory(code="housing")
    child = CategoryFactory(code="stairs", parent=parent)
    CategoryDeadline.objects.create(
        category=parent, urgency=Urgency.ORDINARY, contact_within=timedelta(hours=1), resolve_within=timedelta(days=2)
    )
    table = reference.Snapshot().categories()
    assert table.deadlines(child, Urgency.ORDINARY) == (timedelta(hours=1), timedelta(days=2))
