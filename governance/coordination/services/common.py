"""What the coordination services share: permission and place checks with clear refusals."""

from __future__ import annotations


from cases.refusals import IllegalTransition
from communities.models import Unit
from communities.selectors import in_subtree



def ensure_perm(user, perm: str, message) -> None:
    if not user.has_perm(perm):
        raise IllegalTransition(message)


def ensure_within(user, unit: Unit, message) -> None:
    if not in_subtree(user, unit.path):
        raise IllegalTransition(message)

