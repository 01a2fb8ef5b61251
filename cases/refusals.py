"""How a service refuses, the same in every app: ``IllegalTransition`` for a move the rules
refuse (the actor's role, place or the object's state), ``ensure_perm`` / ``ensure_within``
for the role and the place, ``required`` for a text that must be given. Defined here once;
the services of cases, volunteers and governance import them from here (``cases.services``
re-exports ``IllegalTransition`` for its callers)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from communities.models import Unit
from communities.selectors import in_subtree


class IllegalTransition(Exception):
    """A move the rules refuse; ``message`` is translated and can be shown to the user."""

    def __init__(self, message, *, about_reach: bool = False) -> None:
        super().__init__(str(message))
        self.message = message
        self.about_reach = about_reach  # refused for where the actor sits, not for the object's state


def ensure_perm(user, perm: str, message) -> None:
    if not user.has_perm(perm):
        raise IllegalTransition(message)


def ensure_within(user, unit: Unit, message) -> None:
    """Refuse unless ``unit`` is in ``user``'s subtrees (``in_subtree``: the user first)."""
    if not in_subtree(user, unit.path):
        raise IllegalTransition(message)


def required(value: str, field: str, message) -> str:
    """``value`` stripped; a ValidationError on ``field`` with ``message`` when nothing is left."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value
