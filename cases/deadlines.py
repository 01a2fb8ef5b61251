"""A case's clock: first-contact and resolution deadlines from its category and urgency."""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import DEFAULT_DEADLINES, Category, CategoryDeadline

# How soon before the first-contact deadline a case counts as "contact due soon".
CONTACT_DUE_SOON = timedelta(hours=2)


def deadlines_for(category: Category, urgency: str) -> tuple[timedelta, timedelta]:
    """(contact within, resolve within): the category's own override, else its parent's, else the default.

    Walks up the category tree so a sub-category inherits its parent's override.
    """
    lineage = []
    node = category
    while node is not None and node.pk not in lineage:
        lineage.append(node.pk)
        node = node.parent
    overrides = {
        row.category_id: row
        for row in CategoryDeadline.objects.filter(category_id__in=lineage, urgency=urgency)
    }
    for pk in lineage:
        if pk in overrides:
            return overrides[pk].contact_within, overrides[pk].resolve_within
    return DEFAULT_DEADLINES[urgency]


def due_dates(category: Category, urgency: str, received_at: datetime) -> tuple[datetime, datetime]:
    """(contact due at, resolve due at), counted from when the request was received."""
    contact_within, resolve_within = deadlines_for(category, urgency)
    return received_at + contact_within, received_at + resolve_within
