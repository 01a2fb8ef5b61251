"""What a role may do through the API: the same Django permissions the pages check.

Where the user may do it is not a permission here: every queryset comes from the scoping
selectors, so another unit's object is simply not found (404).
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from cases.services import may_take_in


class RolePermission(BasePermission):
    """The user holds every permission the view names for this action (``required_perms``)."""

    def has_permission(self, request, view) -> bool:
        return all(request.user.has_perm(perm) for perm in view.get_required_perms())


class MayTakeIn(BasePermission):
    """Who may register a request: the staff intake page's rule (``cases.services.may_take_in``)."""

    message = "Your role does not allow you to register requests."

    def has_permission(self, request, view) -> bool:
        return may_take_in(request.user)
