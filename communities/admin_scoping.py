"""Role-aware Django admin: every changelist, form choice and object URL stays in the user's subtree.

ModelAdmins of every app use ``ScopedAdminMixin`` (inlines ``ScopedInlineMixin``) and name
the path of their rows' unit, e.g. ``scope_path_field = "stairwell__building__unit__path"``.
The rule itself is ``communities.selectors.scope``; nothing here decides who sees what.

Foreign keys and many-to-many fields offered in forms are limited by the selector
registered for the related model (``register_choices``); later apps register their own.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from . import selectors
from .models import Building, Department, Household, PartnerOrganisation, Post, Stairwell, Unit

ChoiceSelector = Callable[[AbstractBaseUser], QuerySet]
_choice_selectors: dict[type[Model], ChoiceSelector] = {}


def register_choices(model: type[Model], selector: ChoiceSelector) -> None:
    """Offer only ``selector(user)`` wherever an admin form asks for a ``model``."""
    _choice_selectors[model] = selector


def choices_for(model: type[Model], user: AbstractBaseUser) -> QuerySet | None:
    selector = _choice_selectors.get(model)
    return None if selector is None else selector(user)


AccountTies = Callable[[AbstractBaseUser], QuerySet]
_account_ties: list[AccountTies] = []


def register_account_ties(selector: AccountTies) -> None:
    """``selector(administrator)`` gives the ids (``values("user_id")``) of accounts without a
    post that later apps tie to the administrator's subtree, e.g. a volunteer's login."""
    _account_ties.append(selector)


def administrable_users(user: AbstractBaseUser) -> QuerySet:
    """Accounts an administrator may see and manage: holders of a post in their subtree,
    accounts that later apps tie to it (``register_account_ties``), and accounts this
    administrator created here that have no post yet (so a new account can be given one).
    Never superusers, never staff without a post (someone else's administrators), and never
    an account merely because it has no post: anyone could then reset its password."""
    users = get_user_model().objects.all()
    if user.is_superuser:
        return users
    in_subtree = selectors.scope(Post.objects.all(), user, path_field="unit__path")
    has_no_post = ~Exists(Post.objects.filter(user=OuterRef("pk")))
    tied = Q(pk__in=_created_by(user))
    for selector in _account_ties:
        tied |= Q(pk__in=selector(user))
    return users.filter(
        Q(pk__in=in_subtree.values("user_id")) | (has_no_post & Q(is_staff=False) & tied)
    ).exclude(is_superuser=True)


def _created_by(user: AbstractBaseUser) -> list[int]:
    """Accounts this administrator added in the admin (its log of additions)."""
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    ids = LogEntry.objects.filter(
        user_id=user.pk, action_flag=ADDITION, content_type=ContentType.objects.get_for_model(get_user_model()),
    ).values_list("object_id", flat=True)
    return [int(pk) for pk in ids if pk.isdigit()]


def _subtree(model: type[Model], path_field: str) -> ChoiceSelector:
    # Strictly the subtree: an object grant lets a user look at something, never
    # place staff, buildings or units there.
    return lambda user: selectors.scope(model.objects.all(), user, path_field=path_field)


register_choices(Unit, _subtree(Unit, "path"))
register_choices(Building, _subtree(Building, "unit__path"))
register_choices(Stairwell, _subtree(Stairwell, "building__unit__path"))
register_choices(Household, _subtree(Household, "stairwell__building__unit__path"))
register_choices(Department, selectors.visible_departments)
register_choices(PartnerOrganisation, selectors.visible_partners)
register_choices(get_user_model(), administrable_users)


class _ScopedChoicesMixin:
    """Form fields pointing at scoped models offer only what the user may see."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if "queryset" not in kwargs:
            choices = choices_for(db_field.related_model, request.user)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if "queryset" not in kwargs:
            choices = choices_for(db_field.related_model, request.user)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """Rows written only by the services (timelines, ledgers, logs): looked at here, never changed.
    For model admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MissingIs404Mixin:
    """An object outside the subtree (or gone) answers 404 on its change, delete, history
    and password pages, as on every other page of the portal; Django's admin would
    redirect to its index with "… doesn't exist" instead."""

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj


class ScopedAdminMixin(MissingIs404Mixin, _ScopedChoicesMixin):
    """Put before ``admin.ModelAdmin``. Set ``scope_path_field``; ``scope_grant_perm``
    adds objects granted through django-guardian (only for models where a grant should
    let an administrator edit the object in the admin)."""

    scope_path_field: str = "unit__path"
    scope_grant_perm: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.scope(
            super().get_queryset(request),
            request.user,
            path_field=self.scope_path_field,
            grant_perm=self.scope_grant_perm,
        )


class ScopedInlineMixin(_ScopedChoicesMixin):
    """Put before ``admin.TabularInline``/``StackedInline``; rows outside the subtree are hidden."""

    scope_path_field: str = "unit__path"
    scope_grant_perm: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.scope(
            super().get_queryset(request),
            request.user,
            path_field=self.scope_path_field,
            grant_perm=self.scope_grant_perm,
        )
