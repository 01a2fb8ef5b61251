"""Input fields that look objects up through the user's scope (another unit's code is "not found")."""

from __future__ import annotations

from rest_framework import serializers

from cases.models import Case, Category
from cases.selectors import visible_cases
from communities.models import Building, Unit
from communities.selectors import visible_buildings, visible_units


class _ScopedSlugField(serializers.SlugRelatedField):
    model = None

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(queryset=self.model.objects.none(), **kwargs)

    def user(self):
        return self.context["request"].user


class UnitCodeField(_ScopedSlugField):
    """A unit by its code, among the units in the user's part of the tree."""

    model = Unit

    def get_queryset(self):
        return visible_units(self.user())


class CategoryCodeField(_ScopedSlugField):
    """An active category by its code (the taxonomy is the same everywhere)."""

    model = Category

    def get_queryset(self):
        return Category.objects.filter(active=True)


class BuildingField(serializers.PrimaryKeyRelatedField):
    """A building by id, among the buildings in the user's part of the tree."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Building.objects.none(), **kwargs)

    def get_queryset(self):
        return visible_buildings(self.context["request"].user)


class CaseCodeField(serializers.SlugRelatedField):
    """A case by its tracking code, among the cases the user sees."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Case.objects.none(), **kwargs)

    def get_queryset(self):
        return visible_cases(self.context["request"].user)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().upper())
