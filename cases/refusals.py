"""How a service refuses, the same in every app: ``IllegalTransition`` for a move the rules
refuse (the actor's role, place or the object's state), ``required`` for a text that must
be given. Defined here once; the services of cases, volunteers and governance import them
from here (``cases.services`` re-exports ``IllegalTransition`` for its callers)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class IllegalTransition(Exception):
    """A move the rules refuse; ``message`` is translated and can be shown to the user."""

    def __init__(self, message, *, about_reach: bool = False) -> None:
        super().__init__(str(message))
        self.message = message
        self.about_reach = about_reach  # refused for where the actor sits, not for the object's state


def required(value: str, field: str, message) -> str:
    """``value`` stripped; a ValidationError on ``field`` with ``message`` when nothing is left."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value
