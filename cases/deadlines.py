"""A case's clock: first-contact and resolution deadlines from its category and urgency."""

from __future__ import annotations

from datetime import datetime, timedelta

from . import reference
from .models import Category

# How soon before the first-contact deadline a case counts as "contact due soon".
CONTACT_DUE_SOON = timedelta(hours=2)


def deadlines_for(category: Category, urgency: str) -> tuple[timedelta, timedelta]:
    """(contact within, resolve within): the category's own override, else its nearest ancestor's, else the default.

    Read from the shared reference lists (``cases.reference``): no query while they are cached.
    """
    return reference.Snapshot().categories().deadlines(category, urgency)


def due_dates(category: Category, urgency: str, received_at: datetime) -> tuple[datetime, datetime]:
    """(contact due at, resolve due at), counted from when the request was received."""
    contact_within, resolve_within = deadlines_for(category, urgency)
    return received_at + contact_within, received_at + resolve_within
